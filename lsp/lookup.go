package lsp

import (
	"context"
	"go/token"
	"os"
	"strconv"
	"strings"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/analysis/directive"
	"github.com/flash-lsp/flash-lsp/analysis/engine"
	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// docContext is what a request about one position of a file sees.
type docContext struct {
	filename string
	uri      protocol.DocumentURI
	text     []byte  // the current text: the open buffer, or the disk
	m        *mapper // of text
	off      int     // the position, as a byte offset into text
	ms       *moduleState
	snap     *engine.Snapshot // nil when the module never loaded
}

// snapshotWait bounds how long a request waits for the analysis of the
// newest text before answering from an older snapshot.
const snapshotWait = 3 * time.Second

func (s *Server) docAt(ctx context.Context, uri protocol.DocumentURI, pos protocol.Position) (*docContext, error) {
	filename, err := uriToPath(uri)
	if err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	dc := &docContext{filename: filename, uri: uri}
	if doc, ok := s.document(filename); ok {
		dc.text = doc.text
	} else if dc.text, err = os.ReadFile(filename); err != nil {
		return nil, jsonrpc2.Errorf(jsonrpc2.InvalidParams, "reading %s: %v", filename, err)
	}
	dc.m = newMapper(dc.text)
	if dc.off, err = dc.m.offset(pos); err != nil {
		return nil, jsonrpc2.NewError(jsonrpc2.InvalidParams, err.Error())
	}
	if strings.HasSuffix(filename, ".go") && !model.UnderFlashDir(filename) {
		dc.ms = s.moduleFor(filename, true)
	}
	if dc.ms != nil {
		release(ctx) // waiting must not hold up the messages behind us
		dc.snap = dc.ms.current(ctx, filename, snapshotWait)
	}
	return dc, nil
}

// directiveAt is a //flash:remote directive found on the line of an offset.
type directiveAt struct {
	d     *directive.Directive
	start int    // byte offset of the comment's "//" in the text
	text  string // the comment, from "//" to the end of the line
}

// findDirective parses the directive on the line holding off, with the one
// directive parser. Field positions are token.Pos values equal to byte
// offset + 1 (see offsetOf).
func findDirective(m *mapper, off int) *directiveAt {
	line, lineStart := m.lineText(off)
	trimmed := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(trimmed, "//flash:") {
		return nil
	}
	start := lineStart + len(line) - len(trimmed)
	d, _ := directive.Parse(trimmed, token.Pos(start+1))
	if d == nil {
		return nil
	}
	return &directiveAt{d: d, start: start, text: trimmed}
}

// offsetOf converts a directive position back to a byte offset.
func offsetOf(p token.Pos) int { return int(p) - 1 }

// fieldAt returns the directive field that contains off (its end counts:
// the cursor just after a token is on it).
func (da *directiveAt) fieldAt(off int) *directive.Field {
	if f := da.d.Resource; f != nil && offsetOf(f.Pos) <= off && off <= offsetOf(f.End) {
		return f
	}
	for i := range da.d.Fields {
		f := &da.d.Fields[i]
		if offsetOf(f.Pos) <= off && off <= offsetOf(f.End) {
			return f
		}
	}
	return nil
}

// functionAt returns the remote function whose directive is on the given
// 1-based line of filename, from the snapshot's joined models.
func functionAt(snap *engine.Snapshot, filename string, line int) *model.Function {
	if snap == nil {
		return nil
	}
	for _, p := range snap.Models {
		for _, f := range p.Functions {
			if f.DirectivePos.Filename == filename && f.DirectivePos.Line == line {
				return f
			}
		}
	}
	return nil
}

// funcNameAfter returns the name of the function declared on the first
// non-comment line after off ("" when there is none): what `path=` is
// completed from before the analysis has caught up with the buffer.
func funcNameAfter(m *mapper, off int) string {
	line, start := m.lineText(off)
	next := start + len(line) + 1
	for next < len(m.content) {
		text, s := m.lineText(next)
		t := strings.TrimSpace(text)
		if t != "" && !strings.HasPrefix(t, "//") {
			rest, ok := strings.CutPrefix(t, "func ")
			if !ok || strings.HasPrefix(rest, "(") {
				return ""
			}
			end := strings.IndexAny(rest, "([ ")
			if end < 0 {
				return ""
			}
			return rest[:end]
		}
		next = s + len(text) + 1
	}
	return ""
}

// resolveResource finds the resource a directive's resource field names,
// as seen from filename, with the model's resolver.
func resolveResource(snap *engine.Snapshot, filename, ref string) *model.Resource {
	if snap == nil {
		return nil
	}
	pkg := snap.PackageOf(filename)
	if pkg == nil {
		return nil
	}
	return model.Resolve(snap.Models, pkg.Path, ref, func(name string) string { return importedAs(snap, filename, name) })
}

// importedAs returns the path of the package filename imports under name
// (model.ImportName); "" when there is none.
func importedAs(snap *engine.Snapshot, filename, name string) string {
	f := snap.Files[filename]
	if f == nil || f.AST == nil {
		return ""
	}
	for _, spec := range f.AST.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err == nil && model.ImportName(spec, packageName(snap, path)) == name {
			return path
		}
	}
	return ""
}

// packageName returns the name of the package at path, from the
// workspace or the type checker's view of the import.
func packageName(snap *engine.Snapshot, path string) string {
	if p := snap.Packages[path]; p != nil {
		return p.Name
	}
	for _, p := range snap.Packages {
		if p.Types == nil {
			continue
		}
		for _, imp := range p.Types.Imports() {
			if imp.Path() == path {
				return imp.Name()
			}
		}
	}
	i := strings.LastIndexByte(path, '/')
	return path[i+1:]
}

// locationOf returns the LSP location of a model position covering n bytes.
func (s *Server) locationOf(snap *engine.Snapshot, pos token.Position, n int) (protocol.Location, bool) {
	if pos.Filename == "" {
		return protocol.Location{}, false
	}
	var m *mapper
	if f := snap.Files[pos.Filename]; f != nil {
		m = newMapper(f.Content)
	} else if data, err := os.ReadFile(pos.Filename); err == nil {
		m = newMapper(data)
	} else {
		return protocol.Location{}, false
	}
	return protocol.Location{URI: pathToURI(pos.Filename), Range: m.rng(pos.Offset, pos.Offset+n)}, true
}
