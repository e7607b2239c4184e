package runtime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Input holds the parameters of one call, as a generated handler's Call
// function reads them with the bind functions ([String], [Int], [JSON], ...).
//
// For a load-balanced route the parameters come from the path variables
// (percent-decoded), the query string and the keys of a JSON object body;
// for POST /execute and queue jobs they come from positional args and
// keyword kwargs, args[i] binding Params[i]. The zero Input has no
// parameters.
type Input struct {
	fields []field
}

// field is one named parameter value: text (a path variable or the values
// of a query key) or one JSON value.
type field struct {
	name   string
	text   []string
	raw    json.RawMessage
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

func isJSONNull(raw []byte) bool {
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
// query parameters; body is the raw request body, or nil when the method
// carries no body parameters.
func routeInput(fn *Function, vars map[string]string, query url.Values, body []byte, hasBody bool) (*Input, error) {
	in := &Input{fields: make([]field, 0, len(fn.Params))}
	var obj map[string]json.RawMessage
	if hasBody {
		var err error
		if obj, err = decodeObject(body); err != nil {
			return nil, err
		}
		for key := range obj {
			if !hasParam(fn.Params, key, "body") {
				return nil, unknownKey(fn.Params, "body", key)
			}
		}
	}
	for _, p := range fn.Params {
		switch p.In {
		case "path":
			raw, ok := vars[p.Name]
			if !ok {
				continue
			}
			v, err := url.PathUnescape(raw)
			if err != nil {
				return nil, &BindError{Param: p.Name, Msg: fmt.Sprintf("bad percent-encoding in path segment %q", raw)}
			}
			in.fields = append(in.fields, field{name: p.Name, text: []string{v}})
		case "query":
			if vs := query[p.Name]; len(vs) > 0 {
				in.fields = append(in.fields, field{name: p.Name, text: vs})
			}
		default:
			if raw, ok := obj[p.Name]; ok {
				in.fields = append(in.fields, field{name: p.Name, raw: raw, isJSON: true})
			}
		}
	}
	return in, nil
}

// decodeObject decodes a request body that must be a JSON object; an empty
// body is the empty object.
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
	in := &Input{fields: make([]field, 0, len(fn.Params))}
	for i, p := range fn.Params {
		kw, inKwargs := kwargs[p.Name]
		if i < len(args) {
			if inKwargs {
				return nil, &BindError{Param: p.Name, Msg: "given both positionally and as a keyword argument"}
			}
			in.fields = append(in.fields, field{name: p.Name, raw: bytes.TrimSpace(args[i]), isJSON: true})
		} else if inKwargs {
			in.fields = append(in.fields, field{name: p.Name, raw: bytes.TrimSpace(kw), isJSON: true})
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
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
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
