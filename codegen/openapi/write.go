package openapi

import (
	"bytes"
	"slices"
	"strconv"
	"unicode/utf8"
)

// jsonWriter writes JSON directly, indented as json.MarshalIndent(v, "",
// "  ") would, or compact. Generate writes a document per load-balanced
// resource on every run, and encoding/json's reflection, with Marshaler
// output re-validated and then re-indented, cost more than rendering all
// the handlers.
type jsonWriter struct {
	b      bytes.Buffer
	indent bool
	depth  int
	empty  []bool // per open container: nothing written in it yet
}

func (w *jsonWriter) open(c byte) {
	w.b.WriteByte(c)
	w.depth++
	w.empty = append(w.empty, true)
}

func (w *jsonWriter) close(c byte) {
	empty := w.empty[len(w.empty)-1]
	w.empty = w.empty[:len(w.empty)-1]
	w.depth--
	if !empty {
		w.newline()
	}
	w.b.WriteByte(c)
}

// elem starts an element of the innermost container.
func (w *jsonWriter) elem() {
	top := len(w.empty) - 1
	if top < 0 {
		return
	}
	if !w.empty[top] {
		w.b.WriteByte(',')
	}
	w.empty[top] = false
	w.newline()
}

func (w *jsonWriter) newline() {
	if !w.indent {
		return
	}
	w.b.WriteByte('\n')
	for range w.depth {
		w.b.WriteString("  ")
	}
}

func (w *jsonWriter) key(k string) {
	w.elem()
	w.str(k)
	if w.indent {
		w.b.WriteString(": ")
	} else {
		w.b.WriteByte(':')
	}
}

// str writes s as a JSON string the way encoding/json does without HTML
// escaping.
func (w *jsonWriter) str(s string) {
	const hex = "0123456789abcdef"
	b := &w.b
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			default:
				b.WriteString(`\u00`)
				b.WriteByte(hex[c>>4])
				b.WriteByte(hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(s[start:i])
			b.WriteString(`\ufffd`)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b.WriteString(s[start:i])
			b.WriteString(`\u202`)
			b.WriteByte(hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

func (w *jsonWriter) strField(k, v string) {
	if v != "" {
		w.key(k)
		w.str(v)
	}
}

func (w *jsonWriter) intField(k string, v *int64) {
	if v != nil {
		w.key(k)
		w.b.WriteString(strconv.FormatInt(*v, 10))
	}
}

func (w *jsonWriter) boolField(k string, v bool) {
	w.key(k)
	w.b.WriteString(strconv.FormatBool(v))
}

func (w *jsonWriter) strings(list []string) {
	w.open('[')
	for _, s := range list {
		w.elem()
		w.str(s)
	}
	w.close(']')
}

// schema writes sc with its fields in the order of Schema's declaration.
func (w *jsonWriter) schema(sc *Schema) {
	w.open('{')
	if sc.comp != nil {
		w.strField("$ref", "#/components/schemas/"+sc.comp.name)
	} else {
		w.strField("$ref", sc.Ref)
	}
	w.strField("description", sc.Description)
	switch len(sc.Type) {
	case 0:
	case 1:
		w.key("type")
		w.str(sc.Type[0])
	default:
		w.key("type")
		w.strings(sc.Type)
	}
	w.strField("format", sc.Format)
	w.strField("contentEncoding", sc.ContentEncoding)
	w.strField("pattern", sc.Pattern)
	w.intField("minimum", sc.Minimum)
	w.intField("maximum", sc.Maximum)
	w.intField("minItems", sc.MinItems)
	w.intField("maxItems", sc.MaxItems)
	if sc.Items != nil {
		w.key("items")
		w.schema(sc.Items)
	}
	if len(sc.Properties) > 0 {
		w.key("properties")
		w.open('{')
		for _, p := range sc.Properties {
			w.key(p.Name)
			w.schema(p.Schema)
		}
		w.close('}')
	}
	if len(sc.Required) > 0 {
		w.key("required")
		w.strings(sc.Required)
	}
	if sc.PropertyNames != nil {
		w.key("propertyNames")
		w.schema(sc.PropertyNames)
	}
	switch ap := sc.AdditionalProperties.(type) {
	case *Schema:
		w.key("additionalProperties")
		w.schema(ap)
	case bool:
		w.boolField("additionalProperties", ap)
	}
	if len(sc.AnyOf) > 0 {
		w.key("anyOf")
		w.open('[')
		for _, a := range sc.AnyOf {
			w.elem()
			w.schema(a)
		}
		w.close(']')
	}
	w.close('}')
}

func (w *jsonWriter) document(d *document) {
	w.open('{')
	w.strField("openapi", d.OpenAPI)
	w.key("info")
	w.open('{')
	w.key("title")
	w.str(d.Info.Title)
	w.key("version")
	w.str(d.Info.Version)
	w.close('}')
	w.key("servers")
	w.open('[')
	for _, s := range d.Servers {
		w.elem()
		w.open('{')
		w.key("url")
		w.str(s.URL)
		w.key("description")
		w.str(s.Description)
		w.close('}')
	}
	w.close(']')
	w.key("security")
	w.open('[')
	for _, req := range d.Security {
		w.elem()
		w.open('{')
		for _, name := range sortedKeys(req) {
			w.key(name)
			w.strings(req[name])
		}
		w.close('}')
	}
	w.close(']')
	w.key("paths")
	w.open('{')
	for _, p := range sortedKeys(d.Paths) {
		w.key(p)
		w.open('{')
		for _, m := range sortedKeys(d.Paths[p]) {
			w.key(m)
			w.operation(d.Paths[p][m])
		}
		w.close('}')
	}
	w.close('}')
	w.key("components")
	w.open('{')
	w.key("schemas")
	w.open('{')
	for _, name := range sortedKeys(d.Components.Schemas) {
		w.key(name)
		w.schema(d.Components.Schemas[name])
	}
	w.close('}')
	w.key("securitySchemes")
	w.open('{')
	for _, name := range sortedKeys(d.Components.SecuritySchemes) {
		s := d.Components.SecuritySchemes[name]
		w.key(name)
		w.open('{')
		w.key("type")
		w.str(s.Type)
		w.key("scheme")
		w.str(s.Scheme)
		w.key("description")
		w.str(s.Description)
		w.close('}')
	}
	w.close('}')
	w.close('}')
	w.close('}')
}

func (w *jsonWriter) operation(op *operation) {
	w.open('{')
	w.strField("operationId", op.OperationID)
	w.strField("summary", op.Summary)
	w.strField("description", op.Description)
	if len(op.Parameters) > 0 {
		w.key("parameters")
		w.open('[')
		for _, p := range op.Parameters {
			w.elem()
			w.open('{')
			w.strField("name", p.Name)
			w.strField("in", p.In)
			w.boolField("required", p.Required)
			w.key("schema")
			w.schema(p.Schema)
			w.close('}')
		}
		w.close(']')
	}
	if rb := op.RequestBody; rb != nil {
		w.key("requestBody")
		w.open('{')
		w.boolField("required", rb.Required)
		w.content(rb.Content)
		w.close('}')
	}
	w.key("responses")
	w.open('{')
	for _, code := range sortedKeys(op.Responses) {
		w.key(code)
		w.response(op.Responses[code])
	}
	w.close('}')
	w.close('}')
}

func (w *jsonWriter) response(r *response) {
	w.open('{')
	w.strField("description", r.Description)
	if len(r.Content) > 0 {
		w.content(r.Content)
	}
	w.close('}')
}

func (w *jsonWriter) content(c map[string]mediaType) {
	w.key("content")
	w.open('{')
	for _, t := range sortedKeys(c) {
		w.key(t)
		w.open('{')
		if mt := c[t]; mt.ItemSchema != nil {
			w.key("itemSchema")
			w.schema(mt.ItemSchema)
		} else {
			w.key("schema")
			w.schema(mt.Schema)
		}
		w.close('}')
	}
	w.close('}')
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
