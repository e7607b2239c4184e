package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flash-lsp/flash-lsp/analysis/fix"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/project"
	"github.com/flash-lsp/flash-lsp/codegen"
)

// The scenarios of SPEC section 14 on real temporary modules and the real
// binary: after each, the user's files are intact byte for byte and
// nothing outside .flash/ and the client directory changed.

// hashTree maps every path under dir (links not followed) to a digest.
func hashTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := make(map[string]string)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "link " + target
		case d.IsDir():
			out[rel] = "dir"
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			out[rel] = hex.EncodeToString(sum[:])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unchangedOutside fails when a path outside the prefixes differs.
func unchangedOutside(t *testing.T, what string, before, after map[string]string, prefixes ...string) {
	t.Helper()
	inside := func(p string) bool {
		for _, e := range prefixes {
			if p == e || strings.HasPrefix(p, e+"/") {
				return true
			}
		}
		return false
	}
	for p, h := range before {
		if !inside(p) && after[p] != h {
			t.Errorf("%s: %s changed", what, p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok && !inside(p) {
			t.Errorf("%s: %s appeared", what, p)
		}
	}
}

func mustWrite(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func assertFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil || string(got) != want {
			t.Errorf("user file %s: %q, %v; want %q", name, got, err, want)
		}
	}
}

// TestGenerateRenameKeepsUserFiles is the first report: a resource
// renamed from jobs to jobs2 must not delete the user's helpers.go in
// flashclient/jobs, nor notes in its handler directory.
func TestGenerateRenameKeepsUserFiles(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	if r := cgRun(t, mod, nil, "generate"); r.code != 0 {
		t.Fatalf("generate: %d\n%s", r.code, r.stderr)
	}
	user := map[string]string{
		"flashclient/jobs/helpers.go":               "package jobs\n\n// Helper is mine.\nfunc Helper() int { return 1 }\n",
		".flash/handlers/jobs/NOTES.md":             "my notes\n",
		"flashclient/test-api/extra_test.go":        "package test_api\n",
		".flash/handlers/03_05_load_balancer_gpu/x": "x\n",
	}
	for name, data := range user {
		mustWrite(t, filepath.Join(mod, name), data)
	}
	resFile := filepath.Join(mod, "res", "res.go")
	src, _ := os.ReadFile(resFile)
	renamed := strings.Replace(string(src), `Name:        "jobs",`, `Name:        "jobs2",`, 1)
	if renamed == string(src) {
		t.Fatal("res.go has no jobs resource")
	}
	os.WriteFile(resFile, []byte(renamed), 0o644)
	before := hashTree(t, mod)

	r := cgRun(t, mod, nil, "generate")
	if r.code != 0 {
		t.Fatalf("generate after the rename: %d\n%s", r.code, r.stderr)
	}
	assertFiles(t, mod, user)
	for _, w := range []string{"warning: kept flashclient/jobs/helpers.go", "warning: kept .flash/handlers/jobs/NOTES.md"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	for _, gone := range []string{"flashclient/jobs/client.go", ".flash/handlers/jobs/main.go"} {
		if _, err := os.Lstat(filepath.Join(mod, gone)); err == nil {
			t.Errorf("stale generated %s kept", gone)
		}
	}
	for _, made := range []string{"flashclient/jobs2/client.go", ".flash/handlers/jobs2/main.go"} {
		if _, err := os.Stat(filepath.Join(mod, made)); err != nil {
			t.Error(err)
		}
	}
	unchangedOutside(t, "rename", before, hashTree(t, mod), ".flash", "flashclient")

	// Removing the resource altogether, with user files in its new
	// directories: the same.
	user["flashclient/jobs2/more.go"] = "package jobs2\n"
	user[".flash/handlers/jobs2/data.json"] = "{}\n"
	for name, data := range user {
		mustWrite(t, filepath.Join(mod, name), data)
	}
	start := strings.Index(renamed, "// Jobs runs batch text jobs")
	if start < 0 {
		t.Fatal("res.go has no Jobs declaration")
	}
	os.WriteFile(resFile, []byte(renamed[:start]), 0o644)
	jobsFile := filepath.Join(mod, "jobs", "jobs.go")
	jobsSrc, _ := os.ReadFile(jobsFile)
	os.WriteFile(jobsFile, bytes.ReplaceAll(jobsSrc, []byte("//flash:remote res.Jobs"), []byte("// (no longer remote)")), 0o644)
	before = hashTree(t, mod)
	r = cgRun(t, mod, nil, "generate")
	if r.code != 0 {
		t.Fatalf("generate after the removal: %d\n%s", r.code, r.stderr)
	}
	assertFiles(t, mod, user)
	for _, w := range []string{"warning: kept flashclient/jobs2/more.go", "warning: kept .flash/handlers/jobs2/data.json"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
	for _, gone := range []string{"flashclient/jobs2/client.go", ".flash/handlers/jobs2/main.go"} {
		if _, err := os.Lstat(filepath.Join(mod, gone)); err == nil {
			t.Errorf("stale generated %s kept", gone)
		}
	}
	unchangedOutside(t, "removal", before, hashTree(t, mod), ".flash", "flashclient")
}

// TestGenerateRefusesLinks: a link at .flash, .flash/handlers, the client
// directory or a directory below them: exit 1 naming it, nothing written
// in the module or where the link points.
func TestGenerateRefusesLinks(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	if r := cgRun(t, mod, nil, "generate"); r.code != 0 {
		t.Fatalf("generate: %d\n%s", r.code, r.stderr)
	}
	cpu := filepath.Join(mod, "cpu", "cpu.go")
	src, _ := os.ReadFile(cpu)
	os.WriteFile(cpu, bytes.Replace(src, []byte("path=/validate"), []byte("path=/validated"), 1), 0o644)
	for _, link := range []string{".flash/handlers", "flashclient", "flashclient/jobs", ".flash/handlers/old", ".flash"} {
		t.Run(strings.ReplaceAll(link, "/", "_"), func(t *testing.T) {
			outside := t.TempDir()
			mustWrite(t, filepath.Join(outside, "main.go"), model.GeneratedHeader+"\n\npackage main\n")
			mustWrite(t, filepath.Join(outside, "mine.txt"), "mine\n")
			abs := filepath.Join(mod, filepath.FromSlash(link))
			saved := abs + ".saved"
			if _, err := os.Lstat(abs); err == nil {
				if err := os.Rename(abs, saved); err != nil {
					t.Fatal(err)
				}
				defer os.Rename(saved, abs)
			}
			if err := os.Symlink(outside, abs); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(abs)
			before, beforeOut := hashTree(t, mod), hashTree(t, outside)
			r := cgRun(t, mod, nil, "generate")
			if r.code != 1 || !strings.Contains(r.stderr, link+" is a symbolic link") {
				t.Errorf("generate with %s a link: exit %d\n%s", link, r.code, r.stderr)
			}
			unchangedOutside(t, "module", before, hashTree(t, mod))
			unchangedOutside(t, "link target", beforeOut, hashTree(t, outside))
			if r := cgRun(t, mod, nil, "generate", "--check"); r.code != 1 || !strings.Contains(r.stderr, link+" is a symbolic link") {
				t.Errorf("generate --check with %s a link: exit %d\n%s", link, r.code, r.stderr)
			}
		})
	}
}

// TestGenerateUserPackageAndGitignore: a package of the user's at
// flashclient/<dir> stops generate naming its files; a hand-edited
// .flash/.gitignore is never rewritten.
func TestGenerateUserPackageAndGitignore(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	os.Remove(filepath.Join(mod, "flashclient", "jobs", "client.go"))
	user := map[string]string{
		"flashclient/jobs/jobs.go":  "package jobs\n\n// Mine is the user's own.\nvar Mine = 1\n",
		"flashclient/jobs/other.go": "package jobs\n",
		".flash/.gitignore":         "# mine\n*\n",
	}
	for name, data := range user {
		mustWrite(t, filepath.Join(mod, name), data)
	}
	before := hashTree(t, mod)
	r := cgRun(t, mod, nil, "generate")
	if r.code != 1 || !strings.Contains(r.stderr, "flashclient/jobs/jobs.go belongs to a package of yours") ||
		!strings.Contains(r.stderr, "flashclient/jobs/other.go belongs to a package of yours") || !strings.Contains(r.stderr, "nothing written") {
		t.Errorf("generate over a user package: exit %d\n%s", r.code, r.stderr)
	}
	unchangedOutside(t, "user package", before, hashTree(t, mod), ".flash/.lock")
	r = cgRun(t, mod, nil, "generate", "--check")
	if r.code != 1 || !strings.Contains(r.stdout, "conflict: flashclient/jobs/jobs.go (belongs to a package of yours") {
		t.Errorf("generate --check over a user package: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// With the package elsewhere, generate runs and leaves .gitignore.
	os.RemoveAll(filepath.Join(mod, "flashclient", "jobs"))
	delete(user, "flashclient/jobs/jobs.go")
	delete(user, "flashclient/jobs/other.go")
	if r := cgRun(t, mod, nil, "generate"); r.code != 0 {
		t.Fatalf("generate: %d\n%s", r.code, r.stderr)
	}
	assertFiles(t, mod, user)
	if r := cgRun(t, mod, nil, "generate", "--check"); r.code != 0 {
		t.Errorf("generate --check with a hand-edited .gitignore: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestGenerateConcurrent: two generate processes at once both succeed and
// leave the output current; a generate waits for a writer holding the
// lock.
func TestGenerateConcurrent(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	user := map[string]string{"flashclient/test-api/mine.go": "package test_api\n"}
	for name, data := range user {
		mustWrite(t, filepath.Join(mod, name), data)
	}
	before := hashTree(t, mod)
	var wg sync.WaitGroup
	results := make([]cgResult, 2)
	for i := range results {
		wg.Go(func() { results[i] = cgRun(t, mod, nil, "generate") })
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("generate %d: exit %d\n%s", i, r.code, r.stderr)
		}
	}
	if r := cgRun(t, mod, nil, "generate", "--check"); r.code != 0 {
		t.Errorf("after two concurrent generates: %d\n%s", r.code, r.stdout)
	}
	assertFiles(t, mod, user)
	unchangedOutside(t, "concurrent generates", before, hashTree(t, mod), ".flash", "flashclient")

	lk, err := codegen.AcquireLock(mod)
	if err != nil {
		t.Fatal(err)
	}
	cpu := filepath.Join(mod, "cpu", "cpu.go")
	src, _ := os.ReadFile(cpu)
	os.WriteFile(cpu, bytes.Replace(src, []byte("path=/validate"), []byte("path=/validated"), 1), 0o644)
	const hold = 1500 * time.Millisecond
	start := time.Now()
	go func() {
		time.Sleep(hold)
		lk.Unlock()
	}()
	r := cgRun(t, mod, nil, "generate")
	if r.code != 0 || time.Since(start) < hold {
		t.Errorf("generate while the lock is held: exit %d after %v\n%s", r.code, time.Since(start), r.stderr)
	}
}

// TestCheckFixRacingAnEdit: a file edited after analysis is not fixed (its
// new bytes stay); the other files are.
func TestCheckFixRacingAnEdit(t *testing.T) {
	dir := ckCopyProject(t, "broken")
	for _, cache := range []string{"", t.TempDir()} {
		cfg := project.Config{Dir: dir, CacheDir: cache}
		p, err := project.Load(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if cache != "" { // the second load comes from the cache
			if p, err = project.Load(context.Background(), cfg); err != nil || !p.Cached {
				t.Fatalf("cached load: %v, cached %v", err, p != nil && p.Cached)
			}
		}
		api := filepath.Join(dir, "api", "api.go")
		old, _ := os.ReadFile(api)
		edited := append(append([]byte(nil), old...), "\n// an edit saved after analysis\n"...)
		os.WriteFile(api, edited, 0o644)
		before := hashTree(t, dir)
		var skipped []string
		fixed, files, err := fix.Apply(p.Findings, p.Sum, func(name string) { skipped = append(skipped, name) })
		if err != nil {
			t.Fatal(err)
		}
		if len(skipped) != 1 || skipped[0] != api {
			t.Errorf("skipped %q, want api.go", skipped)
		}
		if got, _ := os.ReadFile(api); !bytes.Equal(got, edited) {
			t.Errorf("the edited file was changed:\n%s", got)
		}
		after := hashTree(t, dir)
		if cache == "" {
			if fixed == 0 || files != 1 {
				t.Errorf("fixed %d findings in %d files, want compile.go fixed", fixed, files)
			}
			unchangedOutside(t, "fix race", before, after, "compile/compile.go")
		} else {
			unchangedOutside(t, "fix race (cached)", before, after)
		}
		os.WriteFile(api, old, 0o644)
	}
	// The binary says so.
	api := filepath.Join(dir, "api", "api.go")
	if r := ckCheck(t, dir, "--fix"); !strings.Contains(r.stderr, "fixed") {
		t.Errorf("check --fix on analysed bytes: %s", r.stderr)
	}
	if data, _ := os.ReadFile(api); !strings.Contains(string(data), "method=GET path=/bad-method") {
		t.Error("api.go not fixed once unchanged")
	}
	if _, err := exec.LookPath("gofmt"); err != nil {
		t.Fatal("gofmt not found: ", err)
	}
}
