package project

import (
	"cmp"
	"errors"
	"go/scanner"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// A Finding is one diagnostic of a rule, positioned in absolute terms so
// that it outlives the FileSet of the analysis that produced it.
//
// Positions carry an absolute Filename, a 1-based Line, a 1-based byte
// Column and a 0-based byte Offset; End is exclusive and equals Pos when the
// finding has no extent.
type Finding struct {
	Rule     string // a rules id, or rules.Compile
	Severity rules.Severity
	Message  string
	Pos, End token.Position
	Related  []Related
	Fixes    []Fix
}

// Related is a secondary location of a finding, such as the other function
// of a route conflict.
type Related struct {
	Pos, End token.Position
	Message  string
}

// A Fix is a suggested change that resolves a finding.
type Fix struct {
	Message string
	Edits   []Edit
}

// An Edit replaces the bytes [Start.Offset, End.Offset) of Filename with
// NewText.
type Edit struct {
	Filename   string
	Start, End token.Position
	NewText    string
}

// Fails reports whether f fails a check: it is an error, or a warning when
// strict is set.
func (f *Finding) Fails(strict bool) bool {
	return f.Severity == rules.Error || strict
}

// SortFindings sorts findings by file, line, column and rule, then by
// message, so that output is deterministic.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, compareFindings)
}

func compareFindings(a, b Finding) int {
	return cmp.Or(
		cmp.Compare(a.Pos.Filename, b.Pos.Filename),
		cmp.Compare(a.Pos.Line, b.Pos.Line),
		cmp.Compare(a.Pos.Column, b.Pos.Column),
		cmp.Compare(a.Rule, b.Rule),
		cmp.Compare(a.Message, b.Message),
	)
}

// dedupe enforces "at most one finding per token": of the findings that
// start at the same place, only the one whose rule comes first in the rule
// table survives. Identical compile errors (reported by several variants of
// a package) collapse too. The result is sorted.
func dedupe(fs []Finding) []Finding {
	type key struct {
		file      string
		line, col int
	}
	best := make(map[key]int, len(fs))
	compileAt := make(map[key]bool)
	out := fs[:0:0]
	for _, f := range fs {
		k := key{f.Pos.Filename, f.Pos.Line, f.Pos.Column}
		if f.Rule == rules.Compile {
			// Compile errors are not about flash tokens, but the same error
			// often arrives twice (type checker and compiler, or two
			// variants of a package): keep the first at each position.
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
	SortFindings(out)
	return out
}

// position converts pos in fset to an absolute token.Position; the zero
// Position when pos is not valid.
func position(fset *token.FileSet, pos token.Pos) token.Position {
	if !pos.IsValid() {
		return token.Position{}
	}
	return fset.PositionFor(pos, false)
}

// fromDiagnostic converts an analysis diagnostic. The rule id travels in
// Category (analyzer names cannot contain dashes); a diagnostic without a
// known category is attributed to the analyzer that reported it.
func fromDiagnostic(fset *token.FileSet, a *analysis.Analyzer, d analysis.Diagnostic) Finding {
	rule := d.Category
	if !rules.Known(rule) {
		rule = a.Name
	}
	f := Finding{
		Rule:     rule,
		Severity: rules.SeverityOf(rule),
		Message:  d.Message,
		Pos:      position(fset, d.Pos),
		End:      position(fset, d.End),
	}
	if !f.End.IsValid() {
		f.End = f.Pos
	}
	for _, r := range d.Related {
		rel := Related{Pos: position(fset, r.Pos), End: position(fset, r.End), Message: r.Message}
		if !rel.End.IsValid() {
			rel.End = rel.Pos
		}
		f.Related = append(f.Related, rel)
	}
	for _, sf := range d.SuggestedFixes {
		fix := Fix{Message: sf.Message}
		for _, e := range sf.TextEdits {
			start := position(fset, e.Pos)
			end := position(fset, e.End)
			if !end.IsValid() {
				end = start
			}
			fix.Edits = append(fix.Edits, Edit{Filename: start.Filename, Start: start, End: end, NewText: string(e.NewText)})
		}
		f.Fixes = append(f.Fixes, fix)
	}
	return f
}

// CompileFindings converts the errors of parsing and type-checking a
// package (types.Error, scanner.Error, scanner.ErrorList) into findings of
// rule compile. Errors without a position are dropped: callers that have
// them (package loading) report them themselves.
func CompileFindings(fset *token.FileSet, errs []error) []Finding {
	var out []Finding
	for _, err := range errs {
		var (
			terr types.Error
			list scanner.ErrorList
			serr *scanner.Error
		)
		switch {
		case errors.As(err, &terr):
			pos := position(terr.Fset, terr.Pos)
			if !pos.IsValid() {
				continue
			}
			out = append(out, compileFinding(pos, terr.Msg))
		case errors.As(err, &list):
			for _, e := range list {
				out = append(out, compileFinding(e.Pos, e.Msg))
			}
		case errors.As(err, &serr):
			out = append(out, compileFinding(serr.Pos, serr.Msg))
		}
	}
	return out
}

func compileFinding(pos token.Position, msg string) Finding {
	// The go command's messages span lines ("...; to add it:\n\tgo get
	// ..."); a finding is one line.
	if strings.Contains(msg, "\n") {
		msg = strings.Join(strings.Fields(msg), " ")
	}
	return Finding{
		Rule:     rules.Compile,
		Severity: rules.Error,
		Message:  strings.TrimSpace(msg),
		Pos:      pos,
		End:      pos,
	}
}
