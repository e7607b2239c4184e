package deploy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// TestImportsGeneratedClient: a package calls other endpoints when it
// imports a generated typed client, wherever generate --client-dir put it;
// a package of the user's in flashclient/ is not one.
func TestImportsGeneratedClient(t *testing.T) {
	root := t.TempDir()
	write := func(rel, src string) {
		p := filepath.Join(root, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("clients/api/client.go", model.GeneratedHeader+"\n\npackage api\n")
	write("flashclient/mine/client.go", "package mine\n")
	write("a/a.go", "package a\n\nimport _ \"example.com/m/clients/api\"\n")
	write("b/b.go", "package b\n\nimport _ \"example.com/m/flashclient/mine\"\n")
	write("c/c.go", "package c\n\nimport _ \"fmt\"\n")
	write("d/d_test.go", "package d\n\nimport _ \"example.com/m/clients/api\"\n")
	for dir, want := range map[string]bool{"a": true, "b": false, "c": false, "d": false} {
		if got := importsGeneratedClient(filepath.Join(root, dir), root, "example.com/m"); got != want {
			t.Errorf("%s: %v, want %v", dir, got, want)
		}
	}
}
