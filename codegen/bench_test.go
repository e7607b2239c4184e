package codegen

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/flash-lsp/flash-lsp/internal/workspace"
)

// benchWorkspace writes SPEC section 11's workspace (100 packages × 20
// functions, 3 resources) and loads it once, which warms the build cache
// as the budget assumes.
func benchWorkspace(b *testing.B) (string, *Loaded) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "bench")
	if err := workspace.Generate(dir, workspace.Options{Replace: ".."}); err != nil {
		b.Fatal(err)
	}
	l, err := Load(context.Background(), dir, DefaultTarget)
	if err != nil {
		b.Fatal(err)
	}
	if bl := l.Blocking(true); len(bl) > 0 {
		b.Fatalf("workspace has %d errors, the first: %s", len(bl), l.FormatFinding(dir, bl[0]))
	}
	if l.Functions != 2000 {
		b.Fatalf("workspace has %d functions, want 2000", l.Functions)
	}
	return dir, l
}

// BenchmarkGenerate is `flash-lsp generate` on the benchmark workspace:
// load and check the module, render the manifest and handlers, write what
// changed. SPEC section 11: ≤ 1 s.
func BenchmarkGenerate(b *testing.B) {
	dir, _ := benchWorkspace(b)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		l, err := Load(ctx, dir, DefaultTarget)
		if err != nil {
			b.Fatal(err)
		}
		res, err := Generate(l.Project, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := res.Write(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRender is the code generation step alone: manifest and handlers
// of 2,000 functions from an already loaded project.
func BenchmarkRender(b *testing.B) {
	_, l := benchWorkspace(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Generate(l.Project, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite is the writer alone on an unchanged project: the lock,
// the link checks and the plan, which reads every generated file once.
func BenchmarkWrite(b *testing.B) {
	_, l := benchWorkspace(b)
	res, err := Generate(l.Project, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := res.Write(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := res.Write(); err != nil {
			b.Fatal(err)
		}
	}
}
