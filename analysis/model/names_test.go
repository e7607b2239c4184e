package model

import "testing"

func TestKebabPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GetHTTPStatus", "/get-http-status"},
		{"ProcessData", "/process-data"},
		{"Ping", "/ping"},
		{"HTTP", "/http"},
		{"ServeHTTP", "/serve-http"},
		{"ListV2Items", "/list-v2-items"},
		{"Get_Item", "/get-item"},
		{"getURLFor", "/get-url-for"},
		{"Café", "/café"},
		{"ÄndereÖl", "/ändere-öl"},
		{"X", "/x"},
		{"", "/"},
	} {
		if got := KebabPath(tc.in); got != tc.want {
			t.Errorf("KebabPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestClosest(t *testing.T) {
	for _, tc := range []struct {
		name       string
		candidates []string
		want       string
	}{
		{"APl", []string{"Jobs", "API", "Apt"}, "API"},
		{"res.GPX", []string{"res.GPU", "res.Web", "GPU"}, "res.GPU"},
		{"x", nil, ""},
		{"ab", []string{"ba", "aa"}, "aa"}, // tie at distance 1 goes to the first in order
	} {
		if got := Closest(tc.name, tc.candidates); got != tc.want {
			t.Errorf("Closest(%q, %q) = %q, want %q", tc.name, tc.candidates, got, tc.want)
		}
	}
}
