package runtime

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testKey = "sk-test-do-not-leak"

// keyRecorder is a loopback server that records the host, path and
// Authorization header of every request it gets.
type keyRecorder struct {
	name string
	mu   sync.Mutex
	seen []string
	srv  *httptest.Server
	// handle answers a request; nil answers {"ok": true}.
	handle func(w http.ResponseWriter, r *http.Request) bool
}

func (rc *keyRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.seen = append(rc.seen, fmt.Sprintf("%s %s auth=%q", r.Host, r.URL.EscapedPath(), r.Header.Get("Authorization")))
	h := rc.handle
	rc.mu.Unlock()
	if h != nil && h(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"id": "job-1", "status": "COMPLETED", "output": {"success": true, "result": 7}, "sum": 7}`)
}

func (rc *keyRecorder) take() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	s := rc.seen
	rc.seen = nil
	return s
}

// keyWorld is RunPod on loopback: an http.Client whose dialer maps every
// runpod.ai host to a loopback TLS server (port 443) or a plain one (port
// 80), lets 127.0.0.1 through to the stranger servers, and refuses, and
// counts, every other address. No name is ever looked up.
type keyWorld struct {
	runpod, runpodPlain, stranger, stranger2 *keyRecorder
	client                                   *http.Client
	refused                                  atomic.Int32
}

func newKeyWorld(t *testing.T) *keyWorld {
	t.Helper()
	w := &keyWorld{
		runpod:      &keyRecorder{name: "runpod"},
		runpodPlain: &keyRecorder{name: "runpod-plain"},
		stranger:    &keyRecorder{name: "stranger"},
		stranger2:   &keyRecorder{name: "stranger2"},
	}
	w.runpod.srv = httptest.NewTLSServer(w.runpod)
	w.runpodPlain.srv = httptest.NewServer(w.runpodPlain)
	w.stranger.srv = httptest.NewServer(w.stranger)
	w.stranger2.srv = httptest.NewServer(w.stranger2)
	for _, r := range []*keyRecorder{w.runpod, w.runpodPlain, w.stranger, w.stranger2} {
		t.Cleanup(r.srv.Close)
	}
	roots := x509.NewCertPool()
	roots.AddCert(w.runpod.srv.Certificate())
	addr := func(r *keyRecorder) string { return r.srv.Listener.Addr().String() }
	var d net.Dialer
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
			host, port, err := net.SplitHostPort(address)
			if err != nil {
				return nil, err
			}
			h := strings.ToLower(host)
			switch {
			case (h == "runpod.ai" || strings.HasSuffix(h, ".runpod.ai")) && port == "443":
				return d.DialContext(ctx, "tcp", addr(w.runpod))
			case (h == "runpod.ai" || strings.HasSuffix(h, ".runpod.ai")) && port == "80":
				return d.DialContext(ctx, "tcp", addr(w.runpodPlain))
			case address == addr(w.stranger) || address == addr(w.stranger2):
				return d.DialContext(ctx, "tcp", address)
			}
			w.refused.Add(1)
			return nil, fmt.Errorf("test dialer: refusing %s", address)
		},
		// The test certificate names example.com; every runpod.ai host
		// is served by that one loopback server.
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "example.com"},
	}
	t.Cleanup(tr.CloseIdleConnections)
	w.client = &http.Client{Transport: tr}
	return w
}

func (w *keyWorld) none(t *testing.T, what string) {
	t.Helper()
	for _, r := range []*keyRecorder{w.runpod, w.runpodPlain, w.stranger, w.stranger2} {
		if seen := r.take(); len(seen) > 0 {
			t.Errorf("%s: %s got requests %q, want none", what, r.name, seen)
		}
	}
	if n := w.refused.Swap(0); n > 0 {
		t.Errorf("%s: %d dials to other addresses", what, n)
	}
}

var (
	lbFunc    = &RemoteFunc{Resource: "test-api", LoadBalanced: true, Name: "example.com/app/api.Get", Method: "GET", Path: "/items/{id}", Params: []string{"id"}}
	queueFunc = &RemoteFunc{Resource: "jobs", Name: "example.com/app/jobs.Run", Params: []string{"n"}}
)

// TestKeyWithBadEndpointIDs: an id that is not an endpoint id is an error
// naming its variable, and no request leaves the process.
func TestKeyWithBadEndpointIDs(t *testing.T) {
	t.Setenv("RUNPOD_API_KEY", testKey)
	w := newKeyWorld(t)
	bad := []string{"evil.example#", "evil.example/", "a/b", "user@evil.example", "evil.example:443", "host:1",
		"ABC123", "Abc", strings.Repeat("a", 65), "-abc", "a b", "a.b", "a%2Fb", "a\nb", "é"}
	for _, id := range bad {
		for _, v := range []string{"FLASH_ENDPOINT_ID_TEST_API", "FLASH_MOTHERSHIP_ID"} {
			env := map[string]string{v: id, "RUNPOD_API_KEY": testKey}
			c := &Caller{HTTPClient: w.client, Resolver: &Resolver{Getenv: func(k string) string { return env[k] }, HTTPClient: w.client}}
			err := c.Call(context.Background(), lbFunc, []any{"x"}, nil)
			if err == nil || !strings.Contains(err.Error(), v+": ") || !strings.Contains(err.Error(), "is not a RunPod endpoint id") {
				t.Errorf("%s=%q: %v, want an error naming %s", v, id, err, v)
			}
			if err != nil && strings.Contains(err.Error(), testKey) {
				t.Errorf("%s=%q: the error holds the key: %v", v, id, err)
			}
			w.none(t, v+"="+id)
		}
		if u := EndpointURL(id); u != "" {
			t.Errorf("EndpointURL(%q) = %q, want \"\"", id, u)
		}
		if u := QueueURL(id); u != "" {
			t.Errorf("QueueURL(%q) = %q, want \"\"", id, u)
		}
		c := &Client{BaseURL: EndpointURL(id), APIKey: testKey, HTTPClient: w.client}
		if err := c.Call(context.Background(), "GET", "/x", nil, nil); err == nil {
			t.Errorf("a Client on EndpointURL(%q) sent a request", id)
		}
		w.none(t, "Client on EndpointURL("+id+")")
	}
	// A good id of 64 characters is one.
	id := strings.Repeat("a", 63) + "1"
	env := map[string]string{"FLASH_ENDPOINT_ID_TEST_API": id, "RUNPOD_API_KEY": testKey}
	c := &Caller{HTTPClient: w.client, Resolver: &Resolver{Getenv: func(k string) string { return env[k] }}}
	if err := c.Call(context.Background(), lbFunc, []any{"x"}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := w.runpod.take(), []string{fmt.Sprintf("%s.api.runpod.ai /items/x auth=%q", id, "Bearer "+testKey)}; !equalStrings(got, want) {
		t.Errorf("64-character id: %q, want %q", got, want)
	}
}

// TestKeyDestinations: where the key goes (RunPod https URLs, the base
// URLs the process configured) and where it does not (a manifest's other
// URLs, http URLs of runpod.ai, redirects to another host).
func TestKeyDestinations(t *testing.T) {
	t.Setenv("RUNPOD_API_KEY", testKey)
	w := newKeyWorld(t)
	bearer := fmt.Sprintf("auth=%q", "Bearer "+testKey)
	noAuth := `auth=""`
	strangerHost := w.stranger.srv.Listener.Addr().String()
	w.stranger.handle = func(rw http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/manifest" {
			return false
		}
		fmt.Fprintf(rw, `{"endpoints": {
			"test-api": {"endpoint_id": "ignored", "url": %q},
			"jobs": {"endpoint_id": "q456"},
			"rp": {"url": "https://custom.api.runpod.ai/base"},
			"rp-http": {"url": "http://plain.api.runpod.ai"},
			"look-alike": {"url": "https://api.runpod.ai.evil.example"},
			"bad": {"endpoint_id": "evil.example#"}}}`, w.stranger.srv.URL+"/custom")
		return true
	}
	env := map[string]string{"FLASH_MOTHERSHIP_URL": w.stranger.srv.URL, "RUNPOD_API_KEY": testKey}
	res := &Resolver{Getenv: func(k string) string { return env[k] }, HTTPClient: w.client, ManifestTries: 1}
	c := &Caller{HTTPClient: w.client, Resolver: res, PollInterval: time.Millisecond}
	ctx := context.Background()
	call := func(fn *RemoteFunc) error {
		t.Helper()
		if fn.LoadBalanced {
			return c.Call(ctx, fn, []any{"x"}, nil)
		}
		return c.Call(ctx, fn, []any{1}, nil)
	}

	// The manifest comes from FLASH_MOTHERSHIP_URL, set by the process:
	// it gets the key. Its URL on another host does not.
	if err := call(lbFunc); err != nil {
		t.Fatal(err)
	}
	if got, want := w.stranger.take(), []string{strangerHost + " /manifest " + bearer, strangerHost + " /custom/items/x " + noAuth}; !equalStrings(got, want) {
		t.Errorf("manifest URL on another host: %q, want %q", got, want)
	}
	// An endpoint id of the manifest is a RunPod URL: the key goes there.
	if err := call(queueFunc); err != nil {
		t.Fatal(err)
	}
	if got, want := w.runpod.take(), []string{"api.runpod.ai /v2/q456/runsync " + bearer}; !equalStrings(got, want) {
		t.Errorf("manifest endpoint_id: %q, want %q", got, want)
	}
	for _, c := range []struct {
		resource string
		rec      *keyRecorder
		want     string
	}{
		{"rp", w.runpod, "custom.api.runpod.ai /base/items/x " + bearer},
		{"rp-http", w.runpodPlain, "plain.api.runpod.ai /items/x " + noAuth},
	} {
		fn := *lbFunc
		fn.Resource = c.resource
		if err := call(&fn); err != nil {
			t.Fatal(err)
		}
		if got := c.rec.take(); !equalStrings(got, []string{c.want}) {
			t.Errorf("manifest url of %s: %q, want %q", c.resource, got, c.want)
		}
	}
	// A look-alike host is refused by the test dialer; what matters is
	// that it would not have had the key, which runPodURL decides.
	if runPodURL("https://api.runpod.ai.evil.example") || runPodURL("https://evilrunpod.ai") || runPodURL("https://user@api.runpod.ai") {
		t.Error("runPodURL accepts a host that is not runpod.ai")
	}
	bad := *lbFunc
	bad.Resource = "bad"
	if err := call(&bad); err == nil || !strings.Contains(err.Error(), `endpoints["bad"].endpoint_id`) {
		t.Errorf("bad manifest endpoint_id: %v", err)
	}
	w.none(t, "bad manifest endpoint_id")

	// Explicit base URLs get the key: Caller.BaseURL, Client.BaseURL,
	// FLASH_ENDPOINT_URL_*.
	explicit := &Caller{BaseURL: w.stranger.srv.URL + "/b", HTTPClient: w.client, APIKey: testKey}
	if err := explicit.Call(ctx, lbFunc, []any{"x"}, nil); err != nil {
		t.Fatal(err)
	}
	cl := &Client{BaseURL: w.stranger.srv.URL, HTTPClient: w.client, APIKey: testKey}
	if err := cl.Call(ctx, "GET", "/c", nil, nil); err != nil {
		t.Fatal(err)
	}
	env["FLASH_ENDPOINT_URL_TEST_API"] = w.stranger.srv.URL + "/e"
	if err := call(lbFunc); err != nil {
		t.Fatal(err)
	}
	if got, want := w.stranger.take(), []string{strangerHost + " /b/items/x " + bearer, strangerHost + " /c " + bearer, strangerHost + " /e/items/x " + bearer}; !equalStrings(got, want) {
		t.Errorf("explicit base URLs: %q, want %q", got, want)
	}
	w.none(t, "explicit base URLs")

	// Redirects: to another host (even a runpod.ai one, or the same
	// host on another port) the key is dropped; on the same host it
	// stays.
	stranger2Host := w.stranger2.srv.Listener.Addr().String()
	w.runpod.handle = func(rw http.ResponseWriter, r *http.Request) bool {
		switch r.URL.Path {
		case "/items/away":
			http.Redirect(rw, r, w.stranger2.srv.URL+"/landed", http.StatusTemporaryRedirect)
		case "/items/sibling":
			http.Redirect(rw, r, "https://other.api.runpod.ai/landed", http.StatusFound)
		case "/items/same":
			http.Redirect(rw, r, "/landed", http.StatusFound)
		default:
			return false
		}
		return true
	}
	w.stranger.handle = func(rw http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/e/items/away" {
			http.Redirect(rw, r, w.stranger2.srv.URL+"/landed", http.StatusTemporaryRedirect)
			return true
		}
		return false
	}
	env["FLASH_ENDPOINT_URL_TEST_API"] = ""
	env["FLASH_ENDPOINT_ID_TEST_API"] = "lb123"
	for _, id := range []string{"away", "sibling", "same"} {
		if err := c.Call(ctx, lbFunc, []any{id}, nil); err != nil {
			t.Fatalf("redirect %s: %v", id, err)
		}
	}
	if got, want := w.runpod.take(), []string{
		"lb123.api.runpod.ai /items/away " + bearer,
		"lb123.api.runpod.ai /items/sibling " + bearer,
		"other.api.runpod.ai /landed " + noAuth,
		"lb123.api.runpod.ai /items/same " + bearer,
		"lb123.api.runpod.ai /landed " + bearer,
	}; !equalStrings(got, want) {
		t.Errorf("redirects on RunPod: %q\nwant %q", got, want)
	}
	if got, want := w.stranger2.take(), []string{stranger2Host + " /landed " + noAuth}; !equalStrings(got, want) {
		t.Errorf("redirect to another host: %q, want %q", got, want)
	}
	env["FLASH_ENDPOINT_ID_TEST_API"] = ""
	env["FLASH_ENDPOINT_URL_TEST_API"] = w.stranger.srv.URL + "/e"
	if err := c.Call(ctx, lbFunc, []any{"away"}, nil); err != nil {
		t.Fatal(err)
	}
	w.stranger.take()
	if got, want := w.stranger2.take(), []string{stranger2Host + " /landed " + noAuth}; !equalStrings(got, want) {
		t.Errorf("redirect from an explicit base URL to another port: %q, want %q", got, want)
	}
	w.none(t, "after redirects")
}

// TestPathValuesKeepTheRoute: "." and ".." are sent percent-encoded, so a
// value can never reach another route.
func TestPathValuesKeepTheRoute(t *testing.T) {
	w := newKeyWorld(t)
	cl := &Client{BaseURL: "https://lb1.api.runpod.ai/base", HTTPClient: w.client}
	for v, want := range map[string]string{".": "/base/items/%2E/x", "..": "/base/items/%2E%2E/x", "a/../b": "/base/items/a%2F..%2Fb/x", "...": "/base/items/.../x"} {
		if err := cl.Call(context.Background(), "GET", "/items/{id}/x", map[string]any{"id": v}, nil); err != nil {
			t.Fatal(err)
		}
		if got := w.runpod.take(); len(got) != 1 || !strings.HasPrefix(got[0], "lb1.api.runpod.ai "+want+" ") {
			t.Errorf("%q: server saw %q, want %s", v, got, want)
		}
	}
	// The job id of a status poll is a path value too.
	w.runpod.handle = func(rw http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/runsync") {
			io.WriteString(rw, `{"id": "..", "status": "IN_QUEUE"}`)
			return true
		}
		return false
	}
	q := &Client{BaseURL: QueueURL("q1"), HTTPClient: w.client, PollInterval: time.Millisecond}
	if err := q.RunSync(context.Background(), "F", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := w.runpod.take(); len(got) != 2 || !strings.HasPrefix(got[1], "api.runpod.ai /v2/q1/status/%2E%2E ") {
		t.Errorf("status poll of job \"..\": %q", got)
	}
}

// TestQueueCallsWaitAndNeverResubmit: queue requests outlast a short
// Client.Timeout (RunPod holds /runsync up to 90 s); a client that gives
// up returns a *JobError with the job's id, and /runsync was posted once.
func TestQueueCallsWaitAndNeverResubmit(t *testing.T) {
	var runsyncs, polls atomic.Int32
	pollStatus := atomic.Int32{}
	pollStatus.Store(200)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/runsync"):
			runsyncs.Add(1)
			time.Sleep(600 * time.Millisecond) // the /runsync hold
			io.WriteString(w, `{"id": "job-7", "status": "IN_PROGRESS"}`)
		case r.URL.Path == "/status/job-7":
			polls.Add(1)
			if s := int(pollStatus.Load()); s != 200 {
				w.WriteHeader(s)
				io.WriteString(w, `{"error": "busy"}`)
				return
			}
			io.WriteString(w, `{"id": "job-7", "status": "COMPLETED", "output": {"success": true, "result": 3}}`)
		}
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL, Timeout: 100 * time.Millisecond, PollInterval: time.Millisecond}
	var n int
	if err := c.RunSync(context.Background(), "F", nil, nil, &n); err != nil || n != 3 {
		t.Fatalf("a /runsync held longer than Timeout: %d, %v", n, err)
	}
	// Every poll fails: the client stops after a few, with the job id.
	runsyncs.Store(0)
	polls.Store(0)
	pollStatus.Store(503)
	err := c.RunSync(context.Background(), "F", nil, nil, &n)
	var je *JobError
	if !errors.As(err, &je) || je.ID != "job-7" || je.Status != "IN_PROGRESS" || je.Err == nil {
		t.Errorf("failing polls: %v, want a JobError for job-7", err)
	}
	if runsyncs.Load() != 1 || polls.Load() != statusTries {
		t.Errorf("failing polls: %d /runsync, %d polls; want 1 and %d", runsyncs.Load(), polls.Load(), statusTries)
	}
	// The caller's deadline while polling: a JobError too.
	runsyncs.Store(0)
	pollStatus.Store(200)
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/runsync") {
			runsyncs.Add(1)
		}
		io.WriteString(w, `{"id": "job-8", "status": "IN_QUEUE"}`)
	})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = c.RunSync(ctx, "F", nil, nil, &n)
	if !errors.As(err, &je) || je.ID != "job-8" || !errors.Is(err, context.DeadlineExceeded) || runsyncs.Load() != 1 {
		t.Errorf("deadline while polling: %v after %d /runsync", err, runsyncs.Load())
	}
}

// TestManifestSingleFlightAndStale: concurrent callers share one fetch;
// while the mothership fails, the last good manifest is served until it
// is ManifestMaxStale old.
func TestManifestSingleFlightAndStale(t *testing.T) {
	var fetches atomic.Int32
	failing := atomic.Bool{}
	mothership := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		if failing.Load() {
			http.Error(w, `{"error": "down"}`, http.StatusServiceUnavailable)
			return
		}
		time.Sleep(200 * time.Millisecond)
		io.WriteString(w, `{"endpoints": {"jobs": {"url": "http://127.0.0.1:7"}}}`)
	}))
	defer mothership.Close()
	r := &Resolver{Getenv: func(k string) string {
		return map[string]string{"FLASH_MOTHERSHIP_URL": mothership.URL}[k]
	}, ManifestTTL: 50 * time.Millisecond, ManifestTries: 1}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			if u, err := r.Resolve(context.Background(), "jobs", false); err != nil || u != "http://127.0.0.1:7" {
				errs <- fmt.Errorf("%q %v", u, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("50 concurrent callers made %d fetches, want 1", n)
	}

	failing.Store(true)
	time.Sleep(60 * time.Millisecond) // past the TTL
	if u, err := r.Resolve(context.Background(), "jobs", false); err != nil || u != "http://127.0.0.1:7" {
		t.Errorf("mothership down, manifest 60 ms old: %q %v, want the last good one", u, err)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches, want a second (failed) one", n)
	}
	// Within the pause after a failure, no new fetch.
	r.Resolve(context.Background(), "jobs", false)
	if n := fetches.Load(); n != 2 {
		t.Errorf("%d fetches right after a failure, want 2", n)
	}
	// Too old: the error.
	r.mu.Lock()
	r.fetchedAt = time.Now().Add(-11 * time.Minute)
	r.mu.Unlock()
	if _, err := r.Resolve(context.Background(), "jobs", false); err == nil {
		t.Error("a manifest 11 minutes old was served while the mothership fails")
	}
	// A waiter's own context ends its wait.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r2 := &Resolver{Getenv: r.Getenv}
	if _, err := r2.Resolve(ctx, "jobs", false); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v", err)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzEndpointID: an id either is an endpoint id, and then its URLs have
// exactly the RunPod host and route, or it names no URL at all.
func FuzzEndpointID(f *testing.F) {
	for _, s := range []string{"abc123", "evil.example#", "a/b", "a@b", "a:1", "ABC", strings.Repeat("a", 65), "-a", "", "a-b-", "%2e", "a?b", "a\\b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		lb, q := EndpointURL(id), QueueURL(id)
		if CheckEndpointID(id) != nil {
			if lb != "" || q != "" {
				t.Fatalf("invalid id %q gave %q, %q", id, lb, q)
			}
			return
		}
		u, err := url.Parse(lb)
		if err != nil || u.Scheme != "https" || u.Host != id+".api.runpod.ai" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			t.Fatalf("EndpointURL(%q) = %q: %+v %v", id, lb, u, err)
		}
		u, err = url.Parse(q + "/runsync")
		if err != nil || u.Host != "api.runpod.ai" || u.EscapedPath() != "/v2/"+id+"/runsync" || u.RawQuery != "" || u.Fragment != "" {
			t.Fatalf("QueueURL(%q) = %q: %+v %v", id, q, u, err)
		}
	})
}

// FuzzPathValue: no path value changes the host or the route: the
// request keeps the base's host and has exactly the template's segments,
// the variable's one decoding to the value.
func FuzzPathValue(f *testing.F) {
	for _, s := range []string{".", "..", "a/b", "../../admin", "?x=1", "#frag", "%2e%2e", "a b", "", "//evil.example", "@evil", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		p, rest, err := expandPath("/items/{id}/x", map[string]any{"id": v})
		if err != nil || len(rest) != 0 {
			t.Fatalf("%q: %v", v, err)
		}
		req, err := http.NewRequest("GET", "https://lb1.api.runpod.ai/base"+p, nil)
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if req.URL.Host != "lb1.api.runpod.ai" || req.URL.RawQuery != "" || req.URL.Fragment != "" || req.URL.User != nil {
			t.Fatalf("%q changed the URL: %+v", v, req.URL)
		}
		segs := strings.Split(req.URL.EscapedPath(), "/")
		if len(segs) != 5 || segs[1] != "base" || segs[2] != "items" || segs[4] != "x" {
			t.Fatalf("%q: path %q", v, req.URL.EscapedPath())
		}
		if segs[3] == "." || segs[3] == ".." {
			t.Fatalf("%q: a dot segment %q", v, segs[3])
		}
		if got, err := url.PathUnescape(segs[3]); err != nil || got != v {
			t.Fatalf("%q: segment %q decodes to %q (%v)", v, segs[3], got, err)
		}
	})
}
