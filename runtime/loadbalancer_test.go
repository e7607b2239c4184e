package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type answer struct {
	status int
	header http.Header
	body   string
	close  bool // Connection: close (net/http takes it out of header)
}

func send(t testing.TB, method, url, body string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b), resp.Close}
}

func newTestLB(t testing.TB, resource Resource, b *blocker) *LoadBalancerServer {
	t.Helper()
	s, err := NewLoadBalancer(App{Resource: resource, Functions: testFunctions(b), Manifest: []byte(`{"version":"1.0"}`)})
	if err != nil {
		t.Fatal(err)
	}
	s.Logger = discardLogger()
	s.ManifestPaths = nil
	return s
}

// TestRoutes drives every kind of answer of user routes through a real
// server on loopback.
func TestRoutes(t *testing.T) {
	s := newTestLB(t, LoadBalancer{Name: "api"}, nil)
	base, _, _ := startLB(t, s, false, 5*time.Second)

	tests := []struct {
		name         string
		method, path string
		body         string
		status       int
		want         string // exact JSON body, or "" to skip
		errHas       string // substring of the "error" message
	}{
		{"body params", "POST", "/api/process", `{"x": 5, "y": 3}`, 200, `{"sum":8}`, ""},
		{"missing body key", "POST", "/api/process", `{"x": 5}`, 400, "", `parameter "y": required`},
		{"null is missing", "POST", "/api/process", `{"x": null, "y": 3}`, 400, "", `parameter "x": required`},
		{"empty body is {}", "POST", "/api/process", ``, 400, "", `parameter "x": required`},
		{"unknown key", "POST", "/api/process", `{"x": 5, "y": 3, "z": 1}`, 400, "", `parameter "z": unknown key`},
		{"case-mismatched key", "POST", "/api/process", `{"X": 5, "y": 3}`, 400, "", `did you mean "x"`},
		{"string for int", "POST", "/api/process", `{"x": "5", "y": 3}`, 400, "", `parameter "x": want a number, got a string`},
		{"fraction for int", "POST", "/api/process", `{"x": 5.5, "y": 3}`, 400, "", `parameter "x": want an integer`},
		{"array body", "POST", "/api/process", `[1, 2]`, 400, "", "must be a JSON object"},
		{"null body", "POST", "/api/process", `null`, 400, "", "must be a JSON object"},
		{"bad JSON", "POST", "/api/process", `{"x": 5,`, 400, "", "invalid JSON"},
		{"no result", "POST", "/reset", ``, 204, "", ""},
		{"no result with {}", "POST", "/reset", `{}`, 204, "", ""},
		{"no params, unknown key", "POST", "/reset", `{"a": 1}`, 400, "", `parameter "a": unknown key`},
		{"path var", "GET", "/items/abc", ``, 200, `{"id":"abc","verbose":false}`, ""},
		{"optional query", "GET", "/items/abc?verbose=true", ``, 200, `{"id":"abc","verbose":true}`, ""},
		{"ParseBool", "GET", "/items/abc?verbose=1", ``, 200, `{"id":"abc","verbose":true}`, ""},
		{"bad bool", "GET", "/items/abc?verbose=maybe", ``, 400, "", `parameter "verbose": want a boolean`},
		{"unknown query ignored", "GET", "/items/abc?debug=1&x=2", ``, 200, `{"id":"abc","verbose":false}`, ""},
		{"literal before variable", "GET", "/items/new", ``, 200, `"the new-item form"`, ""},
		{"regexp var", "DELETE", "/items/42", ``, 204, "", ""},
		{"StatusCode error", "DELETE", "/items/404", ``, 404, `{"error":"item 404 does not exist"}`, ""},
		{"uint16 overflow", "DELETE", "/items/70000", ``, 400, "", `parameter "id": 70000 overflows uint16`},
		{"405 with Allow", "DELETE", "/items/abc", ``, 405, "", "method DELETE not allowed"},
		{"escaped slash", "GET", "/files/a%2Fb", ``, 200, `{"name":"a/b"}`, ""},
		{"escaped space", "GET", "/files/hello%20w%C3%B6rld", ``, 200, `{"name":"hello wörld"}`, ""},
		{"query slice", "GET", "/search?names=a&names=b", ``, 200, `{"names":["a","b"]}`, ""},
		{"required slice", "GET", "/search", ``, 400, "", `parameter "names": required`},
		{"int8 overflow", "GET", "/search?names=a&limit=300", ``, 400, "", `parameter "limit": 300 overflows int8`},
		{"optional slice and text", "GET", "/search?names=a&limit=-5&scores=1.5&scores=2&level=high", ``, 200,
			`{"level":2,"limit":-5,"names":["a"],"scores":[1.5,2]}`, ""},
		{"bad text", "GET", "/search?names=a&level=bogus", ``, 400, "", `parameter "level": unknown level "bogus"`},
		{"scalar given twice", "GET", "/search?names=a&limit=1&limit=2", ``, 400, "", `parameter "limit": given 2 times`},
		{"NaN rejected", "GET", "/search?names=a&scores=NaN", ``, 400, "", `want a finite number`},
		{"path and body", "PUT", "/transform/upper", `{"text": "hi", "options": {"a": 1}}`, 200, `{"options":{"a":1},"text":"HI"}`, ""},
		{"optional body omitted", "PUT", "/transform/lower", `{"text": "Hi"}`, 200, `{"options":null,"text":"Hi"}`, ""},
		{"nested type error", "PUT", "/transform/upper", `{"text": "hi", "options": {"a": "x"}}`, 400, "", `parameter "options"`},
		// A deployed resource's 500 names the function, not the detail.
		{"plain error", "POST", "/fail", `{"code": 0}`, 500, `{"error":"internal error in Fail"}`, ""},
		{"wrapped StatusCode error", "POST", "/fail", `{"code": 418}`, 418, `{"error":"wrapped: teapot trouble"}`, ""},
		{"panic", "GET", "/panic", ``, 500, `{"error":"internal error in Panic"}`, ""},
		{"alive after panic", "GET", "/items/x", ``, 200, `{"id":"x","verbose":false}`, ""},
		{"404", "GET", "/nope", ``, 404, `{"error":"no route for GET /nope"}`, ""},
		{"execute on deployed is 404", "POST", "/execute", `{"function_name": "ProcessData", "args": [1, 2]}`, 404, "", "no route"},
		{"manifest 403", "GET", "/manifest", ``, 403, `{"error":"only the mothership serves the manifest"}`, ""},
		{"ping", "GET", "/ping", ``, 200, `{"status":"healthy"}`, ""},
		{"ping 405", "POST", "/ping", ``, 405, "", "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, tt.method, base+tt.path, tt.body)
			if a.status != tt.status {
				t.Fatalf("%s %s: status %d, want %d (body %s)", tt.method, tt.path, a.status, tt.status, a.body)
			}
			if tt.status == 204 {
				if a.body != "" {
					t.Errorf("204 with body %q", a.body)
				}
				return
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tt.want != "" && strings.TrimSpace(a.body) != tt.want {
				t.Errorf("body %s, want %s", strings.TrimSpace(a.body), tt.want)
			}
			if tt.status >= 300 {
				var e struct{ Error string }
				if err := json.Unmarshal([]byte(a.body), &e); err != nil || e.Error == "" {
					t.Fatalf("non-2xx body %q is not {\"error\": ...}", a.body)
				}
				if !strings.Contains(e.Error, tt.errHas) {
					t.Errorf("error %q does not contain %q", e.Error, tt.errHas)
				}
			}
		})
	}

	t.Run("Allow", func(t *testing.T) {
		a := send(t, "PATCH", base+"/items/42", "")
		if a.status != 405 || a.header.Get("Allow") != "DELETE, GET, HEAD" {
			t.Errorf("PATCH /items/42: %d Allow %q", a.status, a.header.Get("Allow"))
		}
		a = send(t, "GET", base+"/api/process", "")
		if a.status != 405 || a.header.Get("Allow") != "POST" {
			t.Errorf("GET /api/process: %d Allow %q", a.status, a.header.Get("Allow"))
		}
	})
	t.Run("HEAD", func(t *testing.T) {
		if a := send(t, "HEAD", base+"/items/abc", ""); a.status != 200 {
			t.Errorf("HEAD /items/abc: %d", a.status)
		}
	})
	t.Run("unclean path redirects", func(t *testing.T) {
		// net/http's client cleans dot segments itself; a double slash survives.
		a := send(t, "GET", base+"//items/abc", "")
		if a.status != http.StatusMovedPermanently || a.header.Get("Location") != "/items/abc" || !strings.Contains(a.body, `"error"`) {
			t.Errorf("GET //items/abc: %d Location %q body %q", a.status, a.header.Get("Location"), a.body)
		}
		a = send(t, "GET", base+"/items//abc?verbose=1", "")
		if a.status != http.StatusMovedPermanently || a.header.Get("Location") != "/items/abc?verbose=1" {
			t.Errorf("GET /items//abc?verbose=1: %d Location %q", a.status, a.header.Get("Location"))
		}
		// A trailing slash is another path, as with mux's StrictSlash off.
		if a = send(t, "GET", base+"/items/abc/", ""); a.status != 404 {
			t.Errorf("GET /items/abc/: %d", a.status)
		}
	})
}

func TestBodyLimit(t *testing.T) {
	s := newTestLB(t, LoadBalancer{Name: "api"}, nil)
	s.MaxBodyBytes = 64
	base, _, _ := startLB(t, s, false, 5*time.Second)
	big := `{"x": 1, "y": 2, "pad": "` + strings.Repeat("a", 100) + `"}`
	if a := send(t, "POST", base+"/api/process", big); a.status != 413 || !strings.Contains(a.body, `"error"`) {
		t.Errorf("with Content-Length: %d %s", a.status, a.body)
	}
	// Without Content-Length (chunked), the limit is enforced while reading.
	req, _ := http.NewRequest("POST", base+"/api/process", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || !strings.Contains(string(b), `"error"`) {
		t.Errorf("chunked: %d %s", resp.StatusCode, b)
	}
	if a := send(t, "POST", base+"/api/process", `{"x": 1, "y": 2}`); a.status != 200 {
		t.Errorf("small body: %d %s", a.status, a.body)
	}
}

func TestExecute(t *testing.T) {
	s := newTestLB(t, LiveLoadBalancer{Name: "api"}, nil)
	base, _, _ := startLB(t, s, false, 5*time.Second)
	tests := []struct {
		name, body string
		status     int
		want       string // exact JSON, when success
		errHas     string // substring of error, when not
	}{
		{"bare name, args", `{"function_name": "ProcessData", "args": [5, 3]}`, 200, `{"success":true,"result":{"sum":8}}`, ""},
		{"qualified, kwargs", `{"function_name": "example.com/app/api.ProcessData", "kwargs": {"y": 3, "x": 5}}`, 200, `{"success":true,"result":{"sum":8}}`, ""},
		{"mixed", `{"function_name": "ProcessData", "args": [5], "kwargs": {"y": 3}}`, 200, `{"success":true,"result":{"sum":8}}`, ""},
		{"optional omitted", `{"function_name": "example.com/app/api.GetItem", "args": ["a"]}`, 200, `{"success":true,"result":{"id":"a","verbose":false}}`, ""},
		{"optional given", `{"function_name": "example.com/app/api.GetItem", "kwargs": {"id": "a", "verbose": true}}`, 200, `{"success":true,"result":{"id":"a","verbose":true}}`, ""},
		{"no result is null", `{"function_name": "Reset"}`, 200, `{"success":true,"result":null}`, ""},
		{"ambiguous bare name", `{"function_name": "GetItem", "args": ["a"]}`, 200, "", "Function 'GetItem' not found in registry (several functions are named GetItem: use a qualified name). Available: ['example.com/app/api.BadJSON', 'example.com/app/api.DeleteItem'"},
		{"unknown function", `{"function_name": "Nope"}`, 200, "", "Function 'Nope' not found in registry"},
		{"too many args", `{"function_name": "ProcessData", "args": [1, 2, 3]}`, 200, "", "takes 2 argument(s), got 3"},
		{"unknown kwarg", `{"function_name": "ProcessData", "args": [1, 2], "kwargs": {"Z": 1}}`, 200, "", `parameter "Z": unknown keyword argument`},
		{"unknown kwargs", `{"function_name": "ProcessData", "kwargs": {"b": 1, "a": 2}}`, 200, "", `unknown keyword arguments ['a', 'b']`},
		{"both ways", `{"function_name": "ProcessData", "args": [1, 2], "kwargs": {"x": 1}}`, 200, "", `parameter "x": given both`},
		{"missing arg", `{"function_name": "ProcessData", "args": [1]}`, 200, "", `parameter "y": required`},
		{"wrong type", `{"function_name": "ProcessData", "args": ["1", 2]}`, 200, "", `parameter "x": want a number`},
		{"args not array", `{"function_name": "ProcessData", "args": {"x": 1}}`, 200, "", `args must be a JSON array`},
		{"no function_name", `{"args": []}`, 200, "", `no function_name`},
		{"error", `{"function_name": "Fail", "args": [0]}`, 200, "", `plain failure`},
		{"panic", `{"function_name": "Panic"}`, 200, "", `panic: assignment to entry in nil map`},
		{"array body", `[1]`, 400, "", `must be a JSON object`},
		{"null body", `null`, 400, "", `must be a JSON object`},
		{"empty body", ``, 400, "", `empty request body`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := send(t, "POST", base+"/execute", tt.body)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if tt.want != "" {
				if got := strings.TrimSpace(a.body); got != tt.want {
					t.Errorf("got %s, want %s", got, tt.want)
				}
				return
			}
			var r struct {
				Success   *bool
				Error     string
				Traceback *string
			}
			if err := json.Unmarshal([]byte(a.body), &r); err != nil {
				t.Fatal(err)
			}
			if r.Success == nil || *r.Success || r.Traceback == nil {
				t.Fatalf("want success false with a traceback: %s", a.body)
			}
			if !strings.Contains(r.Error, tt.errHas) {
				t.Errorf("error %q does not contain %q", r.Error, tt.errHas)
			}
		})
	}
	t.Run("panic traceback is a stack", func(t *testing.T) {
		a := send(t, "POST", base+"/execute", `{"function_name": "Panic"}`)
		if !strings.Contains(a.body, "goroutine") {
			t.Errorf("traceback without a stack: %s", a.body)
		}
	})
	t.Run("GET /execute", func(t *testing.T) {
		if a := send(t, "GET", base+"/execute", ""); a.status != 405 || a.header.Get("Allow") != "POST" {
			t.Errorf("GET /execute: %d Allow %q", a.status, a.header.Get("Allow"))
		}
	})
}

func TestManifest(t *testing.T) {
	t.Run("mothership resource, embedded", func(t *testing.T) {
		s := newTestLB(t, &LoadBalancer{Name: "api", Mothership: true}, nil)
		base, _, _ := startLB(t, s, false, time.Second)
		a := send(t, "GET", base+"/manifest", "")
		if a.status != 200 || a.body != `{"version":"1.0"}` || a.header.Get("Content-Type") != "application/json" {
			t.Errorf("%d %q %q", a.status, a.body, a.header.Get("Content-Type"))
		}
	})
	t.Run("file wins over embedded", func(t *testing.T) {
		dir := t.TempDir()
		file := filepath.Join(dir, "flash_manifest.json")
		if err := os.WriteFile(file, []byte(`{"version":"1.0","endpoints":{"api":{"endpoint_id":"x"}}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		s := newTestLB(t, LoadBalancer{Name: "api"}, nil)
		s.Mothership = true // as FLASH_IS_MOTHERSHIP=true sets it
		s.ManifestPaths = []string{filepath.Join(dir, "missing.json"), file}
		base, _, _ := startLB(t, s, false, time.Second)
		a := send(t, "GET", base+"/manifest", "")
		if a.status != 200 || !strings.Contains(a.body, "endpoint_id") {
			t.Errorf("%d %q", a.status, a.body)
		}
	})
	t.Run("403 is a real 403", func(t *testing.T) {
		s := newTestLB(t, CPULoadBalancer{Name: "api"}, nil)
		base, _, _ := startLB(t, s, false, time.Second)
		a := send(t, "GET", base+"/manifest", "")
		if a.status != 403 || strings.TrimSpace(a.body) != `{"error":"only the mothership serves the manifest"}` {
			t.Errorf("%d %q", a.status, a.body)
		}
	})
}

func TestServerEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	e, err := readServerEnv(env(nil), "80")
	if err != nil || e.port != "80" || e.shutdownTimeout != 25*time.Second || e.maxBodyBytes != 10<<20 || e.mothership {
		t.Errorf("defaults: %+v %v", e, err)
	}
	e, err = readServerEnv(env(map[string]string{"PORT": "9000", "PORT_HEALTH": "9001", "FLASH_SHUTDOWN_TIMEOUT": "3",
		"FLASH_MAX_BODY_BYTES": "1024", "FLASH_IS_MOTHERSHIP": "true", "HOST": "127.0.0.1"}), "80")
	if err != nil || e.port != "9000" || e.healthPort != "9001" || e.shutdownTimeout != 3*time.Second ||
		e.maxBodyBytes != 1024 || !e.mothership || e.host != "127.0.0.1" {
		t.Errorf("set: %+v %v", e, err)
	}
	if e, _ := readServerEnv(env(map[string]string{"FLASH_SHUTDOWN_TIMEOUT": "1m30s"}), "80"); e.shutdownTimeout != 90*time.Second {
		t.Errorf("duration form: %v", e.shutdownTimeout)
	}
	if e.readTimeout != 60*time.Second || e.drainGrace != 2*time.Second || e.maxPending != 1000 {
		t.Errorf("SPEC 15 defaults: %+v", e)
	}
	e, err = readServerEnv(env(map[string]string{"FLASH_READ_TIMEOUT": "5", "FLASH_DRAIN_GRACE": "0", "FLASH_QUEUE_MAX_PENDING": "7"}), "80")
	if err != nil || e.readTimeout != 5*time.Second || e.drainGrace != 0 || e.maxPending != 7 {
		t.Errorf("SPEC 15 settings: %+v %v", e, err)
	}
	for _, bad := range []map[string]string{
		{"PORT": "http"}, {"PORT_HEALTH": "-1"}, {"FLASH_SHUTDOWN_TIMEOUT": "soon"},
		{"FLASH_MAX_BODY_BYTES": "10MB"}, {"FLASH_IS_MOTHERSHIP": "yes please"},
		{"FLASH_READ_TIMEOUT": "-1"}, {"FLASH_DRAIN_GRACE": "later"}, {"FLASH_QUEUE_MAX_PENDING": "0"},
	} {
		if _, err := readServerEnv(env(bad), "80"); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// TestPingWhileBusy checks that /ping answers at once while user calls
// hold every request they can.
func TestPingWhileBusy(t *testing.T) {
	b := newBlocker()
	s := newTestLB(t, LoadBalancer{Name: "api"}, b)
	base, _, _ := startLB(t, s, false, 5*time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(t, "GET", base+"/slow", "")
		}()
	}
	for range 8 {
		<-b.started
	}
	start := time.Now()
	a := send(t, "GET", base+"/ping", "")
	if a.status != 200 {
		t.Errorf("/ping while busy: %d", a.status)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("/ping took %v while user functions block", d)
	}
	close(b.release)
	wg.Wait()
}

// TestDrain cancels the serve context while a request is in flight: the
// health port answers 503, the request completes, and serve returns nil.
func TestDrain(t *testing.T) {
	b := newBlocker()
	s := newTestLB(t, LoadBalancer{Name: "api"}, b)
	base, health, stop := startLB(t, s, true, 10*time.Second)
	if a := send(t, "GET", health+"/ping", ""); a.status != 200 {
		t.Fatalf("health port /ping: %d", a.status)
	}
	if a := send(t, "GET", health+"/items/x", ""); a.status != 404 {
		t.Errorf("health port serves only /ping: %d", a.status)
	}
	got := make(chan answer, 1)
	go func() { got <- send(t, "GET", base+"/slow", "") }()
	<-b.started
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()

	deadline := time.Now().Add(5 * time.Second)
	for {
		a := send(t, "GET", health+"/ping", "")
		if a.status == 503 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/ping never answered 503 while draining (last %d)", a.status)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The main port stays open while the in-flight request finishes: its
	// /ping answers 503 too, and a new request 503 with a JSON error.
	if a := send(t, "GET", base+"/ping", ""); a.status != 503 {
		t.Errorf("main port /ping while draining: %d %s", a.status, a.body)
	}
	// SPEC 15: every request read during the drain is answered 503
	// {"error": "shutting down"} with Connection: close, on a new
	// connection or on one kept alive from before the SIGTERM.
	for i := range 2 {
		if a := send(t, "GET", base+"/items/x", ""); a.status != 503 || a.body != `{"error":"shutting down"}`+"\n" || !a.close {
			t.Errorf("request %d while draining: %d %q, Connection: close %v", i+1, a.status, a.body, a.close)
		}
	}
	select {
	case err := <-stopped:
		t.Fatalf("serve returned (%v) before the in-flight request finished", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release)
	if a := <-got; a.status != 200 || !strings.Contains(a.body, "released") {
		t.Errorf("in-flight request: %d %s", a.status, a.body)
	}
	if err := <-stopped; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// TestDrainTimeout: a request that outlives the shutdown timeout gets
// 503, whether its function returns on the cancelled context or ignores
// it, and serve still returns nil within the timeout.
func TestDrainTimeout(t *testing.T) {
	for _, tt := range []struct{ name, path string }{{"honours its context", "/slow"}, {"ignores its context", "/stuck"}} {
		t.Run(tt.name, func(t *testing.T) {
			b := newBlocker()
			defer close(b.release)
			s := newTestLB(t, LoadBalancer{Name: "api"}, b)
			base, _, stop := startLB(t, s, false, 500*time.Millisecond)
			got := make(chan answer, 1)
			go func() { got <- send(t, "GET", base+tt.path, "") }()
			<-b.started
			start := time.Now()
			if err := stop(); err != nil {
				t.Errorf("serve: %v", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("shutdown took %v with a 500ms timeout", d)
			}
			a := <-got
			// The answer the drain writes itself closes its connection:
			// the handler never returns to serve it again.
			if a.status != 503 || !strings.Contains(a.body, "shutting down") || (tt.path == "/stuck" && !a.close) {
				t.Errorf("request outliving the timeout: %d %q %v", a.status, a.body, a.header)
			}
		})
	}
}

func TestStartupHook(t *testing.T) {
	release := make(chan struct{})
	failing := errors.New("model weights missing")
	var fail bool
	OnStartup(func(ctx context.Context) error {
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		if fail {
			return failing
		}
		return nil
	})
	t.Cleanup(func() {
		startupHooks.Lock()
		startupHooks.fns = nil
		startupHooks.Unlock()
	})

	s := newTestLB(t, LoadBalancer{Name: "api"}, nil)
	base, _, _ := startLB(t, s, false, time.Second)
	if a := send(t, "GET", base+"/ping", ""); a.status != 204 {
		t.Fatalf("/ping while starting: %d", a.status)
	}
	close(release)
	waitFor(t, func() bool { return send(t, "GET", base+"/ping", "").status == 200 })

	fail = true
	s2 := newTestLB(t, LoadBalancer{Name: "api"}, nil)
	if err := s2.Startup(context.Background()); !errors.Is(err, failing) {
		t.Errorf("Startup: %v", err)
	}
	base2, _, _ := startLB(t, s2, false, time.Second)
	a := send(t, "GET", base2+"/ping", "")
	if a.status != 503 || !strings.Contains(a.body, "model weights missing") {
		t.Errorf("/ping after failed startup: %d %s", a.status, a.body)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNewLoadBalancerErrors(t *testing.T) {
	call := func(context.Context, *Input) (any, error) { return nil, nil }
	tests := []struct {
		name string
		fns  []Function
		want string
	}{
		{"capturing group", []Function{{Name: "a.F", Method: "GET", Path: "/x/{v:(a|b)}", Call: call}}, "capturing groups"},
		{"unbalanced", []Function{{Name: "a.F", Method: "GET", Path: "/x/{v", Call: call}}, "path /x/{v"},
		{"equivalent routes", []Function{
			{Name: "a.F", Method: "GET", Path: "/items/{id}", Call: call},
			{Name: "a.G", Method: "GET", Path: "/items/{key}", Call: call}}, "both serve GET"},
		{"reserved", []Function{{Name: "a.F", Method: "GET", Path: "/ping", Call: call}}, "reserved"},
		{"no route", []Function{{Name: "a.F", Call: call}}, "no method and path"},
		{"no call", []Function{{Name: "a.F", Method: "GET", Path: "/f"}}, "no Call"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewLoadBalancer(App{Resource: LoadBalancer{Name: "x"}, Functions: tt.fns})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestSpecificityOrder(t *testing.T) {
	tpls := []string{"/{a}/{b}", "/files/{p:.*}", "/items/{id}", "/items/{id:[0-9]+}", "/items/new", "/files/{p:.*}/meta", "/items/{id}/tags"}
	slices.SortStableFunc(tpls, func(a, b string) int { return compareSpecificity(specificity(a), specificity(b)) })
	want := []string{"/items/new", "/items/{id:[0-9]+}", "/items/{id}/tags", "/items/{id}", "/files/{p:.*}/meta", "/files/{p:.*}", "/{a}/{b}"}
	if !slices.Equal(tpls, want) {
		t.Errorf("order %v\nwant  %v", tpls, want)
	}
}

func TestZeroServers(t *testing.T) {
	for _, h := range []http.Handler{&LoadBalancerServer{}, &QueueServer{}} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/ping", nil))
		if rec.Code != 500 || !strings.Contains(rec.Body.String(), "not created by New") {
			t.Errorf("%T: %d %s", h, rec.Code, rec.Body)
		}
	}
}
