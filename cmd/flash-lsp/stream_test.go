package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// streamProgram streams from the streaming example's handlers through the
// generated typed clients and prints one line per check.
const streamProgram = `package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"example.com/streaming/flashclient/stream-api"
	"example.com/streaming/flashclient/stream-jobs"
	"github.com/flash-lsp/flash-lsp/runtime"
)

func main() {
	ctx := context.Background()
	var api stream_api.Client
	jobs := stream_jobs.Client{Caller: runtime.Caller{PollInterval: 5 * time.Millisecond}}

	// 10,000 small values, in order.
	n, bad := 0, 0
	for tok, err := range api.Generate(ctx, "p", 10000) {
		if err != nil {
			fmt.Println("generate: error", err)
			os.Exit(1)
		}
		if tok.I != n || tok.Text != fmt.Sprintf("p-%d", n) {
			bad++
		}
		n++
	}
	fmt.Printf("generate: %d values, %d out of order\n", n, bad)

	// 100 values 10 ms apart arrive as produced.
	start := time.Now()
	var first, last time.Duration
	n = 0
	for v, err := range api.Count(ctx, 100, 10) {
		if err != nil || v != n {
			fmt.Println("count: error", v, err)
			os.Exit(1)
		}
		if n == 0 {
			first = time.Since(start)
		}
		last = time.Since(start)
		n++
	}
	fmt.Printf("count: %d values, first within 20ms: %v, spread over 900ms: %v\n", n, first <= 20*time.Millisecond, last-first >= 900*time.Millisecond)
	fmt.Fprintf(os.Stderr, "count: first value after %v, last after %v\n", first, last)

	// A mid-stream error comes last.
	n = 0
	for _, err := range api.Failing(ctx, 3) {
		if err != nil {
			var re *runtime.RemoteError
			fmt.Printf("failing: %d values, then RemoteError %v: %s\n", n, errors.As(err, &re), re.Message)
			break
		}
		n++
	}

	// Breaking the loop stops the request.
	n = 0
	for _, err := range api.Count(ctx, 1000000, 1) {
		if err != nil {
			fmt.Println("break: error", err)
			os.Exit(1)
		}
		if n++; n == 5 {
			break
		}
	}
	fmt.Println("break: stopped after 5")

	// A queue job streams its frames through /run and /stream/{id}.
	n = 0
	for f, err := range jobs.Frames(ctx, 20, 5) {
		if err != nil || f.N != n {
			fmt.Println("frames: error", f, err)
			os.Exit(1)
		}
		n++
	}
	fmt.Printf("frames: %d values\n", n)

	// Breaking the loop cancels the job.
	n = 0
	for _, err := range jobs.Frames(ctx, 1000000, 2) {
		if err != nil {
			fmt.Println("frames-break: error", err)
			os.Exit(1)
		}
		if n++; n == 5 {
			break
		}
	}
	fmt.Println("frames-break: stopped after 5")
}
`

var wantStreamLines = []string{
	"generate: 10000 values, 0 out of order",
	"count: 100 values, first within 20ms: true, spread over 900ms: true",
	"failing: 3 values, then RemoteError true: internal error in Failing", // a deployed resource keeps the detail in its log
	"break: stopped after 5",
	"frames: 20 values",
	"frames-break: stopped after 5",
}

// stopHandler sends SIGTERM, waits for the handler to exit and returns its
// log (stderr).
func stopHandler(t *testing.T, h *handlerProc) string {
	t.Helper()
	h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup
	case <-time.After(30 * time.Second):
		t.Fatal("handler did not exit after SIGTERM")
	}
	return h.stderr.String()
}

// requestLogs are the request records of a handler's log.
func requestLogs(log string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(log, "\n") {
		var r map[string]any
		if json.Unmarshal([]byte(line), &r) == nil && r["msg"] == "request" {
			out = append(out, r)
		}
	}
	return out
}

// TestStreamingEndToEnd builds the streaming example's handlers, serves
// them on loopback and streams through the generated typed clients: 10,000
// values, values that arrive as produced, a mid-stream error, a loop that
// breaks (the server's request ends with it; a queue job is cancelled),
// and a queue job's frames. A long queue job's progress shows on
// GET /status/{id}.
func TestStreamingEndToEnd(t *testing.T) {
	mod := cgCopyModule(t, "streaming")
	if r := cgRun(t, mod, nil, "generate"); r.code != 0 {
		t.Fatalf("generate: exit %d\n%s", r.code, r.stderr)
	}
	r := cgRun(t, mod, nil, "build", "--keep-build", "--goos", goruntime.GOOS, "--goarch", goruntime.GOARCH)
	if r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.stderr)
	}
	bin := func(dir string) string { return filepath.Join(mod, ".flash", ".build", "bin", dir) }
	api := startHandler(t, bin("stream-api"))
	jobs := startHandler(t, bin("stream-jobs"))

	// Progress of a queue job, as /status/{id} shows it while it runs.
	resp, err := http.Post(jobs.base+"/run", "application/json",
		strings.NewReader(`{"input": {"function_name": "Render", "kwargs": {"steps": 50, "stepMS": 20}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var run struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&run)
	resp.Body.Close()
	var progress string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get(jobs.base + "/status/" + run.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), `"status":"IN_PROGRESS","output":{"done":`) {
			progress = string(b)
			break
		}
	}
	if progress == "" {
		t.Error("no progress on /status/{id} while the job ran")
	}

	dir := filepath.Join(mod, "cmd", "streamcheck")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(streamProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	program := filepath.Join(t.TempDir(), "streamcheck")
	build := exec.Command("go", "build", "-o", program, "./cmd/streamcheck")
	build.Dir = mod
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the stream program: %v\n%s", err, out)
	}
	cmd := exec.Command(program)
	cmd.Env = append(os.Environ(), "FLASH_ENDPOINT_URL_STREAM_API="+api.base, "FLASH_ENDPOINT_URL_STREAM_JOBS="+jobs.base)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("stream program: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	t.Logf("stream program: %s", stderr.String())
	got := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if strings.Join(got, "\n") != strings.Join(wantStreamLines, "\n") {
		t.Errorf("stream program printed:\n%s\nwant:\n%s", stdout.String(), strings.Join(wantStreamLines, "\n"))
	}

	// The broken-off /count request ended with the loop: its request log
	// (written when a stream ends) counts a handful of items, not 10^6.
	found := false
	for _, rec := range requestLogs(stopHandler(t, api)) {
		if rec["path"] != "/count" {
			continue
		}
		items, _ := rec["items"].(float64)
		if items >= 5 && items < 1000 {
			found = true
		}
	}
	if !found {
		t.Errorf("no request log of the broken-off /count stream (5 ≤ items < 1000)")
	}
	// The broken-off queue stream cancelled its job.
	cancelled := false
	for _, rec := range requestLogs(stopHandler(t, jobs)) {
		if p, _ := rec["path"].(string); strings.HasPrefix(p, "/cancel/") && rec["status"] == float64(200) {
			cancelled = true
		}
	}
	if !cancelled {
		t.Error("breaking the queue stream did not cancel its job (no POST /cancel/{id})")
	}

	checkWorkerStream(t, bin("stream-jobs"))
}

// checkWorkerStream runs the generated queue handler as a RunPod worker
// against a job server on loopback: a streaming job's values are posted to
// the stream webhook one by one, then its result once, with isStream=true.
func checkWorkerStream(t *testing.T, binary string) {
	t.Helper()
	type post struct{ path, isStream, body string }
	posts := make(chan post, 64)
	var taken atomic.Bool
	mux := http.NewServeMux()
	mux.HandleFunc("GET /job-take/{pod}", func(w http.ResponseWriter, r *http.Request) {
		if taken.Swap(true) {
			time.Sleep(20 * time.Millisecond)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, `{"id": "job-1", "input": {"function_name": "Frames", "kwargs": {"n": 4, "pauseMS": 1}}}`)
	})
	record := func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		posts <- post{r.URL.Path, r.URL.Query().Get("isStream"), string(b)}
	}
	mux.HandleFunc("POST /job-stream/{pod}/{job}", record)
	mux.HandleFunc("POST /job-done/{pod}/{job}", record)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(),
		"RUNPOD_WEBHOOK_GET_JOB="+srv.URL+"/job-take/$ID?gpu=A100",
		"RUNPOD_WEBHOOK_POST_OUTPUT="+srv.URL+"/job-done/$RUNPOD_POD_ID/$ID?gpu=A100",
		"RUNPOD_WEBHOOK_POST_STREAM="+srv.URL+"/job-stream/$RUNPOD_POD_ID/$ID?gpu=A100",
		"RUNPOD_POD_ID=pod-1", "RUNPOD_AI_API_KEY=key")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	var got []post
	for len(got) < 5 {
		select {
		case p := <-posts:
			got = append(got, p)
		case <-time.After(30 * time.Second):
			t.Fatalf("worker posted %d of 5: %+v", len(got), got)
		}
	}
	for i := range 4 {
		want := post{"/job-stream/pod-1/job-1", "false", fmt.Sprintf(`{"output":{"n":%d,"label":"frame"}}`, i)}
		if got[i] != want {
			t.Errorf("post %d: %+v, want %+v", i+1, got[i], want)
		}
	}
	final := post{"/job-done/pod-1/job-1", "true",
		`{"output":{"success":true,"result":[{"n":0,"label":"frame"},{"n":1,"label":"frame"},{"n":2,"label":"frame"},{"n":3,"label":"frame"}]}}`}
	if got[4] != final {
		t.Errorf("result post: %+v, want %+v", got[4], final)
	}
	select {
	case p := <-posts:
		t.Errorf("a post after the result: %+v", p)
	case <-time.After(100 * time.Millisecond):
	}
}
