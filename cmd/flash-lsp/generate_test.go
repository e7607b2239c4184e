package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// TestGenerateCheck: generate --check fails before generate, passes after,
// survives regeneration unchanged, and fails after a directive edit without
// writing anything.
func TestGenerateCheck(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	manifest := filepath.Join(mod, ".flash", "flash_manifest.json")

	r := cgRun(t, mod, nil, "generate", "--check")
	if r.code != 1 || !strings.Contains(r.stdout, "missing: .flash/flash_manifest.json") ||
		!strings.Contains(r.stdout, "missing: .flash/handlers/test-api/main.go") {
		t.Fatalf("generate --check before generate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(mod, ".flash")); !os.IsNotExist(err) {
		t.Fatalf("generate --check wrote .flash: %v", err)
	}

	// -C from elsewhere; flags accepted for the typed clients to come.
	r = cgRun(t, t.TempDir(), nil, "generate", "-C", mod, "--client-dir", "flashclient")
	if r.code != 0 || !strings.Contains(r.stderr, "✓ Generated 4 handlers and manifest") {
		t.Fatalf("generate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "✓ Generated 3 OpenAPI documents in .flash/openapi/") {
		t.Errorf("generate does not report the OpenAPI documents:\n%s", r.stderr)
	}
	for _, f := range []string{"flash_manifest.json", ".gitignore", "handlers/test-api/main.go",
		"handlers/jobs/main.go", "handlers/03_05_load_balancer_cpu/main.go", "handlers/03_05_load_balancer_gpu/main.go",
		"openapi/test-api.json", "openapi/03_05_load_balancer_cpu.json", "openapi/03_05_load_balancer_gpu.json"} {
		if _, err := os.Stat(filepath.Join(mod, ".flash", filepath.FromSlash(f))); err != nil {
			t.Error(err)
		}
	}
	if r := cgRun(t, mod, nil, "generate", "--check"); r.code != 0 {
		t.Fatalf("generate --check after generate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Regenerating an unchanged project, a second later, rewrites nothing.
	before, _ := os.ReadFile(manifest)
	info, _ := os.Stat(manifest)
	time.Sleep(1100 * time.Millisecond)
	if r := cgRun(t, mod, nil, "generate", "--no-client"); r.code != 0 {
		t.Fatalf("second generate: exit %d\n%s", r.code, r.stderr)
	}
	after, _ := os.ReadFile(manifest)
	info2, _ := os.Stat(manifest)
	if !bytes.Equal(before, after) || !info.ModTime().Equal(info2.ModTime()) {
		t.Error("regenerating an unchanged project rewrote the manifest")
	}

	// A directive edit makes the manifest and the resource's handler stale.
	cpu := filepath.Join(mod, "cpu", "cpu.go")
	src, _ := os.ReadFile(cpu)
	edited := strings.Replace(string(src), "path=/validate", "path=/check-text", 1)
	if edited == string(src) {
		t.Fatal("cpu.go has no path=/validate directive")
	}
	os.WriteFile(cpu, []byte(edited), 0o644)
	r = cgRun(t, mod, nil, "generate", "--check")
	if r.code != 1 || !strings.Contains(r.stdout, "stale: .flash/flash_manifest.json") ||
		!strings.Contains(r.stdout, "stale: .flash/handlers/03_05_load_balancer_cpu/main.go") ||
		!strings.Contains(r.stdout, "stale: .flash/openapi/03_05_load_balancer_cpu.json") {
		t.Errorf("generate --check after an edit: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if now, _ := os.ReadFile(manifest); !bytes.Equal(now, before) {
		t.Error("generate --check wrote the manifest")
	}
	if r := cgRun(t, mod, nil, "generate"); r.code != 0 {
		t.Fatalf("generate after the edit: exit %d\n%s", r.code, r.stderr)
	}
	if now, _ := os.ReadFile(manifest); !bytes.Contains(now, []byte(`"POST /check-text"`)) {
		t.Error("manifest lacks the edited route")
	}

	// A removed resource's handler directory goes away.
	os.MkdirAll(filepath.Join(mod, ".flash", "handlers", "old-resource"), 0o755)
	os.WriteFile(filepath.Join(mod, ".flash", "handlers", "old-resource", "main.go"), []byte(model.GeneratedHeader+"\n\npackage main\n"), 0o644)
	r = cgRun(t, mod, nil, "generate", "--check")
	if r.code != 1 || !strings.Contains(r.stdout, "extra: .flash/handlers/old-resource") {
		t.Errorf("generate --check with a stale handler: exit %d\n%s", r.code, r.stdout)
	}
	cgRun(t, mod, nil, "generate")
	if _, err := os.Stat(filepath.Join(mod, ".flash", "handlers", "old-resource")); !os.IsNotExist(err) {
		t.Errorf("stale handler directory kept: %v", err)
	}
}

// TestGenerateErrorsWriteNothing: an error finding stops generate and build
// before anything is written; compile errors alone stop build only.
func TestGenerateErrorsWriteNothing(t *testing.T) {
	mod := cgWriteModule(t, "example.com/broken", map[string]string{
		"api/api.go": `package api

import "github.com/flash-lsp/flash-lsp/runtime"

var API = runtime.LoadBalancer{Name: "api"}

//flash:remote API
func Hello() string { return "hi" }
`,
	})
	for _, cmd := range []string{"generate", "build"} {
		r := cgRun(t, mod, nil, cmd)
		if r.code != 1 || !strings.Contains(r.stderr, "[missing-route]") || !strings.Contains(r.stderr, "nothing written") {
			t.Errorf("%s: exit %d\n%s", cmd, r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(mod, ".flash")); !os.IsNotExist(err) {
			t.Errorf("%s wrote .flash despite an error: %v", cmd, err)
		}
	}

	compileErr := cgWriteModule(t, "example.com/compileerr", map[string]string{
		"api/api.go": `package api

import "github.com/flash-lsp/flash-lsp/runtime"

var API = runtime.LoadBalancer{Name: "api"}

//flash:remote API method=GET path=/hello
func Hello() string { return "hi" }
`,
		"other/other.go": "package other\n\nvar X int = \"not an int\"\n",
	})
	r := cgRun(t, compileErr, nil, "generate")
	if r.code != 0 || !strings.Contains(r.stderr, "[compile]") {
		t.Errorf("generate with only a compile error: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(compileErr, ".flash", "handlers", "api", "main.go")); err != nil {
		t.Errorf("generate with only a compile error wrote no handler: %v", err)
	}
	r = cgRun(t, compileErr, nil, "build")
	if r.code != 1 || !strings.Contains(r.stderr, "[compile]") {
		t.Errorf("build with a compile error: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(compileErr, ".flash", "archive.tar.gz")); !os.IsNotExist(err) {
		t.Errorf("build with a compile error wrote an archive: %v", err)
	}
}

// TestBuildUnusualNames: a module path and directory with digits and dashes,
// a package named like the flash runtime, pointer resources and named types
// from other packages all compile and serve.
func TestBuildUnusualNames(t *testing.T) {
	mod := cgWriteModule(t, "example.com/03-app", map[string]string{
		"runtime/runtime.go": `// Package runtime is the user's own package named runtime.
package runtime

// Level is a named integer.
type Level int
`,
		"03_advanced-workers/workers.go": `package workers

import (
	"context"
	"strings"

	flash "github.com/flash-lsp/flash-lsp/runtime"
	"example.com/03-app/runtime"
)

var Queue = &flash.CPUServerless{Name: "advanced workers.v2"}

var Web = flash.CPULoadBalancer{Name: "web"}

//flash:remote Queue
func Scale(ctx context.Context, n int, lvl runtime.Level) (int, error) { return n * int(lvl), nil }

//flash:remote Web method=GET path=/repeat/{word}
func Repeat(word string, times runtime.Level, sep *string, tags []string) string {
	s := " "
	if sep != nil {
		s = *sep
	}
	out := make([]string, 0, int(times))
	for range int(times) {
		out = append(out, word)
	}
	return strings.Join(out, s) + strings.Join(tags, "")
}

//flash:remote Web method=PUT path=/noop
func Noop(ctx context.Context) error { return nil }
`,
	})
	r := cgRun(t, mod, []string{"SOURCE_DATE_EPOCH=1700000000"}, "build")
	if r.code != 0 {
		t.Fatalf("build: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	src, _ := os.ReadFile(filepath.Join(mod, ".flash", "handlers", "advanced_workers_v2", "main.go"))
	for _, want := range []string{`workers "example.com/03-app/03_advanced-workers"`, `runtime2 "example.com/03-app/runtime"`, "var p1 runtime2.Level"} {
		if !strings.Contains(string(src), want) {
			t.Errorf("queue handler lacks %q:\n%s", want, src)
		}
	}
	dir := t.TempDir()
	untar(t, filepath.Join(mod, ".flash", "archive.tar.gz"), dir)

	q := startHandler(t, filepath.Join(dir, "bin", "advanced_workers_v2"))
	q.expect(t, "POST", "/runsync", `{"input":{"function_name":"Scale","args":[21],"kwargs":{"lvl":2}}}`, 200,
		`{"status":"COMPLETED","output":{"success":true,"result":42}}`)
	q.stop(t)

	w := startHandler(t, filepath.Join(dir, "bin", "web"))
	w.expect(t, "GET", "/repeat/go?times=3&sep=-&tags=a&tags=b", "", 200, `"go-go-goab"`)
	w.expect(t, "GET", "/repeat/a%2Fb?times=2&tags=!", "", 200, `"a/b a/b!"`)
	w.expect(t, "GET", "/repeat/go?times=1", "", 400, "") // a slice is required too
	w.expect(t, "GET", "/repeat/go?tags=a", "", 400, "")  // times is required
	w.expect(t, "GET", "/repeat/go?times=x&tags=a", "", 400, "")
	if code, _ := w.call(t, "PUT", "/noop", ""); code != 204 {
		t.Errorf("PUT /noop: %d, want 204", code)
	}
	w.stop(t)
}

// TestGenerateUsage: --client-dir and --no-client are alternatives
// (SPEC 7): given both, generate says so and writes nothing, as it does for
// a stray argument.
func TestGenerateUsage(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	for _, args := range [][]string{
		{"generate", "--client-dir", "clients", "--no-client"},
		{"generate", "--no-client", "--client-dir=flashclient"},
		{"generate", "extra"},
	} {
		r := cgRun(t, mod, nil, args...)
		if r.code != 2 || r.stderr == "" {
			t.Errorf("%v: exit %d, want 2 with a message\n%s", args, r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(mod, ".flash")); !os.IsNotExist(err) {
			t.Fatalf("%v wrote .flash: %v", args, err)
		}
	}
}
