package codegen

import (
	"go/format"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

func TestAllMain(t *testing.T) {
	res, err := Generate(testProject(t.TempDir()), Options{NoClient: true})
	if err != nil {
		t.Fatal(err)
	}
	src, err := AllMain(res)
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, want := range []string{
		model.GeneratedHeader + "\n",
		"package main\n",
		`{Prefix: "/jobs_queue", App: runtime.App{Resource: runtime.LiveServerless(*jobs.Jobs), Functions: functions0, Manifest: []byte(manifest)}},`,
		`{Prefix: "/test-api", App: runtime.App{Resource: runtime.LiveLoadBalancer(api.API), Functions: functions1, Manifest: []byte(manifest), OpenAPI: []byte(openAPI1)}},`,
		"const openAPI1 = `{\n  \"openapi\": \"3.1.0\",",
		"if err := runtime.ServeAll(mounts); err != nil {",
		`Name: "example.com/app/api.Process", Method: "POST", Path: "/api/process"`,
		"func callRun(ctx context.Context, in *runtime.Input) (any, error) {",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("run --all main lacks %q:\n%s", want, s)
		}
	}
	if formatted, err := format.Source(src); err != nil || string(formatted) != s {
		t.Errorf("not gofmt-clean (%v)", err)
	}
	if again, _ := AllMain(res); string(again) != s {
		t.Error("not deterministic")
	}
	if strings.Contains(s, `"reflect"`) {
		t.Error("imports reflect")
	}

	table := RouteTable(res, "http://127.0.0.1:8888")
	for _, want := range []string{
		"  jobs queue\n    POST /jobs_queue/runsync    curl -X POST 'http://127.0.0.1:8888/jobs_queue/runsync' -H 'Content-Type: application/json' -d '{\"input\":{\"function_name\":\"example.com/app/jobs.Run\",\"kwargs\":{\"n\":1}}}'\n",
		"    GET  /test-api/hello        curl -X GET 'http://127.0.0.1:8888/test-api/hello'\n",
		"    POST /test-api/api/process  curl",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("route table lacks %q:\n%s", want, table)
		}
	}
}

// TestAllMainWithoutFunctions: resources without remote functions need no
// adapters, so the program does not import context (an unused import does
// not compile).
func TestAllMainWithoutFunctions(t *testing.T) {
	p := testProject(t.TempDir())
	p.Functions = nil
	res, err := Generate(p, Options{NoClient: true})
	if err != nil {
		t.Fatal(err)
	}
	src, err := AllMain(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(src), `"context"`) {
		t.Errorf("run --all main imports context without using it:\n%s", src)
	}
	if formatted, err := format.Source(src); err != nil || string(formatted) != string(src) {
		t.Errorf("not gofmt-clean (%v)", err)
	}
}
