package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var (
	remoteGetItem = &RemoteFunc{Resource: "test-api", LoadBalanced: true, Name: "example.com/app/api.GetItem",
		Method: "GET", Path: "/items/{id}", Params: []string{"id", "verbose"}}
	remoteProcess = &RemoteFunc{Resource: "test-api", LoadBalanced: true, Name: "example.com/app/api.ProcessData",
		Method: "POST", Path: "/api/process", Params: []string{"x", "y"}}
	remoteDelete = &RemoteFunc{Resource: "test-api", LoadBalanced: true, Name: "example.com/app/api.DeleteItem",
		Method: "DELETE", Path: "/items/{id:[0-9]+}", Params: []string{"id"}}
	remoteJob = &RemoteFunc{Resource: "jobs", Name: "example.com/app/jobs.Add", Params: []string{"a", "b"}}
)

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testLB(t *testing.T) *LoadBalancerServer {
	t.Helper()
	s, err := NewLoadBalancer(App{Resource: LiveLoadBalancer{Name: "test-api"}, Functions: testFunctions(newBlocker())})
	if err != nil {
		t.Fatal(err)
	}
	s.Logger = quietLogger()
	return s
}

func testQueue(t *testing.T) *QueueServer {
	t.Helper()
	q, err := NewQueueServer(App{Resource: LiveServerless{Name: "jobs"}, Functions: addFunctions()})
	if err != nil {
		t.Fatal(err)
	}
	q.Logger = quietLogger()
	return q
}

func addFunctions() []Function {
	return []Function{{
		Name:   "example.com/app/jobs.Add",
		Params: []Param{{Name: "a", In: "arg"}, {Name: "b", In: "arg", Optional: true}},
		Call: func(ctx context.Context, in *Input) (any, error) {
			var a int
			if err := Int(in, "a", &a); err != nil {
				return nil, err
			}
			var b *int
			if in.Has("b") {
				b = new(int)
				if err := Int(in, "b", b); err != nil {
					return nil, err
				}
			}
			if a < 0 {
				return nil, errors.New("negative a")
			}
			if b != nil {
				a += *b
			}
			return a, nil
		},
	}}
}

// callAll runs the same calls against c and checks the answers: c may
// reach the servers over loopback or in process, with the same results.
func callAll(t *testing.T, c *Caller) {
	t.Helper()
	ctx := context.Background()
	var it item
	verbose := true
	if err := c.Call(ctx, remoteGetItem, []any{"a/b c", &verbose}, &it); err != nil || it != (item{ID: "a/b c", Verbose: true}) {
		t.Errorf("GetItem: %+v, %v", it, err)
	}
	it = item{}
	if err := c.Call(ctx, remoteGetItem, []any{"x", (*bool)(nil)}, &it); err != nil || it != (item{ID: "x"}) {
		t.Errorf("GetItem without verbose: %+v, %v", it, err)
	}
	var sum sumResult
	if err := c.Call(ctx, remoteProcess, []any{5, 3}, &sum); err != nil || sum.Sum != 8 {
		t.Errorf("ProcessData: %+v, %v", sum, err)
	}
	if err := c.Call(ctx, remoteDelete, []any{uint16(7)}, nil); err != nil {
		t.Errorf("DeleteItem: %v", err)
	}
	var he *HTTPError
	err := c.Call(ctx, remoteDelete, []any{uint16(404)}, nil)
	if !errors.As(err, &he) || he.StatusCode != 404 || he.Message != "item 404 does not exist" {
		t.Errorf("DeleteItem(404): %v, want a 404 HTTPError with the server's message", err)
	}
	// A wrong argument type is the server's 400, naming the parameter.
	err = c.Call(ctx, remoteProcess, []any{"five", 3}, &sum)
	if !errors.As(err, &he) || he.StatusCode != 400 || !strings.Contains(he.Message, `parameter "x"`) {
		t.Errorf("ProcessData(\"five\"): %v, want a 400 naming x", err)
	}
	var n int
	two := 2
	if err := c.Call(ctx, remoteJob, []any{40, &two}, &n); err != nil || n != 42 {
		t.Errorf("jobs Add: %d, %v", n, err)
	}
	var re *RemoteError
	if err := c.Call(ctx, remoteJob, []any{-1, (*int)(nil)}, &n); !errors.As(err, &re) || re.Message != "negative a" {
		t.Errorf("jobs Add(-1): %v, want a RemoteError", err)
	}
	if err := c.Call(ctx, remoteJob, []any{1}, &n); err == nil || !strings.Contains(err.Error(), "1 arguments for 2 parameters") {
		t.Errorf("wrong arity: %v", err)
	}
}

func TestCallerOverLoopback(t *testing.T) {
	lb := httptest.NewServer(testLB(t))
	defer lb.Close()
	q := httptest.NewServer(testQueue(t))
	defer q.Close()
	env := map[string]string{
		"FLASH_ENDPOINT_URL_TEST_API": lb.URL,
		"FLASH_ENDPOINT_URL_JOBS":     q.URL + "/",
	}
	c := &Caller{Resolver: &Resolver{Getenv: func(k string) string { return env[k] }}}
	callAll(t, c)
}

func TestCallerInProcess(t *testing.T) {
	r := &Resolver{Getenv: func(string) string { return "" }}
	defer r.Register("test-api", testLB(t))()
	defer r.Register("jobs", testQueue(t))()
	c := &Caller{Resolver: r, HTTPClient: &http.Client{Transport: failingTransport{}}}
	callAll(t, c)
}

type failingTransport struct{}

func (failingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("no network: the call should have stayed in process")
}

func TestCallerTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)
	c := &Caller{BaseURL: slow.URL, Timeout: 100 * time.Millisecond}
	start := time.Now()
	err := c.Call(context.Background(), remoteProcess, []any{1, 2}, new(sumResult))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow server: %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

// TestResolveOrder checks each step of the resolution order against a
// fake mothership on loopback, and that its manifest is cached.
func TestResolveOrder(t *testing.T) {
	var fetches atomic.Int32
	var auth atomic.Value
	mothership := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/manifest" {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		auth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"version": "1.0", "resources": {}, "endpoints": {
			"test-api": {"endpoint_id": "lb123"},
			"jobs": {"endpoint_id": "q456"},
			"custom": {"endpoint_id": "x", "url": "http://127.0.0.1:9/custom/"}}}`)
	}))
	defer mothership.Close()

	env := map[string]string{}
	r := &Resolver{Getenv: func(k string) string { return env[k] }, APIKey: "secret"}
	ctx := context.Background()
	resolve := func(name string, lb bool) string {
		t.Helper()
		u, err := r.Resolve(ctx, name, lb)
		if err != nil {
			return "error: " + err.Error()
		}
		return u
	}

	if got := resolve("test-api", true); !strings.Contains(got, "FLASH_ENDPOINT_URL_TEST_API, FLASH_ENDPOINT_ID_TEST_API or FLASH_MOTHERSHIP_ID") {
		t.Errorf("nothing set: %s", got)
	}
	env["FLASH_MOTHERSHIP_URL"] = mothership.URL
	for _, c := range []struct {
		name string
		lb   bool
		want string
	}{
		{"test-api", true, "https://lb123.api.runpod.ai"},
		{"jobs", false, "https://api.runpod.ai/v2/q456"},
		{"custom", true, "http://127.0.0.1:9/custom"},
	} {
		if got := resolve(c.name, c.lb); got != c.want {
			t.Errorf("mothership %s: %s, want %s", c.name, got, c.want)
		}
	}
	if got := resolve("missing", true); !strings.Contains(got, `does not list it in "endpoints"`) {
		t.Errorf("missing: %s", got)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("the manifest was fetched %d times, want 1 (cached)", n)
	}
	if a, _ := auth.Load().(string); a != "Bearer secret" {
		t.Errorf("manifest fetched with Authorization %q", a)
	}

	// The environment wins over the mothership: the id, then the URL.
	env["FLASH_ENDPOINT_ID_TEST_API"] = "env789"
	if got := resolve("test-api", true); got != "https://env789.api.runpod.ai" {
		t.Errorf("with FLASH_ENDPOINT_ID: %s", got)
	}
	env["FLASH_ENDPOINT_URL_TEST_API"] = "http://127.0.0.1:8001/"
	if got := resolve("test-api", true); got != "http://127.0.0.1:8001" {
		t.Errorf("with FLASH_ENDPOINT_URL: %s", got)
	}

	// In process wins over the environment, an explicit BaseURL over all.
	var seen atomic.Value
	local := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store("local " + r.URL.Path)
		fmt.Fprint(w, `{"sum": 1}`)
	})
	defer r.Register("test-api", local)()
	c := &Caller{Resolver: r}
	if err := c.Call(ctx, remoteProcess, []any{1, 2}, new(sumResult)); err != nil || seen.Load() != "local /api/process" {
		t.Errorf("in process: %v, handler saw %v", err, seen.Load())
	}
	explicit := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store("explicit " + r.URL.Path)
		fmt.Fprint(w, `{"sum": 2}`)
	}))
	defer explicit.Close()
	c.BaseURL = explicit.URL
	if err := c.Call(ctx, remoteProcess, []any{1, 2}, new(sumResult)); err != nil || seen.Load() != "explicit /api/process" {
		t.Errorf("explicit BaseURL: %v, handler saw %v", err, seen.Load())
	}

	// A mothership id that is not an endpoint id names no URL at all
	// (SPEC 14): an error naming the variable.
	r2 := &Resolver{Getenv: func(k string) string {
		return map[string]string{"FLASH_MOTHERSHIP_ID": "127.0.0.1:1"}[k]
	}, ManifestTries: 1}
	if _, err := r2.Resolve(ctx, "jobs", false); err == nil || !strings.Contains(err.Error(), `FLASH_MOTHERSHIP_ID: "127.0.0.1:1" is not a RunPod endpoint id`) {
		t.Errorf("FLASH_MOTHERSHIP_ID: %v", err)
	}
}

// TestManifestRetries: 5xx answers are retried a bounded number of times,
// a 403 is not retried.
func TestManifestRetries(t *testing.T) {
	var fetches atomic.Int32
	status := atomic.Int32{}
	status.Store(503)
	mothership := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := fetches.Add(1)
		if s := int(status.Load()); s != 200 && (s != 503 || n < 3) {
			w.WriteHeader(s)
			fmt.Fprint(w, `{"error": "only the mothership serves the manifest"}`)
			return
		}
		fmt.Fprint(w, `{"endpoints": {"jobs": {"url": "http://127.0.0.1:7"}}}`)
	}))
	defer mothership.Close()
	r := &Resolver{Getenv: func(k string) string {
		return map[string]string{"FLASH_MOTHERSHIP_URL": mothership.URL}[k]
	}}
	u, err := r.Resolve(context.Background(), "jobs", false)
	if err != nil || u != "http://127.0.0.1:7" || fetches.Load() != 3 {
		t.Errorf("after two 503s: %q, %v, %d fetches", u, err, fetches.Load())
	}

	fetches.Store(0)
	status.Store(403)
	r = &Resolver{Getenv: r.Getenv}
	_, err = r.Resolve(context.Background(), "jobs", false)
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 403 || fetches.Load() != 1 {
		t.Errorf("403: %v after %d fetches, want one attempt", err, fetches.Load())
	}
}

func TestEnvSuffix(t *testing.T) {
	for in, want := range map[string]string{
		"test-api":                "TEST_API",
		"03_05_load_balancer_cpu": "03_05_LOAD_BALANCER_CPU",
		"my.api v2":               "MY_API_V2",
		"é":                       "_",
	} {
		if got := EnvSuffix(in); got != want {
			t.Errorf("EnvSuffix(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAllServer serves a load-balanced and a queue App under their
// prefixes on one handler.
func TestAllServer(t *testing.T) {
	s, err := NewAllServer([]Mount{
		{Prefix: "/test-api", App: App{Resource: LiveLoadBalancer{Name: "test-api"}, Functions: testFunctions(newBlocker())}},
		{Prefix: "/jobs", App: App{Resource: LiveServerless{Name: "jobs"}, Functions: addFunctions()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.SetLogger(quietLogger())
	if err := s.Startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	for _, c := range []struct{ method, path, body, want string }{
		{"GET", "/ping", "", `{"status":"healthy"}`},
		{"GET", "/test-api/ping", "", `{"status":"healthy"}`},
		{"GET", "/test-api/items/a%2Fb?verbose=true", "", `{"id":"a/b","verbose":true}`},
		{"POST", "/test-api/api/process", `{"x": 1, "y": 2}`, `{"sum":3}`},
		{"POST", "/test-api/execute", `{"function_name": "ProcessData", "args": [2, 2]}`, `{"success":true,"result":{"sum":4}}`},
		{"POST", "/jobs/runsync", `{"input": {"function_name": "Add", "args": [1], "kwargs": {"b": 2}}}`, `"output":{"success":true,"result":3}`},
		{"GET", "/nope/x", "", `no resource is served under /nope; resources: /jobs, /test-api`},
	} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), c.want) {
			t.Errorf("%s %s: %d %s, want %s", c.method, c.path, resp.StatusCode, b, c.want)
		}
	}

	// Registered, the Apps answer typed calls in process.
	r := &Resolver{Getenv: func(string) string { return "" }}
	defer s.Register(r)()
	c := &Caller{Resolver: r, HTTPClient: &http.Client{Transport: failingTransport{}}}
	var n int
	if err := c.Call(context.Background(), remoteJob, []any{1, (*int)(nil)}, &n); err != nil || n != 1 {
		t.Errorf("in-process job: %d, %v", n, err)
	}
}
