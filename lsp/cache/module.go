// Package cache is the language server's knowledge of the code. For each Go
// module it loads package metadata with go/packages once (and again when
// go.mod, go.sum or the set of files changes), parses and type-checks the
// module's own packages in process (open buffers as overlays, dependencies
// from export data), and keeps each package's analysis results, so that an
// edit re-checks only the edited package and its reverse dependencies and
// then reruns the cheap whole-module rules over every package.
//
// Package lsp is the protocol layer on top: it turns a Snapshot into
// diagnostics, hovers and completions. Nothing here knows about LSP.
package cache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/tools/go/gcexportdata"
	"golang.org/x/tools/go/packages"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// File is one parsed Go file of a workspace package. A File is immutable:
// an edit produces a new one.
type File struct {
	Name    string // absolute filename
	Content []byte
	AST     *ast.File
	Tok     *token.File
	// ParseErr is the parser's error (a scanner.ErrorList), if any.
	ParseErr error
}

// Package is the result of checking one workspace package. A Package is
// immutable once built.
type Package struct {
	Path  string // import path
	Name  string
	Dir   string
	Files []*File
	Types *types.Package
	// The types.Info of the check is not kept: the checker has read it,
	// and holding every package's would double the live heap (and the
	// garbage collector's work after every edit).

	// Model is what the package contributes to the Flash project; nil when
	// the checker produced none.
	Model *model.Package
	// Findings are the package's own findings (compile errors and
	// per-package rules); whole-module findings live in the Snapshot.
	Findings []Finding
	// Extra is the checker's per-package state.
	Extra any
}

// Snapshot is an immutable view of a module after an analysis run.
type Snapshot struct {
	Module *Module
	// Packages holds every workspace package by import path.
	Packages map[string]*Package
	// Files holds every analysed file by absolute filename.
	Files map[string]*File
	// Findings holds every finding by the file it is located in, sorted by
	// position.
	Findings map[string][]Finding
	// Checked lists the packages re-checked by the run that produced the
	// snapshot.
	Checked []string
	// LoadErrors are problems of loading the module that have no position.
	LoadErrors []string
	// Models are the packages' models joined by the whole-module step,
	// sorted by import path: what hover, completion and generate read.
	Models []*model.Package
	// Path and GoVersion are the module path and go directive.
	Path, GoVersion string
	// Partial marks an early snapshot (see AnalyzeEarly): it holds only
	// some packages, and no whole-module findings.
	Partial bool

	owner map[string]*Package
}

// PackageOf returns the package that contains filename, or nil.
func (s *Snapshot) PackageOf(filename string) *Package { return s.owner[filename] }

// HasErrors reports whether any finding of the snapshot is an error; when
// ignoreCompile is set, compile errors do not count.
func (s *Snapshot) HasErrors(ignoreCompile bool) (Finding, bool) {
	files := make([]string, 0, len(s.Findings))
	for f := range s.Findings {
		files = append(files, f)
	}
	sort.Strings(files)
	for _, name := range files {
		for _, f := range s.Findings[name] {
			if f.Severity == rules.Error && !(ignoreCompile && f.Rule == rules.Compile) {
				return f, true
			}
		}
	}
	return Finding{}, false
}

// metaPkg is the metadata of one package, from go/packages.
type metaPkg struct {
	Path    string
	Name    string
	Dir     string
	GoFiles []string
	// Imports maps an import path as written to the package path it
	// resolves to.
	Imports map[string]string
	// Workspace is set for the module's own packages.
	Workspace  bool
	ExportFile string
	Errors     []string
}

// Module is one go.mod: a project of its own. Its methods are safe for
// concurrent use; Analyze runs one at a time.
type Module struct {
	Dir string // module root (absolute)
	// LoadTime is how long the last metadata load took, for logs.
	LoadTime time.Duration

	checker Checker

	mu   sync.Mutex // held by Analyze for its whole run
	fset *token.FileSet
	// Path and GoVersion come from the metadata.
	path      string
	goVersion string

	loaded     bool
	loads      int // metadata loads so far
	needReload bool
	loadErrs   []string
	meta       map[string]*metaPkg // by package path
	order      []string            // workspace packages, dependencies first
	rdeps      map[string][]string // workspace importers of each package
	owner      map[string]string   // filename → workspace package path
	exports    map[string]*types.Package
	unresolved map[string]bool // imports still unknown after a reload
	unowned    map[string]bool // open files no package of the metadata holds
	overlaid   map[string]bool // files overlaid in the last run

	reqMu      sync.Mutex // guards reqChanges
	reqChanges []FileChange

	// fileMu guards files and disk, and expMu exports, while packages are
	// checked in parallel.
	fileMu   sync.Mutex
	expMu    sync.Mutex
	files    map[string]*File    // parsed files, by filename
	disk     map[string][]byte   // disk contents read so far
	pkgs     map[string]*Package // checked packages
	dirty    map[string]bool     // packages that must be re-checked
	moduleFs []Finding           // whole-module findings of the last run
	joined   []*model.Package
	// last is read without mu, so that requests never wait for a run.
	last atomic.Pointer[Snapshot]
}

// NewModule returns the module rooted at dir (which holds go.mod). Nothing
// is loaded until the first Analyze.
func NewModule(dir string, checker Checker) *Module {
	if checker == nil {
		checker = compileOnly{}
	}
	return &Module{
		Dir:     dir,
		checker: checker,
		dirty:   make(map[string]bool),
		disk:    make(map[string][]byte),
	}
}

// Contains reports whether filename belongs to this module's tree (it may
// still belong to a nested module: callers pick the deepest root).
func (m *Module) Contains(filename string) bool {
	rel, err := filepath.Rel(m.Dir, filename)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// Ignored reports whether filename is never analysed: it lies under a
// .flash directory (generated code).
func Ignored(filename string) bool {
	for _, part := range strings.Split(filepath.ToSlash(filename), "/") {
		if part == ".flash" {
			return true
		}
	}
	return false
}

// Snapshot returns the result of the last completed analysis, or nil.
func (m *Module) Snapshot() *Snapshot {
	return m.last.Load()
}

// FileChange is a change of a file on disk.
type FileChange struct {
	Name    string
	Created bool
	Deleted bool
}

// DidChangeFiles records changes on disk: go.mod and go.sum changes and
// created or deleted Go files reload the metadata; a changed Go file is
// re-read and its package re-checked at the next Analyze. It does not wait
// for an analysis in progress.
func (m *Module) DidChangeFiles(changes []FileChange) {
	m.reqMu.Lock()
	defer m.reqMu.Unlock()
	m.reqChanges = append(m.reqChanges, changes...)
}

// applyChanges applies the disk changes recorded since the last run; m.mu
// is held.
func (m *Module) applyChanges() {
	m.reqMu.Lock()
	changes := m.reqChanges
	m.reqChanges = nil
	m.reqMu.Unlock()
	for _, c := range changes {
		base := filepath.Base(c.Name)
		switch {
		case base == "go.mod" || base == "go.sum" || base == "go.work":
			m.needReload = true
			m.unresolved = nil
		case strings.HasSuffix(base, ".go"):
			if Ignored(c.Name) {
				continue
			}
			delete(m.disk, c.Name)
			if c.Created || c.Deleted {
				m.needReload = true
				m.unresolved = nil
			}
			if p, ok := m.owner[c.Name]; ok {
				m.dirty[p] = true
			} else if !m.unowned[c.Name] {
				m.needReload = true
			}
		}
	}
}

// diffOverlays marks the packages whose open buffers changed, were opened
// or were closed since the last run; m.mu is held. A buffer of a file the
// metadata does not know (new, or excluded by build tags) reloads it once.
func (m *Module) diffOverlays(overlays map[string][]byte) {
	for name, c := range overlays {
		if p, ok := m.owner[name]; ok {
			m.fileMu.Lock()
			f := m.files[name]
			m.fileMu.Unlock()
			if f == nil || !bytes.Equal(f.Content, c) {
				m.dirty[p] = true
			}
		} else if m.loaded && !m.unowned[name] && strings.HasSuffix(name, ".go") && !Ignored(name) {
			m.needReload = true
		}
	}
	for name := range m.overlaid {
		if _, ok := overlays[name]; !ok {
			if p, ok := m.owner[name]; ok {
				m.dirty[p] = true // back to the disk contents
			}
		}
	}
	m.overlaid = make(map[string]bool, len(overlays))
	for name := range overlays {
		m.overlaid[name] = true
	}
}

// Analyze brings the module up to date with overlays (open buffers, by
// filename) and returns a snapshot. It re-checks the dirty packages and
// their reverse dependencies, in dependency order, and then reruns the
// whole-module rules. When ctx is cancelled it stops between packages and
// returns ctx's error; the work that remains stays pending for the next run.
func (m *Module) Analyze(ctx context.Context, overlays map[string][]byte) (*Snapshot, error) {
	return m.AnalyzeEarly(ctx, overlays, nil)
}

// AnalyzeEarly is Analyze, and when the packages of the open buffers (and
// their dependencies) are done while other packages remain to be checked,
// as on the first run, it calls early with a partial snapshot: the open
// buffers' packages with their per-package findings, without the
// whole-module rules, which need every package.
func (m *Module) AnalyzeEarly(ctx context.Context, overlays map[string][]byte, early func(*Snapshot)) (*Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()

	m.applyChanges()
	m.diffOverlays(overlays)
	reloaded := false
	if !m.loaded || m.needReload {
		if err := m.reload(ctx, overlays); err != nil {
			return nil, err
		}
		reloaded = true
	}

	// Parse dirty packages first to find imports the metadata lacks (an
	// import added in an unsaved buffer): those need a reload.
	if !reloaded {
		for p := range m.dirty {
			mp := m.meta[p]
			if mp == nil {
				continue
			}
			if m.importsChanged(mp, overlays) {
				if err := m.reload(ctx, overlays); err != nil {
					return nil, err
				}
				break
			}
		}
	}

	// The dirty set grows to every workspace importer, transitively.
	var queue []string
	for p := range m.dirty {
		queue = append(queue, p)
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, r := range m.rdeps[p] {
			if !m.dirty[r] {
				m.dirty[r] = true
				queue = append(queue, r)
			}
		}
	}

	checked, err := m.checkDirty(ctx, overlays, early)
	if err != nil {
		return nil, err
	}

	all := sortedPackages(m.pkgs)
	if len(checked) > 0 || m.last.Load() == nil {
		m.moduleFs, m.joined = m.checker.ModuleRules(all)
	}
	snap := m.snapshot(checked)
	m.last.Store(snap)
	return snap, nil
}

// checkDirty re-checks the dirty packages in waves: each wave holds the
// dirty packages whose dirty dependencies are all done, checked in
// parallel on every processor. Between waves it stops when ctx is
// cancelled.
func (m *Module) checkDirty(ctx context.Context, overlays map[string][]byte, early func(*Snapshot)) ([]string, error) {
	var pending []string
	for _, path := range m.order {
		if m.dirty[path] {
			pending = append(pending, path)
		}
	}
	var checked []string
	if early != nil {
		// The open buffers' packages and their dirty dependencies first.
		prio := map[string]bool{}
		var mark func(p string)
		mark = func(p string) {
			if prio[p] || !m.dirty[p] {
				return
			}
			prio[p] = true
			for _, t := range m.meta[p].Imports {
				mark(t)
			}
		}
		for name := range overlays {
			if p, ok := m.owner[name]; ok {
				mark(p)
			}
		}
		var first, rest []string
		for _, p := range pending {
			if prio[p] {
				first = append(first, p)
			} else {
				rest = append(rest, p)
			}
		}
		if len(first) > 0 && len(rest) > 0 {
			done, err := m.checkWaves(ctx, overlays, first)
			checked = append(checked, done...)
			if err != nil {
				return nil, err
			}
			part := m.snapshot(checked)
			part.Partial = true
			for path := range part.Packages {
				if !prio[path] {
					delete(part.Packages, path)
				}
			}
			part.Findings = make(map[string][]Finding)
			for path := range prio {
				for _, f := range m.pkgs[path].Findings {
					part.Findings[f.File] = append(part.Findings[f.File], f)
				}
			}
			for name, fs := range part.Findings {
				part.Findings[name] = dedupe(fs)
			}
			early(part)
			pending = rest
		}
	}
	done, err := m.checkWaves(ctx, overlays, pending)
	return append(checked, done...), err
}

// checkWaves checks the packages of pending (in dependency order) in
// waves: each wave holds the packages whose dirty dependencies are all
// done, checked in parallel on every processor. Between waves it stops when
// ctx is cancelled.
func (m *Module) checkWaves(ctx context.Context, overlays map[string][]byte, pending []string) ([]string, error) {
	var checked []string
	workers := max(1, goruntime.GOMAXPROCS(0))
	for len(pending) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var wave, rest []string
		for _, path := range pending {
			ready := true
			for _, t := range m.meta[path].Imports {
				if m.dirty[t] && t != path {
					ready = false
					break
				}
			}
			if ready {
				wave = append(wave, path)
			} else {
				rest = append(rest, path)
			}
		}
		if len(wave) == 0 { // an import cycle: take them in order
			wave, rest = rest[:1], rest[1:]
		}
		results := make([]*Package, len(wave))
		errs := make([]error, len(wave))
		next := make(chan int)
		var wg sync.WaitGroup
		for range min(workers, len(wave)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					results[i], errs[i] = m.check(m.meta[wave[i]], overlays)
				}
			}()
		}
		for i := range wave {
			next <- i
		}
		close(next)
		wg.Wait()
		for i, path := range wave {
			if errs[i] != nil {
				return nil, errs[i]
			}
			m.pkgs[path] = results[i]
			delete(m.dirty, path)
			checked = append(checked, path)
		}
		pending = rest
	}
	return checked, ctx.Err()
}

func (m *Module) snapshot(checked []string) *Snapshot {
	s := &Snapshot{
		Module:     m,
		Packages:   make(map[string]*Package, len(m.pkgs)),
		Files:      make(map[string]*File),
		Findings:   make(map[string][]Finding),
		Checked:    checked,
		LoadErrors: m.loadErrs,
		owner:      make(map[string]*Package),
		Models:     m.joined,
		Path:       m.path,
		GoVersion:  m.goVersion,
	}
	for path, p := range m.pkgs {
		s.Packages[path] = p
		for _, f := range p.Files {
			s.Files[f.Name] = f
			s.owner[f.Name] = p
		}
		for _, f := range p.Findings {
			s.Findings[f.File] = append(s.Findings[f.File], f)
		}
	}
	for _, f := range m.moduleFs {
		s.Findings[f.File] = append(s.Findings[f.File], f)
	}
	for name, fs := range s.Findings {
		s.Findings[name] = dedupe(fs)
	}
	return s
}

// dedupe sorts the findings of one file and keeps at most one finding per
// token: of the flash findings that start at the same offset, the one whose
// rule comes first in the rule table. Compile errors are kept, once each.
func dedupe(fs []Finding) []Finding {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		if pa, pb := rules.Precedence(a.Rule), rules.Precedence(b.Rule); pa != pb {
			return pa - pb
		}
		return strings.Compare(a.Message, b.Message)
	})
	out := fs[:0:0]
	for i, f := range fs {
		if i > 0 {
			prev := out[len(out)-1]
			if f.Start == prev.Start && (f.Rule != rules.Compile && prev.Rule != rules.Compile ||
				f.Rule == prev.Rule && f.Message == prev.Message) {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// reload loads the metadata. The go command can fail while the user types
// (an import of a module go.mod lacks, a go.mod being edited): when
// earlier metadata exists, the analysis goes on with it, the failure is
// kept in LoadErrors, and no reload is tried again until go.mod or the set
// of files changes. Loading is never cancelled by edits: it would never
// finish while the user types.
func (m *Module) reload(ctx context.Context, overlays map[string][]byte) error {
	err := m.load(context.WithoutCancel(ctx), overlays)
	if err == nil || !m.loaded {
		return err
	}
	m.needReload = false
	m.loadErrs = append(m.loadErrs[:len(m.loadErrs):len(m.loadErrs)], err.Error())
	return nil
}

// load runs go/packages for the module's metadata, and a second time for
// the export data of the dependencies the workspace imports directly.
func (m *Module) load(ctx context.Context, overlays map[string][]byte) error {
	t0 := time.Now()
	defer func() { m.LoadTime = time.Since(t0) }()
	m.loads++
	cfg := &packages.Config{
		Context: ctx,
		Dir:     m.Dir,
		Mode:    packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedDeps | packages.NeedModule,
		Overlay: overlays,
		// Test files are analysed too (a directive there is misplaced):
		// each package is checked once, as its test variant when it has
		// one, and external test packages on their own.
		Tests: true,
	}
	roots, err := packages.Load(cfg, "./...")
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("loading packages of %s: %w", m.Dir, err)
	}

	meta := make(map[string]*metaPkg)
	var loadErrs []string
	packages.Visit(roots, nil, func(p *packages.Package) {
		variant := strings.Contains(p.ID, " [")
		selfTest := p.ID == p.PkgPath+" ["+p.PkgPath+".test]"
		xTest := strings.HasSuffix(p.PkgPath, "_test") &&
			p.ID == p.PkgPath+" ["+strings.TrimSuffix(p.PkgPath, "_test")+".test]"
		switch {
		case strings.HasSuffix(p.ID, ".test") && !variant:
			return // the generated test main
		case variant && !selfTest && !xTest:
			return // a dependency recompiled for some test: seen as itself
		case selfTest:
			// The package with its _test.go files replaces the package.
		default:
			if _, ok := meta[p.PkgPath]; ok {
				return
			}
		}
		mp := &metaPkg{Path: p.PkgPath, Name: p.Name, Imports: make(map[string]string)}
		for spec, imp := range p.Imports {
			mp.Imports[spec] = imp.PkgPath
		}
		if p.Module != nil && p.Module.Main && filepath.Clean(p.Module.Dir) == filepath.Clean(m.Dir) {
			mp.Workspace = true
			if m.path == "" {
				m.path = p.Module.Path
			}
			if p.Module.GoVersion != "" {
				m.goVersion = "go" + p.Module.GoVersion
			}
			for _, f := range p.GoFiles {
				if !Ignored(f) {
					mp.GoFiles = append(mp.GoFiles, f)
				}
			}
			if len(p.GoFiles) > 0 {
				mp.Dir = filepath.Dir(p.GoFiles[0])
			}
			for _, e := range p.Errors {
				if e.Pos == "" {
					loadErrs = append(loadErrs, e.Msg)
				}
			}
		}
		meta[p.PkgPath] = mp
	})

	// Export data for the non-workspace packages the workspace imports.
	need := map[string]bool{}
	for _, mp := range meta {
		if !mp.Workspace {
			continue
		}
		for _, target := range mp.Imports {
			if dep := meta[target]; dep != nil && !dep.Workspace && target != "unsafe" && target != "C" {
				need[target] = true
			}
		}
	}
	if len(need) > 0 {
		var paths []string
		for p := range need {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		ecfg := &packages.Config{
			Context: ctx,
			Dir:     m.Dir,
			Mode:    packages.NeedName | packages.NeedExportFile,
		}
		deps, err := packages.Load(ecfg, paths...)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("loading export data for %s: %w", m.Dir, err)
		}
		for _, d := range deps {
			if mp := meta[d.PkgPath]; mp != nil {
				mp.ExportFile = d.ExportFile
				for _, e := range d.Errors {
					mp.Errors = append(mp.Errors, e.Msg)
				}
			}
		}
	}

	m.meta = meta
	m.loadErrs = loadErrs
	m.owner = make(map[string]string)
	m.rdeps = make(map[string][]string)
	for _, mp := range meta {
		if !mp.Workspace {
			continue
		}
		for _, f := range mp.GoFiles {
			m.owner[f] = mp.Path
		}
		for _, target := range mp.Imports {
			if dep := meta[target]; dep != nil && dep.Workspace {
				m.rdeps[target] = append(m.rdeps[target], mp.Path)
			}
		}
	}
	m.order = topoOrder(meta)
	// A fresh FileSet and export-data universe: the old ones would grow
	// forever across reloads.
	m.fset = token.NewFileSet()
	m.exports = make(map[string]*types.Package)
	m.files = make(map[string]*File)
	m.pkgs = make(map[string]*Package)
	m.dirty = make(map[string]bool)
	for _, p := range m.order {
		m.dirty[p] = true
	}
	if m.unresolved == nil {
		// Kept across reloads: an import that a reload could not resolve
		// does not reload again at every keystroke (see importsChanged);
		// applyChanges forgets them when go.mod or the files change.
		m.unresolved = make(map[string]bool)
	}
	m.unowned = make(map[string]bool)
	for name := range overlays {
		if _, ok := m.owner[name]; !ok {
			m.unowned[name] = true
		}
	}
	m.loaded = true
	m.needReload = false
	return nil
}

// topoOrder sorts the workspace packages so that each comes after the
// workspace packages it imports (cycles are broken arbitrarily; the type
// checker reports them).
func topoOrder(meta map[string]*metaPkg) []string {
	var paths []string
	for p, mp := range meta {
		if mp.Workspace {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	state := map[string]int{} // 1 visiting, 2 done
	var order []string
	var visit func(p string)
	visit = func(p string) {
		if state[p] != 0 {
			return
		}
		state[p] = 1
		mp := meta[p]
		var deps []string
		for _, t := range mp.Imports {
			if d := meta[t]; d != nil && d.Workspace {
				deps = append(deps, t)
			}
		}
		sort.Strings(deps)
		for _, d := range deps {
			visit(d)
		}
		state[p] = 2
		order = append(order, p)
	}
	for _, p := range paths {
		visit(p)
	}
	return order
}

// content returns the current text of filename: its overlay, or what is on
// disk.
func (m *Module) content(filename string, overlays map[string][]byte) ([]byte, error) {
	if c, ok := overlays[filename]; ok {
		return c, nil
	}
	m.fileMu.Lock()
	c, ok := m.disk[filename]
	m.fileMu.Unlock()
	if ok {
		return c, nil
	}
	c, err := os.ReadFile(filename)
	if err != nil {
		return nil, err
	}
	m.fileMu.Lock()
	m.disk[filename] = c
	m.fileMu.Unlock()
	return c, nil
}

// parse returns the parsed file for filename's current content, reusing the
// previous parse when the content did not change.
func (m *Module) parse(filename string, overlays map[string][]byte) (*File, error) {
	c, err := m.content(filename, overlays)
	if err != nil {
		return nil, err
	}
	m.fileMu.Lock()
	f := m.files[filename]
	m.fileMu.Unlock()
	if f != nil && bytes.Equal(f.Content, c) {
		return f, f.ParseErr
	}
	// Keep our own copy: overlays belong to the caller.
	c = bytes.Clone(c)
	astf, err := parser.ParseFile(m.fset, filename, c, parser.ParseComments|parser.SkipObjectResolution)
	f = &File{Name: filename, Content: c, AST: astf, ParseErr: err}
	if astf != nil {
		f.Tok = m.fset.File(astf.FileStart)
	}
	m.fileMu.Lock()
	m.files[filename] = f
	m.fileMu.Unlock()
	return f, err
}

// importsChanged reports whether a file of mp now imports a package the
// metadata does not know.
func (m *Module) importsChanged(mp *metaPkg, overlays map[string][]byte) bool {
	for _, name := range mp.GoFiles {
		f, _ := m.parse(name, overlays)
		if f == nil || f.AST == nil {
			continue
		}
		for _, spec := range f.AST.Imports {
			path := strings.Trim(spec.Path.Value, "\"`")
			if path == "C" || path == "unsafe" || m.unresolved[path] {
				continue
			}
			if _, ok := mp.Imports[path]; !ok {
				if _, known := m.meta[path]; !known {
					if m.unresolved == nil {
						m.unresolved = make(map[string]bool)
					}
					m.unresolved[path] = true // do not reload for it twice
				}
				return true
			}
		}
	}
	return false
}

// check parses and type-checks one workspace package and runs the checker.
func (m *Module) check(mp *metaPkg, overlays map[string][]byte) (*Package, error) {
	pkg := &Package{Path: mp.Path, Name: mp.Name, Dir: mp.Dir}
	var errs []error
	var asts []*ast.File
	for _, name := range mp.GoFiles {
		f, err := m.parse(name, overlays)
		if err != nil {
			var list scanner.ErrorList
			if errors.As(err, &list) {
				for _, e := range list {
					errs = append(errs, e)
				}
			} else if f == nil || f.AST == nil {
				// Unreadable (deleted under us): the next reload fixes it.
				continue
			}
		}
		if f == nil || f.AST == nil {
			continue
		}
		pkg.Files = append(pkg.Files, f)
		asts = append(asts, f.AST)
	}

	deps := make(map[string]*Package)
	imp := importerFunc(func(spec string) (*types.Package, error) {
		if spec == "unsafe" {
			return types.Unsafe, nil
		}
		target := mp.Imports[spec]
		if target == "" {
			target = spec
		}
		if dm := m.meta[target]; dm != nil && dm.Workspace {
			if dp := m.pkgs[target]; dp != nil && dp.Types != nil {
				deps[target] = dp
				return dp.Types, nil
			}
			return nil, fmt.Errorf("import cycle or unchecked package %s", target)
		}
		return m.importExport(target)
	})
	info := &types.Info{
		Types:        make(map[ast.Expr]types.TypeAndValue),
		Instances:    make(map[*ast.Ident]types.Instance),
		Defs:         make(map[*ast.Ident]types.Object),
		Uses:         make(map[*ast.Ident]types.Object),
		Implicits:    make(map[ast.Node]types.Object),
		Selections:   make(map[*ast.SelectorExpr]*types.Selection),
		Scopes:       make(map[ast.Node]*types.Scope),
		FileVersions: make(map[*ast.File]string),
	}
	conf := types.Config{
		Importer:  imp,
		GoVersion: m.goVersion,
		Sizes:     types.SizesFor("gc", goruntime.GOARCH),
		Error:     func(err error) { errs = append(errs, err) },
	}
	tpkg, _ := conf.Check(mp.Path, m.fset, asts, info)
	pkg.Types = tpkg
	if pkg.Name == "" && tpkg != nil {
		pkg.Name = tpkg.Name()
	}

	res, err := m.checker.CheckPackage(&CheckInput{
		Fset: m.fset, Path: mp.Path, Dir: mp.Dir, Files: asts, Types: tpkg, Info: info,
		Errors: errs, Deps: deps,
	})
	if err != nil {
		return nil, fmt.Errorf("checking %s: %w", mp.Path, err)
	}
	if res == nil {
		res = &Analysis{}
	}
	pkg.Model, pkg.Extra = res.Model, res.Extra
	pkg.Findings = res.Findings
	if !res.CompileReported {
		pkg.Findings = append(pkg.Findings, CompileFindings(m.fset, errs)...)
	}
	files := make(map[string]*File, len(pkg.Files))
	for _, f := range pkg.Files {
		files[f.Name] = f
	}
	for i := range pkg.Findings {
		widen(&pkg.Findings[i], files)
	}
	return pkg, nil
}

// importExport returns an external package from its export data.
func (m *Module) importExport(path string) (*types.Package, error) {
	m.expMu.Lock()
	defer m.expMu.Unlock()
	if p := m.exports[path]; p != nil && p.Complete() {
		return p, nil
	}
	mp := m.meta[path]
	if mp == nil {
		return nil, fmt.Errorf("package %s is not in the module's dependencies", path)
	}
	if mp.ExportFile == "" {
		if len(mp.Errors) > 0 {
			return nil, fmt.Errorf("no export data for %s: %s", path, mp.Errors[0])
		}
		return nil, fmt.Errorf("no export data for %s", path)
	}
	f, err := os.Open(mp.ExportFile)
	if err != nil {
		return nil, fmt.Errorf("reading export data of %s: %w", path, err)
	}
	defer f.Close()
	r, err := gcexportdata.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("reading export data of %s: %w", path, err)
	}
	p, err := gcexportdata.Read(r, m.fset, m.exports, path)
	if err != nil {
		return nil, fmt.Errorf("reading export data of %s: %w", path, err)
	}
	return p, nil
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// CompileFindings converts parse and type errors into findings of rule
// compile.
func CompileFindings(fset *token.FileSet, errs []error) []Finding {
	var out []Finding
	for _, err := range errs {
		var (
			terr types.Error
			serr scanner.Error
			perr *scanner.Error
		)
		var pos token.Position
		var msg string
		switch {
		case errors.As(err, &terr):
			pos, msg = terr.Fset.PositionFor(terr.Pos, false), terr.Msg
		case errors.As(err, &perr):
			pos, msg = perr.Pos, perr.Msg
		case errors.As(err, &serr):
			pos, msg = serr.Pos, serr.Msg
		default:
			continue
		}
		if !pos.IsValid() || pos.Filename == "" {
			continue
		}
		out = append(out, Finding{
			Rule: rules.Compile, Severity: rules.Error, Message: msg,
			File: pos.Filename, Start: pos.Offset, End: pos.Offset,
		})
	}
	return out
}

// widen gives an empty range the extent of the word it starts, so that an
// editor underlines something.
func widen(f *Finding, files map[string]*File) {
	if f.End > f.Start {
		return
	}
	file := files[f.File]
	if file == nil || f.Start < 0 || f.Start >= len(file.Content) {
		return
	}
	c := file.Content
	end := f.Start
	for end < len(c) {
		r, size := utf8.DecodeRune(c[end:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_') {
			break
		}
		end += size
	}
	if end == f.Start && c[end] != '\n' {
		_, size := utf8.DecodeRune(c[end:])
		end += size
	}
	f.End = end
}

func sortedPackages(m map[string]*Package) []*Package {
	out := make([]*Package, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Package) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// compileOnly is the Checker of a cache without analysis: it reports
// compile errors only.
type compileOnly struct{}

func (compileOnly) CheckPackage(*CheckInput) (*Analysis, error) { return &Analysis{}, nil }
func (compileOnly) ModuleRules([]*Package) ([]Finding, []*model.Package) {
	return nil, nil
}
