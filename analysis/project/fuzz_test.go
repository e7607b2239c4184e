package project

import "testing"

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
