//go:build unix

package emacs_test

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
	"testing"
	"time"

	"github.com/flash-lsp/flash-lsp/internal/editortest"
)

// key is a diagnostic's position and rule. The editors come from `make
// deps-editors`: emacs-nox, elpa-eglot and elpa-go-mode.
type key = editortest.Key

// buildServer compiles cmd/flash-lsp from this tree into dir.
func buildServer(t *testing.T, root, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "flash-lsp")
	if err := editortest.BuildServer(root, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// diag is a Flymake diagnostic as e2e.el records it.
type diag struct {
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	Code    string `json:"code"`
	Type    string `json:"type"`
	Message string `json:"message"`
}

func keys(ds []diag) []key {
	var ks []key
	for _, d := range ds {
		ks = append(ks, key{Line: d.Line, Col: d.Col, Code: d.Code})
	}
	slices.SortFunc(ks, editortest.CompareKeys)
	return ks
}

// checkFindings runs `flash-lsp check --format json` on one package and
// returns the findings in file (relative to the project).
func checkFindings(t *testing.T, server, proj, pkg, file string) []key {
	t.Helper()
	cmd := exec.Command(server, "check", "-C", proj, "--format", "json", pkg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
			t.Fatalf("flash-lsp check: %v\n%s", err, stderr.String())
		}
	}
	var findings []struct {
		File string `json:"file"`
		Line int    `json:"line"`
		Col  int    `json:"col"`
		Rule string `json:"rule"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &findings); err != nil {
		t.Fatalf("flash-lsp check --format json: %v\n%s", err, stdout.String())
	}
	var want []key
	for _, f := range findings {
		if filepath.ToSlash(f.File) == file {
			want = append(want, key{Line: f.Line, Col: f.Col, Code: f.Rule})
		}
	}
	if len(want) == 0 {
		t.Fatalf("flash-lsp check found nothing in %s: %s", file, stdout.String())
	}
	slices.SortFunc(want, editortest.CompareKeys)
	return want
}

// linePos finds the 1-based line containing marker and the 1-based byte
// column of token on it.
func linePos(t *testing.T, src, marker, token string) (line, col int) {
	t.Helper()
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, marker) {
			c := strings.Index(l, token)
			if c < 0 {
				t.Fatalf("token %q not on the line of %q", token, marker)
			}
			return i + 1, c + 1
		}
	}
	t.Fatalf("no line contains %q", marker)
	return 0, 0
}

type message struct {
	Type    int    `json:"type"`
	Message string `json:"message"`
}

// runEmacs runs testdata/e2e.el in `emacs --batch` with the built server
// first on PATH and a throwaway HOME. The spec gets "lisp" (this directory)
// and "out" added; the driver's findings are decoded into res.
func runEmacs(t *testing.T, binDir string, spec map[string]any, res any) {
	t.Helper()
	emacs := editortest.RequireTool(t, "emacs")
	here, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	out := filepath.Join(tmp, "result.json")
	spec["lisp"] = here
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
	// --batch reads no init file; Debian's site-start puts elpa-eglot and
	// elpa-go-mode on the load-path.
	cmd := exec.CommandContext(ctx, emacs, "--batch", "-l", filepath.Join(here, "testdata", "e2e.el"))
	cmd.Env = append(os.Environ(),
		"PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+filepath.Join(tmp, "home"),
		"FLASH_E2E_SPEC="+specFile,
		// Keep Go's caches, which the new HOME would otherwise move.
		"GOCACHE="+editortest.GoEnv(t, "GOCACHE"),
		"GOMODCACHE="+editortest.GoEnv(t, "GOMODCACHE"),
		"GOPATH="+editortest.GoEnv(t, "GOPATH"),
	)
	var emacsOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &emacsOut, &emacsOut
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("emacs (%s) ran for %v", spec["mode"], time.Since(start).Round(time.Millisecond))

	var common struct {
		Steps    []string  `json:"steps"`
		Error    string    `json:"error"`
		Diags    []diag    `json:"diags"`
		Messages []message `json:"messages"`
		Events   string    `json:"events"`
	}
	raw, readErr := os.ReadFile(out)
	if readErr == nil {
		readErr = json.Unmarshal(raw, &common)
	}
	if readErr == nil {
		readErr = json.Unmarshal(raw, res)
	}
	if runErr != nil || readErr != nil || common.Error != "" {
		if common.Events != "" {
			t.Logf("end of eglot's events buffer:\n%s", common.Events)
		}
		t.Fatalf("emacs: %v; result: %v; steps done %v; error: %s\ndiagnostics: %+v\nmessages: %+v\noutput:\n%s",
			runErr, readErr, common.Steps, common.Error, common.Diags, common.Messages, emacsOut.String())
	}
}

// TestEmacsEglot drives Debian's Emacs 28 and eglot 1.9 with flash-lsp.el
// set up as its README says for eglot (flash-lsp-eglot-server 'flash-lsp,
// flash-lsp-setup, eglot-ensure from go-mode-hook)
// against the real server on copies of testdata/projects: the diagnostics
// match `flash-lsp check`, the quick fix applied through eglot and saved
// changes exactly the method on disk and clears its diagnostic, hover shows
// the route and a curl example, an unsaved edit gets a new diagnostic,
// flash-lsp-generate refuses in the broken project and writes .flash/ in the
// clean one.
func TestEmacsEglot(t *testing.T) {
	editortest.RequireTool(t, "emacs")
	root := editortest.RepoRoot(t)
	tmp := t.TempDir()
	binDir := filepath.Join(tmp, "bin")
	server := buildServer(t, root, binDir)

	proj := filepath.Join(tmp, "broken")
	editortest.CopyProject(t, filepath.Join(root, "testdata", "projects", "broken"), proj, root)
	clean := filepath.Join(tmp, "quickstart")
	editortest.CopyProject(t, filepath.Join(root, "testdata", "projects", "quickstart"), clean, root)
	file := filepath.Join(proj, "api", "api.go")
	srcBytes, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	src := string(srcBytes)
	want := checkFindings(t, server, proj, "./api", "api/api.go")

	fixLine, fixCol := linePos(t, src, "path=/bad-method", "get")
	editLine, _ := linePos(t, src, "path=/ping", "/ping")
	editCol := len(strings.Split(src, "\n")[editLine-1]) + 2 // after " " of " pth=/y"
	var res struct {
		Server   string  `json:"server"`
		Initial  []diag  `json:"initial"`
		FixTitle string  `json:"fix_title"`
		AfterFix []diag  `json:"after_fix"`
		Hover    string  `json:"hover"`
		Unsaved  []diag  `json:"unsaved"`
		Modified bool    `json:"modified"`
		Refused  message `json:"refused"`
		Gen      message `json:"generated"`
	}
	runEmacs(t, binDir, map[string]any{
		"mode":          "eglot",
		"file":          file,
		"initial_count": len(want),
		"fix":           map[string]any{"line": fixLine, "col": fixCol, "code": "bad-method"},
		"hover":         map[string]any{"line": fixLine, "col": fixCol},
		"edit":          map[string]any{"line": editLine, "text": " pth=/y", "code": "unknown-key"},
		"clean_file":    filepath.Join(clean, "cpu", "cpu.go"),
	}, &res)

	if res.Server != server {
		t.Errorf("eglot ran %q, want the built flash-lsp %q", res.Server, server)
	}
	if got := keys(res.Initial); !slices.Equal(got, want) {
		t.Errorf("diagnostics in Emacs differ from flash-lsp check:\n got %v\nwant %v", got, want)
	}
	for _, d := range res.Initial {
		if !strings.Contains(d.Message, d.Code) || (d.Type != "eglot-error" && d.Type != "eglot-warning") {
			t.Errorf("diagnostic %+v: want an eglot error or warning naming its rule", d)
		}
	}

	// The quick fix, through eglot, saved.
	if res.FixTitle != "Change method to GET" {
		t.Errorf("quick fix %q, want \"Change method to GET\"", res.FixTitle)
	}
	fixed, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if wantFixed := strings.Replace(src, "method=get path=/bad-method", "method=GET path=/bad-method", 1); string(fixed) != wantFixed {
		t.Errorf("the file on disk after the quick fix and save is not the original with the method fixed:\n%s", fixed)
	}
	wantAfter := slices.DeleteFunc(slices.Clone(want), func(k key) bool { return k == key{Line: fixLine, Col: fixCol, Code: "bad-method"} })
	if len(wantAfter) != len(want)-1 {
		t.Fatalf("bad-method at %d:%d not among the expected findings %v", fixLine, fixCol, want)
	}
	if got := keys(res.AfterFix); !slices.Equal(got, wantAfter) {
		t.Errorf("diagnostics after the fix:\n got %v\nwant %v", got, wantAfter)
	}

	// Hover on the fixed directive.
	for _, s := range []string{"Flash resource `api`", "**Route:** `GET /bad-method` → `BadMethod`", "curl -X GET 'http://localhost:8000/bad-method'"} {
		if !strings.Contains(res.Hover, s) {
			t.Errorf("hover does not contain %q:\n%s", s, res.Hover)
		}
	}

	// The unsaved edit.
	if !slices.Contains(keys(res.Unsaved), key{Line: editLine, Col: editCol, Code: "unknown-key"}) {
		t.Errorf("no unknown-key at %d:%d after typing \" pth=/y\": %v", editLine, editCol, keys(res.Unsaved))
	}
	if !res.Modified {
		t.Errorf("the buffer was saved during the unsaved edit")
	}
	if onDisk, _ := os.ReadFile(file); strings.Contains(string(onDisk), "pth=/y") {
		t.Errorf("the unsaved edit reached the disk")
	}

	// Generate: refused with errors, done without.
	if res.Refused.Type != 1 || !strings.Contains(res.Refused.Message, "fix the errors first") {
		t.Errorf("generate in the broken project: %+v, want an error message asking to fix the errors", res.Refused)
	}
	if _, err := os.Stat(filepath.Join(proj, ".flash")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused generate wrote .flash/ (stat: %v)", err)
	}
	if res.Gen.Type != 3 || !strings.Contains(res.Gen.Message, "generated") {
		t.Errorf("generate in the clean project: %+v, want an info message", res.Gen)
	}
	checkManifest(t, clean)
}

func checkManifest(t *testing.T, proj string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(proj, ".flash", "flash_manifest.json"))
	if err != nil {
		t.Errorf("no manifest after generate: %v", err)
		return
	}
	var m struct {
		Module    string         `json:"module"`
		Resources map[string]any `json:"resources"`
	}
	if err := json.Unmarshal(data, &m); err != nil || m.Module != "example.com/quickstart" || len(m.Resources) == 0 {
		t.Errorf("manifest: module %q, %d resources, err %v", m.Module, len(m.Resources), err)
	}
}

// TestEmacsFlymake checks flash-lsp.el's default, the gopls variant
// (flash-lsp-eglot-server 'gopls): eglot's server list is left alone,
// flash-lsp-flymake-mode turns on in go-mode buffers, its Flymake backend
// reports exactly what `flash-lsp check` finds at the same positions,
// flash-lsp-generate runs `flash-lsp generate` in the buffer's module, and a
// flash-lsp-program that does not exist is an error naming the install command.
func TestEmacsFlymake(t *testing.T) {
	editortest.RequireTool(t, "emacs")
	root := editortest.RepoRoot(t)
	tmp := t.TempDir()
	binDir := filepath.Join(tmp, "bin")
	server := buildServer(t, root, binDir)
	proj := filepath.Join(tmp, "broken")
	editortest.CopyProject(t, filepath.Join(root, "testdata", "projects", "broken"), proj, root)
	clean := filepath.Join(tmp, "quickstart")
	editortest.CopyProject(t, filepath.Join(root, "testdata", "projects", "quickstart"), clean, root)
	want := checkFindings(t, server, proj, "./api", "api/api.go")

	var res struct {
		FlymakeMode   bool     `json:"flymake_mode"`
		EglotPrograms bool     `json:"eglot_programs"`
		Initial       []diag   `json:"initial"`
		GenerateExit  *int     `json:"generate_exit"`
		Missing       string   `json:"missing"`
		DefaultServer string   `json:"default_server"`
		WithEglot     []diag   `json:"with_eglot"`
		Backends      []string `json:"backends"`
	}
	runEmacs(t, binDir, map[string]any{
		"mode":          "flymake",
		"file":          filepath.Join(proj, "api", "api.go"),
		"initial_count": len(want),
		"clean_file":    filepath.Join(clean, "cpu", "cpu.go"),
	}, &res)
	if res.DefaultServer != "gopls" {
		t.Errorf("flash-lsp-eglot-server defaults to %q, want gopls (flash-lsp beside gopls, not instead)", res.DefaultServer)
	}
	if !res.FlymakeMode {
		t.Errorf("flash-lsp-flymake-mode is off in a go-mode buffer")
	}
	if res.EglotPrograms {
		t.Errorf("flash-lsp is in eglot-server-programs although eglot is to keep gopls")
	}
	if got := keys(res.Initial); !slices.Equal(got, want) {
		t.Errorf("Flymake diagnostics differ from flash-lsp check:\n got %v\nwant %v", got, want)
	}
	for _, d := range res.Initial {
		if d.Code == "route-on-queue" && d.Type != ":warning" || d.Code != "route-on-queue" && d.Type != ":error" {
			t.Errorf("diagnostic %+v has the wrong Flymake type", d)
		}
	}
	// With eglot managing the buffer too (as it would with gopls), both
	// backends report: eglot's, and flash-lsp-flymake's, unchanged.
	var ours, eglots []diag
	for _, d := range res.WithEglot {
		if strings.HasPrefix(d.Type, "eglot-") {
			eglots = append(eglots, d)
		} else {
			ours = append(ours, d)
		}
	}
	if got := keys(ours); !slices.Equal(got, want) {
		t.Errorf("with eglot in the buffer, flash-lsp-flymake reports:\n got %v\nwant %v (backends %v)", got, want, res.Backends)
	}
	if len(eglots) == 0 || !slices.Contains(res.Backends, "eglot-flymake-backend") || !slices.Contains(res.Backends, "flash-lsp-flymake") {
		t.Errorf("want eglot's and flash-lsp's Flymake backends both reporting; backends %v, %d eglot diagnostics", res.Backends, len(eglots))
	}
	if res.GenerateExit == nil || *res.GenerateExit != 0 {
		t.Errorf("flash-lsp-generate exit = %v, want 0", fmtPtr(res.GenerateExit))
	}
	checkManifest(t, clean)
	if want := "flash-lsp: /nonexistent/flash-lsp was not found; install it with \"go install github.com/flash-lsp/flash-lsp/cmd/flash-lsp@latest\""; !strings.HasPrefix(res.Missing, want) {
		t.Errorf("with flash-lsp-program missing: %q, want it to start with %q", res.Missing, want)
	}
}

func fmtPtr(p *int) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// TestEmacsByteCompile byte-compiles flash-lsp.el with warnings as errors.
func TestEmacsByteCompile(t *testing.T) {
	emacs := editortest.RequireTool(t, "emacs")
	tmp := t.TempDir()
	src, err := os.ReadFile("flash-lsp.el")
	if err != nil {
		t.Fatal(err)
	}
	el := filepath.Join(tmp, "flash-lsp.el")
	if err := os.WriteFile(el, src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(emacs, "--batch", "--eval", "(setq byte-compile-error-on-warn t)", "-f", "batch-byte-compile", el)
	cmd.Env = append(os.Environ(), "HOME="+tmp)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("byte-compiling flash-lsp.el: %v\n%s", err, out)
	}
}
