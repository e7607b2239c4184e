package runtime

import (
	"context"
	"errors"
	"strings"
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
