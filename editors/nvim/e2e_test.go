//go:build unix

package nvim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/flash-lsp/flash-lsp/internal/editortest"
)

// key is a diagnostic's position and rule.
type key = editortest.Key

// The server is built once per test binary, into a directory TestMain removes.
var (
	serverDir string
	buildOnce sync.Once
	buildErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flash-nvim-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildServer compiles cmd/flash-lsp (go build, from this tree) and returns
// its directory, to be put first on PATH, and the binary.
func buildServer(t *testing.T, root string) (dir, bin string) {
	t.Helper()
	bin = filepath.Join(serverDir, "flash-lsp")
	buildOnce.Do(func() {
		buildErr = editortest.BuildServer(root, bin)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return serverDir, bin
}

// A finding of `flash-lsp check --format json` (SPEC section 13): 1-based
// lines and byte columns.
type finding struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Rule string `json:"rule"`
}

// lspDiag is a diagnostic as e2e_init.lua records it: 0-based line, UTF-16
// character.
type lspDiag struct {
	Code      string `json:"code"`
	Line      int    `json:"line"`
	Character int    `json:"character"`
	Severity  int    `json:"severity"`
	Message   string `json:"message"`
}

// vimDiag is a diagnostic as Neovim stores it: 0-based line, byte column.
type vimDiag struct {
	Code string `json:"code"`
	Lnum int    `json:"lnum"`
	Col  int    `json:"col"`
}

type result struct {
	Filetype           string    `json:"filetype"`
	ServerPID          int       `json:"server_pid"`
	RootDir            string    `json:"root_dir"`
	OffsetEncoding     string    `json:"offset_encoding"`
	Initial            []lspDiag `json:"initial"`
	InitialVim         []vimDiag `json:"initial_vim"`
	Actions            []struct{ Title, Kind string }
	Applied            string    `json:"applied"`
	AppliedDiagnostics []string  `json:"applied_diagnostics"`
	AfterFix           []lspDiag `json:"after_fix"`
	Hover              string    `json:"hover"`
	GenerateRefused    string    `json:"generate_refused"`
	AppendedAt         int       `json:"appended_at"`
	Unsaved            []lspDiag `json:"unsaved"`
	UnsavedVim         []vimDiag `json:"unsaved_vim"`
	Exit               *struct {
		Code   int `json:"code"`
		Signal int `json:"signal"`
	} `json:"exit"`
}

// tokenPos finds the line of src containing marker and the 1-based byte
// column of token on it (the first occurrence at or after marker's start
// when token is part of marker, else anywhere on the line).
func tokenPos(t *testing.T, src, marker, token string) (line, col int) {
	t.Helper()
	for i, l := range strings.Split(src, "\n") {
		m := strings.Index(l, marker)
		if m < 0 {
			continue
		}
		c := strings.Index(l[m:], token)
		if c >= 0 {
			return i + 1, m + c + 1
		}
		c = strings.Index(l, token)
		if c < 0 {
			t.Fatalf("token %q not on the line of %q", token, marker)
		}
		return i + 1, c + 1
	}
	t.Fatalf("no line contains %q", marker)
	return 0, 0
}

func lspKeys(ds []lspDiag) []key {
	var ks []key
	for _, d := range ds {
		ks = append(ks, key{Line: d.Line + 1, Col: d.Character + 1, Code: d.Code}) // ASCII lines: UTF-16 = bytes
	}
	slices.SortFunc(ks, editortest.CompareKeys)
	return ks
}

// TestNeovimEndToEnd runs Debian's headless Neovim with the repository's
// Neovim config against the real flash-lsp binary on a copy of
// testdata/projects/broken: diagnostics arrive with the right codes and
// positions, a quick fix applied by Neovim fixes the file on disk and clears
// the diagnostic, hover (vim.lsp.buf.hover, K) shows the route, unsaved
// edits are analysed with UTF-16 positions, :FlashGenerate refuses while
// errors exist, and the server exits cleanly on shutdown.
func TestNeovimEndToEnd(t *testing.T) {
	editortest.RequireTool(t, "nvim")
	root := editortest.RepoRoot(t)
	tmp := t.TempDir()
	binDir, server := buildServer(t, root)

	proj := filepath.Join(tmp, "broken")
	editortest.CopyProject(t, filepath.Join(root, "testdata", "projects", "broken"), proj, root)
	file := filepath.Join(proj, "api", "api.go")
	srcBytes, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	src := string(srcBytes)

	// The CLI's findings for the same file: the editor must show the same.
	check := exec.Command(server, "check", "-C", proj, "--format", "json", "./api")
	var stdout, stderr bytes.Buffer
	check.Stdout, check.Stderr = &stdout, &stderr
	if err := check.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
			t.Fatalf("flash-lsp check: %v\n%s", err, stderr.String())
		}
	}
	var findings []finding
	if err := json.Unmarshal(stdout.Bytes(), &findings); err != nil {
		t.Fatalf("flash-lsp check --format json: %v\n%s", err, stdout.String())
	}
	var want []key
	for _, f := range findings {
		if filepath.ToSlash(f.File) == "api/api.go" {
			want = append(want, key{Line: f.Line, Col: f.Col, Code: f.Rule})
		}
	}
	slices.SortFunc(want, editortest.CompareKeys)

	// The unsaved lines: a non-ASCII path before an unknown key, so that
	// UTF-16, code point and byte columns all differ.
	appendLines := []string{
		"",
		"//flash:remote res.API method=GET path=/café/𝄞 pth=/x",
		"func Unicode() {}",
	}
	prefix := appendLines[1][:strings.Index(appendLines[1], "pth=")]

	if len(want) == 0 {
		t.Fatalf("flash-lsp check found nothing in api/api.go: %s", stdout.String())
	}
	fixLine, fixCol := tokenPos(t, src, "path=/bad-method", "get")
	var res result
	runNvim(t, root, binDir, proj, "e2e_init.lua", map[string]any{
		"file":          file,
		"initial_count": len(want),
		"fix":           map[string]any{"code": "bad-method", "line": fixLine - 1},
		"hover":         map[string]any{"line": fixLine - 1, "col": fixCol - 1},
		"append":        map[string]any{"lines": appendLines, "line": 1, "code": "unknown-key"},
	}, &res)

	if res.Filetype != "go" {
		t.Errorf("filetype = %q, want go", res.Filetype)
	}
	if res.RootDir != proj {
		t.Errorf("root_dir = %q, want the module root %q", res.RootDir, proj)
	}

	// 1. First diagnostics: the same findings as the CLI, and the positions
	// this test computes from the source itself.
	got := lspKeys(res.Initial)
	if !slices.Equal(got, want) {
		t.Errorf("diagnostics in Neovim differ from flash-lsp check:\n got %v\nwant %v", got, want)
	}
	for _, c := range []struct{ marker, token, code string }{
		{"path=/bad-method", "get", "bad-method"},
		{"path=/unknown-key pth=/x", "pth", "unknown-key"},
		{"res.APi", "res.APi", "unknown-resource"},
		{"path=/ping", "/ping", "reserved-path"},
		{"path=bad-path/", "bad-path/", "bad-path"},
		{"path=/misplaced", "//flash:remote", "misplaced-directive"},
		{"method= path=/syntax", "method=", "directive-syntax"},
	} {
		line, col := tokenPos(t, src, c.marker, c.token)
		if !slices.Contains(got, key{Line: line, Col: col, Code: c.code}) {
			t.Errorf("no %s diagnostic at %d:%d (on %q); got %v", c.code, line, col, c.token, got)
		}
	}
	for _, d := range res.Initial {
		if d.Severity < 1 || d.Severity > 2 || d.Message == "" {
			t.Errorf("diagnostic %+v: want severity error or warning and a message", d)
		}
	}
	var vimGot []key
	for _, d := range res.InitialVim {
		vimGot = append(vimGot, key{Line: d.Lnum + 1, Col: d.Col + 1, Code: d.Code})
	}
	slices.SortFunc(vimGot, editortest.CompareKeys)
	if !slices.Equal(vimGot, want) {
		t.Errorf("vim.diagnostic.get differs from flash-lsp check:\n got %v\nwant %v", vimGot, want)
	}

	// 2. The quick fix, applied by Neovim and saved.
	if res.Applied == "" || !slices.Contains(res.AppliedDiagnostics, "bad-method") {
		t.Errorf("applied action %q linked to %v, want a quickfix linked to bad-method", res.Applied, res.AppliedDiagnostics)
	}
	fixed, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fixedLines := strings.Split(string(fixed), "\n")
	if l := fixedLines[fixLine-1]; l != "//flash:remote res.API method=GET path=/bad-method" {
		t.Errorf("line %d on disk after the fix = %q", fixLine, l)
	}
	if strings.Replace(src, "method=get", "method=GET", 1) != string(fixed) {
		t.Errorf("the fix changed more than the method; file now:\n%s", fixed)
	}
	wantAfter := slices.DeleteFunc(slices.Clone(want), func(k key) bool { return k == key{Line: fixLine, Col: fixCol, Code: "bad-method"} })
	if len(wantAfter) != len(want)-1 {
		t.Fatalf("bad-method at %d:%d not among the expected findings %v", fixLine, fixCol, want)
	}
	if after := lspKeys(res.AfterFix); !slices.Equal(after, wantAfter) {
		t.Errorf("diagnostics after the fix:\n got %v\nwant %v", after, wantAfter)
	}

	// Hover on the fixed directive: the route and a curl example.
	for _, s := range []string{"Flash resource `api`", "GET /bad-method", "BadMethod", "curl -X GET 'http://localhost:8000/bad-method'"} {
		if !strings.Contains(res.Hover, s) {
			t.Errorf("hover does not contain %q:\n%s", s, res.Hover)
		}
	}

	// 3. Unsaved lines: positions in UTF-16 for the protocol, bytes in Neovim.
	line := res.AppendedAt + 1 // 0-based index of the directive line
	wantChar := len(utf16.Encode([]rune(prefix)))
	found := false
	for _, d := range res.Unsaved {
		if d.Code == "unknown-key" && d.Line == line {
			found = true
			if d.Character != wantChar {
				t.Errorf("unknown-key on the unsaved line at UTF-16 character %d, want %d (byte offset %d)", d.Character, wantChar, len(prefix))
			}
		}
	}
	if !found {
		t.Errorf("no unknown-key diagnostic on unsaved line %d: %+v", line, res.Unsaved)
	}
	foundVim := false
	for _, d := range res.UnsavedVim {
		if d.Code == "unknown-key" && d.Lnum == line {
			foundVim = true
			if d.Col != len(prefix) {
				t.Errorf("Neovim placed unknown-key at byte %d, want %d", d.Col, len(prefix))
			}
		}
	}
	if !foundVim {
		t.Errorf("Neovim has no unknown-key diagnostic on unsaved line %d", line)
	}
	if onDisk, _ := os.ReadFile(file); strings.Contains(string(onDisk), "Unicode") {
		t.Errorf("the unsaved lines reached the disk")
	}

	// :FlashGenerate with errors in the module: refused, nothing written.
	if !strings.Contains(res.GenerateRefused, "fix the errors first") {
		t.Errorf(":FlashGenerate in the broken project said %q, want a refusal naming the errors", res.GenerateRefused)
	}
	if _, err := os.Stat(filepath.Join(proj, ".flash")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(":FlashGenerate wrote .flash/ in a project with errors (stat: %v)", err)
	}

	// 4. Shutdown: the server exits 0 by itself after shutdown and exit.
	if res.Exit == nil {
		t.Fatalf("no exit recorded for the server")
	}
	if res.Exit.Code != 0 || res.Exit.Signal != 0 {
		t.Errorf("server exited with code %d, signal %d; want 0, 0", res.Exit.Code, res.Exit.Signal)
	}
	if res.ServerPID <= 0 {
		t.Errorf("no server pid recorded")
	} else if !waitGone(res.ServerPID, 5*time.Second) {
		t.Errorf("server process %d still running after it exited and Neovim quit", res.ServerPID)
	}
}

// runNvim runs a driver script from testdata in headless Neovim with the
// repository's config on the runtimepath, the built server first on PATH and
// an isolated XDG environment. The spec gets "rtp" and "out" added; the
// driver writes its findings to out, which is decoded into res. A driver
// that fails records "error" and exits non-zero: the test then fails with
// Neovim's LSP log, which holds the server's stderr.
func runNvim(t *testing.T, root, binDir, dir, script string, spec map[string]any, res any) {
	t.Helper()
	nvim := editortest.RequireTool(t, "nvim")
	tmp := t.TempDir()
	out := filepath.Join(tmp, "result.json")
	spec["rtp"] = filepath.Join(root, "editors", "nvim")
	spec["out"] = out
	specFile := filepath.Join(tmp, "spec.json")
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(specFile, data, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nvim, "--headless", "--clean", "-u", filepath.Join(root, "editors", "nvim", "testdata", script))
	cmd.Dir = dir
	xdg := filepath.Join(tmp, "xdg")
	cmd.Env = append(os.Environ(),
		"PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"FLASH_E2E_SPEC="+specFile,
		"XDG_CONFIG_HOME="+filepath.Join(xdg, "config"),
		"XDG_DATA_HOME="+filepath.Join(xdg, "data"),
		"XDG_STATE_HOME="+filepath.Join(xdg, "state"),
		"XDG_CACHE_HOME="+filepath.Join(xdg, "cache"),
		// Keep the warm build cache, which XDG_CACHE_HOME would otherwise move.
		"GOCACHE="+editortest.GoEnv(t, "GOCACHE"),
	)
	var nvimOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &nvimOut, &nvimOut
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("%s: nvim ran for %v", script, time.Since(start).Round(time.Millisecond))

	var common struct {
		Steps  []string `json:"steps"`
		Error  string   `json:"error"`
		LSPLog string   `json:"lsp_log"`
	}
	raw, readErr := os.ReadFile(out)
	if readErr == nil {
		readErr = json.Unmarshal(raw, &common)
	}
	if readErr == nil {
		readErr = json.Unmarshal(raw, res)
	}
	if runErr != nil || readErr != nil || common.Error != "" {
		logTail(t, common.LSPLog)
		t.Fatalf("%s: nvim: %v; result: %v; steps done %v; error: %s\noutput:\n%s",
			script, runErr, readErr, common.Steps, common.Error, nvimOut.String())
	}
}

// waitGone reports whether process pid terminates within d. A zombie counts
// as terminated: in a container whose init does not reap orphans, a server
// that outlived Neovim stays a zombie after it exits.
func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return true
		}
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
			// The state follows the parenthesised command name.
			if i := bytes.LastIndexByte(st, ')'); i >= 0 && i+2 < len(st) && st[i+2] == 'Z' {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logTail prints the end of Neovim's LSP log, which holds the server's stderr.
func logTail(t *testing.T, path string) {
	t.Helper()
	if path == "" {
		return
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Logf("lsp log %s: %v", path, err)
		return
	}
	if len(data) > 8000 {
		data = data[len(data)-8000:]
	}
	t.Logf("end of %s:\n%s", path, data)
}

// TestNeovimSession checks the plugin's own behaviour on Debian's Neovim
// (the 0.7 start_client path) against the real server, on a copy of
// testdata/projects/quickstart with a nested module inside: buffers of one
// root share a client, the nested module gets its own, :FlashGenerate makes
// the server write .flash/, :FlashRestart replaces the clients and
// re-attaches every buffer, and all servers exit 0, both those stopped by
// the restart and those Neovim shuts down when it quits.
func TestNeovimSession(t *testing.T) {
	editortest.RequireTool(t, "nvim")
	root := editortest.RepoRoot(t)
	binDir, _ := buildServer(t, root)
	proj := filepath.Join(t.TempDir(), "quickstart")
	editortest.CopyProject(t, filepath.Join(root, "testdata", "projects", "quickstart"), proj, root)
	nested := filepath.Join(proj, "tools", "nested")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{
		"go.mod":    "module example.com/nested\n\ngo 1.26\n",
		"nested.go": "// Package nested is a module of its own inside the project.\npackage nested\n\n// Answer is not remote.\nfunc Answer() int { return 42 }\n",
	} {
		if err := os.WriteFile(filepath.Join(nested, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	files := []string{
		filepath.Join(proj, "cpu", "cpu.go"),
		filepath.Join(proj, "items", "items.go"),
		filepath.Join(nested, "nested.go"),
	}
	manifests := []string{
		filepath.Join(proj, ".flash", "flash_manifest.json"),
		filepath.Join(nested, ".flash", "flash_manifest.json"),
	}

	type attachment struct {
		ID   int    `json:"id"`
		Root string `json:"root"`
	}
	var res struct {
		Before       map[string]attachment `json:"before"`
		AfterRestart map[string]attachment `json:"after_restart"`
		Generated    []bool                `json:"generated"`
		Messages     []struct {
			Type    int    `json:"type"`
			Message string `json:"message"`
		} `json:"messages"`
		Pids []int `json:"pids"`
	}
	exits := filepath.Join(t.TempDir(), "exits")
	runNvim(t, root, binDir, proj, "session_init.lua", map[string]any{
		"files":   files,
		"clients": 2,
		"generate": []map[string]string{
			{"file": files[0], "manifest": manifests[0]},
			{"file": files[2], "manifest": manifests[1]},
		},
		"exits": exits,
	}, &res)

	wantRoots := []string{proj, proj, nested}
	for _, phase := range []struct {
		name string
		m    map[string]attachment
	}{{"before restart", res.Before}, {"after restart", res.AfterRestart}} {
		for i, f := range files {
			a, ok := phase.m[f]
			if !ok {
				t.Errorf("%s: %s has no flash client", phase.name, f)
				continue
			}
			if a.Root != wantRoots[i] {
				t.Errorf("%s: %s attached with root %s, want %s", phase.name, f, a.Root, wantRoots[i])
			}
		}
		if a, b := phase.m[files[0]], phase.m[files[1]]; a.ID != b.ID {
			t.Errorf("%s: files of one module on different clients %d and %d", phase.name, a.ID, b.ID)
		}
		if a, b := phase.m[files[0]], phase.m[files[2]]; a.ID == b.ID {
			t.Errorf("%s: the nested module shares client %d with its parent", phase.name, a.ID)
		}
	}
	for _, f := range files {
		if res.Before[f].ID == res.AfterRestart[f].ID {
			t.Errorf(":FlashRestart kept client %d for %s", res.Before[f].ID, f)
		}
	}

	// Generation in each module: the quickstart's resources, and an empty
	// manifest for the nested module, which declares none.
	if !slices.Equal(res.Generated, []bool{true, true}) {
		t.Errorf(":FlashGenerate created the manifests: %v, want both; messages: %+v", res.Generated, res.Messages)
	}
	for i, m := range manifests {
		data, err := os.ReadFile(m)
		if err != nil {
			t.Errorf("reading the generated manifest: %v", err)
			continue
		}
		var parsed struct {
			Module    string         `json:"module"`
			Resources map[string]any `json:"resources"`
		}
		if err := json.Unmarshal(data, &parsed); err != nil {
			t.Errorf("%s: %v", m, err)
		}
		wantModule, wantResources := "example.com/quickstart", true
		if i == 1 {
			wantModule, wantResources = "example.com/nested", false
		}
		if parsed.Module != wantModule || (len(parsed.Resources) > 0) != wantResources {
			t.Errorf("%s: module %q with %d resources, want %q (resources: %v)", m, parsed.Module, len(parsed.Resources), wantModule, wantResources)
		}
	}
	// window/showMessage type 3 is Info: generate succeeded.
	if len(res.Messages) != 2 {
		t.Errorf("want one message per generate, got %+v", res.Messages)
	}
	for _, m := range res.Messages {
		if m.Type != 3 {
			t.Errorf("want an info message from generate, got %+v", m)
		}
		t.Logf("generate said: %s", m.Message)
	}

	// Two servers stopped by :FlashRestart, two more when Neovim quits.
	// Neovim 0.7 does not wait for its servers on quit (its exit handler
	// returns before they have exited, and the `exit` notification is sent
	// only once `shutdown` was answered), so an exit that happens after Neovim
	// is gone is not observed: the restart's exits must be there, every
	// observed exit must be clean, and every server must be gone soon after.
	data, err := os.ReadFile(exits)
	if err != nil {
		t.Fatalf("no server exit recorded: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) < 2 || len(lines) > 4 {
		t.Errorf("recorded %d server exits, want 2 to 4:\n%s", len(lines), data)
	}
	for _, l := range lines {
		var id, code, signal int
		if _, err := fmt.Sscan(l, &id, &code, &signal); err != nil {
			t.Fatalf("exits line %q: %v", l, err)
		}
		if code != 0 || signal != 0 {
			t.Errorf("client %d: server exited with code %d, signal %d; want 0, 0", id, code, signal)
		}
	}
	if len(res.Pids) != 2 {
		t.Errorf("want the pids of 2 running servers at quit, got %v", res.Pids)
	}
	for _, pid := range res.Pids {
		if !waitGone(pid, 5*time.Second) {
			t.Errorf("server process %d still running 5 s after Neovim quit", pid)
		}
	}
}

// TestPluginLua checks lua/flash_lsp in Neovim itself: defaults shared with
// lsp/flash_lsp.lua, option merging, root finding (nested modules, .git, no
// marker), attaching a Go buffer that was open before setup() (lazy
// loading), and leaving scratch and URI-named buffers alone.
func TestPluginLua(t *testing.T) {
	editortest.RequireTool(t, "nvim")
	root := editortest.RepoRoot(t)
	binDir, _ := buildServer(t, root)
	proj := filepath.Join(t.TempDir(), "quickstart")
	editortest.CopyProject(t, filepath.Join(root, "testdata", "projects", "quickstart"), proj, root)
	var res struct {
		Steps []string `json:"steps"`
	}
	runNvim(t, root, binDir, proj, "unit_init.lua", map[string]any{
		"dir":  t.TempDir(),
		"file": filepath.Join(proj, "cpu", "cpu.go"),
	}, &res)
	want := []string{"config", "roots", "lazy attach", "non-file buffers", "stopped"}
	if !slices.Equal(res.Steps, want) {
		t.Errorf("steps %v, want %v", res.Steps, want)
	}
}
