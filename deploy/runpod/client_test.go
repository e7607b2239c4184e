package runpod_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flash-lsp/flash-lsp/deploy/runpod"
	"github.com/flash-lsp/flash-lsp/internal/fakerunpod"
)

func newClient(t *testing.T) (*runpod.Client, *fakerunpod.Server) {
	fake := fakerunpod.Start(t, "key-1")
	c := &runpod.Client{BaseURL: fake.URL, APIKey: "key-1", HTTP: fakerunpod.LoopbackClient(),
		Backoff: func(int) time.Duration { return 10 * time.Millisecond }}
	return c, fake
}

func ptr[T any](v T) *T { return &v }

func lbRequest(name string) *runpod.CreateEndpoint {
	return &runpod.CreateEndpoint{Name: name, Type: runpod.TypeLoadBalancer, Image: "127.0.0.1:1/x:sha-1",
		Env: map[string]string{"PORT": "80", "PORT_HEALTH": "80"}, Ports: []string{"80/http"},
		GPU:     &runpod.GPU{Pools: []string{"ADA_24"}, Count: 1},
		Workers: &runpod.Workers{Min: ptr(0), Max: ptr(3)},
		Scaling: runpod.Scaling{Type: runpod.ScalerRequestCount, RequestCount: ptr(4)}}
}

func TestEndpointLifecycle(t *testing.T) {
	c, fake := newClient(t)
	ctx := context.Background()
	ep, err := c.CreateEndpoint(ctx, lbRequest("api"))
	if err != nil {
		t.Fatal(err)
	}
	if ep.ID == "" || ep.Type != runpod.TypeLoadBalancer || ep.RequestURLs.Health == "" || ep.RequestURLs.Base == "" {
		t.Fatalf("created endpoint = %+v", ep)
	}
	got, err := c.GetEndpoint(ctx, ep.ID)
	if err != nil || got.Name != "api" || *got.Workers.Max != 3 {
		t.Fatalf("get = %+v, %v", got, err)
	}
	up, err := c.UpdateEndpoint(ctx, ep.ID, &runpod.UpdateEndpoint{Workers: &runpod.Workers{Max: ptr(5)}, Env: map[string]string{"A": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if *up.Workers.Max != 5 || *up.Workers.Min != 0 {
		t.Errorf("workers after PATCH = %+v, want min kept and max 5", up.Workers)
	}
	if len(up.Env) != 1 || up.Env["A"] != "1" {
		t.Errorf("env after PATCH = %v, want replaced by {A: 1}", up.Env)
	}
	list, err := c.ListEndpoints(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list = %v, %v", list, err)
	}
	if err := c.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Errorf("deleting a deleted endpoint: %v, want success", err)
	}
	if _, err := c.GetEndpoint(ctx, ep.ID); !runpod.NotFound(err) {
		t.Errorf("get after delete: %v, want 404", err)
	}
	reg, err := c.CreateRegistry(ctx, &runpod.CreateRegistry{Name: "r", Username: "u", Password: "p"})
	if err != nil || reg.ID == "" {
		t.Fatalf("create registry = %+v, %v", reg, err)
	}
	if len(fake.Endpoints()) != 0 {
		t.Errorf("fake still holds %d endpoints", len(fake.Endpoints()))
	}
}

func TestUnauthorized(t *testing.T) {
	c, fake := newClient(t)
	c.APIKey = "wrong"
	_, err := c.ListEndpoints(context.Background())
	if !errors.Is(err, runpod.ErrUnauthorized) || !strings.Contains(err.Error(), "RunPod rejected the API key") {
		t.Fatalf("err = %v, want RunPod rejected the API key", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error %q carries the key", err)
	}
	if n := len(fake.Requests()); n != 1 {
		t.Errorf("%d requests, want 1 (401 is final)", n)
	}
}

func TestValidationErrorsListed(t *testing.T) {
	c, _ := newClient(t)
	req := lbRequest("api")
	req.Scaling = runpod.Scaling{Type: runpod.ScalerQueueDelay, QueueDelay: ptr(4.0)}
	_, err := c.CreateEndpoint(context.Background(), req)
	if err == nil || !strings.Contains(err.Error(), "RunPod rejected the request") ||
		!strings.Contains(err.Error(), "load-balancing endpoints require REQUEST_COUNT") {
		t.Fatalf("err = %v", err)
	}
	// A type change is refused: PATCH has no type field.
	ep, err := c.CreateEndpoint(context.Background(), lbRequest("api"))
	if err != nil {
		t.Fatal(err)
	}
	err = c.Raw(context.Background(), http.MethodPatch, "/serverless/"+ep.ID, map[string]any{"type": "QUEUE", "bogus": 1})
	if err == nil || !strings.Contains(err.Error(), "body.type") || !strings.Contains(err.Error(), "body.bogus") {
		t.Fatalf("err = %v, want both unknown fields named", err)
	}
}

func TestRetries(t *testing.T) {
	c, fake := newClient(t)
	ctx := context.Background()

	// 429 with Retry-After: the wait is honoured.
	fake.AddFault(fakerunpod.Fault{Method: "GET", Status: 429, RetryAfter: 1})
	start := time.Now()
	if _, err := c.ListEndpoints(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("retried after %v, want Retry-After's 1 s", d)
	}

	// 5xx then success.
	fake.ResetRequests()
	fake.AddFault(fakerunpod.Fault{Method: "POST", Path: "/serverless", Status: 503, Times: 2})
	if _, err := c.CreateEndpoint(ctx, lbRequest("a")); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Requests()); n != 3 {
		t.Errorf("%d requests, want 3 (two 503s, then success)", n)
	}

	// At most five tries.
	fake.ResetRequests()
	fake.AddFault(fakerunpod.Fault{Method: "GET", Status: 500, Times: 10})
	if _, err := c.ListEndpoints(ctx); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("err = %v, want the 500", err)
	}
	if n := len(fake.Requests()); n != runpod.MaxTries {
		t.Errorf("%d tries, want %d", n, runpod.MaxTries)
	}
}

// A create whose answer is lost after the endpoint was made is not sent
// again: the client finds the endpoint it created.
func TestCreateDroppedAnswerNoDuplicate(t *testing.T) {
	c, fake := newClient(t)
	fake.AddFault(fakerunpod.Fault{Method: "POST", Path: "/serverless", Drop: true, AfterApply: true})
	ep, err := c.CreateEndpoint(context.Background(), lbRequest("api"))
	if err != nil {
		t.Fatal(err)
	}
	if fake.Creates() != 1 || len(fake.Endpoints()) != 1 || ep.ID == "" {
		t.Fatalf("creates = %d, endpoints = %d, ep = %+v; want exactly one", fake.Creates(), len(fake.Endpoints()), ep)
	}
	// Dropped before it was applied: sent again.
	fake.AddFault(fakerunpod.Fault{Method: "POST", Path: "/serverless", Drop: true})
	if _, err := c.CreateEndpoint(context.Background(), lbRequest("other")); err != nil {
		t.Fatal(err)
	}
	if fake.Creates() != 2 {
		t.Errorf("creates = %d, want 2", fake.Creates())
	}
}

// TestKeyStaysOnTheAPIHost: an API answer that redirects to another host
// (another port of loopback included) is followed without the key (SPEC
// 14); a redirect within the API's host keeps it.
func TestKeyStaysOnTheAPIHost(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]string{} // path → Authorization
	)
	record := func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Host+r.URL.Path] = r.Header.Get("Authorization")
		mu.Unlock()
	}
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(w, r)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"endpoints": []}`))
	}))
	defer other.Close()
	var api *httptest.Server
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(w, r)
		switch r.URL.Path {
		case "/v2/serverless":
			http.Redirect(w, r, api.URL+"/v2/moved", http.StatusFound)
		case "/v2/moved":
			http.Redirect(w, r, other.URL+"/elsewhere", http.StatusFound)
		}
	}))
	defer api.Close()
	c := &runpod.Client{BaseURL: api.URL + "/v2", APIKey: "key-1", HTTP: fakerunpod.LoopbackClient()}
	if _, err := c.ListEndpoints(context.Background()); err != nil {
		t.Fatal(err)
	}
	apiHost, otherHost := strings.TrimPrefix(api.URL, "http://"), strings.TrimPrefix(other.URL, "http://")
	mu.Lock()
	defer mu.Unlock()
	for path, want := range map[string]string{apiHost + "/v2/serverless": "Bearer key-1", apiHost + "/v2/moved": "Bearer key-1", otherHost + "/elsewhere": ""} {
		if got, ok := seen[path]; !ok || got != want {
			t.Errorf("%s: Authorization %q (requested: %v), want %q", path, got, ok, want)
		}
	}
}

// TestFakeValidatesAsDocumented: the fake RunPod refuses what RunPod's
// OpenAPI document refuses, so that a deploy test passing against it means
// something: idleTimeout on a queue endpoint scaling on requestCount (and
// no idleTimeout in its answers), a GPU count below 1, unknown keys inside
// gpu and cpu entries, and duplicate CPU configurations.
func TestFakeValidatesAsDocumented(t *testing.T) {
	c, _ := newClient(t)
	ctx := context.Background()
	queue := func(extra map[string]any) map[string]any {
		m := map[string]any{"name": "q", "type": "QUEUE", "image": "127.0.0.1:1/q:sha-1",
			"cpu": []any{map[string]any{"id": "cpu3c", "vcpuCount": 2}}, "scaling": map[string]any{"type": "REQUEST_COUNT", "requestCount": 2}}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, c2 := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"idleTimeout on a requestCount queue", queue(map[string]any{"workers": map[string]any{"max": 2, "idleTimeout": 5}}), "body.workers.idleTimeout"},
		{"gpu count 0", queue(map[string]any{"cpu": nil, "gpu": map[string]any{"pools": []any{"ADA_24"}, "count": 0}}), "body.gpu.count"},
		{"unknown gpu key", queue(map[string]any{"cpu": nil, "gpu": map[string]any{"pools": []any{"ADA_24"}, "size": 2}}), "body.gpu.size"},
		{"unknown cpu key", queue(map[string]any{"cpu": []any{map[string]any{"id": "cpu3c", "vcpuCount": 2, "memory": 4}}}), "body.cpu"},
		{"duplicate cpu", queue(map[string]any{"cpu": []any{map[string]any{"id": "cpu3c", "vcpuCount": 2}, map[string]any{"id": "cpu3c", "vcpuCount": 2}}}), "body.cpu"},
	} {
		body := c2.body
		if body["cpu"] == nil {
			delete(body, "cpu")
		}
		err := c.Raw(ctx, http.MethodPost, "/serverless", body)
		if err == nil || !strings.Contains(err.Error(), "RunPod rejected the request") || !strings.Contains(err.Error(), c2.want) {
			t.Errorf("%s: err = %v, want a 422 naming %s", c2.name, err, c2.want)
		}
	}

	// A requestCount queue without idleTimeout is made, and its answers
	// have none; a PATCH that sends one is refused; a queue switched to
	// requestCount loses its idleTimeout.
	ep, err := c.CreateEndpoint(ctx, &runpod.CreateEndpoint{Name: "q", Type: runpod.TypeQueue, Image: "127.0.0.1:1/q:sha-1",
		CPU: []runpod.CPU{{ID: "cpu3c", VCPUCount: 2}}, Scaling: runpod.Scaling{Type: runpod.ScalerRequestCount, RequestCount: ptr(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Workers.IdleTimeout != nil {
		t.Errorf("a requestCount queue's answer has idleTimeout %d", *ep.Workers.IdleTimeout)
	}
	if _, err := c.UpdateEndpoint(ctx, ep.ID, &runpod.UpdateEndpoint{Workers: &runpod.Workers{IdleTimeout: ptr(30)}}); err == nil ||
		!strings.Contains(err.Error(), "body.workers.idleTimeout") {
		t.Errorf("PATCH idleTimeout on a requestCount queue: %v, want a 422", err)
	}
	delay, err := c.CreateEndpoint(ctx, &runpod.CreateEndpoint{Name: "d", Type: runpod.TypeQueue, Image: "127.0.0.1:1/d:sha-1",
		CPU: []runpod.CPU{{ID: "cpu3c", VCPUCount: 2}}, Scaling: runpod.Scaling{Type: runpod.ScalerQueueDelay, QueueDelay: ptr(4.0)}})
	if err != nil {
		t.Fatal(err)
	}
	up, err := c.UpdateEndpoint(ctx, delay.ID, &runpod.UpdateEndpoint{Scaling: &runpod.Scaling{Type: runpod.ScalerRequestCount, RequestCount: ptr(3)}})
	if err != nil {
		t.Fatalf("switching a queue to requestCount: %v", err)
	}
	if up.Workers.IdleTimeout != nil {
		t.Errorf("after the switch the answer still has idleTimeout %d", *up.Workers.IdleTimeout)
	}
}
