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
