package openapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"go/types"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/codegen"
	"github.com/flash-lsp/flash-lsp/codegen/openapi"
	"github.com/flash-lsp/flash-lsp/runtime"
)

// problem is a line of redocly's stylish output: "3:3  warning  info-license  ...".
var problem = regexp.MustCompile(`^\s+\d+:\d+\s+(error|warning)\s+(\S+)`)

// nodeDir holds the npm packages of these tests (scripts/deps.d/openapi.sh
// installs them).
const nodeDir = "testdata/node"

// nodeTool returns the path of an npm package's command, failing the test
// when it is not installed.
func nodeTool(t *testing.T, name string) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not on PATH: %v (install Node 20 or later)", err)
	}
	p, err := filepath.Abs(filepath.Join(nodeDir, "node_modules", ".bin", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s is not installed (%v): run scripts/deps.sh test", name, err)
	}
	return p
}

// nodeEnv keeps the npm tools off the network: no telemetry, no update
// check, and any request they would still make goes to a closed loopback
// port.
func nodeEnv() []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return strings.HasSuffix(strings.ToUpper(k), "_PROXY")
	})
	return append(env,
		"REDOCLY_TELEMETRY=off",
		"REDOCLY_SUPPRESS_UPDATE_NOTICE=true",
		"CI=true",
		"NO_COLOR=1",
		"HTTP_PROXY=http://127.0.0.1:9", "HTTPS_PROXY=http://127.0.0.1:9",
		"http_proxy=http://127.0.0.1:9", "https_proxy=http://127.0.0.1:9",
		"NO_PROXY=", "no_proxy=",
	)
}

func run(t *testing.T, dir, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = nodeEnv()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// quickstartDocuments generates the quickstart's OpenAPI documents into a
// temporary directory and returns their paths by resource directory.
func quickstartDocuments(t *testing.T, dir string) map[string]string {
	t.Helper()
	l, err := codegen.Load(context.Background(), filepath.Join("..", "..", "testdata", "projects", "quickstart"), codegen.DefaultTarget)
	if err != nil {
		t.Fatal(err)
	}
	if b := l.Blocking(true); len(b) > 0 {
		t.Fatalf("quickstart has %d error findings", len(b))
	}
	res, err := codegen.Generate(l.Project, codegen.Options{GeneratedAt: time.Unix(1700000000, 0), NoClient: true})
	if err != nil {
		t.Fatal(err)
	}
	docs := make(map[string]string)
	for _, f := range res.Files {
		rest, ok := strings.CutPrefix(f.Path, codegen.OpenAPIDir+"/")
		if !ok {
			continue
		}
		p := filepath.Join(dir, rest)
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		docs[strings.TrimSuffix(rest, ".json")] = p
	}
	if len(docs) != 3 {
		t.Fatalf("quickstart has %d OpenAPI documents, want 3 (its load balancers): %v", len(docs), docs)
	}
	return docs
}

// kitchenSink describes a resource with one route per type of the schema
// table test, body and query parameters of every kind, a route without a
// result, a path variable with a pattern, and two functions of one name.
func kitchenSink(t *testing.T) []byte {
	t.Helper()
	_, pkg, docs := openapi.SchemaTypes(t)
	res := &model.Resource{Name: "kitchen sink", Kind: runtime.LoadBalancer{}, Type: "LoadBalancer"}
	var fns []*model.Function
	fn := func(pkgName, name, method, path string, result types.Type, params ...*model.Param) {
		f := &model.Function{Pkg: "example.com/" + pkgName, PkgName: pkgName, Name: name,
			Qualified: "example.com/" + pkgName + "." + name, Method: method, Path: path, Params: params,
			Doc: name + " is a route of the kitchen sink. It has a second sentence.\n"}
		if result != nil {
			f.Result = result
		}
		fns = append(fns, f)
	}
	for _, name := range pkg.Scope().Names() {
		obj, ok := pkg.Scope().Lookup(name).(*types.TypeName)
		if !ok {
			continue
		}
		typ := obj.Type()
		kebab := model.KebabPath(name)
		fn("p", "Get"+name, "GET", kebab, typ)
		fn("p", "Put"+name, "PUT", kebab, typ,
			&model.Param{Name: "v", Type: typ, In: model.InBody},
			&model.Param{Name: "opt", Type: types.NewPointer(typ), In: model.InBody, Optional: true})
	}
	str, i := types.Typ[types.String], types.Typ[types.Int]
	fn("p", "Query", "GET", "/query/{id:[0-9]+}", nil,
		&model.Param{Name: "id", Type: i, In: model.InPath, Bind: model.BindInt},
		&model.Param{Name: "names", Type: types.NewSlice(str), In: model.InQuery, Bind: model.BindString, Slice: true},
		&model.Param{Name: "n", Type: types.NewPointer(i), In: model.InQuery, Bind: model.BindInt, Optional: true})
	fn("q", "Query", "DELETE", "/query/{id:[0-9]+}", str,
		&model.Param{Name: "id", Type: i, In: model.InPath, Bind: model.BindInt})
	doc, err := openapi.Document(openapi.Input{Resource: res, Functions: fns, Version: "0123456789ab", Docs: docs})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// streamDocument describes a resource with a streaming route (SPEC 18),
// whose answer is NDJSON of a named struct, beside an ordinary one.
func streamDocument(t *testing.T) []byte {
	t.Helper()
	_, pkg, docs := openapi.SchemaTypes(t)
	var item types.Type
	for _, name := range pkg.Scope().Names() {
		if obj, ok := pkg.Scope().Lookup(name).(*types.TypeName); ok {
			if _, isStruct := obj.Type().Underlying().(*types.Struct); isStruct {
				item = obj.Type()
				break
			}
		}
	}
	if item == nil {
		t.Fatal("the schema table has no struct type")
	}
	str := types.Typ[types.String]
	res := &model.Resource{Name: "streams", Kind: runtime.LoadBalancer{}, Type: "LoadBalancer"}
	fns := []*model.Function{
		{Pkg: "example.com/p", PkgName: "p", Name: "Tokens", Qualified: "example.com/p.Tokens", Method: "POST", Path: "/tokens",
			Params: []*model.Param{{Name: "prompt", Type: str, In: model.InBody}},
			Result: item, Stream: true, Error: true, Doc: "Tokens streams the tokens of a completion.\n"},
		{Pkg: "example.com/p", PkgName: "p", Name: "Echo", Qualified: "example.com/p.Echo", Method: "GET", Path: "/echo",
			Params: []*model.Param{{Name: "s", Type: str, In: model.InQuery, Bind: model.BindString}}, Result: str, Doc: "Echo answers its argument.\n"},
	}
	doc, err := openapi.Document(openapi.Input{Resource: res, Functions: fns, Version: "0123456789ab", Docs: docs})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestStreamDocument: a streaming route answers application/x-ndjson whose
// itemSchema is the function's item type; itemSchema exists from OpenAPI
// 3.2 on, so such a document says 3.2.0 (TestRedoclyLint validates it).
func TestStreamDocument(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]map[string]json.RawMessage `json:"content"`
			} `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(streamDocument(t), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.2.0" {
		t.Errorf("openapi %q, want 3.2.0", doc.OpenAPI)
	}
	content := doc.Paths["/tokens"]["post"].Responses["200"].Content
	mt, ok := content["application/x-ndjson"]
	if len(content) != 1 || !ok {
		t.Fatalf("/tokens 200 content: %v", content)
	}
	if item := string(mt["itemSchema"]); !strings.Contains(item, `"$ref": "#/components/schemas/`) || mt["schema"] != nil {
		t.Errorf("/tokens media type: %v", mt)
	}
	if _, ok := doc.Paths["/echo"]["get"].Responses["200"].Content["application/json"]["schema"]; !ok {
		t.Errorf("/echo lost its JSON schema: %v", doc.Paths["/echo"])
	}
}

// TestKitchenSinkFormat: the document with every kind of schema is valid
// JSON, indented as json.Indent would, and the same on every run.
func TestKitchenSinkFormat(t *testing.T) {
	doc := kitchenSink(t)
	var compact, indented bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	json.Indent(&indented, compact.Bytes(), "", "  ")
	indented.WriteByte('\n')
	if !bytes.Equal(indented.Bytes(), doc) {
		t.Error("the document is not indented as json.Indent indents it")
	}
	if again := kitchenSink(t); !bytes.Equal(again, doc) {
		t.Error("two renderings differ")
	}
	for _, want := range []string{
		`"operationId": "p_Query"`, `"operationId": "q_Query"`, // one name, two packages
		`"operationId": "GetNode"`,
		`"summary": "GetNode is a route of the kitchen sink."`,
		`"description": "GetNode is a route of the kitchen sink. It has a second sentence."`,
		`"pattern": "^(?:[0-9]+)$"`,
		`"title": "kitchen sink"`, `"version": "0123456789ab"`,
		`"204": {`,
	} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("the document lacks %s", want)
		}
	}
}

// TestRedoclyLint validates every document generated for the example
// project, and one describing every case of the schema table test, with
// Redocly's OpenAPI 3.1 linter (its recommended rules).
func TestRedoclyLint(t *testing.T) {
	redocly := nodeTool(t, "redocly")
	dir := t.TempDir()
	docs := quickstartDocuments(t, dir)
	sink := filepath.Join(dir, "kitchen_sink.json")
	if err := os.WriteFile(sink, kitchenSink(t), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"lint", "--format", "stylish"}
	for _, d := range slices.Sorted(maps.Keys(docs)) {
		args = append(args, docs[d])
	}
	stream := filepath.Join(dir, "streams.json")
	if err := os.WriteFile(stream, streamDocument(t), 0o644); err != nil {
		t.Fatal(err)
	}
	args = append(args, sink, stream)
	out, err := run(t, dir, redocly, args...)
	if err != nil {
		t.Fatalf("redocly lint: %v\n%s", err, out)
	}
	// Only the license warning is tolerated: flash-lsp cannot know it.
	problems := 0
	for line := range strings.SplitSeq(out, "\n") {
		m := problem.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		problems++
		if m[1] != "warning" || m[2] != "info-license" {
			t.Errorf("redocly lint: %s", strings.TrimSpace(line))
		}
	}
	if problems != len(docs)+2 {
		t.Errorf("redocly lint reported %d problems, want the %d license warnings: did it read the documents?", problems, len(docs)+2)
	}
	t.Logf("redocly lint:\n%s", out)
}

// TestTypeScriptCaller generates TypeScript types from the quickstart's
// documents with openapi-typescript and compiles a caller that uses them
// (caller.ts) with tsc --strict; a caller that misuses them (caller_bad.ts)
// must not compile.
func TestTypeScriptCaller(t *testing.T) {
	ot := nodeTool(t, "openapi-typescript")
	tsc := nodeTool(t, "tsc")
	dir := t.TempDir()
	docs := quickstartDocuments(t, dir)
	for name, doc := range map[string]string{"test-api": docs["test-api"], "cpu": docs["03_05_load_balancer_cpu"]} {
		if out, err := run(t, dir, ot, doc, "--output", filepath.Join(dir, name+".ts")); err != nil {
			t.Fatalf("openapi-typescript %s: %v\n%s", name, err, out)
		}
	}
	for _, f := range []string{"caller.ts", "caller_bad.ts"} {
		data, err := os.ReadFile(filepath.Join(nodeDir, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	flags := []string{"--noEmit", "--strict", "--target", "es2022", "--module", "esnext",
		"--moduleResolution", "bundler", "--lib", "es2022,dom"}
	if out, err := run(t, dir, tsc, append(flags, "caller.ts")...); err != nil {
		t.Fatalf("tsc caller.ts: %v\n%s", err, out)
	}
	out, err := run(t, dir, tsc, append(flags, "caller_bad.ts")...)
	if err == nil {
		t.Fatal("tsc accepted caller_bad.ts: the generated types do not constrain the caller")
	}
	for _, want := range []string{"caller_bad.ts(8,", "'string' is not assignable to type 'number'", "caller_bad.ts(9,", "text"} {
		if !strings.Contains(out, want) {
			t.Errorf("tsc caller_bad.ts: output lacks %q:\n%s", want, out)
		}
	}
}
