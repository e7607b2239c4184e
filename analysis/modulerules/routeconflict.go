package modulerules

import (
	"fmt"
	"strings"

	"github.com/gorilla/mux"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// routeConflicts reports route-conflict: functions of one load-balanced
// resource with the same method and templates that gorilla/mux compiles to
// the same regexp (variable names do not appear in it, patterns do). Each
// function of a conflict gets a finding at its path value, with related
// information at the others.
func (rs *Rules) routeConflicts(functions []*model.Function) []finding.Finding {
	groups := make(map[string][]*model.Function)
	var keys []string
	for _, f := range functions {
		r := f.Resource
		if r == nil || !r.LoadBalanced() || !f.PathPos.IsValid() || !model.ValidMethod(f.Method) || model.Reserved(f.Path) {
			continue // other rules report these
		}
		re := rs.pathRegexp(f.Path)
		if re == "" {
			continue // bad-path reports it
		}
		key := r.Ref() + " " + f.Method + " " + re
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

// pathRegexp returns the regexp gorilla/mux matches path with, "" for a
// template mux rejects or panics on, remembering the answer.
func (rs *Rules) pathRegexp(path string) string {
	rs.mu.Lock()
	re, ok := rs.regexps[path]
	rs.mu.Unlock()
	if ok {
		return re
	}
	re, err := muxRegexp(path)
	if err != nil {
		re = ""
	}
	rs.mu.Lock()
	if rs.regexps == nil || len(rs.regexps) >= maxRegexps {
		rs.regexps = make(map[string]string)
	}
	rs.regexps[path] = re
	rs.mu.Unlock()
	return re
}

// muxRegexp compiles a template as gorilla/mux does: two templates are the
// same route exactly when their regexps are equal.
func muxRegexp(path string) (re string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("route template %q: %v", path, r)
		}
	}()
	return mux.NewRouter().NewRoute().Path(path).GetPathRegexp()
}
