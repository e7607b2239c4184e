package modulerules_test

import (
	"path/filepath"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/modulerules/moduletest"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// Each rule has a testdata module whose want comments say where it
// reports, in several packages of the module.
func TestRules(t *testing.T) {
	for _, tt := range []struct {
		module string
		rule   string
	}{
		{"routeconflict", rules.RouteConflict},
		{"duplicateresource", rules.DuplicateResource},
		{"ambiguousfunction", rules.AmbiguousFunction},
		{"mothership", rules.ResourceConfig},
		{"clientcycle", rules.ClientCycle},
	} {
		t.Run(tt.module, func(t *testing.T) {
			t.Parallel()
			got := moduletest.Run(t, filepath.Join("testdata", "src", tt.module), tt.rule)
			if len(got) == 0 {
				t.Errorf("no %s findings", tt.rule)
			}
			checkSpans(t, got)
		})
	}
}

// checkSpans checks that every finding and related location has an
// extent: the rules underline tokens, not points.
func checkSpans(t *testing.T, fs []finding.Finding) {
	t.Helper()
	for _, f := range fs {
		if f.End <= f.Start {
			t.Errorf("%s:%d: %s finding without extent", f.File, f.Start, f.Rule)
		}
		for _, r := range f.Related {
			if r.End <= r.Start || r.File == "" {
				t.Errorf("%s:%d: related location %+v without extent", f.File, f.Start, r)
			}
		}
	}
}
