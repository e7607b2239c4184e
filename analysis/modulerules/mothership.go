package modulerules

import (
	"fmt"
	"go/token"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// motherships reports the one-mothership part of resource-config: when
// several resources set Mothership, each gets a finding at its Mothership
// field, and they are added to bad. (That the mothership is load-balanced
// is a per-package check.)
func motherships(resources []*model.Resource, bad map[*model.Resource]bool) []finding.Finding {
	var ms []*model.Resource
	for _, r := range resources {
		if r.Mothership() {
			ms = append(ms, r)
		}
	}
	if len(ms) < 2 {
		return nil
	}
	var out []finding.Finding
	for _, r := range ms {
		var others []string
		var related []finding.Related
		for _, o := range ms {
			if o != r {
				others = append(others, o.Ref())
				pos, end := mothershipField(o)
				related = append(related, finding.NewRelated(pos, end, fmt.Sprintf("%s is a mothership too", o.Ref())))
			}
		}
		pos, end := mothershipField(r)
		f := finding.New(rules.ResourceConfig, pos, end,
			fmt.Sprintf("more than one mothership: %s and %s set Mothership, at most one resource may",
				r.Ref(), strings.Join(others, ", ")))
		f.Related = related
		out = append(out, f)
	}
	for _, r := range ms {
		bad[r] = true
	}
	return out
}

// mothershipField spans the Mothership key of r's literal, or r's
// variable when the field's position is unknown.
func mothershipField(r *model.Resource) (pos, end token.Position) {
	for _, s := range r.Config {
		if s.Field == "Mothership" && s.Pos.IsValid() {
			return s.Pos, s.KeyEnd
		}
	}
	return r.Pos, r.End
}
