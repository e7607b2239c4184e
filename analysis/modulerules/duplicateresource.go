package modulerules

import (
	"fmt"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
	"github.com/flash-lsp/flash-lsp/runtime"
)

// duplicateResources reports duplicate-resource: resources whose names are
// equal, or deploy to the same handler directory or environment suffix
// (runtime.EnvSuffix folds case and sanitises). Each gets a finding at its
// Name value; they are added to bad, so that no code is generated for
// their functions.
func duplicateResources(resources []*model.Resource, bad map[*model.Resource]bool) []finding.Finding {
	groups := make(map[string][]*model.Resource)
	var keys []string
	for _, r := range resources {
		if r.Name == "" {
			continue // resource-config reports it
		}
		k := runtime.EnvSuffix(r.Name)
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []finding.Finding
	for _, k := range keys {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		for _, r := range g {
			var same, clash []string
			var related []finding.Related
			for _, o := range g {
				if o == r {
					continue
				}
				if o.Name == r.Name {
					same = append(same, o.Ref())
				} else {
					clash = append(clash, fmt.Sprintf("%q (%s)", o.Name, o.Ref()))
				}
				related = append(related, finding.NewRelated(o.NamePos, o.NameEnd,
					fmt.Sprintf("resource %s is named %q", o.Ref(), o.Name)))
			}
			var parts []string
			if len(same) > 0 {
				parts = append(parts, "also declared by "+strings.Join(same, ", "))
			}
			if len(clash) > 0 {
				parts = append(parts, fmt.Sprintf("clashes with %s: both deploy as %s", strings.Join(clash, ", "), k))
			}
			f := finding.New(rules.DuplicateResource, r.NamePos, r.NameEnd,
				fmt.Sprintf("duplicate resource name %q of %s: %s", r.Name, r.Var, strings.Join(parts, "; ")))
			f.Related = related
			out = append(out, f)
		}
		for _, r := range g {
			bad[r] = true
		}
	}
	return out
}
