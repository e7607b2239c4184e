package modulerules

import (
	"cmp"
	"slices"
	"strconv"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// Check reports route-conflict, duplicate-resource, ambiguous-function and
// the one-mothership part of resource-config over pkgs, which must hold
// every package of the module (the findings may be filtered afterwards).
//
// It links every function whose resource is declared in another package
// to that package's *model.Resource (resources are identified by
// Resource.Ref), so that resource↔function relations can be walked by
// pointer, and clears Function.Valid for functions that an error of these
// rules concerns. It modifies the models it is given: callers that share
// models with readers give it copies.
func Check(pkgs []*model.Package) []finding.Finding {
	resources, functions := join(pkgs)
	bad := make(map[*model.Resource]bool)
	var out []finding.Finding
	out = append(out, routeConflicts(functions)...)
	out = append(out, duplicateResources(resources, bad)...)
	out = append(out, ambiguousFunctions(functions)...)
	out = append(out, motherships(resources, bad)...)
	for _, f := range functions {
		if bad[f.Resource] {
			f.Valid = false
		}
	}
	finding.Sort(out)
	return out
}

// join links functions to the canonical resources of pkgs and returns the
// resources sorted by Ref and the functions sorted by position.
func join(pkgs []*model.Package) ([]*model.Resource, []*model.Function) {
	byRef := make(map[string]*model.Resource)
	var resources []*model.Resource
	for _, p := range pkgs {
		for _, r := range p.Resources {
			if _, dup := byRef[r.Ref()]; !dup {
				byRef[r.Ref()] = r
				resources = append(resources, r)
			}
		}
	}
	var functions []*model.Function
	for _, p := range pkgs {
		for _, f := range p.Functions {
			if f.Resource != nil {
				if r, ok := byRef[f.Resource.Ref()]; ok {
					f.Resource = r
				}
			}
			functions = append(functions, f)
		}
	}
	slices.SortFunc(resources, func(a, b *model.Resource) int { return cmp.Compare(a.Ref(), b.Ref()) })
	slices.SortFunc(functions, CompareFunctions)
	return resources, functions
}

// CompareFunctions orders functions by position, then by qualified name.
func CompareFunctions(a, b *model.Function) int {
	return cmp.Or(
		cmp.Compare(a.Pos.Filename, b.Pos.Filename),
		cmp.Compare(a.Pos.Offset, b.Pos.Offset),
		cmp.Compare(a.Qualified, b.Qualified),
	)
}

// resourceLabel names r in a message: its quoted Name, or its Ref when it
// has none.
func resourceLabel(r *model.Resource) string {
	if r == nil {
		return "?"
	}
	if r.Name != "" {
		return strconv.Quote(r.Name)
	}
	return r.Ref()
}
