package runtime

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestCallStreamRoute: a Caller streams a load-balanced function's values
// as typed values; a mid-stream error comes last as a *RemoteError naming
// the function; breaking the loop cancels the function on the server.
func TestCallStreamRoute(t *testing.T) {
	p := newStreamProbe()
	base := newStreamLB(t, LoadBalancer{Name: "api"}, p, nil)
	c := &Caller{BaseURL: base}
	count := &RemoteFunc{Resource: "api", LoadBalanced: true, Name: "example.com/app/api.Count", Method: "GET", Path: "/count", Params: []string{"n", "pause_ms"}}
	n := 0
	for v, err := range CallStream[tok](context.Background(), c, count, []any{300, 0}) {
		if err != nil {
			t.Fatal(err)
		}
		if v.I != n || v.Text != fmt.Sprint("t", n) {
			t.Fatalf("value %d is %+v", n, v)
		}
		n++
	}
	if n != 300 {
		t.Errorf("%d values, want 300", n)
	}

	failing := &RemoteFunc{Resource: "api", LoadBalanced: true, Name: "example.com/app/api.Failing", Method: "POST", Path: "/failing", Params: []string{"at"}}
	var got []int
	var last error
	for v, err := range CallStream[tok](context.Background(), c, failing, []any{3}) {
		if err != nil {
			last = err
			continue
		}
		got = append(got, v.I)
	}
	var re *RemoteError
	if fmt.Sprint(got) != "[0 1 2]" || !errors.As(last, &re) || re.Function != failing.Name || re.Message != "out of tokens after 3" {
		t.Errorf("failing stream: values %v, error %#v", got, last)
	}
	// An error before the first value is the answer's: an *HTTPError.
	for _, err := range CallStream[tok](context.Background(), c, failing, []any{0}) {
		var he *HTTPError
		if !errors.As(err, &he) || he.StatusCode != 418 {
			t.Errorf("error before the first value: %v", err)
		}
	}

	forever := &RemoteFunc{Resource: "api", LoadBalanced: true, Name: "example.com/app/api.Forever", Method: "GET", Path: "/forever"}
	breakCancels(t, c, forever, p, "the function")
}

// TestCallStreamJob: a Caller streams a queue function's values through
// /run and /stream/{id}; breaking the loop cancels the job.
func TestCallStreamJob(t *testing.T) {
	p := newStreamProbe()
	base := startStreamQueue(t, p, nil)
	c := &Caller{BaseURL: base, PollInterval: 10 * time.Millisecond}
	count := &RemoteFunc{Resource: "jobs", Name: "example.com/app/api.Count", Params: []string{"n", "pause_ms"}}
	n := 0
	for v, err := range CallStream[tok](context.Background(), c, count, []any{30, 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if v.I != n {
			t.Fatalf("value %d is %+v", n, v)
		}
		n++
	}
	if n != 30 {
		t.Errorf("%d values, want 30", n)
	}

	failing := &RemoteFunc{Resource: "jobs", Name: "example.com/app/api.Failing", Params: []string{"at"}}
	var last error
	n = 0
	for _, err := range CallStream[tok](context.Background(), c, failing, []any{2}) {
		if err != nil {
			last = err
		} else {
			n++
		}
	}
	var re *RemoteError
	if n != 2 || !errors.As(last, &re) || re.Message != "out of tokens after 2" {
		t.Errorf("failing job: %d values, error %v", n, last)
	}

	forever := &RemoteFunc{Resource: "jobs", Name: "example.com/app/api.Forever"}
	n = 0
	for _, err := range CallStream[tok](context.Background(), c, forever, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 5 {
			break
		}
	}
	select {
	case <-p.ctxDone:
	case <-time.After(2 * time.Second):
		t.Fatal("breaking the loop did not cancel the job")
	}
}

// TestCallStreamInProcess: a resource this process serves streams through
// the in-memory transport as over a connection: values arrive as they are
// produced, and breaking the loop cancels the function.
func TestCallStreamInProcess(t *testing.T) {
	p := newStreamProbe()
	s, err := NewLoadBalancer(App{Resource: LoadBalancer{Name: "inproc-api"}, Functions: streamFunctions(p)})
	if err != nil {
		t.Fatal(err)
	}
	s.Logger = discardLogger()
	defer RegisterLocal("inproc-api", s)()
	c := &Caller{}

	count := &RemoteFunc{Resource: "inproc-api", LoadBalanced: true, Name: "example.com/app/api.Count", Method: "GET", Path: "/count", Params: []string{"n", "pause_ms"}}
	start := time.Now()
	var first, last time.Duration
	n := 0
	for v, err := range CallStream[tok](context.Background(), c, count, []any{20, 10}) {
		if err != nil || v.I != n {
			t.Fatalf("value %d: %+v %v", n, v, err)
		}
		if n == 0 {
			first = time.Since(start)
		}
		last = time.Since(start)
		n++
	}
	if n != 20 || first > 50*time.Millisecond || last-first < 150*time.Millisecond {
		t.Errorf("%d values, first after %v, last after %v: not as produced", n, first, last)
	}

	forever := &RemoteFunc{Resource: "inproc-api", LoadBalanced: true, Name: "example.com/app/api.Forever", Method: "GET", Path: "/forever"}
	breakCancels(t, c, forever, p, "the in-process function")
}

// breakCancels breaks a loop over fn's stream after 5 values and checks
// that the function's context (reported by p) is done within 100 ms.
func breakCancels(t *testing.T, c *Caller, fn *RemoteFunc, p *streamProbe, what string) {
	t.Helper()
	n := 0
	var broke time.Time
	for _, err := range CallStream[tok](context.Background(), c, fn, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 5 {
			broke = time.Now()
			break
		}
	}
	select {
	case done := <-p.ctxDone:
		if d := done.Sub(broke); d > 100*time.Millisecond {
			t.Errorf("context of %s done %v after the loop broke, want ≤ 100ms", what, d)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("breaking the loop did not cancel %s", what)
	}
}

// TestStreamTimeout: Timeout bounds the wait for a stream's answer to
// begin, not the stream itself.
func TestStreamTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close() // accepts and never answers
		}
	}()
	c := &Client{BaseURL: "http://" + ln.Addr().String(), Timeout: 200 * time.Millisecond}
	start := time.Now()
	for _, err := range c.Stream(context.Background(), "GET", "/count", nil) {
		if err == nil || !strings.Contains(err.Error(), "no answer within 200ms") {
			t.Errorf("error %v", err)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}

	// A stream that lasts longer than Timeout is read to its end.
	base := newStreamLB(t, LoadBalancer{Name: "api"}, nil, nil)
	c = &Client{BaseURL: base, Timeout: 100 * time.Millisecond}
	n := 0
	for _, err := range c.Stream(context.Background(), "GET", "/count", map[string]any{"n": 30, "pause_ms": 10}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 30 {
		t.Errorf("%d values, want 30", n)
	}
}

// TestStreamRunAll: under `flash-lsp run --all` (an AllServer), a
// load-balanced stream is served under its prefix, values as produced, and
// a queue resource's /stream/{id} too.
func TestStreamRunAll(t *testing.T) {
	s, err := NewAllServer([]Mount{
		{Prefix: "/api", App: App{Resource: LoadBalancer{Name: "api"}, Functions: streamFunctions(nil)}},
		{Prefix: "/jobs", App: App{Resource: Serverless{Name: "jobs"}, Functions: queueStreamFunctions(nil, nil)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.SetLogger(discardLogger())
	srv := httptest.NewServer(s)
	defer srv.Close()

	c := &Client{BaseURL: srv.URL + "/api"}
	start := time.Now()
	var first, last time.Duration
	n := 0
	for _, err := range c.Stream(context.Background(), "GET", "/count", map[string]any{"n": 20, "pause_ms": 10}) {
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			first = time.Since(start)
		}
		last = time.Since(start)
		n++
	}
	if n != 20 || last-first < 150*time.Millisecond {
		t.Errorf("%d values, first after %v, last after %v: not as produced", n, first, last)
	}

	q := &Client{BaseURL: srv.URL + "/jobs", PollInterval: 5 * time.Millisecond}
	n = 0
	for _, err := range q.StreamJob(context.Background(), "Count", nil, map[string]any{"n": 10, "pause_ms": 1}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 10 {
		t.Errorf("queue stream under run --all: %d values, want 10", n)
	}
}

// TestCallStreamJobDropped: when the local test API dropped streamed
// values before the client read them (its bound on unread values), the
// client's loop ends with a *JobError saying so rather than passing a
// stream with holes for a whole one.
func TestCallStreamJobDropped(t *testing.T) {
	s, err := NewQueueServer(App{Resource: Serverless{Name: "jobs"}, Functions: queueStreamFunctions(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	s.Logger = discardLogger()
	s.maxUnreadStream = 1 // every value is dropped as it comes
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := &Caller{BaseURL: srv.URL, PollInterval: 10 * time.Millisecond}
	count := &RemoteFunc{Resource: "jobs", Name: "example.com/app/api.Count", Params: []string{"n", "pause_ms"}}
	n := 0
	var errs []error
	for _, err := range CallStream[tok](context.Background(), c, count, []any{5, 0}) {
		if err != nil {
			errs = append(errs, err)
		} else {
			n++
		}
	}
	var je *JobError
	if n != 0 || len(errs) != 1 || !errors.As(errs[0], &je) || je.ID == "" || !strings.Contains(errs[0].Error(), "dropped") {
		t.Errorf("%d values, errors %v: want one *JobError about dropped values", n, errs)
	}
}
