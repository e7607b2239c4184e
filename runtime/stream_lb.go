package runtime

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// Content types of a streamed answer (SPEC section 18).
const (
	ndjsonType      = "application/x-ndjson"
	eventStreamType = "text/event-stream"
)

// acceptsEventStream reports whether a request asks for Server-Sent Events.
func acceptsEventStream(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		if strings.Contains(v, eventStreamType) {
			return true
		}
	}
	return false
}

// serveStream answers a route whose function returned a Stream: 200 with
// one JSON value per line (NDJSON), or one "data:" event per value when
// the request accepts text/event-stream, flushed after each value. An
// error after the first value ends the answer with a last line
// {"error": "..."} (SSE: an "error" event with that data). When the client
// goes away the iteration stops, and the function's context (the
// request's) is cancelled as the handler returns. A stream whose function
// the drain cancelled ends with {"error": "shutting down"}.
//
// An error (or panic) before the first value is returned, and nothing is
// written: the caller answers it as it answers any returned error.
func (s *LoadBalancerServer) serveStream(w http.ResponseWriter, r *http.Request, fn *Function, st *Stream) error {
	sse := acceptsEventStream(r)
	rc := http.NewResponseController(w)
	started := false
	begin := func() {
		h := w.Header()
		if sse {
			h["Content-Type"] = []string{eventStreamType}
			h["Cache-Control"] = []string{"no-cache"}
		} else {
			h["Content-Type"] = []string{ndjsonType}
		}
		w.WriteHeader(http.StatusOK)
		started = true
	}
	line := getBuf()
	defer putBuf(line)
	var writeErr error
	n, err := st.each(fn, func(v json.RawMessage) bool {
		if !started {
			begin()
		}
		out := []byte(v) // an NDJSON line as it is
		if sse {
			line.Reset()
			line.WriteString("data: ")
			line.Write(v)
			line.WriteByte('\n')
			out = line.Bytes()
		}
		if _, writeErr = w.Write(out); writeErr == nil {
			// A writer that cannot flush (an in-process call) gets
			// the stream whole.
			if writeErr = rc.Flush(); errors.Is(writeErr, http.ErrNotSupported) {
				writeErr = nil
			}
		}
		return writeErr == nil
	})
	if rec, ok := w.(*recorder); ok {
		rec.streamed, rec.items = true, n
	}
	switch {
	case err != nil && !started:
		return err
	case !started:
		// No values: an empty stream is still a stream.
		begin()
		_ = rc.Flush()
		return nil
	case writeErr != nil:
		s.logger().DebugContext(r.Context(), "stream client went away",
			slog.String("function", fn.Name), slog.Int("items", n), slog.String("error", writeErr.Error()))
		return nil
	case s.state.Load() == stateDraining && r.Context().Err() != nil:
		// The drain cancelled the function, which may just have
		// stopped: the client must not take the stream for complete.
		err = errShuttingDown
	case err == nil:
		return nil
	}

	// The last line says what an error answer would (SPEC 15): on a
	// deployed resource, an error without a status of its own is only
	// "internal error in F", the detail going to the log.
	msg := err.Error()
	var pe *panicError
	switch {
	case errors.Is(err, errShuttingDown):
	case errors.As(err, &pe):
		s.logger().ErrorContext(r.Context(), "panic in remote function",
			slog.String("function", fn.Name), slog.Any("panic", pe.value), slog.String("stack", pe.stack))
		msg = s.publicMessage(fn, err)
	default:
		s.logger().WarnContext(r.Context(), "remote function stream failed",
			slog.String("function", fn.Name), slog.Int("items", n), slog.String("error", msg))
		msg = s.publicMessage(fn, err)
	}
	body, _ := json.Marshal(errorBody{msg})
	line.Reset()
	if sse {
		line.WriteString("event: error\ndata: ")
		line.Write(body)
		line.WriteString("\n\n")
	} else {
		line.Write(body)
		line.WriteByte('\n')
	}
	if _, err := w.Write(line.Bytes()); err == nil {
		_ = rc.Flush()
	}
	return nil
}
