// Package moduletest runs the whole-module rules over a testdata module
// and compares their findings with the module's `// want` comments, as
// golang.org/x/tools/go/analysis/analysistest does for the per-package
// analyzers.
//
// A comment `// want "re" ...` expects, on its own line, one finding per
// regexp whose message the regexp matches; `// want +N "re"` expects them
// N lines below, for findings inside a directive, which cannot hold
// another comment. Regexps are Go string literals ("..." or `...`). Every
// finding of the rules under test must be expected and every expectation
// met: a missing or an extra finding fails the test.
package moduletest

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/project"
	"github.com/flash-lsp/flash-lsp/analysis/report"
)

// TB is the part of testing.TB the harness uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Run loads the module in dir (the flash-lsp loader, the whole pipeline of
// `flash-lsp check`) and compares its findings of the given rules with the
// module's want comments. It returns the findings.
func Run(t TB, dir string, rules ...string) []finding.Finding {
	t.Helper()
	p, err := project.Load(context.Background(), project.Config{Dir: dir})
	if err != nil {
		t.Fatalf("loading %s: %v", dir, err)
		return nil
	}
	wants, err := Wants(dir)
	if err != nil {
		t.Fatalf("reading want comments: %v", err)
		return nil
	}
	var got []finding.Finding
	for _, f := range p.Findings {
		if slices.Contains(rules, f.Rule) {
			got = append(got, f)
		}
	}
	for _, problem := range Compare(got, wants, &report.Lines{}) {
		t.Errorf("%s", problem)
	}
	return got
}

// A Want is one expected finding.
type Want struct {
	File string // absolute
	Line int
	Re   *regexp.Regexp
}

// Wants reads the want comments of every .go file below dir.
func Wants(dir string) ([]Want, error) {
	var wants []Want
	fset := token.NewFileSet()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
			return err
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, abs, nil, parser.ParseComments|parser.SkipObjectResolution)
		if f == nil {
			return err
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				ws, err := parseWant(fset, c)
				if err != nil {
					return err
				}
				wants = append(wants, ws...)
			}
		}
		return nil
	})
	return wants, err
}

// parseWant reads one comment: nothing unless it is a want comment.
func parseWant(fset *token.FileSet, c *ast.Comment) ([]Want, error) {
	text, ok := strings.CutPrefix(c.Text, "//")
	if !ok {
		return nil, nil
	}
	text, ok = strings.CutPrefix(strings.TrimSpace(text), "want ")
	if !ok {
		return nil, nil
	}
	pos := fset.Position(c.Pos())
	line := pos.Line
	text = strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(text, "+"); ok {
		n, after, _ := strings.Cut(rest, " ")
		k, err := strconv.Atoi(n)
		if err != nil {
			return nil, fmt.Errorf("%s: bad line offset in %q", pos, c.Text)
		}
		line += k
		text = strings.TrimSpace(after)
	}
	var out []Want
	for text != "" {
		lit, err := strconv.QuotedPrefix(text)
		if err != nil {
			return nil, fmt.Errorf("%s: want expects string literals: %q", pos, text)
		}
		s, _ := strconv.Unquote(lit)
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pos, err)
		}
		out = append(out, Want{File: pos.Filename, Line: line, Re: re})
		text = strings.TrimSpace(text[len(lit):])
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: want comment without a regexp", pos)
	}
	return out, nil
}

// Compare matches findings with wants on the same line of the same file,
// each want consuming one finding whose message it matches, and returns
// one problem per finding nobody expected and per expectation nothing
// met; nil when they agree. lines converts the findings' offsets.
func Compare(got []finding.Finding, wants []Want, lines *report.Lines) []string {
	used := make([]bool, len(wants))
	var problems []string
	for _, f := range got {
		line := lines.Position(f.File, f.Start).Line
		matched := false
		for i, w := range wants {
			if !used[i] && w.File == f.File && w.Line == line && w.Re.MatchString(f.Message) {
				used[i], matched = true, true
				break
			}
		}
		if !matched {
			problems = append(problems, fmt.Sprintf("%s:%d: unexpected finding: %s [%s]", f.File, line, f.Message, f.Rule))
		}
	}
	for i, w := range wants {
		if !used[i] {
			problems = append(problems, fmt.Sprintf("%s:%d: no finding matched %q", w.File, w.Line, w.Re))
		}
	}
	return problems
}
