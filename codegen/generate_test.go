package codegen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/runtime"
)

// testProject is a small project built by hand: one deployed load balancer
// with one route and one queue resource with one function.
func testProject(root string) *Project {
	api := &model.Resource{Pkg: "example.com/app/api", PkgName: "api", Var: "API", Type: "LoadBalancer",
		Kind: runtime.LoadBalancer{}, Name: "test-api", Literal: true,
		Config: []model.Setting{
			{Field: "Name", Key: "name", Value: "test-api"},
			{Field: "WorkersMin", Key: "workersMin", Value: int64(0)},
			{Field: "WorkersMax", Key: "workersMax", Value: int64(3)},
			{Field: "Env", Key: "env", Value: map[string]string{"A&B": "<x>"}},
		}}
	jobs := &model.Resource{Pkg: "example.com/app/jobs", PkgName: "jobs", Var: "Jobs", Type: "Serverless",
		Kind: runtime.Serverless{}, Name: "jobs queue", Literal: true, Pointer: true,
		Config: []model.Setting{{Field: "Name", Key: "name", Value: "jobs queue"}}}
	file := func(rel string, line int) token.Position {
		return token.Position{Filename: filepath.Join(root, rel), Line: line, Column: 6}
	}
	return &Project{
		Root: root, Module: "example.com/app",
		Resources: []*model.Resource{jobs, api},
		Functions: []*model.Function{
			{Pkg: "example.com/app/jobs", PkgName: "jobs", Name: "Run", Qualified: "example.com/app/jobs.Run",
				Pos: file("jobs/jobs.go", 9), Resource: jobs, Valid: true,
				Params: []*model.Param{{Name: "n", Type: types.Typ[types.Int], TypeString: "int", In: model.InArg}},
				Result: types.Typ[types.Int], Error: false},
			{Pkg: "example.com/app/api", PkgName: "api", Name: "Process", Qualified: "example.com/app/api.Process",
				Pos: file("api/api.go", 12), Resource: api, Valid: true, Method: "POST", Path: "/api/process", Context: true,
				Params: []*model.Param{
					{Name: "x", Type: types.Typ[types.Int], TypeString: "int", In: model.InBody},
					{Name: "y", Type: types.Typ[types.Int], TypeString: "int", In: model.InBody},
				},
				Result: types.Typ[types.Int], Error: true},
			{Pkg: "example.com/app/api", PkgName: "api", Name: "Ping", Qualified: "example.com/app/api.Ping",
				Pos: file("api/a.go", 30), Resource: api, Valid: true, Method: "GET", Path: "/hello"},
			// Not valid: left out.
			{Pkg: "example.com/app/api", PkgName: "api", Name: "Bad", Qualified: "example.com/app/api.Bad",
				Pos: file("api/api.go", 40), Resource: api, Valid: false, Method: "GET", Path: "/bad"},
		},
	}
}

func TestManifestShape(t *testing.T) {
	root := t.TempDir()
	at := time.Date(2026, 1, 8, 19, 12, 33, 0, time.UTC)
	res, err := Generate(testProject(root), Options{GeneratedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	var data []byte
	for _, f := range res.Files {
		if f.Path == ManifestPath {
			data = f.Data
		}
	}
	s := string(data)
	t.Log(s)
	if !strings.HasPrefix(s, "{\n  \"version\": \"1.0\",\n  \"generated_at\": \"2026-01-08T19:12:33Z\",\n  \"project_name\": \"app\",\n") {
		t.Errorf("manifest starts wrong:\n%s", s)
	}
	if !strings.HasSuffix(s, "}\n") {
		t.Error("manifest lacks a trailing newline")
	}
	var m struct {
		Resources map[string]map[string]json.RawMessage
		Registry  map[string]string            `json:"function_registry"`
		Routes    map[string]map[string]string `json:"routes"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	api := m.Resources["test-api"]
	for key, want := range map[string]string{
		"resource_type": `"LoadBalancerSlsResource"`, "handler_file": `".flash/handlers/test-api/main.go"`,
		"is_load_balanced": "true", "is_live_resource": "false", "is_mothership": "false",
		"config_variable": `"API"`, "config_package": `"example.com/app/api"`,
		"workersMin": "0", "workersMax": "3", "name": `"test-api"`, "env": `{"A&B":"<x>"}`,
	} {
		var b bytes.Buffer
		json.Compact(&b, api[key])
		if got := b.String(); got != want {
			t.Errorf("test-api %s = %s, want %s", key, got, want)
		}
	}
	var fns []map[string]any
	json.Unmarshal(api["functions"], &fns)
	if len(fns) != 2 || fns[0]["name"] != "Ping" || fns[1]["name"] != "Process" {
		t.Fatalf("functions not sorted by (file, line) or invalid one kept: %v", fns)
	}
	if fns[0]["file"] != "api/a.go" || fns[0]["http_path"] != "/hello" {
		t.Errorf("function file/path: %v", fns[0])
	}
	if ps, _ := json.Marshal(fns[1]["params"]); string(ps) != `[{"in":"body","name":"x","type":"int"},{"in":"body","name":"y","type":"int"}]` {
		t.Errorf("params = %s", ps)
	}
	if ps, _ := json.Marshal(fns[0]["params"]); string(ps) != `[]` {
		t.Errorf("params of a function without any = %s, want []", ps)
	}
	jobs := m.Resources["jobs queue"]
	if string(jobs["handler_file"]) != `".flash/handlers/jobs_queue/main.go"` {
		t.Errorf("handler_file = %s", jobs["handler_file"])
	}
	var jfns []map[string]any
	json.Unmarshal(jobs["functions"], &jfns)
	if _, ok := jfns[0]["http_method"]; ok || len(jfns) != 1 {
		t.Errorf("queue function has http_*: %v", jfns)
	}
	if m.Registry["example.com/app/jobs.Run"] != "jobs queue" || m.Registry["example.com/app/api.Process"] != "test-api" {
		t.Errorf("registry = %v", m.Registry)
	}
	if len(m.Routes) != 1 || m.Routes["test-api"]["POST /api/process"] != "example.com/app/api.Process" {
		t.Errorf("routes = %v", m.Routes)
	}
	if _, ok := res.Handlers["jobs_queue"]; !ok || len(res.Handlers) != 2 || res.Functions != 3 {
		t.Errorf("handlers %v, functions %d", res.Handlers, res.Functions)
	}
	// The embedded manifest has no generated_at.
	for _, f := range res.Files {
		if strings.HasSuffix(f.Path, "main.go") && strings.Contains(string(f.Data), `"generated_at"`) {
			t.Errorf("%s embeds generated_at", f.Path)
		}
	}
}

func TestConfigHash(t *testing.T) {
	r := testProject(t.TempDir()).Resources[1]
	canonical := `{"env":{"A&B":"<x>"},"name":"test-api","resource_type":"LoadBalancerSlsResource","workersMax":3,"workersMin":0}`
	sum := sha256.Sum256([]byte(canonical))
	got, err := ConfigHash(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("ConfigHash = %s, want sha256(%s) = %s", got, canonical, want)
	}
	r.Config[2].Value = int64(4)
	if again, _ := ConfigHash(r); again == got {
		t.Error("config_hash did not change with workersMax")
	}
}

func TestWriteCheckAndStability(t *testing.T) {
	root := t.TempDir()
	p := testProject(root)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	res, err := Generate(p, Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	if changes, _ := res.Check(); len(changes) != 7 { // manifest, .gitignore, 2 handlers, 2 clients, 1 OpenAPI document
		t.Errorf("before writing, Check = %v, want 7 missing files", changes)
	}
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	if changes, _ := res.Check(); len(changes) != 0 {
		t.Errorf("after writing, Check = %v", changes)
	}
	gi, _ := os.ReadFile(filepath.Join(root, ".flash/.gitignore"))
	if !strings.Contains(string(gi), ".build/") || !strings.Contains(string(gi), "*.tar.gz") {
		t.Errorf(".gitignore = %q", gi)
	}

	// Regenerating an unchanged project later keeps generated_at and
	// rewrites nothing.
	info, _ := os.Stat(filepath.Join(root, ManifestPath))
	res, err = Generate(p, Options{Now: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.GeneratedAt != "2026-01-01T00:00:00Z" {
		t.Errorf("generated_at = %s, want the previous one", res.Manifest.GeneratedAt)
	}
	if written, err := res.Write(); err != nil || len(written) != 0 {
		t.Errorf("rewrite of an unchanged project wrote %v (%v)", written, err)
	}
	if again, _ := os.Stat(filepath.Join(root, ManifestPath)); !again.ModTime().Equal(info.ModTime()) {
		t.Error("manifest rewritten")
	}

	// A config change makes the manifest and every handler stale (they
	// embed it), and the OpenAPI document (its info.version is the
	// config_hash); generate --check ignores generated_at only.
	p.Resources[1].Config[2].Value = int64(5)
	res, _ = Generate(p, Options{Now: func() time.Time { return t0.Add(2 * time.Hour) }})
	changes, _ := res.Check()
	if len(changes) != 4 || changes[0].Path != ManifestPath || changes[0].Kind != "stale" ||
		changes[3].Path != ".flash/openapi/test-api.json" || changes[3].Kind != "stale" {
		t.Errorf("Check after a config change = %v", changes)
	}
	if res.Manifest.GeneratedAt != "2026-01-01T02:00:00Z" {
		t.Errorf("generated_at = %s after a change", res.Manifest.GeneratedAt)
	}
	res.Write()

	// Removing a resource deletes its handler directory.
	p.Resources = p.Resources[1:]
	p.Functions = p.Functions[1:]
	res, _ = Generate(p, Options{})
	changes, _ = res.Check()
	found := false
	for _, c := range changes {
		found = found || c == Change{Path: ".flash/handlers/jobs_queue", Kind: "extra"}
	}
	if !found {
		t.Errorf("Check = %v, want the jobs_queue directory extra", changes)
	}
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".flash/handlers/jobs_queue")); !os.IsNotExist(err) {
		t.Errorf("stale handler directory still there: %v", err)
	}
	if changes, _ := res.Check(); len(changes) != 0 {
		t.Errorf("after writing, Check = %v", changes)
	}
}

func TestGenerateRejectsSharedDirectory(t *testing.T) {
	p := testProject(t.TempDir())
	p.Resources[0].Name = "test api" // both sanitise to test_api
	p.Resources[1].Name = "test_api"
	if _, err := Generate(p, Options{}); err == nil || !strings.Contains(err.Error(), "share the handler directory") {
		t.Errorf("Generate = %v, want a shared-directory error", err)
	}
}

// The manifest file is derived from the embedded encoding; it must equal
// a direct encoding with generated_at set.
func TestManifestFileEqualsEncoding(t *testing.T) {
	res, err := Generate(testProject(t.TempDir()), Options{GeneratedAt: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := res.Manifest.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if f.Path == ManifestPath && !bytes.Equal(f.Data, direct) {
			t.Errorf("manifest file differs from its encoding:\n%s", firstDiff(string(direct), string(f.Data)))
		}
	}
}

func TestProjectName(t *testing.T) {
	for module, want := range map[string]string{
		"example.com/quickstart": "quickstart",
		"github.com/u/app/v2":    "app",
		"example.com/03-app":     "03-app",
		"vanity":                 "vanity",
		"example.com/v":          "v",
		"example.com/v2x":        "v2x",
	} {
		if got := (&Project{Module: module}).name(); got != want {
			t.Errorf("project name of %s = %q, want %q", module, got, want)
		}
	}
}

func TestResultResource(t *testing.T) {
	res, err := Generate(testProject(t.TempDir()), Options{NoClient: true})
	if err != nil {
		t.Fatal(err)
	}
	for arg, want := range map[string]string{"jobs_queue": "jobs queue", "jobs queue": "jobs queue", "test-api": "test-api"} {
		if dir, name, ok := res.Resource(arg); !ok || name != want || dir != model.DirName(want) {
			t.Errorf("Resource(%q) = %q, %q, %v", arg, dir, name, ok)
		}
	}
	if _, _, ok := res.Resource("jobs"); ok {
		t.Error("Resource(jobs) found a resource")
	}
	if got := res.ResourceList(); got != "jobs_queue, test-api" {
		t.Errorf("ResourceList = %q", got)
	}
}

// The deployment settings of SPEC 17.1 reach the manifest under their keys
// and count in config_hash.
func TestManifestDeploySettings(t *testing.T) {
	p := testProject(t.TempDir())
	api := p.Resources[1]
	before, _ := ConfigHash(api)
	api.Config = append(api.Config,
		model.Setting{Field: "DiskGB", Key: "diskGb", Value: int64(20)},
		model.Setting{Field: "Timeout", Key: "timeout", Value: int64(600000)},
		model.Setting{Field: "FlashBoot", Key: "flashboot", Value: "FLASHBOOT"},
		model.Setting{Field: "DataCenters", Key: "dataCenterIds", Value: []string{"EU-RO-1"}},
		model.Setting{Field: "NetworkVolumes", Key: "networkVolumes", Value: []string{"vol1"}},
		model.Setting{Field: "Registry", Key: "registry", Value: "reg1"},
	)
	after, _ := ConfigHash(api)
	if before == after {
		t.Error("config_hash did not change with the deployment settings")
	}
	res, err := Generate(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := res.Manifest.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Resources map[string]map[string]any `json:"resources"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	got := m.Resources["test-api"]
	for key, want := range map[string]string{"diskGb": "20", "timeout": "600000", "flashboot": `"FLASHBOOT"`,
		"dataCenterIds": `["EU-RO-1"]`, "networkVolumes": `["vol1"]`, "registry": `"reg1"`} {
		data, _ := json.Marshal(got[key])
		if string(data) != want {
			t.Errorf("manifest %s = %s, want %s", key, data, want)
		}
	}
}
