package codegen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// Every file flash-lsp writes into a user's module goes through this file
// (SPEC section 14): generate, build, run, the language server's generate
// action and deploy's state file. The rules, in the order they apply:
//
//   - a writer holds the advisory lock LockFile while it plans and writes;
//   - .flash, .flash/handlers, the client directory and every directory
//     written or deleted in are checked with Lstat: a symbolic link there
//     stops the writer before anything is written (a link would send writes
//     and deletions into a directory the user never gave us);
//   - every write and deletion is planned, and every conflict found, before
//     the first write: a conflict stops the writer, naming each file;
//   - only files flash-lsp generated are deleted: a .go file whose first
//     line is model.GeneratedHeader, and inside .flash the files it names itself; a
//     directory is removed only when it is then empty, and a user's file
//     left in it is reported (Change kind "kept").

// FlashDir is the directory of generated output, relative to the module
// root.
const FlashDir = ".flash"

// LockFile is the advisory lock (flock) writers hold, relative to the
// module root.
const LockFile = ".flash/.lock"

// LockTimeout is how long a writer waits for another to finish.
const LockTimeout = 30 * time.Second

// openAPIName is the name of a document flash-lsp writes in OpenAPIDir: a
// resource directory name and ".json". Only such files are its own there.
var openAPIName = regexp.MustCompile(`^[A-Za-z0-9_-]+\.json$`)

// flashOwnNames are the names directly inside .flash that flash-lsp writes
// for its own purposes; an archive or a state file may not take them.
var flashOwnNames = []string{"flash_manifest.json", ".gitignore", ".lock", "handlers", "openapi", ".build", "deploy.json"}

// A SymlinkError is a symbolic link (or another non-directory) where a
// writer needs a real directory. Nothing was written.
type SymlinkError struct {
	Path string // relative to the module root, slash-separated
	Link bool   // a symbolic link; otherwise not a directory at all
}

func (e *SymlinkError) Error() string {
	if e.Link {
		return fmt.Sprintf("%s is a symbolic link: flash-lsp writes only into real directories of the module; nothing written", e.Path)
	}
	return fmt.Sprintf("%s is not a directory; nothing written", e.Path)
}

// A Conflict is a file in the way of a write.
type Conflict struct {
	Path   string // relative to the module root, slash-separated
	Reason string
}

// A ConflictError lists every file in the way of a write. Nothing was
// written.
type ConflictError struct {
	Conflicts []Conflict
}

func (e *ConflictError) Error() string {
	items := make([]string, len(e.Conflicts))
	for i, c := range e.Conflicts {
		items[i] = c.Path + " " + c.Reason
	}
	return strings.Join(items, "; ") + "; nothing written: move them, or choose another directory with --client-dir"
}

// HasHeader reports whether the file at name is a regular file (not a
// link) whose first line is model.GeneratedHeader.
func HasHeader(name string) bool {
	fi, err := os.Lstat(name)
	if err != nil || !fi.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	buf := make([]byte, len(model.GeneratedHeader)+2)
	n, _ := io.ReadFull(f, buf)
	return model.IsGenerated(buf[:n])
}

// dirChecker Lstats the directories below a module root, once each.
type dirChecker struct {
	root string
	ok   map[string]bool // checked: a real directory, or missing
}

func newDirChecker(root string) *dirChecker {
	return &dirChecker{root: root, ok: map[string]bool{".": true}}
}

// check fails when an element of rel (slash-separated, below the root) is
// a symbolic link or not a directory. Missing elements are fine: the
// writer creates them.
func (c *dirChecker) check(rel string) error {
	rel = path.Clean(rel)
	if c.ok[rel] {
		return nil
	}
	if err := c.check(path.Dir(rel)); err != nil {
		return err
	}
	fi, err := os.Lstat(filepath.Join(c.root, filepath.FromSlash(rel)))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("checking %s: %w", rel, err)
	case fi.Mode()&fs.ModeSymlink != 0:
		return &SymlinkError{Path: rel, Link: true}
	case !fi.IsDir():
		return &SymlinkError{Path: rel}
	}
	c.ok[rel] = true
	return nil
}

// plan is everything a Write will do, computed before it does any of it.
type plan struct {
	writes    []planWrite
	deletes   []string // generated files of removed resources
	rmdirs    []string // directories to remove once empty, deepest first
	extra     []string // stale directories and files, as Check reports them
	kept      []Change // user files left in stale directories
	conflicts []Conflict
}

type planWrite struct {
	File
	kind string // "missing" or "stale"
	// timeOnly: an existing manifest that differs only in generated_at,
	// which Check does not report.
	timeOnly bool
}

// plan computes what Write would do, checking every directory involved.
func (r *Result) plan() (*plan, error) {
	c := newDirChecker(r.Root)
	for _, d := range []string{FlashDir, HandlersDir, r.clientDir} {
		if d == "" {
			continue
		}
		if err := c.check(d); err != nil {
			return nil, err
		}
	}
	p := &plan{}
	writing := make(map[string]bool, len(r.Files))
	hasOpenAPI := false
	for _, f := range r.Files {
		writing[f.Path] = true
		hasOpenAPI = hasOpenAPI || path.Dir(f.Path) == OpenAPIDir
		if err := c.check(path.Dir(f.Path)); err != nil {
			return nil, err
		}
		name := r.abs(f.Path)
		fi, err := os.Lstat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			p.writes = append(p.writes, planWrite{File: f, kind: "missing"})
			continue
		case err != nil:
			return nil, fmt.Errorf("checking %s: %w", f.Path, err)
		case f.Path == GitignorePath:
			continue // the user's, once it exists
		case !fi.Mode().IsRegular():
			p.conflicts = append(p.conflicts, Conflict{f.Path, "exists and is not a regular file"})
			continue
		}
		old, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", f.Path, err)
		}
		if bytes.Equal(old, f.Data) {
			continue
		}
		// Inside .flash, non-Go files are flash-lsp's own named files
		// (manifest, OpenAPI documents); a Go file anywhere is ours only
		// with the header.
		if strings.HasSuffix(f.Path, ".go") && !model.IsGenerated(old) {
			p.conflicts = append(p.conflicts, Conflict{f.Path, "exists and was not generated by flash-lsp"})
			continue
		}
		if !strings.HasPrefix(f.Path, FlashDir+"/") && !strings.HasSuffix(f.Path, ".go") {
			p.conflicts = append(p.conflicts, Conflict{f.Path, "exists and was not generated by flash-lsp"})
			continue
		}
		timeOnly := f.Path == ManifestPath && bytes.Equal(withoutGeneratedAt(old), withoutGeneratedAt(f.Data))
		p.writes = append(p.writes, planWrite{File: f, kind: "stale", timeOnly: timeOnly})
	}
	if err := r.planClientPackages(p); err != nil {
		return nil, err
	}
	if err := r.planStaleHandlers(c, p); err != nil {
		return nil, err
	}
	if err := r.planStaleClients(c, p); err != nil {
		return nil, err
	}
	if err := r.planStaleOpenAPI(c, p, writing, hasOpenAPI); err != nil {
		return nil, err
	}
	p.keepCaseFolded(writing)
	sort.Slice(p.conflicts, func(i, j int) bool { return p.conflicts[i].Path < p.conflicts[j].Path })
	return p, nil
}

// planClientPackages finds user packages where a client would go: flash-lsp
// never adds a file to a package it did not generate, so a directory
// holding .go files of the user's, and no generated client, is a conflict.
func (r *Result) planClientPackages(p *plan) error {
	if r.clientDir == "" {
		return nil
	}
	for _, f := range r.Files {
		if !strings.HasPrefix(f.Path, r.clientDir+"/") || path.Base(f.Path) != ClientFileName {
			continue
		}
		if HasHeader(r.abs(f.Path)) {
			continue // our package already: files the user added to it stay
		}
		dir := path.Dir(f.Path)
		entries, err := os.ReadDir(r.abs(dir))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("listing %s: %w", dir, err)
		}
		for _, e := range entries {
			rel := path.Join(dir, e.Name())
			if rel == f.Path || !strings.HasSuffix(e.Name(), ".go") || HasHeader(r.abs(rel)) {
				continue
			}
			p.conflicts = append(p.conflicts, Conflict{rel, "belongs to a package of yours where the typed client of " +
				strings.TrimPrefix(dir, r.clientDir+"/") + " would go"})
		}
	}
	return nil
}

// planStaleHandlers plans the removal of the handler directories of
// resources that no longer exist.
func (r *Result) planStaleHandlers(c *dirChecker, p *plan) error {
	entries, err := os.ReadDir(r.abs(HandlersDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing handlers: %w", err)
	}
	for _, e := range entries {
		if _, ok := r.Handlers[e.Name()]; ok {
			continue
		}
		rel := path.Join(HandlersDir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 {
			return &SymlinkError{Path: rel, Link: true}
		}
		if !e.IsDir() {
			continue
		}
		if err := c.check(rel); err != nil {
			return err
		}
		if err := r.planStaleDir(p, rel); err != nil {
			return err
		}
	}
	return nil
}

// planStaleClients plans the removal of the generated clients of resources
// that no longer exist. A directory counts only when it holds a generated
// file: anything else under the client directory is the user's.
func (r *Result) planStaleClients(c *dirChecker, p *plan) error {
	if r.clientDir == "" {
		return nil
	}
	entries, err := os.ReadDir(r.abs(r.clientDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing clients: %w", err)
	}
	for _, e := range entries {
		if _, ok := r.Handlers[e.Name()]; ok || !e.IsDir() { // a link's type is not a directory
			continue
		}
		rel := path.Join(r.clientDir, e.Name())
		files, err := os.ReadDir(r.abs(rel))
		if err != nil {
			return fmt.Errorf("listing %s: %w", rel, err)
		}
		if !slices.ContainsFunc(files, func(f fs.DirEntry) bool {
			return strings.HasSuffix(f.Name(), ".go") && HasHeader(r.abs(path.Join(rel, f.Name())))
		}) {
			continue
		}
		if err := c.check(rel); err != nil {
			return err
		}
		if err := r.planStaleDir(p, rel); err != nil {
			return err
		}
	}
	return nil
}

// planStaleDir plans deleting the generated files of dir and dir itself
// when nothing else is in it.
func (r *Result) planStaleDir(p *plan, dir string) error {
	entries, err := os.ReadDir(r.abs(dir))
	if err != nil {
		return fmt.Errorf("listing %s: %w", dir, err)
	}
	kept, deleted := false, 0
	for _, e := range entries {
		rel := path.Join(dir, e.Name())
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".go") && HasHeader(r.abs(rel)) {
			p.deletes = append(p.deletes, rel)
			deleted++
			continue
		}
		p.kept = append(p.kept, Change{rel, "kept", "not generated by flash-lsp: left in the directory of a removed resource"})
		kept = true
	}
	if !kept {
		p.rmdirs = append(p.rmdirs, dir)
	}
	if deleted > 0 || len(entries) == 0 {
		p.extra = append(p.extra, dir)
	}
	return nil
}

// planStaleOpenAPI plans the removal of the OpenAPI documents of resources
// that no longer have one. Only files named <dir>.json are flash-lsp's in
// OpenAPIDir. When this result carries OpenAPI documents it is the whole
// list; otherwise (build and run render none) a document is stale only when
// its resource is gone.
func (r *Result) planStaleOpenAPI(c *dirChecker, p *plan, writing map[string]bool, authoritative bool) error {
	if err := c.check(OpenAPIDir); err != nil {
		return err
	}
	entries, err := os.ReadDir(r.abs(OpenAPIDir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listing %s: %w", OpenAPIDir, err)
	}
	left := 0
	for _, e := range entries {
		rel := path.Join(OpenAPIDir, e.Name())
		_, live := r.Handlers[strings.TrimSuffix(e.Name(), ".json")]
		stale := e.Type().IsRegular() && openAPIName.MatchString(e.Name()) && !writing[rel] &&
			(authoritative || !live)
		if !stale {
			left++
			continue
		}
		p.deletes = append(p.deletes, rel)
		p.extra = append(p.extra, rel)
	}
	if left == 0 && !authoritative && len(entries) > 0 {
		p.rmdirs = append(p.rmdirs, OpenAPIDir)
	}
	return nil
}

// keepCaseFolded drops every deletion that, on a case-insensitive file
// system (macOS's default), would hit a file or directory being written:
// a resource renamed from Bench-API to bench-api writes
// .flash/handlers/bench-api/main.go, which there is the same file as the
// stale .flash/handlers/Bench-API/main.go.
func (p *plan) keepCaseFolded(writing map[string]bool) {
	live := make(map[string]string)
	for w := range writing {
		for d := w; d != "." && d != "/"; d = path.Dir(d) {
			live[foldKey(d)] = d
		}
	}
	var deletes []string
	for _, d := range p.deletes {
		if w, ok := live[foldKey(d)]; ok {
			p.kept = append(p.kept, Change{d, "kept", "on a case-insensitive file system it is " + w + ", which is being written: remove it by hand if it is a file of its own"})
			continue
		}
		deletes = append(deletes, d)
	}
	p.deletes = deletes
	p.rmdirs = slices.DeleteFunc(p.rmdirs, func(d string) bool { _, ok := live[foldKey(d)]; return ok })
	p.extra = slices.DeleteFunc(p.extra, func(d string) bool { _, ok := live[foldKey(d)]; return ok })
}

// foldKey is the name a case-insensitive file system compares.
func foldKey(s string) string { return strings.ToLower(strings.ToUpper(s)) }

// Check compares the result with the files on disk, ignoring generated_at,
// and returns what Write would change ("missing", "stale", "extra"), and
// each file that would stop it ("conflict", Note says why). It writes
// nothing.
func (r *Result) Check() ([]Change, error) {
	p, err := r.plan()
	if err != nil {
		return nil, err
	}
	var changes []Change
	for _, w := range p.writes {
		if !w.timeOnly {
			changes = append(changes, Change{Path: w.Path, Kind: w.kind})
		}
	}
	for _, e := range p.extra {
		changes = append(changes, Change{Path: e, Kind: "extra"})
	}
	for _, c := range p.conflicts {
		changes = append(changes, Change{Path: c.Path, Kind: "conflict", Note: c.Reason})
	}
	sort.Slice(changes, func(i, j int) bool { return changes[i].Path < changes[j].Path })
	return changes, nil
}

// Write writes the files that differ from the disk, each atomically, and
// deletes the generated files of resources that no longer exist, under the
// writers' lock. It returns what it changed, and as kind "kept" each user
// file it left in a stale directory. A symbolic link in the way is a
// *SymlinkError, files in the way a *ConflictError; either way nothing is
// written.
func (r *Result) Write() ([]Change, error) {
	if _, err := os.Lstat(r.abs(FlashDir)); errors.Is(err, fs.ErrNotExist) {
		// Taking the lock creates .flash: find a link or a conflict
		// first, so that a refused write leaves no trace at all.
		if p, err := r.plan(); err != nil {
			return nil, err
		} else if len(p.conflicts) > 0 {
			return nil, &ConflictError{Conflicts: p.conflicts}
		}
	}
	lk, err := AcquireLock(r.Root)
	if err != nil {
		return nil, err
	}
	defer lk.Unlock()
	return r.WriteLocked(lk)
}

// WriteLocked is Write for a caller that holds the lock of r's module
// already (deploy holds it from build to its state file).
func (r *Result) WriteLocked(lk *WriteLock) ([]Change, error) {
	if err := lk.held(r.Root); err != nil {
		return nil, err
	}
	p, err := r.plan()
	if err != nil {
		return nil, err
	}
	if len(p.conflicts) > 0 {
		return nil, &ConflictError{Conflicts: p.conflicts}
	}
	var done []Change
	for _, w := range p.writes {
		if err := WriteFileAtomic(r.abs(w.Path), w.Data, 0o644); err != nil {
			return done, err
		}
		done = append(done, Change{Path: w.Path, Kind: w.kind})
	}
	for _, d := range p.deletes {
		// Checked again right before: only a generated file goes.
		if !HasHeader(r.abs(d)) && !strings.HasPrefix(d, OpenAPIDir+"/") {
			p.kept = append(p.kept, Change{d, "kept", "changed while generating: not deleted"})
			continue
		}
		if err := os.Remove(r.abs(d)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return done, fmt.Errorf("removing %s: %w", d, err)
		}
	}
	for _, d := range p.rmdirs {
		// Remove fails on a directory that is not empty: something
		// appeared since the plan, and it stays.
		_ = os.Remove(r.abs(d))
	}
	for _, e := range p.extra {
		done = append(done, Change{Path: e, Kind: "extra"})
	}
	return append(done, p.kept...), nil
}

// Warnings returns the "kept" changes of a Write as warning lines, one
// per file: user files left in the directory of a removed resource.
func Warnings(changes []Change) []string {
	var out []string
	for _, c := range changes {
		if c.Kind == "kept" {
			out = append(out, "warning: kept "+c.Path+": "+c.Note)
		}
	}
	return out
}

func (r *Result) abs(rel string) string { return filepath.Join(r.Root, filepath.FromSlash(rel)) }

// A WriteLock is the advisory lock on a module's LockFile. Writers of
// one module, in any process, hold it one at a time.
type WriteLock struct {
	root string
	f    *os.File
}

// AcquireLock takes the writers' lock of the module at root, waiting up to
// LockTimeout for another writer, and creates .flash when missing. A
// symbolic link at .flash is a *SymlinkError.
func AcquireLock(root string) (*WriteLock, error) {
	return acquireLock(root, LockTimeout)
}

func acquireLock(root string, timeout time.Duration) (*WriteLock, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := newDirChecker(root).check(FlashDir); err != nil {
		return nil, err
	}
	if err := os.Mkdir(filepath.Join(root, FlashDir), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("creating %s: %w", FlashDir, err)
	}
	name := filepath.Join(root, filepath.FromSlash(LockFile))
	f, err := openLockFile(name)
	if err != nil {
		return nil, fmt.Errorf("opening the lock %s: %w", name, err)
	}
	deadline := time.Now().Add(timeout)
	for pause := 10 * time.Millisecond; ; pause = min(2*pause, 200*time.Millisecond) {
		ok, err := tryLock(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", name, err)
		}
		if ok {
			return &WriteLock{root: root, f: f}, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another flash-lsp has held the lock %s for %v: it is still writing, or remove the lock if no flash-lsp is running", name, timeout)
		}
		time.Sleep(pause)
	}
}

// Unlock releases the lock.
func (l *WriteLock) Unlock() {
	if l != nil && l.f != nil {
		unlock(l.f)
		l.f.Close()
		l.f = nil
	}
}

func (l *WriteLock) held(root string) error {
	abs, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	if l == nil || l.f == nil || l.root != abs {
		return fmt.Errorf("writing in %s without holding its lock %s", root, LockFile)
	}
	return nil
}

// WriteFile writes data to rel (slash-separated, inside .flash, not one of
// the files generate or build write) atomically, under the lock l holds:
// deploy's .flash/deploy.json goes through it.
func (l *WriteLock) WriteFile(rel string, data []byte) error {
	if l == nil || l.f == nil {
		return errors.New("writing without holding the lock")
	}
	if path.Clean(rel) != rel || !strings.HasPrefix(rel, FlashDir+"/") || strings.Contains(rel, "..") {
		return fmt.Errorf("%s: flash-lsp writes its own files only inside %s", rel, FlashDir)
	}
	if rel == ManifestPath || rel == GitignorePath || rel == LockFile || strings.HasPrefix(rel, HandlersDir+"/") || strings.HasPrefix(rel, OpenAPIDir+"/") {
		return fmt.Errorf("%s is written by generate, not by WriteFile", rel)
	}
	if err := newDirChecker(l.root).check(path.Dir(rel)); err != nil {
		return err
	}
	name := filepath.Join(l.root, filepath.FromSlash(rel))
	if fi, err := os.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return &ConflictError{Conflicts: []Conflict{{rel, "exists and is not a regular file"}}}
	}
	return WriteFileAtomic(name, data, 0o644)
}

// WriteFlashFile takes the lock of the module at root, writes data to rel
// (see WriteLock.WriteFile) and releases the lock.
func WriteFlashFile(root, rel string, data []byte) error {
	lk, err := AcquireLock(root)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	return lk.WriteFile(rel, data)
}

// CheckBuildDir checks .flash and .flash/.build (and rel below it) before
// build, run or deploy writes or deletes there: a symbolic link on the way is
// a *SymlinkError. Call it holding the lock.
func CheckBuildDir(root, rel string) error {
	c := newDirChecker(root)
	if err := c.check(BuildDir); err != nil {
		return err
	}
	return c.check(rel)
}

// WriteFileAtomic writes data to name through a temporary file in the same
// directory and a rename, so readers never see a half-written file.
func WriteFileAtomic(name string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}
