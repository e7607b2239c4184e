package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// bufPool recycles the buffers of request bodies and encoded responses.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() > 64<<10 {
		return // let large buffers go rather than pin them
	}
	b.Reset()
	bufPool.Put(b)
}

// encodeJSON appends the JSON of v and a newline to buf. A panic in a
// MarshalJSON method is an error like any other: encoding/json lets it
// through, and it must not cost the connection or the process.
func encodeJSON(buf *bytes.Buffer, v any) (err error) {
	n := buf.Len()
	defer func() {
		if p := recover(); p != nil {
			buf.Truncate(n)
			err = &panicError{value: p, stack: string(debug.Stack())}
		}
	}()
	return json.NewEncoder(buf).Encode(v)
}

// marshalJSON is json.Marshal, a panic in a MarshalJSON method included
// as an error.
func marshalJSON(v any) (_ []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &panicError{value: p, stack: string(debug.Stack())}
		}
	}()
	return json.Marshal(v)
}

// writeJSON answers with the JSON encoding of v; one that cannot be
// encoded is a 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	if err := writeEncoded(w, status, v); err != nil {
		writeError(w, http.StatusInternalServerError, "encoding the response: "+err.Error())
	}
}

// writeEncoded answers v with status, or, when v cannot be encoded,
// writes nothing and returns why.
func writeEncoded(w http.ResponseWriter, status int, v any) error {
	buf := getBuf()
	defer putBuf(buf)
	if err := encodeJSON(buf, v); err != nil {
		return err
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

type errorBody struct {
	Error string `json:"error"`
}

// writeError answers with {"error": msg}, the body of every non-2xx answer.
// internalError is the 500 body of a deployed resource's function: the
// detail goes to the log only.
func internalError(fn string) string { return fmt.Sprintf("internal error in %s", bareName(fn)) }

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{msg})
}

// readBody reads a request body of at most limit bytes within timeout
// (none when zero). It answers a larger one with 413 and one that does
// not arrive in time with 408 itself, and reports ok false. The buffer
// grows with what arrives, never with what Content-Length announces:
// announcing 10 MiB and sending a byte a second pins almost nothing.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, timeout time.Duration, buf *bytes.Buffer) (ok bool) {
	if limit <= 0 {
		limit = defaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		writeError(w, http.StatusRequestEntityTooLarge, "request body larger than the limit of "+itoa(limit)+" bytes")
		return false
	}
	if r.ContentLength == 0 {
		return true
	}
	if timeout > 0 {
		// Per request rather than http.Server.ReadTimeout: that deadline
		// stays on the connection and, once it passes, cancels the
		// context of a function still running.
		if dw := readDeadliner(w); dw != nil && dw.SetReadDeadline(time.Now().Add(timeout)) == nil {
			defer dw.SetReadDeadline(time.Time{})
		}
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		var ne net.Error
		switch {
		case errors.As(err, &mbe):
			writeError(w, http.StatusRequestEntityTooLarge, "request body larger than the limit of "+itoa(limit)+" bytes")
		case errors.As(err, &ne) && ne.Timeout():
			w.Header().Set("Connection", "close")
			writeError(w, http.StatusRequestTimeout, "the request body did not arrive within "+timeout.String())
		default:
			writeError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		}
		return false
	}
	return true
}

// readDeadliner finds the connection's read deadline behind w (what
// http.ResponseController does, without its allocation), or nil.
func readDeadliner(w http.ResponseWriter) interface{ SetReadDeadline(time.Time) error } {
	for {
		switch t := w.(type) {
		case interface{ SetReadDeadline(time.Time) error }:
			return t
		case interface{ Unwrap() http.ResponseWriter }:
			w = t.Unwrap()
		default:
			return nil
		}
	}
}

// recorder remembers the status and size of a response for the request
// log, and closes the connection after it while the server drains.
type recorder struct {
	http.ResponseWriter
	status  int
	size    int
	closing *atomic.Bool // nil: never
	// streamed and items describe a streamed answer (stream_lb.go).
	streamed bool
	items    int
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
		if r.closing != nil && r.closing.Load() {
			r.ResponseWriter.Header().Set("Connection", "close")
		}
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.ResponseWriter.Write(p)
	r.size += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

var recorderPool = sync.Pool{New: func() any { return new(recorder) }}

// logged wraps a handler with one structured log record per request;
// health checks are logged at debug level, since RunPod polls them.
// While closing (not nil) is set, every answer closes its connection.
func logged(logger func() *slog.Logger, closing *atomic.Bool, next func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := recorderPool.Get().(*recorder)
		*rec = recorder{ResponseWriter: w, closing: closing}
		defer func() {
			*rec = recorder{}
			recorderPool.Put(rec)
		}()
		next(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		l := logger()
		level := slog.LevelInfo
		if r.URL.Path == "/ping" {
			level = slog.LevelDebug
		}
		h := l.Handler()
		if !h.Enabled(r.Context(), level) {
			return
		}
		if rh, ok := h.(*requestLogHandler); ok {
			now := time.Now()
			items := -1 // not a stream
			if rec.streamed {
				items = rec.items
			}
			_ = rh.request(now, level, r.Method, r.URL.Path, rec.status, rec.size, now.Sub(start), r.RemoteAddr, items)
			return
		}
		// Build the record directly: Logger.LogAttrs would also capture
		// the caller's pc, which a request log does not need, and that
		// costs more than the rest of the record.
		rec2 := slog.NewRecord(time.Now(), level, "request", 0)
		rec2.AddAttrs(
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int("bytes", rec.size),
			slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr))
		if rec.streamed {
			rec2.AddAttrs(slog.Int("items", rec.items))
		}
		_ = h.Handle(r.Context(), rec2)
	}
}

// drainAndClose discards what is left of a response body so that the
// connection can be reused.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
