package openapi

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestWriterString: strings are escaped as encoding/json escapes them
// without HTML escaping.
func TestWriterString(t *testing.T) {
	for _, s := range []string{"", "plain", `q"uo\te`, "tab\tnl\nret\r", "ctl\x01\x1f", "<a & b>", "line\u2028para\u2029", "bad\xffutf8", "é ü 日本"} {
		w := &jsonWriter{}
		w.str(s)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		enc.Encode(s)
		if got := w.b.String(); got+"\n" != want.String() {
			t.Errorf("str(%q) = %s, want %s", s, got, want.String())
		}
	}
}

// TestWriterIndent: a document is valid JSON, indented exactly as
// json.Indent indents it.
func TestWriterIndent(t *testing.T) {
	sc := &Schema{Type: Types{"object"}, Description: "d", AdditionalProperties: false,
		Properties: Properties{{Name: "a", Schema: &Schema{Type: Types{"array", "null"}, Items: &Schema{}}}},
		Required:   []string{"a"}, AnyOf: []*Schema{{Type: Types{"null"}}}}
	w := &jsonWriter{indent: true}
	w.schema(sc)
	doc := w.b.Bytes()
	var compact, indented bytes.Buffer
	if err := json.Compact(&compact, doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, doc)
	}
	json.Indent(&indented, compact.Bytes(), "", "  ")
	if !bytes.Equal(indented.Bytes(), doc) {
		t.Errorf("indentation differs from json.Indent:\n%s\nwant\n%s", doc, indented.Bytes())
	}
}
