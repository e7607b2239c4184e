package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/remote"
)

// schemaSrc declares the Go types of TestSchemas, one case each.
const schemaSrc = `package p

import (
	"encoding/json"
	"strings"
	"time"
)

type Basics struct {
	S   string
	B   bool
	I   int
	I8  int8
	I32 int32
	U   uint
	U8  uint8
	F32 float32
	F64 float64
	A   any
}

// Tags shows every json tag form.
type Tags struct {
	Renamed  string ` + "`json:\"renamed\"`" + `
	Skipped  string ` + "`json:\"-\"`" + `
	Dash     string ` + "`json:\"-,\"`" + `
	Optional string ` + "`json:\"optional,omitempty\"`" + `
	Zero     int    ` + "`json:\",omitzero\"`" + `
	Quoted   int64  ` + "`json:\"quoted,string\"`" + `
	Bad      string ` + "`json:\"b\\\"ad\"`" + `
	hidden   string
	// Doc is described by this comment.
	Doc string ` + "`json:\"doc\"`" + `
}

type Inner struct {
	A string
	B string ` + "`json:\"b\"`" + `
}

type inner2 struct {
	C string
}

type Other struct {
	A string
}

type Named struct {
	X int
}

// Extra's fields are left out when the embedded pointer is nil.
type Extra struct {
	E int
}

// Embeds flattens embedded structs as encoding/json does: Inner.A and
// Other.A clash at one depth and vanish; Inner's b is tagged, so distinct
// from B, which is Embeds' own.
type Embeds struct {
	Inner
	*Other
	inner2
	*Extra
	Named ` + "`json:\"named\"`" + `
	B int
}

type Pointers struct {
	S *string
	N *Named
}

type Collections struct {
	Strings []string
	Array   [3]int
	ByName  map[string]int
	ByID    map[int]string
	ByUint  map[uint16]bool
	Bytes   []byte
}

type Level int

func (l Level) MarshalText() ([]byte, error) { return nil, nil }

type Custom struct{}

func (c *Custom) MarshalJSON() ([]byte, error) { return nil, nil }

type Specials struct {
	When  time.Time
	Raw   json.RawMessage
	Level Level
	Keyed map[Level]int
	Own   Custom
}

type Node struct {
	Name     string
	Children []Node
	Parent   *Node
}

type List []List

type Builder struct {
	Size int
}

type Clash struct {
	Mine   Builder
	Theirs strings.Builder
}
`

// SchemaTypes type-checks schemaSrc as package example.com/p and returns
// it with its docs; the validator test (package openapi_test) describes
// every type of it too.
func SchemaTypes(t *testing.T) (*token.FileSet, *types.Package, model.Docs) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", schemaSrc, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	pkg, err := conf.Check("example.com/p", fset, []*ast.File{f}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mp := &model.Package{Path: "example.com/p", Name: "p"}
	remote.CollectDocs(mp, f)
	return fset, pkg, model.CollectDocs([]*model.Package{mp})
}

func TestSchemas(t *testing.T) {
	fset, pkg, docs := SchemaTypes(t)

	cases := []struct {
		typ        string // a type of package p, or a type expression over them
		schema     string
		components string // the components that schema refers to
	}{
		{"Basics", `{"$ref":"#/components/schemas/Basics"}`, `{"Basics":{"type":"object","properties":{
			"S":{"type":"string"},"B":{"type":"boolean"},"I":{"type":"integer","format":"int64"},
			"I8":{"type":"integer","minimum":-128,"maximum":127},"I32":{"type":"integer","format":"int32"},
			"U":{"type":"integer","minimum":0},"U8":{"type":"integer","minimum":0,"maximum":255},
			"F32":{"type":"number","format":"float"},"F64":{"type":"number","format":"double"},"A":{}},
			"required":["S","B","I","I8","I32","U","U8","F32","F64","A"]}}`},
		{"Tags", `{"$ref":"#/components/schemas/Tags"}`, `{"Tags":{"description":"Tags shows every json tag form.","type":"object","properties":{
			"renamed":{"type":"string"},"-":{"type":"string"},"optional":{"type":"string"},"Zero":{"type":"integer","format":"int64"},
			"quoted":{"type":"string","pattern":"^-?[0-9]+$"},"Bad":{"type":"string"},
			"doc":{"description":"Doc is described by this comment.","type":"string"}},
			"required":["renamed","-","quoted","Bad","doc"]}}`},
		{"Embeds", `{"$ref":"#/components/schemas/Embeds"}`, `{"Embeds":{"description":"Embeds flattens embedded structs as encoding/json does: Inner.A and\nOther.A clash at one depth and vanish; Inner's b is tagged, so distinct\nfrom B, which is Embeds' own.","type":"object","properties":{
			"b":{"type":"string"},"C":{"type":"string"},"E":{"type":"integer","format":"int64"},"named":{"$ref":"#/components/schemas/Named"},"B":{"type":"integer","format":"int64"}},
			"required":["b","C","named","B"]},
			"Named":{"type":"object","properties":{"X":{"type":"integer","format":"int64"}},"required":["X"]}}`},
		{"Pointers", `{"$ref":"#/components/schemas/Pointers"}`, `{
			"Named":{"type":"object","properties":{"X":{"type":"integer","format":"int64"}},"required":["X"]},
			"Pointers":{"type":"object","properties":{
			"S":{"type":["string","null"]},"N":{"anyOf":[{"$ref":"#/components/schemas/Named"},{"type":"null"}]}},"required":["S","N"]}}`},
		{"Collections", `{"$ref":"#/components/schemas/Collections"}`, `{"Collections":{"type":"object","properties":{
			"Strings":{"type":["array","null"],"items":{"type":"string"}},
			"Array":{"type":"array","minItems":3,"maxItems":3,"items":{"type":"integer","format":"int64"}},
			"ByName":{"type":["object","null"],"additionalProperties":{"type":"integer","format":"int64"}},
			"ByID":{"type":["object","null"],"propertyNames":{"pattern":"^-?[0-9]+$"},"additionalProperties":{"type":"string"}},
			"ByUint":{"type":["object","null"],"propertyNames":{"pattern":"^[0-9]+$"},"additionalProperties":{"type":"boolean"}},
			"Bytes":{"type":["string","null"],"contentEncoding":"base64"}},
			"required":["Strings","Array","ByName","ByID","ByUint","Bytes"]}}`},
		{"Specials", `{"$ref":"#/components/schemas/Specials"}`, `{"Specials":{"type":"object","properties":{
			"When":{"type":"string","format":"date-time"},"Raw":{},"Level":{"type":"string"},
			"Keyed":{"type":["object","null"],"additionalProperties":{"type":"integer","format":"int64"}},"Own":{}},
			"required":["When","Raw","Level","Keyed","Own"]}}`},
		{"Node", `{"$ref":"#/components/schemas/Node"}`, `{"Node":{"type":"object","properties":{
			"Name":{"type":"string"},"Children":{"type":["array","null"],"items":{"$ref":"#/components/schemas/Node"}},
			"Parent":{"anyOf":[{"$ref":"#/components/schemas/Node"},{"type":"null"}]}},"required":["Name","Children","Parent"]}}`},
		{"List", `{"$ref":"#/components/schemas/List"}`, `{"List":{"type":["array","null"],"items":{"$ref":"#/components/schemas/List"}}}`},
		{"Clash", `{"$ref":"#/components/schemas/Clash"}`, `{"Clash":{"type":"object","properties":{
			"Mine":{"$ref":"#/components/schemas/p_Builder"},"Theirs":{"$ref":"#/components/schemas/strings_Builder"}},"required":["Mine","Theirs"]},
			"p_Builder":{"type":"object","properties":{"Size":{"type":"integer","format":"int64"}},"required":["Size"]},
			"strings_Builder":{"type":"object"}}`},
		{"[]Named", `{"type":["array","null"],"items":{"$ref":"#/components/schemas/Named"}}`,
			`{"Named":{"type":"object","properties":{"X":{"type":"integer","format":"int64"}},"required":["X"]}}`},
		{"map[string]*int", `{"type":["object","null"],"additionalProperties":{"type":["integer","null"],"format":"int64"}}`, `{}`},
		{"struct{ A int \"json:\\\"a,omitempty\\\"\" }", `{"type":"object","properties":{"a":{"type":"integer","format":"int64"}}}`, `{}`},
	}
	for _, c := range cases {
		t.Run(c.typ, func(t *testing.T) {
			tv, err := types.Eval(fset, pkg, token.NoPos, c.typ)
			if err != nil {
				t.Fatal(err)
			}
			s := NewSchemas(docs)
			sc := s.Of(tv.Type)
			comps := s.Components()
			assertJSON(t, "schema", sc, c.schema)
			assertJSON(t, "components", comps, c.components)
		})
	}
}

// TestValue checks the schemas of request parameters: never null.
func TestValue(t *testing.T) {
	s := NewSchemas(nil)
	assertJSON(t, "*int", s.Value(types.NewPointer(types.Typ[types.Int])), `{"type":"integer","format":"int64"}`)
	assertJSON(t, "[]string", s.Value(types.NewSlice(types.Typ[types.String])), `{"type":"array","items":{"type":"string"}}`)
}

func assertJSON(t *testing.T, what string, v any, want string) {
	t.Helper()
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	if err := json.Compact(&w, []byte(want)); err != nil {
		t.Fatalf("bad expectation %s: %v", want, err)
	}
	if string(got) != w.String() {
		t.Errorf("%s:\n got  %s\n want %s", what, got, w.String())
	}
}

func TestShape(t *testing.T) {
	fset, pkg, _ := SchemaTypes(t)
	for _, c := range []struct{ typ, want string }{
		{"Node", "Node {Name: string, Children: Node[] | null, Parent: Node | null}"},
		{"Specials", "Specials {When: string (date-time), Raw: any, Level: string, Keyed: {[key: string]: integer} | null, Own: any}"},
		{"[]*Named", "(Named | null)[] | null"},
		{"map[string]List", "{[key: string]: List} | null"},
		{"Collections", "Collections {Strings: string[] | null, Array: integer[], ByName: {[key: string]: integer} | null, ByID: {[key: string]: string} | null, ByUint: {[key: string]: boolean} | null, Bytes: string (base64) | null}"},
	} {
		tv, err := types.Eval(fset, pkg, token.NoPos, c.typ)
		if err != nil {
			t.Fatal(err)
		}
		if got := Shape(tv.Type); got != c.want {
			t.Errorf("Shape(%s):\n got  %s\n want %s", c.typ, got, c.want)
		}
	}
}

func TestOpenAPIPath(t *testing.T) {
	for _, c := range []struct{ tpl, path, patterns string }{
		{"/items/{id}", "/items/{id}", "map[]"},
		{"/items/{id:[0-9]{3}}/tags/{tag}", "/items/{id}/tags/{tag}", "map[id:^(?:[0-9]{3})$]"},
		{"/files/{p:.*}", "/files/{p}", "map[p:^(?:.*)$]"},
	} {
		path, patterns := openAPIPath(c.tpl)
		if path != c.path || fmt.Sprint(patterns) != c.patterns {
			t.Errorf("openAPIPath(%s) = %s, %v; want %s, %s", c.tpl, path, patterns, c.path, c.patterns)
		}
	}
}
