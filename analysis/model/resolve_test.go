package model

import (
	"go/ast"
	"testing"
)

func TestResolve(t *testing.T) {
	api := &Resource{Pkg: "example.com/app/api", Var: "API"}
	local := &Resource{Pkg: "example.com/app/api", Var: "local"}
	gpu := &Resource{Pkg: "example.com/app/res", Var: "GPU"}
	pkgs := []*Package{
		{Path: "example.com/app/api", Resources: []*Resource{api, local}},
		{Path: "example.com/app/res", Resources: []*Resource{gpu}},
	}
	imports := map[string]string{"res": "example.com/app/res", "own": "example.com/app/api"}
	for _, tt := range []struct {
		ref  string
		want *Resource
	}{
		{"API", api},
		{"local", local},
		{"res.GPU", gpu},
		{"own.local", nil}, // unexported through an import
		{"res.API", nil},
		{"nope.GPU", nil},
		{"Missing", nil},
	} {
		if got := Resolve(pkgs, "example.com/app/api", tt.ref, func(n string) string { return imports[n] }); got != tt.want {
			t.Errorf("Resolve(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
}

func TestImportName(t *testing.T) {
	for _, tt := range []struct {
		name string // "" for none
		want string
	}{
		{"", "res"}, {"_", "res"}, {"r2", "r2"}, {".", ""},
	} {
		spec := &ast.ImportSpec{}
		if tt.name != "" {
			spec.Name = ast.NewIdent(tt.name)
		}
		if got := ImportName(spec, "res"); got != tt.want {
			t.Errorf("ImportName(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
