package modulerules

import (
	"fmt"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// routeConflicts reports route-conflict: functions of one load-balanced
// resource with the same model.RouteKey, that is the same method and
// templates that gorilla/mux compiles to the same regexp (variable names do
// not appear in it, patterns do). Each
// function of a conflict gets a finding at its path value, with related
// information at the others.
func routeConflicts(functions []*model.Function) []finding.Finding {
	// Routes are almost always unique: only a route that occurs twice
	// needs its resource's Ref in a key.
	routes := make(map[string]int, len(functions))
	for _, f := range functions {
		routes[f.RouteKey]++
	}
	groups := make(map[string][]*model.Function)
	var keys []string
	for _, f := range functions {
		r := f.Resource
		if r == nil || !r.LoadBalanced() || f.RouteKey == "" || routes[f.RouteKey] < 2 || model.Reserved(f.Path) {
			continue // other rules report these, or no other function has the route
		}
		key := r.Ref() + " " + f.RouteKey
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], f)
	}
	var out []finding.Finding
	for _, key := range keys {
		g := groups[key]
		if len(g) < 2 {
			continue
		}
		for _, f := range g {
			f.Valid = false
			var others []string
			var related []finding.Related
			for _, o := range g {
				if o == f {
					continue
				}
				others = append(others, o.Qualified)
				related = append(related, finding.NewRelated(o.PathValuePos, o.PathEnd,
					fmt.Sprintf("conflicting route %s %s of %s", o.Method, o.Path, o.Qualified)))
			}
			fd := finding.New(rules.RouteConflict, f.PathValuePos, f.PathEnd,
				fmt.Sprintf("route %s %s of %s conflicts with %s on resource %s",
					f.Method, f.Path, f.Name, strings.Join(others, ", "), resourceLabel(f.Resource)))
			fd.Related = related
			out = append(out, fd)
		}
	}
	return out
}
