package lsp

import (
	"go/types"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/runtime"
)

func TestExampleCurl(t *testing.T) {
	str := types.Typ[types.String]
	lb := &model.Resource{Var: "API", Name: "api", Type: "LiveLoadBalancer", Kind: runtime.LiveLoadBalancer{}}
	queue := &model.Resource{Var: "Jobs", Name: "jobs", Type: "Serverless", Kind: runtime.Serverless{}}
	for _, tc := range []struct {
		name         string
		res          *model.Resource
		method, path string
		params       []*model.Param
		want         string
	}{
		{"get with path and query", lb, "GET", "/items/{id:[0-9]+}", []*model.Param{
			{Name: "id", TypeString: "int", In: model.InPath, Bind: model.BindInt},
			{Name: "tags", TypeString: "[]string", In: model.InQuery, Bind: model.BindString, Slice: true},
		}, "curl -X GET 'http://localhost:8000/items/1?tags=example'"},
		{"post with body", lb, "POST", "/things", []*model.Param{
			{Name: "name", Type: str, TypeString: "string", In: model.InBody},
			{Name: "meta", TypeString: "shared.Meta", In: model.InBody},
			{Name: "limit", TypeString: "*int", In: model.InBody, Optional: true},
		}, `curl -X POST 'http://localhost:8000/things' \
  -H 'Content-Type: application/json' \
  -d '{"limit":1,"meta":{},"name":"example"}'`},
		{"delete without parameters", lb, "DELETE", "/all", nil, "curl -X DELETE 'http://localhost:8000/all'"},
		{"queue", queue, "", "", []*model.Param{{Name: "x", TypeString: "int", In: model.InArg}},
			`curl -X POST 'http://localhost:8000/runsync' \
  -H 'Content-Type: application/json' \
  -d '{"input":{"function_name":"Work","kwargs":{"x":1}}}'`},
	} {
		fn := &model.Function{Name: "Work", Params: tc.params}
		if got := exampleCurl(tc.res, fn, tc.method, tc.path); got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestDescribeQueueAndLive(t *testing.T) {
	queue := &model.Resource{Var: "Jobs", Pkg: "example.com/app/res", Name: "jobs", Type: "CPULiveServerless", Kind: runtime.CPULiveServerless{}}
	fn := &model.Function{Name: "Work", Params: []*model.Param{{Name: "x", TypeString: "int", In: model.InArg}}, ResultString: "int"}
	m := newMapper([]byte("//flash:remote res.Jobs"))
	text := describe(queue, fn, findDirective(m, 0))
	for _, want := range []string{"`jobs`", "runtime.CPULiveServerless", "queue, live", "CpuLiveServerless", "POST /runsync", "| `x` | arg | `int` |", "**Response:** `int`"} {
		if !strings.Contains(text, want) {
			t.Errorf("hover lacks %q:\n%s", want, text)
		}
	}
}

// TestDescribeShapes: hover shows the JSON body and the response in short
// form, from the same schemas as the OpenAPI documents.
func TestDescribeShapes(t *testing.T) {
	str := types.Typ[types.String]
	pkg := types.NewPackage("example.com/app/items", "items")
	item := types.NewNamed(types.NewTypeName(0, pkg, "Item", nil), types.NewStruct([]*types.Var{
		types.NewField(0, pkg, "ID", str, false),
		types.NewField(0, pkg, "Tags", types.NewSlice(str), false),
	}, []string{`json:"id"`, `json:"tags,omitempty"`}), nil)
	lb := &model.Resource{Var: "API", Pkg: "example.com/app/res", Name: "api", Type: "LoadBalancer", Kind: runtime.LoadBalancer{}}
	fn := &model.Function{Name: "Transform", Method: "POST", Path: "/transform", Params: []*model.Param{
		{Name: "id", Type: str, TypeString: "string", In: model.InBody},
		{Name: "operation", Type: types.NewPointer(str), TypeString: "*string", In: model.InBody, Optional: true},
	}, Result: item, ResultString: "items.Item"}
	m := newMapper([]byte("//flash:remote res.API method=POST path=/transform"))
	text := describe(lb, fn, findDirective(m, 0))
	for _, want := range []string{
		"**JSON body:** `{id: string, operation?: string | null}`",
		"**Response:** `items.Item` → `Item {id: string, tags?: string[] | null}`",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("hover lacks %q:\n%s", want, text)
		}
	}

	get := &model.Function{Name: "Drop", Method: "DELETE", Path: "/items/{id}", Params: []*model.Param{
		{Name: "id", Type: str, TypeString: "string", In: model.InPath},
	}}
	text = describe(lb, get, findDirective(newMapper([]byte("//flash:remote res.API method=DELETE path=/items/{id}")), 0))
	if strings.Contains(text, "JSON body") || !strings.Contains(text, "**Response:** 204, no body") {
		t.Errorf("hover of a DELETE route without result:\n%s", text)
	}
}
