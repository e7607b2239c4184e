package remote_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

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
