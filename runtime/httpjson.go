package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
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

// writeJSON answers with the JSON encoding of v.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := getBuf()
	defer putBuf(buf)
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		buf.Reset()
		status = http.StatusInternalServerError
		_ = json.NewEncoder(buf).Encode(errorBody{"encoding the response: " + err.Error()})
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorBody struct {
	Error string `json:"error"`
}

// writeError answers with {"error": msg}, the body of every non-2xx answer.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{msg})
}

// readBody reads a request body of at most limit bytes. It answers a
// larger one with 413 itself and reports ok false.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, buf *bytes.Buffer) (ok bool) {
	if limit <= 0 {
		limit = defaultMaxBodyBytes
	}
	if r.ContentLength > limit {
		writeError(w, http.StatusRequestEntityTooLarge, "request body larger than the limit of "+itoa(limit)+" bytes")
		return false
	}
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "request body larger than the limit of "+itoa(limit)+" bytes")
		} else {
			writeError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		}
		return false
	}
	return true
}

// recorder remembers the status and size of a response for the request log.
type recorder struct {
	http.ResponseWriter
	status int
	size   int
	// streamed and items describe a streamed answer (stream_lb.go).
	streamed bool
	items    int
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
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
func logged(logger func() *slog.Logger, next func(http.ResponseWriter, *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := recorderPool.Get().(*recorder)
		*rec = recorder{ResponseWriter: w}
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
