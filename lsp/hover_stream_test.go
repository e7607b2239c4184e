package lsp

import (
	"go/types"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/directive"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/runtime"
)

// TestHoverStream: the hover of a streaming function names the stream's item
// type and how it travels (SPEC 18).
func TestHoverStream(t *testing.T) {
	lb := &model.Resource{Var: "API", Type: "LoadBalancer", Kind: runtime.LoadBalancer{}, Name: "api", Pkg: "example.com/app/api"}
	q := &model.Resource{Var: "Q", Type: "Serverless", Kind: runtime.Serverless{}, Name: "q", Pkg: "example.com/app/api"}
	fn := &model.Function{Name: "Count", Qualified: "example.com/app/api.Count", Method: "GET", Path: "/count",
		Stream: true, Error: true, Result: types.Typ[types.Int], ResultString: "int"}
	da := &directiveAt{d: &directive.Directive{}}
	for _, c := range []struct {
		res  *model.Resource
		want []string
	}{
		{lb, []string{"**Response:** stream of `int`", "application/x-ndjson", "text/event-stream"}},
		{q, []string{"**Response:** stream of `int`", "/stream/{id}"}},
	} {
		got := describe(c.res, fn, da)
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("hover on %s lacks %q:\n%s", c.res.Type, w, got)
			}
		}
	}
}
