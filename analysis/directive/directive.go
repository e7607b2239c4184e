// Package directive parses //flash:remote comments. It is the only parser of
// the directive in flash-lsp: the analyzers, hover and completion all read
// the Directive it returns, and every field keeps its own position so that a
// diagnostic can underline exactly the bad token.
package directive

import (
	"fmt"
	"go/token"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// Prefix starts every remote directive.
const Prefix = "//flash:remote"

// Keys are the keys a directive accepts, in canonical order.
var Keys = []string{"method", "path"}

// Field is one space-separated field of a directive. Positions are absolute
// (token.Pos); End is exclusive.
type Field struct {
	Key      string // "" for the resource field
	Value    string // the resource name, or the text after '='
	Pos      token.Pos
	End      token.Pos
	ValuePos token.Pos // start of Value
}

// Directive is a parsed //flash:remote comment.
type Directive struct {
	Pos, End token.Pos // the whole comment
	// Resource is the first field (Ident or pkg.Ident); nil when missing.
	Resource *Field
	// Method and Path are the method= and path= fields; nil when absent.
	Method *Field
	Path   *Field
	// Fields holds every field after the resource, in source order,
	// including malformed and unknown ones.
	Fields []Field
}

// Error is a problem found while parsing; Rule is rules.DirectiveSyntax or
// rules.UnknownKey.
type Error struct {
	Rule     string
	Pos, End token.Pos
	Message  string
	// Suggestion, for unknown-key, is the closest valid key; the fix replaces
	// [Pos, Pos+len(key)) with it.
	Suggestion string
}

// Kind classifies a comment.
type Kind int

const (
	// None is an ordinary comment.
	None Kind = iota
	// Remote is a //flash:remote directive.
	Remote
	// Unknown is a //flash: comment that is not //flash:remote
	// (//flash:remotes, //flash:remtoe): a directive-syntax error.
	Unknown
)

// Classify reports what kind of comment text is. text is the raw comment,
// including the leading //.
func Classify(text string) Kind {
	if !strings.HasPrefix(text, "//flash:") {
		return None
	}
	rest, ok := strings.CutPrefix(text, Prefix)
	if ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r') {
		return Remote
	}
	return Unknown
}

// Parse parses the raw text of a line comment that starts at pos. It returns
// nil when the comment is not a flash directive. For a //flash: comment that
// is not //flash:remote it returns a Directive with no fields and one error.
// Parse never panics, and every position it returns lies within the comment.
func Parse(text string, pos token.Pos) (*Directive, []Error) {
	kind := Classify(text)
	if kind == None {
		return nil, nil
	}
	d := &Directive{Pos: pos, End: pos + token.Pos(len(text))}
	if kind == Unknown {
		word := text[len("//"):]
		if i := strings.IndexFunc(word, unicode.IsSpace); i >= 0 {
			word = word[:i]
		}
		return d, []Error{{
			Rule:    rules.DirectiveSyntax,
			Pos:     pos,
			End:     pos + token.Pos(2+len(word)),
			Message: fmt.Sprintf("unknown directive //%s: did you mean //flash:remote?", word),
		}}
	}

	var errs []Error
	report := func(rule string, start, end int, format string, args ...any) {
		errs = append(errs, Error{
			Rule:    rule,
			Pos:     pos + token.Pos(start),
			End:     pos + token.Pos(end),
			Message: fmt.Sprintf(format, args...),
		})
	}

	first := true
	seen := map[string]bool{}
	for start, end := range fields(text, len(Prefix)) {
		raw := text[start:end]
		f := Field{Pos: pos + token.Pos(start), End: pos + token.Pos(end)}
		eq := strings.IndexByte(raw, '=')
		if first {
			first = false
			if eq < 0 {
				f.Value, f.ValuePos = raw, f.Pos
				if !isResourceRef(raw) {
					report(rules.DirectiveSyntax, start, end, "malformed resource %q: want Ident or pkg.Ident", raw)
				}
				d.Resource = &f
				continue
			}
			report(rules.DirectiveSyntax, start, end, "missing resource: the first field must name a resource variable")
		}
		if eq < 0 {
			f.Value, f.ValuePos = raw, f.Pos
			d.Fields = append(d.Fields, f)
			report(rules.DirectiveSyntax, start, end, "malformed field %q: want key=value", raw)
			continue
		}
		f.Key, f.Value = raw[:eq], raw[eq+1:]
		f.ValuePos = f.Pos + token.Pos(eq+1)
		d.Fields = append(d.Fields, f)
		switch {
		case f.Key == "":
			report(rules.DirectiveSyntax, start, end, "malformed field %q: missing key before '='", raw)
			continue
		case !validKey(f.Key):
			report(rules.DirectiveSyntax, start, end, "malformed field %q: key must be a word", raw)
			continue
		case f.Key != "method" && f.Key != "path":
			best := closest(f.Key)
			errs = append(errs, Error{
				Rule:       rules.UnknownKey,
				Pos:        f.Pos,
				End:        f.Pos + token.Pos(len(f.Key)),
				Message:    fmt.Sprintf("unknown key %q: did you mean %q?", f.Key, best),
				Suggestion: best,
			})
			continue
		case f.Value == "":
			report(rules.DirectiveSyntax, start, end, "empty value for %s", f.Key)
			continue
		case strings.ContainsAny(f.Value, "\"'`"):
			report(rules.DirectiveSyntax, start, end, "%s value must not contain quotes", f.Key)
			continue
		case seen[f.Key]:
			report(rules.DirectiveSyntax, start, end, "duplicate key %s", f.Key)
			continue
		}
		seen[f.Key] = true
		fc := f
		if f.Key == "method" {
			d.Method = &fc
		} else {
			d.Path = &fc
		}
	}
	if first {
		report(rules.DirectiveSyntax, 0, len(Prefix), "missing resource: want //flash:remote RESOURCE [method=METHOD] [path=PATH]")
	}
	return d, errs
}

// fields yields the [start, end) byte offsets of the space- or tab-separated
// fields of text from offset from.
func fields(text string, from int) func(yield func(int, int) bool) {
	return func(yield func(int, int) bool) {
		i := from
		for i < len(text) {
			for i < len(text) && isBlank(text[i]) {
				i++
			}
			if i >= len(text) {
				return
			}
			j := i
			for j < len(text) && !isBlank(text[j]) {
				j++
			}
			if !yield(i, j) {
				return
			}
			i = j
		}
	}
}

func isBlank(b byte) bool {
	return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '\v' || b == '\f'
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if r == utf8.RuneError {
			return false
		}
		if !(unicode.IsLetter(r) || r == '_' || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

func isResourceRef(s string) bool {
	pkg, name, ok := strings.Cut(s, ".")
	if !ok {
		return isIdent(s)
	}
	return isIdent(pkg) && isIdent(name)
}

func validKey(s string) bool {
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// closest returns the valid key nearest to key by edit distance (ties go to
// the first key).
func closest(key string) string {
	best, bestDist := Keys[0], -1
	for _, k := range Keys {
		if d := distance(strings.ToLower(key), k); bestDist < 0 || d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b, in bytes.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
