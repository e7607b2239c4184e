package lsp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

// TestCheckAndServerAgree runs the real binary twice over every example
// project (testdata/projects) and every whole-module rule's testdata
// module: `flash-lsp check --format json`, and `flash-lsp serve` over
// stdio without any open buffer. The findings of check and the
// diagnostics the server publishes must be the same: rule, file, range
// (check's byte columns converted to UTF-16) and message.
func TestCheckAndServerAgree(t *testing.T) {
	root := repoRoot(t)
	bin := filepath.Join(t.TempDir(), "flash-lsp")
	build := exec.Command("go", "build", "-o", bin, "./cmd/flash-lsp")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	var dirs []string
	for _, pattern := range []string{"testdata/projects/*/go.mod", "analysis/modulerules/testdata/src/*/go.mod"} {
		mods, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(pattern)))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mods {
			dirs = append(dirs, filepath.Dir(m))
		}
	}
	if len(dirs) < 7 {
		t.Fatalf("found %d projects: %v", len(dirs), dirs)
	}
	cacheDir := t.TempDir()
	total := 0
	for _, dir := range dirs {
		rel, _ := filepath.Rel(root, dir)
		t.Run(filepath.ToSlash(rel), func(t *testing.T) {
			fromCheck := checkFindings(t, bin, dir, cacheDir)
			fromServer := serverFindings(t, bin, dir)
			total += len(fromCheck)
			for _, f := range fromCheck {
				if !slices.Contains(fromServer, f) {
					t.Errorf("only check: %s", f)
				}
			}
			for _, f := range fromServer {
				if !slices.Contains(fromCheck, f) {
					t.Errorf("only the server: %s", f)
				}
			}
		})
	}
	if total < 30 {
		t.Errorf("check found %d findings in all the projects: the comparison proves little", total)
	}
}

// checkFindings runs check and describes each finding as
// "rule file line:char-line:char message", positions 0-based in UTF-16.
func checkFindings(t *testing.T, bin, dir, cacheDir string) []string {
	t.Helper()
	cmd := exec.Command(bin, "check", "--format", "json", "-C", dir)
	cmd.Env = append(os.Environ(), "FLASH_LSP_CACHE="+cacheDir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("check: %v\n%s", err, stderr.String())
	}
	var fs []struct {
		File          string
		Line, Col     int
		EndLine       int `json:"end_line"`
		EndCol        int `json:"end_col"`
		Rule, Message string
	}
	if err := json.Unmarshal(stdout.Bytes(), &fs); err != nil {
		t.Fatalf("check output: %v\n%s", err, stdout.String())
	}
	var out []string
	for _, f := range fs {
		file := filepath.Join(dir, filepath.FromSlash(f.File))
		content, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := newMapper(content)
		start, end := byteOffset(content, f.Line, f.Col), byteOffset(content, f.EndLine, f.EndCol)
		out = append(out, describeFinding(f.Rule, filepath.ToSlash(f.File), m.rng(start, end), f.Message))
	}
	return out
}

// byteOffset converts a 1-based line and byte column into an offset.
func byteOffset(content []byte, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(content[off:], '\n')
		if i < 0 {
			return len(content)
		}
		off += i + 1
	}
	return off + col - 1
}

func describeFinding(rule, file string, r protocol.Range, msg string) string {
	return fmt.Sprintf("%s %s %d:%d-%d:%d %s", rule, file, r.Start.Line, r.Start.Character, r.End.Line, r.End.Character, msg)
}

// serverFindings starts a server on dir, waits for its first complete
// analysis and for its diagnostics to settle, and describes the newest
// diagnostics of every file as checkFindings does.
func serverFindings(t *testing.T, bin, dir string) []string {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "serve.log")
	c, _ := startServe(t, bin, logPath, nil)
	c.initialize(dir)

	deadline := time.Now().Add(120 * time.Second)
	for {
		logged, _ := os.ReadFile(logPath)
		if strings.Contains(string(logged), "analysed "+dir+" in") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never finished analysing %s; log:\n%s", dir, logged)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The publishes follow the log line; wait until they stop.
	for n := -1; ; {
		c.mu.Lock()
		now := len(c.diags)
		c.mu.Unlock()
		if now == n {
			break
		}
		n = now
		time.Sleep(300 * time.Millisecond)
	}
	c.mu.Lock()
	last := make(map[protocol.DocumentURI]protocol.PublishDiagnosticsParams)
	for _, p := range c.diags {
		last[p.URI] = p
	}
	c.mu.Unlock()
	var out []string
	for uri, p := range last {
		file, err := uriToPath(uri)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, file)
		for _, d := range p.Diagnostics {
			code, _ := d.Code.(string)
			out = append(out, describeFinding(code, filepath.ToSlash(rel), d.Range, d.Message))
		}
	}
	c.call(protocol.MethodShutdown, nil, nil)
	c.notify(protocol.MethodExit, nil)
	return out
}
