package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunAll: run --all serves every quickstart resource under its prefix
// in one process, prints the route table, lets report.Summarize reach
// test-api and jobs in process (no endpoint is configured), answers the
// typed clients under the prefixes, and stops cleanly on Ctrl-C.
func TestRunAll(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	port := freePort(t)
	cmd := exec.Command(cgBinary(t), "run", "--all", "-C", mod, "--port", fmt.Sprint(port))
	cmd.Dir = t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FLASH_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
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
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	h := &handlerProc{cmd: cmd, base: base, done: done}
	waitPing(t, base, done, stderr)

	out := stderr.String()
	for _, want := range []string{
		fmt.Sprintf("✓ Serving 4 resources on %s (Ctrl-C to stop)", base),
		"    GET  /test-api/items/{id}                   curl -X GET '" + base + "/test-api/items/example?verbose=true'",
		"    POST /03_05_load_balancer_cpu/validate      curl -X POST '" + base + "/03_05_load_balancer_cpu/validate' -H 'Content-Type: application/json' -d '{\"text\":\"example\"}'",
		"    POST /jobs/runsync ",
		"  03_05_load_balancer_gpu\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("run --all output lacks %q:\n%s", want, out)
		}
	}

	// Every route under its prefix, live behaviour on.
	h.expect(t, "GET", "/03_05_load_balancer_cpu/health", "", 200, `{"status":"healthy","worker":"cpu"}`)
	h.expect(t, "POST", "/03_05_load_balancer_cpu/validate", `{"text":"hi there"}`, 200, `{"valid":true,"words":2}`)
	h.expect(t, "POST", "/03_05_load_balancer_cpu/transform", `{"text":"abc","operation":"reverse"}`, 200, `{"result":"cba"}`)
	h.expect(t, "GET", "/03_05_load_balancer_gpu/health", "", 200, `{"worker":"gpu"}`)
	h.expect(t, "POST", "/03_05_load_balancer_gpu/compute", `{"numbers":[1,2,3]}`, 200, `{"count":3,"sum":6}`)
	h.expect(t, "GET", "/03_05_load_balancer_gpu/info", "", 200, `{"resource":"03_05_load_balancer_gpu"}`)
	h.expect(t, "GET", "/test-api/items/1", "", 200, `{"id":"1","name":"Widget"}`)
	h.expect(t, "GET", "/test-api/items/nope", "", 404, `{"error":"item \"nope\" not found"}`)
	h.expect(t, "POST", "/test-api/execute", `{"function_name":"GetItem","args":["3"]}`, 200, `{"success":true,"result":{"name":"Gizmo"}}`)
	h.expect(t, "GET", "/test-api/manifest", "", 200, `{"project_name":"quickstart"}`)
	h.expect(t, "GET", "/test-api/openapi.json", "", 200, `{"openapi":"3.1.0","info":{"title":"test-api"}}`)
	h.expect(t, "GET", "/03_05_load_balancer_gpu/openapi.json", "", 200, `{"info":{"title":"03_05_load_balancer_gpu"}}`)
	h.expect(t, "GET", "/jobs/openapi.json", "", 404, "") // queue resources have none
	h.expect(t, "POST", "/jobs/runsync", `{"input":{"function_name":"Reverse","args":["abc"]}}`, 200,
		`{"status":"COMPLETED","output":{"success":true,"result":"cba"}}`)
	h.expect(t, "GET", "/nope/x", "", 404, "")
	// A function on one resource calling two others through their clients,
	// in process: no FLASH_ENDPOINT_* is set.
	h.expect(t, "GET", "/03_05_load_balancer_cpu/summary/2", "", 200,
		`{"item":{"name":"Gadget"},"words":{"words":3,"top":["a","gadget","useful"]}}`)
	h.expect(t, "GET", "/03_05_load_balancer_cpu/summary/9", "", 404, `{"error":"item \"9\" not found"}`)
	// Request logs are flushed every 100 ms.
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(stderr.String(), `"remote":"in-process"`); {
		if time.Now().After(deadline) {
			t.Error("no request was served in process")
			break
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The typed clients, pointed at the prefixes.
	program := buildClientProgram(t, mod)
	runClientProgram(t, program, []string{
		"FLASH_ENDPOINT_URL_TEST_API=" + base + "/test-api",
		"FLASH_ENDPOINT_URL_JOBS=" + base + "/jobs",
		"FLASH_ENDPOINT_URL_03_05_LOAD_BALANCER_CPU=" + base + "/03_05_load_balancer_cpu",
		"FLASH_ENDPOINT_URL_03_05_LOAD_BALANCER_GPU=" + base + "/03_05_load_balancer_gpu",
	})

	cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run --all exited with %v after SIGINT\n%s", err, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("run --all did not exit after SIGINT\n%s", stderr)
	}
	if resp, err := http.Get(base + "/ping"); err == nil {
		resp.Body.Close()
		t.Error("still serving after run --all exited")
	}
	if _, err := os.Stat(mod + "/.flash/.build/all"); !os.IsNotExist(err) {
		t.Errorf("run --all left its source behind: %v", err)
	}
}
