package codegen

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
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
	src, err := Handler(res, fns, []byte("{\n  \"version\": \"1.0\"\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	t.Log(s)
	for _, want := range []string{
		Header + "\n",
		`workers "example.com/app/03_advanced-workers"`,
		`runtime2 "example.com/app/runtime"`,
		`"github.com/flash-lsp/flash-lsp/runtime"`,
		`"time"`,
		`Resource: runtime2.GPU,`,
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
