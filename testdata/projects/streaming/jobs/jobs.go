// Package jobs renders frames on a queue endpoint: a streaming job, and a
// long one that reports its progress.
package jobs

import (
	"context"
	"iter"
	"time"

	"github.com/flash-lsp/flash-lsp/runtime"

	_ "example.com/streaming/res"
)

// Frame is one rendered frame.
type Frame struct {
	N     int    `json:"n"`
	Label string `json:"label"`
}

// Frames renders n frames, pausing pauseMS milliseconds between them.
//
//flash:remote res.Jobs
func Frames(ctx context.Context, n int, pauseMS int) iter.Seq2[Frame, error] {
	return func(yield func(Frame, error) bool) {
		for i := range n {
			if i > 0 && pauseMS > 0 {
				select {
				case <-ctx.Done():
					yield(Frame{}, ctx.Err())
					return
				case <-time.After(time.Duration(pauseMS) * time.Millisecond):
				}
			}
			if !yield(Frame{N: i, Label: "frame"}, nil) {
				return
			}
		}
	}
}

// Render reports its progress as {"done": i, "of": steps}, one step
// every stepMS milliseconds, and returns how many steps it took.
//
//flash:remote res.Jobs
func Render(ctx context.Context, steps int, stepMS int) (int, error) {
	for i := range steps {
		runtime.Progress(ctx, map[string]int{"done": i, "of": steps})
		select {
		case <-ctx.Done():
			return i, ctx.Err()
		case <-time.After(time.Duration(stepMS) * time.Millisecond):
		}
	}
	return steps, nil
}
