package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// queueFunctions are the test functions as a queue resource registers
// them: no routes, every parameter an "arg".
func queueFunctions(b *blocker) []Function {
	fns := testFunctions(b)
	for i := range fns {
		fns[i].Method, fns[i].Path = "", ""
		params := make([]Param, len(fns[i].Params))
		for j, p := range fns[i].Params {
			p.In = "arg"
			params[j] = p
		}
		fns[i].Params = params
	}
	return fns
}

func startQueue(t *testing.T, b *blocker, shutdownTimeout time.Duration) (base string, stop func() error) {
	t.Helper()
	s, err := NewQueueServer(App{Resource: Serverless{Name: "jobs"}, Functions: queueFunctions(b)})
	if err != nil {
		t.Fatal(err)
	}
	s.Logger = discardLogger()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveQueue(ctx, s, ln, shutdownTimeout) }()
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(shutdownTimeout + 10*time.Second):
				stopErr = errors.New("serveQueue did not return")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + ln.Addr().String(), stop
}

type jobAnswer struct {
	ID     string
	Status string
	Output *struct {
		Success   bool
		Result    json.RawMessage
		Error     string
		Traceback *string
	}
	Error string
}

func decodeJob(t *testing.T, a answer) jobAnswer {
	t.Helper()
	var j jobAnswer
	if err := json.Unmarshal([]byte(a.body), &j); err != nil {
		t.Fatalf("%s: %v", a.body, err)
	}
	return j
}

func TestQueueLocalAPI(t *testing.T) {
	base, _ := startQueue(t, nil, 5*time.Second)
	tests := []struct {
		name, body string
		result     string // exact result JSON on success
		errHas     string // substring of output.error otherwise
	}{
		{"args", `{"input": {"function_name": "ProcessData", "args": [5, 3]}}`, `{"sum":8}`, ""},
		{"kwargs, qualified", `{"input": {"function_name": "example.com/app/api.ProcessData", "kwargs": {"x": 1, "y": 1}}}`, `{"sum":2}`, ""},
		{"no result", `{"input": {"function_name": "Reset"}}`, `null`, ""},
		{"null input", `{"input": null}`, "", "input is null"},
		{"missing input", `{}`, "", "input is null"},
		{"string input", `{"input": "ProcessData"}`, "", "input must be a JSON object"},
		{"unknown function", `{"input": {"function_name": "Nope"}}`, "", "Function 'Nope' not found in registry. Available: ['example.com/app/api.BadJSON', 'example.com/app/api.DeleteItem', "},
		{"error", `{"input": {"function_name": "Fail", "args": [418]}}`, "", "wrapped: teapot trouble"},
		{"panic", `{"input": {"function_name": "Panic"}}`, "", "panic: assignment to entry in nil map"},
		{"bad args", `{"input": {"function_name": "ProcessData", "args": [1, "2"]}}`, "", `parameter "y": want a number`},
		{"class", `{"input": {"function_name": "ProcessData", "execution_type": "class"}}`, "", `execution_type "class" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, "POST", base+"/runsync", tt.body)
			if a.status != 200 {
				t.Fatalf("status %d: %s", a.status, a.body)
			}
			j := decodeJob(t, a)
			if j.Status != "COMPLETED" || !strings.HasPrefix(j.ID, "test-") || j.Output == nil {
				t.Fatalf("not a completed job: %s", a.body)
			}
			if tt.result != "" {
				if !j.Output.Success || string(j.Output.Result) != tt.result {
					t.Errorf("output %s, want result %s", a.body, tt.result)
				}
				return
			}
			if j.Output.Success || j.Output.Traceback == nil || !strings.Contains(j.Output.Error, tt.errHas) {
				t.Errorf("output %s, want success false with error containing %q", a.body, tt.errHas)
			}
		})
	}

	t.Run("run then status", func(t *testing.T) {
		a := send(t, "POST", base+"/run", `{"input": {"function_name": "ProcessData", "args": [2, 2]}}`)
		j := decodeJob(t, a)
		if a.status != 200 || j.Status != "IN_PROGRESS" || j.ID == "" {
			t.Fatalf("/run: %d %s", a.status, a.body)
		}
		for _, method := range []string{"GET", "POST"} {
			waitFor(t, func() bool {
				j = decodeJob(t, send(t, method, base+"/status/"+j.ID, ""))
				return j.Status == "COMPLETED"
			})
			if j.Output == nil || !j.Output.Success || string(j.Output.Result) != `{"sum":4}` {
				t.Errorf("%s /status: %+v", method, j)
			}
		}
	})
	t.Run("unknown job", func(t *testing.T) {
		a := send(t, "GET", base+"/status/test-nope", "")
		if a.status != 404 || !strings.Contains(a.body, `"error":"job \"test-nope\" not found"`) {
			t.Errorf("%d %s", a.status, a.body)
		}
	})
	t.Run("ping", func(t *testing.T) {
		if a := send(t, "GET", base+"/ping", ""); a.status != 200 {
			t.Errorf("%d %s", a.status, a.body)
		}
	})
	t.Run("bad request bodies", func(t *testing.T) {
		for _, body := range []string{`[1]`, `{"input": `, `"x"`} {
			if a := send(t, "POST", base+"/runsync", body); a.status != 400 || !strings.Contains(a.body, `"error"`) {
				t.Errorf("%s: %d %s", body, a.status, a.body)
			}
		}
	})
	t.Run("404 and 405", func(t *testing.T) {
		if a := send(t, "GET", base+"/nope", ""); a.status != 404 || !strings.Contains(a.body, `"error"`) {
			t.Errorf("%d %s", a.status, a.body)
		}
		if a := send(t, "GET", base+"/runsync", ""); a.status != 405 || a.header.Get("Allow") != "POST" {
			t.Errorf("%d %s", a.status, a.header.Get("Allow"))
		}
	})
}

// TestQueueLocalDrain: on shutdown a job started by /run still finishes.
func TestQueueLocalDrain(t *testing.T) {
	b := newBlocker()
	base, stop := startQueue(t, b, 5*time.Second)
	if j := decodeJob(t, send(t, "POST", base+"/run", `{"input": {"function_name": "Slow"}}`)); j.Status != "IN_PROGRESS" {
		t.Fatalf("/run: %+v", j)
	}
	<-b.started
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		t.Fatalf("serveQueue returned (%v) with a job in progress", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(b.release)
	if err := <-stopped; err != nil {
		t.Errorf("serveQueue: %v", err)
	}
}

// fakeRunPod is a loopback RunPod job server: it hands out scripted
// job-take answers and records results and heartbeats.
type fakeRunPod struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	takes   []string // scripted answers: "204", "400", "429", "500", "" (empty 200) or a job JSON
	taken   []takeRecord
	results map[string]resultRecord
	pings   []string // job_id of each heartbeat
	done    chan string
}

type takeRecord struct {
	at         time.Time
	path       string
	auth       string
	inProgress string
}

type resultRecord struct {
	body        string
	contentType string
	requestID   string
	auth        string
	isStream    string
}

func newFakeRunPod(t *testing.T, takes ...string) *fakeRunPod {
	f := &fakeRunPod{t: t, takes: takes, results: map[string]resultRecord{}, done: make(chan string, 16)}
	mux := http.NewServeMux()
	take := func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.taken = append(f.taken, takeRecord{time.Now(), r.URL.Path, r.Header.Get("Authorization"), r.URL.Query().Get("job_in_progress")})
		next := "204"
		if len(f.takes) > 0 {
			next, f.takes = f.takes[0], f.takes[1:]
		}
		f.mu.Unlock()
		switch next {
		case "204":
			// A real job take long-polls; pause a little so the idle
			// worker does not spin.
			time.Sleep(5 * time.Millisecond)
			w.WriteHeader(http.StatusNoContent)
		case "400":
			w.WriteHeader(http.StatusBadRequest)
		case "429":
			w.WriteHeader(http.StatusTooManyRequests)
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
		case "hang": // a stuck endpoint: no answer until the worker gives up
			<-r.Context().Done()
		case "stall": // an answer whose body stops half-way
			w.Header().Set("Content-Length", "100")
			io.WriteString(w, `{"id": "lost", "inp`)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		default:
			if job, ok := strings.CutPrefix(next, "slow "); ok {
				// RunPod's long poll: the job comes after a while.
				time.Sleep(200 * time.Millisecond)
				next = job
			}
			io.WriteString(w, next)
		}
	}
	mux.HandleFunc("GET /job-take/{pod}", take)
	mux.HandleFunc("GET /job-take-batch/{pod}", take)
	mux.HandleFunc("POST /job-done/{pod}/{job}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.results[r.PathValue("job")] = resultRecord{string(b), r.Header.Get("Content-Type"), r.Header.Get("X-Request-ID"),
			r.Header.Get("Authorization"), r.URL.Query().Get("isStream")}
		f.mu.Unlock()
		f.done <- r.PathValue("job")
	})
	mux.HandleFunc("GET /ping/{pod}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.pings = append(f.pings, r.URL.Query().Get("job_id"))
		f.mu.Unlock()
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRunPod) env() map[string]string {
	return map[string]string{
		"RUNPOD_WEBHOOK_GET_JOB":     f.srv.URL + "/job-take/$ID?gpu=A100",
		"RUNPOD_WEBHOOK_POST_OUTPUT": f.srv.URL + "/job-done/$RUNPOD_POD_ID/$ID?gpu=A100",
		"RUNPOD_WEBHOOK_PING":        f.srv.URL + "/ping/$RUNPOD_POD_ID?gpu=A100",
		"RUNPOD_POD_ID":              "pod-1",
		"RUNPOD_AI_API_KEY":          "secret-key",
		"RUNPOD_PING_INTERVAL":       "20",
	}
}

func startWorker(t *testing.T, f *fakeRunPod, b *blocker, env map[string]string) (stop func() error) {
	t.Helper()
	w, err := newWorker(App{Resource: Serverless{Name: "jobs"}, Functions: queueFunctions(b)},
		func(k string) string { return env[k] }, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	w.backoff = 150 * time.Millisecond
	w.errorDelay = 10 * time.Millisecond
	w.retryDelay = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(10 * time.Second):
				stopErr = errors.New("worker did not stop")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func (f *fakeRunPod) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-f.done:
		case <-time.After(5 * time.Second):
			t.Fatal("no result posted within 5s")
		}
	}
}

func TestWorker(t *testing.T) {
	f := newFakeRunPod(t,
		"204", "400", "",
		`{"id": "j1", "input": {"function_name": "ProcessData", "args": [5, 3]}}`,
		"429",
		`{"id": "j2", "input": null}`,
		"500",
		`{"id": "j3", "input": {"function_name": "Fail", "args": [0]}}`,
		`{"id": "j4", "input": {"function_name": "Nope"}}`,
		`{"id": "j5", "input": {"function_name": "Reset"}}`,
	)
	stop := startWorker(t, f, nil, f.env())
	f.wait(t, 5)
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	want := map[string]string{
		"j1": `{"output":{"success":true,"result":{"sum":8}}}`,
		"j5": `{"output":{"success":true,"result":null}}`,
	}
	for id, body := range want {
		if got := f.results[id].body; got != body {
			t.Errorf("%s: posted %s, want %s", id, got, body)
		}
	}
	failing := map[string]string{"j2": "input is null", "j3": "plain failure", "j4": "Function 'Nope' not found in registry"}
	for id, msg := range failing {
		var got struct {
			Output *struct {
				Success bool
				Error   string
			}
			Error *string
		}
		if err := json.Unmarshal([]byte(f.results[id].body), &got); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		// The output goes unchanged: success false inside it, no top-level "error".
		if got.Error != nil || got.Output == nil || got.Output.Success || !strings.Contains(got.Output.Error, msg) {
			t.Errorf("%s: posted %s, want output.success false with %q", id, f.results[id].body, msg)
		}
	}
	for id, r := range f.results {
		if r.contentType != "application/x-www-form-urlencoded" || r.requestID != id || r.auth != "secret-key" || r.isStream != "false" {
			t.Errorf("%s: posted with %+v", id, r)
		}
	}
	for i, tk := range f.taken {
		if tk.path != "/job-take/pod-1" || tk.auth != "secret-key" || (tk.inProgress != "0" && tk.inProgress != "1") {
			t.Errorf("take %d: %+v", i, tk)
		}
	}
	// The take after the 429 waited for the back-off.
	for i, tk := range f.taken[:len(f.taken)-1] {
		if i == 4 { // the fifth answer was 429
			if gap := f.taken[i+1].at.Sub(tk.at); gap < 150*time.Millisecond {
				t.Errorf("take after 429 came %v later, want the 150ms back-off", gap)
			}
		}
	}
}

func TestWorkerHeartbeatAndDrain(t *testing.T) {
	b := newBlocker()
	f := newFakeRunPod(t, `{"id": "slow-1", "input": {"function_name": "Slow"}}`)
	stop := startWorker(t, f, b, f.env())
	<-b.started
	waitFor(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, p := range f.pings {
			if p == "slow-1" {
				return true
			}
		}
		return false
	})
	f.mu.Lock()
	idle := f.pings[0]
	inProgress := f.taken[len(f.taken)-1].inProgress
	f.mu.Unlock()
	if idle != "" {
		t.Errorf("first heartbeat, before any job, had job_id %q", idle)
	}
	if inProgress != "" && inProgress != "0" {
		t.Errorf("job take with job_in_progress=%q and one slot", inProgress)
	}

	// SIGTERM with a job in progress: the worker stops taking jobs but
	// finishes and posts the job before returning.
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case err := <-stopped:
		t.Fatalf("worker returned (%v) with a job in progress", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(b.release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.results["slow-1"].body; got != `{"output":{"success":true,"result":"released"}}` {
		t.Errorf("posted %q", got)
	}
}

func TestWorkerConcurrency(t *testing.T) {
	b := newBlocker()
	f := newFakeRunPod(t,
		`{"id": "a", "input": {"function_name": "Slow"}}`,
		`{"id": "b", "input": {"function_name": "Slow"}}`)
	env := f.env()
	env["FLASH_QUEUE_CONCURRENCY"] = "2"
	startWorker(t, f, b, env)
	<-b.started
	<-b.started // both run at once
	close(b.release)
	f.wait(t, 2)
}

// TestWorkerTemplatesWithoutQuery: webhook templates without a query of
// their own still get job_in_progress and isStream as query parameters,
// not glued onto the path.
func TestWorkerTemplatesWithoutQuery(t *testing.T) {
	f := newFakeRunPod(t, `{"id": "j1", "input": {"function_name": "ProcessData", "args": [1, 2]}}`)
	env := f.env()
	env["RUNPOD_WEBHOOK_GET_JOB"] = f.srv.URL + "/job-take/$ID"
	env["RUNPOD_WEBHOOK_POST_OUTPUT"] = f.srv.URL + "/job-done/$RUNPOD_POD_ID/$ID"
	stop := startWorker(t, f, nil, env)
	f.wait(t, 1)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r := f.results["j1"]; r.isStream != "false" || r.body != `{"output":{"success":true,"result":{"sum":3}}}` {
		t.Errorf("posted %+v", r)
	}
	for i, tk := range f.taken {
		if tk.path != "/job-take/pod-1" || (tk.inProgress != "0" && tk.inProgress != "1") {
			t.Errorf("take %d: %+v", i, tk)
		}
	}
}

// TestWorkerJobInProgress: while one slot runs a job, the other slot's
// takes say job_in_progress=1.
func TestWorkerJobInProgress(t *testing.T) {
	b := newBlocker()
	f := newFakeRunPod(t, `{"id": "a", "input": {"function_name": "Slow"}}`)
	env := f.env()
	env["FLASH_QUEUE_CONCURRENCY"] = "2"
	startWorker(t, f, b, env)
	<-b.started
	waitFor(t, func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, tk := range f.taken {
			if tk.inProgress == "1" {
				return true
			}
		}
		return false
	})
	close(b.release)
	f.wait(t, 1)
}

func TestWorkerConfig(t *testing.T) {
	base := map[string]string{"RUNPOD_WEBHOOK_GET_JOB": "http://x/take?a=1", "RUNPOD_WEBHOOK_POST_OUTPUT": "http://x/done?a=1"}
	with := func(k, v string) func(string) string {
		return func(key string) string {
			if key == k {
				return v
			}
			return base[key]
		}
	}
	w, err := newWorker(App{}, with("", ""), discardLogger())
	if err != nil || w.pingInterval != 10*time.Second || w.concurrency != 1 || w.podID == "" {
		t.Errorf("defaults: %+v %v", w, err)
	}
	for _, kv := range [][2]string{{"RUNPOD_PING_INTERVAL", "often"}, {"FLASH_QUEUE_CONCURRENCY", "0"},
		{"FLASH_SHUTDOWN_TIMEOUT", "x"}, {"RUNPOD_WEBHOOK_POST_OUTPUT", ""}} {
		if _, err := newWorker(App{}, with(kv[0], kv[1]), discardLogger()); err == nil {
			t.Errorf("%s=%q: no error", kv[0], kv[1])
		}
	}
}

// TestWorkerTakeTimeout: a job take that gets no answer, or whose body
// stops half-way, is given up after takeTimeout and taken again, while
// a long poll that answers within it is waited for.
func TestWorkerTakeTimeout(t *testing.T) {
	f := newFakeRunPod(t, "hang", "stall",
		`slow {"id": "j1", "input": {"function_name": "ProcessData", "args": [5, 3]}}`)
	w, err := newWorker(App{Resource: Serverless{Name: "jobs"}, Functions: queueFunctions(nil)},
		func(k string) string { return f.env()[k] }, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	if w.takeTimeout < 2*time.Minute {
		t.Errorf("default take timeout %v: RunPod's long poll must not be cut short", w.takeTimeout)
	}
	w.takeTimeout = 500 * time.Millisecond
	w.errorDelay = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case id := <-f.done:
		if id != "j1" {
			t.Errorf("result of %q", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the worker hung on a take that never answered")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.results["j1"].body; got != `{"output":{"success":true,"result":{"sum":8}}}` {
		t.Errorf("j1 posted %s", got)
	}
	if _, ok := f.results["lost"]; ok {
		t.Error("a job whose body never arrived was run")
	}
}

func TestWorkerErrorBody(t *testing.T) {
	w := &worker{podID: "pod-9"}
	var outer struct{ Error string }
	if err := json.Unmarshal(w.workerError(errors.New("disk full")), &outer); err != nil {
		t.Fatal(err)
	}
	var inner map[string]string
	if err := json.Unmarshal([]byte(outer.Error), &inner); err != nil {
		t.Fatalf("error is not a JSON string: %q", outer.Error)
	}
	if inner["error_message"] != "disk full" || inner["worker_id"] != "pod-9" || inner["error_type"] == "" {
		t.Errorf("%v", inner)
	}
	for _, k := range []string{"error_traceback", "hostname"} {
		if _, ok := inner[k]; !ok {
			t.Errorf("no %s", k)
		}
	}
}

// TestWorkerShutdownTimeout: a job still running when the shutdown
// timeout expires is cancelled, and its result is still posted.
func TestWorkerShutdownTimeout(t *testing.T) {
	b := newBlocker()
	f := newFakeRunPod(t, `{"id": "stuck", "input": {"function_name": "Slow"}}`)
	env := f.env()
	env["FLASH_SHUTDOWN_TIMEOUT"] = "0.1"
	stop := startWorker(t, f, b, env)
	<-b.started
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stop took %v with a 100ms shutdown timeout", d)
	}
	f.wait(t, 1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.results["stuck"].body; !strings.Contains(got, `"success":false`) || !strings.Contains(got, "context canceled") {
		t.Errorf("posted %q", got)
	}
}
