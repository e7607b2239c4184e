package cache

import (
	"bytes"
	"context"
	"fmt"
	"go/token"
	"go/types"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/tools/go/packages"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

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
				if !model.UnderFlashDir(f) {
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
