package model

import "testing"

func TestExample(t *testing.T) {
	for _, tc := range []struct {
		name         string
		method, path string
		params       []*Param
		want         string
	}{
		{"get with path and query", "GET", "/items/{id:[0-9]+}", []*Param{
			{Name: "id", TypeString: "int", In: InPath, Bind: BindInt},
			{Name: "tags", TypeString: "[]string", In: InQuery, Bind: BindString, Slice: true},
		}, "curl -X GET 'http://localhost:8000/items/1?tags=example'"},
		{"post with body", "POST", "/things", []*Param{
			{Name: "name", TypeString: "string", In: InBody},
			{Name: "meta", TypeString: "shared.Meta", In: InBody},
			{Name: "when", TypeString: "time.Time", In: InBody, Bind: BindText},
			{Name: "limit", TypeString: "*int", In: InBody, Optional: true},
		}, `curl -X POST 'http://localhost:8000/things' -H 'Content-Type: application/json' -d '{"limit":1,"meta":{},"name":"example","when":"example"}'`},
		{"post without parameters", "POST", "/run", nil,
			`curl -X POST 'http://localhost:8000/run' -H 'Content-Type: application/json' -d '{}'`},
		{"delete without parameters", "DELETE", "/all", nil, "curl -X DELETE 'http://localhost:8000/all'"},
		{"queue", "", "", []*Param{{Name: "x", TypeString: "[]float64", In: InArg}},
			`curl -X POST 'http://localhost:8000/runsync' -H 'Content-Type: application/json' -d '{"input":{"function_name":"example.com/app/jobs.Work","kwargs":{"x":[1.5]}}}'`},
	} {
		fn := &Function{Name: "Work", Qualified: "example.com/app/jobs.Work", Params: tc.params}
		if got := NewExample("http://localhost:8000", fn, tc.method, tc.path).Curl(); got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.name, got, tc.want)
		}
	}
}
