package modulerules

import (
	"fmt"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// ambiguousFunctions reports ambiguous-function: functions of different
// packages with one bare name on one resource, whose callers must use the
// qualified name. A warning: code is still generated.
func ambiguousFunctions(functions []*model.Function) []finding.Finding {
	// Names are almost always unique: only a name that occurs twice
	// needs its resource's Ref (a new string) in a key.
	names := make(map[string]int, len(functions))
	for _, f := range functions {
		if f.Resource != nil {
			names[f.Name]++
		}
	}
	type key struct{ res, name string }
	groups := make(map[key][]*model.Function)
	var keys []key
	for _, f := range functions {
		if f.Resource == nil || names[f.Name] < 2 {
			continue
		}
		k := key{f.Resource.Ref(), f.Name}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	var out []finding.Finding
	for _, k := range keys {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		for _, f := range g {
			var others []string
			var related []finding.Related
			for _, o := range g {
				if o != f {
					others = append(others, o.Qualified)
					related = append(related, finding.NewRelated(o.Pos, o.NameEnd,
						fmt.Sprintf("function %s of resource %s", o.Qualified, resourceLabel(o.Resource))))
				}
			}
			fd := finding.New(rules.AmbiguousFunction, f.Pos, f.NameEnd,
				fmt.Sprintf("function name %s is ambiguous on resource %s (also %s): callers must use the qualified name %s",
					f.Name, resourceLabel(f.Resource), strings.Join(others, ", "), f.Qualified))
			fd.Related = related
			out = append(out, fd)
		}
	}
	return out
}
