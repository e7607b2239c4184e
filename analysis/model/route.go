package model

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"
)

// Methods are the HTTP methods a load-balanced route may use, in the order
// messages list them. They are case-sensitive.
var Methods = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}

// ValidMethod reports whether m is one of Methods.
func ValidMethod(m string) bool { return slices.Contains(Methods, m) }

// QueryMethod reports whether the parameters of a route with method m that
// are not path variables come from the query string (GET and DELETE) rather
// than from a JSON body.
func QueryMethod(m string) bool { return m == "GET" || m == "DELETE" }

// ReservedPaths are served by every load-balanced handler itself.
var ReservedPaths = []string{"/execute", "/manifest", "/openapi.json", "/ping"}

// Reserved reports whether path is one of ReservedPaths.
func Reserved(path string) bool { return slices.Contains(ReservedPaths, path) }

// PathVar is one {name} or {name:pattern} variable of a route path. Start
// and End are the byte offsets of its braces in the path (End exclusive).
type PathVar struct {
	Name    string
	Pattern string // "" when the variable has no pattern of its own
	Start   int
	End     int
}

// ParsePath checks a route path template the way the load-balancer router
// (gorilla/mux) reads it, plus the rules mux does not enforce: a path starts
// with '/', holds no '?', '#', "//" or white space, has no trailing '/'
// (except "/" itself), no "." or ".." segment, no '%' that does not start
// an escape, and outside variables no character that a request's escaped
// path would carry percent-encoded (non-ASCII text, '"', '<', '|', ...),
// since the router matches the escaped path. It returns the path's variables in order. Duplicate
// variable names are not an error here (mux accepts them); callers report
// them.
func ParsePath(path string) ([]PathVar, error) {
	vars, _, err := parsePath(path)
	return vars, err
}

// ParseRoute is ParsePath and RouteKey in one step, for callers that need
// both: it runs mux's parser once.
func ParseRoute(method, path string) (vars []PathVar, key string, err error) {
	vars, re, err := parsePath(path)
	if err != nil {
		return vars, "", err
	}
	return vars, method + " " + re, nil
}

// parsePath checks path and returns its variables and mux's regexp for it.
func parsePath(path string) ([]PathVar, string, error) {
	vars, err := pathVars(path)
	if err != nil {
		return nil, "", err
	}
	if err := checkLiteral(path, vars); err != nil {
		return vars, "", err
	}
	re, err := muxRegexp(path)
	if err != nil {
		return vars, "", err
	}
	return vars, re, nil
}

// checkLiteral applies the rules mux does not enforce.
func checkLiteral(path string, vars []PathVar) error {
	if !strings.HasPrefix(path, "/") {
		return errors.New("must start with /")
	}
	if len(path) > 1 && strings.HasSuffix(path, "/") {
		return errors.New("must not end with /")
	}
	// The remaining rules apply to the literal text only: a variable's
	// pattern is a regexp and may hold '?', '.' or '%'.
	var lit strings.Builder
	last := 0
	for _, v := range vars {
		lit.WriteString(path[last:v.Start])
		lit.WriteString("{}") // stands for any non-empty segment text
		last = v.End
	}
	lit.WriteString(path[last:])
	text := lit.String()
	for i, r := range text {
		switch {
		case r == '?' || r == '#':
			return fmt.Errorf("must not contain %q", r)
		case unicode.IsSpace(r):
			return errors.New("must not contain white space")
		case r == '%':
			if i+2 >= len(text) || !isHex(text[i+1]) || !isHex(text[i+2]) {
				return errors.New("stray % (an escape is %XX)")
			}
		case r == '{' || r == '}':
			// a variable's placeholder
		case r >= utf8.RuneSelf || !pathChar(byte(r)):
			// The router matches the escaped path, where r is
			// percent-encoded: a literal r can never match.
			return fmt.Errorf("%q can never match: requests carry it percent-encoded as %s", r, escapeRune(r))
		}
	}
	if strings.Contains(text, "//") {
		return errors.New("must not contain //")
	}
	for seg := range strings.SplitSeq(text[1:], "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("segment %q can never match", seg)
		}
	}
	return nil
}

// pathVars finds the variables of path, matching braces as mux does.
func pathVars(path string) ([]PathVar, error) {
	var vars []PathVar
	level, start := 0, 0
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '{':
			if level++; level == 1 {
				start = i
			}
		case '}':
			if level--; level == 0 {
				inner := path[start+1 : i]
				name, pattern, _ := strings.Cut(inner, ":")
				if name == "" {
					return nil, fmt.Errorf("variable %q has no name", path[start:i+1])
				}
				if strings.Contains(inner, ":") && pattern == "" {
					return nil, fmt.Errorf("variable %q has an empty pattern", path[start:i+1])
				}
				vars = append(vars, PathVar{Name: name, Pattern: pattern, Start: start, End: i + 1})
			} else if level < 0 {
				return nil, errors.New("unbalanced braces")
			}
		}
	}
	if level != 0 {
		return nil, errors.New("unbalanced braces")
	}
	return vars, nil
}

// pathChar reports whether c may appear unescaped in the escaped path of a
// request (net/url's EscapedPath): unreserved characters, sub-delimiters,
// ':', '@', '[', ']' and '/'.
func pathChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$&'()*+,;=:@[]/", c) >= 0
}

func escapeRune(r rune) string {
	var b strings.Builder
	for _, c := range []byte(string(r)) {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// RepairPath returns path with the mistakes that have one obvious repair
// repaired: a missing leading '/' added, trailing '/' dropped, and literal
// characters that requests carry percent-encoded (outside variables)
// percent-encoded. The result still needs ParsePath.
func RepairPath(path string) string {
	vars, err := pathVars(path)
	if err != nil {
		vars = nil
	}
	var b strings.Builder
	last := 0
	literal := func(s string) {
		for _, r := range s {
			switch {
			case r == '%' || r == '?' || r == '#' || r == '{' || r == '}' || unicode.IsSpace(r):
				b.WriteRune(r) // no obvious repair
			case r >= utf8.RuneSelf || !pathChar(byte(r)):
				b.WriteString(escapeRune(r))
			default:
				b.WriteRune(r)
			}
		}
	}
	for _, v := range vars {
		literal(path[last:v.Start])
		b.WriteString(path[v.Start:v.End])
		last = v.End
	}
	literal(path[last:])
	fixed := b.String()
	if !strings.HasPrefix(fixed, "/") {
		fixed = "/" + fixed
	}
	if trimmed := strings.TrimRight(fixed, "/"); trimmed != "" {
		fixed = trimmed
	} else {
		fixed = "/"
	}
	return fixed
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// muxRegexp hands path to mux's own template parser and returns the
// regexp mux matches it with. mux panics on some templates (capturing
// groups in a variable's pattern): that is an error like any other.
func muxRegexp(path string) (re string, err error) {
	if strings.HasPrefix(path, "/") && !strings.ContainsAny(path, "{}") && utf8.ValidString(path) {
		// Without variables mux quotes the template, which cannot fail:
		// skip building a router (a tenth of a millisecond) per route.
		return literalRegexp(path), nil
	}
	return routerRegexp(path)
}

// literalRegexp is the regexp mux builds for a template without variables.
func literalRegexp(path string) string { return "^" + regexp.QuoteMeta(path) + "$" }

func routerRegexp(path string) (re string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("rejected by the router: %v", r)
		}
	}()
	route := mux.NewRouter().NewRoute().Path(path)
	if err := route.GetError(); err != nil {
		return "", fmt.Errorf("rejected by the router: %w", err)
	}
	return route.GetPathRegexp()
}

// RouteKey returns a key equal for two routes exactly when they have the
// same method and the router matches their paths alike: the paths give the
// same mux regexp, so variable names do not count (/items/{id} and
// /items/{key:[^/]+} are one route) but patterns do. It fails for a path
// that ParsePath rejects.
func RouteKey(method, path string) (string, error) {
	_, key, err := ParseRoute(method, path)
	return key, err
}
