package runtime

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for the flusher's goroutine.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestProcessLogger: records are buffered (many records, few writes),
// reach the output within the flush interval, and all of them at close;
// FLASH_LOG_LEVEL and FLASH_LOG_FORMAT choose the level and the format.
func TestProcessLogger(t *testing.T) {
	out := new(lockedBuffer)
	logger, closeLog, err := newProcessLogger(func(string) string { return "" }, out)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		logger.Info("request", slog.Int("i", i))
	}
	logger.Debug("hidden at info")
	deadline := time.Now().Add(time.Second)
	for strings.Count(out.String(), "\n") < 1000 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(out.String(), "\n"); n != 1000 {
		t.Fatalf("%d records out within a second of logging 1000", n)
	}
	if out.writes > 20 {
		t.Errorf("%d writes for 1000 records: not buffered", out.writes)
	}
	if !strings.HasPrefix(out.String(), `{"time":`) || strings.Contains(out.String(), "hidden") {
		t.Errorf("default JSON at info: %.200s", out.String())
	}
	logger.Warn("last words")
	closeLog()
	if !strings.Contains(out.String(), "last words") {
		t.Error("close did not flush")
	}

	env := map[string]string{"FLASH_LOG_LEVEL": "warn", "FLASH_LOG_FORMAT": "text"}
	out = new(lockedBuffer)
	logger, closeLog, err = newProcessLogger(func(k string) string { return env[k] }, out)
	if err != nil {
		t.Fatal(err)
	}
	logger.Info("request")
	logger.Warn("careful", slog.String("k", "v"))
	closeLog()
	if got := out.String(); strings.Contains(got, "request") || !strings.Contains(got, "level=WARN msg=careful k=v") {
		t.Errorf("warn, text: %q", got)
	}
	for _, bad := range []map[string]string{{"FLASH_LOG_LEVEL": "loud"}, {"FLASH_LOG_FORMAT": "xml"}} {
		if _, _, err := newProcessLogger(func(k string) string { return bad[k] }, out); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
