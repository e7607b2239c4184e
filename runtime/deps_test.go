package runtime

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps runtime, which is linked into every handler binary,
// down to the standard library and gorilla/mux.
func TestImports(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(gotool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		switch pkg {
		case "github.com/flash-lsp/flash-lsp/runtime", "github.com/gorilla/mux":
		default:
			t.Errorf("runtime depends on %s: only the standard library and gorilla/mux are allowed", pkg)
		}
	}
}
