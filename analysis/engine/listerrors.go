package engine

import (
	"bytes"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
)

// listFindings turns the go command's errors about a workspace package
// (an import it cannot resolve, an import cycle) into compile findings: at
// their position, or at the package clause of the package's first file.
// Compiler output ("# pkg" and its lines, in batch mode, where go list
// compiles) is left out: the type checker, which checks bodies too,
// reports the same errors.
func (m *Module) listFindings(mp *metaPkg, files []*File) []finding.Finding {
	var out []finding.Finding
	for _, e := range mp.Errors {
		if strings.HasPrefix(e.Err, "# ") {
			continue
		}
		pos, ok := parsePos(m.fset, e.Pos, m.Dir)
		if !ok {
			if len(files) == 0 || files[0].AST == nil {
				continue // the snapshot's LoadErrors have it
			}
			pos = finding.Position(m.fset, files[0].AST.Package)
		}
		out = append(out, finding.CompileAt(pos, e.Err))
	}
	return out
}

// parsePos parses a go list error position "file:line:col" or "file:line",
// relative to root when not absolute, filling in Offset when fset knows the
// file.
func parsePos(fset *token.FileSet, s, root string) (token.Position, bool) {
	if s == "" || s == "-" {
		return token.Position{}, false
	}
	var nums []int
	rest := s
	for range 2 {
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			break
		}
		n, err := strconv.Atoi(rest[i+1:])
		if err != nil {
			break
		}
		nums = append([]int{n}, nums...)
		rest = rest[:i]
	}
	if len(nums) == 0 || nums[0] < 1 || len(nums) > 1 && nums[1] < 0 {
		return token.Position{}, false
	}
	file := rest
	if !filepath.IsAbs(file) {
		file = filepath.Join(root, file)
	}
	pos := token.Position{Filename: file, Line: nums[0], Column: 1}
	if len(nums) > 1 && nums[1] > 0 {
		pos.Column = nums[1]
	}
	known := false
	fset.Iterate(func(f *token.File) bool {
		if f.Name() != file {
			return true
		}
		known = true
		if pos.Line >= 1 && pos.Line <= f.LineCount() {
			off := f.Offset(f.LineStart(pos.Line)) + pos.Column - 1
			if off >= 0 && off <= f.Size() {
				pos.Offset = off
			}
		}
		return false
	})
	if !known {
		// A file the loader did not parse (go.mod, a file of another
		// build): findings are offsets, so count the lines.
		if fi, err := os.Stat(file); err == nil && fi.Mode().IsRegular() && fi.Size() < 64<<20 {
			if src, err := os.ReadFile(file); err == nil {
				pos.Offset = lineColOffset(src, pos.Line, pos.Column)
			}
		}
	}
	return pos, true
}

// lineColOffset returns the byte offset of 1-based line:col in src,
// clamped to src.
func lineColOffset(src []byte, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return len(src)
		}
		off += i + 1
	}
	return min(off+col-1, len(src))
}
