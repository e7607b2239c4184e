package workspace

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/project"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func TestGenerateDeterministic(t *testing.T) {
	opts := Options{Packages: 3, Functions: 5, Replace: repoRoot(t)}
	a, b := t.TempDir(), t.TempDir()
	if err := Generate(a, opts); err != nil {
		t.Fatal(err)
	}
	if err := Generate(b, opts); err != nil {
		t.Fatal(err)
	}
	var n int
	err := filepath.WalkDir(a, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, path)
		x, _ := os.ReadFile(path)
		y, err := os.ReadFile(filepath.Join(b, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 + 2 + 3; n != want { // go.mod, go.sum, res, shared, 3 packages
		t.Errorf("generated %d files, want %d", n, want)
	}
	src, err := os.ReadFile(filepath.Join(a, "p001", "p001.go"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(src), "//flash:remote "); got != 5 {
		t.Errorf("p001 has %d directives, want 5", got)
	}
}

// TestGenerateBuilds compiles and vets a small workspace: the generated
// code must be valid Go against the real runtime package.
func TestGenerateBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	dir := t.TempDir()
	if err := Generate(dir, Options{Packages: 4, Functions: 6, Resources: 3, Replace: repoRoot(t)}); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"build", "./..."}, {"vet", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOPROXY=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestGenerateRequiresReplace(t *testing.T) {
	if err := Generate(t.TempDir(), Options{}); err == nil {
		t.Fatal("Generate without Replace succeeded")
	}
}

// TestGenerateClean checks that flash-lsp finds nothing to report in a
// generated workspace, and sees every function on its resource.
func TestGenerateClean(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	dir := t.TempDir()
	opts := Options{Packages: 5, Functions: 10, Resources: 4, Replace: repoRoot(t)}
	if err := Generate(dir, opts); err != nil {
		t.Fatal(err)
	}
	p, err := project.Load(context.Background(), project.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range p.Findings {
		t.Errorf("%s+%d: %s [%s]", f.File, f.Start, f.Message, f.Rule)
	}
	if p.NumFunctions() != 50 || len(p.Resources()) != 4 {
		t.Fatalf("%d functions, %d resources", p.NumFunctions(), len(p.Resources()))
	}
	for i, r := range p.Resources() {
		if n := len(p.Functions(r)); n == 0 {
			t.Errorf("resource %s has no functions", r.Name)
		}
		if r.LoadBalanced() == Queue(i) {
			t.Errorf("resource %d (%s): load-balanced = %t", i, r.Name, r.LoadBalanced())
		}
	}
}
