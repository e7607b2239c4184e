package openapi_test

import (
	"encoding/json"
	"go/token"
	"go/types"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/codegen/openapi"
	"github.com/flash-lsp/flash-lsp/runtime"
)

// TestDocumentAsSPECReadsIt reads a document the way a client that knows
// only SPEC 16 would, without resolving references: every operation's
// 400, 404, 413 and 500 answers carry the error body schema {"error":
// string} themselves; POST, PUT and PATCH routes have a JSON requestBody
// even when every parameter is in the path; and a user's type named Error
// keeps its Go name in components/schemas.
func TestDocumentAsSPECReadsIt(t *testing.T) {
	pkg := types.NewPackage("example.com/api", "api")
	str, i := types.Typ[types.String], types.Typ[types.Int]
	userErr := types.NewNamed(types.NewTypeName(token.NoPos, pkg, "Error", nil),
		types.NewStruct([]*types.Var{types.NewField(token.NoPos, pkg, "Code", i, false)}, []string{`json:"code"`}), nil)
	res := &model.Resource{Name: "api", Kind: runtime.LoadBalancer{}, Type: "LoadBalancer"}
	fn := func(name, method, path string, result types.Type, params ...*model.Param) *model.Function {
		return &model.Function{Pkg: "example.com/api", PkgName: "api", Name: name, Qualified: "example.com/api." + name,
			Method: method, Path: path, Params: params, Result: result, Doc: name + " is a route.\n"}
	}
	fns := []*model.Function{
		fn("Buy", "POST", "/items/{id}/buy", userErr, &model.Param{Name: "id", Type: str, In: model.InPath, Bind: model.BindString}),
		fn("Rename", "PATCH", "/items/{id}", nil,
			&model.Param{Name: "id", Type: str, In: model.InPath, Bind: model.BindString},
			&model.Param{Name: "name", Type: str, In: model.InBody}),
		fn("Get", "GET", "/items/{id}", str, &model.Param{Name: "id", Type: str, In: model.InPath, Bind: model.BindString}),
	}
	data, err := openapi.Document(openapi.Input{Resource: res, Functions: fns, Version: "0123456789ab"})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody *struct {
				Required bool `json:"required"`
				Content  map[string]struct {
					Schema struct {
						Type       any                        `json:"type"`
						Properties map[string]json.RawMessage `json:"properties"`
					} `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
			Responses map[string]map[string]any `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	errorBody := `{"properties":{"error":{"type":"string"}},"required":["error"],"type":"object"}`
	for path, item := range doc.Paths {
		for method, op := range item {
			for _, code := range []string{"400", "404", "413", "500"} {
				r := op.Responses[code]
				content, _ := r["content"].(map[string]any)
				mt, _ := content["application/json"].(map[string]any)
				got, _ := json.Marshal(mt["schema"])
				if string(got) != errorBody {
					t.Errorf("%s %s: response %s = %v, want the error body schema %s in place", method, path, code, r, errorBody)
				}
			}
			if method == "get" {
				if op.RequestBody != nil {
					t.Errorf("get %s has a requestBody", path)
				}
				continue
			}
			rb := op.RequestBody
			if rb == nil {
				t.Errorf("%s %s has no requestBody", method, path)
				continue
			}
			sc := rb.Content["application/json"].Schema
			if sc.Type != "object" {
				t.Errorf("%s %s: requestBody schema type %v, want object", method, path, sc.Type)
			}
			wantProps, wantRequired := 0, false
			if method == "patch" {
				wantProps, wantRequired = 1, true
			}
			if len(sc.Properties) != wantProps || rb.Required != wantRequired {
				t.Errorf("%s %s: requestBody required %v with properties %v; want %v and %d", method, path, rb.Required, sc.Properties, wantRequired, wantProps)
			}
		}
	}
	if len(doc.Paths["/items/{id}"]) != 2 || len(doc.Paths["/items/{id}/buy"]) != 1 {
		t.Fatalf("paths: %v", doc.Paths)
	}
	if _, ok := doc.Components.Schemas["Error"]; !ok || len(doc.Components.Schemas) != 1 {
		t.Errorf("components/schemas = %v, want the user's Error under its Go name, alone", doc.Components.Schemas)
	}
}
