package model

import (
	"encoding/json"
	"regexp"
	"strings"
)

// Example is a request that calls a remote function, with a placeholder
// value for every parameter. `flash-lsp run --all` prints one per route and
// the language server shows one on hover.
type Example struct {
	Method string
	URL    string // base, path with its variables filled in, and query
	Body   []byte // the JSON body; nil when the request has none
}

var pathVariable = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(:[^}]*)?\}`)

// NewExample builds the request that calls f under base: its route when
// method and path are set (they are f's own, or those of a directive being
// typed), else the queue envelope posted to base/runsync.
func NewExample(base string, f *Function, method, path string) Example {
	if method == "" || path == "" {
		kwargs := map[string]json.RawMessage{}
		for _, p := range f.Params {
			kwargs[p.Name] = ExampleJSON(p)
		}
		name := f.Qualified
		if name == "" {
			name = f.Name
		}
		body, _ := json.Marshal(map[string]any{"input": map[string]any{"function_name": name, "kwargs": kwargs}})
		return Example{Method: "POST", URL: base + "/runsync", Body: body}
	}
	byName := map[string]*Param{}
	for _, p := range f.Params {
		byName[p.Name] = p
	}
	url := base + pathVariable.ReplaceAllStringFunc(path, func(v string) string {
		name := pathVariable.FindStringSubmatch(v)[1]
		if p := byName[name]; p != nil {
			return exampleText(p)
		}
		return name
	})
	var query []string
	body := map[string]json.RawMessage{}
	for _, p := range f.Params {
		switch p.In {
		case InQuery:
			query = append(query, p.Name+"="+exampleText(p))
		case InBody, InArg:
			body[p.Name] = ExampleJSON(p)
		}
	}
	if len(query) > 0 {
		url += "?" + strings.Join(query, "&")
	}
	e := Example{Method: method, URL: url}
	if !QueryMethod(method) {
		e.Body, _ = json.Marshal(body)
	}
	return e
}

// Curl renders e as one curl command line.
func (e Example) Curl() string {
	return e.curl(" ")
}

// CurlMultiline renders e as a curl command continued over lines.
func (e Example) CurlMultiline() string {
	return e.curl(" \\\n  ")
}

func (e Example) curl(sep string) string {
	cmd := "curl -X " + e.Method + " '" + e.URL + "'"
	if e.Body != nil {
		cmd += sep + "-H 'Content-Type: application/json'" + sep + "-d '" + string(e.Body) + "'"
	}
	return cmd
}

// ExampleJSON is a placeholder JSON value for parameter p, from its Go type.
func ExampleJSON(p *Param) json.RawMessage {
	return exampleJSON(strings.TrimPrefix(p.TypeString, "*"), p.Bind == BindText)
}

func exampleJSON(t string, text bool) json.RawMessage {
	switch {
	case strings.HasPrefix(t, "[]"):
		return json.RawMessage("[" + string(exampleJSON(strings.TrimPrefix(t[2:], "*"), text)) + "]")
	case strings.HasPrefix(t, "map["):
		return json.RawMessage("{}")
	}
	switch t {
	case "string":
		return json.RawMessage(`"example"`)
	case "bool":
		return json.RawMessage("true")
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr":
		return json.RawMessage("1")
	case "float32", "float64":
		return json.RawMessage("1.5")
	}
	if text {
		return json.RawMessage(`"example"`)
	}
	return json.RawMessage("{}")
}

// exampleText is the placeholder of a path variable or query value.
func exampleText(p *Param) string {
	t := strings.TrimPrefix(strings.TrimPrefix(strings.TrimPrefix(p.TypeString, "*"), "[]"), "*")
	return strings.Trim(string(exampleJSON(t, p.Bind == BindText)), `"`)
}
