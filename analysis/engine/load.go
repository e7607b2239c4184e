package engine

import (
	"bytes"
	"context"
	"fmt"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// metaPkg is the metadata of one package, from the go command.
type metaPkg struct {
	Path    string
	Name    string
	Dir     string
	GoFiles []string
	// Cgo says some files use cgo: they are type-checked with a fake "C".
	Cgo bool
	// Imports maps an import path as written to the package path it
	// resolves to.
	Imports map[string]string
	// Deps are the workspace packages it imports, but for an import that
	// closes a cycle (see topoOrder).
	Deps []string
	// Workspace is set for the module's own packages, XTest for their
	// external test packages (p_test).
	Workspace, XTest bool
	ExportFile       string
	// Errors are the go command's errors about the package (of every
	// variant of a workspace package), such as an import it cannot
	// resolve.
	Errors []listError
}

// listError is an error the go command reported about a package.
type listError struct{ Pos, Err string }

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
			if model.UnderFlashDir(c.Name) {
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
		} else if m.loaded && !m.unowned[name] && strings.HasSuffix(name, ".go") && !model.UnderFlashDir(name) {
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

// load lists the module with the go command: its packages and their
// test variants, with every dependency. A workspace package is analysed
// once, as its test variant "p [p.test]" when it has one (its files plus
// its in-package tests), and each external test package on its own; test
// mains, packages recompiled for another package's tests and packages under
// .flash are left out. Dependencies outside the module come from export
// data: in batch mode the same go list run compiles them (and the module's
// packages, as go vet does); otherwise another run, started at once from
// the imports the files declare, lists the export data of the dependencies
// the module imports, so that a reload while the user types never compiles
// the module's own packages.
func (m *Module) load(ctx context.Context, overlays map[string][]byte) error {
	t0 := time.Now()
	defer func() { m.LoadTime = time.Since(t0) }()
	m.loads++
	env := append(os.Environ(), m.cfg.Env...)
	overlayFile, cleanup, err := writeOverlay(overlays)
	if err != nil {
		return err
	}
	defer cleanup()
	var (
		early []*listPackage
		wg    sync.WaitGroup
	)
	if m.cfg.Batch {
		// A batch client loads once: parse while the go command lists.
		m.fset = token.NewFileSet()
		m.files = make(map[string]*File)
		wg.Go(func() { m.prefetch(overlays) })
	} else {
		wg.Go(func() { early = m.listImportedExports(ctx, env, overlayFile, overlays) })
	}
	raw, listed, err := goList(ctx, m.Dir, env, m.cfg.BuildFlags, overlayFile,
		"-json="+listFields, "-deps=true", "-export="+strconv.FormatBool(m.cfg.Batch),
		"-test="+strconv.FormatBool(!m.cfg.SkipTests), "--", "./...")
	wg.Wait()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("loading packages of %s: %w", m.Dir, err)
	}

	meta := make(map[string]*metaPkg)
	var loadErrs []string
	for _, lp := range listed {
		path := lp.pkgPath()
		variant := path != lp.ImportPath
		if strings.HasSuffix(lp.ImportPath, ".test") {
			continue // a test main
		}
		if lp.Module == nil || filepath.Clean(lp.Module.Dir) != m.Dir || model.UnderFlashDir(filepath.Join(lp.Dir, "x")) {
			if !variant && meta[path] == nil {
				mp := &metaPkg{Path: path, Name: lp.Name, ExportFile: lp.Export}
				if lp.Error != nil {
					mp.Errors = append(mp.Errors, listError{lp.Error.Pos, lp.Error.Err})
				}
				meta[path] = mp
			}
			continue
		}
		xtest := variant && lp.ForTest != "" && path != lp.ForTest
		if variant && !xtest && lp.ImportPath != path+" ["+path+".test]" {
			continue // recompiled for another package's tests: seen as itself
		}
		mp := meta[path]
		if mp == nil {
			mp = &metaPkg{Path: path, Workspace: true}
			meta[path] = mp
		}
		if lp.Error != nil {
			e := listError{lp.Error.Pos, lp.Error.Err}
			if !slices.Contains(mp.Errors, e) {
				mp.Errors = append(mp.Errors, e)
			}
		}
		if mp.Name != "" && !variant {
			continue // p after its test variant, which holds more
		}
		mp.Name, mp.Dir, mp.XTest = lp.Name, lp.Dir, xtest
		mp.Cgo = len(lp.CgoFiles) > 0
		mp.GoFiles = mp.GoFiles[:0]
		for _, f := range lp.sourceFiles() {
			if !model.UnderFlashDir(f) {
				mp.GoFiles = append(mp.GoFiles, f)
			}
		}
		mp.Imports = make(map[string]string, len(lp.Imports))
		for _, id := range lp.Imports {
			mp.Imports[pkgPathOf(id)] = pkgPathOf(id)
		}
		for src, id := range lp.ImportMap {
			mp.Imports[src] = pkgPathOf(id)
		}
		if m.path == "" {
			m.path = lp.Module.Path
		}
		if v := lp.Module.GoVersion; v != "" {
			m.goVersion = "go" + v
		}
	}
	for _, mp := range meta {
		if !mp.Workspace || len(mp.GoFiles) > 0 {
			continue
		}
		for _, e := range mp.Errors { // no file to show it in
			loadErrs = append(loadErrs, oneLine(e.Err))
		}
	}
	slices.Sort(loadErrs)
	if !m.cfg.Batch {
		if err := m.listExports(ctx, env, overlayFile, meta, early); err != nil {
			return err
		}
	}

	if m.cfg.Batch {
		m.listing = raw // only a batch client keys a cache by it
	}
	m.meta = meta
	m.loadErrs = slices.Compact(loadErrs)
	m.owner = make(map[string]string)
	m.rdeps = make(map[string][]string)
	for _, mp := range meta {
		if !mp.Workspace {
			continue
		}
		for _, f := range mp.GoFiles {
			m.owner[f] = mp.Path
		}
	}
	m.order = topoOrder(meta)
	for _, path := range m.order {
		for _, d := range meta[path].Deps {
			m.rdeps[d] = append(m.rdeps[d], path)
		}
	}
	// A fresh FileSet, parse cache, export-data universe and fact store:
	// the old ones would grow forever across reloads. (A failed reload
	// keeps them, with the packages checked in them.)
	if !m.cfg.Batch {
		m.fset = token.NewFileSet()
		m.files = make(map[string]*File)
	}
	m.exports = make(map[string]*types.Package)
	m.facts = NewFacts()
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

// listExports sets the export data of the dependencies outside the module
// that the module's packages import: from early, a listing made while the
// metadata was loading, and from a go list run for those it lacks.
func (m *Module) listExports(ctx context.Context, env []string, overlayFile string, meta map[string]*metaPkg, early []*listPackage) error {
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
	set := func(listed []*listPackage) {
		for _, lp := range listed {
			if mp := meta[lp.ImportPath]; mp != nil && !mp.Workspace && need[lp.ImportPath] {
				mp.ExportFile = lp.Export
				if lp.Error != nil {
					mp.Errors = append(mp.Errors, listError{lp.Error.Pos, lp.Error.Err})
				}
				delete(need, lp.ImportPath)
			}
		}
	}
	set(early)
	if len(need) == 0 {
		return nil
	}
	args := append([]string{"-json=ImportPath,Export,Error", "-export=true", "--"}, slices.Sorted(maps.Keys(need))...)
	_, listed, err := goList(ctx, m.Dir, env, m.cfg.BuildFlags, overlayFile, args...)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("loading export data for %s: %w", m.Dir, err)
	}
	set(listed)
	return nil
}

// listImportedExports lists the export data of the packages outside the
// module that its Go files import, found by reading their import clauses:
// a guess (build tags are not applied) that lets the go command compile
// the dependencies while it lists the module. It never lists a package of
// the module, which it would compile; errors only make the guess useless.
func (m *Module) listImportedExports(ctx context.Context, env []string, overlayFile string, overlays map[string][]byte) []*listPackage {
	data, err := os.ReadFile(filepath.Join(m.Dir, "go.mod"))
	if err != nil {
		return nil
	}
	modPath, _ := parseGoMod(data)
	if modPath == "" {
		return nil
	}
	fset := token.NewFileSet()
	imports := map[string]bool{}
	read := func(name string) {
		src, ok := overlays[name]
		if !ok {
			if src, err = os.ReadFile(name); err != nil {
				return
			}
		}
		f, _ := parser.ParseFile(fset, name, src, parser.ImportsOnly|parser.SkipObjectResolution)
		if f == nil {
			return
		}
		for _, spec := range f.Imports {
			path, err := strconv.Unquote(spec.Path.Value)
			if err != nil || path == "C" || path == "unsafe" || path == modPath || strings.HasPrefix(path, modPath+"/") {
				continue
			}
			imports[path] = true
		}
	}
	for _, name := range m.goFiles(overlays) {
		read(name)
	}
	if len(imports) == 0 {
		return nil
	}
	args := append([]string{"-json=ImportPath,Export,Error", "-export=true", "--"}, slices.Sorted(maps.Keys(imports))...)
	_, listed, err := goList(ctx, m.Dir, env, m.cfg.BuildFlags, overlayFile, args...)
	if err != nil {
		return nil
	}
	return listed
}

// goFiles returns the Go files that ./... can reach in the module's tree
// (not under testdata, vendor, a directory whose name starts with . or _,
// or another module), and the overlays' Go files in it, in no order:
// before the go command has listed the module, what its packages may hold.
func (m *Module) goFiles(overlays map[string][]byte) []string {
	var names []string
	filepath.WalkDir(m.Dir, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		base := d.Name()
		if d.IsDir() {
			if name == m.Dir {
				return nil
			}
			if strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") || base == "testdata" || base == "vendor" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(name, "go.mod")); err == nil {
				return filepath.SkipDir // another module
			}
			return nil
		}
		if _, ok := overlays[name]; !ok && strings.HasSuffix(base, ".go") {
			names = append(names, name)
		}
		return nil
	})
	for name := range overlays {
		if strings.HasSuffix(name, ".go") && m.Contains(name) {
			names = append(names, name)
		}
	}
	return names
}

// prefetch parses the Go files the module may hold while the go command
// lists it, on every processor: most are the files its packages hold,
// whose parses check then finds done.
func (m *Module) prefetch(overlays map[string][]byte) {
	names := make(chan string)
	var wg sync.WaitGroup
	for range goruntime.GOMAXPROCS(0) {
		wg.Go(func() {
			for name := range names {
				m.parse(name, overlays)
			}
		})
	}
	for _, name := range m.goFiles(overlays) {
		names <- name
	}
	close(names)
	wg.Wait()
}

// pkgPathOf is the package path of a go list package ID ("p [q.test]" → "p").
func pkgPathOf(id string) string {
	path, _, _ := strings.Cut(id, " [")
	return path
}

// oneLine joins the lines of a go command message.
func oneLine(msg string) string { return strings.Join(strings.Fields(msg), " ") }

// topoOrder sorts the workspace packages so that each comes after the
// workspace packages it imports, and sets each one's Deps. The go command
// reports an import cycle as an error of the packages in it; here the
// edge that closes a cycle is left out of Deps, so that checking in
// dependency order always ends (the import fails, as a compile error).
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
		state[p] = 1
		mp := meta[p]
		var deps []string
		for _, t := range mp.Imports {
			if d := meta[t]; d != nil && d.Workspace && t != p && !slices.Contains(deps, t) {
				deps = append(deps, t)
			}
		}
		sort.Strings(deps)
		mp.Deps = deps[:0]
		for _, d := range deps {
			switch state[d] {
			case 1:
				continue // closes a cycle
			case 0:
				visit(d)
			}
			mp.Deps = append(mp.Deps, d)
		}
		state[p] = 2
		order = append(order, p)
	}
	for _, p := range paths {
		if state[p] == 0 {
			visit(p)
		}
	}
	return order
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
