package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Input holds the parameters of one call, as a generated handler's Call
// function reads them with the bind functions ([String], [Int], [JSON], ...).
//
// For a load-balanced route the parameters come from the path variables
// (percent-decoded), the query string and the keys of a JSON object body;
// for POST /execute and queue jobs they come from positional args and
// keyword kwargs, args[i] binding Params[i]. The zero Input has no
// parameters.
//
// The bind functions decode parameter name into dst. A required
// parameter that is absent (or JSON null) is a *BindError, as is a value
// that is malformed or of the wrong type. Each works for every source: a
// path variable or query value is parsed as text with strconv (booleans
// with strconv.ParseBool, integers with the bit size of T, overflow being
// an error); a JSON value is decoded strictly as JSON (a string is not a
// number, 1.5 is not an integer). A scalar given twice in a query is an
// error; the slice binds (Strings, Ints, ...) take repeated query keys or
// a JSON array.
type Input struct {
	fields []field
	inline [4]field // fields' first backing array: most functions have few parameters
}

func newInput(n int) *Input {
	in := new(Input)
	if n <= len(in.inline) {
		in.fields = in.inline[:0]
	} else {
		in.fields = make([]field, 0, n)
	}
	return in
}

// field is one named parameter value: text (a path variable or the values
// of a query key) or one JSON value.
type field struct {
	name   string
	text   []string
	raw    string // JSON text, when isJSON
	isJSON bool
}

func (in *Input) lookup(name string) *field {
	if in == nil {
		return nil
	}
	for i := range in.fields {
		if in.fields[i].name == name {
			return &in.fields[i]
		}
	}
	return nil
}

// Has reports whether parameter name is present: a path variable, a query
// key with at least one value, or a JSON value that is not null.
func (in *Input) Has(name string) bool {
	f := in.lookup(name)
	if f == nil {
		return false
	}
	if f.isJSON {
		return !isJSONNull(f.raw)
	}
	return len(f.text) > 0
}

// need returns the present value of a required parameter, or the
// *BindError that a missing one is.
func (in *Input) need(name string) (*field, error) {
	f := in.lookup(name)
	if f == nil || (f.isJSON && isJSONNull(f.raw)) || (!f.isJSON && len(f.text) == 0) {
		return nil, &BindError{Param: name, Msg: "required parameter is missing"}
	}
	return f, nil
}

func isJSONNull[B ~string | ~[]byte](raw B) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// A BindError reports a parameter that is missing, malformed or of the
// wrong type, or a request key that names no parameter. Routes answer it
// with 400 Bad Request.
type BindError struct {
	Param string // the parameter or key at fault
	Msg   string // what is wrong with it
}

func (e *BindError) Error() string {
	return fmt.Sprintf("parameter %q: %s", e.Param, e.Msg)
}

// routeInput builds the Input of a route call. vars are the (still
// percent-encoded) path variables; query is nil unless the route has
// query parameters; body is the raw request body when hasBody (POST, PUT,
// PATCH), whose keys must all name body parameters.
func routeInput(fn *Function, vars map[string]string, query url.Values, body []byte, hasBody bool) (*Input, error) {
	in := newInput(len(fn.Params))
	for _, p := range fn.Params {
		switch p.In {
		case "path":
			raw, ok := vars[p.Name]
			if !ok {
				continue
			}
			v := raw
			if strings.IndexByte(raw, '%') >= 0 {
				var err error
				if v, err = url.PathUnescape(raw); err != nil {
					return nil, &BindError{Param: p.Name, Msg: fmt.Sprintf("bad percent-encoding in path segment %q", raw)}
				}
			}
			in.fields = append(in.fields, field{name: p.Name, text: []string{v}})
		case "query":
			if vs := query[p.Name]; len(vs) > 0 {
				in.fields = append(in.fields, field{name: p.Name, text: vs})
			}
		}
	}
	if hasBody {
		err := splitObject(body, func(key, value string) error {
			if !hasParam(fn.Params, key, "body") {
				return unknownKey(fn.Params, "body", key)
			}
			for i := range in.fields {
				if in.fields[i].name == key { // a repeated key: the last wins, as in encoding/json
					in.fields[i].raw = value
					return nil
				}
			}
			in.fields = append(in.fields, field{name: key, raw: value, isJSON: true})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return in, nil
}

// splitObject calls fn with each key and raw value of a request body that
// must be a JSON object; an empty body is the empty object. Keys match
// exactly: unlike encoding/json, nothing is matched case-insensitively.
//
// The body is read once: the scan checks its syntax as json.Valid does
// (the same grammar, the same nesting limit) while it finds each key and
// value. fn is called only once the whole body has proved valid, so that
// a malformed body is reported as such whatever its keys; only then is it
// parsed again, by encoding/json, to say what is wrong in its words.
func splitObject(body []byte, fn func(key, value string) error) error {
	body = trimJSONSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return &BindError{Param: "body", Msg: "request body must be a JSON object, got " + jsonKind(body)}
	}
	s := string(body)
	type member struct{ key, value string }
	var inline [8]member
	members := inline[:0]
	ok := func() bool {
		i := skipSpace(s, 1)
		if i < len(s) && s[i] == '}' {
			return skipSpace(s, i+1) == len(s)
		}
		for {
			if i >= len(s) || s[i] != '"' {
				return false
			}
			end, ok := scanString(s, i)
			if !ok {
				return false
			}
			key := s[i+1 : end-1]
			if strings.IndexByte(key, '\\') >= 0 || !utf8.ValidString(key) {
				if json.Unmarshal([]byte(s[i:end]), &key) != nil {
					return false
				}
			}
			i = skipSpace(s, end)
			if i >= len(s) || s[i] != ':' {
				return false
			}
			i = skipSpace(s, i+1)
			start := i
			if i, ok = scanValue(s, i, 1); !ok {
				return false
			}
			members = append(members, member{key, s[start:i]})
			i = skipSpace(s, i)
			if i >= len(s) {
				return false
			}
			switch s[i] {
			case '}':
				return skipSpace(s, i+1) == len(s)
			case ',':
				i = skipSpace(s, i+1)
			default:
				return false
			}
		}
	}()
	if !ok {
		var v any
		err := json.Unmarshal(body, &v)
		msg := "invalid JSON"
		if err != nil {
			msg += ": " + strings.TrimPrefix(err.Error(), "json: ")
		}
		return &BindError{Param: "body", Msg: msg}
	}
	for _, m := range members {
		if err := fn(m.key, m.value); err != nil {
			return err
		}
	}
	return nil
}

// trimJSONSpace drops the whitespace JSON allows around a value (space,
// tab, newline, carriage return): unlike bytes.TrimSpace, a "\v{}" stays
// invalid.
func trimJSONSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\n\r")
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// maxJSONDepth is encoding/json's limit on nested objects and arrays.
const maxJSONDepth = 10000

// scanValue checks the JSON value that starts at s[i], inside depth
// enclosing objects and arrays, and returns the index after it; ok is
// false when the value is not valid JSON or nests too deep.
func scanValue(s string, i, depth int) (end int, ok bool) {
	var inline [32]byte
	open := inline[:0] // the '{' and '[' the value has opened, innermost last
	for {
		// A value starts at s[i].
		if i >= len(s) {
			return i, false
		}
		switch c := s[i]; {
		case c == '{' || c == '[':
			if depth+len(open) >= maxJSONDepth {
				return i, false
			}
			i = skipSpace(s, i+1)
			if i < len(s) && (c == '{' && s[i] == '}' || c == '[' && s[i] == ']') {
				i++
				break // an empty object or array: a whole value
			}
			open = append(open, c)
			if c == '{' {
				if i, ok = scanKey(s, i); !ok {
					return i, false
				}
			}
			continue
		case c == '"':
			if i, ok = scanString(s, i); !ok {
				return i, false
			}
		case c == '-' || '0' <= c && c <= '9':
			if i, ok = scanNumber(s, i); !ok {
				return i, false
			}
		case c == 't' && strings.HasPrefix(s[i:], "true"):
			i += 4
		case c == 'f' && strings.HasPrefix(s[i:], "false"):
			i += 5
		case c == 'n' && strings.HasPrefix(s[i:], "null"):
			i += 4
		default:
			return i, false
		}
		// A value ended before s[i]: close what it ends, or go on to the
		// next element of the innermost open object or array.
		for {
			if len(open) == 0 {
				return i, true
			}
			i = skipSpace(s, i)
			if i >= len(s) {
				return i, false
			}
			top := open[len(open)-1]
			if top == '{' && s[i] == '}' || top == '[' && s[i] == ']' {
				open = open[:len(open)-1]
				i++
				continue
			}
			if s[i] != ',' {
				return i, false
			}
			i = skipSpace(s, i+1)
			if top == '{' {
				if i, ok = scanKey(s, i); !ok {
					return i, false
				}
			}
			break
		}
	}
}

// scanKey checks an object's `"key" :` at s[i] and returns the index of
// its value.
func scanKey(s string, i int) (int, bool) {
	if i >= len(s) || s[i] != '"' {
		return i, false
	}
	i, ok := scanString(s, i)
	if !ok {
		return i, false
	}
	i = skipSpace(s, i)
	if i >= len(s) || s[i] != ':' {
		return i, false
	}
	return skipSpace(s, i+1), true
}

// scanString checks the JSON string at s[i] (a '"') and returns the index
// after it. As in encoding/json, control characters must be escaped and
// bytes that are not UTF-8 pass.
func scanString(s string, i int) (int, bool) {
	for i++; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			i++
			if i >= len(s) {
				return i, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(s) {
					return i, false
				}
				for _, h := range []byte(s[i+1 : i+5]) {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return i, false
					}
				}
				i += 4
			default:
				return i, false
			}
		}
	}
	return i, false
}

// scanNumber checks the JSON number at s[i] and returns the index after
// it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(s string, i int) (int, bool) {
	digits := func(i int) (int, bool) {
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i, i > start
	}
	if s[i] == '-' {
		i++
	}
	var ok bool
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		i, _ = digits(i)
	default:
		return i, false
	}
	if i < len(s) && s[i] == '.' {
		if i, ok = digits(i + 1); !ok {
			return i, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i, ok = digits(i); !ok {
			return i, false
		}
	}
	return i, true
}

// decodeObject checks that a request body is a JSON object (or empty).
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	body = trimJSONSpace(body)
	if len(body) == 0 {
		return nil, nil
	}
	if body[0] != '{' {
		return nil, &BindError{Param: "body", Msg: "request body must be a JSON object, got " + jsonKind(body)}
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, &BindError{Param: "body", Msg: "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	return obj, nil
}

func hasParam(params []Param, name, in string) bool {
	for _, p := range params {
		if p.Name == name && (in == "" || p.In == in) {
			return true
		}
	}
	return false
}

// unknownKey is the error for a body key or kwarg that names no
// parameter; a key that differs only in case gets a hint, since
// encoding/json would have accepted it.
func unknownKey(params []Param, in, key string) error {
	msg := "unknown key in request body"
	if in == "" {
		msg = "unknown keyword argument"
	}
	for _, p := range params {
		if (in == "" || p.In == in) && strings.EqualFold(p.Name, key) {
			msg += fmt.Sprintf(" (keys are case-sensitive: did you mean %q?)", p.Name)
			break
		}
	}
	return &BindError{Param: key, Msg: msg}
}

// envelope is the call of POST /execute and of a queue job's input.
type envelope struct {
	FunctionName  *string         `json:"function_name"`
	ExecutionType string          `json:"execution_type"`
	Args          json.RawMessage `json:"args"`
	Kwargs        json.RawMessage `json:"kwargs"`
}

// argsInput builds the Input of an /execute or queue call: args[i] binds
// Params[i], kwargs bind by exact name.
func argsInput(fn *Function, argsRaw, kwargsRaw json.RawMessage) (*Input, error) {
	var args []json.RawMessage
	if !isJSONNull(bytes.TrimSpace(argsRaw)) {
		if err := json.Unmarshal(argsRaw, &args); err != nil {
			return nil, fmt.Errorf("args must be a JSON array, got %s", jsonKind(argsRaw))
		}
	}
	var kwargs map[string]json.RawMessage
	if !isJSONNull(bytes.TrimSpace(kwargsRaw)) {
		if err := json.Unmarshal(kwargsRaw, &kwargs); err != nil {
			return nil, fmt.Errorf("kwargs must be a JSON object, got %s", jsonKind(kwargsRaw))
		}
	}
	if len(args) > len(fn.Params) {
		return nil, fmt.Errorf("%s takes %d argument(s), got %d positional", fn.Name, len(fn.Params), len(args))
	}
	var unknown []string
	for key := range kwargs {
		if !hasParam(fn.Params, key, "") {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		if len(unknown) == 1 {
			return nil, unknownKey(fn.Params, "", unknown[0])
		}
		return nil, fmt.Errorf("unknown keyword arguments %s for %s", quoteList(unknown), fn.Name)
	}
	in := newInput(len(fn.Params))
	for i, p := range fn.Params {
		kw, inKwargs := kwargs[p.Name]
		if i < len(args) {
			if inKwargs {
				return nil, &BindError{Param: p.Name, Msg: "given both positionally and as a keyword argument"}
			}
			in.fields = append(in.fields, field{name: p.Name, raw: string(bytes.TrimSpace(args[i])), isJSON: true})
		} else if inKwargs {
			in.fields = append(in.fields, field{name: p.Name, raw: string(bytes.TrimSpace(kw)), isJSON: true})
		}
	}
	return in, nil
}

func quoteList(names []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("'" + n + "'")
	}
	b.WriteByte(']')
	return b.String()
}

// jsonKind names the kind of a JSON value for error messages.
func jsonKind[B ~string | ~[]byte](b B) string {
	raw := bytes.TrimSpace([]byte(b))
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return "invalid JSON"
}
