package engine

import (
	"go/token"
	"testing"
)

// FuzzParsePos feeds go list positions, which come from outside, to their
// parser: it must never panic, and what it accepts is a position with a
// line.
func FuzzParsePos(f *testing.F) {
	for _, s := range []string{"a/b.go:3:7", "/x.go:1", "", "-", "c.go:", ":1:2", "a:b:c", "x.go:99999999999999999999:1",
		"a.go:3:7: declared and not used: v", "# pkg"} {
		f.Add(s)
	}
	fset := token.NewFileSet()
	fset.AddFile("/root/a/b.go", -1, 10).SetLinesForContent([]byte("package b\n"))
	f.Fuzz(func(t *testing.T, s string) {
		if pos, ok := parsePos(fset, s, "/root"); ok && (pos.Line == 0 || pos.Filename == "") {
			t.Errorf("parsePos(%q) = %v", s, pos)
		}
	})
}

func TestParsePos(t *testing.T) {
	fset := token.NewFileSet()
	tests := []struct {
		in   string
		want token.Position
		ok   bool
	}{
		{"a/b.go:3:7", token.Position{Filename: "/root/a/b.go", Line: 3, Column: 7}, true},
		{"/abs/c.go:12", token.Position{Filename: "/abs/c.go", Line: 12, Column: 1}, true},
		{"", token.Position{}, false},
		{"-", token.Position{}, false},
		{"no position", token.Position{}, false},
	}
	for _, tt := range tests {
		got, ok := parsePos(fset, tt.in, "/root")
		if ok != tt.ok || got != tt.want {
			t.Errorf("parsePos(%q) = %v, %t; want %v, %t", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
