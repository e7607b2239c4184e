package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/analysis/directive"
	"github.com/flash-lsp/flash-lsp/analysis/engine"
	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// completion completes inside a //flash:remote directive: resource
// variables in scope for the first field, then method= and path=, the five
// methods after method=, and the function's /kebab-name after path=.
func (s *Server) completion(ctx context.Context, raw json.RawMessage) (any, error) {
	var params protocol.CompletionParams
	if err := decode(raw, &params); err != nil {
		return nil, err
	}
	empty := &protocol.CompletionList{Items: []protocol.CompletionItem{}}
	dc, err := s.docAt(ctx, params.TextDocument.URI, params.Position)
	if err != nil {
		return nil, err
	}
	da := findDirective(dc.m, dc.off)
	if da == nil || directive.Classify(da.text) != directive.Remote {
		return empty, nil
	}
	// The cursor must be past "//flash:remote" and a blank.
	rel := dc.off - da.start
	if rel <= len("//flash:remote") || rel > len(da.text) {
		return empty, nil
	}
	before := da.text[:rel]
	// The word being typed: from the last blank before the cursor.
	wordStart := strings.LastIndexAny(before, " \t") + 1
	if wordStart <= len("//flash:remote") {
		return empty, nil
	}
	word := before[wordStart:]
	wordEnd := rel
	for wordEnd < len(da.text) && da.text[wordEnd] != ' ' && da.text[wordEnd] != '\t' {
		wordEnd++
	}
	replace := dc.m.rng(da.start+wordStart, da.start+wordEnd)
	firstField := strings.TrimSpace(da.text[len("//flash:remote"):wordStart]) == ""

	var items []protocol.CompletionItem
	item := func(label, detail, text string, kind protocol.CompletionItemKind, r protocol.Range) {
		items = append(items, protocol.CompletionItem{
			Label:      label,
			Detail:     detail,
			Kind:       kind,
			FilterText: text,
			SortText:   fmt.Sprintf("%04d", len(items)),
			TextEdit:   &protocol.TextEdit{Range: r, NewText: text},
		})
	}

	switch {
	case firstField && !strings.Contains(word, "="):
		for _, c := range resourcesInScope(dc.snap, dc.filename) {
			item(c.label, c.detail, c.label, protocol.CompletionItemKindVariable, replace)
		}
	case strings.HasPrefix(word, "method="):
		valueRange := dc.m.rng(da.start+wordStart+len("method="), da.start+wordEnd)
		for _, m := range model.Methods {
			item(m, "HTTP method", m, protocol.CompletionItemKindEnumMember, valueRange)
		}
	case strings.HasPrefix(word, "path="):
		valueRange := dc.m.rng(da.start+wordStart+len("path="), da.start+wordEnd)
		name := ""
		line := int(dc.m.position(da.start).Line) + 1
		if fn := functionAt(dc.snap, dc.filename, line); fn != nil {
			name = fn.Name
		} else {
			name = funcNameAfter(dc.m, da.start)
		}
		if name != "" {
			p := model.KebabPath(name)
			item(p, "route path from "+name, p, protocol.CompletionItemKindValue, valueRange)
		}
	case !strings.Contains(word, "="):
		if da.d.Method == nil {
			item("method=", "HTTP method of the route", "method=", protocol.CompletionItemKindProperty, replace)
		}
		if da.d.Path == nil {
			item("path=", "route path", "path=", protocol.CompletionItemKindProperty, replace)
		}
	}
	if items == nil {
		return empty, nil
	}
	return &protocol.CompletionList{Items: items}, nil
}

type resourceCandidate struct{ label, detail string }

// resourcesInScope lists the resource variables a directive in filename
// may name: the package's own, then pkg.Var for each imported workspace
// package's exported resources.
func resourcesInScope(snap *engine.Snapshot, filename string) []resourceCandidate {
	if snap == nil {
		return nil
	}
	pkg := snap.PackageOf(filename)
	if pkg == nil {
		return nil
	}
	byPath := map[string]*model.Package{}
	for _, p := range snap.Models {
		byPath[p.Path] = p
	}
	detail := func(r *model.Resource) string {
		return fmt.Sprintf("runtime.%s %q", r.Type, r.Name)
	}
	var out []resourceCandidate
	if own := byPath[pkg.Path]; own != nil {
		for _, r := range own.Resources {
			out = append(out, resourceCandidate{r.Var, detail(r)})
		}
	}
	f := snap.Files[filename]
	if f == nil || f.AST == nil {
		return out
	}
	var imported []resourceCandidate
	for _, spec := range f.AST.Imports {
		path := strings.Trim(spec.Path.Value, "\"`")
		p := byPath[path]
		if p == nil {
			continue
		}
		name := p.Name
		if spec.Name != nil && spec.Name.Name != "_" && spec.Name.Name != "." {
			name = spec.Name.Name
		}
		for _, r := range p.Resources {
			if r.Var != "" && r.Var[0] >= 'A' && r.Var[0] <= 'Z' {
				imported = append(imported, resourceCandidate{name + "." + r.Var, detail(r)})
			}
		}
	}
	sort.Slice(imported, func(i, j int) bool { return imported[i].label < imported[j].label })
	return append(out, imported...)
}
