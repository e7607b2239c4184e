package lsp

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/codegen"
)

// initializeWith initializes a session with the given workspace
// capabilities.
func initializeWith(t *testing.T, c *client, root string, workspace map[string]any) {
	t.Helper()
	params := map[string]any{
		"processId":        os.Getpid(),
		"rootUri":          pathToURI(root),
		"workspaceFolders": []map[string]string{{"uri": string(pathToURI(root)), "name": filepath.Base(root)}},
		"capabilities":     map[string]any{"workspace": workspace},
	}
	if err := c.call(protocol.MethodInitialize, params, nil); err != nil {
		t.Fatal(err)
	}
	c.notify(protocol.MethodInitialized, map[string]any{})
}

// TestQuickFixDocumentChanges: a client that takes documentChanges gets
// each fix as a TextDocumentEdit carrying the version of the buffer that
// was analysed; one that does not gets changes (TestDiagnosticsQuickFixAndClean).
func TestQuickFixDocumentChanges(t *testing.T) {
	dir := writeModule(t, appFiles)
	c, _, _ := session(t, nil)
	initializeWith(t, c, dir, map[string]any{"workspaceEdit": map[string]any{"documentChanges": true}})
	apiFile := filepath.Join(dir, "api", "api.go")
	c.open(apiFile, 7)
	pub := c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return hasCode(p.Diagnostics, "bad-method") })
	d := pub.Diagnostics[0]
	var actions []protocol.CodeAction
	if err := c.call(protocol.MethodTextDocumentCodeAction, map[string]any{
		"textDocument": map[string]any{"uri": pathToURI(apiFile)},
		"range":        d.Range,
		"context":      map[string]any{"diagnostics": []protocol.Diagnostic{d}, "only": []string{"quickfix"}},
	}, &actions); err != nil {
		t.Fatal(err)
	}
	if len(actions) != 1 || actions[0].Edit == nil {
		t.Fatalf("actions = %+v, want one quick fix", actions)
	}
	e := actions[0].Edit
	if len(e.Changes) != 0 || len(e.DocumentChanges) != 1 {
		t.Fatalf("edit = %+v, want one TextDocumentEdit and no changes", e)
	}
	dc := e.DocumentChanges[0]
	if dc.TextDocument.URI != pathToURI(apiFile) || dc.TextDocument.Version == nil || *dc.TextDocument.Version != 7 {
		t.Errorf("TextDocumentEdit for %s version %v, want %s version 7", dc.TextDocument.URI, dc.TextDocument.Version, pathToURI(apiFile))
	}
	if fixed := applyEdits(t, appFiles["api/api.go"], dc.Edits); !strings.Contains(fixed, "method=POST path=/api/process") {
		t.Errorf("fix produced:\n%s", fixed)
	}

	// A newer buffer: the fix offered is for it, with its version.
	text := "// A comment moves every offset.\n" + appFiles["api/api.go"]
	c.change(apiFile, text, 8)
	pub = c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool {
		return p.Version == 8 && hasCode(p.Diagnostics, "bad-method")
	})
	actions = nil
	if err := c.call(protocol.MethodTextDocumentCodeAction, map[string]any{
		"textDocument": map[string]any{"uri": pathToURI(apiFile)},
		"range":        pub.Diagnostics[0].Range,
		"context":      map[string]any{"diagnostics": pub.Diagnostics, "only": []string{"quickfix"}},
	}, &actions); err != nil {
		t.Fatal(err)
	}
	if len(actions) != 1 || len(actions[0].Edit.DocumentChanges) != 1 || *actions[0].Edit.DocumentChanges[0].TextDocument.Version != 8 {
		t.Fatalf("after the edit: %+v", actions)
	}
	if fixed := applyEdits(t, text, actions[0].Edit.DocumentChanges[0].Edits); !strings.Contains(fixed, "method=POST path=/api/process") {
		t.Errorf("fix for version 8 produced:\n%s", fixed)
	}
}

// TestGenerateActionsTakeTurns: generate actions wait for the writers'
// lock, so two never interleave; both succeed.
func TestGenerateActionsTakeTurns(t *testing.T) {
	files := map[string]string{}
	for k, v := range appFiles {
		files[k] = strings.Replace(v, "method=post", "method=POST", 1)
	}
	dir := writeModule(t, files)
	c, _, _ := session(t, nil)
	c.initialize(dir)
	apiFile := filepath.Join(dir, "api", "api.go")
	c.open(apiFile, 1)
	c.waitDiags(apiFile, wait, func(p protocol.PublishDiagnosticsParams) bool { return len(p.Diagnostics) == 0 })

	// Another writer holds the lock: the action waits for it.
	lk, err := codegen.AcquireLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]any{"command": generateCommand, "arguments": []any{map[string]string{"uri": string(pathToURI(dir))}}}
	done := make(chan time.Time, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if err := c.call(protocol.MethodWorkspaceExecuteCommand, args, nil); err != nil {
				t.Errorf("flash.generate: %v", err)
			}
			done <- time.Now()
		})
	}
	time.Sleep(time.Second)
	released := time.Now()
	lk.Unlock()
	wg.Wait()
	close(done)
	for at := range done {
		if at.Before(released) {
			t.Error("a generate action finished while another writer held the lock")
		}
	}
	n := 0
	c.mu.Lock()
	for _, m := range c.messages {
		if m.Type == protocol.MessageTypeInfo && strings.Contains(m.Message, "generated") {
			n++
		}
	}
	c.mu.Unlock()
	if n != 2 {
		t.Errorf("%d generate actions reported success, want 2", n)
	}

	// A link at .flash/handlers: the action refuses, naming it.
	outside := t.TempDir()
	handlers := filepath.Join(dir, ".flash", "handlers")
	os.RemoveAll(handlers)
	if err := os.Symlink(outside, handlers); err != nil {
		t.Fatal(err)
	}
	c.call(protocol.MethodWorkspaceExecuteCommand, args, nil)
	c.waitMessage(10*time.Second, func(m protocol.ShowMessageParams) bool {
		return m.Type == protocol.MessageTypeError && strings.Contains(m.Message, ".flash/handlers is a symbolic link")
	})
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("generate wrote through the link: %v", entries)
	}
}
