package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// queueStreamFunctions are the streaming test functions as a queue resource
// registers them, plus one that reports progress.
func queueStreamFunctions(p *streamProbe, gate chan struct{}) []Function {
	fns := streamFunctions(p)
	for i := range fns {
		fns[i].Method, fns[i].Path = "", ""
		params := make([]Param, len(fns[i].Params))
		for j, prm := range fns[i].Params {
			prm.In = "arg"
			params[j] = prm
		}
		fns[i].Params = params
	}
	return append(fns, Function{
		// Progressing reports its progress, waits for the test, and
		// returns how many steps it took.
		Name: "example.com/app/jobs.Progressing",
		Call: func(ctx context.Context, in *Input) (any, error) {
			Progress(ctx, map[string]int{"step": 1})
			Progress(ctx, map[string]int{"step": 2})
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return "done in 2 steps", nil
		},
	})
}

// streamJobServer is RunPod's side of the worker protocol for the streaming
// tests: it hands out jobs, and records the stream posts and the posts to
// the job-done webhook in the order they arrive. failStream makes the first
// n stream posts answer 503.
type streamJobServer struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	jobs       []string
	posts      []post // stream and done posts, in order
	failStream int
	final      chan post
}

type post struct {
	kind     string // "stream", "done", "stream-failed"
	job      string
	body     string
	isStream string
	ctype    string
	reqID    string
	auth     string
	at       time.Time
}

func newStreamJobServer(t *testing.T, jobs ...string) *streamJobServer {
	js := &streamJobServer{t: t, jobs: jobs, final: make(chan post, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /job-take/{pod}", func(w http.ResponseWriter, r *http.Request) {
		js.mu.Lock()
		var next string
		if len(js.jobs) > 0 {
			next, js.jobs = js.jobs[0], js.jobs[1:]
		}
		js.mu.Unlock()
		if next == "" {
			time.Sleep(5 * time.Millisecond)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, next)
	})
	record := func(kind string, r *http.Request) post {
		b, _ := io.ReadAll(r.Body)
		return post{kind: kind, job: r.PathValue("job"), body: string(b), isStream: r.URL.Query().Get("isStream"),
			ctype: r.Header.Get("Content-Type"), reqID: r.Header.Get("X-Request-ID"), auth: r.Header.Get("Authorization"), at: time.Now()}
	}
	mux.HandleFunc("POST /job-stream/{pod}/{job}", func(w http.ResponseWriter, r *http.Request) {
		p := record("stream", r)
		js.mu.Lock()
		fail := js.failStream > 0
		if fail {
			js.failStream--
			p.kind = "stream-failed"
		}
		js.posts = append(js.posts, p)
		js.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /job-done/{pod}/{job}", func(w http.ResponseWriter, r *http.Request) {
		p := record("done", r)
		js.mu.Lock()
		js.posts = append(js.posts, p)
		js.mu.Unlock()
		if !strings.Contains(p.body, `"status":"IN_PROGRESS"`) {
			js.final <- p
		}
	})
	js.srv = httptest.NewServer(mux)
	t.Cleanup(js.srv.Close)
	return js
}

func (js *streamJobServer) env() map[string]string {
	return map[string]string{
		"RUNPOD_WEBHOOK_GET_JOB":     js.srv.URL + "/job-take/$ID?gpu=A100",
		"RUNPOD_WEBHOOK_POST_OUTPUT": js.srv.URL + "/job-done/$RUNPOD_POD_ID/$ID?gpu=A100",
		"RUNPOD_WEBHOOK_POST_STREAM": js.srv.URL + "/job-stream/$RUNPOD_POD_ID/$ID?gpu=A100",
		"RUNPOD_POD_ID":              "pod-1",
		"RUNPOD_AI_API_KEY":          "secret-key",
	}
}

func (js *streamJobServer) recorded() []post {
	js.mu.Lock()
	defer js.mu.Unlock()
	return append([]post(nil), js.posts...)
}

func (js *streamJobServer) startWorker(t *testing.T, fns []Function) {
	t.Helper()
	env := js.env()
	w, err := newWorker(App{Resource: Serverless{Name: "jobs"}, Functions: fns}, func(k string) string { return env[k] }, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	w.retryDelay = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("worker did not stop")
		}
	})
}

func (js *streamJobServer) waitFinal(t *testing.T) post {
	t.Helper()
	select {
	case p := <-js.final:
		return p
	case <-time.After(10 * time.Second):
		t.Fatalf("no result posted; posts so far: %+v", js.recorded())
		return post{}
	}
}

// TestWorkerStream: a streaming job posts each value to the stream webhook
// as it is produced ({"output": v}, isStream=false, as runpod-python's
// stream_result does), a failed stream post is retried, and then the
// result aggregating the values is posted exactly once, with isStream=true.
func TestWorkerStream(t *testing.T) {
	js := newStreamJobServer(t, `{"id": "s1", "input": {"function_name": "Count", "kwargs": {"n": 5, "pause_ms": 2}}}`)
	js.failStream = 1
	js.startWorker(t, queueStreamFunctions(nil, nil))
	final := js.waitFinal(t)
	time.Sleep(50 * time.Millisecond) // anything posted late would show now

	posts := js.recorded()
	var streamed []string
	failed, done := 0, 0
	for i, p := range posts {
		switch p.kind {
		case "stream-failed":
			failed++
		case "stream":
			if p.isStream != "false" || p.ctype != "application/x-www-form-urlencoded" || p.reqID != "s1" || p.auth != "secret-key" || p.job != "s1" {
				t.Errorf("stream post %d: %+v", i, p)
			}
			streamed = append(streamed, p.body)
		case "done":
			done++
			if i != len(posts)-1 {
				t.Errorf("the result (post %d of %d) is not the last post", i+1, len(posts))
			}
		}
	}
	var want []string
	for i := range 5 {
		want = append(want, fmt.Sprintf(`{"output":{"i":%d,"text":"t%d"}}`, i, i))
	}
	if strings.Join(streamed, "\n") != strings.Join(want, "\n") {
		t.Errorf("stream posts:\n%s\nwant:\n%s", strings.Join(streamed, "\n"), strings.Join(want, "\n"))
	}
	if failed != 1 {
		t.Errorf("%d failed stream posts, want the 1 injected (then retried)", failed)
	}
	if done != 1 {
		t.Errorf("%d result posts, want exactly 1", done)
	}
	wantBody := `{"output":{"success":true,"result":[{"i":0,"text":"t0"},{"i":1,"text":"t1"},{"i":2,"text":"t2"},{"i":3,"text":"t3"},{"i":4,"text":"t4"}]}}`
	if final.body != wantBody || final.isStream != "true" || final.reqID != "s1" {
		t.Errorf("result post: %+v\nwant body %s with isStream=true", final, wantBody)
	}
}

// TestWorkerStreamError: a stream that fails mid-way has posted the values
// before the error, and its result is a failure, posted once.
func TestWorkerStreamError(t *testing.T) {
	js := newStreamJobServer(t, `{"id": "e1", "input": {"function_name": "Failing", "args": [2]}}`)
	js.startWorker(t, queueStreamFunctions(nil, nil))
	final := js.waitFinal(t)
	var out struct {
		Output result0 `json:"output"`
	}
	if err := json.Unmarshal([]byte(final.body), &out); err != nil || out.Output.Success || !strings.Contains(out.Output.Error, "out of tokens after 2") {
		t.Errorf("result: %s (%v)", final.body, err)
	}
	n := 0
	for _, p := range js.recorded() {
		if p.kind == "stream" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d stream posts, want 2", n)
	}
}

type result0 struct {
	Success bool            `json:"success"`
	Result  json.RawMessage `json:"result"`
	Error   string          `json:"error"`
}

// TestWorkerProgress: runtime.Progress posts {"status": "IN_PROGRESS",
// "output": v} to the job-done webhook while the job runs (runpod-python's
// progress_update), and no progress post follows the result.
func TestWorkerProgress(t *testing.T) {
	js := newStreamJobServer(t, `{"id": "p1", "input": {"function_name": "Progressing"}}`)
	gate := make(chan struct{})
	js.startWorker(t, queueStreamFunctions(nil, gate))
	deadline := time.Now().Add(5 * time.Second)
	var progress []post
	for len(progress) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		for _, p := range js.recorded() {
			if strings.Contains(p.body, `"status":"IN_PROGRESS"`) {
				progress = append(progress, p)
			}
		}
	}
	if len(progress) == 0 {
		t.Fatal("no progress posted while the job ran")
	}
	last := progress[len(progress)-1]
	if last.body != `{"status":"IN_PROGRESS","output":{"step":2}}` || last.isStream != "false" || last.reqID != "p1" {
		t.Errorf("progress post: %+v", last)
	}
	close(gate)
	final := js.waitFinal(t)
	time.Sleep(50 * time.Millisecond)
	posts := js.recorded()
	if posts[len(posts)-1].body != final.body {
		t.Errorf("a post followed the result: %+v", posts[len(posts)-1])
	}
	if final.body != `{"output":{"success":true,"result":"done in 2 steps"}}` || final.isStream != "false" {
		t.Errorf("result: %+v", final)
	}
}

func startStreamQueue(t *testing.T, p *streamProbe, gate chan struct{}) string {
	t.Helper()
	s, err := NewQueueServer(App{Resource: Serverless{Name: "jobs"}, Functions: queueStreamFunctions(p, gate)})
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
	go func() { done <- serveQueue(ctx, s, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return "http://" + ln.Addr().String()
}

type streamAnswer struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Stream []struct {
		Output json.RawMessage `json:"output"`
	} `json:"stream"`
}

// TestLocalStream: POST /stream/{id} of the local test API answers the
// values produced since the last call with the job's status, so that a
// poller sees each value once, while the job runs; /status/{id} then has
// the aggregated result.
func TestLocalStream(t *testing.T) {
	base := startStreamQueue(t, nil, nil)
	a := send(t, "POST", base+"/run", `{"input": {"function_name": "Count", "kwargs": {"n": 40, "pause_ms": 5}}}`)
	id := decodeJob(t, a).ID
	var got []string
	polls, sawRunning := 0, false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); polls++ {
		a := send(t, "POST", base+"/stream/"+id, "")
		var sa streamAnswer
		if err := json.Unmarshal([]byte(a.body), &sa); err != nil || a.status != 200 || sa.ID != id {
			t.Fatalf("/stream: %d %s (%v)", a.status, a.body, err)
		}
		for _, c := range sa.Stream {
			got = append(got, string(c.Output))
		}
		if sa.Status == "IN_PROGRESS" && len(sa.Stream) > 0 {
			sawRunning = true
		}
		if sa.Status == "COMPLETED" && len(sa.Stream) == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(got) != 40 {
		t.Fatalf("%d values over %d polls, want 40: %v", len(got), polls, got)
	}
	for i, v := range got {
		if v != fmt.Sprintf(`{"i":%d,"text":"t%d"}`, i, i) {
			t.Fatalf("value %d is %s", i, v)
		}
	}
	if !sawRunning {
		t.Error("no value was fetched while the job was still running")
	}
	j := decodeJob(t, send(t, "GET", base+"/status/"+id, ""))
	if j.Status != "COMPLETED" || j.Output == nil || !j.Output.Success || !strings.HasPrefix(string(j.Output.Result), `[{"i":0,`) {
		t.Errorf("status: %+v", j)
	}
	if a := send(t, "POST", base+"/stream/nope", ""); a.status != 404 {
		t.Errorf("unknown job: %d %s", a.status, a.body)
	}
}

// TestLocalStreamBound: the values no /stream reader has taken are
// bounded for all jobs together; beyond the bound the job with the
// largest backlog loses its oldest values, and its next /stream answer
// counts them. A job's result still holds every value, and values read
// or forgotten no longer count.
func TestLocalStreamBound(t *testing.T) {
	s, err := NewQueueServer(App{Resource: Serverless{Name: "jobs"}, Functions: queueStreamFunctions(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	s.Logger = discardLogger()
	s.maxUnreadStream = 200
	srv := httptest.NewServer(s)
	defer srv.Close()
	base := srv.URL
	run := func(n int) string {
		id := decodeJob(t, send(t, "POST", base+"/run", fmt.Sprintf(`{"input": {"function_name": "Count", "kwargs": {"n": %d, "pause_ms": 0}}}`, n))).ID
		waitFor(t, func() bool { return decodeJob(t, send(t, "GET", base+"/status/"+id, "")).Status == "COMPLETED" })
		return id
	}
	type boundAnswer struct {
		streamAnswer
		Dropped *int `json:"dropped"`
	}
	stream := func(id string) (values []string, dropped int) {
		a := send(t, "POST", base+"/stream/"+id, "")
		var sa boundAnswer
		if err := json.Unmarshal([]byte(a.body), &sa); err != nil || a.status != 200 {
			t.Fatalf("/stream: %d %s (%v)", a.status, a.body, err)
		}
		for _, c := range sa.Stream {
			values = append(values, string(c.Output))
		}
		if sa.Dropped != nil {
			if *sa.Dropped <= 0 {
				t.Errorf("dropped %d: the key is there only when values were dropped", *sa.Dropped)
			}
			dropped = *sa.Dropped
		}
		return values, dropped
	}

	big, small := run(40), run(3)
	j := decodeJob(t, send(t, "GET", base+"/status/"+big, ""))
	if n := strings.Count(string(j.Output.Result), `"i":`); n != 40 {
		t.Errorf("the result holds %d values, want 40", n)
	}
	got, dropped := stream(big)
	size := 0
	for i, v := range got {
		size += len(v)
		if want := fmt.Sprintf(`{"i":%d,"text":"t%d"}`, 40-len(got)+i, 40-len(got)+i); v != want {
			t.Errorf("kept value %d is %s, want %s: the newest values are kept, in order", i, v, want)
		}
	}
	if len(got) == 0 || len(got)+dropped != 40 {
		t.Errorf("kept %d values and dropped %d, want 40 in all", len(got), dropped)
	}
	if smallGot, smallDropped := stream(small); len(smallGot) != 3 || smallDropped != 0 {
		t.Errorf("the job with the smaller backlog kept %d values, dropped %d", len(smallGot), smallDropped)
	}
	if size+3*len(`{"i":0,"text":"t0"}`) > 200 {
		t.Errorf("%d bytes of values kept unread, over the bound of 200", size)
	}
	if again, d := stream(big); len(again) != 0 || d != 0 {
		t.Errorf("second /stream: %d values, %d dropped", len(again), d)
	}
	s.mu.Lock()
	if s.streamBytes != 0 {
		t.Errorf("%d bytes still counted after every value was read", s.streamBytes)
	}
	s.mu.Unlock()

	// A job forgotten with values unread gives their bytes back.
	unread := run(3)
	s.mu.Lock()
	kept := s.streamBytes
	s.pending += maxFinishedJobs
	s.mu.Unlock()
	if kept == 0 {
		t.Fatal("no unread value counted")
	}
	for i := range maxFinishedJobs {
		s.remember(&localJob{ID: fmt.Sprintf("filler-%d", i), Status: statusCompleted, Output: json.RawMessage(`{}`)})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.jobs[unread]; ok {
		t.Fatal("the oldest finished job was not forgotten")
	}
	if s.streamBytes != 0 {
		t.Errorf("%d bytes still counted after the job was forgotten", s.streamBytes)
	}
}

// TestLocalProgress: while a job runs, GET /status/{id} shows IN_PROGRESS
// with its latest progress report as output.
func TestLocalProgress(t *testing.T) {
	gate := make(chan struct{})
	base := startStreamQueue(t, nil, gate)
	id := decodeJob(t, send(t, "POST", base+"/run", `{"input": {"function_name": "Progressing"}}`)).ID
	var body string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		body = send(t, "GET", base+"/status/"+id, "").body
		if strings.Contains(body, `"step":2`) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	want := fmt.Sprintf(`{"id":%q,"status":"IN_PROGRESS","output":{"step":2}}`+"\n", id)
	if body != want {
		t.Errorf("status while running: %q, want %q", body, want)
	}
	close(gate)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if j := decodeJob(t, send(t, "GET", base+"/status/"+id, "")); j.Status == "COMPLETED" {
			if j.Output == nil || string(j.Output.Result) != `"done in 2 steps"` {
				t.Errorf("final: %+v", j)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("job did not complete")
}

// TestLocalCancel: POST /cancel/{id} cancels a running job's context.
func TestLocalCancel(t *testing.T) {
	p := newStreamProbe()
	base := startStreamQueue(t, p, nil)
	id := decodeJob(t, send(t, "POST", base+"/run", `{"input": {"function_name": "Forever"}}`)).ID
	time.Sleep(20 * time.Millisecond)
	if a := send(t, "POST", base+"/cancel/"+id, ""); a.status != 200 {
		t.Fatalf("cancel: %d %s", a.status, a.body)
	}
	select {
	case <-p.ctxDone:
	case <-time.After(2 * time.Second):
		t.Fatal("the job's context was not cancelled")
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if j := decodeJob(t, send(t, "GET", base+"/status/"+id, "")); j.Status == "COMPLETED" {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("cancelled job did not complete")
}

// TestProgressOutsideJobs: Progress outside a queue job (a load-balanced
// route, a plain context) does nothing, and a value JSON cannot encode is
// dropped rather than reported.
func TestProgressOutsideJobs(t *testing.T) {
	Progress(context.Background(), map[string]int{"step": 1})
	var none context.Context
	Progress(none, 1) // a nil context must not panic either
	var got []string
	ctx := withJobHooks(context.Background(), &jobHooks{progress: func(v json.RawMessage) { got = append(got, string(v)) }})
	Progress(ctx, make(chan int))
	Progress(ctx, "half")
	if strings.Join(got, ",") != `"half"` {
		t.Errorf("reported %v, want only \"half\"", got)
	}
}
