// Package fix applies the suggested fixes of findings to the files on
// disk: `flash-lsp check --fix`. The language server does not use it; it
// sends the same fixes to the editor as code actions.
package fix

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// Safe are the rules whose fixes check --fix applies: the ones that do not
// guess (a new name or route would).
var Safe = []string{rules.BadMethod, rules.BadPath, rules.RouteOnQueue}

// Apply applies the first fix of every finding of a Safe rule, file by
// file, skipping edits that overlap an earlier one, and writes each
// changed file atomically. A file whose bytes are not those analysed
// (sum) is left alone and passed to skipped: the fixes' offsets are into
// the analysed bytes, and the user's newer edit wins. It returns the number
// of findings fixed and of files written.
func Apply(fs []finding.Finding, sum func(string) ([sha256.Size]byte, bool), skipped func(name string)) (fixed, files int, err error) {
	type edit struct {
		finding.Edit
		finding int
	}
	byFile := make(map[string][]edit)
	for i, f := range fs {
		if !slices.Contains(Safe, f.Rule) || len(f.Fixes) == 0 {
			continue
		}
		for _, e := range f.Fixes[0].Edits {
			byFile[e.File] = append(byFile[e.File], edit{e, i})
		}
	}
	names := make([]string, 0, len(byFile))
	for name := range byFile {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		edits := byFile[name]
		slices.SortStableFunc(edits, func(a, b edit) int { return a.Start - b.Start })
		src, err := os.ReadFile(name)
		if err != nil {
			return fixed, files, fmt.Errorf("applying fixes: %w", err)
		}
		if analysed, ok := sum(name); !ok || analysed != sha256.Sum256(src) {
			skipped(name)
			continue
		}
		// A finding is fixed only when all its edits apply.
		skip := make(map[int]bool)
		last := -1
		for _, e := range edits {
			if e.Start < last || e.End < e.Start || e.End > len(src) {
				skip[e.finding] = true
				continue
			}
			last = e.End
		}
		var out []byte
		prev := 0
		done := make(map[int]bool)
		for _, e := range edits {
			if skip[e.finding] {
				continue
			}
			out = append(out, src[prev:e.Start]...)
			out = append(out, e.NewText...)
			prev = e.End
			done[e.finding] = true
		}
		if len(done) == 0 {
			continue
		}
		out = append(out, src[prev:]...)
		if err := replaceFile(name, src, out); err != nil {
			return fixed, files, fmt.Errorf("applying fixes: %w", err)
		}
		fixed += len(done)
		files++
	}
	return fixed, files, nil
}

// replaceFile replaces name, which held old, with data through a
// temporary file in the same directory, keeping name's permissions. It
// checks the bytes again just before the rename, so that an edit saved
// while the fix was computed is not lost (an edit saved in the instant
// between the check and the rename still is: no file system offers a
// compare-and-swap).
func replaceFile(name string, old, data []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Lstat(name); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", name)
		}
		mode = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if now, err := os.ReadFile(name); err != nil || !bytes.Equal(now, old) {
		return fmt.Errorf("%s changed while it was being fixed: not written", name)
	}
	return os.Rename(tmp.Name(), name)
}
