package moduletest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/report"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// TestCompare shows that the harness fails on a missing finding, an extra
// one and one whose message does not match, and passes when they agree.
func TestCompare(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a.go")
	src := "package a\n\nvar A = 1\n\nvar B = 2\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	onLine := func(line int, msg string) finding.Finding {
		off := 0
		for range line - 1 {
			off += strings.IndexByte(src[off:], '\n') + 1
		}
		return finding.Finding{Rule: rules.RouteConflict, File: file, Start: off + 4, End: off + 5, Message: msg}
	}
	want := func(line int, re string) Want { return Want{File: file, Line: line, Re: regexp.MustCompile(re)} }
	tests := []struct {
		name  string
		got   []finding.Finding
		wants []Want
		fails []string // substrings of the problems, in order
	}{
		{"agree", []finding.Finding{onLine(3, "route x conflicts"), onLine(5, "route y conflicts")},
			[]Want{want(3, "x conflicts"), want(5, `y`)}, nil},
		{"missing", []finding.Finding{onLine(3, "route x conflicts")},
			[]Want{want(3, "x conflicts"), want(5, "y")}, []string{`a.go:5: no finding matched "y"`}},
		{"extra", []finding.Finding{onLine(3, "route x conflicts"), onLine(5, "route y conflicts")},
			[]Want{want(3, "x conflicts")}, []string{"a.go:5: unexpected finding: route y conflicts [route-conflict]"}},
		{"wrong line", []finding.Finding{onLine(3, "route x conflicts")},
			[]Want{want(5, "x conflicts")}, []string{"a.go:3: unexpected finding", `a.go:5: no finding matched`}},
		{"wrong message", []finding.Finding{onLine(3, "route x conflicts")},
			[]Want{want(3, "^y")}, []string{"a.go:3: unexpected finding", `a.go:3: no finding matched "^y"`}},
		{"one want per finding", []finding.Finding{onLine(3, "route x conflicts"), onLine(3, "route x conflicts")},
			[]Want{want(3, "x")}, []string{"a.go:3: unexpected finding"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			problems := Compare(tt.got, tt.wants, &report.Lines{})
			if len(problems) != len(tt.fails) {
				t.Fatalf("problems %q, want %d", problems, len(tt.fails))
			}
			for i, p := range problems {
				if !strings.Contains(p, tt.fails[i]) {
					t.Errorf("problem %q lacks %q", p, tt.fails[i])
				}
			}
		})
	}
}

// recorder is a TB that records failures instead of failing.
type recorder struct{ errors []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.errors = append(r.errors, "fatal: "+fmt.Sprintf(format, args...))
}

// TestRunFailsOnDroppedWant runs the harness end to end over a copy of the
// route-conflict module with one want comment removed: it must report the
// finding nobody expected.
func TestRunFailsOnDroppedWant(t *testing.T) {
	src := filepath.Join("..", "testdata", "src", "routeconflict")
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	err = filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch rel {
		case "go.mod":
			data = []byte(strings.Replace(string(data), "=> ../../../../..", "=> "+root, 1))
		case filepath.Join("b", "b.go"):
			data = []byte(strings.Replace(string(data), "// want +2 `route GET /items/\\{key\\}", "// (dropped)", 1))
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	var r recorder
	Run(&r, dir, rules.RouteConflict)
	if len(r.errors) != 1 || !strings.Contains(r.errors[0], "unexpected finding: route GET /items/{key} of Fetch") {
		t.Errorf("harness reported %q, want one unexpected finding for Fetch", r.errors)
	}
}
