package lsp

import (
	"encoding/json"
	"slices"

	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/analysis/engine"
	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// overlays copies the open buffers of mod's files, with their versions.
func (s *Server) overlays(mod *engine.Module) (map[string][]byte, map[string]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	overlays := make(map[string][]byte)
	versions := make(map[string]int32)
	for name, d := range s.docs {
		if !mod.Contains(name) || model.UnderFlashDir(name) {
			continue
		}
		if s.deepestModuleDir(name) != mod.Dir {
			continue // a file of a nested module belongs to that module
		}
		overlays[name] = d.text
		versions[name] = d.version
	}
	return overlays, versions
}

// deepestModuleDir returns the root of the loaded module nearest to name;
// s.mu is held.
func (s *Server) deepestModuleDir(name string) string {
	best := ""
	for dir, ms := range s.modules {
		if ms.mod.Contains(name) && len(dir) > len(best) {
			best = dir
		}
	}
	return best
}

// publish sends the diagnostics of snap: for every file of a re-checked
// package, every file whose diagnostics changed (a conflict in another
// package), and every file that had diagnostics and has none now. Files of
// open buffers whose version moved on are skipped: a newer run publishes
// them.
func (ms *moduleState) publish(snap *engine.Snapshot, versions map[string]int32, first []string) {
	s := ms.s
	want := map[string]bool{}
	for _, path := range snap.Checked {
		if p := snap.Packages[path]; p != nil {
			for _, f := range p.Files {
				want[f.Name] = true
			}
		}
	}
	for name := range snap.Findings {
		want[name] = true
	}
	ms.mu.Lock()
	for name := range ms.published {
		want[name] = true
	}
	ms.mu.Unlock()

	// The buffers whose changes started the run always get an answer for
	// their version, even when nothing changed.
	for _, f := range first {
		if snap.Files[f] != nil {
			want[f] = true
		}
	}
	var order []string
	seen := map[string]bool{}
	for _, f := range first {
		if want[f] && !seen[f] {
			order = append(order, f)
			seen[f] = true
		}
	}
	var rest []string
	for name := range want {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	slices.Sort(rest)
	order = append(order, rest...)

	checked := map[string]bool{}
	for _, path := range snap.Checked {
		if p := snap.Packages[path]; p != nil {
			for _, f := range p.Files {
				checked[f.Name] = true
			}
		}
	}

	for _, name := range order {
		diags := s.diagnostics(snap, name)
		data, _ := json.Marshal(diags)
		ms.mu.Lock()
		prev, had := ms.published[name]
		ms.mu.Unlock()
		if !checked[name] && !seen[name] && (had && prev == string(data) || !had && len(diags) == 0) {
			continue
		}
		params := &protocol.PublishDiagnosticsParams{URI: pathToURI(name), Diagnostics: diags}
		// Only the newest version of a buffer gets diagnostics; a buffer
		// opened or closed since the run began waits for the next run.
		v, wasOpen := versions[name]
		d, isOpen := s.document(name)
		if wasOpen != isOpen || isOpen && d.version != v {
			continue
		}
		if isOpen && v > 0 {
			params.Version = uint32(v)
		}
		ms.mu.Lock()
		if len(diags) == 0 {
			delete(ms.published, name)
		} else {
			ms.published[name] = string(data)
		}
		ms.mu.Unlock()
		s.notify(protocol.MethodTextDocumentPublishDiagnostics, params)
	}
}

// publishEarly sends the diagnostics of the open buffers from a partial
// snapshot, before the whole-module rules have run: on the first run of a
// large module the editor need not wait for every package (see earlyDelay).
func (ms *moduleState) publishEarly(part *engine.Snapshot, versions map[string]int32, first []string) {
	s := ms.s
	for name, v := range versions {
		if part.PackageOf(name) == nil {
			continue
		}
		d, ok := s.document(name)
		if !ok || d.version != v {
			continue
		}
		diags := s.diagnostics(part, name)
		data, _ := json.Marshal(diags)
		params := &protocol.PublishDiagnosticsParams{URI: pathToURI(name), Diagnostics: diags}
		if v > 0 {
			params.Version = uint32(v)
		}
		ms.mu.Lock()
		if len(diags) == 0 {
			delete(ms.published, name)
		} else {
			ms.published[name] = string(data)
		}
		ms.mu.Unlock()
		s.notify(protocol.MethodTextDocumentPublishDiagnostics, params)
	}
}

// diagnostics converts the findings of one file. It never returns nil: an
// empty list clears the file's diagnostics.
func (s *Server) diagnostics(snap *engine.Snapshot, name string) []protocol.Diagnostic {
	out := []protocol.Diagnostic{}
	findings := snap.Findings[name]
	if len(findings) == 0 {
		return out
	}
	m := s.mapperFor(snap, name)
	if m == nil {
		return out
	}
	for _, f := range findings {
		out = append(out, s.diagnostic(snap, m, f))
	}
	return out
}

// diagnostic converts one finding, positioned with m (its file's mapper).
func (s *Server) diagnostic(snap *engine.Snapshot, m *mapper, f finding.Finding) protocol.Diagnostic {
	d := protocol.Diagnostic{
		Range:    m.rng(f.Start, f.End),
		Severity: protocol.DiagnosticSeverityError,
		Code:     f.Rule,
		Source:   "flash",
		Message:  f.Message,
	}
	if f.Severity == rules.Warning {
		d.Severity = protocol.DiagnosticSeverityWarning
	}
	if f.Rule == rules.Compile {
		d.Source = "flash (compile)"
	}
	for _, r := range f.Related {
		rm := m
		if r.File != f.File {
			rm = s.mapperFor(snap, r.File)
		}
		if rm == nil {
			continue
		}
		d.RelatedInformation = append(d.RelatedInformation, protocol.DiagnosticRelatedInformation{
			Location: protocol.Location{URI: pathToURI(r.File), Range: rm.rng(r.Start, r.End)},
			Message:  r.Message,
		})
	}
	return d
}

// mapperFor returns a mapper for the analysed content of name.
func (s *Server) mapperFor(snap *engine.Snapshot, name string) *mapper {
	f := snap.Files[name]
	if f == nil {
		return nil
	}
	return newMapper(f.Content)
}
