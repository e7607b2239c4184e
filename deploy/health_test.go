package deploy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/flash-lsp/flash-lsp/deploy/runpod"
	"github.com/flash-lsp/flash-lsp/internal/fakerunpod"
)

// TestHealthKeyStaysOnHost: the health wait sends the key to the host of
// the configured API base URL, and a redirect from there to another host
// (another loopback port) loses it (SPEC 14).
func TestHealthKeyStaysOnHost(t *testing.T) {
	var (
		mu   sync.Mutex
		seen = map[string]string{}
	)
	record := func(r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Get("Authorization")
		mu.Unlock()
	}
	worker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.Write([]byte(`{"status":"healthy"}`))
	}))
	defer worker.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		http.Redirect(w, r, worker.URL+"/worker/ping", http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	a := &applier{opts: Options{APIKey: "key-1", HTTP: fakerunpod.LoopbackClient(),
		Client: &runpod.Client{BaseURL: api.URL + "/v2", APIKey: "key-1"}}}
	ok, why := a.healthy(context.Background(), runpod.TypeLoadBalancer, api.URL+"/ep/x/ping")
	if !ok {
		t.Fatalf("not healthy: %s", why)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := seen["/ep/x/ping"]; got != "Bearer key-1" {
		t.Errorf("health URL on the API's host: Authorization %q, want the key", got)
	}
	if got, ok := seen["/worker/ping"]; !ok || strings.Contains(got, "key-1") {
		t.Errorf("redirect target on another port: Authorization %q (requested: %v), want none", got, ok)
	}
}

// TestApplyRefusesTheKeyInClearText: an Env literal holding the API key
// itself would put it in an endpoint's env in clear text (SPEC 17): Apply
// refuses before any image is pushed or any API call is made, naming the
// resource and the variable but not the key.
func TestApplyRefusesTheKeyInClearText(t *testing.T) {
	fake := fakerunpod.Start(t, "rpa_secret")
	m := manifest()
	m.Resources["jobs"].Config["env"] = map[string]string{"TOKEN": "rpa_secret"}
	rs := Resources(m)
	st := &State{Version: StateVersion, Resources: map[string]*ResourceState{}}
	plan := MakePlan(PlanInput{Resources: rs, State: st})
	err := Apply(context.Background(), plan, map[string]*Built{}, st, Options{Root: t.TempDir(), APIKey: "rpa_secret",
		Client: &runpod.Client{BaseURL: fake.URL, APIKey: "rpa_secret", HTTP: fakerunpod.LoopbackClient()}})
	if err == nil || !strings.Contains(err.Error(), "resource jobs") || !strings.Contains(err.Error(), "TOKEN") ||
		strings.Contains(err.Error(), "rpa_secret") {
		t.Fatalf("err = %v, want a refusal naming jobs and TOKEN, without the key", err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d API calls", n)
	}
}

// TestUpdateOfAVanishedEndpoint: an endpoint deleted behind the state's
// back answers 404 to its update; the deploy stops naming the resource and
// the step, the state no longer claims the endpoint (SPEC 17: it describes
// exactly what exists), and the next plan creates it again.
func TestUpdateOfAVanishedEndpoint(t *testing.T) {
	fake := fakerunpod.Start(t, "k")
	root := t.TempDir()
	st := deployed(t) // endpoints a1 and j1, which the fake never had
	if err := WriteState(root, st); err != nil {
		t.Fatal(err)
	}
	m := manifest()
	m.Resources["api"].Config["workersMax"] = int64(5)
	m.Resources["api"].ConfigHash = "h-api-2"
	plan := MakePlan(PlanInput{Resources: Resources(m), State: st})
	err := Apply(context.Background(), plan, map[string]*Built{}, st, Options{Root: root, APIKey: "k",
		Client: &runpod.Client{BaseURL: fake.URL, APIKey: "k", HTTP: fakerunpod.LoopbackClient()}})
	if err == nil || !strings.Contains(err.Error(), "resource api: update endpoint a1") {
		t.Fatalf("err = %v, want the failed update of api named", err)
	}
	back, rerr := ReadState(root)
	if rerr != nil || back.Resources["api"] != nil || back.Resources["jobs"] == nil {
		t.Fatalf("state after the 404: %+v, %v; want api gone and jobs kept", back, rerr)
	}
	if got := MakePlan(PlanInput{Resources: Resources(m), State: back}).Text(); !strings.Contains(got, "create api\n") {
		t.Errorf("next plan:\n%s\nwant api created again", got)
	}
}
