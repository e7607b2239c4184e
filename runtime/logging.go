package runtime

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
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
	var h slog.Handler
	if c.text {
		h = slog.NewTextHandler(sink, opts)
	} else {
		h = slog.NewJSONHandler(sink, opts)
	}
	return slog.New(h), func() { _ = sink.Close() }, nil
}
