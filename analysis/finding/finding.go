// Package finding is the one type every front end reports: a rule's
// diagnostic located by byte offsets in the bytes that were analysed. The
// per-package driver and the whole-module rules produce findings;
// `flash-lsp check` (package report) converts their offsets to 1-based
// line:col, the language server to UTF-16, each in one place at the edge.
package finding

import (
	"cmp"
	"errors"
	"go/scanner"
	"go/token"
	"go/types"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/tools/go/analysis"

	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// A Finding is one diagnostic of a rule. Start and End are byte offsets
// into the analysed contents of File (an absolute file name); End is
// exclusive and equals Start when the finding has no extent.
type Finding struct {
	Rule       string // a rules id, or rules.Compile
	Severity   rules.Severity
	Message    string
	File       string
	Start, End int
	Related    []Related
	Fixes      []Fix
}

// Related is a secondary location of a finding, such as the other function
// of a route conflict.
type Related struct {
	File       string
	Start, End int
	Message    string
}

// A Fix is a suggested change that resolves a finding: edits applied
// together.
type Fix struct {
	Message string
	Edits   []Edit
}

// An Edit replaces the bytes [Start, End) of File with NewText.
type Edit struct {
	File       string
	Start, End int
	NewText    string
}

// New returns a finding of rule, with the rule's severity, spanning
// [pos, end) (end may be invalid: no extent).
func New(rule string, pos, end token.Position, msg string) Finding {
	start, stop := Span(pos, end)
	return Finding{Rule: rule, Severity: rules.SeverityOf(rule), Message: msg, File: pos.Filename, Start: start, End: stop}
}

// NewRelated returns a related location spanning [pos, end).
func NewRelated(pos, end token.Position, msg string) Related {
	start, stop := Span(pos, end)
	return Related{File: pos.Filename, Start: start, End: stop, Message: msg}
}

// Span returns the byte offsets of [pos, end); end is pos's offset when
// end is not a valid position after pos in the same file.
func Span(pos, end token.Position) (start, stop int) {
	if !end.IsValid() || end.Filename != pos.Filename || end.Offset < pos.Offset {
		return pos.Offset, pos.Offset
	}
	return pos.Offset, end.Offset
}

// Fails reports whether f fails a check: it is an error, or a warning when
// strict is set.
func (f *Finding) Fails(strict bool) bool {
	return f.Severity == rules.Error || strict
}

// Sort sorts findings by file, offset and rule, then by message, so that
// output is deterministic (offset order is line:col order).
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, compare)
}

func compare(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.File, b.File),
		cmp.Compare(a.Start, b.Start),
		cmp.Compare(a.Rule, b.Rule),
		cmp.Compare(a.Message, b.Message),
	)
}

// Merge combines sets of findings, keeping at most one finding per token:
// of the findings that start at the same place, only the one whose rule
// comes first in the rule table survives. Compile errors are not about
// flash tokens and are kept beside them, but the same error often arrives
// twice (type checker and compiler, or two variants of a package): the
// first compile error at each place is kept. The result is sorted.
func Merge(sets ...[]Finding) []Finding {
	type key struct {
		file  string
		start int
	}
	n := 0
	for _, s := range sets {
		n += len(s)
	}
	best := make(map[key]int, n)
	compileAt := make(map[key]bool)
	out := make([]Finding, 0, n)
	for _, s := range sets {
		for _, f := range s {
			k := key{f.File, f.Start}
			if f.Rule == rules.Compile {
				if !compileAt[k] {
					compileAt[k] = true
					out = append(out, f)
				}
				continue
			}
			if i, ok := best[k]; ok {
				if rules.Precedence(f.Rule) < rules.Precedence(out[i].Rule) {
					out[i] = f
				}
				continue
			}
			best[k] = len(out)
			out = append(out, f)
		}
	}
	Sort(out)
	return out
}

// Position converts pos in fset to an absolute token.Position; the zero
// Position when pos is not valid.
func Position(fset *token.FileSet, pos token.Pos) token.Position {
	if !pos.IsValid() {
		return token.Position{}
	}
	return fset.PositionFor(pos, false)
}

// FromDiagnostic converts an analysis diagnostic of analyzer a. The rule
// id travels in Category (analyzer names cannot contain dashes); a
// diagnostic without a known category is attributed to the analyzer.
func FromDiagnostic(fset *token.FileSet, a *analysis.Analyzer, d analysis.Diagnostic) Finding {
	rule := d.Category
	if !rules.Known(rule) {
		rule = a.Name
	}
	f := New(rule, Position(fset, d.Pos), Position(fset, d.End), d.Message)
	for _, r := range d.Related {
		f.Related = append(f.Related, NewRelated(Position(fset, r.Pos), Position(fset, r.End), r.Message))
	}
	for _, sf := range d.SuggestedFixes {
		fix := Fix{Message: sf.Message}
		for _, e := range sf.TextEdits {
			start := Position(fset, e.Pos)
			s, end := Span(start, Position(fset, e.End))
			fix.Edits = append(fix.Edits, Edit{File: start.Filename, Start: s, End: end, NewText: string(e.NewText)})
		}
		f.Fixes = append(f.Fixes, fix)
	}
	return f
}

// Compile converts the errors of parsing and type-checking a package
// (types.Error, scanner.Error, scanner.ErrorList) into findings of rule
// compile. Errors without a position are dropped: callers that have them
// (package loading) report them themselves.
func Compile(fset *token.FileSet, errs []error) []Finding {
	var out []Finding
	for _, err := range errs {
		var (
			terr types.Error
			list scanner.ErrorList
			serr *scanner.Error
			sval scanner.Error
		)
		switch {
		case errors.As(err, &terr):
			if pos := Position(terr.Fset, terr.Pos); pos.IsValid() {
				out = append(out, CompileAt(pos, terr.Msg))
			}
		case errors.As(err, &list):
			for _, e := range list {
				out = append(out, CompileAt(e.Pos, e.Msg))
			}
		case errors.As(err, &serr):
			out = append(out, CompileAt(serr.Pos, serr.Msg))
		case errors.As(err, &sval):
			out = append(out, CompileAt(sval.Pos, sval.Msg))
		}
	}
	return out
}

// CompileAt returns a compile finding at pos. The go command's messages
// span lines ("...; to add it:\n\tgo get ..."); a finding is one line.
func CompileAt(pos token.Position, msg string) Finding {
	if strings.Contains(msg, "\n") {
		msg = strings.Join(strings.Fields(msg), " ")
	}
	return Finding{
		Rule:     rules.Compile,
		Severity: rules.Error,
		Message:  strings.TrimSpace(msg),
		File:     pos.Filename,
		Start:    pos.Offset,
		End:      pos.Offset,
	}
}

// Widen gives a finding without extent the extent of the word it starts
// (or of one character), in content, the bytes of its file, so that an
// editor and a SARIF viewer underline the same thing.
func Widen(f *Finding, content []byte) {
	if f.End > f.Start || f.Start < 0 || f.Start >= len(content) {
		return
	}
	end := f.Start
	for end < len(content) {
		r, size := utf8.DecodeRune(content[end:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
			break
		}
		end += size
	}
	if end == f.Start && content[end] != '\n' {
		_, size := utf8.DecodeRune(content[end:])
		end += size
	}
	f.End = end
}
