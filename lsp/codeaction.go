package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/analysis/engine"
	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/codegen"
)

const (
	generateKind    = protocol.CodeActionKind("source.generate.flash")
	generateCommand = "flash.generate"
	generateTitle   = "Flash: generate handlers and manifest"
)

// codeAction offers the quick fixes of the findings in the range (the
// SuggestedFixes `flash-lsp check` has) and the generate source action.
func (s *Server) codeAction(ctx context.Context, raw json.RawMessage) (any, error) {
	var params protocol.CodeActionParams
	if err := decode(raw, &params); err != nil {
		return nil, err
	}
	actions := []protocol.CodeAction{}
	dc, err := s.docAt(ctx, params.TextDocument.URI, params.Range.Start)
	if err != nil {
		return nil, err
	}
	if dc.ms == nil {
		return actions, nil
	}
	want := func(kind protocol.CodeActionKind) bool {
		if len(params.Context.Only) == 0 {
			return true
		}
		for _, o := range params.Context.Only {
			if kind == o || strings.HasPrefix(string(kind), string(o)+".") {
				return true
			}
		}
		return false
	}

	snap := dc.snap
	if want(protocol.QuickFix) && snap != nil {
		f := snap.Files[dc.filename]
		// Fixes are offsets into the analysed text: offer them only when
		// that is still the text of the buffer.
		if f != nil && bytes.Equal(f.Content, dc.text) {
			end, err := dc.m.offset(params.Range.End)
			if err != nil {
				end = dc.off
			}
			for _, finding := range snap.Findings[dc.filename] {
				if len(finding.Fixes) == 0 || finding.End < dc.off || finding.Start > end {
					continue
				}
				diag := s.diagnostic(snap, dc.m, finding)
				for _, fix := range finding.Fixes {
					edit := s.workspaceEdit(snap, fix)
					if edit == nil {
						continue
					}
					actions = append(actions, protocol.CodeAction{
						Title:       fix.Message,
						Kind:        protocol.QuickFix,
						Diagnostics: []protocol.Diagnostic{diag},
						IsPreferred: len(finding.Fixes) == 1,
						Edit:        edit,
					})
				}
			}
		}
	}
	if want(generateKind) {
		actions = append(actions, protocol.CodeAction{
			Title: generateTitle,
			Kind:  generateKind,
			Command: &protocol.Command{
				Title:     generateTitle,
				Command:   generateCommand,
				Arguments: []any{map[string]string{"uri": string(dc.uri)}},
			},
		})
	}
	return actions, nil
}

// workspaceEdit converts a fix; nil when a file it edits is unknown, or
// no longer holds the text that was analysed (the fix's offsets are into
// that text). When the client takes them, the edits are documentChanges
// carrying the version of each open document analysed, so that the
// client refuses them once the buffer moved on; otherwise changes.
func (s *Server) workspaceEdit(snap *engine.Snapshot, fix finding.Fix) *protocol.WorkspaceEdit {
	changes := map[protocol.DocumentURI][]protocol.TextEdit{}
	var order []protocol.DocumentURI
	versions := map[protocol.DocumentURI]*int32{}
	for _, e := range fix.Edits {
		m := s.mapperFor(snap, e.File)
		f := snap.Files[e.File]
		if m == nil || f == nil {
			return nil
		}
		uri := pathToURI(e.File)
		if _, seen := changes[uri]; !seen {
			order = append(order, uri)
			if d, open := s.document(e.File); open {
				if !bytes.Equal(d.text, f.Content) {
					return nil
				}
				v := d.version
				versions[uri] = &v
			} else if disk, err := os.ReadFile(e.File); err != nil || !bytes.Equal(disk, f.Content) {
				return nil
			}
		}
		changes[uri] = append(changes[uri], protocol.TextEdit{Range: m.rng(e.Start, e.End), NewText: e.NewText})
	}
	if len(changes) == 0 {
		return nil
	}
	s.mu.Lock()
	versioned := s.docChanges
	s.mu.Unlock()
	if !versioned {
		return &protocol.WorkspaceEdit{Changes: changes}
	}
	edits := make([]protocol.TextDocumentEdit, 0, len(order))
	for _, uri := range order {
		id := protocol.OptionalVersionedTextDocumentIdentifier{Version: versions[uri]}
		id.URI = uri
		edits = append(edits, protocol.TextDocumentEdit{TextDocument: id, Edits: changes[uri]})
	}
	return &protocol.WorkspaceEdit{DocumentChanges: edits}
}

// executeCommand runs flash.generate and flash.deployPlan.
func (s *Server) executeCommand(ctx context.Context, raw json.RawMessage) (any, error) {
	var params struct {
		Command   string            `json:"command"`
		Arguments []json.RawMessage `json:"arguments"`
	}
	if err := decode(raw, &params); err != nil {
		return nil, err
	}
	if params.Command == deployPlanCommand {
		return s.deployPlan(ctx, params.Arguments)
	}
	if params.Command != generateCommand {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "unknown command %q", params.Command)
	}
	var arg struct {
		URI protocol.DocumentURI `json:"uri"`
	}
	if len(params.Arguments) != 1 || json.Unmarshal(params.Arguments[0], &arg) != nil || arg.URI == "" {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, `flash.generate takes [{"uri": "<file or folder URI in the module>"}]`)
	}
	path, err := uriToPath(arg.URI)
	if err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	ms := s.moduleFor(path, true)
	if ms == nil {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "flash.generate: no go.mod above %s", path)
	}
	release(ctx) // generating takes a while: let other messages through
	msg, err := s.generate(ctx, ms.mod)
	if err != nil {
		s.showMessage(protocol.MessageTypeError, "Flash: "+err.Error())
		return nil, jsonrpc2.NewError(jsonrpc2.InternalError, err.Error())
	}
	s.showMessage(protocol.MessageTypeInfo, "Flash: "+msg)
	return nil, nil
}

// generate writes the handlers and manifest of mod as `flash-lsp
// generate` does: the same loader for the same target (linux/amd64, so
// the manifest and the handlers see the files the deployed binaries are
// built from), the same generator. It refuses while error findings other
// than compile errors exist. It generates what the editor shows, unsaved
// buffers included (the diagnostics the user sees are theirs), and names
// the unsaved files in its message, since the generated code compiles
// against the files on disk.
func (s *Server) generate(ctx context.Context, mod *engine.Module) (string, error) {
	overlays, _ := s.overlays(mod)
	l, err := codegen.LoadOverlay(ctx, mod.Dir, codegen.DefaultTarget, overlays)
	if err != nil {
		return "", fmt.Errorf("cannot generate: %w", err)
	}
	if bad := l.Blocking(false); len(bad) > 0 {
		return "", fmt.Errorf("not generating: fix the errors first (%s)", l.FormatFinding(mod.Dir, bad[0]))
	}
	var unsaved []string
	for name, text := range overlays {
		if disk, err := os.ReadFile(name); err != nil || !bytes.Equal(disk, text) {
			unsaved = append(unsaved, filepath.Base(name))
		}
	}
	note := ""
	if len(unsaved) > 0 {
		slices.Sort(unsaved)
		note = "; from unsaved changes: save " + strings.Join(unsaved, ", ")
	}

	p := l.Project
	epoch, err := codegen.SourceDateEpoch()
	if err != nil {
		return "", err
	}
	res, err := codegen.Generate(p, codegen.Options{GeneratedAt: epoch})
	if err != nil {
		return "", fmt.Errorf("generating: %w", err)
	}
	changes, err := res.Write()
	if err != nil {
		return "", fmt.Errorf("writing generated files: %w", err)
	}
	clients := ""
	if len(res.Clients) > 0 {
		clients = fmt.Sprintf(", %d typed clients in %s/", len(res.Clients), codegen.DefaultClientDir)
	}
	changed := 0
	for _, c := range changes {
		if c.Kind != "kept" {
			changed++
		}
	}
	if w := codegen.Warnings(changes); len(w) > 0 {
		note += "; " + strings.Join(w, "; ")
	}
	return fmt.Sprintf("generated %d handlers and manifest%s (%d functions, %d files changed%s)",
		len(res.Handlers), clients, res.Functions, changed, note), nil
}
