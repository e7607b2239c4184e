package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
)

// clientProgram calls every function of the quickstart through the
// generated typed clients and prints one line per call: the result's JSON,
// or the error's type, status and message.
const clientProgram = `package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	cpu "example.com/quickstart/flashclient/03_05_load_balancer_cpu"
	gpu "example.com/quickstart/flashclient/03_05_load_balancer_gpu"
	"example.com/quickstart/flashclient/jobs"
	catalogue "example.com/quickstart/flashclient/test-api"
	"github.com/flash-lsp/flash-lsp/runtime"
)

func show(name string, v any, err error) {
	if err != nil {
		var he *runtime.HTTPError
		if errors.As(err, &he) {
			fmt.Printf("%s: HTTPError %d %s\n", name, he.StatusCode, he.Message)
			return
		}
		var re *runtime.RemoteError
		if errors.As(err, &re) {
			fmt.Printf("%s: RemoteError %s\n", name, re.Message)
			return
		}
		fmt.Printf("%s: error %v\n", name, err)
		return
	}
	data, _ := json.Marshal(v)
	fmt.Printf("%s: %s\n", name, data)
}

func main() {
	ctx := context.Background()
	yes := true
	reverse, bogus := "reverse", "bogus"
	var api catalogue.Client
	var c cpu.Client
	var g gpu.Client
	var q jobs.Client

	v, err := api.GetItem(ctx, "2", &yes)
	show("get-verbose", v, err)
	v, err = api.GetItem(ctx, "3", nil)
	show("get", v, err)
	v, err = api.GetItem(ctx, "a/b", nil)
	show("get-missing", v, err)

	h, err := c.HealthCheck(ctx)
	show("health", h, err)
	val, err := c.Validate(ctx, "hello world")
	show("validate", val, err)
	tr, err := c.Transform(ctx, "abc", &reverse)
	show("transform", tr, err)
	tr, err = c.Transform(ctx, "abc", &bogus)
	show("transform-bogus", tr, err)
	sum, err := c.Summarize(ctx, "1")
	show("summarize", sum, err)
	sum, err = c.Summarize(ctx, "9")
	show("summarize-missing", sum, err)

	st, err := g.Compute(ctx, []float64{1, 2, 3})
	show("compute", st.Sum, err)
	st, err = g.Compute(ctx, nil)
	show("compute-nil", st, err)

	wc, err := q.WordCount(ctx, "b a b", nil)
	show("wordcount", wc, err)
	r, err := q.Reverse(ctx, "abc")
	show("reverse", r, err)

	// A server that accepts and never answers: the Caller's timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	slow := catalogue.Client{Caller: runtime.Caller{BaseURL: "http://" + ln.Addr().String(), Timeout: 300 * time.Millisecond}}
	start := time.Now()
	_, err = slow.GetItem(ctx, "1", nil)
	show("timeout", errors.Is(err, context.DeadlineExceeded) && time.Since(start) < 10*time.Second, nil)

	os.Exit(0)
}
`

// wantClientLines are the lines clientProgram prints against the
// quickstart's handlers.
var wantClientLines = []string{
	`get-verbose: {"id":"2","name":"Gadget","price":24.5,"tags":["tools","electronics"],"description":"A useful gadget."}`,
	`get: {"id":"3","name":"Gizmo","price":3}`,
	`get-missing: HTTPError 404 item "a/b" not found`,
	`health: {"status":"healthy","worker":"cpu"}`,
	`validate: {"valid":true,"length":11,"words":2,"issues":[]}`,
	`transform: {"original":"abc","result":"cba","operation":"reverse"}`,
	`transform-bogus: HTTPError 500 unknown operation: want uppercase, lowercase, title or reverse`,
	`summarize: {"item":{"id":"1","name":"Widget","price":9.99,"tags":["tools"],"description":"A small widget."},"words":{"words":3,"characters":15,"top":["a","small","widget"],"by_word":{"a":1,"small":1,"widget":1}}}`,
	`summarize-missing: HTTPError 404 item "9" not found`,
	`compute: 6`,
	`compute-nil: HTTPError 400 parameter "numbers": required parameter is missing`,
	`wordcount: {"words":3,"characters":5,"top":["b","a"],"by_word":{"a":1,"b":2}}`,
	`reverse: "cba"`,
	`timeout: true`,
}

// buildClientProgram writes clientProgram into the module and compiles it.
func buildClientProgram(t *testing.T, mod string) string {
	t.Helper()
	dir := filepath.Join(mod, "cmd", "clientcheck")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(clientProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "clientcheck")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/clientcheck")
	cmd.Dir = mod
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the client program: %v\n%s", err, out)
	}
	return bin
}

// runClientProgram runs it with env and compares its lines.
func runClientProgram(t *testing.T, bin string, env []string) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("client program: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	got := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	for i, want := range wantClientLines {
		if i >= len(got) {
			t.Errorf("missing line %q", want)
			continue
		}
		if got[i] != want {
			t.Errorf("line %d:\n got: %s\nwant: %s", i+1, got[i], want)
		}
	}
	if len(got) > len(wantClientLines) {
		t.Errorf("extra lines: %q", got[len(wantClientLines):])
	}
}

// TestTypedClientsOverLoopback builds the quickstart's handlers, serves
// each in its own process on loopback, and calls every route through the
// generated clients, which find the handlers through
// FLASH_ENDPOINT_URL_<SUFFIX>. The CPU handler's Summarize calls test-api
// and jobs through their clients too, over HTTP.
func TestTypedClientsOverLoopback(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	if r := cgRun(t, mod, nil, "generate", "--check"); r.code != 1 || strings.Contains(r.stdout, "flashclient/") {
		t.Fatalf("the committed quickstart clients are not current: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := cgRun(t, mod, nil, "build", "--keep-build", "--goos", goruntime.GOOS, "--goarch", goruntime.GOARCH)
	if r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.stderr)
	}
	bin := func(dir string) string { return filepath.Join(mod, ".flash", ".build", "bin", dir) }
	api := startHandler(t, bin("test-api"))
	jobs := startHandler(t, bin("jobs"))
	endpoints := []string{
		"FLASH_ENDPOINT_URL_TEST_API=" + api.base,
		"FLASH_ENDPOINT_URL_JOBS=" + jobs.base,
	}
	cpu := startHandler(t, bin("03_05_load_balancer_cpu"), endpoints...)
	gpu := startHandler(t, bin("03_05_load_balancer_gpu"))
	program := buildClientProgram(t, mod)
	runClientProgram(t, program, append(endpoints,
		"FLASH_ENDPOINT_URL_03_05_LOAD_BALANCER_CPU="+cpu.base,
		"FLASH_ENDPOINT_URL_03_05_LOAD_BALANCER_GPU="+gpu.base))
}
