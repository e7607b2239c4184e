package model

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParsePath(t *testing.T) {
	for _, tc := range []struct {
		path string
		vars []string // names; nil when none
		err  string   // substring of the error; "" when valid
	}{
		{"/", nil, ""},
		{"/api/process", nil, ""},
		{"/items/{id}", []string{"id"}, ""},
		{"/items/{id}/{id}", []string{"id", "id"}, ""}, // duplicates are the caller's to report
		{"/files/{name:.+}", []string{"name"}, ""},
		{"/a%20b/{v:[a-z]+\\.txt?}", []string{"v"}, ""},
		{"/n/{n:[0-9]{2,3}}", []string{"n"}, ""},
		{"/caf%C3%A9", nil, ""},
		{"/a!$&'()*+,;=:@[]~b", nil, ""},
		{"/{café}", []string{"café"}, ""},
		{"/café", nil, `'é' can never match: requests carry it percent-encoded as %C3%A9`},
		{"/a|b", nil, `'|' can never match`},
		{"/a\"b", nil, `can never match`},
		{"items", nil, "must start with /"},
		{"{id}", []string{"id"}, "must start with /"},
		{"/items/", nil, "must not end with /"},
		{"/a?b", nil, "'?'"},
		{"/a#b", nil, "'#'"},
		{"/a//b", nil, "//"},
		{"/a b", nil, "white space"},
		{"/a\u00a0b", nil, "white space"},
		{"/a/./b", nil, `segment "."`},
		{"/a/..", nil, `segment ".."`},
		{"/a/%zz", nil, "stray %"},
		{"/a/%2", nil, "stray %"},
		{"/a/{v", nil, "unbalanced braces"},
		{"/a/v}", nil, "unbalanced braces"},
		{"/a/{}", nil, "has no name"},
		{"/a/{v:}", nil, "empty pattern"},
		{"/a/{v:(x|y)}", nil, "capture groups"},
		{"/a/{v:[}", nil, "error parsing regexp"},
	} {
		vars, err := ParsePath(tc.path)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParsePath(%q): unexpected error %v", tc.path, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParsePath(%q) = %v, want error containing %q", tc.path, err, tc.err)
		}
		if tc.err != "" {
			continue
		}
		var names []string
		for _, v := range vars {
			names = append(names, v.Name)
			if s := tc.path[v.Start:v.End]; s[0] != '{' || s[len(s)-1] != '}' || !strings.HasPrefix(s[1:], v.Name) {
				t.Errorf("ParsePath(%q): variable %q at [%d,%d) covers %q", tc.path, v.Name, v.Start, v.End, s)
			}
		}
		if strings.Join(names, ",") != strings.Join(tc.vars, ",") {
			t.Errorf("ParsePath(%q) vars = %v, want %v", tc.path, names, tc.vars)
		}
	}
}

func TestRepairPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"items", "/items"},
		{"/items/", "/items"},
		{"items//", "/items"},
		{"/", "/"},
		{"", "/"},
		{"/café/{ünï}", "/caf%C3%A9/{ünï}"},
		{"/a|b/{v:[a|b]+}", "/a%7Cb/{v:[a|b]+}"},
		{"/a b", "/a b"}, // no obvious repair
	} {
		if got := RepairPath(tc.in); got != tc.want {
			t.Errorf("RepairPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRouteKey(t *testing.T) {
	key := func(method, path string) string {
		t.Helper()
		k, err := RouteKey(method, path)
		if err != nil {
			t.Fatalf("RouteKey(%s, %s): %v", method, path, err)
		}
		return k
	}
	same := [][2]string{
		{"/items/{id}", "/items/{key}"},
		{"/items/{id}", "/items/{key:[^/]+}"},
		{"/a/{x}/b/{y}", "/a/{p}/b/{q}"},
	}
	for _, p := range same {
		if key("GET", p[0]) != key("GET", p[1]) {
			t.Errorf("%s and %s should be one route", p[0], p[1])
		}
	}
	differ := [][2]string{
		{"/items/{id}", "/items/{id:[0-9]+}"},
		{"/items/{id}", "/items/new"},
		{"/items", "/items/{id}"},
	}
	for _, p := range differ {
		if key("GET", p[0]) == key("GET", p[1]) {
			t.Errorf("%s and %s should be different routes", p[0], p[1])
		}
	}
	if key("GET", "/x") == key("POST", "/x") {
		t.Error("the method is part of the route")
	}
	if _, err := RouteKey("GET", "/a/{v:(x|y)}"); err == nil {
		t.Error("RouteKey accepted a path with a capturing group")
	}
}

// FuzzParsePath checks that no path, however broken, makes the parser
// panic, and that the variables it returns lie inside the path.
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/", "/api/process", "/a.b+c*d?(e)[f]^$|\\", "/items/{id}", "/a/{v:(x|y)}", "/{a:{b}}", "/%", "{", "}", "/a/{v:[}", "/{x:(?P<n>a)}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		vars, err := ParsePath(path)
		for _, v := range vars {
			if v.Start < 0 || v.End > len(path) || v.Start >= v.End || path[v.Start] != '{' || path[v.End-1] != '}' {
				t.Fatalf("ParsePath(%q): variable %+v out of place", path, v)
			}
		}
		if err == nil {
			if _, err := RouteKey("GET", path); err != nil {
				t.Fatalf("ParsePath(%q) accepted what RouteKey rejects: %v", path, err)
			}
		}
		// The shortcut for paths without variables gives mux's regexp.
		if strings.HasPrefix(path, "/") && !strings.ContainsAny(path, "{}") && utf8.ValidString(path) {
			want, err := routerRegexp(path)
			if err != nil {
				t.Fatalf("mux rejects the literal path %q: %v", path, err)
			}
			if got := literalRegexp(path); got != want {
				t.Fatalf("literalRegexp(%q) = %q, mux says %q", path, got, want)
			}
		}
	})
}
