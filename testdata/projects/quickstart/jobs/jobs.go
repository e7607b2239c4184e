// Package jobs holds the queue functions: they take the /runsync envelope
// {"function_name", "args", "kwargs"} rather than HTTP routes.
package jobs

import (
	"context"
	"slices"
	"strings"

	_ "example.com/quickstart/res"
)

// Counts is the result of WordCount.
type Counts struct {
	Words      int            `json:"words"`
	Characters int            `json:"characters"`
	Top        []string       `json:"top"`
	ByWord     map[string]int `json:"by_word"`
}

// WordCount counts the words of text, case-insensitively, and lists the
// most frequent ones (at most top, default 3).
//
//flash:remote res.Jobs
func WordCount(ctx context.Context, text string, top *int) (Counts, error) {
	c := Counts{ByWord: map[string]int{}, Characters: len([]rune(text))}
	for _, w := range strings.Fields(strings.ToLower(text)) {
		w = strings.Trim(w, ".,;:!?\"'()")
		if w == "" {
			continue
		}
		c.Words++
		c.ByWord[w]++
	}
	for w := range c.ByWord {
		c.Top = append(c.Top, w)
	}
	slices.SortFunc(c.Top, func(a, b string) int {
		if d := c.ByWord[b] - c.ByWord[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	n := 3
	if top != nil {
		n = max(*top, 0)
	}
	c.Top = c.Top[:min(n, len(c.Top))]
	return c, ctx.Err()
}

// Reverse returns text with its runes in reverse order.
//
//flash:remote res.Jobs
func Reverse(text string) string {
	r := []rune(text)
	slices.Reverse(r)
	return string(r)
}
