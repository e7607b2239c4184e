// Package editortest holds what the editors' end-to-end tests (editors/nvim,
// editors/emacs) share: the repository root, a copy of an example project
// pointed at this tree, and diagnostic positions to compare.
package editortest

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RepoRoot is the module root, found from the test's directory upwards.
func RepoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if data, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(data), "module github.com/flash-lsp/flash-lsp\n") {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("repository root not found above %s", dir)
		}
	}
}

// CopyProject copies an example project (without its .flash directory) and
// points its replace directive for flash-lsp at root, wherever the copy
// lives.
func CopyProject(t *testing.T, src, dst, root string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			if d.Name() == ".flash" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
	cmd := exec.Command("go", "mod", "edit", "-replace", "github.com/flash-lsp/flash-lsp="+root)
	cmd.Dir = dst
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod edit: %v\n%s", err, out)
	}
}

// GoEnv reports one `go env` variable.
func GoEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// A Key is what two diagnostics must share to be the same: a 1-based line,
// a 1-based byte column and the rule id.
type Key struct {
	Line, Col int
	Code      string
}

// CompareKeys orders keys by position, then rule.
func CompareKeys(a, b Key) int {
	if a.Line != b.Line {
		return a.Line - b.Line
	}
	if a.Col != b.Col {
		return a.Col - b.Col
	}
	return strings.Compare(a.Code, b.Code)
}

// RequireTool finds an editor on PATH. The test fails, rather than skips,
// without it: `make deps-editors` (scripts/deps.sh editors) installs it.
func RequireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required for the editor tests (install it with `make deps-editors`): %v", name, err)
	}
	return path
}

// BuildServer compiles cmd/flash-lsp of the tree at root into bin.
func BuildServer(root, bin string) error {
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/flash-lsp")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/flash-lsp: %w\n%s", err, out)
	}
	return nil
}
