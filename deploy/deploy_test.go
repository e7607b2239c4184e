package deploy

import (
	"context"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/codegen"
	"github.com/flash-lsp/flash-lsp/deploy/runpod"
	"github.com/flash-lsp/flash-lsp/internal/fakerunpod"
)

func manifest() *codegen.Manifest {
	return &codegen.Manifest{Resources: map[string]*codegen.ManifestResource{
		"api": {ResourceType: "LoadBalancerSlsResource", LoadBalanced: true, Mothership: true, ConfigHash: "h-api",
			Config: map[string]any{"name": "api", "workersMax": int64(3), "gpuIds": []string{"ADA_24"}, "env": map[string]string{"PORT": "8080"}}},
		"jobs": {ResourceType: "CpuServerlessEndpoint", ConfigHash: "h-jobs",
			Config: map[string]any{"name": "jobs", "instanceIds": []string{"cpu5c-4-8", "cpu3c"}, "scalerValue": int64(2)}},
	}}
}

// deployed is the state after deploying manifest() with ids a1 and j1.
func deployed(t *testing.T) *State {
	rs := Resources(manifest())
	st := &State{Version: StateVersion, Resources: map[string]*ResourceState{}}
	w := Wiring{IDs: map[string]string{"api": "a1", "jobs": "j1"}, Mothership: "api"}
	for _, r := range rs {
		st.Resources[r.Name] = &ResourceState{EndpointID: map[string]string{"api": "a1", "jobs": "j1"}[r.Name], Name: r.Name,
			Type: r.Type, ResourceType: r.ResourceType, ImageDigest: "sha256:" + r.Name, ConfigHash: r.ConfigHash,
			Config: jsonConfig(r.Config), EnvHash: EnvHash(r.Env(w))}
	}
	return st
}

func digests() map[string]string {
	return map[string]string{"api": "sha256:api", "jobs": "sha256:jobs"}
}

func TestPlan(t *testing.T) {
	empty := &State{Version: StateVersion, Resources: map[string]*ResourceState{}}
	cases := []struct {
		name  string
		edit  func(m *codegen.Manifest, st *State, d map[string]string)
		state func(t *testing.T) *State
		only  []string
		want  string
	}{
		{"first deploy", nil, func(*testing.T) *State { return empty }, nil, "create api\ncreate jobs\n"},
		{"nothing changed", nil, deployed, nil, "unchanged api\nunchanged jobs\n"},
		{"workersMax", func(m *codegen.Manifest, _ *State, _ map[string]string) {
			m.Resources["api"].Config["workersMax"] = int64(5)
			m.Resources["api"].ConfigHash = "h-api-2"
		}, deployed, nil, "update api: workersMax\nunchanged jobs\n"},
		{"image", func(_ *codegen.Manifest, _ *State, d map[string]string) { d["jobs"] = "sha256:new" }, deployed, nil,
			"unchanged api\nupdate jobs: image\n"},
		{"user env", func(m *codegen.Manifest, _ *State, _ map[string]string) {
			m.Resources["jobs"].Config["env"] = map[string]string{"A": "1"}
			m.Resources["jobs"].ConfigHash = "h-jobs-2"
		}, deployed, nil, "unchanged api\nupdate jobs: env\n"},
		{"queue to load balancer", func(m *codegen.Manifest, _ *State, _ map[string]string) {
			m.Resources["jobs"].ResourceType, m.Resources["jobs"].LoadBalanced = "CpuLoadBalancerSlsResource", true
			m.Resources["jobs"].ConfigHash = "h-jobs-3"
		}, deployed, nil, "update api: env\nreplace jobs\n"},
		{"cpu to gpu", func(m *codegen.Manifest, _ *State, _ map[string]string) {
			m.Resources["jobs"].ResourceType = "ServerlessEndpoint"
			m.Resources["jobs"].ConfigHash = "h-jobs-4"
		}, deployed, nil, "update api: env\nreplace jobs\n"},
		{"removed", func(m *codegen.Manifest, _ *State, _ map[string]string) { delete(m.Resources, "jobs") }, deployed, nil,
			"update api: env\ndelete jobs\n"},
		{"added", func(m *codegen.Manifest, _ *State, _ map[string]string) {
			m.Resources["new"] = &codegen.ManifestResource{ResourceType: "ServerlessEndpoint", ConfigHash: "h-new", Config: map[string]any{"name": "new"}}
		}, deployed, nil, "update api: env\nupdate jobs: env\ncreate new\n"},
		{"only", func(m *codegen.Manifest, _ *State, _ map[string]string) {
			m.Resources["api"].Config["workersMax"] = int64(5)
			m.Resources["api"].ConfigHash = "h-api-2"
		}, deployed, []string{"jobs"}, "unchanged jobs\n"},
		{"interrupted create", nil, func(t *testing.T) *State {
			st := deployed(t)
			st.Resources["jobs"] = &ResourceState{PendingCreate: true, Name: "jobs", Type: runpod.TypeQueue}
			return st
		}, nil, "update api: env\ncreate jobs\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, st, d := manifest(), c.state(t), digests()
			if c.edit != nil {
				c.edit(m, st, d)
			}
			p := MakePlan(PlanInput{Resources: Resources(m), State: st, Digests: d, Only: c.only, Deletes: true})
			if got := p.Text(); got != c.want {
				t.Errorf("plan:\n%swant:\n%s", got, c.want)
			}
		})
	}
}

func TestPlanJSON(t *testing.T) {
	m := manifest()
	m.Resources["api"].Config["workersMax"] = int64(5)
	m.Resources["api"].ConfigHash = "x"
	data, err := MakePlan(PlanInput{Resources: Resources(m), State: deployed(t), Digests: digests()}).JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(data, &got)
	compact, _ := json.Marshal(got)
	want := `{"resources":[{"action":"update","changes":["workersMax"],"name":"api"},{"action":"unchanged","changes":[],"name":"jobs"}]}`
	if string(compact) != want {
		t.Errorf("plan JSON = %s, want %s", compact, want)
	}
}

func TestPlanWarnsAboutCrossCallsWithoutSecret(t *testing.T) {
	rs := Resources(manifest())
	rs[1].UsesClients = true
	p := MakePlan(PlanInput{Resources: rs, State: deployed(t)})
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "resource jobs calls other endpoints") {
		t.Errorf("warnings = %q", p.Warnings)
	}
	p = MakePlan(PlanInput{Resources: rs, State: deployed(t), APIKeySecret: "k"})
	if len(p.Warnings) != 0 {
		t.Errorf("warnings with a secret = %q", p.Warnings)
	}
	env := rs[1].Env(Wiring{IDs: map[string]string{}, APIKeySecret: "k"})
	if env["RUNPOD_API_KEY"] != "{{ RUNPOD_SECRET_k }}" {
		t.Errorf("RUNPOD_API_KEY = %q", env["RUNPOD_API_KEY"])
	}
}

func TestCreateRequest(t *testing.T) {
	rs := Resources(manifest())
	api, jobs := rs[0], rs[1]
	w := Wiring{IDs: map[string]string{"api": "a1", "jobs": "j1"}, Mothership: "api"}
	got, _ := json.Marshal(api.Create("reg/api:sha-1", api.Env(w)))
	want := `{"name":"api","type":"LOAD_BALANCER","image":"reg/api:sha-1","env":{"FLASH_ENDPOINT_ID_JOBS":"j1","FLASH_IS_MOTHERSHIP":"true","FLASH_RESOURCE_NAME":"api","PORT":"8080","PORT_HEALTH":"8080"},"ports":["8080/http"],"gpu":{"pools":["ADA_24"]},"workers":{"max":3},"scaling":{"type":"REQUEST_COUNT","requestCount":4}}`
	if string(got) != want {
		t.Errorf("load balancer create:\n%s\nwant\n%s", got, want)
	}
	got, _ = json.Marshal(jobs.Create("reg/jobs:sha-2", jobs.Env(w)))
	want = `{"name":"jobs","type":"QUEUE","image":"reg/jobs:sha-2","env":{"FLASH_ENDPOINT_ID_API":"a1","FLASH_MOTHERSHIP_ID":"a1","FLASH_RESOURCE_NAME":"jobs"},"cpu":[{"id":"cpu5c","vcpuCount":4},{"id":"cpu3c","vcpuCount":2}],"scaling":{"type":"QUEUE_DELAY","queueDelay":2}}`
	if string(got) != want {
		t.Errorf("queue create:\n%s\nwant\n%s", got, want)
	}
	got, _ = json.Marshal(api.Update([]string{"workersMax", "flashboot"}))
	if want := `{"workers":{"max":3},"flashboot":"OFF"}`; string(got) != want {
		t.Errorf("update = %s, want %s", got, want)
	}
}

func TestStateWriteIsAtomic(t *testing.T) {
	root := t.TempDir()
	st := deployed(t)
	if err := WriteState(root, st); err != nil {
		t.Fatal(err)
	}
	back, err := ReadState(root)
	if err != nil || len(back.Resources) != 2 || back.Resources["api"].EndpointID != "a1" {
		t.Fatalf("read back %+v, %v", back, err)
	}
	// A failed write leaves the old file whole and no temporary file.
	dir := filepath.Join(root, ".flash")
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	st.Resources["api"].EndpointID = "changed"
	if os.Geteuid() != 0 { // root writes anyway
		if err := WriteState(root, st); err == nil {
			t.Fatal("writing into a read-only directory succeeded")
		}
		if back, err := ReadState(root); err != nil || back.Resources["api"].EndpointID != "a1" {
			t.Fatalf("after a failed write: %+v, %v", back, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if e.Name() != path.Base(codegen.LockFile) { // the writers' lock stays
			names = append(names, e.Name())
		}
	}
	if len(names) != 1 {
		t.Errorf(".flash holds %v, want only deploy.json (and the lock)", names)
	}
	if _, err := ReadState(t.TempDir()); err != nil {
		t.Errorf("a missing state file: %v, want an empty state", err)
	}
	os.WriteFile(filepath.Join(root, ".flash", "deploy.json"), []byte("{half"), 0o644)
	if _, err := ReadState(root); err == nil {
		t.Error("a malformed state file was read without error")
	}
}

// TestCreateRequestEveryField: every Config field reaches the API under
// the name SPEC 17.1 maps it to, and the fake RunPod, which validates as
// the API documents, accepts the request.
func TestCreateRequestEveryField(t *testing.T) {
	m := &codegen.Manifest{Resources: map[string]*codegen.ManifestResource{
		"full": {ResourceType: "ServerlessEndpoint", ConfigHash: "h", Config: map[string]any{
			"name": "full", "gpuIds": []string{"ADA_24", "AMPERE_48"}, "gpuCount": int64(2),
			"workersMin": int64(1), "workersMax": int64(4), "idleTimeout": int64(30),
			"scalerType": "QUEUE_DELAY", "scalerValue": int64(7), "env": map[string]string{"A": "1"},
			"diskGb": int64(40), "timeout": int64(600000), "flashboot": "FLASHBOOT",
			"dataCenterIds": []string{"EU-RO-1", "US-TX-3"}, "networkVolumes": []string{"vol-1"}, "registry": "cred-1"}},
	}}
	r := Resources(m)[0]
	req := r.Create("127.0.0.1:5000/app/full:sha-1", r.Env(Wiring{IDs: map[string]string{}}))
	got, _ := json.Marshal(req)
	want := `{"name":"full","type":"QUEUE","image":"127.0.0.1:5000/app/full:sha-1","env":{"A":"1","FLASH_RESOURCE_NAME":"full"},` +
		`"disk":40,"registry":"cred-1","gpu":{"pools":["ADA_24","AMPERE_48"],"count":2},"workers":{"min":1,"max":4,"idleTimeout":30},` +
		`"scaling":{"type":"QUEUE_DELAY","queueDelay":7},"dataCenterIds":["EU-RO-1","US-TX-3"],"networkVolumes":["vol-1"],` +
		`"timeout":600000,"flashboot":"FLASHBOOT"}`
	if string(got) != want {
		t.Errorf("create:\n%s\nwant\n%s", got, want)
	}
	fake := fakerunpod.Start(t, "k")
	c := &runpod.Client{BaseURL: fake.URL, APIKey: "k", HTTP: fakerunpod.LoopbackClient()}
	if _, err := c.CreateEndpoint(context.Background(), req); err != nil {
		t.Errorf("the fake RunPod rejects the request: %v", err)
	}
}

// TestUpdateOmitsIdleTimeoutWhereRunPodRefusesIt: an IdleTimeout removed
// from a queue resource that scales on REQUEST_COUNT is not reset to the
// API's default, which RunPod refuses for that combination; elsewhere it
// is.
func TestUpdateOmitsIdleTimeoutWhereRunPodRefusesIt(t *testing.T) {
	m := &codegen.Manifest{Resources: map[string]*codegen.ManifestResource{
		"rc": {ResourceType: "CpuServerlessEndpoint", ConfigHash: "h",
			Config: map[string]any{"name": "rc", "scalerType": "REQUEST_COUNT", "scalerValue": int64(2)}},
		"qd": {ResourceType: "CpuServerlessEndpoint", ConfigHash: "h", Config: map[string]any{"name": "qd"}},
	}}
	for _, r := range Resources(m) {
		got, _ := json.Marshal(r.Update([]string{"idleTimeout"}))
		want := map[string]string{"rc": `{}`, "qd": `{"workers":{"idleTimeout":10}}`}[r.Name]
		if string(got) != want {
			t.Errorf("%s: update = %s, want %s", r.Name, got, want)
		}
	}
}
