package codegen

import (
	"go/format"
	"go/types"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/runtime"
)

func TestClientNames(t *testing.T) {
	for name, want := range map[string]string{
		"test-api":                "test_api",
		"jobs":                    "jobs",
		"03_05_load_balancer_cpu": "pkg03_05_load_balancer_cpu",
		"my api.v2":               "my_api_v2",
		"func":                    "func_",
	} {
		if got := ClientPackage(name); got != want {
			t.Errorf("ClientPackage(%q) = %q, want %q", name, got, want)
		}
	}
	if got := ClientFile("flashclient", "my api"); got != "flashclient/my_api/client.go" {
		t.Errorf("ClientFile = %s", got)
	}
	if got := ClientImportPath("example.com/app", "gen/clients", "test-api"); got != "example.com/app/gen/clients/test-api" {
		t.Errorf("ClientImportPath = %s", got)
	}
	fns := []*model.Function{
		{Name: "Health", PkgName: "cpu", Pkg: "example.com/app/cpu"},
		{Name: "Health", PkgName: "gpu", Pkg: "example.com/app/gpu"},
		{Name: "Caller", PkgName: "x", Pkg: "example.com/app/x"},
		{Name: "Run", PkgName: "x", Pkg: "example.com/app/x"},
	}
	if got, want := ClientMethods(fns), []string{"CpuHealth", "GpuHealth", "Caller2", "Run"}; !slices.Equal(got, want) {
		t.Errorf("ClientMethods = %v, want %v", got, want)
	}
}

func TestCheckClientDir(t *testing.T) {
	for _, ok := range []string{"flashclient", "internal/clients", "gen/flash"} {
		if err := CheckClientDir(ok); err != nil {
			t.Errorf("CheckClientDir(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "..", "../x", "/abs", "a//b", "a/", ".flash/clients", "_gen", "x/testdata/y", `a\b`} {
		if err := CheckClientDir(bad); err == nil {
			t.Errorf("CheckClientDir(%q) accepted it", bad)
		}
	}
}

// TestClientSource: parameter names that would shadow the body's
// identifiers or an import are renamed; the package imports only context,
// runtime and the packages of the parameter and result types.
func TestClientSource(t *testing.T) {
	itemsPkg := types.NewPackage("example.com/app/items", "items")
	item := types.NewNamed(types.NewTypeName(0, itemsPkg, "Item", nil), types.NewStruct(nil, nil), nil)
	api := &model.Resource{Pkg: "example.com/app/res", PkgName: "res", Var: "API", Type: "LoadBalancer",
		Kind: runtime.LoadBalancer{}, Name: "test-api"}
	fns := []*model.Function{
		{Pkg: "example.com/app/api", PkgName: "api", Name: "Put", Qualified: "example.com/app/api.Put",
			Resource: api, Method: "PUT", Path: "/items/{id}", Valid: true,
			Params: []*model.Param{
				{Name: "id", Type: types.Typ[types.String], In: model.InPath},
				{Name: "items", Type: item, In: model.InBody},
				{Name: "result", Type: types.NewSlice(item), In: model.InBody},
				{Name: "ctx", Type: types.NewPointer(types.Typ[types.Int]), In: model.InBody, Optional: true},
			},
			Result: item, Error: true},
		{Pkg: "example.com/app/api", PkgName: "api", Name: "Drop", Qualified: "example.com/app/api.Drop",
			Resource: api, Method: "DELETE", Path: "/items", Valid: true},
		// A struct literal type of several fields: gofmt spreads it out.
		{Pkg: "example.com/app/api", PkgName: "api", Name: "Tag", Qualified: "example.com/app/api.Tag",
			Resource: api, Method: "POST", Path: "/tag", Valid: true,
			Params: []*model.Param{{Name: "t", In: model.InBody, Type: types.NewStruct([]*types.Var{
				types.NewField(0, nil, "A", types.Typ[types.Int], false),
				types.NewField(0, nil, "B", types.Typ[types.String], false)}, nil)}}},
	}
	src, err := Client(api, fns)
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, want := range []string{
		model.GeneratedHeader + "\n",
		"package test_api\n",
		"import (\n\t\"context\"\n\n\t\"example.com/app/items\"\n\t\"github.com/flash-lsp/flash-lsp/runtime\"\n)\n",
		`const Resource = "test-api"`,
		"func (c *Client) Put(ctx context.Context, id string, items_ items.Item, result_ []items.Item, ctx_ *int) (items.Item, error) {",
		"err := c.Caller.Call(ctx, remotePut, []any{id, items_, result_, ctx_}, &result)",
		`var remotePut = &runtime.RemoteFunc{Resource: Resource, LoadBalanced: true, Name: "example.com/app/api.Put", Method: "PUT", Path: "/items/{id}", Params: []string{"id", "items", "result", "ctx"}}`,
		"func (c *Client) Drop(ctx context.Context) error {\n\treturn c.Caller.Call(ctx, remoteDrop, nil, nil)\n}",
		"func (c *Client) Tag(ctx context.Context, t struct {\n\tA int\n\tB string\n}) error {",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("client source lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "example.com/app/api\"") || strings.Contains(s, "example.com/app/res\"") {
		t.Errorf("the client imports the function's or the resource's package:\n%s", s)
	}
	if formatted, err := format.Source(src); err != nil || string(formatted) != s {
		t.Errorf("client source is not gofmt-clean (%v)", err)
	}
	again, _ := Client(api, fns)
	if string(again) != s {
		t.Error("client source is not deterministic")
	}
}

// TestClientWriteAndStale: generate writes the clients, --no-client writes
// none, and a removed resource's generated client directory is deleted
// while a directory the user wrote stays.
func TestClientWriteAndStale(t *testing.T) {
	root := t.TempDir()
	p := testProject(root)
	res, err := Generate(p, Options{ClientDir: "gen/clients"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"gen/clients/test-api/client.go", "gen/clients/jobs_queue/client.go"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Error(err)
		}
	}
	if res.Clients["test-api"] != "example.com/app/gen/clients/test-api" {
		t.Errorf("Clients = %v", res.Clients)
	}
	mine := filepath.Join(root, "gen", "clients", "mine", "client.go")
	os.MkdirAll(filepath.Dir(mine), 0o755)
	os.WriteFile(mine, []byte("package mine\n"), 0o644)

	p.Resources = p.Resources[1:] // drop "jobs queue"
	res, err = Generate(p, Options{ClientDir: "gen/clients"})
	if err != nil {
		t.Fatal(err)
	}
	changes, _ := res.Check()
	if !slices.ContainsFunc(changes, func(c Change) bool { return c == Change{Path: "gen/clients/jobs_queue", Kind: "extra"} }) {
		t.Errorf("Check = %v, want the stale client directory", changes)
	}
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "gen", "clients", "jobs_queue")); !os.IsNotExist(err) {
		t.Errorf("stale client directory kept: %v", err)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("a directory the user wrote was removed: %v", err)
	}

	res, err = Generate(p, Options{NoClient: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if strings.HasSuffix(f.Path, ClientFileName) {
			t.Errorf("NoClient generated %s", f.Path)
		}
	}
	if _, err := Generate(p, Options{ClientDir: "../out"}); err == nil {
		t.Error("a client directory outside the module was accepted")
	}
}

// TestClientKeepsUserFiles: a file of the user's at a client's path is
// never overwritten.
func TestClientKeepsUserFiles(t *testing.T) {
	root := t.TempDir()
	mine := filepath.Join(root, "flashclient", "test-api", "client.go")
	os.MkdirAll(filepath.Dir(mine), 0o755)
	os.WriteFile(mine, []byte("package mine\n"), 0o644)
	res, err := Generate(testProject(root), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Write(); err == nil || !strings.Contains(err.Error(), "flashclient/test-api/client.go exists and was not generated by flash-lsp") {
		t.Errorf("Write over a user's file: %v", err)
	}
	if data, _ := os.ReadFile(mine); string(data) != "package mine\n" {
		t.Error("the user's file was overwritten")
	}
}

// TestClientEdgeCases: a resource without functions, a queue function
// with map and interface types, and the quickstart's golden clients are
// all gofmt-clean.
func TestClientEdgeCases(t *testing.T) {
	q := &model.Resource{Pkg: "example.com/app/q", PkgName: "q", Var: "Q", Type: "CPUServerless", Pointer: true,
		Kind: runtime.CPUServerless{}, Name: "q"}
	empty, err := Client(q, nil)
	if err != nil {
		t.Fatal(err)
	}
	assertGofmt(t, "empty", empty)
	if strings.Contains(string(empty), `"context"`) {
		t.Errorf("a client without methods imports context:\n%s", empty)
	}
	fns := []*model.Function{{
		Pkg: "example.com/app/q", PkgName: "q", Name: "Main", Qualified: "example.com/app/q.Main", Resource: q, Valid: true,
		Params: []*model.Param{
			{Name: "m", Type: types.NewMap(types.Typ[types.String], types.NewInterfaceType(nil, nil)), In: model.InArg},
			{Name: "n", Type: types.NewPointer(types.Typ[types.Int]), In: model.InArg, Optional: true},
		},
		Result: types.NewSlice(types.Typ[types.Float64]), Error: true,
	}}
	src, err := Client(q, fns)
	if err != nil {
		t.Fatal(err)
	}
	assertGofmt(t, "queue", src)
	for _, want := range []string{
		`var remoteMain = &runtime.RemoteFunc{Resource: Resource, Name: "example.com/app/q.Main", Params: []string{"m", "n"}}`,
		"func (c *Client) Main(ctx context.Context, m map[string]interface{}, n *int) ([]float64, error) {",
		"a queue job (/runsync)",
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("queue client lacks %q:\n%s", want, src)
		}
	}
	// A name with a newline stays inside the comments that mention it.
	odd := *q
	odd.Name = "a\nb*/`\u00e9"
	oddFns := []*model.Function{{
		Pkg: "example.com/app/q", PkgName: "q", Name: "Run", Qualified: "example.com/app/q.Run", Resource: &odd, Valid: true,
	}}
	oddSrc, err := Client(&odd, oddFns)
	if err != nil {
		t.Fatal(err)
	}
	assertGofmt(t, "odd name", oddSrc)
	if want := "// it serves " + strconv.Quote(odd.Name) + " (its own handler"; !strings.Contains(string(oddSrc), want) {
		t.Errorf("odd name not quoted in the package comment: want %q in\n%s", want, oddSrc)
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "quickstart", "flashclient", "*", "client.go.golden"))
	if len(golden) != 4 {
		t.Errorf("%d golden clients, want 4", len(golden))
	}
	for _, g := range golden {
		data, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		assertGofmt(t, g, data)
	}
}
