package fix

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// TestApply: safe fixes are applied, others and overlapping edits are
// not, and a file that changed since it was analysed is left alone.
func TestApply(t *testing.T) {
	dir := t.TempDir()
	src := "//flash:remote API method=get path=/x/\n"
	a, b := filepath.Join(dir, "a.go"), filepath.Join(dir, "b.go")
	for _, name := range []string{a, b} {
		if err := os.WriteFile(name, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	at := func(file, old, repl, rule string) finding.Finding {
		i := strings.Index(src, old)
		return finding.Finding{Rule: rule, File: file, Start: i, End: i + len(old), Fixes: []finding.Fix{{
			Message: "fix", Edits: []finding.Edit{{File: file, Start: i, End: i + len(old), NewText: repl}}}}}
	}
	fs := []finding.Finding{
		at(a, "get", "GET", rules.BadMethod),
		at(a, "/x/", "/x", rules.BadPath),
		at(a, "get path", "", rules.RouteOnQueue),  // overlaps the first: skipped
		at(a, "API", "Api", rules.UnknownResource), // guesses a name: not safe
		at(b, "get", "GET", rules.BadMethod),
	}
	sums := map[string][sha256.Size]byte{a: sha256.Sum256([]byte(src)), b: sha256.Sum256([]byte("older"))}
	var skipped []string
	fixed, files, err := Apply(fs, func(n string) ([sha256.Size]byte, bool) { s, ok := sums[n]; return s, ok },
		func(n string) { skipped = append(skipped, n) })
	if err != nil {
		t.Fatal(err)
	}
	if fixed != 2 || files != 1 || len(skipped) != 1 || skipped[0] != b {
		t.Errorf("fixed %d findings in %d files, skipped %v", fixed, files, skipped)
	}
	if got, _ := os.ReadFile(a); string(got) != "//flash:remote API method=GET path=/x\n" {
		t.Errorf("a.go = %q", got)
	}
	if got, _ := os.ReadFile(b); string(got) != src {
		t.Errorf("b.go changed: %q", got)
	}
}
