package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a process writing while the test
// reads it.
type syncBuffer struct {
	mu chan struct{}
	b  bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.b.String()
}

// TestRunServesLive: run serves a deployed resource locally with live
// behaviour (/execute on), takes flags after the resource, and stops
// cleanly on Ctrl-C.
func TestRunServesLive(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	port := freePort(t)
	cmd := exec.Command(cgBinary(t), "run", "-C", mod, "test-api", "--port", fmt.Sprint(port))
	cmd.Dir = t.TempDir()
	stderr := newSyncBuffer()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	h := &handlerProc{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), done: done}
	waitPing(t, h.base, done, stderr)
	if !strings.Contains(stderr.String(), fmt.Sprintf("✓ Serving test-api on http://127.0.0.1:%d", port)) {
		t.Errorf("run stderr lacks the serving line:\n%s", stderr)
	}
	h.expect(t, "GET", "/items/3", "", 200, `{"id":"3","name":"Gizmo"}`)
	h.expect(t, "GET", "/openapi.json", "", 200, string(mustRead(t, filepath.Join(mod, ".flash", "openapi", "test-api.json"))))
	h.expect(t, "POST", "/execute", `{"function_name":"GetItem","args":["2"],"kwargs":{"verbose":true}}`, 200,
		`{"success":true,"result":{"name":"Gadget","description":"A useful gadget."}}`)

	// Ctrl-C: flash-lsp forwards it, the handler drains and exits 0.
	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run exited with %v after SIGINT\n%s", err, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("run did not exit after SIGINT\n%s", stderr)
	}
	if resp, err := http.Get(h.base + "/ping"); err == nil {
		resp.Body.Close()
		t.Error("the handler still serves after run exited")
	}
	// The deployed handler on disk is not the live variant.
	src, _ := os.ReadFile(mod + "/.flash/handlers/test-api/main.go")
	if strings.Contains(string(src), "runtime.LiveLoadBalancer(") || !strings.Contains(string(src), " res.API,") {
		t.Error("run changed the deployed handler")
	}
}

func TestRunUsage(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--all", "jobs"}, "--all serves every resource: drop \"jobs\""},
		{[]string{"run", "--all", "--port", "0"}, "not a TCP port"},
		{[]string{"run"}, "exactly one RESOURCE"},
		{[]string{"run", "a", "b"}, "exactly one RESOURCE"},
		{[]string{"run", "x", "--port", "70000"}, "not a TCP port"},
		{[]string{"run", "nope"}, "no resource \"nope\"; resources: 03_05_load_balancer_cpu, 03_05_load_balancer_gpu, jobs, test-api"},
		{[]string{"build", "-o", "../x.tar.gz"}, "must be a file name"},
		{[]string{"build", "-o", "deploy.json"}, "taken by a file of flash-lsp's own"},
		{[]string{"generate", "extra"}, "unexpected argument"},
		{[]string{"build", "--nope"}, "flag provided but not defined"},
		{[]string{"version", "--json"}, "unexpected argument"},
		{[]string{"--nope"}, "flag provided but not defined"},
	} {
		r := cgRun(t, mod, nil, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("flash-lsp %s: exit %d, want 2 with %q\n%s", strings.Join(c.args, " "), r.code, c.want, r.stderr)
		}
	}
	// Usage errors write nothing.
	if _, err := os.Stat(filepath.Join(mod, ".flash")); !os.IsNotExist(err) {
		t.Errorf("a usage error wrote .flash: %v", err)
	}
}

// TestServeFlagsWithoutServe: serve is the default command, so its flags
// work without the word serve when stdin is not a terminal.
func TestServeFlagsWithoutServe(t *testing.T) {
	log := filepath.Join(t.TempDir(), "server.log")
	r := cgRun(t, t.TempDir(), nil, "--logfile", log) // stdin: /dev/null, EOF at once
	if r.code == 2 || strings.Contains(r.stderr, "unknown command") {
		t.Fatalf("flash-lsp --logfile: exit %d, want the language server\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(log); err != nil {
		t.Errorf("flash-lsp --logfile did not open its log: %v", err)
	}
}
