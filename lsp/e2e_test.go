package lsp

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

// TestBinaryOnBrokenProject builds the flash-lsp binary and runs a stdio
// session on testdata/projects/broken, as an editor would.
func TestBinaryOnBrokenProject(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	root := repoRoot(t)
	project := filepath.Join(root, "testdata", "projects", "broken")
	if _, err := os.Stat(filepath.Join(project, "go.mod")); err != nil {
		t.Skipf("no broken project: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "flash-lsp")
	build := exec.Command("go", "build", "-o", bin, "./cmd/flash-lsp")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	logPath := filepath.Join(t.TempDir(), "flash-lsp.log")
	var stderr bytes.Buffer
	c, cmd := startServe(t, bin, logPath, &stderr)
	c.initialize(project)

	api := filepath.Join(project, "api", "api.go")
	c.open(api, 1)
	pub := c.waitDiags(api, 120*time.Second, func(p protocol.PublishDiagnosticsParams) bool {
		return p.Version == 1 && len(p.Diagnostics) > 0
	})
	for _, code := range []string{"directive-syntax", "unknown-key", "misplaced-directive", "unknown-resource",
		"not-a-resource", "missing-route", "route-on-queue", "bad-method", "bad-path", "reserved-path",
		"path-param", "query-param", "signature", "unexported", "generic"} {
		if !hasCode(pub.Diagnostics, code) {
			t.Errorf("api.go lacks %s: %s", code, describeDiags(pub.Diagnostics))
		}
	}
	for _, d := range pub.Diagnostics {
		if d.Source == "" || d.Code == nil {
			t.Errorf("diagnostic without source or code: %+v", d)
		}
	}
	// Whole-module rules reach files nobody opened.
	left := filepath.Join(project, "left", "left.go")
	lp := c.waitDiags(left, 30*time.Second, func(p protocol.PublishDiagnosticsParams) bool {
		return hasCode(p.Diagnostics, "route-conflict")
	})
	for _, d := range lp.Diagnostics {
		if d.Code == "route-conflict" && (len(d.RelatedInformation) == 0 ||
			!strings.HasSuffix(string(d.RelatedInformation[0].Location.URI), "right/right.go")) {
			t.Errorf("route-conflict in left.go: related %+v, want right.go", d.RelatedInformation)
		}
	}
	compile := filepath.Join(project, "compile", "compile.go")
	cp := c.waitDiags(compile, 30*time.Second, func(p protocol.PublishDiagnosticsParams) bool {
		return hasCode(p.Diagnostics, "compile")
	})
	if !hasCode(cp.Diagnostics, "bad-method") {
		t.Errorf("compile.go: flash findings must survive type errors: %s", describeDiags(cp.Diagnostics))
	}

	// A directive in a test file is misplaced (generated handlers cannot
	// import test code); it is reported once.
	apiTest := filepath.Join(project, "api", "api_test.go")
	tp := c.waitDiags(apiTest, 30*time.Second, func(p protocol.PublishDiagnosticsParams) bool {
		return hasCode(p.Diagnostics, "misplaced-directive")
	})
	if len(tp.Diagnostics) != 1 {
		t.Errorf("api_test.go: %s, want one misplaced-directive", describeDiags(tp.Diagnostics))
	}

	// The server registered its file watchers dynamically.
	c.mu.Lock()
	reqs := strings.Join(c.requests, " ")
	c.mu.Unlock()
	if !strings.Contains(reqs, protocol.MethodClientRegisterCapability) {
		t.Errorf("no client/registerCapability request; got %q", reqs)
	}

	if err := c.call(protocol.MethodShutdown, nil, nil); err != nil {
		t.Fatal(err)
	}
	c.notify(protocol.MethodExit, nil)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("flash-lsp serve exited with %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("flash-lsp serve did not exit")
	}
	// The log went to --logfile, not to stderr (and never to stdout, which
	// the client would have choked on).
	logged, err := os.ReadFile(logPath)
	if err != nil || !strings.Contains(string(logged), "analysed "+project) {
		t.Errorf("log file: %v\n%s", err, logged)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr not empty with --logfile:\n%s", stderr.String())
	}
}

// startServe starts `bin serve --stdio --logfile logPath`, its stderr
// going to stderr (nil: discarded), and returns a client on its stdio.
// The process is killed when the test ends.
func startServe(t *testing.T, bin, logPath string, stderr io.Writer) (*client, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--stdio", "--logfile", logPath)
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return newClient(t, pipeConn{stdout, stdin}), cmd
}

// pipeConn joins a child's stdout and stdin.
type pipeConn struct {
	r io.ReadCloser
	w io.WriteCloser
}

func (p pipeConn) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p pipeConn) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p pipeConn) Close() error {
	p.w.Close()
	return p.r.Close()
}
