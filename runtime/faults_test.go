package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadiness: while /ping answers 204 (starting) or 503 (startup
// failed), user routes and /execute answer 503 with the reason; the
// manifest and the OpenAPI document are not functions and are served.
func TestReadiness(t *testing.T) {
	release := make(chan struct{})
	var fail bool
	OnStartup(func(ctx context.Context) error {
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		if fail {
			return errors.New("model weights missing")
		}
		return nil
	})
	t.Cleanup(func() {
		startupHooks.Lock()
		startupHooks.fns = nil
		startupHooks.Unlock()
	})
	s := newTestLB(t, LiveLoadBalancer{Name: "api"}, nil)
	s.Mothership = true
	base, _, _ := startLB(t, s, false, time.Second)
	starting := []struct{ method, path, body string }{
		{"POST", "/api/process", `{"x": 1, "y": 2}`},
		{"GET", "/items/x", ""},
		{"POST", "/execute", `{"function_name": "ProcessData", "args": [1, 2]}`},
	}
	if a := send(t, "GET", base+"/ping", ""); a.status != 204 {
		t.Fatalf("/ping while starting: %d", a.status)
	}
	for _, r := range starting {
		if a := send(t, r.method, base+r.path, r.body); a.status != 503 || strings.TrimSpace(a.body) != `{"error":"starting"}` {
			t.Errorf("%s %s while starting: %d %s", r.method, r.path, a.status, a.body)
		}
	}
	if a := send(t, "GET", base+"/manifest", ""); a.status != 200 {
		t.Errorf("/manifest while starting: %d %s", a.status, a.body)
	}
	close(release)
	waitFor(t, func() bool { return send(t, "GET", base+"/ping", "").status == 200 })
	if a := send(t, "POST", base+"/api/process", `{"x": 1, "y": 2}`); a.status != 200 {
		t.Errorf("ready: %d %s", a.status, a.body)
	}

	fail = true
	s2 := newTestLB(t, LiveLoadBalancer{Name: "api"}, nil)
	_ = s2.Startup(context.Background())
	base2, _, _ := startLB(t, s2, false, time.Second)
	for _, r := range starting {
		a := send(t, r.method, base2+r.path, r.body)
		if a.status != 503 || !strings.Contains(a.body, `"error":"startup failed: `) || !strings.Contains(a.body, "model weights missing") {
			t.Errorf("%s %s after a failed startup: %d %s", r.method, r.path, a.status, a.body)
		}
	}
}

// TestEncodingPanics: a result whose MarshalJSON panics is a 500 JSON
// answer (a failed job on a queue), and the server serves on.
func TestEncodingPanics(t *testing.T) {
	t.Run("deployed", func(t *testing.T) {
		base, _, _ := startLB(t, newTestLB(t, LoadBalancer{Name: "api"}, nil), false, time.Second)
		for range 2 {
			if a := send(t, "GET", base+"/bad-json", ""); a.status != 500 || strings.TrimSpace(a.body) != `{"error":"internal error in BadJSON"}` {
				t.Errorf("/bad-json: %d %q", a.status, a.body)
			}
		}
		if a := send(t, "POST", base+"/api/process", `{"x": 1, "y": 2}`); a.status != 200 {
			t.Errorf("after: %d %s", a.status, a.body)
		}
	})
	t.Run("live", func(t *testing.T) {
		base, _, _ := startLB(t, newTestLB(t, LiveLoadBalancer{Name: "api"}, nil), false, time.Second)
		if a := send(t, "GET", base+"/bad-json", ""); a.status != 500 || !strings.Contains(a.body, "marshal boom") {
			t.Errorf("/bad-json on a live resource: %d %q", a.status, a.body)
		}
		if a := send(t, "POST", base+"/execute", `{"function_name": "BadJSON"}`); a.status != 200 ||
			!strings.Contains(a.body, `"success":false`) || !strings.Contains(a.body, "marshal boom") {
			t.Errorf("/execute BadJSON: %d %q", a.status, a.body)
		}
	})
	t.Run("local queue", func(t *testing.T) {
		base, _ := startQueue(t, nil, time.Second)
		a := send(t, "POST", base+"/runsync", `{"input": {"function_name": "BadJSON"}}`)
		if a.status != 200 || !strings.Contains(a.body, `"success":false`) || !strings.Contains(a.body, "marshal boom") {
			t.Errorf("/runsync BadJSON: %d %q", a.status, a.body)
		}
		j := decodeJob(t, send(t, "POST", base+"/run", `{"input": {"function_name": "BadJSON"}}`))
		waitFor(t, func() bool {
			return strings.Contains(send(t, "GET", base+"/status/"+j.ID, "").body, `"success":false`)
		})
	})
}

// TestErrorDetail: only live resources show an error's detail in a 500;
// an error with its own status keeps its message everywhere.
func TestErrorDetail(t *testing.T) {
	for _, tt := range []struct {
		res             Resource
		plain, withCode string
	}{
		{LoadBalancer{Name: "api"}, `{"error":"internal error in Fail"}`, `{"error":"wrapped: teapot trouble"}`},
		{LiveLoadBalancer{Name: "api"}, `{"error":"plain failure"}`, `{"error":"wrapped: teapot trouble"}`},
	} {
		base, _, _ := startLB(t, newTestLB(t, tt.res, nil), false, time.Second)
		if a := send(t, "POST", base+"/fail", `{"code": 0}`); a.status != 500 || strings.TrimSpace(a.body) != tt.plain {
			t.Errorf("%T: plain error: %d %s", tt.res, a.status, a.body)
		}
		if a := send(t, "POST", base+"/fail", `{"code": 418}`); a.status != 418 || strings.TrimSpace(a.body) != tt.withCode {
			t.Errorf("%T: error with a status: %d %s", tt.res, a.status, a.body)
		}
	}
}

// TestQueueClientJobIDs: a /runsync answer whose job id cannot be polled
// is a *JobError naming it, and the job is neither polled nor submitted
// again.
func TestQueueClientJobIDs(t *testing.T) {
	for _, id := range []string{"", "../admin", "a/b", "a b", "a?b=1", "a%2Fb", strings.Repeat("x", 300), "sync-0b1c-e1"} {
		var runsyncs, polls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/runsync") {
				runsyncs.Add(1)
				fmt.Fprintf(w, `{"id": %q, "status": "IN_QUEUE"}`, id)
				return
			}
			polls.Add(1)
			fmt.Fprintf(w, `{"id": %q, "status": "COMPLETED", "output": {"success": true, "result": 1}}`, id)
		}))
		c := &Client{BaseURL: srv.URL, PollInterval: time.Millisecond}
		var n int
		err := c.RunSync(context.Background(), "F", nil, nil, &n)
		srv.Close()
		if id == "sync-0b1c-e1" {
			if err != nil || n != 1 || polls.Load() != 1 {
				t.Errorf("a valid id: %v, %d polls", err, polls.Load())
			}
			continue
		}
		var je *JobError
		if !errors.As(err, &je) || je.ID != id || runsyncs.Load() != 1 || polls.Load() != 0 {
			t.Errorf("id %.20q: %v after %d /runsync and %d polls; want a JobError and no poll", id, err, runsyncs.Load(), polls.Load())
		}
	}
}

// TestLocalQueueBounds: at most MaxPending jobs queued or running (429
// beyond, with a JSON error), and the finished jobs kept are bounded in
// number and in bytes, oldest dropped first.
func TestLocalQueueBounds(t *testing.T) {
	b := newBlocker()
	s, err := NewQueueServer(App{Resource: Serverless{Name: "jobs"}, Functions: queueFunctions(b)})
	if err != nil {
		t.Fatal(err)
	}
	s.Logger = discardLogger()
	s.MaxPending = 2
	srv := httptest.NewServer(s)
	defer srv.Close()
	defer close(b.release)
	for range 2 {
		if a := send(t, "POST", srv.URL+"/run", `{"input": {"function_name": "Slow"}}`); a.status != 200 {
			t.Fatalf("/run: %d %s", a.status, a.body)
		}
		<-b.started
	}
	for _, path := range []string{"/run", "/runsync"} {
		a := send(t, "POST", srv.URL+path, `{"input": {"function_name": "ProcessData", "args": [1, 2]}}`)
		if a.status != 429 || !strings.Contains(a.body, `"error":"2 jobs are queued or running`) {
			t.Errorf("%s beyond MaxPending: %d %s", path, a.status, a.body)
		}
	}
	b.release <- struct{}{}
	waitFor(t, func() bool {
		return send(t, "POST", srv.URL+"/runsync", `{"input": {"function_name": "ProcessData", "args": [1, 2]}}`).status == 200
	})

	// The store: by count, then by bytes.
	q, _ := NewQueueServer(App{})
	var first string
	for i := range maxFinishedJobs + 1 {
		j := &localJob{ID: newJobID(), Status: statusCompleted, Output: json.RawMessage(`1`)}
		if i == 0 {
			first = j.ID
		}
		q.pending++
		q.remember(j)
	}
	if _, ok := q.jobs[first]; ok || len(q.jobs) != maxFinishedJobs || q.pending != 0 {
		t.Errorf("%d jobs kept (the oldest too: %v), %d pending", len(q.jobs), ok, q.pending)
	}
	big := json.RawMessage(`"` + strings.Repeat("x", 10<<20) + `"`)
	for range 8 {
		q.pending++
		q.remember(&localJob{ID: newJobID(), Status: statusCompleted, Output: big})
	}
	if q.finishedBytes > maxFinishedBytes || len(q.jobs) > 7 {
		t.Errorf("%d bytes in %d jobs kept, over %d", q.finishedBytes, len(q.jobs), maxFinishedBytes)
	}
}

// TestWorkerPostBackoff: a result post answered 500, 408 and 429 is
// retried after 1, 2, 4 pauses (retryDelay doubling); 413 is final.
func TestWorkerPostBackoff(t *testing.T) {
	var mu sync.Mutex
	posts := map[string][]time.Time{}
	answers := map[string][]int{"j1": {500, 408, 429, 200}, "j2": {413, 200}}
	takes := []string{`[{"id": "j1", "input": {"function_name": "ProcessData", "args": [1, 2]}}, {"id": "j2", "input": {"function_name": "Reset"}}]`}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/take/"):
			if len(takes) == 0 {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			io.WriteString(w, takes[0])
			takes = takes[1:]
		case strings.HasPrefix(r.URL.Path, "/done/"):
			id := strings.TrimPrefix(r.URL.Path, "/done/")
			n := len(posts[id])
			posts[id] = append(posts[id], time.Now())
			w.WriteHeader(answers[id][min(n, len(answers[id])-1)])
		}
	}))
	defer srv.Close()
	env := map[string]string{"RUNPOD_WEBHOOK_GET_JOB": srv.URL + "/take/$ID?a=1", "RUNPOD_WEBHOOK_POST_OUTPUT": srv.URL + "/done/$ID?a=1"}
	w, err := newWorker(App{Resource: Serverless{Name: "jobs"}, Functions: queueFunctions(nil)}, func(k string) string { return env[k] }, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	w.retryDelay, w.errorDelay = 40*time.Millisecond, 5*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(posts["j1"]) == 4 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, want := range []time.Duration{40, 80, 160} {
		if gap := posts["j1"][i+1].Sub(posts["j1"][i]); gap < want*time.Millisecond || gap > (want+150)*time.Millisecond {
			t.Errorf("pause before attempt %d: %v, want about %dms", i+2, gap, want)
		}
	}
	if len(posts["j2"]) != 1 {
		t.Errorf("a post answered 413 was tried %d times, want once", len(posts["j2"]))
	}
}

// TestWorkerHeartbeatToTheEnd: after SIGTERM the heartbeat goes on,
// naming the job still running, until its result is posted.
func TestWorkerHeartbeatToTheEnd(t *testing.T) {
	b := newBlocker()
	f := newFakeRunPod(t, `{"id": "slow-1", "input": {"function_name": "Slow"}}`)
	stop := startWorker(t, f, b, f.env())
	<-b.started
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(50 * time.Millisecond) // SIGTERM is in
	f.mu.Lock()
	before := len(f.pings)
	f.mu.Unlock()
	time.Sleep(150 * time.Millisecond) // RUNPOD_PING_INTERVAL=20
	f.mu.Lock()
	after := f.pings[before:]
	f.mu.Unlock()
	close(b.release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if len(after) < 3 || after[len(after)-1] != "slow-1" {
		t.Errorf("heartbeats after SIGTERM with a job running: %q", after)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if got := f.results["slow-1"].body; got != `{"output":{"success":true,"result":"released"}}` {
		t.Errorf("posted %q", got)
	}
}
