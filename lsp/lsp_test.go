package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"go.lsp.dev/protocol"
)

const wait = 60 * time.Second // first diagnostics may build export data

var appFiles = map[string]string{
	"res/res.go": `package res

import "github.com/flash-lsp/flash-lsp/runtime"

var API = runtime.LoadBalancer{Name: "test-api", WorkersMax: 3}

var Jobs = runtime.Serverless{Name: "jobs"}
`,
	"api/api.go": `package api

import (
	"context"

	_ "example.com/app/res"
)

// Result is what ProcessData returns.
type Result struct{ Sum int }

//flash:remote res.API method=post path=/api/process
func ProcessData(ctx context.Context, x, y int) (Result, error) { return Result{x + y}, nil }

//flash:remote res.API method=GET path=/items/{id}
func GetItem(id string, verbose bool) (string, error) { return id, nil }
`,
	"other/other.go": `package other

import _ "example.com/app/res"

//flash:remote res.API method=GET path=/other
func Other() string { return "" }
`,
}

// applyEdits applies LSP text edits (UTF-16 ranges) to text.
func applyEdits(t *testing.T, text string, edits []protocol.TextEdit) string {
	t.Helper()
	m := newMapper([]byte(text))
	type span struct {
		start, end int
		text       string
	}
	var spans []span
	for _, e := range edits {
		s, err := m.offset(e.Range.Start)
		if err != nil {
			t.Fatal(err)
		}
		en, err := m.offset(e.Range.End)
		if err != nil {
			t.Fatal(err)
		}
		spans = append(spans, span{s, en, e.NewText})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].start > spans[j].start })
	for _, s := range spans {
		text = text[:s.start] + s.text + text[s.end:]
	}
	return text
}

// rangeText returns the text an LSP range covers.
func rangeText(t *testing.T, text string, r protocol.Range) string {
	t.Helper()
	m := newMapper([]byte(text))
	s, err := m.offset(r.Start)
	if err != nil {
		t.Fatal(err)
	}
	e, err := m.offset(r.End)
	if err != nil {
		t.Fatal(err)
	}
	return text[s:e]
}

func TestDiagnosticsQuickFixAndClean(t *testing.T) {
	dir := writeModule(t, appFiles)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	apiFile := filepath.Join(dir, "api", "api.go")
	c.open(apiFile, 1)

	pub := c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool {
		return hasCode(p.Diagnostics, "bad-method")
	})
	if pub.Version != 1 {
		t.Errorf("published version %d, want 1", pub.Version)
	}
	if len(pub.Diagnostics) != 1 {
		t.Fatalf("diagnostics = %s, want exactly bad-method", describeDiags(pub.Diagnostics))
	}
	d := pub.Diagnostics[0]
	text := appFiles["api/api.go"]
	if got := rangeText(t, text, d.Range); got != "post" {
		t.Errorf("bad-method covers %q, want %q", got, "post")
	}
	if d.Source != "flash" || d.Severity != protocol.DiagnosticSeverityError {
		t.Errorf("source %q severity %v, want flash error", d.Source, d.Severity)
	}

	var actions []protocol.CodeAction
	if err := c.call(protocol.MethodTextDocumentCodeAction, map[string]any{
		"textDocument": map[string]any{"uri": pathToURI(apiFile)},
		"range":        d.Range,
		"context":      map[string]any{"diagnostics": []protocol.Diagnostic{d}},
	}, &actions); err != nil {
		t.Fatal(err)
	}
	var fix *protocol.CodeAction
	var sawGenerate bool
	for i, a := range actions {
		switch a.Kind {
		case protocol.QuickFix:
			fix = &actions[i]
		case generateKind:
			sawGenerate = a.Command != nil && a.Command.Command == generateCommand
		}
	}
	if fix == nil || fix.Edit == nil {
		t.Fatalf("no quick fix among %+v", actions)
	}
	if fix.Title != "Change method to POST" || len(fix.Diagnostics) != 1 || fmt.Sprint(fix.Diagnostics[0].Code) != "bad-method" {
		t.Errorf("quick fix %q linked to %+v", fix.Title, fix.Diagnostics)
	}
	if !sawGenerate {
		t.Errorf("no %s action with command %s among %+v", generateKind, generateCommand, actions)
	}

	fixed := applyEdits(t, text, fix.Edit.Changes[pathToURI(apiFile)])
	if !strings.Contains(fixed, "method=POST path=/api/process") {
		t.Fatalf("fix produced:\n%s", fixed)
	}
	c.change(apiFile, fixed, 2)
	c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool {
		return p.Version == 2 && len(p.Diagnostics) == 0
	})

	// An edit that breaks the directive again, then one that fixes it.
	c.change(apiFile, strings.Replace(fixed, "path=/api/process", "path=api/process/", 1), 3)
	pub = c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 3 })
	if !hasCode(pub.Diagnostics, "bad-path") {
		t.Errorf("version 3 diagnostics = %s, want bad-path", describeDiags(pub.Diagnostics))
	}
	c.change(apiFile, fixed, 4)
	c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool {
		return p.Version == 4 && len(p.Diagnostics) == 0
	})
}

func TestConflictAcrossPackages(t *testing.T) {
	files := map[string]string{}
	for k, v := range appFiles {
		files[k] = strings.Replace(v, "method=post", "method=POST", 1)
	}
	dir := writeModule(t, files)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	apiFile := filepath.Join(dir, "api", "api.go")
	otherFile := filepath.Join(dir, "other", "other.go")
	c.open(otherFile, 1)
	c.waitDiags(otherFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return len(p.Diagnostics) == 0 })

	// other now claims api's GET /items/{id} as /items/{key}: api.go, which
	// nobody edited, must get the conflict too.
	conflicting := strings.Replace(files["other/other.go"], "path=/other", "path=/items/{key}", 1)
	conflicting = strings.Replace(conflicting, "func Other() string", "func Other(key string) string", 1)
	c.change(otherFile, conflicting, 2)
	pub := c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool {
		return hasCode(p.Diagnostics, "route-conflict")
	})
	var d protocol.Diagnostic
	for _, x := range pub.Diagnostics {
		if x.Code == "route-conflict" {
			d = x
		}
	}
	if len(d.RelatedInformation) == 0 || d.RelatedInformation[0].Location.URI != pathToURI(otherFile) {
		t.Errorf("route-conflict in api.go has related %+v, want a location in other.go", d.RelatedInformation)
	}
	op := c.waitDiags(otherFile, wait, func(p protocol.PublishDiagnosticsParams) bool {
		return p.Version == 2 && hasCode(p.Diagnostics, "route-conflict")
	})
	for _, x := range op.Diagnostics {
		if x.Code == "route-conflict" && (len(x.RelatedInformation) == 0 || x.RelatedInformation[0].Location.URI != pathToURI(apiFile)) {
			t.Errorf("route-conflict in other.go has related %+v, want a location in api.go", x.RelatedInformation)
		}
	}

	// Undo: both sides clear.
	c.change(otherFile, files["other/other.go"], 3)
	c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return len(p.Diagnostics) == 0 })
	c.waitDiags(otherFile, wait, func(p protocol.PublishDiagnosticsParams) bool {
		return p.Version == 3 && len(p.Diagnostics) == 0
	})
}

// TestFirstPublishIsComplete opens one file of a small module whose route
// conflicts with a package it does not import: the first diagnostics the
// file gets already hold the whole-module route-conflict (no early,
// partial publish when the whole run is quick).
func TestFirstPublishIsComplete(t *testing.T) {
	files := map[string]string{}
	for k, v := range appFiles {
		files[k] = strings.Replace(v, "method=post", "method=POST", 1)
	}
	files["other/other.go"] = strings.Replace(files["other/other.go"], "path=/other\nfunc Other() string", "path=/items/{key}\nfunc Other(key string) string", 1)
	dir := writeModule(t, files)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	otherFile := filepath.Join(dir, "other", "other.go")
	c.open(otherFile, 1)
	c.waitDiags(otherFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return hasCode(p.Diagnostics, "route-conflict") })
	if first := c.publishes(otherFile)[0]; !hasCode(first.Diagnostics, "route-conflict") {
		t.Errorf("first publish for other.go: %s; want the route-conflict with api.go", describeDiags(first.Diagnostics))
	}
}

func TestUTF16Columns(t *testing.T) {
	line := "//flash:remote res.API path=/café/😀 method=get"
	src := "package other\n\nimport _ \"example.com/app/res\"\n\n// Other says «héllo» 😀.\n" + line + "\nfunc Other() string { return \"\" }\n"
	files := map[string]string{"res/res.go": appFiles["res/res.go"], "other/other.go": src}
	dir := writeModule(t, files)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	file := filepath.Join(dir, "other", "other.go")
	c.open(file, 1)
	pub := c.waitDiags(file, wait, func(p protocol.PublishDiagnosticsParams) bool {
		return hasCode(p.Diagnostics, "bad-method")
	})
	var d protocol.Diagnostic
	for _, x := range pub.Diagnostics {
		if x.Code == "bad-method" {
			d = x
		}
	}
	prefix := line[:strings.Index(line, "get")]
	wantCol := uint32(len(utf16.Encode([]rune(prefix))))
	if d.Range.Start.Line != 5 || d.Range.Start.Character != wantCol || d.Range.End.Character != wantCol+3 {
		t.Errorf("bad-method at %d:%d-%d, want 5:%d-%d (UTF-16 columns; the byte column is %d)",
			d.Range.Start.Line, d.Range.Start.Character, d.Range.End.Character, wantCol, wantCol+3, len(prefix))
	}
}

func TestHoverCompletionDefinitionSymbol(t *testing.T) {
	files := map[string]string{}
	for k, v := range appFiles {
		files[k] = strings.Replace(v, "method=post", "method=POST", 1)
	}
	dir := writeModule(t, files)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	apiFile := filepath.Join(dir, "api", "api.go")
	text := files["api/api.go"]
	c.open(apiFile, 1)
	c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return len(p.Diagnostics) == 0 })
	m := newMapper([]byte(text))
	posOf := func(substr string, delta int) protocol.Position {
		i := strings.Index(text, substr)
		if i < 0 {
			t.Fatalf("%q not in source", substr)
		}
		return m.position(i + delta)
	}
	docID := map[string]any{"uri": pathToURI(apiFile)}

	// Hover on the resource token of the POST directive.
	var hover protocol.Hover
	if err := c.call(protocol.MethodTextDocumentHover, map[string]any{
		"textDocument": docID, "position": posOf("res.API method=POST", 5),
	}, &hover); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"test-api", "LoadBalancer", "deployed", "POST /api/process", "`x`", "body", "`int`", "curl -X POST", `{"x":1,"y":1}`} {
		if !strings.Contains(hover.Contents.Value, want) {
			t.Errorf("hover lacks %q:\n%s", want, hover.Contents.Value)
		}
	}
	// The GET directive shows path and query parameters.
	if err := c.call(protocol.MethodTextDocumentHover, map[string]any{
		"textDocument": docID, "position": posOf("path=/items/{id}", 2),
	}, &hover); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GET /items/{id}", "| `id` | path | `string` |", "| `verbose` | query | `bool` |", "curl -X GET 'http://localhost:8000/items/example?verbose=true'"} {
		if !strings.Contains(hover.Contents.Value, want) {
			t.Errorf("GET hover lacks %q:\n%s", want, hover.Contents.Value)
		}
	}

	// Definition of res.API jumps to res.go.
	var locs []protocol.Location
	if err := c.call(protocol.MethodTextDocumentDefinition, map[string]any{
		"textDocument": docID, "position": posOf("res.API method=POST", 4),
	}, &locs); err != nil {
		t.Fatal(err)
	}
	resFile := filepath.Join(dir, "res", "res.go")
	if len(locs) != 1 || locs[0].URI != pathToURI(resFile) ||
		rangeText(t, files["res/res.go"], locs[0].Range) != "API" {
		t.Errorf("definition = %+v, want API in res.go", locs)
	}

	// Completion: type a new directive line by line.
	version := int32(1)
	complete := func(src string, at int) []string {
		t.Helper()
		version++
		c.change(apiFile, src, version)
		var list protocol.CompletionList
		if err := c.call(protocol.MethodTextDocumentCompletion, map[string]any{
			"textDocument": docID, "position": newMapper([]byte(src)).position(at),
		}, &list); err != nil {
			t.Fatal(err)
		}
		var labels []string
		for _, it := range list.Items {
			labels = append(labels, it.Label)
		}
		return labels
	}
	base := text + "\n//flash:remote "
	tail := "\nfunc GetHTTPStatus() string { return \"\" }\n"
	check := func(typed string, want ...string) {
		t.Helper()
		src := base + typed + tail
		got := complete(src, len(base)+len(typed))
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("completing %q: got %q, want %q among them", typed, got, w)
			}
		}
	}
	check("", "res.API", "res.Jobs")
	check("res.API ", "method=", "path=")
	check("res.API method=", "GET", "POST", "PUT", "DELETE", "PATCH")
	check("res.API method=GET path=", "/get-http-status")

	// Workspace symbols find routes by text.
	var syms []protocol.SymbolInformation
	if err := c.call(protocol.MethodWorkspaceSymbol, map[string]any{"query": "GET /items"}, &syms); err != nil {
		t.Fatal(err)
	}
	if len(syms) != 1 || syms[0].Name != "GET /items/{id}" || syms[0].Location.URI != pathToURI(apiFile) {
		t.Errorf("symbols for %q = %+v", "GET /items", syms)
	}
}

func TestProtocolErrorsAndLifecycle(t *testing.T) {
	c, _, code := session(t, nil)

	// Before initialize: ServerNotInitialized.
	if err := c.call(protocol.MethodTextDocumentHover, map[string]any{}, nil); err == nil || err.Code != -32002 {
		t.Errorf("hover before initialize: %v, want code -32002", err)
	}
	c.initialize(t.TempDir())

	// Malformed JSON: a ParseError with id null, and the session lives on.
	c.writeRaw([]byte(`{"jsonrpc": "2.0", "id": 99, "method": `))
	resp := c.orphan("null", 5*time.Second)
	if resp.Error == nil || resp.Error.Code != -32700 {
		t.Errorf("malformed JSON answered %+v, want a -32700 error", resp)
	}
	// Unknown method: MethodNotFound.
	if err := c.call("flash/nonsense", map[string]any{}, nil); err == nil || err.Code != -32601 {
		t.Errorf("unknown method: %v, want code -32601", err)
	}
	// The session still works.
	var syms []protocol.SymbolInformation
	if err := c.call(protocol.MethodWorkspaceSymbol, map[string]any{"query": ""}, &syms); err != nil {
		t.Errorf("workspace/symbol after errors: %v", err)
	}

	if err := c.call(protocol.MethodShutdown, nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.call(protocol.MethodTextDocumentHover, map[string]any{}, nil); err == nil || err.Code != -32600 {
		t.Errorf("request after shutdown: %v, want -32600", err)
	}
	c.notify(protocol.MethodExit, nil)
	select {
	case got := <-code:
		if got != 0 {
			t.Errorf("exit after shutdown: code %d, want 0", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit")
	}
}

func TestExitWithoutShutdown(t *testing.T) {
	c, _, code := session(t, nil)
	c.initialize(t.TempDir())
	c.notify(protocol.MethodExit, nil)
	select {
	case got := <-code:
		if got != 1 {
			t.Errorf("exit without shutdown: code %d, want 1", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not exit")
	}

	// A closed stream without exit is also 1.
	c2, _, code2 := session(t, nil)
	c2.conn.Close()
	if got := <-code2; got != 1 {
		t.Errorf("stream closed without exit: code %d, want 1", got)
	}
}

func TestCancelNumericID(t *testing.T) {
	started := make(chan struct{}, 1)
	c, _, _ := session(t, func(s *Server) {
		// Hold hover requests until they are cancelled, so that the cancel
		// certainly arrives while the request is in flight.
		s.testHook = func(ctx context.Context, method string) {
			if method == protocol.MethodTextDocumentHover {
				started <- struct{}{}
				select {
				case <-ctx.Done():
				case <-time.After(20 * time.Second):
				}
			}
		}
	})
	c.initialize(t.TempDir())
	id, reply := c.send(protocol.MethodTextDocumentHover, map[string]any{
		"textDocument": map[string]any{"uri": "file:///nowhere/x.go"}, "position": map[string]any{"line": 0, "character": 0},
	})
	<-started
	// A numeric id, as VS Code and Neovim send it (it decodes as float64).
	c.notify(protocol.MethodCancelRequest, json.RawMessage(`{"id": `+id+`}`))
	select {
	case m := <-reply:
		if m.Error == nil || m.Error.Code != -32800 {
			t.Errorf("cancelled request answered %+v, want a -32800 error", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled request was never answered")
	}

	// A string id, as other clients send it.
	c.mu.Lock()
	ch := make(chan *wireMsg, 1)
	c.pending[`"req-7"`] = ch
	c.mu.Unlock()
	c.write(map[string]any{"jsonrpc": "2.0", "id": "req-7", "method": protocol.MethodTextDocumentHover, "params": map[string]any{
		"textDocument": map[string]any{"uri": "file:///nowhere/x.go"}, "position": map[string]any{"line": 0, "character": 0},
	}})
	<-started
	c.notify(protocol.MethodCancelRequest, map[string]any{"id": "req-7"})
	select {
	case m := <-ch:
		if m.Error == nil || m.Error.Code != -32800 {
			t.Errorf("cancelled request \"req-7\" answered %+v, want a -32800 error", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled request \"req-7\" was never answered")
	}
}

func TestBrokenGoMod(t *testing.T) {
	dir := writeModule(t, appFiles)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/app\n\ngo 1.26.0\nrequire (\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, _, _ := session(t, nil)
	c.initialize(dir)
	c.waitMessage(wait, func(m protocol.ShowMessageParams) bool {
		return m.Type == protocol.MessageTypeError && strings.Contains(m.Message, "go.mod")
	})
	// The session goes on.
	var syms []protocol.SymbolInformation
	if err := c.call(protocol.MethodWorkspaceSymbol, map[string]any{"query": ""}, &syms); err != nil {
		t.Errorf("workspace/symbol with a broken go.mod: %v", err)
	}
}

func TestPanicBecomesError(t *testing.T) {
	c, _, _ := session(t, func(s *Server) {
		s.testHook = func(ctx context.Context, method string) {
			if method == protocol.MethodWorkspaceSymbol {
				panic("boom")
			}
		}
	})
	c.initialize(t.TempDir())
	if err := c.call(protocol.MethodWorkspaceSymbol, map[string]any{"query": ""}, nil); err == nil || err.Code != -32603 || !strings.Contains(err.Message, "boom") {
		t.Errorf("panicking handler answered %v, want -32603 naming the panic", err)
	}
	if err := c.call("flash/nonsense", map[string]any{}, nil); err == nil || err.Code != -32601 {
		t.Errorf("after a panic: %v, want the session to go on", err)
	}
}

func TestBurstOfEdits(t *testing.T) {
	dir := writeModule(t, appFiles)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	file := filepath.Join(dir, "other", "other.go")
	src := appFiles["other/other.go"]
	c.open(file, 1)
	c.waitDiags(file, wait, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 1 })
	before := len(c.publishes(file))

	// Versions 2..51: every version but the last has a bad method.
	for v := int32(2); v <= 51; v++ {
		text := strings.Replace(src, "method=GET", fmt.Sprintf("method=get%d", v), 1)
		if v == 51 {
			text = src
		}
		c.change(file, text, v)
	}
	c.waitDiags(file, wait, func(p protocol.PublishDiagnosticsParams) bool {
		return p.Version == 51 && len(p.Diagnostics) == 0
	})
	time.Sleep(200 * time.Millisecond) // anything stale would arrive now
	pubs := c.publishes(file)[before:]
	last := int32(0)
	for _, p := range pubs {
		if int32(p.Version) < last {
			t.Errorf("version %d published after version %d", p.Version, last)
		}
		last = int32(p.Version)
		for _, d := range p.Diagnostics {
			if want := fmt.Sprintf("get%d", p.Version); !strings.Contains(d.Message, want) {
				t.Errorf("diagnostics of version %d do not describe it: %s", p.Version, d.Message)
			}
		}
	}
	if last != 51 {
		t.Errorf("last publish is for version %d, want 51", last)
	}
	if len(pubs) > 3 {
		t.Errorf("%d publishes for a burst of 50 edits: older versions were not superseded", len(pubs))
	}
	t.Logf("%d publishes for 50 edits", len(pubs))
}

func TestGenerateCommand(t *testing.T) {
	dir := writeModule(t, appFiles)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	apiFile := filepath.Join(dir, "api", "api.go")
	c.open(apiFile, 1)
	c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return hasCode(p.Diagnostics, "bad-method") })

	args := map[string]any{"command": generateCommand, "arguments": []any{map[string]string{"uri": string(pathToURI(dir))}}}
	c.call(protocol.MethodWorkspaceExecuteCommand, args, nil)
	c.waitMessage(10*time.Second, func(m protocol.ShowMessageParams) bool {
		return m.Type == protocol.MessageTypeError && strings.Contains(m.Message, "not generating")
	})
	if _, err := os.Stat(filepath.Join(dir, ".flash", "flash_manifest.json")); err == nil {
		t.Fatal("generate wrote a manifest while errors exist")
	}

	fixed := strings.Replace(appFiles["api/api.go"], "method=post", "method=POST", 1)
	if err := os.WriteFile(apiFile, []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	c.change(apiFile, fixed, 2)
	c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 2 && len(p.Diagnostics) == 0 })
	if err := c.call(protocol.MethodWorkspaceExecuteCommand, args, nil); err != nil {
		t.Fatalf("flash.generate: %v", err)
	}
	c.waitMessage(10*time.Second, func(m protocol.ShowMessageParams) bool {
		return m.Type == protocol.MessageTypeInfo && strings.Contains(m.Message, "generated")
	})
	data, err := os.ReadFile(filepath.Join(dir, ".flash", "flash_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"POST /api/process"`) {
		t.Errorf("manifest lacks the route:\n%s", data)
	}
	if _, err := os.Stat(filepath.Join(dir, ".flash", "handlers", "test-api", "main.go")); err != nil {
		t.Errorf("handler not written: %v", err)
	}
	// What the editor generated builds, like what `flash-lsp generate`
	// writes: the handlers and the typed clients.
	build := exec.Command("go", "build", "./...", "./.flash/handlers/test-api")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Errorf("go build of the generated code: %v\n%s", err, out)
	}
}

// TestGenerateFromUnsavedBuffer: flash.generate, called on the module's
// folder right after an unsaved edit fixed the last error, generates what
// the editor shows (SPEC 9: it refuses only while errors exist).
func TestGenerateFromUnsavedBuffer(t *testing.T) {
	dir := writeModule(t, appFiles)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	apiFile := filepath.Join(dir, "api", "api.go")
	c.open(apiFile, 1)
	c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return hasCode(p.Diagnostics, "bad-method") })

	c.change(apiFile, strings.Replace(appFiles["api/api.go"], "method=post", "method=POST", 1), 2)
	args := map[string]any{"command": generateCommand, "arguments": []any{map[string]string{"uri": string(pathToURI(dir))}}}
	if err := c.call(protocol.MethodWorkspaceExecuteCommand, args, nil); err != nil {
		t.Fatalf("flash.generate: %v", err)
	}
	m := c.waitMessage(10*time.Second, func(m protocol.ShowMessageParams) bool { return strings.Contains(m.Message, "generat") })
	if m.Type != protocol.MessageTypeInfo || !strings.Contains(m.Message, "api.go") {
		t.Errorf("message %v %q, want an info naming the unsaved api.go", m.Type, m.Message)
	}
	data, err := os.ReadFile(filepath.Join(dir, ".flash", "flash_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"POST /api/process"`) {
		t.Errorf("manifest lacks the route of the edited buffer:\n%s", data)
	}
}

// TestGenerateAfterDiskChange: flash.generate right after a file changed
// on disk (workspace/didChangeWatchedFiles) generates from the new files,
// not from the analysis of the old ones.
func TestGenerateAfterDiskChange(t *testing.T) {
	dir := writeModule(t, appFiles)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	args := map[string]any{"command": generateCommand, "arguments": []any{map[string]string{"uri": string(pathToURI(dir))}}}
	if err := c.call(protocol.MethodWorkspaceExecuteCommand, args, nil); err == nil {
		t.Fatal("flash.generate succeeded while api.go has a bad method")
	}
	apiFile := filepath.Join(dir, "api", "api.go")
	if err := os.WriteFile(apiFile, []byte(strings.Replace(appFiles["api/api.go"], "method=post", "method=POST", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	c.notify(protocol.MethodWorkspaceDidChangeWatchedFiles, map[string]any{
		"changes": []map[string]any{{"uri": string(pathToURI(apiFile)), "type": protocol.FileChangeTypeChanged}},
	})
	if err := c.call(protocol.MethodWorkspaceExecuteCommand, args, nil); err != nil {
		t.Fatalf("flash.generate after the fix on disk: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".flash", "flash_manifest.json")); err != nil {
		t.Error(err)
	}
}

func TestWatchedFilesAndNestedModules(t *testing.T) {
	dir := writeModule(t, appFiles)
	nested := filepath.Join(dir, "tools")
	writeModuleAt(t, nested, "example.com/tools", map[string]string{
		"res/res.go": appFiles["res/res.go"],
		"job/job.go": `package job

import _ "example.com/tools/res"

//flash:remote res.API method=put path=/job
func Job(x int) int { return x }
`,
	})
	c, _, _ := session(t, nil)
	c.initialize(dir)

	// The root module is loaded at once: api.go, never opened, has its
	// bad method published.
	apiFile := filepath.Join(dir, "api", "api.go")
	c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return hasCode(p.Diagnostics, "bad-method") })

	// A nested module is its own project, loaded when one of its files
	// is opened; the root module does not analyse its files.
	jobFile := filepath.Join(nested, "job", "job.go")
	c.open(jobFile, 1)
	pub := c.waitDiags(jobFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 1 })
	if len(pub.Diagnostics) != 1 || pub.Diagnostics[0].Code != "bad-method" {
		t.Errorf("nested module diagnostics = %s, want one bad-method", describeDiags(pub.Diagnostics))
	}
	var syms []protocol.SymbolInformation
	if err := c.call(protocol.MethodWorkspaceSymbol, map[string]any{"query": "/job"}, &syms); err != nil {
		t.Fatal(err)
	}
	if len(syms) != 0 {
		t.Errorf("invalid route PUT? /job listed: %+v", syms)
	}

	// Edits on disk reach the server through watched-file events.
	otherFile := filepath.Join(dir, "other", "other.go")
	broken := strings.Replace(appFiles["other/other.go"], "path=/other", "path=other/", 1)
	if err := os.WriteFile(otherFile, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	newFile := filepath.Join(dir, "other", "more.go")
	if err := os.WriteFile(newFile, []byte("package other\n\nimport _ \"example.com/app/res\"\n\n//flash:remote res.Jobs method=GET path=/more\nfunc More() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.notify(protocol.MethodWorkspaceDidChangeWatchedFiles, map[string]any{"changes": []map[string]any{
		{"uri": pathToURI(otherFile), "type": protocol.FileChangeTypeChanged},
		{"uri": pathToURI(newFile), "type": protocol.FileChangeTypeCreated},
	}})
	c.waitDiags(otherFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return hasCode(p.Diagnostics, "bad-path") })
	c.waitDiags(newFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return hasCode(p.Diagnostics, "route-on-queue") })
	for _, p := range c.publishes(jobFile) {
		for _, d := range p.Diagnostics {
			if d.Code == "route-conflict" {
				t.Errorf("a nested module's route conflicts with the root's: %s", d.Message)
			}
		}
	}
}

func TestInitializeCapabilities(t *testing.T) {
	c, _, _ := session(t, nil)
	// Capabilities as a current VS Code sends them, in shapes newer than
	// go.lsp.dev/protocol v0.12.0 knows.
	params := json.RawMessage(`{"processId": 1, "clientInfo": {"name": "Visual Studio Code", "version": "1.99.0"},
		"rootUri": null, "workspaceFolders": null, "trace": "off",
		"capabilities": {
			"general": {"positionEncodings": ["utf-16"], "staleRequestSupport": {"cancel": true, "retryOnContentModified": []}},
			"textDocument": {"semanticTokens": {"requests": {"range": true, "full": {"delta": true}}},
				"diagnostic": {"dynamicRegistration": true, "relatedDocumentSupport": false},
				"inlayHint": {"resolveSupport": {"properties": ["tooltip"]}}},
			"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true, "relativePatternSupport": true},
				"workspaceEdit": {"documentChanges": true, "resourceOperations": ["create", "rename", "delete"]}},
			"window": {"workDoneProgress": true}
		}}`)
	var res map[string]any
	if err := c.call(protocol.MethodInitialize, params, &res); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	caps, _ := json.Marshal(res["capabilities"])
	for _, want := range []string{
		`"change":1`, `"codeActionKinds":["quickfix","source.generate.flash"]`,
		`"executeCommandProvider":{"commands":["flash.generate","flash.deployPlan"]}`, `"hoverProvider":true`,
		`"triggerCharacters":[" ","="]`, `"definitionProvider":true`, `"workspaceSymbolProvider":true`,
	} {
		if !strings.Contains(string(caps), want) {
			t.Errorf("capabilities lack %s: %s", want, caps)
		}
	}
	if err := c.call(protocol.MethodInitialize, params, nil); err == nil {
		t.Error("a second initialize succeeded")
	}
}

func TestMultiRootWorkspace(t *testing.T) {
	one := writeModule(t, appFiles)
	two := writeModule(t, appFiles)
	c, _, _ := session(t, nil)
	params := map[string]any{
		"processId": os.Getpid(),
		"workspaceFolders": []map[string]string{
			{"uri": string(pathToURI(one)), "name": "one"},
			{"uri": string(pathToURI(two)), "name": "two"},
		},
		"capabilities": map[string]any{},
	}
	if err := c.call(protocol.MethodInitialize, params, nil); err != nil {
		t.Fatal(err)
	}
	c.notify(protocol.MethodInitialized, map[string]any{})
	// Each folder's module is its own project: both report their own
	// bad method, and neither sees the other's routes as conflicts.
	for _, dir := range []string{one, two} {
		p := c.waitDiags(filepath.Join(dir, "api", "api.go"), wait, func(p protocol.PublishDiagnosticsParams) bool {
			return hasCode(p.Diagnostics, "bad-method")
		})
		if hasCode(p.Diagnostics, "route-conflict") {
			t.Errorf("%s: modules of two folders conflict: %s", dir, describeDiags(p.Diagnostics))
		}
	}
	var syms []protocol.SymbolInformation
	if err := c.call(protocol.MethodWorkspaceSymbol, map[string]any{"query": "/items"}, &syms); err != nil {
		t.Fatal(err)
	}
	if len(syms) != 2 {
		t.Errorf("GET /items/{id} found %d times, want once per folder: %+v", len(syms), syms)
	}
}

func TestInsertionQuickFix(t *testing.T) {
	src := "package other\n\nimport _ \"example.com/app/res\"\n\n//flash:remote res.API\nfunc GetHTTPStatus() string { return \"ok\" }\n"
	dir := writeModule(t, map[string]string{"res/res.go": appFiles["res/res.go"], "other/other.go": src})
	c, _, _ := session(t, nil)
	c.initialize(dir)
	file := filepath.Join(dir, "other", "other.go")
	c.open(file, 1)
	pub := c.waitDiags(file, wait, func(p protocol.PublishDiagnosticsParams) bool { return hasCode(p.Diagnostics, "missing-route") })
	d := pub.Diagnostics[0]
	if got := rangeText(t, src, d.Range); got != "res.API" {
		t.Errorf("missing-route covers %q, want the resource token", got)
	}
	var actions []protocol.CodeAction
	if err := c.call(protocol.MethodTextDocumentCodeAction, map[string]any{
		"textDocument": map[string]any{"uri": pathToURI(file)},
		"range":        d.Range,
		"context":      map[string]any{"diagnostics": []protocol.Diagnostic{d}, "only": []string{"quickfix"}},
	}, &actions); err != nil {
		t.Fatal(err)
	}
	if len(actions) != 1 || actions[0].Kind != protocol.QuickFix || actions[0].Edit == nil {
		t.Fatalf("actions = %+v, want one quick fix (only quickfix was asked for)", actions)
	}
	fixed := applyEdits(t, src, actions[0].Edit.Changes[pathToURI(file)])
	if !strings.Contains(fixed, "//flash:remote res.API method=GET path=/get-http-status\n") {
		t.Fatalf("fix %q produced:\n%s", actions[0].Title, fixed)
	}
	c.change(file, fixed, 2)
	c.waitDiags(file, wait, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 2 && len(p.Diagnostics) == 0 })
}

func TestIncrementalChangeApplied(t *testing.T) {
	dir := writeModule(t, appFiles)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	file := filepath.Join(dir, "api", "api.go")
	text := appFiles["api/api.go"]
	c.open(file, 1)
	c.waitDiags(file, wait, func(p protocol.PublishDiagnosticsParams) bool { return hasCode(p.Diagnostics, "bad-method") })
	// A client that ignores full sync and sends a ranged change.
	m := newMapper([]byte(text))
	i := strings.Index(text, "post")
	c.notify(protocol.MethodTextDocumentDidChange, map[string]any{
		"textDocument": map[string]any{"uri": pathToURI(file), "version": 2},
		"contentChanges": []map[string]any{{
			"range": protocol.Range{Start: m.position(i), End: m.position(i + 4)},
			"text":  "POST",
		}},
	})
	c.waitDiags(file, wait, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 2 && len(p.Diagnostics) == 0 })
}

// TestRequestsEverywhere asks for hover, completion and definition at every
// position of a file full of directives, well-formed and not: no request
// may fail.
func TestRequestsEverywhere(t *testing.T) {
	t.Run("broken", func(t *testing.T) {
		project := filepath.Join(repoRoot(t), "testdata", "projects", "broken")
		file := filepath.Join(project, "api", "api.go")
		data, err := os.ReadFile(file)
		if err != nil {
			t.Skipf("no broken project: %v", err)
		}
		c, _, _ := session(t, nil)
		c.initialize(project)
		c.open(file, 1)
		c.waitDiags(file, wait, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 1 })
		requestsEverywhere(t, c, file, string(data))
	})
	src := `package other

import _ "example.com/app/res"

//flash:remote res.API method=GET path=/a/{id}
func A(id string) string { return id }

//flash:remote
//flash:remote res.
//flash:remote res.API method= path=
//flash:remote res.Nope métho=ü path=/é/😀
//flash:remotes x
func B() {}
`
	dir := writeModule(t, map[string]string{"res/res.go": appFiles["res/res.go"], "other/other.go": src})
	c, _, _ := session(t, nil)
	c.initialize(dir)
	file := filepath.Join(dir, "other", "other.go")
	c.open(file, 1)
	c.waitDiags(file, wait, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 1 })
	requestsEverywhere(t, c, file, src)
}

func requestsEverywhere(t *testing.T, c *client, file, src string) {
	m := newMapper([]byte(src))
	doc := map[string]any{"uri": pathToURI(file)}
	for off := 0; off <= len(src); off++ {
		pos := m.position(off)
		for _, method := range []string{protocol.MethodTextDocumentHover, protocol.MethodTextDocumentCompletion, protocol.MethodTextDocumentDefinition} {
			if err := c.call(method, map[string]any{"textDocument": doc, "position": pos}, nil); err != nil {
				t.Fatalf("%s at %d:%d: %v", method, pos.Line, pos.Character, err)
			}
		}
		if err := c.call(protocol.MethodTextDocumentCodeAction, map[string]any{
			"textDocument": doc, "range": protocol.Range{Start: pos, End: pos}, "context": map[string]any{"diagnostics": []any{}},
		}, nil); err != nil {
			t.Fatalf("codeAction at %d:%d: %v", pos.Line, pos.Character, err)
		}
	}
	for _, q := range []string{"", "GET", "😀", "/a/{", "get /A"} {
		if err := c.call(protocol.MethodWorkspaceSymbol, map[string]any{"query": q}, nil); err != nil {
			t.Errorf("workspace/symbol %q: %v", q, err)
		}
	}
	// Positions past the end are errors, not panics.
	err := c.call(protocol.MethodTextDocumentHover, map[string]any{"textDocument": doc, "position": protocol.Position{Line: 99}}, nil)
	if err == nil || err.Code != -32602 {
		t.Errorf("hover past the end: %v, want InvalidParams", err)
	}
}

// TestGenerateForTarget: flash.generate loads the module for the platform
// handlers run on (linux/amd64), as `flash-lsp generate` does, whatever
// platform the server itself runs for: with GOARCH=arm64 in its
// environment, the function of the _amd64.go file is generated and the
// one of the _arm64.go file is not.
func TestGenerateForTarget(t *testing.T) {
	files := map[string]string{
		"res/res.go": appFiles["res/res.go"],
		"api/amd64.go": `package api

import _ "example.com/app/res"

//flash:remote res.API method=GET path=/amd64
func OnAMD64() string { return "" }
`,
		"api/arm64.go": `package api

import _ "example.com/app/res"

//flash:remote res.API method=GET path=/arm64
func OnARM64() string { return "" }
`,
	}
	dir := writeModule(t, files)
	for _, arch := range []string{"amd64", "arm64"} {
		name := filepath.Join(dir, "api", arch+".go")
		if err := os.Rename(name, filepath.Join(dir, "api", "remote_"+arch+".go")); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("GOARCH", "arm64")
	c, _, _ := session(t, nil)
	c.initialize(t.TempDir()) // no workspace analysis: only the command loads
	args := map[string]any{"command": generateCommand, "arguments": []any{map[string]string{"uri": string(pathToURI(dir))}}}
	if err := c.call(protocol.MethodWorkspaceExecuteCommand, args, nil); err != nil {
		t.Fatalf("flash.generate: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, ".flash", "flash_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "OnAMD64") || strings.Contains(string(data), "OnARM64") {
		t.Errorf("manifest not generated for linux/amd64:\n%s", data)
	}
}

// TestGoMissing: without the go command on PATH (an editor started from a
// desktop session, whose PATH lacks Go's bin directory), the server says
// so in a message instead of publishing nothing and logging it.
func TestGoMissing(t *testing.T) {
	dir := writeModule(t, appFiles)
	t.Setenv("PATH", t.TempDir())
	c, _, _ := session(t, nil)
	c.initialize(dir)
	m := c.waitMessage(wait, func(m protocol.ShowMessageParams) bool {
		return m.Type == protocol.MessageTypeError && strings.Contains(m.Message, "go command") && strings.Contains(m.Message, "PATH")
	})
	t.Log(m.Message)
}
