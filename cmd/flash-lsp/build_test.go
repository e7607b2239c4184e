package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this file and in generate_test.go and run_test.go drive the
// real flash-lsp binary on copies of real modules, and the handler binaries
// it builds over loopback HTTP.

var (
	cgBinOnce sync.Once
	cgBinPath string
	cgBinErr  error
)

// cgBinary builds flash-lsp once for the package's tests.
func cgBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs real binaries")
	}
	cgBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flash-lsp-test-")
		if err != nil {
			cgBinErr = err
			return
		}
		cgBinPath = filepath.Join(dir, "flash-lsp")
		out, err := exec.Command("go", "build", "-o", cgBinPath, ".").CombinedOutput()
		if err != nil {
			cgBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if cgBinErr != nil {
		t.Fatal(cgBinErr)
	}
	return cgBinPath
}

// repoRoot is the flash-lsp module's root.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// cgCopyModule copies the example module testdata/projects/<name> into a
// temporary directory, pointing its replace directive at this repository,
// and returns the copy's root. .flash is not copied.
func cgCopyModule(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join(repoRoot(t), "testdata", "projects", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == ".flash" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	cgReplace(t, dst)
	return dst
}

// cgReplace points the go.mod of the module at dir to this repository.
func cgReplace(t *testing.T, dir string) {
	t.Helper()
	gomod := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^replace github.com/flash-lsp/flash-lsp => .*$`)
	line := "replace github.com/flash-lsp/flash-lsp => " + repoRoot(t)
	if re.Match(data) {
		data = re.ReplaceAll(data, []byte(line))
	} else {
		data = append(data, []byte("\n"+line+"\n")...)
	}
	if err := os.WriteFile(gomod, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// cgWriteModule writes a module from a map of file names to contents; go.mod
// is completed with the flash-lsp requirement and replace directive.
func cgWriteModule(t *testing.T, modulePath string, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mod")
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gomod := fmt.Sprintf("module %s\n\ngo 1.26.0\n\nrequire github.com/flash-lsp/flash-lsp v0.0.0\n\nrequire github.com/gorilla/mux v1.8.1 // indirect\n", modulePath)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
		t.Fatal(err)
	}
	cgReplace(t, dir)
	// go.sum: the quickstart's lists what the runtime needs.
	sum, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "projects", "quickstart", "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type cgResult struct {
	code           int
	stdout, stderr string
}

// cgRun runs flash-lsp with args in dir.
func cgRun(t *testing.T, dir string, env []string, args ...string) cgResult {
	t.Helper()
	cmd := exec.Command(cgBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("flash-lsp %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return cgResult{code, stdout.String(), stderr.String()}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// handlerProc is a running handler binary.
type handlerProc struct {
	cmd    *exec.Cmd
	base   string
	stderr *bytes.Buffer
	done   chan error
}

// startHandler starts binary on a free loopback port and waits until GET
// /ping answers 200.
func startHandler(t *testing.T, binary string, env ...string) *handlerProc {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(binary)
	cmd.Env = append(os.Environ(), append([]string{"HOST=127.0.0.1", fmt.Sprintf("PORT=%d", port)}, env...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &handlerProc{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", port), stderr: &stderr, done: make(chan error, 1)}
	go func() { h.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-h.done
	})
	waitPing(t, h.base, h.done, &stderr)
	return h
}

// waitPing waits for GET base/ping to answer 200.
func waitPing(t *testing.T, base string, exited chan error, stderr fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("handler exited before serving: %v\n%s", err, stderr)
		default:
		}
		resp, err := http.Get(base + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/ping never answered 200\n%s", base, stderr)
}

// stop sends SIGTERM and checks the handler exits 0.
func (h *handlerProc) stop(t *testing.T) {
	t.Helper()
	h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-h.done:
		h.done <- err
		if err != nil {
			t.Errorf("handler exited with %v after SIGTERM\n%s", err, h.stderr)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("handler did not exit after SIGTERM")
	}
}

// call sends one request and returns the status and the decoded JSON body
// (nil when there is none).
func (h *handlerProc) call(t *testing.T, method, path, body string) (int, any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var v any
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s %s: %d with a body that is not JSON: %q", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode, v
}

// expect checks one request's status and that the JSON of its body
// contains want (a JSON object whose keys must match, recursively).
func (h *handlerProc) expect(t *testing.T, method, path, body string, status int, want string) {
	t.Helper()
	code, got := h.call(t, method, path, body)
	gotJSON, _ := json.Marshal(got)
	if code != status {
		t.Errorf("%s %s %s: status %d, want %d; body %s", method, path, body, code, status, gotJSON)
		return
	}
	if want == "" {
		return
	}
	var w any
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	if !jsonContains(got, w) {
		t.Errorf("%s %s %s: body %s, want it to contain %s", method, path, body, gotJSON, want)
	}
}

// jsonContains reports whether got matches want, where objects of want need
// only a subset of got's keys.
func jsonContains(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			if !jsonContains(g[k], v) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !jsonContains(g[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return fmt.Sprint(got) == fmt.Sprint(want)
	}
}

// untar unpacks a .tar.gz into dir and returns the entries' names in order.
func untar(t *testing.T, archive, dir string) []string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.ModTime.Unix() != 1700000000 {
			t.Errorf("archive entry %s: uid %d gid %d uname %q mtime %v", h.Name, h.Uid, h.Gid, h.Uname, h.ModTime)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			os.MkdirAll(p, 0o755)
			continue
		}
		os.MkdirAll(filepath.Dir(p), 0o755)
		out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fs.FileMode(h.Mode))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			t.Fatal(err)
		}
		out.Close()
	}
}

// TestBuildQuickstart builds the example project with the real binary,
// twice, and serves every handler in the archive.
func TestBuildQuickstart(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	env := []string{"SOURCE_DATE_EPOCH=1700000000"}
	r := cgRun(t, mod, env, "build")
	if r.code != 0 {
		t.Fatalf("build: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, re := range []string{
		`(?m)^✓ Checked \d+ functions in \d+ packages$`,
		`(?m)^✓ Generated 4 handlers and manifest$`,
		`(?m)^✓ Compiled 4 handlers$`,
		`(?m)^✓ Created \.flash/archive\.tar\.gz \(\d+\.\d MB\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(r.stderr) {
			t.Errorf("build stderr lacks %s:\n%s", re, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(mod, ".flash", ".build")); !os.IsNotExist(err) {
		t.Errorf(".flash/.build left behind: %v", err)
	}

	// Reproducible: a second build is byte-identical.
	first, err := os.ReadFile(filepath.Join(mod, ".flash", "archive.tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if r := cgRun(t, mod, env, "build", "-o", "again.tar.gz", "--keep-build"); r.code != 0 {
		t.Fatalf("second build: exit %d\n%s", r.code, r.stderr)
	}
	second, _ := os.ReadFile(filepath.Join(mod, ".flash", "again.tar.gz"))
	if !bytes.Equal(first, second) {
		t.Error("two builds with the same SOURCE_DATE_EPOCH differ")
	}
	if _, err := os.Stat(filepath.Join(mod, ".flash", ".build", "bin", "test-api")); err != nil {
		t.Errorf("--keep-build: %v", err)
	}

	// The generated files are current.
	if r := cgRun(t, mod, nil, "generate", "--check"); r.code != 0 {
		t.Errorf("generate --check after build: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	dir := t.TempDir()
	names := untar(t, filepath.Join(mod, ".flash", "archive.tar.gz"), dir)
	want := "bin/ bin/03_05_load_balancer_cpu bin/03_05_load_balancer_gpu bin/jobs bin/test-api flash_manifest.json"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("archive entries %q, want %q", got, want)
	}
	bin := func(name string) string { return filepath.Join(dir, "bin", name) }

	t.Run("test-api", func(t *testing.T) {
		h := startHandler(t, bin("test-api"))
		h.expect(t, "GET", "/items/2?verbose=true", "", 200, `{"id":"2","name":"Gadget","description":"A useful gadget."}`)
		h.expect(t, "GET", "/items/1", "", 200, `{"id":"1","name":"Widget"}`)
		if _, v := h.call(t, "GET", "/items/1?verbose=false", ""); v.(map[string]any)["description"] != nil {
			t.Errorf("verbose=false still has a description: %v", v)
		}
		h.expect(t, "GET", "/items/9", "", 404, `{"error":"item \"9\" not found"}`)
		h.expect(t, "GET", "/items/2?verbose=maybe", "", 400, "")
		h.expect(t, "POST", "/execute", `{"function_name":"GetItem","args":["1"]}`, 404, "")
		h.expect(t, "DELETE", "/items/2", "", 405, "")
		// The mothership serves the manifest.
		h.expect(t, "GET", "/manifest", "", 200, `{"project_name":"quickstart","module":"example.com/quickstart"}`)
		// It serves the OpenAPI document generate wrote (SPEC 16).
		h.expect(t, "GET", "/openapi.json", "", 200, string(mustRead(t, filepath.Join(mod, ".flash", "openapi", "test-api.json"))))
		h.stop(t)
	})
	t.Run("cpu", func(t *testing.T) {
		h := startHandler(t, bin("03_05_load_balancer_cpu"))
		h.expect(t, "GET", "/health", "", 200, `{"status":"healthy","worker":"cpu"}`)
		h.expect(t, "POST", "/validate", `{"text":"hello world"}`, 200, `{"valid":true,"words":2,"length":11}`)
		h.expect(t, "POST", "/validate", `{"text":""}`, 200, `{"valid":false}`)
		h.expect(t, "POST", "/validate", `{"text":`, 400, "")
		h.expect(t, "POST", "/validate", `{"txt":"a"}`, 400, "")
		h.expect(t, "POST", "/validate", `{}`, 400, "")
		h.expect(t, "POST", "/transform", `{"text":"abc"}`, 200, `{"result":"ABC","operation":"uppercase"}`)
		h.expect(t, "POST", "/transform", `{"text":"abc","operation":"reverse"}`, 200, `{"result":"cba"}`)
		h.expect(t, "POST", "/transform", `{"text":"abc","operation":"nope"}`, 500, "")
		h.expect(t, "GET", "/ping", "", 200, `{"status":"healthy"}`)
		h.expect(t, "GET", "/manifest", "", 403, `{"error":"only the mothership serves the manifest"}`)
		h.expect(t, "POST", "/execute", `{"function_name":"Transform","kwargs":{"text":"go","operation":"title"}}`, 200,
			`{"success":true,"result":{"result":"Go"}}`)
		h.expect(t, "POST", "/execute", `{"function_name":"example.com/quickstart/cpu.Validate","args":["x"]}`, 200,
			`{"success":true,"result":{"valid":true}}`)
		h.stop(t)
	})
	t.Run("gpu", func(t *testing.T) {
		h := startHandler(t, bin("03_05_load_balancer_gpu"))
		h.expect(t, "GET", "/health", "", 200, `{"status":"healthy","worker":"gpu"}`)
		h.expect(t, "POST", "/compute", `{"numbers":[1,2,3]}`, 200, `{"count":3,"sum":6,"mean":2,"min":1,"max":3}`)
		h.expect(t, "POST", "/compute", `{"numbers":"x"}`, 400, "")
		h.expect(t, "GET", "/info", "", 200, `{"resource":"03_05_load_balancer_gpu","gpus":["AMPERE_16"],"workers_min":1}`)
		h.expect(t, "POST", "/execute", `{"function_name":"Compute","args":[[4]]}`, 200, `{"success":true,"result":{"mean":4}}`)
		h.stop(t)
	})
	t.Run("jobs", func(t *testing.T) {
		h := startHandler(t, bin("jobs"))
		h.expect(t, "POST", "/runsync", `{"input":{"function_name":"Reverse","args":["abc"]}}`, 200,
			`{"status":"COMPLETED","output":{"success":true,"result":"cba"}}`)
		h.expect(t, "POST", "/runsync", `{"input":{"function_name":"WordCount","kwargs":{"text":"a b a","top":1}}}`, 200,
			`{"status":"COMPLETED","output":{"success":true,"result":{"words":3,"top":["a"]}}}`)
		h.expect(t, "POST", "/runsync", `{"input":{"function_name":"Nope"}}`, 200,
			`{"status":"COMPLETED","output":{"success":false}}`)
		h.expect(t, "POST", "/runsync", `{"input":null}`, 200, `{"status":"COMPLETED","output":{"success":false}}`)
		h.stop(t)
	})
}
