package project

import (
	"go/token"
	"strings"
	"testing"
)

// FuzzParsePos feeds go list positions and compiler lines, which come from
// outside, to their parsers: they must never panic, and what they accept
// is a position with a line.
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
		if fd, ok := compilerLine(fset, s, "/root"); ok && (fd.File == "" || strings.Contains(fd.Message, "\n")) {
			t.Errorf("compilerLine(%q) = %+v", s, fd)
		}
	})
}

// FuzzParseGoMod checks that reading the module path of any go.mod never
// panics and that a well-formed module line is found.
func FuzzParseGoMod(f *testing.F) {
	f.Add("module example.com/m\n\ngo 1.26.0\n")
	f.Add("module \"example.com/q\" // comment\n")
	f.Add("go 1.22\nmodule x\n")
	f.Add("require (\n\tmodule v1\n)\n")
	f.Fuzz(func(t *testing.T, s string) {
		parseGoMod([]byte(s))
		if mod, _ := parseGoMod([]byte("module example.com/fixed\n" + s)); mod != "example.com/fixed" {
			t.Errorf("module line lost before %q: got %q", s, mod)
		}
	})
}
