package engine

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
	"maps"
	"os"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/gcexportdata"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/remote"
)

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
			for _, t := range m.meta[p].Deps {
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
			part.Findings = make(map[string][]finding.Finding)
			for path := range prio {
				for _, f := range m.pkgs[path].Findings {
					part.Findings[f.File] = append(part.Findings[f.File], f)
				}
			}
			for name, fs := range part.Findings {
				part.Findings[name] = finding.Merge(fs)
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
			for _, t := range m.meta[path].Deps {
				if m.dirty[t] {
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
		results := make([]*Package, len(wave))
		next := make(chan int)
		var wg sync.WaitGroup
		for range min(workers, len(wave)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					results[i] = m.check(m.meta[wave[i]], overlays)
				}
			}()
		}
		for i := range wave {
			next <- i
		}
		close(next)
		wg.Wait()
		for i, path := range wave {
			p := results[i]
			if old := m.pkgs[path]; old != nil && old.Types != nil && p.api != "" && old.api == p.api &&
				maps.Equal(old.imported, p.imported) {
				// Importers see nothing new: they keep their checks, and
				// the types they were checked against, so that types
				// stay identical across packages. (Checked against new
				// types of a dependency, the package's own types are new
				// too, whatever their API: its importers must follow.)
				p.Types = old.Types
			} else {
				for _, r := range m.rdeps[path] {
					if !m.dirty[r] {
						m.dirty[r] = true
						rest = append(rest, r)
					}
				}
			}
			m.pkgs[path] = p
			m.moduleStale = true
			delete(m.dirty, path)
			checked = append(checked, path)
		}
		pending = rest
	}
	return checked, ctx.Err()
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
	if f != nil && !f.Trimmed && bytes.Equal(f.Content, c) {
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

// check parses and type-checks one workspace package, bodies included, and
// runs the flash rules over it (remote.Analyzer, with the facts of the
// packages it imports).
func (m *Module) check(mp *metaPkg, overlays map[string][]byte) *Package {
	pkg := &Package{Path: mp.Path, Name: mp.Name, Dir: mp.Dir, XTest: mp.XTest}
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
		if model.IsGenerated(f.Content) {
			asts = append(asts, declarationsOnly(f.AST))
		} else {
			asts = append(asts, f.AST)
		}
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
			if !slices.Contains(mp.Deps, target) {
				return nil, fmt.Errorf("import cycle not allowed: %s", target)
			}
			if dp := m.pkgs[target]; dp != nil && dp.Types != nil {
				deps[target] = dp
				return dp.Types, nil
			}
			return nil, fmt.Errorf("package %s is not checked", target)
		}
		return m.importExport(target)
	})
	// What the flash rules read (TypeOf, Defs, Implicits), sized from the
	// source so that the maps do not grow step by step.
	size := 0
	for _, f := range pkg.Files {
		size += len(f.Content)
	}
	info := &types.Info{
		Types:     make(map[ast.Expr]types.TypeAndValue, size/16),
		Defs:      make(map[*ast.Ident]types.Object, size/64),
		Uses:      make(map[*ast.Ident]types.Object, size/32),
		Implicits: make(map[ast.Node]types.Object),
	}
	conf := types.Config{
		Importer:    imp,
		GoVersion:   m.goVersion,
		Sizes:       m.sizes,
		FakeImportC: mp.Cgo,
		Error:       func(err error) { errs = append(errs, err) },
	}
	tpkg, _ := conf.Check(mp.Path, m.fset, asts, info)
	pkg.Types = tpkg
	if pkg.Name == "" && tpkg != nil {
		pkg.Name = tpkg.Name()
	}

	a := &unit{
		fset: m.fset, files: asts, pkg: tpkg, info: info, sizes: m.sizes, facts: m.facts,
		readFile: func(name string) ([]byte, error) { return m.content(name, overlays) },
	}
	for _, err := range errs {
		var terr types.Error
		if errors.As(err, &terr) {
			a.typeErrors = append(a.typeErrors, terr)
		}
	}
	if m.path != "" {
		a.module = &analysis.Module{Path: m.path, GoVersion: strings.TrimPrefix(m.goVersion, "go")}
	}
	pm, findings := a.check(remote.Analyzer)
	if pm.Dir == "" {
		pm.Dir = mp.Dir
	}
	pkg.Model = pm
	if tpkg != nil && !m.cfg.Batch { // a batch client checks every package once
		pkg.api = apiOf(tpkg) + "\n" + m.facts.Fingerprint(mp.Path)
	}
	pkg.imported = make(map[string]*types.Package, len(deps))
	for path, dp := range deps {
		pkg.imported[path] = dp.Types
	}
	pkg.Findings = append(findings, finding.Compile(m.fset, errs)...)
	pkg.Findings = append(pkg.Findings, m.listFindings(mp, pkg.Files)...)
	pkg.Findings = withFile(dropGenerated(pkg.Findings))
	m.trim(pkg, overlays)
	files := make(map[string]*File, len(pkg.Files))
	for _, f := range pkg.Files {
		files[f.Name] = f
	}
	for i := range pkg.Findings {
		if f := &pkg.Findings[i]; files[f.File] != nil {
			finding.Widen(f, files[f.File].Content)
		}
	}
	return pkg
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

// apiOf summarises what importers of pkg type-check against: its exported
// objects (with constant values and the methods of named types) and its
// imports. Two checks with one summary give importers the same types.
func apiOf(pkg *types.Package) string {
	var b strings.Builder
	qual := func(p *types.Package) string { return p.Path() }
	scope := pkg.Scope()
	for _, name := range scope.Names() { // sorted
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		b.WriteString(types.ObjectString(obj, qual))
		if c, ok := obj.(*types.Const); ok {
			b.WriteString(" = " + c.Val().ExactString())
		}
		b.WriteByte('\n')
		if tn, ok := obj.(*types.TypeName); ok {
			if named, ok := tn.Type().(*types.Named); ok {
				for m := range named.Methods() {
					if m.Exported() {
						b.WriteString("\t" + types.ObjectString(m, qual) + "\n")
					}
				}
			}
		}
	}
	for _, imp := range pkg.Imports() {
		b.WriteString("import " + imp.Path() + "\n")
	}
	return b.String()
}

// trim replaces the syntax of pkg's files by their package clause and
// imports, once the package is checked, so that memory holds syntax only
// where edits happen. Open buffers (which completion and hover read) and
// the files that import a generated typed client (whose uses the
// client-cycle rule finds) keep theirs; a generated client keeps, besides,
// what that rule reads of it: its header and constants.
func (m *Module) trim(pkg *Package, overlays map[string][]byte) {
	for i, f := range pkg.Files {
		if f.AST == nil || f.Trimmed || overlays[f.Name] != nil || m.importsGenerated(f, overlays) {
			continue
		}
		t := &File{Name: f.Name, Content: f.Content, Tok: f.Tok, ParseErr: f.ParseErr, Trimmed: true,
			AST: &ast.File{Package: f.AST.Package, Name: f.AST.Name, Imports: f.AST.Imports,
				FileStart: f.AST.FileStart, FileEnd: f.AST.FileEnd, GoVersion: f.AST.GoVersion}}
		if model.IsGenerated(f.Content) {
			t.AST.Comments = f.AST.Comments[:min(1, len(f.AST.Comments))]
			for _, d := range f.AST.Decls {
				if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == token.CONST {
					t.AST.Decls = append(t.AST.Decls, gd)
				}
			}
		}
		pkg.Files[i] = t
		m.fileMu.Lock()
		if m.files[f.Name] == f {
			m.files[f.Name] = t
		}
		m.fileMu.Unlock()
	}
}

// declarationsOnly returns f without its function bodies, for the type
// checker. The files flash-lsp generates (typed clients, as large as the
// code they call) compile by construction: what can go wrong in them, a
// type that changed or disappeared, shows in their declarations, and
// checking their bodies would double the cost of a check. The parsed file
// itself is left alone.
func declarationsOnly(f *ast.File) *ast.File {
	out := *f
	out.Decls = make([]ast.Decl, len(f.Decls))
	for i, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
			c := *fd
			c.Body = nil
			d = &c
		}
		out.Decls[i] = d
	}
	return &out
}

// importsGenerated reports whether f imports a workspace package that
// holds generated files (a typed client). It reads the metadata, not the
// checked packages: on an import cycle the client is not checked yet.
func (m *Module) importsGenerated(f *File, overlays map[string][]byte) bool {
	for _, spec := range f.AST.Imports {
		path, err := strconv.Unquote(spec.Path.Value)
		if err != nil {
			continue
		}
		if mp := m.meta[path]; mp != nil && mp.Workspace {
			for _, name := range mp.GoFiles {
				if c, err := m.content(name, overlays); err == nil && model.IsGenerated(c) {
					return true
				}
			}
		}
	}
	return false
}
