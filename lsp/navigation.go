package lsp

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// definition jumps from a directive's resource token to the resource
// variable's declaration, and from a call of a generated client's method
// to the remote function it calls.
func (s *Server) definition(ctx context.Context, raw json.RawMessage) (any, error) {
	var params protocol.DefinitionParams
	if err := decode(raw, &params); err != nil {
		return nil, err
	}
	none := []protocol.Location{}
	dc, err := s.docAt(ctx, params.TextDocument.URI, params.Position)
	if err != nil {
		return nil, err
	}
	da := findDirective(dc.m, dc.off)
	if da == nil {
		return s.clientDefinition(dc), nil
	}
	if da.d.Resource == nil || dc.snap == nil {
		return none, nil
	}
	f := da.fieldAt(dc.off)
	if f != da.d.Resource {
		return none, nil
	}
	res := resolveResource(dc.snap, dc.filename, f.Value)
	if res == nil {
		line := int(dc.m.position(da.start).Line) + 1
		if fn := functionAt(dc.snap, dc.filename, line); fn != nil {
			res = fn.Resource
		}
	}
	if res == nil {
		return none, nil
	}
	loc, ok := s.locationOf(dc.snap, res.Pos, len(res.Var))
	if !ok {
		return none, nil
	}
	return []protocol.Location{loc}, nil
}

// symbol finds routes by "METHOD /path" text in every loaded module.
func (s *Server) symbol(ctx context.Context, raw json.RawMessage) (any, error) {
	var params protocol.WorkspaceSymbolParams
	if err := decode(raw, &params); err != nil {
		return nil, err
	}
	release(ctx)
	query := strings.ToLower(strings.Join(strings.Fields(params.Query), " "))
	out := []protocol.SymbolInformation{}
	for _, ms := range s.modulesSorted() {
		snap, err := ms.snapshot(ctx)
		if err != nil {
			return nil, err
		}
		if snap == nil {
			continue
		}
		for _, p := range snap.Models {
			for _, fn := range p.Functions {
				if fn.Resource == nil || !fn.Resource.LoadBalanced() || !model.ValidMethod(fn.Method) || fn.Path == "" {
					continue
				}
				name := fn.Method + " " + fn.Path
				if !matchRoute(query, strings.ToLower(name)) {
					continue
				}
				loc, ok := s.locationOf(snap, fn.Pos, len(fn.Name))
				if !ok {
					continue
				}
				out = append(out, protocol.SymbolInformation{
					Name:          name,
					Kind:          protocol.SymbolKindFunction,
					Location:      loc,
					ContainerName: fn.Resource.Name + " · " + fn.Qualified,
				})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// matchRoute reports whether the route text matches the query: a substring,
// or the query's characters in order (fuzzy, as editors filter).
func matchRoute(query, route string) bool {
	if query == "" || strings.Contains(route, query) {
		return true
	}
	i := 0
	for _, c := range route {
		if i < len(query) && rune(query[i]) == c {
			i++
		}
	}
	return i == len(query)
}
