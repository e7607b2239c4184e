package runtime

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary play a handler binary: with
// FLASH_RUNTIME_TEST_CHILD set it runs ServeLoadBalancer or ServeQueue,
// as a generated main does, and exits with 0 on a nil error.
func TestMain(m *testing.M) {
	switch os.Getenv("FLASH_RUNTIME_TEST_CHILD") {
	case "":
		os.Exit(m.Run())
	case "lb":
		exitWith(ServeLoadBalancer(App{Resource: LiveLoadBalancer{Name: "api"}, Functions: append(childFunctions(), selfCall("api", true)), Manifest: []byte(`{"version":"1.0"}`)}))
	case "queue":
		exitWith(ServeQueue(App{Resource: Serverless{Name: "jobs"}, Functions: append(childFunctions(), selfCall("jobs", false))}))
	case "worker":
		exitWith(serveHarnessWorker())
	}
}

func exitWith(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// childFunctions are the test functions plus one that takes a while.
func childFunctions() []Function {
	return append(testFunctions(nil), Function{
		Name: "example.com/app/api.Sleep", Method: "GET", Path: "/sleep",
		Call: func(ctx context.Context, in *Input) (any, error) {
			time.Sleep(500 * time.Millisecond)
			return "slept", nil
		},
	}, Function{
		Name: "example.com/app/api.Hang", Method: "GET", Path: "/hang",
		Call: func(ctx context.Context, in *Input) (any, error) {
			time.Sleep(time.Minute) // ignores its context
			return "woke", nil
		},
	})
}

// selfCall is a function that calls ProcessData of its own resource
// through a Caller: the handler serves that resource, so the call must
// stay in the process (the Caller's HTTP client refuses the network).
func selfCall(resource string, loadBalanced bool) Function {
	fn := &RemoteFunc{Resource: resource, LoadBalanced: loadBalanced, Name: "example.com/app/api.ProcessData",
		Method: "POST", Path: "/api/process", Params: []string{"x", "y"}}
	return Function{
		Name: "example.com/app/api.Self", Method: "GET", Path: "/self",
		Call: func(ctx context.Context, in *Input) (any, error) {
			c := &Caller{HTTPClient: &http.Client{Transport: failingTransport{}}}
			var s sumResult
			err := c.Call(ctx, fn, []any{2, 3}, &s)
			return s, err
		},
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// startChild runs the test binary as a handler process.
func startChild(t *testing.T, mode string, env ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append([]string{"FLASH_RUNTIME_TEST_CHILD=" + mode, "HOST=127.0.0.1"}, env...)...)
	stderr := new(strings.Builder)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, stderr
}

func waitExit(t *testing.T, cmd *exec.Cmd, within time.Duration, stderr *strings.Builder) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\nstderr:\n%s", err, stderr)
		}
	case <-time.After(within):
		t.Fatalf("no exit within %v after SIGTERM", within)
	}
}

func waitUp(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not up within 10s", url)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeLoadBalancerProcess: the real entry point, environment and
// signal handling; SIGTERM while a request runs lets it finish, then the
// process exits 0.
func TestServeLoadBalancerProcess(t *testing.T) {
	port, health := freePort(t), freePort(t)
	cmd, stderr := startChild(t, "lb", "PORT="+port, "PORT_HEALTH="+health, "FLASH_SHUTDOWN_TIMEOUT=5s",
		"FLASH_IS_MOTHERSHIP=true", "FLASH_MAX_BODY_BYTES=100")
	base := "http://127.0.0.1:" + port
	waitUp(t, "http://127.0.0.1:"+health+"/ping")
	waitUp(t, base+"/ping")

	if a := send(t, "GET", base+"/manifest", ""); a.status != 200 || a.body != `{"version":"1.0"}` {
		t.Errorf("/manifest with FLASH_IS_MOTHERSHIP=true: %d %s", a.status, a.body)
	}
	if a := send(t, "POST", base+"/execute", `{"function_name": "ProcessData", "args": [1, 2]}`); !strings.Contains(a.body, `"result":{"sum":3}`) {
		t.Errorf("/execute on a live resource: %d %s", a.status, a.body)
	}
	if a := send(t, "GET", base+"/self", ""); a.status != 200 || strings.TrimSpace(a.body) != `{"sum":5}` {
		t.Errorf("a call to the handler's own resource, in process: %d %s", a.status, a.body)
	}
	if a := send(t, "POST", base+"/api/process", `{"x": 1, "y": 2, "pad": "`+strings.Repeat("z", 100)+`"}`); a.status != 413 {
		t.Errorf("FLASH_MAX_BODY_BYTES=100: %d", a.status)
	}

	got := make(chan answer, 1)
	go func() { got <- send(t, "GET", base+"/sleep", "") }()
	time.Sleep(100 * time.Millisecond) // let the request reach the function
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 5*time.Second, stderr)
	if a := <-got; a.status != 200 || !strings.Contains(a.body, "slept") {
		t.Errorf("in-flight request across SIGTERM: %d %s", a.status, a.body)
	}
	t.Logf("exited %v after SIGTERM", time.Since(start))
	if !strings.Contains(stderr.String(), `"msg":"request"`) || !strings.Contains(stderr.String(), `"path":"/api/process"`) {
		t.Errorf("no structured request log on stderr:\n%s", stderr)
	}
}

func TestServeLoadBalancerBadEnv(t *testing.T) {
	cmd, stderr := startChild(t, "lb", "PORT=eighty")
	err := cmd.Wait()
	if err == nil || !strings.Contains(stderr.String(), `PORT="eighty": want a port number`) {
		t.Errorf("exit %v, stderr %s", err, stderr)
	}
}

func TestServeQueueProcess(t *testing.T) {
	t.Run("local API", func(t *testing.T) {
		port := freePort(t)
		cmd, stderr := startChild(t, "queue", "PORT="+port)
		base := "http://127.0.0.1:" + port
		waitUp(t, base+"/ping")
		if a := send(t, "POST", base+"/runsync", `{"input": {"function_name": "ProcessData", "args": [2, 3]}}`); !strings.Contains(a.body, `"output":{"success":true,"result":{"sum":5}}`) {
			t.Errorf("/runsync: %s", a.body)
		}
		if a := send(t, "POST", base+"/runsync", `{"input": {"function_name": "Self"}}`); !strings.Contains(a.body, `"output":{"success":true,"result":{"sum":5}}`) {
			t.Errorf("a job calling its own resource, in process: %s", a.body)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitExit(t, cmd, 5*time.Second, stderr)
	})
	t.Run("RunPod worker", func(t *testing.T) {
		f := newFakeRunPod(t, `{"id": "p1", "input": {"function_name": "ProcessData", "args": [4, 4]}}`,
			`{"id": "p2", "input": {"function_name": "Sleep"}}`)
		var env []string
		for k, v := range f.env() {
			env = append(env, k+"="+v)
		}
		cmd, stderr := startChild(t, "queue", append(env, "FLASH_SHUTDOWN_TIMEOUT=5")...)
		f.wait(t, 1) // p1
		time.Sleep(100 * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitExit(t, cmd, 5*time.Second, stderr)
		f.mu.Lock()
		defer f.mu.Unlock()
		if got := f.results["p1"].body; got != `{"output":{"success":true,"result":{"sum":8}}}` {
			t.Errorf("p1: %s", got)
		}
		if got := f.results["p2"].body; got != `{"output":{"success":true,"result":"slept"}}` {
			t.Errorf("p2, in progress at SIGTERM: %q", got)
		}
	})
}

// TestServeSIGINT: SIGINT stops both handler kinds as SIGTERM does
// (SPEC section 8): in-flight work finishes, the process exits 0.
func TestServeSIGINT(t *testing.T) {
	for _, mode := range []string{"lb", "queue"} {
		t.Run(mode, func(t *testing.T) {
			port := freePort(t)
			cmd, stderr := startChild(t, mode, "PORT="+port, "FLASH_SHUTDOWN_TIMEOUT=5", "FLASH_DRAIN_GRACE=0")
			base := "http://127.0.0.1:" + port
			waitUp(t, base+"/ping")
			path, body := "/sleep", ""
			if mode == "queue" {
				path, body = "/runsync", `{"input": {"function_name": "Sleep"}}`
			}
			method := "GET"
			if body != "" {
				method = "POST"
			}
			got := make(chan answer, 1)
			go func() { got <- send(t, method, base+path, body) }()
			time.Sleep(100 * time.Millisecond) // let the request reach the function
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			waitExit(t, cmd, 5*time.Second, stderr)
			if a := <-got; a.status != 200 || !strings.Contains(a.body, "slept") {
				t.Errorf("in-flight request across SIGINT: %d %s", a.status, a.body)
			}
		})
	}
}
