package runtime

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
)

// logFlushInterval is the longest a log record waits in the buffer.
const logFlushInterval = 100 * time.Millisecond

// A logSink buffers a handler process's log records on their way to
// stderr. One write(2) per request record would cost a fifth of a
// load balancer's throughput; records are flushed at least every
// logFlushInterval instead, and by Close at exit.
type logSink struct {
	mu     sync.Mutex
	w      *bufio.Writer
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

func newLogSink(out io.Writer) *logSink {
	s := &logSink{w: bufio.NewWriterSize(out, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go s.flushEvery(logFlushInterval)
	return s
}

// Write buffers p; slog's handlers call it once per record.
func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		// After Close (a record logged by a goroutine that outlived the
		// server): straight through.
		n, err := s.w.Write(p)
		if err == nil {
			err = s.w.Flush()
		}
		return n, err
	}
	return s.w.Write(p)
}

// Flush writes what is buffered.
func (s *logSink) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Flush()
}

func (s *logSink) flushEvery(d time.Duration) {
	defer close(s.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.mu.Lock()
			if s.w.Buffered() > 0 {
				_ = s.w.Flush()
			}
			s.mu.Unlock()
		}
	}
}

// Close stops the periodic flush and flushes what is left; later writes
// go through unbuffered.
func (s *logSink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	return s.Flush()
}

// logConfig is FLASH_LOG_LEVEL and FLASH_LOG_FORMAT.
type logConfig struct {
	level slog.Level
	text  bool
}

func readLogConfig(getenv func(string) string) (logConfig, error) {
	var c logConfig
	switch v := getenv("FLASH_LOG_LEVEL"); strings.ToLower(strings.TrimSpace(v)) {
	case "", "info":
		c.level = slog.LevelInfo
	case "debug":
		c.level = slog.LevelDebug
	case "warn", "warning":
		c.level = slog.LevelWarn
	case "error":
		c.level = slog.LevelError
	default:
		return c, fmt.Errorf("FLASH_LOG_LEVEL=%q: want debug, info, warn or error", v)
	}
	switch v := getenv("FLASH_LOG_FORMAT"); strings.ToLower(strings.TrimSpace(v)) {
	case "", "json":
	case "text":
		c.text = true
	default:
		return c, fmt.Errorf("FLASH_LOG_FORMAT=%q: want json or text", v)
	}
	return c, nil
}

// newProcessLogger is the logger of a handler process: records (one per
// request, at info) in the format and from the level the environment
// names, through a buffer to out. close flushes it; call it at exit.
func newProcessLogger(getenv func(string) string, out io.Writer) (logger *slog.Logger, close func(), err error) {
	c, err := readLogConfig(getenv)
	if err != nil {
		return nil, nil, err
	}
	sink := newLogSink(out)
	opts := &slog.HandlerOptions{Level: c.level}
	if c.text {
		return slog.New(slog.NewTextHandler(sink, opts)), func() { _ = sink.Close() }, nil
	}
	h := &requestLogHandler{JSONHandler: slog.NewJSONHandler(sink, opts), w: sink}
	return slog.New(h), func() { _ = sink.Close() }, nil
}

// A requestLogHandler is slog's JSONHandler, with a direct path for the
// records of requests: the same bytes the JSONHandler writes, appended
// without walking attributes through interfaces and closures, which
// costs as much as the rest of a request log. Every other record goes
// through the JSONHandler.
type requestLogHandler struct {
	*slog.JSONHandler
	w io.Writer
}

var logBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// request writes the record of one request, in the JSONHandler's format:
// {"time","level","msg":"request","method","path","status","bytes",
// "duration" (nanoseconds),"remote"}, and "items" for a stream (items >= 0).
func (h *requestLogHandler) request(t time.Time, level slog.Level, method, path string, status, size int, d time.Duration, remote string, items int) error {
	bp := logBufPool.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"`...)
	b = append(b, level.String()...)
	b = append(b, `","msg":"request","method":`...)
	b = appendJSONString(b, method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(d), 10)
	b = append(b, `,"remote":`...)
	b = appendJSONString(b, remote)
	if items >= 0 {
		b = append(b, `,"items":`...)
		b = strconv.AppendInt(b, int64(items), 10)
	}
	b = append(b, "}\n"...)
	_, err := h.w.Write(b)
	*bp = b
	logBufPool.Put(bp)
	return err
}

// appendJSONString appends s as a JSON string: printable ASCII as it is,
// anything else through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
