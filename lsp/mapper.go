package lsp

import (
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"unicode/utf8"

	"go.lsp.dev/protocol"
)

// mapper converts between byte offsets into one version of a file's content
// (what the analysis reports) and LSP positions, whose characters are UTF-16
// code units. It is the only place the server converts positions.
type mapper struct {
	content []byte
	lines   []int // byte offset of the start of each line
}

func newMapper(content []byte) *mapper {
	lines := []int{0}
	for i, b := range content {
		if b == '\n' {
			lines = append(lines, i+1)
		}
	}
	return &mapper{content: content, lines: lines}
}

// position returns the LSP position of byte offset off (clamped to the
// content).
func (m *mapper) position(off int) protocol.Position {
	off = max(0, min(off, len(m.content)))
	line := sort.Search(len(m.lines), func(i int) bool { return m.lines[i] > off }) - 1
	start := m.lines[line]
	return protocol.Position{Line: uint32(line), Character: uint32(utf16Len(m.content[start:off]))}
}

// rng returns the LSP range of the byte range [start, end).
func (m *mapper) rng(start, end int) protocol.Range {
	if end < start {
		end = start
	}
	return protocol.Range{Start: m.position(start), End: m.position(end)}
}

// offset returns the byte offset of an LSP position. A character past the
// end of its line means the end of the line; a line past the end of the
// file is an error.
func (m *mapper) offset(p protocol.Position) (int, error) {
	if int(p.Line) >= len(m.lines) {
		if int(p.Line) == len(m.lines) && p.Character == 0 {
			return len(m.content), nil
		}
		return 0, fmt.Errorf("line %d is past the end of the file (%d lines)", p.Line+1, len(m.lines))
	}
	start := m.lines[p.Line]
	end := len(m.content)
	if int(p.Line)+1 < len(m.lines) {
		end = m.lines[p.Line+1] - 1 // the newline
		if end > start && m.content[end-1] == '\r' {
			end--
		}
	}
	units := 0
	off := start
	for off < end && units < int(p.Character) {
		r, size := utf8.DecodeRune(m.content[off:end])
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
		off += size
	}
	return off, nil
}

// lineText returns the text of the line holding off and the line's start.
func (m *mapper) lineText(off int) (string, int) {
	off = max(0, min(off, len(m.content)))
	line := sort.Search(len(m.lines), func(i int) bool { return m.lines[i] > off }) - 1
	start := m.lines[line]
	end := len(m.content)
	if line+1 < len(m.lines) {
		end = m.lines[line+1] - 1
	}
	if end > start && m.content[end-1] == '\r' {
		end--
	}
	return string(m.content[start:end]), start
}

// utf16Len is the length of b in UTF-16 code units. An invalid byte counts
// as one unit, as it does for editors that show it as U+FFFD.
func utf16Len(b []byte) int {
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
		b = b[size:]
	}
	return n
}

// uriToPath returns the absolute filename of a file URI.
func uriToPath(u protocol.DocumentURI) (string, error) {
	parsed, err := url.Parse(string(u))
	if err != nil {
		return "", fmt.Errorf("bad document uri %q: %w", u, err)
	}
	if parsed.Scheme != "file" {
		return "", fmt.Errorf("unsupported document uri %q: only file URIs are served", u)
	}
	p := parsed.Path
	// Windows drive paths arrive as /C:/...
	if len(p) >= 3 && p[0] == '/' && p[2] == ':' {
		p = p[1:]
	}
	return filepath.Clean(filepath.FromSlash(p)), nil
}

// pathToURI returns the file URI of an absolute filename.
func pathToURI(filename string) protocol.DocumentURI {
	p := filepath.ToSlash(filename)
	if len(p) >= 2 && p[1] == ':' {
		p = "/" + p
	}
	return protocol.DocumentURI((&url.URL{Scheme: "file", Path: p}).String())
}
