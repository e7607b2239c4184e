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
func splitObject(body []byte, fn func(key, value string) error) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return &BindError{Param: "body", Msg: "request body must be a JSON object, got " + jsonKind(body)}
	}
	if !json.Valid(body) {
		var v any
		err := json.Unmarshal(body, &v)
		msg := "invalid JSON"
		if err != nil {
			msg += ": " + strings.TrimPrefix(err.Error(), "json: ")
		}
		return &BindError{Param: "body", Msg: msg}
	}
	// body is valid JSON from here on, so the scan need not check syntax.
	s := string(body)
	i := skipSpace(s, 1)
	if s[i] == '}' {
		return nil
	}
	for {
		end := skipString(s, i)
		key := s[i+1 : end-1]
		if strings.IndexByte(key, '\\') >= 0 || !utf8.ValidString(key) {
			if err := json.Unmarshal([]byte(s[i:end]), &key); err != nil {
				return &BindError{Param: "body", Msg: "invalid JSON: " + err.Error()}
			}
		}
		i = skipSpace(s, end)
		i = skipSpace(s, i+1) // the ':'
		start := i
		i = skipValue(s, i)
		if err := fn(key, s[start:i]); err != nil {
			return err
		}
		i = skipSpace(s, i)
		if s[i] == '}' {
			return nil
		}
		i = skipSpace(s, i+1) // the ','
	}
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the JSON string starting at s[i].
func skipString(s string, i int) int {
	for i++; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipValue returns the index after the JSON value starting at s[i].
func skipValue(s string, i int) int {
	switch s[i] {
	case '"':
		return skipString(s, i)
	case '{', '[':
		depth := 0
		for i < len(s) {
			switch s[i] {
			case '"':
				i = skipString(s, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(s) && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r' {
		i++
	}
	return i
}

// decodeObject checks that a request body is a JSON object (or empty).
func decodeObject(body []byte) (map[string]json.RawMessage, error) {
	body = bytes.TrimSpace(body)
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
