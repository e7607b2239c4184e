package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/deploy"
	"github.com/flash-lsp/flash-lsp/deploy/runpod"
)

// TestStatusJSON: status reads the state file and the code, with no key and
// no network, and says per resource its endpoint id, URL, image digest,
// config_hash and whether the code has drifted from what is deployed
// (SPEC 17).
func TestStatusJSON(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	env := []string{"RUNPOD_API_KEY=", "RUNPOD_API_URL=http://127.0.0.1:9/v2"}
	mustCode(t, cgRun(t, mod, env, "generate", "--no-client"), 0, "generate")
	var m struct {
		Resources map[string]struct {
			ResourceType string `json:"resource_type"`
			ConfigHash   string `json:"config_hash"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(mustRead(t, filepath.Join(mod, ".flash", "flash_manifest.json")), &m); err != nil {
		t.Fatal(err)
	}
	api, jobs := m.Resources["test-api"], m.Resources["jobs"]
	if api.ConfigHash == "" {
		t.Fatal("the manifest has no config_hash for test-api")
	}
	st := &deploy.State{Version: deploy.StateVersion, Resources: map[string]*deploy.ResourceState{
		"test-api": {EndpointID: "ep-api", Name: "test-api", Type: "LOAD_BALANCER", ResourceType: api.ResourceType,
			ImageDigest: "sha256:aaaa", ConfigHash: api.ConfigHash, Config: map[string]any{"name": "test-api"},
			RequestURLs: runpod.RequestURLs{Base: "https://ep-api.api.runpod.ai", Health: "https://ep-api.api.runpod.ai/ping"}},
		"jobs": {EndpointID: "ep-jobs", Name: "jobs", Type: "QUEUE", ResourceType: jobs.ResourceType,
			ImageDigest: "sha256:bbbb", ConfigHash: "old", Config: map[string]any{"name": "jobs", "workersMax": 1, "scalerType": "QUEUE_DELAY", "scalerValue": 4, "env": map[string]any{"LOG_LEVEL": "info"}},
			RequestURLs: runpod.RequestURLs{RunSync: "https://api.runpod.ai/v2/ep-jobs/runsync", Health: "https://api.runpod.ai/v2/ep-jobs/health"}},
		"gone": {EndpointID: "ep-gone", Name: "gone", Type: "QUEUE", ResourceType: "ServerlessEndpoint", ConfigHash: "x"},
	}}
	data, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mod, ".flash", "deploy.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}

	r := cgRun(t, mod, env, "status", "--format", "json")
	mustCode(t, r, 0, "status --format json")
	var out struct {
		Resources []map[string]any `json:"resources"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("status --format json: %v\n%s", err, r.stdout)
	}
	var names []string
	byName := map[string]map[string]any{}
	for _, s := range out.Resources {
		name, _ := s["name"].(string)
		names = append(names, name)
		byName[name] = s
	}
	want := []string{"03_05_load_balancer_cpu", "03_05_load_balancer_gpu", "gone", "jobs", "test-api"}
	if !slices.Equal(names, want) {
		t.Fatalf("resources %v, want %v", names, want)
	}
	for _, c := range []struct {
		name    string
		drifted bool
		id      string
		changes string
	}{
		{"test-api", false, "ep-api", `[]`},
		{"jobs", true, "ep-jobs", `["workersMax"]`},
		{"gone", true, "ep-gone", `[]`},
		{"03_05_load_balancer_cpu", true, "", `[]`},
	} {
		s := byName[c.name]
		changes, _ := json.Marshal(s["changes"])
		if s["drifted"] != c.drifted || s["endpoint_id"] != c.id || string(changes) != c.changes {
			t.Errorf("%s: %v; want drifted %v, endpoint_id %q, changes %s", c.name, s, c.drifted, c.id, c.changes)
		}
	}
	// A queue's URL is the base its routes hang off, as runtime.QueueURL
	// builds it.
	if u := byName["jobs"]["url"]; u != "https://api.runpod.ai/v2/ep-jobs" {
		t.Errorf("jobs: url %v, want the queue's base URL", u)
	}
	api0 := byName["test-api"]
	if api0["url"] != "https://ep-api.api.runpod.ai" || api0["image_digest"] != "sha256:aaaa" || api0["config_hash"] != api.ConfigHash {
		t.Errorf("test-api: %v", api0)
	}

	r = cgRun(t, mod, env, "status")
	mustCode(t, r, 0, "status")
	for _, line := range []string{"jobs  ", "config: workersMax", "removed from the code"} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("status text lacks %q:\n%s", line, r.stdout)
		}
	}
}
