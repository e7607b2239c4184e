package runtime

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestURLs(t *testing.T) {
	if got := EndpointURL("abc123"); got != "https://abc123.api.runpod.ai" {
		t.Errorf("EndpointURL: %s", got)
	}
	if got := QueueURL("abc123"); got != "https://api.runpod.ai/v2/abc123" {
		t.Errorf("QueueURL: %s", got)
	}
}

// TestClientCall calls the routes of a real load-balancer server.
func TestClientCall(t *testing.T) {
	s := newTestLB(t, LiveLoadBalancer{Name: "api"}, nil)
	base, _, _ := startLB(t, s, false, 5*time.Second)
	c := &Client{BaseURL: base + "/"}
	ctx := context.Background()

	var sum sumResult
	if err := c.Call(ctx, "POST", "/api/process", map[string]any{"x": 5, "y": 3}, &sum); err != nil || sum.Sum != 8 {
		t.Errorf("ProcessData: %+v %v", sum, err)
	}
	verbose := true
	var it item
	if err := c.Call(ctx, "GET", "/items/{id}", map[string]any{"id": "a/b c", "verbose": &verbose}, &it); err != nil || it != (item{"a/b c", true}) {
		t.Errorf("GetItem: %+v %v", it, err)
	}
	var nilBool *bool
	if err := c.Call(ctx, "GET", "/items/{id}", map[string]any{"id": "x", "verbose": nilBool}, &it); err != nil || it != (item{"x", false}) {
		t.Errorf("GetItem with nil optional: %+v %v", it, err)
	}
	var found map[string]any
	lim := int8(3)
	if err := c.Call(ctx, "GET", "/search", map[string]any{"names": []string{"a", "b&c"}, "limit": &lim, "scores": []float64{0.5}}, &found); err != nil ||
		!reflect.DeepEqual(found, map[string]any{"names": []any{"a", "b&c"}, "limit": 3.0, "scores": []any{0.5}}) {
		t.Errorf("Search: %v %v", found, err)
	}
	var tr map[string]any
	if err := c.Call(ctx, "PUT", "/transform/{op}", map[string]any{"op": "upper", "text": "hi"}, &tr); err != nil || tr["text"] != "HI" {
		t.Errorf("Transform: %v %v", tr, err)
	}
	if err := c.Call(ctx, "DELETE", "/items/{id:[0-9]+}", map[string]any{"id": uint16(7)}, nil); err != nil {
		t.Errorf("DeleteItem: %v", err)
	}
	untouched := sumResult{Sum: -1}
	if err := c.Call(ctx, "delete", "/items/{id}", map[string]any{"id": "8"}, &untouched); err != nil || untouched.Sum != -1 {
		t.Errorf("204 into a result: %+v %v", untouched, err)
	}

	err := c.Call(ctx, "DELETE", "/items/{id:[0-9]+}", map[string]any{"id": 404}, nil)
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 404 || he.Message != "item 404 does not exist" {
		t.Errorf("404: %#v", err)
	}
	err = c.Call(ctx, "POST", "/api/process", map[string]any{"x": 5}, &sum)
	if !errors.As(err, &he) || he.StatusCode != 400 || !strings.Contains(he.Message, `parameter "y"`) ||
		!strings.Contains(err.Error(), "POST "+base+"/api/process: 400 Bad Request: parameter") {
		t.Errorf("400: %v", err)
	}
	if err := c.Call(ctx, "GET", "/items/{id}", map[string]any{}, &it); err == nil || !strings.Contains(err.Error(), "no value for {id}") {
		t.Errorf("missing path var: %v", err)
	}
	if err := c.Call(ctx, "GET", "/search", map[string]any{"names": map[string]int{}}, &found); err == nil {
		t.Error("a map as a query value: no error")
	}

	t.Run("Execute", func(t *testing.T) {
		if err := c.Execute(ctx, "ProcessData", []any{2, 2}, nil, &sum); err != nil || sum.Sum != 4 {
			t.Errorf("%+v %v", sum, err)
		}
		err := c.Execute(ctx, "Fail", nil, map[string]any{"code": 0}, nil)
		var re *RemoteError
		if !errors.As(err, &re) || re.Message != "plain failure" || re.Function != "Fail" {
			t.Errorf("%#v", err)
		}
	})
}

// TestClientRunSync runs jobs on the real local queue API.
func TestClientRunSync(t *testing.T) {
	base, _ := startQueue(t, nil, 5*time.Second)
	c := &Client{BaseURL: base}
	var sum sumResult
	if err := c.RunSync(context.Background(), "ProcessData", []any{20, 22}, nil, &sum); err != nil || sum.Sum != 42 {
		t.Errorf("%+v %v", sum, err)
	}
	err := c.RunSync(context.Background(), "Nope", nil, nil, nil)
	var re *RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Message, "not found in registry") {
		t.Errorf("%v", err)
	}
}

// fakeQueue answers /runsync with IN_QUEUE and then walks a job through
// the given statuses on /status/{id}.
func fakeQueue(t *testing.T, final string) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var seen []string
	states := []string{`{"id":"job-1","status":"IN_PROGRESS"}`, `{"id":"job-1","status":"IN_PROGRESS"}`, final}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		switch {
		case r.URL.Path == "/v2/ep/runsync":
			b, _ := io.ReadAll(r.Body)
			if !strings.Contains(string(b), `"input":{"args":[1],"function_name":"Work","kwargs":{}}`) {
				t.Errorf("runsync body %s", b)
			}
			io.WriteString(w, `{"id":"job-1","status":"IN_QUEUE"}`)
		case r.URL.Path == "/v2/ep/status/job-1" && r.Method == "GET":
			io.WriteString(w, states[0])
			if len(states) > 1 {
				states = states[1:]
			}
		default:
			http.Error(w, `{"error":"unexpected"}`, 500)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &seen
}

func TestClientRunSyncPolls(t *testing.T) {
	t.Setenv("RUNPOD_API_KEY", "env-key")
	srv, seen := fakeQueue(t, `{"id":"job-1","status":"COMPLETED","output":{"success":true,"result":"done"}}`)
	c := &Client{BaseURL: srv.URL + "/v2/ep", PollInterval: time.Millisecond}
	var out string
	if err := c.RunSync(context.Background(), "Work", []any{1}, nil, &out); err != nil || out != "done" {
		t.Fatalf("%q %v", out, err)
	}
	want := []string{
		"POST /v2/ep/runsync Bearer env-key",
		"GET /v2/ep/status/job-1 Bearer env-key",
		"GET /v2/ep/status/job-1 Bearer env-key",
		"GET /v2/ep/status/job-1 Bearer env-key",
	}
	if !reflect.DeepEqual(*seen, want) {
		t.Errorf("requests %q\nwant %q", *seen, want)
	}

	srv, _ = fakeQueue(t, `{"id":"job-1","status":"FAILED","error":"worker exploded"}`)
	c = &Client{BaseURL: srv.URL + "/v2/ep", PollInterval: time.Millisecond, APIKey: "own-key"}
	err := c.RunSync(context.Background(), "Work", []any{1}, nil, &out)
	var je *JobError
	if !errors.As(err, &je) || je.Status != "FAILED" || je.Message != "worker exploded" || je.ID != "job-1" {
		t.Errorf("%v", err)
	}

	srv, _ = fakeQueue(t, `{"id":"job-1","status":"IN_PROGRESS"}`) // never finishes
	c = &Client{BaseURL: srv.URL + "/v2/ep", PollInterval: time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := c.RunSync(ctx, "Work", []any{1}, nil, &out); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("never-finishing job: %v", err)
	}
}

func TestClientHTTPDetails(t *testing.T) {
	var mu sync.Mutex
	var auth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		switch r.URL.Path {
		case "/slow":
			time.Sleep(300 * time.Millisecond)
		case "/big":
			w.WriteHeader(502)
			io.WriteString(w, strings.Repeat("x", 2000))
		case "/get-body":
			if r.ContentLength > 0 || r.URL.RawQuery != "a=1&b=x+y" {
				w.WriteHeader(400)
			}
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	t.Setenv("RUNPOD_API_KEY", "")
	c := &Client{BaseURL: srv.URL, Timeout: 50 * time.Millisecond}
	if err := c.Call(ctx, "GET", "/slow", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
	err := c.Call(ctx, "GET", "/big", nil, nil)
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 502 || len(he.Body) != 500 || he.Message != "" {
		t.Errorf("big error body: %v", err)
	}
	// GET parameters go in the query, never in a body.
	if err := c.Call(ctx, "GET", "/get-body", map[string]any{"a": 1, "b": "x y"}, nil); err != nil {
		t.Errorf("GET with params: %v", err)
	}
	c.APIKey = "k"
	if err := c.Call(ctx, "GET", "/get-body", map[string]any{"a": 1, "b": "x y"}, nil); err != nil {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if auth[0] != "" || auth[len(auth)-1] != "Bearer k" {
		t.Errorf("Authorization headers %q", auth)
	}
}

func TestExpandPath(t *testing.T) {
	tests := []struct {
		tpl  string
		args map[string]any
		want string
	}{
		{"/items/{id}", map[string]any{"id": "a/b?c#d"}, "/items/a%2Fb%3Fc%23d"},
		{"/items/{id:[0-9]{1,3}}/x", map[string]any{"id": 12}, "/items/12/x"},
		{"/f/{a}-{b}", map[string]any{"a": true, "b": 1.5}, "/f/true-1.5"},
	}
	for _, tt := range tests {
		got, rest, err := expandPath(tt.tpl, tt.args)
		if err != nil || got != tt.want || len(rest) != 0 {
			t.Errorf("%s: %q %v %v, want %q", tt.tpl, got, rest, err, tt.want)
		}
	}
	if _, _, err := expandPath("/x/{a", map[string]any{"a": 1}); err == nil {
		t.Error("unbalanced template: no error")
	}
}
