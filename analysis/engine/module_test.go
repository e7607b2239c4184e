package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/rules"
	"github.com/flash-lsp/flash-lsp/internal/workspace"
)

// repoRoot is the flash-lsp module root, for replace directives.
func repoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// writeModule writes files (relative name → content) into a new module
// example.com/app.
func writeModule(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := workspace.WriteModule(dir, "example.com/app", repoRoot(t), files); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestAnalyzeIncremental(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"a/a.go":                    "package a\n\nimport \"strings\"\n\nfunc Up(s string) string { return strings.ToUpper(s) }\n",
		"b/b.go":                    "package b\n\nimport \"example.com/app/a\"\n\nfunc Twice(s string) string { return a.Up(s) + a.Up(s) }\n",
		"c/c.go":                    "package c\n\nfunc C() int { return 1 }\n",
		".flash/handlers/x/main.go": "package main\n\nfunc main() { undefined() }\n",
	})
	m := NewModule(dir, Config{})
	ctx := context.Background()
	s, err := m.Analyze(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Packages) != 3 {
		t.Fatalf("got %d packages, want 3 (a, b, c; .flash ignored)", len(s.Packages))
	}
	if len(s.Findings) != 0 {
		t.Fatalf("clean module has findings: %v", s.Findings)
	}

	// Break a's API in an overlay: a and b are re-checked, c is not.
	aFile := filepath.Join(dir, "a", "a.go")
	overlay := map[string][]byte{aFile: []byte("package a\n\nfunc Upper(s string) string { return s }\n")}
	s, err = m.Analyze(ctx, overlay)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(s.Checked)
	if want := []string{"example.com/app/a", "example.com/app/b"}; !slices.Equal(s.Checked, want) {
		t.Errorf("checked %v, want %v", s.Checked, want)
	}
	bFile := filepath.Join(dir, "b", "b.go")
	fs := s.Findings[bFile]
	if len(fs) == 0 || fs[0].Rule != rules.Compile || !strings.Contains(fs[0].Message, "Up") {
		t.Fatalf("b findings = %+v, want an undefined a.Up compile error", fs)
	}
	content := string(s.Files[bFile].Content)
	if got := content[fs[0].Start:fs[0].End]; got != "Up" {
		t.Errorf("finding covers %q, want %q", got, "Up")
	}

	// An import added in an unsaved buffer reloads the metadata.
	cFile := filepath.Join(dir, "c", "c.go")
	overlay[cFile] = []byte("package c\n\nimport \"example.com/app/a\"\n\nfunc C() string { return a.Upper(\"x\") }\n")
	s, err = m.Analyze(ctx, overlay)
	if err != nil {
		t.Fatal(err)
	}
	if fs := s.Findings[cFile]; len(fs) != 0 {
		t.Errorf("c findings after adding an import: %+v", fs)
	}
}

func TestAnalyzeCancelled(t *testing.T) {
	dir := writeModule(t, map[string]string{"a/a.go": "package a\n"})
	m := NewModule(dir, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Analyze(ctx, nil); err == nil {
		t.Fatal("Analyze with a cancelled context succeeded")
	}
	s, err := m.Analyze(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Packages) != 1 {
		t.Fatalf("got %d packages after a cancelled run, want 1", len(s.Packages))
	}
}

func TestAnalyzeTestFiles(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"a/a.go":      "package a\n\nfunc A() int { return 1 }\n",
		"a/a_test.go": "package a\n\nimport \"testing\"\n\nfunc TestA(t *testing.T) { var s string = A(); _ = s }\n",
		"a/x_test.go": "package a_test\n\nimport (\n\t\"testing\"\n\n\t\"example.com/app/a\"\n)\n\nfunc TestX(t *testing.T) { a.Missing() }\n",
		"b/b.go":      "package b\n\nimport \"example.com/app/a\"\n\nvar B = a.A()\n",
	})
	m := NewModule(dir, Config{})
	s, err := m.Analyze(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	// a (with a_test.go), a_test and b: each once.
	var paths []string
	for p := range s.Packages {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	if want := []string{"example.com/app/a", "example.com/app/a_test", "example.com/app/b"}; !slices.Equal(paths, want) {
		t.Fatalf("packages %v, want %v", paths, want)
	}
	for _, name := range []string{"a/a_test.go", "a/x_test.go"} {
		fs := s.Findings[filepath.Join(dir, filepath.FromSlash(name))]
		if len(fs) != 1 || fs[0].Rule != rules.Compile {
			t.Errorf("%s: findings %+v, want one compile error", name, fs)
		}
	}
	if fs := s.Findings[filepath.Join(dir, "b", "b.go")]; len(fs) != 0 {
		t.Errorf("b.go: %+v", fs)
	}
}

func TestAnalyzeEarly(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"base/base.go": "package base\n\nconst N = 1\n",
		"a/a.go":       "package a\n\nimport \"example.com/app/base\"\n\nvar A string = base.N\n",
		"b/b.go":       "package b\n\nfunc B() {}\n",
		"c/c.go":       "package c\n\nfunc C() {}\n",
	})
	aFile := filepath.Join(dir, "a", "a.go")
	content, err := os.ReadFile(aFile)
	if err != nil {
		t.Fatal(err)
	}
	m := NewModule(dir, Config{})
	var part *Snapshot
	s, err := m.AnalyzeEarly(context.Background(), map[string][]byte{aFile: content}, func(p *Snapshot) { part = p })
	if err != nil {
		t.Fatal(err)
	}
	if part == nil || !part.Partial {
		t.Fatal("no early snapshot on the first run")
	}
	var early []string
	for p := range part.Packages {
		early = append(early, p)
	}
	slices.Sort(early)
	if want := []string{"example.com/app/a", "example.com/app/base"}; !slices.Equal(early, want) {
		t.Errorf("early packages %v, want %v (the open file's package and its dependency)", early, want)
	}
	if fs := part.Findings[aFile]; len(fs) != 1 || fs[0].Rule != rules.Compile {
		t.Errorf("early findings for a.go: %+v", fs)
	}
	if len(s.Packages) != 4 || s.Partial {
		t.Errorf("final snapshot has %d packages (partial %v), want 4", len(s.Packages), s.Partial)
	}
}

func TestUnresolvedImportReloadsOnce(t *testing.T) {
	dir := writeModule(t, map[string]string{"a/a.go": "package a\n"})
	m := NewModule(dir, Config{})
	ctx := context.Background()
	if _, err := m.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "a", "a.go")
	for i := range 3 {
		src := fmt.Sprintf("package a\n\nimport \"example.com/nowhere\"\n\nvar _ = nowhere.X%d\n", i)
		s, err := m.Analyze(ctx, map[string][]byte{aFile: []byte(src)})
		if err != nil {
			t.Fatal(err)
		}
		if fs := s.Findings[aFile]; len(fs) == 0 || fs[0].Rule != rules.Compile {
			t.Errorf("edit %d: findings %+v, want a compile error for the import", i, fs)
		}
	}
	if m.loads != 2 {
		t.Errorf("%d metadata loads, want 2 (the first, and one for the new import)", m.loads)
	}
}

func TestCancelledRunStillJoins(t *testing.T) {
	dir := writeModule(t, map[string]string{"a/a.go": "package a\n", "b/b.go": "package b\n"})
	m := NewModule(dir, Config{})
	ctx := context.Background()
	if _, err := m.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "a", "a.go")
	overlay := map[string][]byte{aFile: []byte("package a\n\nvar X = 1\n")}
	// A run cancelled once its packages are checked...
	cctx, cancel := context.WithCancel(ctx)
	_, err := m.AnalyzeEarly(cctx, overlay, nil)
	cancel()
	if err != nil {
		t.Fatal(err) // not cancelled yet: checked, joined
	}
	runs := m.joins
	cctx, cancel = context.WithCancel(ctx)
	overlay[aFile] = []byte("package a\n\nvar X = 2\n")
	m.mu.Lock()
	m.diffOverlays(overlay)
	checked, _ := m.checkDirty(cctx, overlay, nil)
	m.mu.Unlock()
	cancel()
	if len(checked) != 1 {
		t.Fatalf("checked %v", checked)
	}
	// ...leaves the whole-module rules to the next run, even though that
	// run has nothing left to re-check.
	s, err := m.Analyze(ctx, overlay)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Checked) != 0 || m.joins != runs+1 {
		t.Errorf("checked %v, module rules ran %d times after the cancelled run, want 0 packages and 1 run", s.Checked, m.joins-runs)
	}
}

// TestBodyEditKeepsImporters: an edit that changes neither the exported
// API nor the facts of a package re-checks that package alone, and its
// importers keep the types they were checked against.
func TestBodyEditKeepsImporters(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"a/a.go": "package a\n\nfunc Up(s string) string { return s }\n",
		"b/b.go": "package b\n\nimport \"example.com/app/a\"\n\nfunc Twice(s string) string { return a.Up(s) + a.Up(s) }\n",
	})
	m := NewModule(dir, Config{})
	ctx := context.Background()
	s, err := m.Analyze(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := s.Packages["example.com/app/a"].Types
	aFile := filepath.Join(dir, "a", "a.go")
	s, err = m.Analyze(ctx, map[string][]byte{aFile: []byte("package a\n\n// Up changed inside.\nfunc Up(s string) string { return s + \"\" }\n")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"example.com/app/a"}; !slices.Equal(s.Checked, want) {
		t.Errorf("checked %v, want %v", s.Checked, want)
	}
	if s.Packages["example.com/app/a"].Types != before {
		t.Error("a's types were replaced although its API did not change")
	}
	// The open buffer keeps its syntax; b's file, which nobody edits,
	// keeps only its imports.
	if f := s.Files[aFile]; f.Trimmed || len(f.AST.Decls) == 0 {
		t.Error("the open buffer's syntax was dropped")
	}
	if f := s.Files[filepath.Join(dir, "b", "b.go")]; !f.Trimmed || len(f.AST.Decls) != 0 || len(f.AST.Imports) != 1 {
		t.Errorf("b.go not trimmed to its imports: trimmed %t, %d decls", f.Trimmed, len(f.AST.Decls))
	}
	s, err = m.Analyze(ctx, map[string][]byte{aFile: []byte("package a\n\nfunc Up(s string, n int) string { return s }\n")})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(s.Checked)
	if want := []string{"example.com/app/a", "example.com/app/b"}; !slices.Equal(s.Checked, want) {
		t.Errorf("after an API change: checked %v, want %v", s.Checked, want)
	}
	if fs := s.Findings[filepath.Join(dir, "b", "b.go")]; len(fs) == 0 {
		t.Error("b's call with too few arguments is not reported")
	}
}

// TestAPIChangeReachesTransitiveImporters: b's API names a type of a;
// when a's API changes, b's types are rebuilt even though b's own API
// text does not change, and c, which uses both, type-checks.
func TestAPIChangeReachesTransitiveImporters(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"a/a.go": "package a\n\ntype T struct{ X int }\n",
		"b/b.go": "package b\n\nimport \"example.com/app/a\"\n\nfunc Make() a.T { return a.T{} }\n",
		"c/c.go": "package c\n\nimport (\n\t\"example.com/app/a\"\n\t\"example.com/app/b\"\n)\n\nvar V a.T = b.Make()\n",
	})
	m := NewModule(dir, Config{})
	ctx := context.Background()
	if _, err := m.Analyze(ctx, nil); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "a", "a.go")
	s, err := m.Analyze(ctx, map[string][]byte{aFile: []byte("package a\n\ntype T struct{ X, Y int }\n")})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(s.Checked)
	if want := []string{"example.com/app/a", "example.com/app/b", "example.com/app/c"}; !slices.Equal(s.Checked, want) {
		t.Errorf("checked %v, want %v", s.Checked, want)
	}
	for name, fs := range s.Findings {
		t.Errorf("%s: %+v", name, fs)
	}
}

// projectDir is the directory of an example project of testdata/projects.
func projectDir(t testing.TB, name string) string {
	return filepath.Join(repoRoot(t), "testdata", "projects", name)
}
