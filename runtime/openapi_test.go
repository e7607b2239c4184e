package runtime

import (
	"strings"
	"testing"
	"time"
)

// TestOpenAPIRoute: a load-balanced handler serves its embedded OpenAPI
// document at GET /openapi.json, answers 404 when it has none, and keeps
// the path from user routes.
func TestOpenAPIRoute(t *testing.T) {
	doc := `{"openapi":"3.1.0","info":{"title":"api","version":"0123456789ab"},"paths":{}}` + "\n"
	s, err := NewLoadBalancer(App{Resource: LoadBalancer{Name: "api"}, Functions: testFunctions(nil), OpenAPI: []byte(doc)})
	if err != nil {
		t.Fatal(err)
	}
	s.Logger = discardLogger()
	base, _, _ := startLB(t, s, false, 5*time.Second)
	a := send(t, "GET", base+"/openapi.json", "")
	if a.status != 200 || a.body != doc || a.header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /openapi.json: %d %q %q", a.status, a.header.Get("Content-Type"), a.body)
	}
	if a := send(t, "POST", base+"/openapi.json", ""); a.status != 405 || a.header.Get("Allow") == "" {
		t.Errorf("POST /openapi.json: %d, Allow %q", a.status, a.header.Get("Allow"))
	}

	bare := newTestLB(t, LoadBalancer{Name: "bare"}, nil)
	base, _, _ = startLB(t, bare, false, 5*time.Second)
	if a := send(t, "GET", base+"/openapi.json", ""); a.status != 404 || !strings.Contains(a.body, `"error"`) {
		t.Errorf("GET /openapi.json without a document: %d %s", a.status, a.body)
	}

	call := testFunctions(nil)[0].Call
	_, err = NewLoadBalancer(App{Resource: LoadBalancer{Name: "x"}, Functions: []Function{{Name: "a.F", Method: "GET", Path: "/openapi.json", Call: call}}})
	if err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Errorf("a route on /openapi.json: %v, want it reserved", err)
	}
}
