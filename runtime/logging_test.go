package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
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

// TestRequestRecordFormat: the direct path writes the bytes slog's
// JSONHandler writes for the same request record.
func TestRequestRecordFormat(t *testing.T) {
	at := time.Date(2026, 12, 4, 5, 33, 12, 299247500, time.UTC)
	for i, path := range []string{"/compute", `/items/a"b\c`, "/ünï/<&>", "/tab\there", "/\xff", "/stream"} {
		items := -1 // a stream's record also counts its items
		if path == "/stream" {
			items = 10000 + i
		}
		var want, got bytes.Buffer
		r := slog.NewRecord(at, slog.LevelInfo, "request", 0)
		r.AddAttrs(slog.String("method", "POST"), slog.String("path", path), slog.Int("status", 200),
			slog.Int("bytes", 83), slog.Duration("duration", 12345*time.Nanosecond), slog.String("remote", "127.0.0.1:5555"))
		if items >= 0 {
			r.AddAttrs(slog.Int("items", items))
		}
		if err := slog.NewJSONHandler(&want, nil).Handle(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		h := &requestLogHandler{JSONHandler: slog.NewJSONHandler(&got, nil), w: &got}
		if err := h.request(at, slog.LevelInfo, "POST", path, 200, 83, 12345, "127.0.0.1:5555", items); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(got.Bytes()) {
			t.Errorf("%q: not JSON: %s", path, got.String())
		}
		var w, g map[string]any
		_ = json.Unmarshal(want.Bytes(), &w)
		_ = json.Unmarshal(got.Bytes(), &g)
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%q:\n got %s\nwant %s", path, got.String(), want.String())
		} else if want.String() != got.String() && utf8.ValidString(path) && !strings.ContainsAny(path, "<&>\t\"\\") {
			t.Errorf("%q: same record, other bytes:\n got %s\nwant %s", path, got.String(), want.String())
		}
	}
}
