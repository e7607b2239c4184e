package remote_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/remote"
)

// TestTokens checks that every diagnostic covers exactly its token, also
// after non-ASCII text and on CRLF lines, and in code gofmt has not touched
// (a directive that is not the last line of its doc comment).
// analysistest compares lines only, so this test reads the bytes between
// Pos and End.
func TestTokens(t *testing.T) {
	runtimeSrc, err := os.ReadFile(filepath.Join("testdata", "src", "github.com", "flash-lsp", "flash-lsp", "runtime", "runtime.go"))
	if err != nil {
		t.Fatal(err)
	}
	dir, cleanup, err := analysistest.WriteFiles(map[string]string{
		"github.com/flash-lsp/flash-lsp/runtime/runtime.go": string(runtimeSrc),
		"tok/tok.go": `package tok

import "github.com/flash-lsp/flash-lsp/runtime"

var API = runtime.LoadBalancer{Name: "ÄPI-ü", WorkersMin: -1} // want "WorkersMin must not be negative" API:"resource LoadBalancer"

// Café — déjà vu.
// want +1 "bad method" "path variable {nöpe}"
//flash:remote API method=gét path=/cafe/{nöpe}
// The directive is not the last line: any line of the doc comment counts.
func Café(ß int) {}

// want +1 "bad path"
//flash:remote API method=GET path=/ñ/{ü}
func Ñame(ü int, bad map[string]int) {} // want "parameter bad of Ñame"

// want +1 "unknown key \"pàth\""
//flash:remote API	 method=POST   pàth=/x
func Spaced() {}
`,
		"tok/crlf.go": "package tok\r\n\r\n// Crlf — ünïcode.\r\n// want +1 \"bad path\"\r\n//flash:remote API method=GET path=nöslash\r\nfunc Crlf() {}\r\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()

	results := analysistest.Run(t, dir, remote.Analyzer, "tok")
	var got []string
	for _, r := range results {
		for _, d := range r.Diagnostics {
			tf := r.Pass.Fset.File(d.Pos)
			src, err := os.ReadFile(tf.Name())
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, d.Category+" "+string(src[tf.Offset(d.Pos):tf.Offset(d.End)]))
			for _, fix := range d.SuggestedFixes {
				for _, e := range fix.TextEdits {
					got = append(got, "  fix "+string(src[tf.Offset(e.Pos):tf.Offset(e.End)])+" -> "+string(e.NewText))
				}
			}
		}
	}
	slices.Sort(got)
	want := []string{
		"bad-method gét",
		"bad-path nöslash",
		"path-param {nöpe}",
		"bad-path /ñ/{ü}",
		"  fix /ñ/{ü} -> /%C3%B1/{ü}",
		"query-param bad",
		"resource-config -1",
		"unknown-key pàth",
		"  fix nöslash -> /n%C3%B6slash",
		"  fix pàth -> path",
		"  fix GET -> POST",
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("tokens:\ngot  %q\nwant %q", got, want)
	}
}

// recorder is an analysistest.Testing that keeps the errors for the test to
// inspect.
type recorder struct{ errs []string }

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// TestSyntaxErrors runs the analyzer on files that do not parse: it must
// neither crash nor fail, and still describe what it could read.
func TestSyntaxErrors(t *testing.T) {
	runtimeSrc, err := os.ReadFile(filepath.Join("testdata", "src", "github.com", "flash-lsp", "flash-lsp", "runtime", "runtime.go"))
	if err != nil {
		t.Fatal(err)
	}
	dir, cleanup, err := analysistest.WriteFiles(map[string]string{
		"github.com/flash-lsp/flash-lsp/runtime/runtime.go": string(runtimeSrc),
		"syn/syn.go": `package syn

import "github.com/flash-lsp/flash-lsp/runtime"

var API = runtime.LoadBalancer{Name: "api"}

//flash:remote API method=GET path=/ok
func OK() {}

var Bad = runtime.LoadBalancer{Name: "bad", WorkersMax: }

//flash:remote API method=POST path=/half
func Half(x int, {

//flash:remote API method=POST path=/params
func Params(x int, y chan) (,) {}

//flash:remote
func
`,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	var rec recorder
	results := analysistest.Run(&rec, dir, remote.Analyzer, "syn")
	// Only the facts are expected: no finding comes from the parser's
	// guesses.
	for _, e := range rec.errs {
		if !strings.Contains(e, "unexpected fact") {
			t.Errorf("%s", e)
		}
	}
	if len(results) != 1 || results[0].Err != nil {
		t.Fatalf("results: %+v", results)
	}
	pkg := results[0].Result.(*model.Package)
	var names []string
	for _, fn := range pkg.Functions {
		names = append(names, fn.Name)
	}
	if len(names) == 0 || names[0] != "OK" {
		t.Errorf("functions %v, want OK first", names)
	}
}
