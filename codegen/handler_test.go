package codegen

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"regexp"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/runtime"
)

// typesOf type-checks src as package path and returns it.
func typesOf(t *testing.T, path, src string) *types.Package {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check(path, fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

func lookup(pkg *types.Package, name string) types.Type {
	return pkg.Scope().Lookup(name).Type()
}

func TestHandlerImportsAndBinds(t *testing.T) {
	// A package path with digits and dashes, a package named like the
	// flash runtime, and parameter types from the standard library.
	work := typesOf(t, "example.com/app/03_advanced-workers", `package workers
type Job struct{ N int }
type Level int
`)
	rt := typesOf(t, "example.com/app/runtime", `package runtime
type ID string
`)
	timePkg := typesOf(t, "example.com/x", `package x
import "time"
var T time.Time
`).Scope().Lookup("T").Type()

	res := &model.Resource{Pkg: "example.com/app/runtime", PkgName: "runtime", Var: "GPU", Type: "LiveLoadBalancer",
		Kind: runtime.LiveLoadBalancer{}, Name: "gpu worker", Literal: true}
	fns := []*model.Function{
		{
			Pkg: "example.com/app/03_advanced-workers", PkgName: "workers", Name: "Get",
			Qualified: "example.com/app/03_advanced-workers.Get", Resource: res, Valid: true,
			Method: "GET", Path: "/jobs/{id}", Context: true,
			Params: []*model.Param{
				{Name: "id", Type: lookup(rt, "ID"), In: model.InPath, Bind: model.BindString},
				{Name: "level", Type: types.NewPointer(lookup(work, "Level")), In: model.InQuery, Bind: model.BindInt, Optional: true},
				{Name: "tags", Type: types.NewSlice(types.Typ[types.String]), In: model.InQuery, Bind: model.BindString, Slice: true},
				{Name: "since", Type: types.NewPointer(timePkg), In: model.InQuery, Bind: model.BindText, Optional: true},
			},
			Result: lookup(work, "Job"), Error: true,
		},
		{
			Pkg: "example.com/app/03_advanced-workers", PkgName: "workers", Name: "Put",
			Qualified: "example.com/app/03_advanced-workers.Put", Resource: res, Valid: true,
			Method: "POST", Path: "/jobs",
			Params: []*model.Param{
				{Name: "job", Type: lookup(work, "Job"), In: model.InBody, Bind: model.BindJSON},
				{Name: "note", Type: types.NewPointer(types.Typ[types.String]), In: model.InBody, Bind: model.BindJSON, Optional: true},
			},
			Error: true,
		},
	}
	src, err := Handler(res, fns, []byte("{\n  \"version\": \"1.0\"\n}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	assertGofmt(t, "handler", src)
	s := string(src)
	t.Log(s)
	for _, want := range []string{
		model.GeneratedHeader + "\n",
		`workers "example.com/app/03_advanced-workers"`,
		`runtime2 "example.com/app/runtime"`,
		`"github.com/flash-lsp/flash-lsp/runtime"`,
		`"time"`,
		`var p0 runtime2.ID`,
		`if err := runtime.String(in, "id", &p0); err != nil {`,
		"p1 = new(workers.Level)",
		`if err := runtime.Int(in, "level", p1); err != nil {`,
		`if err := runtime.Strings(in, "tags", &p2); err != nil {`,
		"p3 = new(time.Time)",
		`if err := runtime.Text(in, "since", p3); err != nil {`,
		`return workers.Get(ctx, p0, p1, p2, p3)`,
		`{Name: "level", In: "query", Optional: true},`,
		`if in.Has("note") {`,
		`return nil, workers.Put(p0, p1)`,
		"NoResult: true,",
		"runtime.ServeLoadBalancer(app)",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("handler lacks %q", want)
		}
	}
	if !regexp.MustCompile(`Resource:\s+runtime2\.GPU,`).MatchString(s) {
		t.Error("handler does not serve runtime2.GPU")
	}
	if strings.Contains(s, `"reflect"`) {
		t.Error("handler imports reflect")
	}
}

func TestImportAliases(t *testing.T) {
	im := newImports()
	for path, name := range map[string]string{
		"example.com/a/p000":     "p000", // a package name, not a local
		"example.com/b/p1":       "p1",   // a local's name
		"example.com/c/p1":       "p1",
		"example.com/ctx":        "ctx",
		"example.com/x/context":  "context",
		"example.com/y/string":   "string",
		"example.com/03_a-b":     "",
		"example.com/type":       "",
		"example.com/fmt/v2/fmt": "fmt",
		"example.com/p":          "p",
		"example.com/q/p":        "p",
	} {
		im.add(path, name)
	}
	im.assign()
	want := map[string]string{
		"example.com/a/p000":     "p000",
		"example.com/b/p1":       "p1_",
		"example.com/c/p1":       "p1_2",
		"example.com/ctx":        "ctx2",
		"example.com/x/context":  "context2",
		"example.com/y/string":   "string2",
		"example.com/03_a-b":     "pkg03_a_b",
		"example.com/type":       "type_",
		"example.com/fmt/v2/fmt": "fmt2",
		"example.com/p":          "p_",
		"example.com/q/p":        "p_2",
	}
	for path, alias := range want {
		if got := im.alias(path); got != alias {
			t.Errorf("alias of %s = %q, want %q", path, got, alias)
		}
	}
}

// assertGofmt fails unless src is exactly what gofmt makes of it.
func assertGofmt(t *testing.T, name string, src []byte) {
	t.Helper()
	formatted, err := format.Source(src)
	if err != nil {
		t.Fatalf("%s does not parse: %v\n%s", name, err, src)
	}
	if !bytes.Equal(formatted, src) {
		t.Errorf("%s is not gofmt-clean: %s", name, firstDiff(string(formatted), string(src)))
	}
}

func TestHandlerEdgeCases(t *testing.T) {
	// No functions; a struct-typed parameter; a pointer resource served
	// live; a function named like a generated identifier.
	res := &model.Resource{Pkg: "example.com/app/q", PkgName: "q", Var: "Q", Type: "CPUServerless", Pointer: true,
		Kind: runtime.CPUServerless{}, Name: "q"}
	anon := types.NewStruct([]*types.Var{
		types.NewField(token.NoPos, nil, "A", types.Typ[types.Int], false),
		types.NewField(token.NoPos, nil, "B", types.NewSlice(types.Typ[types.String]), false),
	}, []string{`json:"a"`, ""})
	fns := []*model.Function{{
		Pkg: "example.com/app/q", PkgName: "q", Name: "Main", Qualified: "example.com/app/q.Main", Resource: res, Valid: true,
		Params: []*model.Param{{Name: "s", Type: anon, In: model.InArg}, {Name: "m", Type: types.NewMap(types.Typ[types.String], types.NewInterfaceType(nil, nil)), In: model.InArg}},
	}}
	for _, c := range []struct {
		name string
		fns  []*model.Function
		live bool
		want []string
	}{
		{"empty", nil, false, []string{"var functions = []runtime.Function{}"}},
		{"struct", fns, false, []string{"var p0 struct {", "var p1 map[string]interface{}", "q.Main(p0, p1)\n", "return nil, nil"}},
		{"live", fns, true, []string{"runtime.CPULiveServerless(*q.Q)", "live variant"}},
	} {
		src, err := handler(res, c.fns, []byte("{}\n"), nil, c.live)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		assertGofmt(t, c.name, src)
		for _, w := range c.want {
			if !strings.Contains(string(src), w) {
				t.Errorf("%s: handler lacks %q:\n%s", c.name, w, src)
			}
		}
	}
}

// TestHandlerUnexportedResource: a resource variable the handler cannot
// name (unexported, or in an internal package) is written as a literal of
// its type with its settings, and its package is not imported for it, so
// the handler compiles.
func TestHandlerUnexportedResource(t *testing.T) {
	res := &model.Resource{Pkg: "example.com/app/q", PkgName: "q", Var: "lb", Type: "LoadBalancer", Pointer: true,
		Kind: runtime.LoadBalancer{}, Name: "lb", Config: []model.Setting{
			{Field: "Name", Key: "name", Value: "lb"},
			{Field: "GPUs", Key: "gpuIds", Value: []string{"A", "B"}},
			{Field: "WorkersMax", Key: "workersMax", Value: int64(2)},
			{Field: "Env", Key: "env", Value: map[string]string{"Z": "1", "A": `x"y`}},
			{Field: "Mothership", Key: "is_mothership", Value: true},
		}}
	lit := `{Name: "lb", GPUs: []string{"A", "B"}, WorkersMax: 2, Env: map[string]string{"A": "x\"y", "Z": "1"}, Mothership: true}`
	for _, live := range []bool{false, true} {
		src, err := handler(res, nil, []byte("{}\n"), nil, live)
		if err != nil {
			t.Fatal(err)
		}
		assertGofmt(t, "unexported", src)
		want := "Resource:  runtime.LoadBalancer" + lit + ","
		if live {
			want = "Resource:  runtime.LiveLoadBalancer" + lit + ","
		}
		if !strings.Contains(string(src), want) || strings.Contains(string(src), `"example.com/app/q"`) {
			t.Errorf("live=%v: want %q and no import of the resource's package:\n%s", live, want, src)
		}
	}
	internal := *res
	internal.Var, internal.Pkg = "LB", "example.com/app/x/internal/q"
	if src, err := handler(&internal, nil, []byte("{}\n"), nil, false); err != nil || !strings.Contains(string(src), "Resource:  runtime.LoadBalancer"+lit) {
		t.Errorf("internal package: want a literal (%v):\n%s", err, src)
	}
}
