package project

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// listPackage is the part of `go list -json` output the loader reads.
type listPackage struct {
	ImportPath      string
	Name            string
	Dir             string
	GoFiles         []string
	CompiledGoFiles []string
	Imports         []string
	ImportMap       map[string]string
	Export          string
	ForTest         string
	DepOnly         bool
	Module          *struct {
		Path      string
		Main      bool
		GoVersion string
	}
	Error *struct {
		Pos string
		Err string
	}
}

// pkgPath is the import path of a package without its test-variant suffix
// ("p [p.test]" → "p").
func (lp *listPackage) pkgPath() string {
	path, _, _ := strings.Cut(lp.ImportPath, " [")
	return path
}

// sourceFiles returns the absolute names of the Go files to analyse: the
// compiled files, or the plain ones when go list could not prepare those
// (an import that cannot be resolved stops it).
func (lp *listPackage) sourceFiles() []string {
	names := lp.CompiledGoFiles
	if len(names) == 0 {
		names = lp.GoFiles
	}
	out := make([]string, len(names))
	for i, name := range names {
		if !filepath.IsAbs(name) {
			name = filepath.Join(lp.Dir, name)
		}
		out[i] = name
	}
	return out
}

// goList runs `go list -e -json` with args in dir and decodes its output.
// raw is the output itself, part of the cache key.
func goList(ctx context.Context, dir string, env, buildFlags []string, overlay string, args ...string) (raw []byte, pkgs []*listPackage, err error) {
	full := []string{"list", "-e"}
	full = append(full, buildFlags...)
	if overlay != "" {
		full = append(full, "-overlay="+overlay)
	}
	full = append(full, args...)
	cmd := exec.CommandContext(ctx, "go", full...)
	cmd.Dir = dir
	// PWD names dir as given (through symbolic links), so that the go
	// command reports paths under it, as it does for a shell in dir.
	cmd.Env = append(env[:len(env):len(env)], "PWD="+dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, nil, fmt.Errorf("go list: %s", msg)
	}
	dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
	for {
		lp := new(listPackage)
		if err := dec.Decode(lp); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, nil, fmt.Errorf("decoding go list output: %w", err)
		}
		pkgs = append(pkgs, lp)
	}
	return stdout.Bytes(), pkgs, nil
}

// writeOverlay writes overlay contents to temporary files and returns the
// -overlay JSON file naming them, and a function that removes them all.
func writeOverlay(overlay map[string][]byte) (string, func(), error) {
	if len(overlay) == 0 {
		return "", func() {}, nil
	}
	dir, err := os.MkdirTemp("", "flash-overlay-")
	if err != nil {
		return "", nil, fmt.Errorf("writing overlay: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	replace := make(map[string]string, len(overlay))
	i := 0
	for name, data := range overlay {
		tmp := filepath.Join(dir, fmt.Sprintf("%d%s", i, filepath.Ext(name)))
		i++
		if err := os.WriteFile(tmp, data, 0o600); err != nil {
			cleanup()
			return "", nil, fmt.Errorf("writing overlay: %w", err)
		}
		replace[name] = tmp
	}
	js, err := json.Marshal(struct{ Replace map[string]string }{replace})
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("writing overlay: %w", err)
	}
	file := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(file, js, 0o600); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("writing overlay: %w", err)
	}
	return file, cleanup, nil
}
