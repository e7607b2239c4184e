// Package report writes findings the way `flash-lsp check` prints them:
// text like go vet, JSON (SPEC 13), GitHub Actions annotations and SARIF
// 2.1.0. It is where findings' byte offsets become 1-based lines and
// byte columns; the language server does its own conversion, to UTF-16,
// in its mapper.
package report

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
)

// Formats are the output formats, in the order usage messages list them.
var Formats = []string{"text", "json", "github", "sarif"}

// Options say how to write.
type Options struct {
	// Dir is the directory file names are printed relative to, as go vet
	// prints them (check's -C).
	Dir string
	// Version is flash-lsp's version, for the SARIF tool description.
	Version string
	// ReadFile returns the bytes that were analysed (default os.ReadFile),
	// to turn offsets into lines and columns.
	ReadFile func(string) ([]byte, error)
}

var writers = map[string]func(w io.Writer, fs []finding.Finding, c *converter) error{
	"text":   writeText,
	"json":   writeJSON,
	"github": writeGitHub,
	"sarif":  writeSARIF,
}

// Known reports whether format is one of Formats.
func Known(format string) bool {
	_, ok := writers[format]
	return ok
}

// Write writes fs to w in format, one of Formats.
func Write(w io.Writer, format string, fs []finding.Finding, opt Options) error {
	write, ok := writers[format]
	if !ok {
		return fmt.Errorf("unknown format %q", format)
	}
	return write(w, fs, &converter{opt: opt, lines: &Lines{ReadFile: opt.ReadFile}})
}

// converter turns a finding's file and offsets into what is printed.
type converter struct {
	opt   Options
	lines *Lines
}

// rel returns file relative to the output directory.
func (c *converter) rel(file string) string {
	if c.opt.Dir != "" {
		if rel, err := filepath.Rel(c.opt.Dir, file); err == nil {
			return filepath.ToSlash(rel)
		}
	}
	return file
}

// A Position is a 1-based line and byte column.
type Position struct{ Line, Col int }

// Lines converts byte offsets of files into Positions, reading each file
// once.
type Lines struct {
	// ReadFile returns a file's analysed bytes (default os.ReadFile).
	ReadFile func(string) ([]byte, error)
	starts   map[string][]int // offsets of line starts, by file
}

// Position returns the line and column of offset in file. An offset in a
// file that cannot be read is taken to be on line 1.
func (l *Lines) Position(file string, offset int) Position {
	starts, ok := l.starts[file]
	if !ok {
		read := l.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		starts = []int{0}
		if src, err := read(file); err == nil {
			for off := 0; ; {
				i := bytes.IndexByte(src[off:], '\n')
				if i < 0 {
					break
				}
				off += i + 1
				starts = append(starts, off)
			}
		}
		if l.starts == nil {
			l.starts = make(map[string][]int)
		}
		l.starts[file] = starts
	}
	line := sort.Search(len(starts), func(i int) bool { return starts[i] > offset }) // 1-based
	line = max(line, 1)
	return Position{Line: line, Col: offset - starts[line-1] + 1}
}
