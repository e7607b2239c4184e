package codegen

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// treeHash maps every path under dir (links not followed) to a digest of
// what is there.
func treeHash(t *testing.T, dir string) map[string]string {
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

// sameTree fails when a path outside the given prefixes differs.
func sameTree(t *testing.T, what string, before, after map[string]string, except ...string) {
	t.Helper()
	skip := func(p string) bool {
		for _, e := range except {
			if p == e || strings.HasPrefix(p, e+"/") {
				return true
			}
		}
		return false
	}
	for p, h := range before {
		if !skip(p) && after[p] != h {
			t.Errorf("%s: %s changed (%q → %q)", what, p, h, after[p])
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok && !skip(p) {
			t.Errorf("%s: %s appeared", what, p)
		}
	}
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustGenerate(t *testing.T, p *Project) *Result {
	t.Helper()
	res, err := Generate(p, Options{GeneratedAt: time.Unix(1700000000, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestWriteRefusesSymlinks: a link at .flash, .flash/handlers, the client
// directory or a directory below them stops the write before anything is
// written, here or where the link points.
func TestWriteRefusesSymlinks(t *testing.T) {
	for _, c := range []struct {
		name string
		link string // made a link to a directory outside the module
		pre  bool   // generate once before making the link
	}{
		{"flash", ".flash", false},
		{"handlers", ".flash/handlers", true},
		{"client dir", "flashclient", true},
		{"client subdirectory", "flashclient/test-api", true},
		{"handler subdirectory", ".flash/handlers/test-api", true},
		{"stale handler subdirectory", ".flash/handlers/gone", true},
		{"openapi", ".flash/openapi", true},
		{"client dir parent", "gen", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			outside := t.TempDir()
			p := testProject(root)
			opts := Options{GeneratedAt: time.Unix(1700000000, 0)}
			if c.link == "gen" {
				opts.ClientDir = "gen/clients"
			}
			if c.pre {
				res, err := Generate(p, opts)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := res.Write(); err != nil {
					t.Fatal(err)
				}
			}
			// The link's target holds a generated-looking file and a
			// user's file: neither may change.
			writeFile(t, filepath.Join(outside, "main.go"), model.GeneratedHeader+"\n\npackage main\n")
			writeFile(t, filepath.Join(outside, "notes.txt"), "mine\n")
			link := filepath.Join(root, filepath.FromSlash(c.link))
			os.RemoveAll(link)
			os.MkdirAll(filepath.Dir(link), 0o755)
			if err := os.Symlink(outside, link); err != nil {
				t.Fatal(err)
			}
			before, beforeOut := treeHash(t, root), treeHash(t, outside)
			p.Functions[1].Path = "/api/changed" // something to write
			res, err := Generate(p, opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = res.Write()
			var se *SymlinkError
			if !errors.As(err, &se) || se.Path != c.link || !strings.Contains(err.Error(), c.link+" is a symbolic link") {
				t.Fatalf("Write with %s a link: %v, want a SymlinkError naming it", c.link, err)
			}
			sameTree(t, "module", before, treeHash(t, root), ".flash/.lock")
			sameTree(t, "link target", beforeOut, treeHash(t, outside))
		})
	}
}

// TestWriteKeepsUserFiles: across a rename and a removal, generated files
// of the old resource go, the user's files stay and are named, and their
// directories stay with them.
func TestWriteKeepsUserFiles(t *testing.T) {
	root := t.TempDir()
	p := testProject(root)
	if _, err := mustGenerate(t, p).Write(); err != nil {
		t.Fatal(err)
	}
	userFiles := map[string]string{
		"flashclient/test-api/helpers.go":    "package test_api\n\nfunc Helper() int { return 1 }\n",
		".flash/handlers/test-api/notes.txt": "my notes\n",
		"flashclient/jobs_queue/extra.go":    "package jobs_queue\n",
		".flash/handlers/jobs_queue/sub/x":   "nested\n",
		"flashclient/mine/mine.go":           "package mine\n",
		"api/api.go":                         "package api\n",
	}
	for name, data := range userFiles {
		writeFile(t, filepath.Join(root, name), data)
	}
	before := treeHash(t, root)

	// Rename test-api → test-api2; remove "jobs queue".
	p.Resources = p.Resources[1:]
	p.Functions = p.Functions[1:]
	p.Resources[0].Name = "test-api2"
	res := mustGenerate(t, p)
	changes, err := res.Write()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range userFiles {
		if got, err := os.ReadFile(filepath.Join(root, name)); err != nil || string(got) != data {
			t.Errorf("user file %s: %q, %v", name, got, err)
		}
	}
	for _, gone := range []string{".flash/handlers/test-api/main.go", "flashclient/test-api/client.go",
		".flash/handlers/jobs_queue/main.go", "flashclient/jobs_queue/client.go"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("stale generated %s: %v", gone, err)
		}
	}
	for _, made := range []string{".flash/handlers/test-api2/main.go", "flashclient/test-api2/client.go"} {
		if !HasHeader(filepath.Join(root, made)) {
			t.Errorf("%s not generated", made)
		}
	}
	warnings := strings.Join(Warnings(changes), "\n")
	for _, k := range []string{"flashclient/test-api/helpers.go", ".flash/handlers/test-api/notes.txt",
		"flashclient/jobs_queue/extra.go", ".flash/handlers/jobs_queue/sub"} {
		if !strings.Contains(warnings, "warning: kept "+k+": not generated by flash-lsp") {
			t.Errorf("no warning naming %s in\n%s", k, warnings)
		}
	}
	if strings.Contains(warnings, "mine") {
		t.Errorf("a package of the user's was treated as stale output:\n%s", warnings)
	}
	sameTree(t, "rename and removal", before, treeHash(t, root), ".flash", "flashclient")

	// Once the user moved their files, the empty handler directory goes
	// (.flash/handlers is flash-lsp's); the client directory, holding no
	// generated file any more, is the user's to remove.
	os.Remove(filepath.Join(root, "flashclient/test-api/helpers.go"))
	os.Remove(filepath.Join(root, ".flash/handlers/test-api/notes.txt"))
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, ".flash/handlers/test-api")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty stale handler directory kept: %v", err)
	}
}

// TestWriteConflicts: a user's package where a client would go, or a
// user's file at a generated path, stops the write naming every file.
func TestWriteConflicts(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "flashclient/test-api/mine.go"), "package test_api\n\nvar Mine = 1\n")
	writeFile(t, filepath.Join(root, "flashclient/test-api/more.go"), "package test_api\n")
	writeFile(t, filepath.Join(root, "flashclient/test-api/README"), "not Go\n")
	writeFile(t, filepath.Join(root, ".flash/handlers/jobs_queue/main.go"), "package main // mine\n")
	before := treeHash(t, root)
	res := mustGenerate(t, testProject(root))
	_, err := res.Write()
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("Write = %v, want a ConflictError", err)
	}
	var paths []string
	for _, c := range ce.Conflicts {
		paths = append(paths, c.Path)
	}
	want := []string{".flash/handlers/jobs_queue/main.go", "flashclient/test-api/mine.go", "flashclient/test-api/more.go"}
	if !slices.Equal(paths, want) {
		t.Errorf("conflicts %q, want %q", paths, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %s: %v", w, err)
		}
	}
	sameTree(t, "conflict", before, treeHash(t, root), ".flash/.lock")
	// generate --check names them too.
	changes, err := res.Check()
	if err != nil {
		t.Fatal(err)
	}
	var conflicts []string
	for _, c := range changes {
		if c.Kind == "conflict" {
			conflicts = append(conflicts, c.Path)
		}
	}
	if !slices.Equal(conflicts, want) {
		t.Errorf("Check conflicts %q, want %q", conflicts, want)
	}
	if _, err := os.Lstat(filepath.Join(root, ManifestPath)); !errors.Is(err, fs.ErrNotExist) {
		t.Error("the manifest was written despite conflicts")
	}
	// A generated client beside the user's files is ours: the user may
	// add files to a generated package.
	root2 := t.TempDir()
	if _, err := mustGenerate(t, testProject(root2)).Write(); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root2, "flashclient/test-api/extra.go"), "package test_api\n")
	p2 := testProject(root2)
	p2.Functions[1].Path = "/api/changed"
	if _, err := mustGenerate(t, p2).Write(); err != nil {
		t.Errorf("a file added to a generated client package: %v", err)
	}
}

// TestWriteGitignoreOnlyWhenMissing: a hand-edited .flash/.gitignore stays.
func TestWriteGitignoreOnlyWhenMissing(t *testing.T) {
	root := t.TempDir()
	mine := "# mine\n*.tar.gz\nsecrets/\n"
	writeFile(t, filepath.Join(root, GitignorePath), mine)
	res := mustGenerate(t, testProject(root))
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, GitignorePath)); string(got) != mine {
		t.Errorf(".gitignore = %q", got)
	}
	if changes, _ := res.Check(); len(changes) != 0 {
		t.Errorf("Check with a hand-edited .gitignore: %v", changes)
	}
	os.Remove(filepath.Join(root, GitignorePath))
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, GitignorePath)); string(got) != gitignore {
		t.Errorf("missing .gitignore not written: %q", got)
	}
}

// TestWriteCaseInsensitiveRename simulates a case-insensitive file system
// (macOS's default) over the plan: a rename that differs only in case must
// not delete what is being written.
func TestWriteCaseInsensitiveRename(t *testing.T) {
	root := t.TempDir()
	p := testProject(root)
	p.Resources[1].Name = "Test-API"
	if _, err := mustGenerate(t, p).Write(); err != nil {
		t.Fatal(err)
	}
	p.Resources[1].Name = "test-api"
	res := mustGenerate(t, p)
	pl, err := res.plan()
	if err != nil {
		t.Fatal(err)
	}
	// On a case-insensitive disk Test-API and test-api are one
	// directory: apply the plan there (writes, then deletions, then
	// directory removals) and check that every written file survives.
	disk := make(map[string]bool) // folded paths that exist
	for _, w := range pl.writes {
		disk[foldKey(w.Path)] = true
	}
	for _, d := range pl.deletes {
		delete(disk, foldKey(d))
	}
	for _, d := range pl.rmdirs {
		for f := range disk {
			if strings.HasPrefix(f, foldKey(d)+"/") {
				t.Errorf("removing directory %s would remove %s", d, f)
			}
		}
	}
	for _, w := range pl.writes {
		if !disk[foldKey(w.Path)] {
			t.Errorf("%s is written and then deleted on a case-insensitive file system", w.Path)
		}
	}
	if len(pl.writes) == 0 {
		t.Fatal("nothing planned")
	}
	// On this (case-sensitive) disk the old files stay, named.
	changes, err := res.Write()
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(Warnings(changes), "\n")
	if !strings.Contains(w, "kept .flash/handlers/Test-API/main.go: on a case-insensitive file system it is .flash/handlers/test-api/main.go") {
		t.Errorf("warnings:\n%s", w)
	}
	// Without the fold check the plan would delete them: the
	// simulation has something to catch.
	if !HasHeader(filepath.Join(root, ".flash/handlers/Test-API/main.go")) {
		t.Error("the differently-cased generated file was deleted")
	}
}

// TestWriteStaleOpenAPI: OpenAPI documents of removed resources go, other
// files in .flash/openapi stay; build and run, which render none, delete
// only those of removed resources.
func TestWriteStaleOpenAPI(t *testing.T) {
	root := t.TempDir()
	p := testProject(root)
	writeFile(t, filepath.Join(root, OpenAPIDir, "test-api.json"), "{}\n")
	writeFile(t, filepath.Join(root, OpenAPIDir, "gone.json"), "{}\n")
	writeFile(t, filepath.Join(root, OpenAPIDir, "notes.md"), "mine\n")
	res := mustGenerate(t, p)
	// First as build and run write: a result without OpenAPI documents.
	full := res.Files
	res.Files = slices.DeleteFunc(slices.Clone(full), func(f File) bool { return path.Dir(f.Path) == OpenAPIDir })
	if changes, _ := res.Check(); !slices.Contains(changes, Change{Path: OpenAPIDir + "/gone.json", Kind: "extra"}) {
		t.Errorf("Check = %v, want gone.json extra", changes)
	}
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"test-api.json": true, "gone.json": false, "notes.md": true} {
		if _, err := os.Lstat(filepath.Join(root, OpenAPIDir, name)); (err == nil) != want {
			t.Errorf("%s exists: %v, want %v", name, err == nil, want)
		}
	}
	// With OpenAPI files in the result, it is the whole list: test-api's
	// document, left out of it, goes.
	res.Files = slices.DeleteFunc(slices.Clone(full), func(f File) bool { return f.Path == OpenAPIFile("test-api") })
	res.Files = append(res.Files, File{Path: path.Join(OpenAPIDir, "jobs_queue.json"), Data: []byte("{}\n")})
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(root, OpenAPIDir, "test-api.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a document not in the full list stayed: %v", err)
	}
}

// TestWriteLock: writers take turns; one that waits too long fails naming
// the lock.
func TestWriteLock(t *testing.T) {
	root := t.TempDir()
	held, err := AcquireLock(root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = acquireLock(root, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, ".flash", ".lock")) {
		t.Errorf("second writer: %v, want a timeout naming the lock", err)
	}
	got := make(chan time.Time, 1)
	go func() {
		lk, err := AcquireLock(root)
		if err != nil {
			t.Error(err)
			got <- time.Time{}
			return
		}
		got <- time.Now()
		lk.Unlock()
	}()
	time.Sleep(300 * time.Millisecond)
	released := time.Now()
	held.Unlock()
	if at := <-got; at.Before(released) {
		t.Error("a second writer got the lock while the first held it")
	}

	// Concurrent writes of one module: each sees the other's result.
	p := testProject(root)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := mustGenerate(t, p).Write(); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if changes, err := mustGenerate(t, p).Check(); err != nil || len(changes) != 0 {
		t.Errorf("after concurrent writes: %v %v", changes, err)
	}
	// A link at the lock is not followed.
	root2 := t.TempDir()
	os.Mkdir(filepath.Join(root2, ".flash"), 0o755)
	target := filepath.Join(t.TempDir(), "elsewhere")
	os.Symlink(target, filepath.Join(root2, ".flash", ".lock"))
	if _, err := AcquireLock(root2); err == nil {
		t.Error("a symbolic link at .flash/.lock was followed")
	}
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Error("the lock link's target was created")
	}
}

// TestWriteFlashFile: the state file API writes atomically inside .flash
// only, under the lock, never over generate's files.
func TestWriteFlashFile(t *testing.T) {
	root := t.TempDir()
	if err := WriteFlashFile(root, ".flash/deploy.json", []byte(`{"a": 1}`)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, ".flash", "deploy.json")); string(got) != `{"a": 1}` {
		t.Errorf("deploy.json = %q", got)
	}
	for _, bad := range []string{"deploy.json", ".flash/../x", ".flash/flash_manifest.json", ".flash/handlers/x/main.go", "/etc/x", ".flash/.lock"} {
		if err := WriteFlashFile(root, bad, nil); err == nil {
			t.Errorf("WriteFlashFile(%q) was accepted", bad)
		}
	}
	outside := t.TempDir()
	os.RemoveAll(filepath.Join(root, ".flash"))
	os.Symlink(outside, filepath.Join(root, ".flash"))
	var se *SymlinkError
	if err := WriteFlashFile(root, ".flash/deploy.json", nil); !errors.As(err, &se) {
		t.Errorf("through a linked .flash: %v", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("written through the link: %v", entries)
	}
}

// TestBuildRefusesLinks: build cleans and writes .flash/.build and the
// archive only when they are real; an archive may not take the name of a
// file of flash-lsp's own.
func TestBuildRefusesLinks(t *testing.T) {
	root := t.TempDir()
	res := mustGenerate(t, testProject(root))
	if _, err := res.Write(); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "keep.bin"), "mine\n")
	if err := os.Symlink(outside, filepath.Join(root, ".flash", ".build")); err != nil {
		t.Fatal(err)
	}
	before := treeHash(t, outside)
	_, err := Build(t.Context(), res, BuildOptions{})
	var se *SymlinkError
	if !errors.As(err, &se) || se.Path != ".flash/.build" {
		t.Errorf("Build with a linked .flash/.build: %v", err)
	}
	sameTree(t, "link target", before, treeHash(t, outside))
	os.Remove(filepath.Join(root, ".flash", ".build"))
	for _, name := range []string{"flash_manifest.json", ".gitignore", ".lock", "deploy.json", "handlers"} {
		if _, err := Build(t.Context(), res, BuildOptions{Archive: name}); err == nil || !strings.Contains(err.Error(), "taken by a file of flash-lsp's own") {
			t.Errorf("archive named %s: %v", name, err)
		}
	}
	os.Symlink(filepath.Join(outside, "keep.bin"), filepath.Join(root, ".flash", "a.tar.gz"))
	var ce *ConflictError
	if _, err := Build(t.Context(), res, BuildOptions{Archive: "a.tar.gz"}); !errors.As(err, &ce) {
		t.Errorf("archive over a link: %v", err)
	}
	sameTree(t, "link target", before, treeHash(t, outside))
}
