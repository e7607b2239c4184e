package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
	"github.com/flash-lsp/flash-lsp/lsp/cache"
)

// moduleState runs one module's analysis in a background goroutine. An
// edit cancels the run in progress and asks for a new one; runs never
// overlap, so diagnostics are computed from the newest text.
type moduleState struct {
	s    *Server
	mod  *cache.Module
	kick chan struct{}

	mu        sync.Mutex
	cancel    context.CancelFunc // of the run in progress
	first     []string           // files to publish first in the next run
	stopped   bool
	published map[string]string // filename → JSON of the last diagnostics sent
	ready     chan struct{}     // closed after the first completed run
	readyOnce sync.Once
	updated   chan struct{} // closed and replaced after each completed run
	seq       int           // schedule calls so far
	doneSeq   int           // seq when the last completed run began
	lastKick  time.Time
	lastErr   string // the last analysis failure shown; only loop uses it
	busy      bool   // a run is queued or in progress
	burst     bool   // the last edit came while busy, or right after another
}

// A burst of edits (a paste, a formatter, auto-repeat, a client replaying
// changes) is analysed once it pauses for quiet: an edit that arrives while
// the previous one is still being analysed, or within quiet of it (an
// analysis faster than the client's stream of changes), marks a burst. A
// lone edit is analysed at once.
const quiet = 5 * time.Millisecond

func newModuleState(s *Server, mod *cache.Module) *moduleState {
	ms := &moduleState{
		s:         s,
		mod:       mod,
		kick:      make(chan struct{}, 1),
		published: make(map[string]string),
		ready:     make(chan struct{}),
		updated:   make(chan struct{}),
	}
	go ms.loop()
	return ms
}

// schedule asks for a new analysis run of ms; files are published first.
func (s *Server) schedule(ms *moduleState, files []string) {
	if ms == nil {
		return
	}
	ms.mu.Lock()
	if ms.stopped {
		ms.mu.Unlock()
		return
	}
	ms.first = append(ms.first, files...)
	ms.seq++
	ms.burst = ms.busy || time.Since(ms.lastKick) < quiet
	ms.busy = true
	ms.lastKick = time.Now()
	if ms.cancel != nil {
		ms.cancel()
	}
	select {
	case ms.kick <- struct{}{}:
	default:
	}
	ms.mu.Unlock()
}

func (ms *moduleState) stop() {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.stopped = true
	if ms.cancel != nil {
		ms.cancel()
	}
}

// snapshot waits for the first analysis of the module to finish (or ctx)
// and returns the latest snapshot.
func (ms *moduleState) snapshot(ctx context.Context) (*cache.Snapshot, error) {
	select {
	case <-ms.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return ms.mod.Snapshot(), nil
}

// current waits until the module's snapshot reflects the current text of
// filename (its open buffer, if any), for at most timeout, and returns the
// newest snapshot it has. The snapshot may be nil when the module never
// loaded.
func (ms *moduleState) current(ctx context.Context, filename string, timeout time.Duration) *cache.Snapshot {
	return ms.currentWhen(ctx, timeout, func(snap *cache.Snapshot) bool {
		doc, open := ms.s.document(filename)
		f := snap.Files[filename]
		return !open || f == nil || bytes.Equal(f.Content, doc.text)
	})
}

// scheduleAndWait schedules a run of ms and waits, at most timeout, for a
// run that began after it to end (so it saw every buffer and every file
// change so far), and returns the newest snapshot, as current does.
func (ms *moduleState) scheduleAndWait(ctx context.Context, timeout time.Duration) *cache.Snapshot {
	ms.s.schedule(ms, nil)
	ms.mu.Lock()
	want := ms.seq
	ms.mu.Unlock()
	return ms.currentWhen(ctx, timeout, func(*cache.Snapshot) bool {
		ms.mu.Lock()
		defer ms.mu.Unlock()
		return ms.doneSeq >= want || ms.stopped
	})
}

// currentWhen waits, at most timeout, until the module's snapshot satisfies
// fresh, and returns the newest snapshot it has (nil when the module never
// loaded).
func (ms *moduleState) currentWhen(ctx context.Context, timeout time.Duration, fresh func(*cache.Snapshot) bool) *cache.Snapshot {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	select {
	case <-ms.ready:
	case <-ctx.Done():
		return nil
	case <-deadline.C:
		return nil
	}
	for {
		ms.mu.Lock()
		updated := ms.updated
		ms.mu.Unlock()
		snap := ms.mod.Snapshot()
		if snap == nil {
			return nil
		}
		if fresh(snap) {
			return snap
		}
		select {
		case <-updated:
		case <-ctx.Done():
			return snap
		case <-deadline.C:
			return snap
		}
	}
}

func (ms *moduleState) loop() {
	s := ms.s
	for {
		select {
		case <-ms.kick:
		case <-s.ctx.Done():
			return
		}
		for {
			ms.mu.Lock()
			d := quiet - time.Since(ms.lastKick)
			burst := ms.burst
			ms.mu.Unlock()
			if !burst || d <= 0 {
				break
			}
			time.Sleep(d)
		}
		select {
		case <-ms.kick: // absorbed by this run
		default:
		}
		ctx, cancel := context.WithCancel(s.ctx)
		ms.mu.Lock()
		if ms.stopped {
			ms.mu.Unlock()
			cancel()
			return
		}
		ms.cancel = cancel
		first := ms.first
		ms.first = nil
		seq := ms.seq
		ms.mu.Unlock()

		overlays, versions := s.overlays(ms.mod)
		t0 := time.Now()
		var early delayed
		snap, err := ms.analyze(ctx, overlays, func(part *cache.Snapshot) {
			early.after(earlyDelay, func() { ms.publishEarly(part, versions, first) })
		})
		early.stop()
		cancel()
		if err == nil && len(snap.LoadErrors) > 0 {
			s.log.Printf("loading %s: %s", ms.mod.Dir, snap.LoadErrors[len(snap.LoadErrors)-1])
		}
		if err == nil {
			s.log.Printf("analysed %s in %v (%d packages re-checked; last metadata load %v)", ms.mod.Dir,
				time.Since(t0).Round(time.Microsecond), len(snap.Checked), ms.mod.LoadTime.Round(time.Millisecond))
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				// A newer edit is pending; keep its priority files.
				ms.mu.Lock()
				ms.first = append(first, ms.first...)
				ms.mu.Unlock()
				continue
			}
			s.log.Printf("analysing %s: %v", ms.mod.Dir, err)
			if msg := "flash-lsp: " + err.Error(); msg != ms.lastErr {
				// Once per distinct failure, not at every keystroke.
				ms.lastErr = msg
				s.showMessage(protocol.MessageTypeError, msg)
			}
			ms.readyOnce.Do(func() { close(ms.ready) })
			ms.mu.Lock()
			ms.busy, ms.burst = len(ms.kick) > 0, false
			ms.doneSeq = seq
			close(ms.updated)
			ms.updated = make(chan struct{})
			ms.mu.Unlock()
			continue
		}
		ms.lastErr = ""
		ms.readyOnce.Do(func() { close(ms.ready) })
		ms.mu.Lock()
		ms.doneSeq = seq
		close(ms.updated)
		ms.updated = make(chan struct{})
		// The edit is analysed: one that comes in while we publish, in
		// answer to what we publish, starts no burst.
		if len(ms.kick) == 0 {
			ms.busy, ms.burst = false, false
		}
		ms.mu.Unlock()
		ms.publish(snap, versions, first)
	}
}

// analyze runs the analysis; a panic in it (a bug, never user input)
// becomes an error instead of taking the session down.
func (ms *moduleState) analyze(ctx context.Context, overlays map[string][]byte, early func(*cache.Snapshot)) (snap *cache.Snapshot, err error) {
	defer func() {
		if r := recover(); r != nil {
			ms.s.log.Printf("panic analysing %s: %v\n%s", ms.mod.Dir, r, debug.Stack())
			snap, err = nil, fmt.Errorf("internal error analysing %s: %v", ms.mod.Dir, r)
		}
	}()
	return ms.mod.AnalyzeEarly(ctx, overlays, early)
}

// overlays copies the open buffers of mod's files, with their versions.
func (s *Server) overlays(mod *cache.Module) (map[string][]byte, map[string]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	overlays := make(map[string][]byte)
	versions := make(map[string]int32)
	for name, d := range s.docs {
		if !mod.Contains(name) || cache.Ignored(name) {
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
func (ms *moduleState) publish(snap *cache.Snapshot, versions map[string]int32, first []string) {
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

// earlyDelay is how long a first run may take after the open buffers'
// packages are done before their per-package diagnostics are published
// early. A run that ends sooner publishes once, complete: an editor (or a
// client that reads the first publish) never sees a file without its
// whole-module findings, such as a route-conflict, on a small module.
const earlyDelay = 300 * time.Millisecond

// delayed runs a function after a delay unless stopped first. stop waits
// for a call in progress, so nothing it runs comes after stop returns.
type delayed struct {
	mu      sync.Mutex
	t       *time.Timer
	stopped bool
}

func (d *delayed) after(delay time.Duration, f func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	d.t = time.AfterFunc(delay, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if !d.stopped {
			f()
		}
	})
}

func (d *delayed) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	if d.t != nil {
		d.t.Stop()
	}
}

// publishEarly sends the diagnostics of the open buffers from a partial
// snapshot, before the whole-module rules have run: on the first run of a
// large module the editor need not wait for every package (see earlyDelay).
func (ms *moduleState) publishEarly(part *cache.Snapshot, versions map[string]int32, first []string) {
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
func (s *Server) diagnostics(snap *cache.Snapshot, name string) []protocol.Diagnostic {
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
func (s *Server) diagnostic(snap *cache.Snapshot, m *mapper, f finding.Finding) protocol.Diagnostic {
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
func (s *Server) mapperFor(snap *cache.Snapshot, name string) *mapper {
	f := snap.Files[name]
	if f == nil {
		return nil
	}
	return newMapper(f.Content)
}
