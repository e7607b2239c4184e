package directive

import (
	"go/token"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		text string
		want Kind
	}{
		{"//flash:remote API", Remote},
		{"//flash:remote", Remote},
		{"//flash:remote\tAPI", Remote},
		{"// flash:remote API", None},
		{"//go:generate x", None},
		{"//flash:remotes API", Unknown},
		{"//flash:remtoe API", Unknown},
		{"//flash:", Unknown},
	} {
		if got := Classify(tc.text); got != tc.want {
			t.Errorf("Classify(%q) = %v, want %v", tc.text, got, tc.want)
		}
	}
}

func TestParse(t *testing.T) {
	const base = token.Pos(100)
	for _, tc := range []struct {
		text     string
		resource string
		method   string
		path     string
		errs     []string // "rule@start-end"
	}{
		{text: "//flash:remote API method=POST path=/api/process", resource: "API", method: "POST", path: "/api/process"},
		{text: "//flash:remote res.GPU\tpath=/x   method=GET", resource: "res.GPU", method: "GET", path: "/x"},
		{text: "//flash:remote Queue", resource: "Queue"},
		{text: "//flash:remote", errs: []string{"directive-syntax@0-14"}},
		{text: "//flash:remote method=POST", method: "POST", errs: []string{"directive-syntax@15-26"}},
		{text: "//flash:remote API method=", resource: "API", errs: []string{"directive-syntax@19-26"}},
		{text: "//flash:remote API method=GET method=POST", resource: "API", method: "GET", errs: []string{"directive-syntax@30-41"}},
		{text: "//flash:remote API methd=GET", resource: "API", errs: []string{"unknown-key@19-24"}},
		{text: "//flash:remote API POST", resource: "API", errs: []string{"directive-syntax@19-23"}},
		{text: "//flash:remote a.b.c", resource: "a.b.c", errs: []string{"directive-syntax@15-20"}},
		{text: `//flash:remote API path="/x"`, resource: "API", errs: []string{"directive-syntax@19-28"}},
		{text: "//flash:remote API =x", resource: "API", errs: []string{"directive-syntax@19-21"}},
		{text: "//flash:remotes API", errs: []string{"directive-syntax@0-15"}},
	} {
		d, errs := Parse(tc.text, base)
		if d == nil {
			t.Errorf("Parse(%q) = nil", tc.text)
			continue
		}
		var gotErrs []string
		for _, e := range errs {
			gotErrs = append(gotErrs, e.Rule+"@"+itoa(int(e.Pos-base))+"-"+itoa(int(e.End-base)))
		}
		if strings.Join(gotErrs, ",") != strings.Join(tc.errs, ",") {
			t.Errorf("Parse(%q) errors = %v, want %v", tc.text, gotErrs, tc.errs)
		}
		if got := value(d.Resource); got != tc.resource {
			t.Errorf("Parse(%q) resource = %q, want %q", tc.text, got, tc.resource)
		}
		if got := value(d.Method); got != tc.method {
			t.Errorf("Parse(%q) method = %q, want %q", tc.text, got, tc.method)
		}
		if got := value(d.Path); got != tc.path {
			t.Errorf("Parse(%q) path = %q, want %q", tc.text, got, tc.path)
		}
	}
}

func TestParseFieldPositions(t *testing.T) {
	const text = "//flash:remote API method=POST path=/api/process"
	d, _ := Parse(text, 1)
	for _, f := range []*Field{d.Resource, d.Method, d.Path} {
		if got := text[f.Pos-1 : f.End-1]; !strings.HasSuffix(got, f.Value) {
			t.Errorf("field %q spans %q", f.Value, got)
		}
		if got := text[f.ValuePos-1 : f.End-1]; got != f.Value {
			t.Errorf("value %q spans %q", f.Value, got)
		}
	}
}

func TestUnknownKeySuggestion(t *testing.T) {
	for key, want := range map[string]string{"methd": "method", "pth": "path", "Method": "method", "route": "path"} {
		_, errs := Parse("//flash:remote API "+key+"=x", 1)
		if len(errs) != 1 || errs[0].Rule != rules.UnknownKey || errs[0].Suggestion != want {
			t.Errorf("%s: got %+v, want suggestion %q", key, errs, want)
		}
	}
}

func value(f *Field) string {
	if f == nil {
		return ""
	}
	return f.Value
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"//flash:remote API method=POST path=/api/process",
		"//flash:remote",
		"//flash:remotes x",
		"//flash:remote a.b method= =x path==",
		"//flash:remote \xff\xfe method=GET",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		const base = token.Pos(1000)
		end := base + token.Pos(len(text))
		d, errs := Parse(text, base)
		if d == nil {
			if errs != nil {
				t.Fatalf("errors without directive")
			}
			return
		}
		in := func(p token.Pos) bool { return p >= base && p <= end }
		for _, e := range errs {
			if !in(e.Pos) || !in(e.End) || e.Pos > e.End {
				t.Fatalf("error %+v outside comment [%d,%d]", e, base, end)
			}
		}
		for _, fl := range append(d.Fields, fieldsOf(d)...) {
			if !in(fl.Pos) || !in(fl.End) || !in(fl.ValuePos) || fl.Pos > fl.End {
				t.Fatalf("field %+v outside comment", fl)
			}
		}
	})
}

func fieldsOf(d *Directive) []Field {
	var out []Field
	for _, f := range []*Field{d.Resource, d.Method, d.Path} {
		if f != nil {
			out = append(out, *f)
		}
	}
	return out
}
