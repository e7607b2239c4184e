package engine

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// TestBatchLoadsOnce: a batch client asks for the metadata (to key its
// findings cache) and then analyses: one go list run, and the files
// parsed while it ran are the ones checked.
func TestBatchLoadsOnce(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"a/a.go": "package a\n\nimport \"strings\"\n\nfunc Up(s string) string { return strings.ToUpper(s) }\n",
		"b/b.go": "package b\n\nimport \"example.com/app/a\"\n\nvar B = a.Up(1)\n",
	})
	m := NewModule(dir, Config{Batch: true})
	ctx := context.Background()
	listing, files, err := m.Metadata(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(listing) == 0 {
		t.Error("batch Metadata returned no listing")
	}
	want := []string{filepath.Join(dir, "a", "a.go"), filepath.Join(dir, "b", "b.go")}
	if !slices.Equal(files, want) {
		t.Errorf("files %v, want %v", files, want)
	}
	s, err := m.Analyze(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.loads != 1 {
		t.Errorf("%d metadata loads, want 1", m.loads)
	}
	if fs := s.Findings[want[1]]; len(fs) != 1 || fs[0].Rule != rules.Compile {
		t.Errorf("b.go findings %+v, want the bad argument", fs)
	}
}

// TestExportsListedWhenGuessMisses: the language server's export listing
// started from the files' import clauses may miss a dependency; the
// metadata names it and it is listed then.
func TestExportsListedWhenGuessMisses(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"a/a.go": "package a\n\nimport (\n\t\"strconv\"\n\t\"strings\"\n)\n\nvar A = strings.Repeat(strconv.Itoa(1), 2)\n",
	})
	m := NewModule(dir, Config{})
	if _, err := m.Analyze(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	env := os.Environ()
	for _, path := range []string{"strings", "strconv"} {
		if m.meta[path].ExportFile == "" {
			t.Fatalf("no export data for %s", path)
		}
		m.meta[path].ExportFile = ""
	}
	// The guess found only strings: strconv is listed afterwards.
	early := []*listPackage{{ImportPath: "strings", Export: "/guessed/strings.a"}}
	if err := m.listExports(context.Background(), env, "", m.meta, early); err != nil {
		t.Fatal(err)
	}
	if got := m.meta["strings"].ExportFile; got != "/guessed/strings.a" {
		t.Errorf("strings: %q, want the guess's", got)
	}
	if got := m.meta["strconv"].ExportFile; got == "" {
		t.Error("strconv, which the guess missed, has no export data")
	} else if _, err := os.Stat(got); err != nil {
		t.Errorf("strconv: %v", err)
	}
}

// TestGoFilesWalksAsGoList: the files the early passes read are those
// ./... can reach.
func TestGoFilesWalksAsGoList(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"a/a.go":                    "package a\n",
		"a/testdata/t.go":           "package t\n",
		"vendor/v/v.go":             "package v\n",
		"_skip/s.go":                "package s\n",
		".hidden/h.go":              "package h\n",
		"nested/go.mod":             "module example.com/nested\n",
		"nested/n.go":               "package n\n",
		".flash/handlers/x/main.go": "package main\n",
	})
	m := NewModule(dir, Config{})
	overlay := filepath.Join(dir, "b", "new.go")
	got := m.goFiles(map[string][]byte{overlay: []byte("package b\n")})
	slices.Sort(got)
	if want := []string{filepath.Join(dir, "a", "a.go"), overlay}; !slices.Equal(got, want) {
		t.Errorf("goFiles = %v, want %v", got, want)
	}
}

// TestGeneratedBodiesNotChecked: a generated file is type-checked without
// its function bodies; its declarations are checked.
func TestGeneratedBodiesNotChecked(t *testing.T) {
	header := model.GeneratedHeader + "\n\n"
	dir := writeModule(t, map[string]string{
		"gen/body.go": header + "package gen\n\nfunc F() int { return \"not an int\" }\n",
		"gen/decl.go": header + "package gen\n\nfunc G(x Missing) {}\n",
		"own/own.go":  "package own\n\nfunc F() int { return \"not an int\" }\n",
	})
	s, err := NewModule(dir, Config{}).Analyze(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	count := func(rel string) int { return len(s.Findings[filepath.Join(dir, filepath.FromSlash(rel))]) }
	if n := count("gen/body.go"); n != 0 {
		t.Errorf("generated body checked: %v", s.Findings[filepath.Join(dir, "gen", "body.go")])
	}
	if n := count("gen/decl.go"); n != 1 {
		t.Errorf("generated declaration: %d findings, want 1", n)
	}
	if n := count("own/own.go"); n != 1 {
		t.Errorf("the user's body: %d findings, want 1", n)
	}
}
