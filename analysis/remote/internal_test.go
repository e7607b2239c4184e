package remote

import (
	"bytes"
	"encoding/gob"
	"go/token"
	"go/types"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

func TestAnalyzerValid(t *testing.T) {
	if err := analysis.Validate([]*analysis.Analyzer{Analyzer}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(Analyzer.Doc, "flashremote: check Flash remote functions and resources\n") {
		t.Errorf("Doc does not start with its title:\n%s", Analyzer.Doc)
	}
	// The documentation lists every per-package rule.
	wholeModule := map[string]bool{rules.RouteConflict: true, rules.DuplicateResource: true, rules.AmbiguousFunction: true, rules.Compile: true, rules.ClientCycle: true}
	for _, r := range rules.All {
		if !wholeModule[r.ID] && !strings.Contains(Analyzer.Doc, r.ID) {
			t.Errorf("Doc does not mention rule %s", r.ID)
		}
	}
}

// TestFactGob checks that ResourceFact survives encoding/gob, as vet's
// unitchecker serialises it, and rebuilds the resource it came from.
func TestFactGob(t *testing.T) {
	pos := token.Position{Filename: "/m/res/res.go", Line: 7, Column: 5}
	r := &model.Resource{
		Pkg: "example.com/m/res", PkgName: "res", Var: "GPU", Type: "LoadBalancer", Pointer: true,
		Kind: model.ResourceTypes["LoadBalancer"], Name: "gpu", Literal: true, Pos: pos, NamePos: pos,
		Config: []model.Setting{
			{Field: "Name", Key: "name", Value: "gpu", Pos: pos},
			{Field: "GPUs", Key: "gpuIds", Value: []string{"A100"}, Pos: pos},
			{Field: "WorkersMax", Key: "workersMax", Value: int64(3), Pos: pos},
			{Field: "Env", Key: "env", Value: map[string]string{"A": "b"}, Pos: pos},
			{Field: "Mothership", Key: "is_mothership", Value: true, Pos: pos},
			{Field: "ImageName", Key: "imageName", Value: nil, Pos: pos},
			{Field: "Instances", Key: "instanceIds", Value: []string{}, Pos: pos},
		},
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(factOf(r)); err != nil {
		t.Fatal(err)
	}
	var f ResourceFact
	if err := gob.NewDecoder(&buf).Decode(&f); err != nil {
		t.Fatal(err)
	}
	if !f.Mothership || f.String() != `resource *LoadBalancer "gpu"` {
		t.Errorf("decoded fact %v, mothership %v", &f, f.Mothership)
	}
	got := f.resource(r.Pkg, r.PkgName, r.Var)
	if !reflect.DeepEqual(got, r) {
		t.Errorf("resource from fact:\ngot  %+v\nwant %+v", *got, *r)
	}
}

func TestInternalParent(t *testing.T) {
	for _, tc := range []struct {
		path, parent string
		ok           bool
	}{
		{"example.com/m/api", "", false},
		{"example.com/m/internal", "example.com/m", true},
		{"example.com/m/internal/types", "example.com/m", true},
		{"example.com/m/a/internal/b/internal/c", "example.com/m/a/internal/b", true},
		{"internal/abi", "", true},
		{"example.com/m/internalx", "", false},
	} {
		parent, ok := internalParent(tc.path)
		if parent != tc.parent || ok != tc.ok {
			t.Errorf("internalParent(%q) = %q, %v; want %q, %v", tc.path, parent, ok, tc.parent, tc.ok)
		}
	}
}

func TestImportable(t *testing.T) {
	pass := &analysis.Pass{Pkg: types.NewPackage("example.com/m/api", "api"), Module: &analysis.Module{Path: "example.com/m"}}
	a := &analyzer{pass: pass}
	for path, want := range map[string]bool{
		"example.com/m/api":                true,
		"example.com/m/internal/types":     true,  // the module root's internal: handlers live under the root
		"example.com/m/api/internal/types": false, // only example.com/m/api/... may import it
		"example.com/other/internal/x":     false, // another module's
		"example.com/other/x":              true,
	} {
		if got := a.importable(path); got != want {
			t.Errorf("importable(%q) = %v, want %v", path, got, want)
		}
	}
}
