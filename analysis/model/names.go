package model

import (
	"strings"
	"unicode"
)

// KebabPath returns the route path flash-lsp suggests for a function: its
// name in kebab case with a leading slash. Words split at lower→upper and
// acronym→word boundaries and at underscores, so GetHTTPStatus becomes
// /get-http-status and ListV2Items /list-v2-items.
func KebabPath(funcName string) string {
	rs := []rune(funcName)
	var b strings.Builder
	b.WriteByte('/')
	dash := false // a separator is pending
	for i, r := range rs {
		if r == '_' || r == '-' {
			dash = true
			continue
		}
		if i > 0 && unicode.IsUpper(r) {
			prev := rs[i-1]
			switch {
			case unicode.IsLower(prev) || unicode.IsDigit(prev):
				dash = true
			case unicode.IsUpper(prev) && i+1 < len(rs) && unicode.IsLower(rs[i+1]):
				dash = true // the last capital of an acronym starts a word
			}
		}
		if dash && b.Len() > 1 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// Closest returns the candidate nearest to name by edit distance, ignoring
// case (ties go to the candidate that sorts first), or "" when there are no
// candidates. The analyzer's "did you mean" fixes and completion use it.
func Closest(name string, candidates []string) string {
	best, bestDist := "", -1
	lname := strings.ToLower(name)
	for _, c := range candidates {
		d := editDistance(lname, strings.ToLower(c))
		if bestDist < 0 || d < bestDist || d == bestDist && c < best {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
