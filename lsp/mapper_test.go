package lsp

import (
	"bytes"
	"context"
	"io"
	"log"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

func TestMapper(t *testing.T) {
	const text = "package p\n// é😀x\r\nvar s = \"\xff!\"\n"
	m := newMapper([]byte(text))
	for _, tc := range []struct {
		off  int
		line uint32
		char uint32
	}{
		{0, 0, 0},
		{9, 0, 9},                         // end of line 0
		{10, 1, 0},                        // start of line 1
		{strings.Index(text, "é"), 1, 3},  // after "// "
		{strings.Index(text, "😀"), 1, 4},  // é is one unit
		{strings.Index(text, "x"), 1, 6},  // 😀 is two units
		{strings.Index(text, "!"), 2, 10}, // an invalid byte is one unit
		{len(text), 3, 0},                 // end of file
		{len(text) + 10, 3, 0},            // clamped
	} {
		got := m.position(tc.off)
		if got.Line != tc.line || got.Character != tc.char {
			t.Errorf("position(%d) = %d:%d, want %d:%d", tc.off, got.Line, got.Character, tc.line, tc.char)
			continue
		}
		if tc.off > len(text) {
			continue
		}
		back, err := m.offset(got)
		if err != nil || back != tc.off {
			t.Errorf("offset(%d:%d) = %d, %v; want %d", got.Line, got.Character, back, err, tc.off)
		}
	}
	// A character past the end of a line is the end of the line (before
	// its \r\n); a line past the end of the file is an error.
	if off, err := m.offset(protocol.Position{Line: 1, Character: 99}); err != nil || off != strings.Index(text, "\r") {
		t.Errorf("offset past the end of line 1 = %d, %v", off, err)
	}
	if _, err := m.offset(protocol.Position{Line: 9}); err == nil {
		t.Error("offset of line 9 succeeded")
	}
	if line, start := m.lineText(strings.Index(text, "x")); line != "// é😀x" || start != 10 {
		t.Errorf("lineText = %q, %d", line, start)
	}
}

func TestURIRoundTrip(t *testing.T) {
	for _, p := range []string{"/tmp/a b/c.go", "/tmp/ü/%x.go", "/x/y#z.go"} {
		got, err := uriToPath(pathToURI(p))
		if err != nil || got != p {
			t.Errorf("uriToPath(pathToURI(%q)) = %q, %v", p, got, err)
		}
	}
	if _, err := uriToPath("untitled:Untitled-1"); err == nil {
		t.Error("a non-file URI was accepted")
	}
}

// FuzzStream feeds arbitrary bytes to the message reader: it must never
// panic, and every message it returns must have come from a frame.
//
//	go test ./lsp -run '^$' -fuzz FuzzStream -fuzztime 10s
func FuzzStream(f *testing.F) {
	f.Add([]byte("Content-Length: 2\r\n\r\n{}"))
	f.Add([]byte("Content-Length: 40\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\"}    "))
	f.Add([]byte("Content-Length: 5\r\n\r\n{\"a\":Content-Length: x\r\n\r\n"))
	f.Add([]byte("\r\n\r\nContent-Length: 3\r\n\r\n[1]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		s := newStream(rwc{bytes.NewReader(data), &out}, log.New(io.Discard, "", 0))
		for range 100 {
			if _, _, err := s.Read(context.Background()); err != nil {
				return
			}
		}
	})
}

type rwc struct {
	io.Reader
	io.Writer
}

func (rwc) Close() error { return nil }
