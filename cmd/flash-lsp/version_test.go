package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestPickVersion(t *testing.T) {
	for _, c := range []struct{ linked, build, want string }{
		{"v0.2.0", "v0.1.0", "v0.2.0"}, // -ldflags wins
		{"devel", "v0.1.3", "v0.1.3"},  // go install …@v0.1.3
		{"devel", "(devel)", "devel"},  // go build in a checkout
		{"devel", "", "devel"},         // no build info
		{"", "v0.1.0-rc.1", "v0.1.0-rc.1"},
	} {
		if got := pickVersion(c.linked, func() string { return c.build }); got != c.want {
			t.Errorf("pickVersion(%q, %q) = %q, want %q", c.linked, c.build, got, c.want)
		}
	}
}

// TestVersionLinked builds the binary with a linker-set version, as a
// release does, and reads it back from `flash-lsp version`.
func TestVersionLinked(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "flash-lsp")
	build := exec.Command("go", "build", "-ldflags", "-X main.version=v0.0.9", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != "flash-lsp v0.0.9" {
		t.Errorf("flash-lsp version = %q, want \"flash-lsp v0.0.9\"", got)
	}
}
