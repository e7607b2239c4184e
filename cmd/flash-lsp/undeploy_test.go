package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/flash-lsp/flash-lsp/deploy"
	"github.com/flash-lsp/flash-lsp/deploy/runpod"
	"github.com/flash-lsp/flash-lsp/internal/fakerunpod"
)

// TestUndeployWithoutTerminal: undeploy is the explicit way to delete
// (SPEC 17): without a terminal to confirm on it goes ahead as deploy does
// (only a terminal asks, unless --yes), deletes exactly the endpoints the
// state records and updates the state; an endpoint of the account that the
// state does not name stays.
func TestUndeployWithoutTerminal(t *testing.T) {
	fake := fakerunpod.Start(t, testAPIKey)
	c := &runpod.Client{BaseURL: fake.URL, APIKey: testAPIKey, HTTP: fakerunpod.LoopbackClient()}
	ctx := context.Background()
	create := func(name string) string {
		n := 1
		ep, err := c.CreateEndpoint(ctx, &runpod.CreateEndpoint{Name: name, Type: runpod.TypeQueue, Image: "127.0.0.1:1/x:sha-1",
			CPU: []runpod.CPU{{ID: "cpu3c", VCPUCount: 2}}, Scaling: runpod.Scaling{Type: runpod.ScalerQueueDelay, QueueDelay: new(float64(4))},
			Workers: &runpod.Workers{Max: &n}})
		if err != nil {
			t.Fatal(err)
		}
		return ep.ID
	}
	jobs, other, foreign, spaced := create("jobs"), create("other"), create("not-ours"), create("my api")

	mod := cgCopyModule(t, "quickstart")
	st := &deploy.State{Version: deploy.StateVersion, Resources: map[string]*deploy.ResourceState{
		"jobs":   {EndpointID: jobs, Name: "jobs", Type: runpod.TypeQueue, ResourceType: "LiveServerless"},
		"other":  {EndpointID: other, Name: "other", Type: runpod.TypeQueue, ResourceType: "ServerlessEndpoint"},
		"my api": {EndpointID: spaced, Name: "my api", Type: runpod.TypeQueue, ResourceType: "ServerlessEndpoint"},
	}}
	data, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(mod, ".flash"), 0o755)
	if err := os.WriteFile(filepath.Join(mod, ".flash", "deploy.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"RUNPOD_API_KEY=" + testAPIKey, "RUNPOD_API_URL=" + fake.URL, "NO_PROXY=*"}

	r := cgRun(t, mod, env, "undeploy", "jobs")
	mustCode(t, r, 0, "undeploy jobs")
	eps := fake.Endpoints()
	if eps[jobs] != nil || eps[other] == nil || eps[foreign] == nil {
		t.Fatalf("after undeploy jobs: endpoints %v\n%s", eps, r.stderr)
	}
	got, err := deploy.ReadState(mod)
	if err != nil || got.Resources["jobs"] != nil || got.Resources["other"] == nil {
		t.Fatalf("state after undeploy jobs: %v, %v", got, err)
	}

	// A resource is named as run names it too: by its directory name.
	r = cgRun(t, mod, env, "undeploy", "my_api")
	mustCode(t, r, 0, "undeploy my_api")
	if fake.Endpoints()[spaced] != nil {
		t.Fatalf("undeploy my_api left the endpoint of \"my api\"\n%s", r.stderr)
	}

	r = cgRun(t, mod, env, "undeploy", "--all")
	mustCode(t, r, 0, "undeploy --all")
	eps = fake.Endpoints()
	if len(eps) != 1 || eps[foreign] == nil {
		t.Fatalf("after undeploy --all: endpoints %v, want only the one the state does not name", eps)
	}
	if got, err := deploy.ReadState(mod); err != nil || len(got.Resources) != 0 {
		t.Fatalf("state after undeploy --all: %v, %v", got, err)
	}
}
