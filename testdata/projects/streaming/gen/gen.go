// Package gen generates tokens, the way a language model streams its
// output: each function returns an iterator whose values reach the caller
// as they are produced.
package gen

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	_ "example.com/streaming/res"
)

// Token is one streamed piece of output.
type Token struct {
	I    int    `json:"i"`
	Text string `json:"text"`
}

// Generate streams n tokens of a completion of prompt.
//
//flash:remote res.API method=POST path=/generate
func Generate(ctx context.Context, prompt string, n int) iter.Seq2[Token, error] {
	return func(yield func(Token, error) bool) {
		for i := range n {
			if err := ctx.Err(); err != nil {
				yield(Token{}, err)
				return
			}
			if !yield(Token{I: i, Text: fmt.Sprintf("%s-%d", prompt, i)}, nil) {
				return
			}
		}
	}
}

// Count streams the numbers below n, pausing pauseMS milliseconds between
// them.
//
//flash:remote res.API method=GET path=/count
func Count(ctx context.Context, n int, pauseMS int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if i > 0 && pauseMS > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(time.Duration(pauseMS) * time.Millisecond):
				}
			}
			if !yield(i) {
				return
			}
		}
	}
}

// Failing streams at tokens, then fails.
//
//flash:remote res.API method=POST path=/failing
func Failing(at int) iter.Seq2[Token, error] {
	return func(yield func(Token, error) bool) {
		for i := range at {
			if !yield(Token{I: i, Text: "ok"}, nil) {
				return
			}
		}
		yield(Token{}, errors.New("the model ran out of tokens"))
	}
}
