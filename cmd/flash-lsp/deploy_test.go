package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"

	"github.com/flash-lsp/flash-lsp/deploy"
	"github.com/flash-lsp/flash-lsp/internal/fakerunpod"
)

// The deploy tests take the quickstart from source to endpoints: images go
// to a real registry (Debian's docker-registry, with basic auth, on
// loopback), the management API is a fake RunPod on loopback that runs the
// pushed images, and flash-lsp is the real binary.

const testAPIKey = "rpa_test_key"

// testRegistry is a docker-registry process with basic auth.
type testRegistry struct {
	host       string // 127.0.0.1:port
	user, pass string
}

func startDockerRegistry(t *testing.T) *testRegistry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatalf("docker-registry is not installed (scripts/deps.d/deploy.sh installs it): %v", err)
	}
	dir := t.TempDir()
	reg := &testRegistry{host: fmt.Sprintf("127.0.0.1:%d", freePort(t)), user: "flash", pass: "s3cret-pass"}
	hash, err := bcrypt.GenerateFromPassword([]byte(reg.pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(dir, "htpasswd")
	os.WriteFile(htpasswd, []byte(reg.user+":"+string(hash)+"\n"), 0o600)
	config := fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
auth:
  htpasswd:
    realm: flash-test
    path: %s
`, filepath.Join(dir, "data"), reg.host, htpasswd)
	cfg := filepath.Join(dir, "config.yml")
	os.WriteFile(cfg, []byte(config), 0o644)
	cmd := exec.Command(bin, "serve", cfg)
	logf, _ := os.Create(filepath.Join(dir, "registry.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	client := fakerunpod.LoopbackClient()
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := client.Get("http://" + reg.host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				break
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("docker-registry did not come up on %s: %v\n%s", reg.host, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return reg
}

// dockerConfig writes a Docker config holding credentials for host and
// returns its directory (DOCKER_CONFIG).
func dockerConfig(t *testing.T, host, user, pass string) string {
	dir := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	data, _ := json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{"auth": auth}}})
	os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600)
	return dir
}

// deployEnv is a deploy test's world: a registry, a fake RunPod that runs
// images from it, and the environment flash-lsp needs to use both.
type deployEnv struct {
	reg  *testRegistry
	fake *fakerunpod.Server
	env  []string
	mod  string
}

func newDeployEnv(t *testing.T) *deployEnv {
	reg := startDockerRegistry(t)
	fake := fakerunpod.Start(t, testAPIKey)
	fake.Launcher = &fakerunpod.Launcher{Dir: t.TempDir(), Log: io.Discard, Remote: []remote.Option{
		remote.WithAuth(&authn.Basic{Username: reg.user, Password: reg.pass}),
		remote.WithTransport(fakerunpod.LoopbackTransport()),
	}}
	mod := cgCopyModule(t, "quickstart")
	return &deployEnv{reg: reg, fake: fake, mod: mod, env: []string{
		"RUNPOD_API_KEY=" + testAPIKey,
		"RUNPOD_API_URL=" + fake.URL,
		"FLASH_REGISTRY=" + reg.host + "/quickstart",
		"DOCKER_CONFIG=" + dockerConfig(t, reg.host, reg.user, reg.pass),
		"SOURCE_DATE_EPOCH=1700000000",
		"NO_PROXY=*",
	}}
}

func (d *deployEnv) run(t *testing.T, args ...string) cgResult {
	t.Helper()
	r := cgRun(t, d.mod, d.env, args...)
	d.checkState(t)
	return r
}

// checkState asserts that deploy.json is whole (it parses) and that no
// temporary file is left beside it.
func (d *deployEnv) checkState(t *testing.T) *deploy.State {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(d.mod, ".flash"))
	for _, e := range entries {
		if strings.Contains(e.Name(), "deploy.json.tmp") {
			t.Errorf("a temporary state file is left: %s", e.Name())
		}
	}
	st, err := deploy.ReadState(d.mod)
	if err != nil {
		t.Fatalf("state file: %v", err)
	}
	return st
}

func (d *deployEnv) edit(t *testing.T, file, old, new string) {
	t.Helper()
	p := filepath.Join(d.mod, filepath.FromSlash(file))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644)
}

func mustCode(t *testing.T, r cgResult, want int, what string) {
	t.Helper()
	if r.code != want {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, want, r.stdout, r.stderr)
	}
}

func jsonAt(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}

func TestDeployQuickstart(t *testing.T) {
	d := newDeployEnv(t)
	fake := d.fake

	// The plan of a first deploy: everything is created, nothing is called.
	r := d.run(t, "deploy", "--plan")
	mustCode(t, r, 0, "deploy --plan")
	want := "create 03_05_load_balancer_cpu\ncreate 03_05_load_balancer_gpu\ncreate jobs\ncreate test-api\n"
	if r.stdout != want {
		t.Fatalf("plan:\n%s\nwant:\n%s", r.stdout, want)
	}
	if !strings.Contains(r.stderr, "warning: resource 03_05_load_balancer_cpu calls other endpoints") {
		t.Errorf("no warning about the cross-calling resource without --api-key-secret:\n%s", r.stderr)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("--plan made %d API calls", n)
	}

	// Deploy.
	r = d.run(t, "deploy", "--yes", "--wait", "90s", "--api-key-secret", "flash_key")
	mustCode(t, r, 0, "deploy --yes")
	st := d.checkState(t)
	eps := fake.Endpoints()
	if len(eps) != 4 || len(st.Resources) != 4 {
		t.Fatalf("%d endpoints at RunPod, %d in the state; want 4\n%s", len(eps), len(st.Resources), r.stderr)
	}
	ids := map[string]string{}
	byName := map[string]map[string]any{}
	for id, ep := range eps {
		name := ep["name"].(string)
		ids[name] = id
		byName[name] = ep
		if st.Resources[name] == nil || st.Resources[name].EndpointID != id {
			t.Errorf("state of %s = %+v, want endpoint %s", name, st.Resources[name], id)
		}
	}
	suffix := map[string]string{"03_05_load_balancer_cpu": "03_05_LOAD_BALANCER_CPU", "03_05_load_balancer_gpu": "03_05_LOAD_BALANCER_GPU", "jobs": "JOBS", "test-api": "TEST_API"}
	for name, ep := range byName {
		env, _ := ep["env"].(map[string]any)
		if env["FLASH_RESOURCE_NAME"] != name {
			t.Errorf("%s: FLASH_RESOURCE_NAME = %v", name, env["FLASH_RESOURCE_NAME"])
		}
		for other, id := range ids {
			v := env["FLASH_ENDPOINT_ID_"+suffix[other]]
			if other == name && v != nil || other != name && v != id {
				t.Errorf("%s: FLASH_ENDPOINT_ID_%s = %v, want %q", name, suffix[other], v, map[bool]string{true: "", false: id}[other == name])
			}
		}
		if name == "test-api" {
			if env["FLASH_IS_MOTHERSHIP"] != "true" || env["FLASH_MOTHERSHIP_ID"] != nil {
				t.Errorf("mothership env = %v", env)
			}
		} else if env["FLASH_MOTHERSHIP_ID"] != ids["test-api"] {
			t.Errorf("%s: FLASH_MOTHERSHIP_ID = %v, want %s", name, env["FLASH_MOTHERSHIP_ID"], ids["test-api"])
		}
		if strings.Contains(fmt.Sprint(env), testAPIKey) {
			t.Errorf("%s: the API key is in the env in clear text", name)
		}
		if ep["image"] != st.Resources[name].Image || !strings.HasPrefix(ep["image"].(string), d.reg.host+"/quickstart/") {
			t.Errorf("%s: image %v, state %s", name, ep["image"], st.Resources[name].Image)
		}
	}
	// Types, compute, scaling, ports.
	checks := []struct {
		name, typ string
		path      []string
		want      string
	}{
		{"03_05_load_balancer_cpu", "LOAD_BALANCER", []string{"cpu"}, `[{"id":"cpu3c","vcpuCount":2}]`},
		{"03_05_load_balancer_cpu", "LOAD_BALANCER", []string{"workers"}, `{"idleTimeout":10,"max":3,"min":0}`},
		{"03_05_load_balancer_cpu", "LOAD_BALANCER", []string{"scaling"}, `{"requestCount":4,"type":"REQUEST_COUNT"}`},
		{"03_05_load_balancer_cpu", "LOAD_BALANCER", []string{"ports"}, `["80/http"]`},
		{"03_05_load_balancer_cpu", "LOAD_BALANCER", []string{"env", "RUNPOD_API_KEY"}, `"{{ RUNPOD_SECRET_flash_key }}"`},
		{"03_05_load_balancer_gpu", "LOAD_BALANCER", []string{"gpu"}, `{"pools":["AMPERE_16"]}`},
		{"03_05_load_balancer_gpu", "LOAD_BALANCER", []string{"workers"}, `{"idleTimeout":60,"max":3,"min":1}`},
		{"03_05_load_balancer_gpu", "LOAD_BALANCER", []string{"env", "PORT"}, `"80"`},
		{"03_05_load_balancer_gpu", "LOAD_BALANCER", []string{"env", "PORT_HEALTH"}, `"80"`},
		{"03_05_load_balancer_gpu", "LOAD_BALANCER", []string{"env", "RUNPOD_API_KEY"}, `null`},
		{"jobs", "QUEUE", []string{"scaling"}, `{"queueDelay":4,"type":"QUEUE_DELAY"}`},
		{"jobs", "QUEUE", []string{"workers"}, `{"idleTimeout":10,"max":2,"min":0}`},
		{"jobs", "QUEUE", []string{"env", "LOG_LEVEL"}, `"info"`},
		{"jobs", "QUEUE", []string{"ports"}, `null`},
		{"jobs", "QUEUE", []string{"env", "PORT"}, `null`},
		{"test-api", "LOAD_BALANCER", []string{"scaling"}, `{"requestCount":4,"type":"REQUEST_COUNT"}`},
		{"test-api", "LOAD_BALANCER", []string{"gpu", "pools"}, `["ADA_24","AMPERE_24","AMPERE_16"]`},
	}
	for _, c := range checks {
		ep := byName[c.name]
		if ep["type"] != c.typ {
			t.Errorf("%s: type %v, want %s", c.name, ep["type"], c.typ)
		}
		got, _ := json.Marshal(jsonAt(ep, c.path...))
		if string(got) != c.want {
			t.Errorf("%s: %s = %s, want %s", c.name, strings.Join(c.path, "."), got, c.want)
		}
	}
	// The GPU load balancer (WorkersMin 1) was waited for: its worker runs
	// the image's binary, which answers through the endpoint's URL.
	gpu := ids["03_05_load_balancer_gpu"]
	if !strings.Contains(r.stderr, "✓ 03_05_load_balancer_gpu is healthy") {
		t.Errorf("no health wait for the GPU load balancer:\n%s", r.stderr)
	}
	if w := fake.Worker(gpu); !w.Ready() {
		t.Fatalf("GPU worker not ready: %v", w.Failed())
	}
	req, _ := http.NewRequest(http.MethodGet, st.Resources["03_05_load_balancer_gpu"].RequestURLs.Base+"/health", nil)
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := fakerunpod.LoopbackClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /health through the endpoint: %d %s", resp.StatusCode, body)
	}

	// status: no drift.
	r = d.run(t, "status")
	mustCode(t, r, 0, "status")
	for name, id := range ids {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+` + id + `\s.*\sno$`).MatchString(r.stdout) {
			t.Errorf("status of %s (%s) is not `no` drift:\n%s", name, id, r.stdout)
		}
	}

	// A second deploy of the same code pushes nothing and changes nothing.
	fake.ResetRequests()
	digests := map[string]string{}
	for n, rs := range st.Resources {
		digests[n] = rs.ImageDigest
	}
	r = d.run(t, "deploy", "--yes", "--api-key-secret", "flash_key")
	mustCode(t, r, 0, "second deploy")
	if strings.Count(r.stdout, "unchanged ") != 4 || len(fake.Mutations()) != 0 || strings.Contains(r.stderr, "Pushed") {
		t.Fatalf("second deploy: plan\n%s\nmutations %v\n%s", r.stdout, fake.Mutations(), r.stderr)
	}
	for n, rs := range d.checkState(t).Resources {
		if rs.ImageDigest != digests[n] {
			t.Errorf("%s: digest %s, was %s", n, rs.ImageDigest, digests[n])
		}
	}

	// A WorkersMax edit: one update of workersMax, one PATCH.
	d.edit(t, "res/res.go", "WorkersMin: 0,\n\tWorkersMax: 3,\n\tScalerType: \"REQUEST_COUNT\"", "WorkersMin: 0,\n\tWorkersMax: 5,\n\tScalerType: \"REQUEST_COUNT\"")
	r = d.run(t, "deploy", "--plan", "--api-key-secret", "flash_key")
	mustCode(t, r, 0, "plan after a WorkersMax edit")
	want = "unchanged 03_05_load_balancer_cpu\nunchanged 03_05_load_balancer_gpu\nunchanged jobs\nupdate test-api: workersMax\n"
	if r.stdout != want {
		t.Fatalf("plan after a WorkersMax edit:\n%s\nwant:\n%s", r.stdout, want)
	}
	fake.ResetRequests()
	r = d.run(t, "deploy", "--yes", "--api-key-secret", "flash_key")
	mustCode(t, r, 0, "deploy after a WorkersMax edit")
	muts := fake.Mutations()
	if len(muts) != 1 || muts[0].Method != "PATCH" || muts[0].Path != "/serverless/"+ids["test-api"] || string(muts[0].Body) != `{"workers":{"max":5}}` {
		t.Fatalf("mutations after a WorkersMax edit = %+v", muts)
	}

	// A function body edit: a new image for its resource only (no other
	// handler links package gpu).
	d.edit(t, "gpu/gpu.go", `Worker: "gpu"}`, `Worker: "gpu-2"}`)
	r = d.run(t, "deploy", "--plan", "--api-key-secret", "flash_key")
	want = "unchanged 03_05_load_balancer_cpu\nupdate 03_05_load_balancer_gpu: image\nunchanged jobs\nunchanged test-api\n"
	if r.stdout != want {
		t.Fatalf("plan after a body edit:\n%s\nwant:\n%s\n%s", r.stdout, want, r.stderr)
	}
	fake.ResetRequests()
	r = d.run(t, "deploy", "--yes", "--api-key-secret", "flash_key")
	mustCode(t, r, 0, "deploy after a body edit")
	muts = fake.Mutations()
	if len(muts) != 1 || !strings.HasPrefix(string(muts[0].Body), `{"image":"`+d.reg.host+`/quickstart/03_05_load_balancer_gpu:sha-`) {
		t.Fatalf("mutations after a body edit = %+v", muts)
	}
	// The new release runs the new code.
	if !strings.Contains(r.stderr, "✓ 03_05_load_balancer_gpu is healthy") {
		t.Errorf("no health wait after the new image:\n%s", r.stderr)
	}
	resp, err = fakerunpod.LoopbackClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"gpu-2"`) {
		t.Errorf("GET /health after the body edit: %d %s", resp.StatusCode, body)
	}

	// A type change (CPU load balancer → CPU queue): replace.
	d.edit(t, "res/res.go", "runtime.CPULiveLoadBalancer{", "runtime.CPULiveServerless{")
	r = d.run(t, "deploy", "--plan", "--api-key-secret", "flash_key")
	if !strings.Contains(r.stdout, "replace 03_05_load_balancer_cpu\n") {
		t.Fatalf("plan after a type change:\n%s\n%s", r.stdout, r.stderr)
	}
	r = d.run(t, "deploy", "--yes", "--api-key-secret", "flash_key")
	mustCode(t, r, 0, "deploy after a type change")
	st = d.checkState(t)
	cpu := st.Resources["03_05_load_balancer_cpu"]
	if cpu.Type != "QUEUE" || cpu.EndpointID == ids["03_05_load_balancer_cpu"] || fake.Endpoints()[ids["03_05_load_balancer_cpu"]] != nil {
		t.Fatalf("after replace: state %+v; old endpoint still there: %v", cpu, fake.Endpoints()[ids["03_05_load_balancer_cpu"]] != nil)
	}
	for name, rs := range st.Resources {
		if name != "03_05_load_balancer_cpu" && fake.Endpoints()[rs.EndpointID]["env"].(map[string]any)["FLASH_ENDPOINT_ID_03_05_LOAD_BALANCER_CPU"] != cpu.EndpointID {
			t.Errorf("%s is not wired to the new CPU endpoint", name)
		}
	}

	// Removing a resource: delete, applied only with --yes.
	d.removeJobs(t)
	r = d.run(t, "deploy", "--plan", "--api-key-secret", "flash_key")
	if !strings.Contains(r.stdout, "delete jobs\n") {
		t.Fatalf("plan after removing jobs:\n%s\n%s", r.stdout, r.stderr)
	}
	jobsID := st.Resources["jobs"].EndpointID
	r = d.run(t, "deploy", "--api-key-secret", "flash_key") // no --yes, no terminal
	mustCode(t, r, 0, "deploy without --yes")
	if fake.Endpoints()[jobsID] == nil || d.checkState(t).Resources["jobs"] == nil {
		t.Fatalf("jobs was deleted without --yes\n%s", r.stderr)
	}
	r = d.run(t, "deploy", "--yes", "--api-key-secret", "flash_key")
	mustCode(t, r, 0, "deploy --yes after removing jobs")
	if fake.Endpoints()[jobsID] != nil || d.checkState(t).Resources["jobs"] != nil {
		t.Fatalf("jobs not deleted with --yes\n%s", r.stderr)
	}

	// undeploy --all leaves nothing.
	r = d.run(t, "undeploy", "--all", "--yes")
	mustCode(t, r, 0, "undeploy --all")
	if n := len(fake.Endpoints()); n != 0 {
		t.Fatalf("%d endpoints left after undeploy --all", n)
	}
	if n := len(d.checkState(t).Resources); n != 0 {
		t.Fatalf("%d resources left in the state after undeploy --all", n)
	}
}

// removeJobs takes the jobs resource out of the quickstart: its functions
// lose their directives and its variable goes.
func (d *deployEnv) removeJobs(t *testing.T) {
	t.Helper()
	p := filepath.Join(d.mod, "jobs", "jobs.go")
	data, _ := os.ReadFile(p)
	src := strings.ReplaceAll(string(data), "//\n//flash:remote res.Jobs\n", "\n")
	src = strings.ReplaceAll(src, "//flash:remote res.Jobs\n", "")
	os.WriteFile(p, []byte(src), 0o644)
	p = filepath.Join(d.mod, "res", "res.go")
	data, _ = os.ReadFile(p)
	i := strings.Index(string(data), "// Jobs runs batch text jobs")
	if i < 0 {
		t.Fatal("res.go has no Jobs")
	}
	os.WriteFile(p, data[:i], 0o644)
}

// withEnv returns d's environment with some variables replaced.
func (d *deployEnv) withEnv(kv ...string) *deployEnv {
	c := *d
	c.env = append([]string(nil), d.env...)
	for _, s := range kv {
		k, _, _ := strings.Cut(s, "=")
		c.env = slices.DeleteFunc(c.env, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		c.env = append(c.env, s)
	}
	return &c
}

func countRequests(reqs []fakerunpod.Request, method, path string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func TestDeployUsage(t *testing.T) {
	d := newDeployEnv(t)
	for _, c := range []struct {
		env  []string
		args []string
		want string
	}{
		{[]string{"RUNPOD_API_KEY="}, []string{"deploy", "--yes"}, "RUNPOD_API_KEY is not set"},
		{[]string{"FLASH_REGISTRY="}, []string{"deploy", "--yes"}, "no registry"},
		{nil, []string{"deploy", "--plan", "nosuch"}, `unknown resource "nosuch"`},
		{nil, []string{"deploy", "--plan", "--format", "yaml"}, "want text or json"},
		{nil, []string{"undeploy"}, "or pass --all"},
		{nil, []string{"undeploy", "test-api"}, `resource "test-api" is not deployed`},
	} {
		r := d.withEnv(c.env...).run(t, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v %v: exit %d, want 2 with %q\n%s", c.env, c.args, r.code, c.want, r.stderr)
		}
	}
	if n := len(d.fake.Requests()); n != 0 {
		t.Errorf("usage errors made %d API calls", n)
	}
}

func TestDeployFaults(t *testing.T) {
	d := newDeployEnv(t)
	fake := d.fake

	// 401: RunPod rejects the key; nothing is created and the state says so.
	r := d.withEnv("RUNPOD_API_KEY=wrong").run(t, "deploy", "--yes", "--wait", "0")
	mustCode(t, r, 1, "deploy with a rejected key")
	if !strings.Contains(r.stderr, "resource 03_05_load_balancer_cpu: create endpoint: POST /serverless: RunPod rejected the API key") || strings.Contains(r.stderr, "wrong") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if len(fake.Endpoints()) != 0 || len(d.checkState(t).Resources) != 0 {
		t.Fatalf("after a 401: %d endpoints, state %+v", len(fake.Endpoints()), d.checkState(t).Resources)
	}

	// A registry that rejects the push: the deploy stops before RunPod.
	fake.ResetRequests()
	r = d.withEnv("DOCKER_CONFIG="+dockerConfig(t, d.reg.host, d.reg.user, "not-the-password"), "FLASH_REGISTRY="+d.reg.host+"/other").
		run(t, "deploy", "--yes", "--wait", "0")
	mustCode(t, r, 1, "deploy to a registry that rejects the push")
	if !strings.Contains(r.stderr, ": push image: ") || len(fake.Mutations()) != 0 {
		t.Fatalf("push rejected: stderr\n%s\nmutations %v", r.stderr, fake.Mutations())
	}

	// 422: the problem's errors are listed; what was created before stays
	// recorded.
	d.edit(t, "res/res.go", "IdleTimeout: 60,", "IdleTimeout: 4000,")
	r = d.run(t, "deploy", "--yes", "--wait", "0")
	mustCode(t, r, 1, "deploy with a config RunPod rejects")
	if !strings.Contains(r.stderr, "resource 03_05_load_balancer_gpu: create endpoint: POST /serverless: RunPod rejected the request: Request validation failed.: body.workers.idleTimeout: out of range") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	st := d.checkState(t)
	if len(st.Resources) != 1 || st.Resources["03_05_load_balancer_cpu"] == nil || len(fake.Endpoints()) != 1 {
		t.Fatalf("after a 422: state %v, %d endpoints", st.Names(), len(fake.Endpoints()))
	}
	d.edit(t, "res/res.go", "IdleTimeout: 4000,", "IdleTimeout: 60,")

	// 429 with Retry-After, and 5xx then success: retried, and done.
	fake.ResetRequests()
	fake.AddFault(fakerunpod.Fault{Method: "POST", Path: "/serverless", Status: 429, RetryAfter: 1})
	fake.AddFault(fakerunpod.Fault{Method: "PATCH", Path: "/serverless/", Status: 503, Times: 2})
	start := time.Now()
	r = d.run(t, "deploy", "--yes", "--wait", "60s")
	mustCode(t, r, 0, "deploy through 429 and 503")
	reqs := fake.Requests()
	if n := countRequests(reqs, "POST", "/serverless"); n != 4 {
		t.Errorf("%d creates sent, want 4 (3 endpoints, one 429 retried)", n)
	}
	if time.Since(start) < time.Second {
		t.Error("the 429's Retry-After was not honoured")
	}
	if len(fake.Endpoints()) != 4 || fake.Creates() != 4 {
		t.Fatalf("%d endpoints, %d creates; want 4 and 4", len(fake.Endpoints()), fake.Creates())
	}

	// A connection dropped mid-deploy: the create is applied but its answer
	// lost, and the endpoint list cannot be read either; the deploy stops,
	// and the next one resumes without a duplicate.
	r = d.run(t, "undeploy", "--all", "--yes")
	mustCode(t, r, 0, "undeploy --all")
	before := fake.Creates()
	fake.AddFault(fakerunpod.Fault{Method: "POST", Path: "/serverless", Drop: true, AfterApply: true})
	fake.AddFault(fakerunpod.Fault{Method: "GET", Path: "/serverless", Drop: true, Times: 5})
	r = d.run(t, "deploy", "--yes", "--wait", "0")
	mustCode(t, r, 1, "deploy with a dropped connection")
	if !strings.Contains(r.stderr, "run deploy again to resume") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	st = d.checkState(t)
	if rs := st.Resources["03_05_load_balancer_cpu"]; rs == nil || !rs.PendingCreate || len(fake.Endpoints()) != 1 {
		t.Fatalf("after the drop: state %+v, %d endpoints", rs, len(fake.Endpoints()))
	}
	r = d.run(t, "deploy", "--yes", "--wait", "60s")
	mustCode(t, r, 0, "resumed deploy")
	if !strings.Contains(r.stderr, "created by an interrupted deploy") {
		t.Errorf("the resumed deploy did not adopt the endpoint:\n%s", r.stderr)
	}
	if got := fake.Creates() - before; got != 4 || len(fake.Endpoints()) != 4 {
		t.Fatalf("resumed deploy: %d creates, %d endpoints; want 4 and 4 (no duplicate)", got, len(fake.Endpoints()))
	}
	for name, rs := range d.checkState(t).Resources {
		if rs.PendingCreate || fake.Endpoints()[rs.EndpointID] == nil {
			t.Errorf("%s: state %+v does not match RunPod", name, rs)
		}
	}

	// A queue endpoint with a warm worker is waited for through its health
	// URL until a worker is ready.
	d.edit(t, "res/res.go", "Name:        \"jobs\",\n", "Name:        \"jobs\",\n\tWorkersMin:  1,\n")
	r = d.run(t, "deploy", "--yes", "--wait", "60s")
	mustCode(t, r, 0, "deploy of a warm queue")
	// Jobs is a pointer to a literal holding a map: its package initialises
	// it at run time, so every handler importing package res has new code
	// too, and says so (image).
	if !regexp.MustCompile(`(?m)^update jobs: (image, )?workersMin$`).MatchString(r.stdout) || !strings.Contains(r.stderr, "✓ jobs is healthy") {
		t.Errorf("warm queue:\n%s\n%s", r.stdout, r.stderr)
	}
}
