package openapi

import (
	"go/types"
	"slices"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// The language server's hover shows request and response shapes in a
// TypeScript-like short form, rendered from the same schemas as the
// documents: {id: string, tags?: string[] | null}. A named struct is
// expanded at the top level only and named below it.

// Shape renders the JSON of a value of type t in short form.
func Shape(t types.Type) string {
	s := NewSchemas(nil)
	sc := s.Of(t)
	s.Components()
	return shape(sc, 0)
}

// BodyShape renders the JSON object that carries params (a request body
// or a queue job's kwargs) in short form; pointer parameters are optional.
func BodyShape(params []*model.Param) string {
	s := NewSchemas(nil)
	obj := &Schema{Type: Types{"object"}}
	for _, p := range params {
		if p.Type == nil {
			continue
		}
		if p.Optional {
			obj.Properties = append(obj.Properties, Property{Name: p.Name, Schema: s.Of(p.Type)})
		} else {
			obj.Properties = append(obj.Properties, Property{Name: p.Name, Schema: s.Value(p.Type)})
			obj.Required = append(obj.Required, p.Name)
		}
	}
	s.Components()
	return shape(obj, 1)
}

// maxShape bounds a rendered shape: a hover is no place for a whole schema.
const maxShape = 400

func shape(sc *Schema, depth int) string {
	out := shapeOf(sc, depth)
	if len(out) > maxShape {
		out = out[:maxShape] + "…"
	}
	return out
}

func shapeOf(sc *Schema, depth int) string {
	if c := sc.comp; c != nil {
		if depth > 0 || c.schema == nil {
			return c.name
		}
		return c.name + " " + shapeOf(c.schema, depth+1)
	}
	if len(sc.AnyOf) > 0 {
		alts := make([]string, len(sc.AnyOf))
		for i, a := range sc.AnyOf {
			alts[i] = shapeOf(a, depth)
		}
		return strings.Join(alts, " | ")
	}
	if len(sc.Type) == 0 {
		return "any"
	}
	alts := make([]string, 0, len(sc.Type))
	for _, t := range sc.Type {
		alts = append(alts, typeShape(sc, t, depth))
	}
	return strings.Join(alts, " | ")
}

func typeShape(sc *Schema, t string, depth int) string {
	switch t {
	case "array":
		item := "any"
		if sc.Items != nil {
			item = shapeOf(sc.Items, depth+1)
			if strings.Contains(item, " | ") {
				item = "(" + item + ")"
			}
		}
		return item + "[]"
	case "object":
		if ap, ok := sc.AdditionalProperties.(*Schema); ok && len(sc.Properties) == 0 {
			return "{[key: string]: " + shapeOf(ap, depth+1) + "}"
		}
		var b strings.Builder
		b.WriteString("{")
		for i, p := range sc.Properties {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p.Name)
			if !slices.Contains(sc.Required, p.Name) {
				b.WriteString("?")
			}
			b.WriteString(": ")
			b.WriteString(shapeOf(p.Schema, depth+1))
		}
		b.WriteString("}")
		return b.String()
	case "string":
		switch {
		case sc.Format != "":
			return "string (" + sc.Format + ")"
		case sc.ContentEncoding != "":
			return "string (" + sc.ContentEncoding + ")"
		}
	}
	return t
}
