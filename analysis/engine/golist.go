package engine

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
	ImportPath string
	Name       string
	Dir        string
	GoFiles    []string
	CgoFiles   []string
	Imports    []string
	ImportMap  map[string]string
	Export     string
	ForTest    string
	Module     *struct {
		Path      string
		Dir       string
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

// sourceFiles returns the absolute names of the Go files to analyse:
// the plain ones and those that use cgo (type-checked with a fake "C").
func (lp *listPackage) sourceFiles() []string {
	out := make([]string, 0, len(lp.GoFiles)+len(lp.CgoFiles))
	for _, names := range [][]string{lp.GoFiles, lp.CgoFiles} {
		for _, name := range names {
			if !filepath.IsAbs(name) {
				name = filepath.Join(lp.Dir, name)
			}
			out = append(out, name)
		}
	}
	return out
}

// listFields are the `go list -json` fields the loader reads.
const listFields = "ImportPath,Name,Dir,GoFiles,CgoFiles,Imports,ImportMap,Export,ForTest,Module,Error"

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
	cmd.SysProcAttr = goProcAttr()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, nil, fmt.Errorf("the go command is required and was not found on PATH (%s)", os.Getenv("PATH"))
		}
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

// Listed is a package as the go command resolves a pattern to it.
type Listed struct {
	ImportPath string
	Dir        string
	Module     string // the module path; "" outside modules
	GoFiles    []string
	Err        string // the go command's error about the package
}

// List resolves patterns in dir as the go command does, with env added to
// its environment, buildFlags and overlay (absolute file name → contents).
func List(ctx context.Context, dir string, env, buildFlags []string, overlay map[string][]byte, patterns []string) ([]Listed, error) {
	overlayFile, cleanup, err := writeOverlay(overlay)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	args := append([]string{"-json=ImportPath,Dir,Module,Error,GoFiles", "--"}, patterns...)
	_, listed, err := goList(ctx, dir, append(os.Environ(), env...), buildFlags, overlayFile, args...)
	if err != nil {
		return nil, err
	}
	out := make([]Listed, len(listed))
	for i, lp := range listed {
		out[i] = Listed{ImportPath: lp.ImportPath, Dir: lp.Dir, GoFiles: lp.GoFiles}
		if lp.Module != nil {
			out[i].Module = lp.Module.Path
		}
		if lp.Error != nil {
			out[i].Err = oneLine(lp.Error.Err)
		}
	}
	return out, nil
}
