package project

import (
	"cmp"
	"fmt"
	"go/token"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// ModuleRules joins the packages of one module and reports the rules that
// need all of them: route-conflict, duplicate-resource, ambiguous-function
// and the one-mothership part of resource-config.
//
// It links every function whose resource is declared in another package of
// pkgs to that package's *model.Resource (resources are identified by
// Resource.Ref), so that resource↔function relations can be walked by
// pointer, and it clears Function.Valid for functions that an error of these
// rules concerns. pkgs must hold every package of the module, even when only
// some are being reported on; call Merge to combine the result with the
// per-package findings.
func ModuleRules(pkgs []*model.Package) []Finding {
	resources, functions := join(pkgs)
	bad := make(map[*model.Resource]bool)
	var out []Finding
	out = append(out, routeConflicts(functions)...)
	out = append(out, duplicateResources(resources, bad)...)
	out = append(out, ambiguousFunctions(functions)...)
	out = append(out, motherships(resources, bad)...)
	for _, f := range functions {
		if bad[f.Resource] {
			f.Valid = false
		}
	}
	SortFindings(out)
	return out
}

// Merge combines sets of findings, keeping at most one finding per token
// (the first applicable rule in SPEC order), and sorts the result.
func Merge(sets ...[]Finding) []Finding {
	var all []Finding
	for _, s := range sets {
		all = append(all, s...)
	}
	return dedupe(all)
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
	slices.SortFunc(functions, compareFunctions)
	return resources, functions
}

func compareFunctions(a, b *model.Function) int {
	return cmp.Or(
		cmp.Compare(a.Pos.Filename, b.Pos.Filename),
		cmp.Compare(a.Pos.Line, b.Pos.Line),
		cmp.Compare(a.Pos.Column, b.Pos.Column),
		cmp.Compare(a.Qualified, b.Qualified),
	)
}

func routeConflicts(functions []*model.Function) []Finding {
	type group struct {
		key string
		fns []*model.Function
	}
	groups := make(map[string]*group)
	var order []*group
	regexps := make(map[string]string) // compiling a template is the costly part
	for _, f := range functions {
		r := f.Resource
		if r == nil || !r.LoadBalanced() || !f.PathPos.IsValid() || !model.ValidMethod(f.Method) || model.Reserved(f.Path) {
			continue // other rules report these
		}
		re, ok := regexps[f.Path]
		if !ok {
			re = cachedPathRegexp(f.Path) // "" when bad-path reports it
			regexps[f.Path] = re
		}
		if re == "" {
			continue
		}
		key := f.Method + " " + re
		key = r.Ref() + " " + key
		g := groups[key]
		if g == nil {
			g = &group{key: key}
			groups[key] = g
			order = append(order, g)
		}
		g.fns = append(g.fns, f)
	}
	var out []Finding
	for _, g := range order {
		if len(g.fns) < 2 {
			continue
		}
		for _, f := range g.fns {
			f.Valid = false
			var others []string
			var related []Related
			for _, o := range g.fns {
				if o == f {
					continue
				}
				others = append(others, o.Qualified)
				related = append(related, Related{
					Pos:     pathValue(o),
					End:     endOr(o.PathEnd, o.PathPos),
					Message: fmt.Sprintf("conflicting route %s %s of %s", o.Method, o.Path, o.Qualified),
				})
			}
			out = append(out, Finding{
				Rule:     rules.RouteConflict,
				Severity: rules.SeverityOf(rules.RouteConflict),
				Message: fmt.Sprintf("route %s %s of %s conflicts with %s on resource %s",
					f.Method, f.Path, f.Name, strings.Join(others, ", "), resourceLabel(f.Resource)),
				Pos:     pathValue(f),
				End:     endOr(f.PathEnd, f.PathPos),
				Related: related,
			})
		}
	}
	return out
}

// duplicateResources reports resources whose names collide and adds them to
// bad.
func duplicateResources(resources []*model.Resource, bad map[*model.Resource]bool) []Finding {
	groups := make(map[string][]*model.Resource)
	var keys []string
	for _, r := range resources {
		if r.Name == "" {
			continue // resource-config reports it
		}
		k := model.EnvSuffix(r.Name)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []Finding
	for _, k := range keys {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		for _, r := range g {
			var same, clash []string
			var related []Related
			for _, o := range g {
				if o == r {
					continue
				}
				if o.Name == r.Name {
					same = append(same, o.Ref())
				} else {
					clash = append(clash, fmt.Sprintf("%q (%s)", o.Name, o.Ref()))
				}
				related = append(related, Related{
					Pos:     o.NamePos,
					End:     nameEnd(o),
					Message: fmt.Sprintf("resource %s is named %q", o.Ref(), o.Name),
				})
			}
			var parts []string
			if len(same) > 0 {
				parts = append(parts, "also declared by "+strings.Join(same, ", "))
			}
			if len(clash) > 0 {
				parts = append(parts, fmt.Sprintf("clashes with %s: both deploy as %s", strings.Join(clash, ", "), k))
			}
			out = append(out, Finding{
				Rule:     rules.DuplicateResource,
				Severity: rules.SeverityOf(rules.DuplicateResource),
				Message:  fmt.Sprintf("duplicate resource name %q of %s: %s", r.Name, r.Var, strings.Join(parts, "; ")),
				Pos:      r.NamePos,
				End:      nameEnd(r),
				Related:  related,
			})
		}
		for _, r := range g {
			bad[r] = true
		}
	}
	return out
}

func ambiguousFunctions(functions []*model.Function) []Finding {
	type key struct{ res, name string }
	groups := make(map[key][]*model.Function)
	var keys []key
	for _, f := range functions {
		if f.Resource == nil {
			continue
		}
		k := key{f.Resource.Ref(), f.Name}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	var out []Finding
	for _, k := range keys {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		for _, f := range g {
			var others []string
			var related []Related
			for _, o := range g {
				if o != f {
					others = append(others, o.Qualified)
					related = append(related, Related{Pos: o.Pos, End: advance(o.Pos, len(o.Name)),
						Message: fmt.Sprintf("function %s of resource %s", o.Qualified, resourceLabel(o.Resource))})
				}
			}
			out = append(out, Finding{
				Rule:     rules.AmbiguousFunction,
				Severity: rules.SeverityOf(rules.AmbiguousFunction),
				Message: fmt.Sprintf("function name %s is ambiguous on resource %s (also %s): callers must use the qualified name %s",
					f.Name, resourceLabel(f.Resource), strings.Join(others, ", "), f.Qualified),
				Pos:     f.Pos,
				End:     advance(f.Pos, len(f.Name)),
				Related: related,
			})
		}
	}
	return out
}

// motherships reports every Mothership resource when there are several and
// adds them to bad.
func motherships(resources []*model.Resource, bad map[*model.Resource]bool) []Finding {
	var ms []*model.Resource
	for _, r := range resources {
		if r.Mothership() {
			ms = append(ms, r)
		}
	}
	if len(ms) < 2 {
		return nil
	}
	var out []Finding
	for _, r := range ms {
		pos, end := mothershipPos(r)
		var others []string
		var related []Related
		for _, o := range ms {
			if o != r {
				others = append(others, o.Ref())
				op, oe := mothershipPos(o)
				related = append(related, Related{Pos: op, End: oe, Message: fmt.Sprintf("%s is a mothership too", o.Ref())})
			}
		}
		out = append(out, Finding{
			Rule:     rules.ResourceConfig,
			Severity: rules.SeverityOf(rules.ResourceConfig),
			Message: fmt.Sprintf("more than one mothership: %s and %s set Mothership, at most one resource may",
				r.Ref(), strings.Join(others, ", ")),
			Pos:     pos,
			End:     end,
			Related: related,
		})
	}
	for _, r := range ms {
		bad[r] = true
	}
	return out
}

// pathRegexp returns the regexp gorilla/mux matches path with: two
// templates are the same route exactly when their regexps are equal
// (variable names do not appear in it, patterns do). A template mux rejects
// or panics on is an error. It compiles the template once, where
// model.RouteKey also validates it, since the per-package rules have done
// that already.
func pathRegexp(path string) (re string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("route template %q: %v", path, r)
		}
	}()
	return mux.NewRouter().NewRoute().Path(path).GetPathRegexp()
}

// pathValue is the start of the value of f's path= field, where the
// per-package path rules report too.
func pathValue(f *model.Function) token.Position {
	return advance(f.PathPos, len("path="))
}

// mothershipPos locates the Mothership field of r's literal.
func mothershipPos(r *model.Resource) (pos, end token.Position) {
	for _, s := range r.Config {
		if s.Field == "Mothership" && s.Pos.IsValid() {
			return s.Pos, advance(s.Pos, len("Mothership"))
		}
	}
	return r.Pos, advance(r.Pos, len(r.Var))
}

// nameEnd is the end of r's Name value, assumed to be a string literal when
// the source is not at hand.
func nameEnd(r *model.Resource) token.Position {
	if r.NamePos == r.Pos {
		return advance(r.Pos, len(r.Var))
	}
	return advance(r.NamePos, len(strconv.Quote(r.Name)))
}

func resourceLabel(r *model.Resource) string {
	if r == nil {
		return "?"
	}
	if r.Name != "" {
		return strconv.Quote(r.Name)
	}
	return r.Ref()
}

// advance returns p moved n bytes to the right on its line.
func advance(p token.Position, n int) token.Position {
	if !p.IsValid() {
		return p
	}
	p.Column += n
	p.Offset += n
	return p
}

func endOr(end, pos token.Position) token.Position {
	if end.IsValid() {
		return end
	}
	return pos
}
