// Package openapi writes the OpenAPI 3.1 document of a load-balanced
// resource (SPEC section 16) from the project model and go/types: the
// schemas follow encoding/json, so the document describes exactly what the
// generated handler accepts and answers. codegen calls it for
// .flash/openapi/<dir>.json and the handlers embed its output; the
// language server renders the same schemas in short form on hover.
package openapi

import (
	"errors"
	"fmt"
	"go/doc"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// Version is the OpenAPI version of the documents.
const Version = "3.1.0"

// StreamVersion is the OpenAPI version of a document with a streaming
// route (SPEC 18): the media type's itemSchema, which describes each value
// of an application/x-ndjson answer, exists from OpenAPI 3.2 on; 3.1
// validators reject it.
const StreamVersion = "3.2.0"

// Input is what one document is made of.
type Input struct {
	Resource *model.Resource
	// Functions are the resource's valid functions, in manifest order.
	Functions []*model.Function
	// Version is info.version: the first 12 hex digits of the resource's
	// config_hash.
	Version string
	// Docs supply the descriptions of types and properties.
	Docs model.Docs
}

type document struct {
	OpenAPI string   `json:"openapi"`
	Info    info     `json:"info"`
	Servers []server `json:"servers"`
	// Security is RunPod's: a deployed endpoint takes the API key as a
	// bearer token; locally (flash-lsp run) nothing is needed.
	Security   []map[string][]string            `json:"security"`
	Paths      map[string]map[string]*operation `json:"paths"`
	Components components                       `json:"components"`
}

type server struct {
	URL         string `json:"url"`
	Description string `json:"description"`
}

type securityScheme struct {
	Type        string `json:"type"`
	Scheme      string `json:"scheme"`
	Description string `json:"description"`
}

type info struct {
	Title   string `json:"title"`
	Version string `json:"version"`
}

type components struct {
	Schemas         map[string]*Schema        `json:"schemas"`
	SecuritySchemes map[string]securityScheme `json:"securitySchemes"`
}

type operation struct {
	OperationID string               `json:"operationId"`
	Summary     string               `json:"summary,omitempty"`
	Description string               `json:"description,omitempty"`
	Parameters  []parameter          `json:"parameters,omitempty"`
	RequestBody *requestBody         `json:"requestBody,omitempty"`
	Responses   map[string]*response `json:"responses"`
}

type parameter struct {
	Name     string  `json:"name"`
	In       string  `json:"in"`
	Required bool    `json:"required"`
	Schema   *Schema `json:"schema"`
}

type requestBody struct {
	Required bool                 `json:"required"`
	Content  map[string]mediaType `json:"content"`
}

type mediaType struct {
	Schema *Schema `json:"schema,omitempty"`
	// ItemSchema describes each value of a sequential media type
	// (application/x-ndjson): a streaming function's item type (SPEC 18).
	ItemSchema *Schema `json:"itemSchema,omitempty"`
}

type response struct {
	Description string               `json:"description,omitempty"`
	Content     map[string]mediaType `json:"content,omitempty"`
}

const jsonType = "application/json"

// ndjsonType is the media type of a streamed answer: one JSON value per line.
const ndjsonType = "application/x-ndjson"

// errorResponses are the error answers every route may give (SPEC
// section 8), each with the body {"error": "..."}. Each operation carries
// them in place, schema included, rather than as references: a reader of
// responses["400"] finds the error body there, and the error schema takes
// no name from the user's types in components/schemas.
var errorResponses = []struct{ code, text string }{
	{"400", "The request does not bind: bad JSON, a missing or unknown parameter, a wrong type"},
	{"404", "Not found"},
	{"413", "The body is larger than FLASH_MAX_BODY_BYTES"},
	{"500", "The function returned an error or panicked"},
}

// errorBody is the schema of an error answer's body.
func errorBody() *Schema {
	return &Schema{
		Type:       Types{"object"},
		Properties: Properties{{Name: "error", Schema: &Schema{Type: Types{"string"}}}},
		Required:   []string{"error"},
	}
}

// Document renders the OpenAPI document of a load-balanced resource:
// two-space indented JSON with a trailing newline, the same bytes for the
// same input.
func Document(in Input) ([]byte, error) {
	r := in.Resource
	if r == nil || !r.LoadBalanced() {
		return nil, errors.New("openapi: only load-balanced resources have a document")
	}
	s := NewSchemas(in.Docs)
	version := Version
	for _, f := range in.Functions {
		if f.Stream {
			version = StreamVersion
		}
	}
	d := &document{
		OpenAPI: version,
		Info:    info{Title: r.Name, Version: in.Version},
		// The routes hang off wherever the document is served: the
		// endpoint's root when deployed, /<dir> under flash-lsp run --all.
		// A relative server URL resolves against the document's own.
		Servers:  []server{{URL: ".", Description: "the resource that serves this document"}},
		Security: []map[string][]string{{"runpod": {}}, {}},
		Paths:    make(map[string]map[string]*operation),
	}
	ids := operationIDs(in.Functions)
	for _, f := range in.Functions {
		p, op, err := s.operation(f, ids[f])
		if err != nil {
			return nil, err
		}
		item := d.Paths[p]
		if item == nil {
			item = make(map[string]*operation)
			d.Paths[p] = item
		}
		m := strings.ToLower(f.Method)
		if _, dup := item[m]; dup {
			// Two templates that differ only in their variables' patterns
			// or names: OpenAPI has one path for both. The first (in
			// manifest order) is described.
			continue
		}
		item[m] = op
	}
	d.Components.Schemas = s.Components()
	d.Components.SecuritySchemes = map[string]securityScheme{"runpod": {Type: "http", Scheme: "bearer",
		Description: "A RunPod API key; deployed endpoints require it, flash-lsp run does not"}}
	w := &jsonWriter{indent: true}
	w.document(d)
	w.b.WriteByte('\n')
	return w.b.Bytes(), nil
}

// operationIDs gives each function its bare name, or pkg_Name when another
// function of the resource has the same name.
func operationIDs(fns []*model.Function) map[*model.Function]string {
	n := make(map[string]int)
	for _, f := range fns {
		n[f.Name]++
	}
	ids := make(map[*model.Function]string, len(fns))
	for _, f := range fns {
		ids[f] = f.Name
		if n[f.Name] > 1 {
			ids[f] = sanitize(f.PkgName) + "_" + f.Name
		}
	}
	return ids
}

// Summary is the first sentence of a doc comment.
func Summary(docText string) string {
	return new(doc.Package).Synopsis(docText)
}

// operation describes f; it returns the OpenAPI path of its route.
func (s *Schemas) operation(f *model.Function, id string) (string, *operation, error) {
	path, patterns := openAPIPath(f.Path)

	op := &operation{OperationID: id, Summary: Summary(f.Doc), Responses: make(map[string]*response)}
	if desc := strings.TrimSpace(f.Doc); desc != "" && strings.Join(strings.Fields(desc), " ") != op.Summary {
		op.Description = desc
	}
	body := &Schema{Type: Types{"object"}, AdditionalProperties: false}
	for _, prm := range f.Params {
		if prm.Type == nil {
			return "", nil, fmt.Errorf("openapi: parameter %s of %s has no type", prm.Name, f.Qualified)
		}
		switch prm.In {
		case model.InPath, model.InQuery:
			sc := s.Value(prm.Type)
			if prm.Bind == model.BindText {
				sc = &Schema{Type: Types{"string"}}
				if prm.Slice {
					sc = &Schema{Type: Types{"array"}, Items: sc}
				}
			}
			if pat, ok := patterns[prm.Name]; ok && prm.In == model.InPath {
				sc.Pattern = pat
			}
			op.Parameters = append(op.Parameters, parameter{Name: prm.Name, In: prm.In,
				Required: prm.In == model.InPath || !prm.Optional, Schema: sc})
		default:
			var sc *Schema
			if prm.Optional {
				sc = s.Of(prm.Type)
			} else {
				sc = s.Value(prm.Type)
				body.Required = append(body.Required, prm.Name)
			}
			body.Properties = append(body.Properties, Property{Name: prm.Name, Schema: sc})
		}
	}
	// POST, PUT and PATCH take a JSON object, empty when every parameter
	// is in the path (the handler reads an empty body as {}).
	if !model.QueryMethod(f.Method) {
		op.RequestBody = &requestBody{Required: len(body.Required) > 0,
			Content: map[string]mediaType{jsonType: {Schema: body}}}
	}
	if f.Stream {
		op.Responses["200"] = &response{
			Description: "The values of " + f.Name + " as it produces them, one JSON value per line; an error after the first value ends the stream with a last line {\"error\": \"...\"}",
			Content:     map[string]mediaType{ndjsonType: {ItemSchema: s.Of(f.Result)}}}
	} else if f.Result != nil {
		op.Responses["200"] = &response{Description: "The result of " + f.Name,
			Content: map[string]mediaType{jsonType: {Schema: s.Of(f.Result)}}}
	} else {
		op.Responses["204"] = &response{Description: f.Name + " returns no result"}
	}
	for _, e := range errorResponses {
		op.Responses[e.code] = &response{Description: e.text,
			Content: map[string]mediaType{jsonType: {Schema: errorBody()}}}
	}
	return path, op, nil
}

// openAPIPath turns a route template (valid: the analysis checked it) into
// an OpenAPI path, whose variables are bare {name}; each variable's pattern
// moves to its parameter's schema, anchored as the router anchors it.
func openAPIPath(tpl string) (string, map[string]string) {
	var b strings.Builder
	patterns := make(map[string]string)
	for i := 0; i < len(tpl); {
		if tpl[i] != '{' {
			b.WriteByte(tpl[i])
			i++
			continue
		}
		// A pattern may hold braces of its own ({id:[0-9]{3}}).
		j, depth := i, 0
		for ; j < len(tpl); j++ {
			if tpl[j] == '{' {
				depth++
			} else if tpl[j] == '}' {
				if depth--; depth == 0 {
					break
				}
			}
		}
		name, pattern, _ := strings.Cut(tpl[i+1:min(j, len(tpl))], ":")
		b.WriteString("{" + name + "}")
		if pattern != "" {
			patterns[name] = "^(?:" + pattern + ")$"
		}
		i = j + 1
	}
	return b.String(), patterns
}
