package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"runtime/debug"
)

// A Stream is the result of a streaming remote function (SPEC section 18),
// as a generated handler's Call returns it: the function's iter.Seq2[T,
// error] or iter.Seq[T] with its values boxed. Create one with StreamOf or
// StreamOfSeq.
//
// A load-balanced route answers a Stream with one JSON value per line
// (application/x-ndjson), or Server-Sent Events when the request accepts
// text/event-stream, flushing after each value; a queue job posts each
// value to RunPod's stream webhook (or keeps it for the local API's
// /stream/{id}) and its result aggregates them: [v1, v2, ...]. An error
// ends the stream.
type Stream struct {
	seq iter.Seq2[any, error]
}

// StreamOf returns the Stream of a function's iter.Seq2[T, error]. A nil
// seq is an empty stream.
func StreamOf[T any](seq iter.Seq2[T, error]) *Stream {
	return &Stream{seq: func(yield func(any, error) bool) {
		if seq == nil {
			return
		}
		for v, err := range seq {
			if !yield(v, err) || err != nil {
				return
			}
		}
	}}
}

// StreamOfSeq returns the Stream of a function's iter.Seq[T]. A nil seq is
// an empty stream.
func StreamOfSeq[T any](seq iter.Seq[T]) *Stream {
	return &Stream{seq: func(yield func(any, error) bool) {
		if seq == nil {
			return
		}
		for v := range seq {
			if !yield(v, nil) {
				return
			}
		}
	}}
}

// each calls f with the JSON of each value of s followed by a newline (an
// NDJSON line, valid during the call only), in order, until the stream
// ends, a value carries an error, or f returns false. A panic in the
// user's iterator is returned as a *panicError, an unencodable value as an
// error naming fn; n is the number of values passed to f.
func (s *Stream) each(fn *Function, f func(json.RawMessage) bool) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			err = &panicError{value: p, stack: string(debug.Stack())}
		}
	}()
	if s == nil || s.seq == nil {
		return 0, nil
	}
	buf := getBuf()
	defer putBuf(buf)
	enc := json.NewEncoder(buf)
	for v, verr := range s.seq {
		if verr != nil {
			return n, verr
		}
		buf.Reset()
		if e := enc.Encode(v); e != nil {
			return n, fmt.Errorf("encoding value %d of %s: %w", n+1, fn.Name, e)
		}
		if !f(buf.Bytes()) { // Encode ends the value with a newline
			return n, nil
		}
		n++
	}
	return n, nil
}

// collect runs a Stream for /execute and queue jobs: each value goes to the
// job's hooks (the worker posts it, the local API keeps it for
// /stream/{id}) as it is produced, and the result is the array of all
// values. An error ends the stream and fails the job.
func collect(ctx context.Context, fn *Function, s *Stream) result {
	hooks := jobHooksOf(ctx)
	if hooks != nil {
		hooks.streamed.Store(true)
	}
	out := []byte{'['}
	_, err := s.each(fn, func(v json.RawMessage) bool {
		if len(out) > 1 {
			out = append(out, ',')
		}
		v = v[:len(v)-1] // the newline
		out = append(out, v...)
		if hooks != nil && hooks.value != nil {
			hooks.value(v)
		}
		return true
	})
	if err != nil {
		return failure(err)
	}
	return result{Success: true, Result: append(out, ']')}
}

// Progress reports the progress of the queue job that ctx belongs to, as
// runpod-python's progress_update does: while the job runs, its status
// shows IN_PROGRESS with v as its output (GET /status/{id} of the local
// API; the job-done webhook on RunPod). v must encode as JSON; a value that
// does not is dropped. On a load-balanced route, and outside a job,
// Progress does nothing.
func Progress(ctx context.Context, v any) {
	if ctx == nil {
		return
	}
	hooks := jobHooksOf(ctx)
	if hooks == nil || hooks.progress == nil {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	hooks.progress(data)
}
