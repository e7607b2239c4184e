package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/codegen/openapi"
)

// hover describes a directive: the resource, its route and the request it
// takes, with an example curl; on a call of a generated client's method,
// the route it calls.
func (s *Server) hover(ctx context.Context, raw json.RawMessage) (any, error) {
	var params protocol.HoverParams
	if err := decode(raw, &params); err != nil {
		return nil, err
	}
	dc, err := s.docAt(ctx, params.TextDocument.URI, params.Position)
	if err != nil {
		return nil, err
	}
	da := findDirective(dc.m, dc.off)
	if da == nil {
		if h := clientHover(dc); h != nil {
			return h, nil
		}
		if h := deployHover(dc); h != nil {
			return h, nil
		}
		return nil, nil
	}
	if dc.off < da.start {
		return nil, nil
	}
	line := int(dc.m.position(da.start).Line) + 1
	fn := functionAt(dc.snap, dc.filename, line)
	var res *model.Resource
	if fn != nil && fn.Resource != nil {
		res = fn.Resource
	} else if da.d.Resource != nil {
		res = resolveResource(dc.snap, dc.filename, da.d.Resource.Value)
	}
	if res == nil {
		if da.d.Resource == nil {
			return nil, nil
		}
		return &protocol.Hover{
			Contents: protocol.MarkupContent{Kind: protocol.Markdown,
				Value: fmt.Sprintf("`%s` does not name a Flash resource (yet)", da.d.Resource.Value)},
			Range: rangePtr(dc.m.rng(offsetOf(da.d.Resource.Pos), offsetOf(da.d.Resource.End))),
		}, nil
	}
	rng := dc.m.rng(da.start, da.start+len(da.text))
	if f := da.fieldAt(dc.off); f != nil {
		rng = dc.m.rng(offsetOf(f.Pos), offsetOf(f.End))
	}
	return &protocol.Hover{
		Contents: protocol.MarkupContent{Kind: protocol.Markdown, Value: describe(res, fn, da)},
		Range:    &rng,
	}, nil
}

func rangePtr(r protocol.Range) *protocol.Range { return &r }

// describe renders the hover text of a directive.
func describe(res *model.Resource, fn *model.Function, da *directiveAt) string {
	var b strings.Builder
	state := "deployed"
	if res.Live() {
		state = "live"
	}
	kind := "queue"
	if res.LoadBalanced() {
		kind = "load-balanced"
	}
	name := res.Name
	if name == "" {
		name = res.Var
	}
	fmt.Fprintf(&b, "**Flash resource `%s`** — `runtime.%s` (%s, %s)\n\n", name, res.Type, kind, state)
	fmt.Fprintf(&b, "Declared as `%s` in `%s`; manifest type `%s`.\n\n", res.Var, res.Pkg, res.ResourceType())

	method, path := "", ""
	if da.d.Method != nil {
		method = da.d.Method.Value
	}
	if da.d.Path != nil {
		path = da.d.Path.Value
	}
	if fn != nil {
		if fn.Method != "" {
			method = fn.Method
		}
		if fn.Path != "" {
			path = fn.Path
		}
	}
	funcName := ""
	if fn != nil {
		funcName = fn.Name
	}

	switch {
	case res.LoadBalanced() && method != "" && path != "":
		fmt.Fprintf(&b, "**Route:** `%s %s`", method, path)
		if funcName != "" {
			fmt.Fprintf(&b, " → `%s`", funcName)
		}
		b.WriteString("\n\n")
	case res.LoadBalanced():
		b.WriteString("**Route:** missing: load-balanced resources need `method=` and `path=`\n\n")
	default:
		fmt.Fprintf(&b, "**Queue job:** `POST /runsync` with `{\"input\": {\"function_name\": %q, ...}}`\n\n", funcName)
	}

	if fn == nil {
		return b.String()
	}
	if len(fn.Params) > 0 {
		b.WriteString("**Request:**\n\n| parameter | in | Go type |\n|---|---|---|\n")
		for _, p := range fn.Params {
			opt := ""
			if p.Optional {
				opt = " (optional)"
			}
			fmt.Fprintf(&b, "| `%s` | %s | `%s`%s |\n", p.Name, p.In, p.TypeString, opt)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("**Request:** no parameters\n\n")
	}
	if body := bodyParams(res, fn, method); len(body) > 0 {
		label := "JSON body"
		if !res.LoadBalanced() {
			label = "kwargs"
		}
		fmt.Fprintf(&b, "**%s:** `%s`\n\n", label, openapi.BodyShape(body))
	}
	if fn.Stream {
		fmt.Fprintf(&b, "**Response:** stream of `%s`", fn.ResultString)
		if fn.Result != nil {
			fmt.Fprintf(&b, " → `%s`", openapi.Shape(fn.Result))
		}
		if res.LoadBalanced() {
			b.WriteString(", one JSON value per line (`application/x-ndjson`; SSE with `Accept: text/event-stream`)")
		} else {
			b.WriteString(", values at `/stream/{id}`")
		}
		b.WriteString("\n\n")
	} else if fn.ResultString != "" {
		fmt.Fprintf(&b, "**Response:** `%s`", fn.ResultString)
		if fn.Result != nil {
			fmt.Fprintf(&b, " → `%s`", openapi.Shape(fn.Result))
		}
		b.WriteString("\n\n")
	} else if res.LoadBalanced() {
		b.WriteString("**Response:** 204, no body\n\n")
	}
	b.WriteString("**Example:**\n\n```sh\n")
	b.WriteString(exampleCurl(res, fn, method, path))
	b.WriteString("\n```\n")
	return b.String()
}

// bodyParams are the parameters of fn that a JSON object carries: the body
// of a POST, PUT or PATCH route, the kwargs of a queue job.
func bodyParams(res *model.Resource, fn *model.Function, method string) []*model.Param {
	if res.LoadBalanced() && (method == "" || model.QueryMethod(method)) {
		return nil
	}
	var out []*model.Param
	for _, p := range fn.Params {
		if p.Type != nil && (p.In == model.InBody || p.In == model.InArg) {
			out = append(out, p)
		}
	}
	return out
}

// exampleCurl is a request against `flash-lsp run` on its default port.
func exampleCurl(res *model.Resource, fn *model.Function, method, path string) string {
	if !res.LoadBalanced() {
		method, path = "", ""
	}
	return model.NewExample("http://localhost:8000", fn, method, path).CurlMultiline()
}
