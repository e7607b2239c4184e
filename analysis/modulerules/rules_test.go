package modulerules

import (
	"go/token"
	"slices"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
	"github.com/flash-lsp/flash-lsp/runtime"
)

// res builds a resource of package pkg.
func res(pkg, v, name string, kind runtime.Resource, config ...model.Setting) *model.Resource {
	file := "/m/" + pkg + "/res.go"
	return &model.Resource{
		Pkg: pkg, Var: v, Name: name, Kind: kind, Literal: true, Config: config,
		Pos:     token.Position{Filename: file, Line: 3, Column: 5, Offset: 40},
		End:     token.Position{Filename: file, Line: 3, Column: 5 + len(v), Offset: 40 + len(v)},
		NamePos: token.Position{Filename: file, Line: 3, Column: 30, Offset: 65},
		NameEnd: token.Position{Filename: file, Line: 3, Column: 30 + len(name) + 2, Offset: 65 + len(name) + 2},
	}
}

// fn builds a valid function of package pkg on r at line.
func fn(pkg, name string, line int, r *model.Resource, method, path string) *model.Function {
	file := "/m/" + pkg + "/" + pkg + ".go"
	at := func(off int) token.Position {
		return token.Position{Filename: file, Line: line, Column: off + 1, Offset: line*100 + off}
	}
	f := &model.Function{
		Pkg: pkg, Name: name, Qualified: pkg + "." + name,
		Pos: at(60), NameEnd: at(60 + len(name)),
		Resource: r, Method: method, Path: path, Valid: true,
	}
	if path != "" {
		f.PathPos, f.PathValuePos, f.PathEnd = at(30), at(30+len("path=")), at(30+len("path=")+len(path))
	}
	if r != nil && r.LoadBalanced() && model.ValidMethod(method) {
		f.RouteKey, _ = model.RouteKey(method, path)
	}
	return f
}

func rulesOf(fs []finding.Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.Rule)
	}
	return ids
}

func TestRouteConflict(t *testing.T) {
	tests := []struct {
		a, b     string // "METHOD path"
		conflict bool
	}{
		{"GET /items/{id}", "GET /items/{key}", true},
		{"GET /items/{id}", "GET /items/{key:[^/]+}", true},
		{"GET /items/{id}", "GET /items/{id:[0-9]+}", false},
		{"GET /items/{id}", "POST /items/{id}", false},
		{"GET /items", "GET /items/new", false},
		{"GET /a/{x}/b/{y}", "GET /a/{p}/b/{q}", true},
		{"PUT /same", "PUT /same", true},
	}
	for _, tt := range tests {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			api := res("api", "API", "api", runtime.LoadBalancer{})
			ma, pa, _ := strings.Cut(tt.a, " ")
			mb, pb, _ := strings.Cut(tt.b, " ")
			// Two sibling packages; the second refers to a copy of the
			// resource, as a fact-built resource is.
			copyOfAPI := *api
			left := &model.Package{Path: "left", Functions: []*model.Function{fn("left", "A", 5, api, ma, pa)}}
			right := &model.Package{Path: "right", Functions: []*model.Function{fn("right", "B", 7, &copyOfAPI, mb, pb)}}
			pkgs := []*model.Package{{Path: "api", Resources: []*model.Resource{api}}, left, right}
			got := Check(pkgs)
			if right.Functions[0].Resource != api {
				t.Errorf("function of package right not joined to the declaring package's resource")
			}
			var conflicts []finding.Finding
			for _, f := range got {
				if f.Rule == rules.RouteConflict {
					conflicts = append(conflicts, f)
				}
			}
			if !tt.conflict {
				if len(conflicts) != 0 {
					t.Fatalf("unexpected conflict: %v", conflicts)
				}
				if !left.Functions[0].Valid || !right.Functions[0].Valid {
					t.Errorf("functions invalidated without a conflict")
				}
				return
			}
			if len(conflicts) != 2 {
				t.Fatalf("got %d route-conflict findings, want 2 (one at each function): %v", len(conflicts), got)
			}
			for i, f := range conflicts {
				self, other := []*model.Function{left.Functions[0], right.Functions[0]}[i], []*model.Function{right.Functions[0], left.Functions[0]}[i]
				if f.File != self.PathPos.Filename || f.Start != self.PathValuePos.Offset {
					t.Errorf("finding at %s:%d, want the path value of %s", f.File, f.Start, self.Qualified)
				}
				if f.End != self.PathEnd.Offset {
					t.Errorf("finding ends at %d, want %d", f.End, self.PathEnd.Offset)
				}
				if len(f.Related) != 1 || f.Related[0].File != other.PathPos.Filename || f.Related[0].Start != other.PathValuePos.Offset {
					t.Errorf("related = %v, want the path of %s", f.Related, other.Qualified)
				}
				if !strings.Contains(f.Message, other.Qualified) {
					t.Errorf("message %q does not name %s", f.Message, other.Qualified)
				}
				if self.Valid {
					t.Errorf("%s still Valid", self.Qualified)
				}
			}
		})
	}
}

func TestRouteConflictIgnores(t *testing.T) {
	api := res("api", "API", "api", runtime.LoadBalancer{})
	other := res("api", "Other", "other", runtime.CPULoadBalancer{})
	q := res("api", "Q", "q", runtime.Serverless{})
	pkgs := []*model.Package{{Path: "api", Resources: []*model.Resource{api, other, q}, Functions: []*model.Function{
		fn("api", "A", 1, api, "GET", "/x"),
		fn("api", "B", 3, other, "GET", "/x"),        // another resource
		fn("api", "C", 5, q, "GET", "/x"),            // queue resources have no routes
		fn("api", "D", 7, q, "GET", "/x"),            // (route-on-queue reports them)
		fn("api", "E", 9, api, "get", "/x"),          // bad-method reports it
		fn("api", "F", 11, api, "GET", "/ping"),      // reserved-path
		fn("api", "G", 13, api, "GET", "/ping"),      // reserved-path
		fn("api", "H", 15, api, "GET", "/{v:(a|b)}"), // mux panics: bad-path
		fn("api", "I", 17, api, "GET", "/{v:(a|b)}"),
	}}}
	for _, f := range Check(pkgs) {
		if f.Rule == rules.RouteConflict {
			t.Errorf("unexpected %s", f.Message)
		}
	}
}

func TestDuplicateResource(t *testing.T) {
	tests := []struct {
		a, b string
		dup  bool
	}{
		{"test-api", "test-api", true},
		{"test-api", "Test-API", true}, // case folding
		{"test api", "test_api", true}, // same directory
		{"test-api", "test_api", true}, // same environment suffix
		{"test-api", "test-apis", false},
		{"a.b", "a-b", true}, // a_b and a-b: both A_B
		{"ab", "a-b", false},
	}
	for _, tt := range tests {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			a := res("p", "A", tt.a, runtime.LoadBalancer{})
			b := res("q", "B", tt.b, runtime.Serverless{})
			fa := fn("p", "F", 9, a, "GET", "/f")
			pkgs := []*model.Package{
				{Path: "p", Resources: []*model.Resource{a}, Functions: []*model.Function{fa}},
				{Path: "q", Resources: []*model.Resource{b}},
			}
			got := Check(pkgs)
			n := 0
			for _, f := range got {
				if f.Rule != rules.DuplicateResource {
					continue
				}
				n++
				if f.Start != a.NamePos.Offset && f.Start != b.NamePos.Offset {
					t.Errorf("finding at %d, want a Name value", f.Start)
				}
				if f.End-f.Start != len(`"`+tt.a+`"`) && f.End-f.Start != len(`"`+tt.b+`"`) {
					t.Errorf("finding spans %d bytes", f.End-f.Start)
				}
				if len(f.Related) != 1 {
					t.Errorf("related = %v", f.Related)
				}
			}
			if want := map[bool]int{true: 2, false: 0}[tt.dup]; n != want {
				t.Fatalf("got %d duplicate-resource findings, want %d: %v", n, want, got)
			}
			if fa.Valid == tt.dup {
				t.Errorf("function on the resource: Valid = %t", fa.Valid)
			}
		})
	}
}

func TestAmbiguousAndMothership(t *testing.T) {
	q := res("r", "Q", "q", runtime.LiveServerless{})
	home := res("r", "Home", "home", runtime.LoadBalancer{}, model.Setting{Field: "Mothership", Value: true,
		Pos:    token.Position{Filename: "/m/r/res.go", Line: 8, Column: 40, Offset: 200},
		KeyEnd: token.Position{Filename: "/m/r/res.go", Line: 8, Column: 50, Offset: 210}})
	portal := res("r", "Portal", "portal", runtime.CPULoadBalancer{}, model.Setting{Field: "Mothership", Value: true,
		Pos:    token.Position{Filename: "/m/r/res.go", Line: 9, Column: 40, Offset: 260},
		KeyEnd: token.Position{Filename: "/m/r/res.go", Line: 9, Column: 50, Offset: 270}})
	a := fn("a", "Status", 3, q, "", "")
	b := fn("b", "Status", 3, q, "", "")
	c := fn("b", "Other", 6, q, "", "")
	got := Check([]*model.Package{
		{Path: "r", Resources: []*model.Resource{q, home, portal}},
		{Path: "a", Functions: []*model.Function{a}},
		{Path: "b", Functions: []*model.Function{b, c}},
	})
	if want := []string{rules.AmbiguousFunction, rules.AmbiguousFunction, rules.ResourceConfig, rules.ResourceConfig}; !slices.Equal(rulesOf(got), want) {
		t.Fatalf("rules = %v, want %v", rulesOf(got), want)
	}
	for _, f := range got[:2] {
		if f.Severity != rules.Warning || f.End-f.Start != len("Status") {
			t.Errorf("ambiguous-function finding %+v", f)
		}
	}
	if !a.Valid || !b.Valid {
		t.Errorf("a warning invalidated a function")
	}
	if got[2].Start != 200 || got[2].End != 200+len("Mothership") || got[3].Start != 260 {
		t.Errorf("mothership findings at %d-%d and %d, want the Mothership fields", got[2].Start, got[2].End, got[3].Start)
	}
	// One mothership is fine.
	if fs := Check([]*model.Package{{Path: "r", Resources: []*model.Resource{home}}}); len(fs) != 0 {
		t.Errorf("one mothership: %v", fs)
	}
}
