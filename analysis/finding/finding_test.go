package finding

import (
	"slices"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

func rulesOf(fs []Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.Rule)
	}
	return ids
}

func TestMergeOneFindingPerToken(t *testing.T) {
	at := func(line, col int) (string, int) { return "/m/a.go", line*100 + col }
	f := func(rule string, line, col int, msg string) Finding {
		file, off := at(line, col)
		return Finding{Rule: rule, File: file, Start: off, End: off, Message: msg}
	}
	fs := []Finding{
		f(rules.PathParam, 3, 10, ""),
		f(rules.RouteConflict, 3, 10, ""),
		f(rules.BadPath, 3, 10, ""),
		f(rules.Signature, 2, 1, ""),
		f(rules.Compile, 1, 1, "x"),
		f(rules.Compile, 1, 1, "x (from the compiler)"),
		f(rules.Compile, 1, 5, "y"),
	}
	got := Merge(fs)
	want := []string{rules.Compile, rules.Compile, rules.Signature, rules.BadPath}
	if !slices.Equal(rulesOf(got), want) {
		t.Fatalf("Merge = %v, want %v", rulesOf(got), want)
	}
}

func TestWiden(t *testing.T) {
	src := []byte("x := undefinedName + 1\n")
	f := Finding{Start: 5, End: 5}
	Widen(&f, src)
	if got := string(src[f.Start:f.End]); got != "undefinedName" {
		t.Errorf("widened to %q", got)
	}
	f = Finding{Start: 19, End: 19}
	Widen(&f, src)
	if got := string(src[f.Start:f.End]); got != "+" {
		t.Errorf("widened to %q, want one character", got)
	}
}
