package project

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/gcexportdata"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/modulerules"
	"github.com/flash-lsp/flash-lsp/analysis/remote"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// Config says what to load.
type Config struct {
	// Dir is the directory patterns are relative to, inside the module
	// (default: the current directory). The module is found by looking for
	// go.mod in Dir and its parents.
	Dir string
	// Patterns name the packages to report on (default ./...). The whole
	// module is always analysed, so that whole-module rules see every
	// package; Project.Findings holds only the findings located in the
	// named packages.
	Patterns []string
	// Overlay maps absolute file names to contents that replace those on
	// disk (unsaved editor buffers), as in packages.Config.
	Overlay map[string][]byte
	// Env holds KEY=VALUE settings added to the environment of the go
	// command, such as GOOS=linux, GOARCH=amd64, CGO_ENABLED=0 for loading
	// the files of a target platform.
	Env []string
	// BuildFlags are passed to the go command (-tags=...).
	BuildFlags []string
	// SkipTests leaves out _test.go files. By default they are loaded,
	// so that a directive in a test file is reported as misplaced.
	SkipTests bool
	// CacheDir, when set, is a directory where Load keeps the findings of
	// earlier runs, keyed by everything they depend on (the flash-lsp
	// executable, the go command's view of the module and its
	// dependencies, and the contents of the module's files), as go vet
	// keeps its results. On a hit Load does not type-check: Findings and
	// the counts are restored, Cached is set, and Packages, Resources and
	// Facts are empty. Leave it unset when the model is needed.
	CacheDir string
}

// Project is a loaded and checked module.
type Project struct {
	Root      string // absolute directory of go.mod
	Module    string // module path
	GoVersion string // the go directive of go.mod
	// Packages holds what each package of the module contributes, sorted
	// by import path. External test packages (p_test) are checked but not
	// listed: generated code cannot import them.
	Packages []*model.Package
	// Findings holds the findings located in the packages named by
	// Config.Patterns, sorted by file, line, column and rule.
	Findings []finding.Finding
	// Facts holds the analysis facts of every package, for incremental
	// re-checking (see CheckPackage).
	Facts *Facts

	// Cached reports that Findings come from Config.CacheDir.
	Cached bool

	resources    []*model.Resource
	functions    map[*model.Resource][]*model.Function
	numPackages  int
	numFunctions int
	sums         map[string][sha256.Size]byte
}

// NumPackages returns the number of packages checked (external test
// packages excluded), also when the findings come from the cache.
func (p *Project) NumPackages() int { return p.numPackages }

// NumFunctions returns the number of remote functions checked, also when
// the findings come from the cache.
func (p *Project) NumFunctions() int { return p.numFunctions }

// Resources returns the resources of the module sorted by Name (then by
// Ref), including resources of other modules that functions of this one
// use.
func (p *Project) Resources() []*model.Resource { return p.resources }

// Functions returns the functions bound to r, sorted by file and line.
func (p *Project) Functions(r *model.Resource) []*model.Function { return p.functions[r] }

// AllFunctions returns every remote function of the module, sorted by file
// and line.
func (p *Project) AllFunctions() []*model.Function {
	var out []*model.Function
	for _, pkg := range p.Packages {
		out = append(out, pkg.Functions...)
	}
	slices.SortFunc(out, modulerules.CompareFunctions)
	return out
}

// Package returns the package with import path path, or nil.
func (p *Project) Package(path string) *model.Package {
	i, ok := slices.BinarySearchFunc(p.Packages, path, func(m *model.Package, path string) int {
		return cmp.Compare(m.Path, path)
	})
	if !ok {
		return nil
	}
	return p.Packages[i]
}

// HasErrors reports whether any finding is an error.
func (p *Project) HasErrors() bool {
	for i := range p.Findings {
		if p.Findings[i].Severity == rules.Error {
			return true
		}
	}
	return false
}

// ErrNoModule is returned by Load when no go.mod is found.
var ErrNoModule = errors.New("no go.mod found")

// FindModule returns the directory holding the go.mod of dir (dir itself or
// its nearest parent with one) and the module path it declares.
func FindModule(dir string) (root, modulePath, goVersion string, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", "", "", fmt.Errorf("finding module: %w", err)
	}
	for d := abs; ; {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			mod, gov := parseGoMod(data)
			if mod == "" {
				return "", "", "", fmt.Errorf("%s: no module directive", filepath.Join(d, "go.mod"))
			}
			return d, mod, gov, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", "", "", fmt.Errorf("reading go.mod: %w", err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", "", fmt.Errorf("%w in %s or any parent directory", ErrNoModule, abs)
		}
		d = parent
	}
}

// parseGoMod returns the module path and go version of a go.mod file.
func parseGoMod(data []byte) (module, goVersion string) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v := f[1]
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		switch f[0] {
		case "module":
			if module == "" {
				module = v
			}
		case "go":
			goVersion = v
		}
	}
	return module, goVersion
}

// listFields are the `go list -json` fields the loader reads.
const listFields = "ImportPath,Name,Dir,GoFiles,CompiledGoFiles,Imports,ImportMap,Export,ForTest,DepOnly,Module,Error"

// Load loads every package of the module containing cfg.Dir, checks it and
// returns the project. Errors of the user's code (syntax, types, per-package
// and whole-module rules) are Findings; Load returns an error only when
// there is no module, the module cannot be loaded at all, or a pattern names
// nothing in it.
//
// Packages of the module are parsed and type-checked from source, without
// function bodies (the rules are about declarations; the go command's own
// compilation, which `go list -export` runs and caches, reports the errors
// inside bodies); everything else comes from export data.
func Load(ctx context.Context, cfg Config) (*Project, error) {
	dir := cfg.Dir
	if dir == "" {
		dir = "."
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("loading: %w", err)
	}
	if fi, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("loading: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("loading: %s is not a directory", dir)
	}
	root, modPath, goVersion, err := FindModule(dir)
	if err != nil {
		return nil, err
	}
	patterns := cfg.Patterns
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}
	env := append(os.Environ(), cfg.Env...)
	overlay, cleanup, err := writeOverlay(cfg.Overlay)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	// Resolve the named packages while the whole module is listed.
	var (
		named    map[string]bool // directories; nil for all
		namedErr error
		wg       sync.WaitGroup
	)
	if !(dir == root && len(patterns) == 1 && patterns[0] == "./...") {
		wg.Go(func() {
			named, namedErr = namedDirs(ctx, dir, root, modPath, env, cfg.BuildFlags, overlay, patterns)
		})
	}
	raw, listed, err := goList(ctx, root, env, cfg.BuildFlags, overlay,
		"-json="+listFields, "-compiled=true", "-export=true", "-deps=true",
		"-test="+strconv.FormatBool(!cfg.SkipTests), "--", "./...")
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("loading module %s: %w", modPath, err)
	}
	if namedErr != nil {
		return nil, namedErr
	}

	l := &loader{
		cfg:     cfg,
		root:    root,
		modPath: modPath,
		fset:    token.NewFileSet(),
		byID:    make(map[string]*listPackage, len(listed)),
		units:   make(map[string]*loadUnit),
		view:    make(map[string]*types.Package),
		sizes:   types.SizesFor("gc", goarch(env)),
	}
	l.selectUnits(listed)

	p := &Project{Root: root, Module: modPath, GoVersion: goVersion, Facts: NewFacts()}
	var found []finding.Finding
	var cacheFile string
	if cfg.CacheDir != "" {
		key, err := l.cacheKey(raw)
		if err == nil {
			cacheFile = filepath.Join(cfg.CacheDir, key+".gob")
			if e, ok := readCache(cacheFile); ok {
				p.Cached = true
				p.numPackages, p.numFunctions = e.Packages, e.Functions
				found = e.Findings
			}
		}
	}
	if !p.Cached {
		found = l.check()
		for _, u := range l.order {
			if u.model != nil && !u.xtest {
				p.Packages = append(p.Packages, u.model)
			}
		}
		slices.SortFunc(p.Packages, func(a, b *model.Package) int { return cmp.Compare(a.Path, b.Path) })
		p.index()
		p.numPackages, p.numFunctions = len(p.Packages), len(p.AllFunctions())
		p.Facts = l.facts
		if cacheFile != "" {
			writeCache(cacheFile, cacheEntry{Findings: found, Packages: p.numPackages, Functions: p.numFunctions})
		}
	}
	if named != nil {
		kept := make([]finding.Finding, 0, len(found))
		for _, f := range found {
			if named[filepath.Dir(f.File)] {
				kept = append(kept, f)
			}
		}
		found = kept
	}
	p.Findings = found
	p.sums = l.sums
	return p, nil
}

// Sum returns the sha256 of the contents of file name as it was analysed,
// and whether the file was: a fix applies only to those bytes.
func (p *Project) Sum(name string) ([sha256.Size]byte, bool) {
	s, ok := p.sums[name]
	return s, ok
}

// goarch is the target architecture of env (the last GOARCH setting), for
// type sizes.
func goarch(env []string) string {
	arch := runtime.GOARCH
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GOARCH="); ok && v != "" {
			arch = v
		}
	}
	return arch
}

// index builds the resource↔function relation.
func (p *Project) index() {
	p.functions = make(map[*model.Resource][]*model.Function)
	seen := make(map[*model.Resource]bool)
	add := func(r *model.Resource) {
		if !seen[r] {
			seen[r] = true
			p.resources = append(p.resources, r)
		}
	}
	for _, pkg := range p.Packages {
		for _, r := range pkg.Resources {
			add(r)
		}
	}
	for _, f := range p.AllFunctions() {
		if f.Resource != nil {
			add(f.Resource)
			p.functions[f.Resource] = append(p.functions[f.Resource], f)
		}
	}
	slices.SortFunc(p.resources, func(a, b *model.Resource) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Ref(), b.Ref()))
	})
}

// loader holds the state of one Load.
type loader struct {
	cfg     Config
	root    string
	modPath string
	fset    *token.FileSet
	sizes   types.Sizes
	facts   *Facts

	listed []*listPackage
	byID   map[string]*listPackage
	units  map[string]*loadUnit // by package path
	order  []*loadUnit          // sorted by package path

	// view holds the packages read from export data, by package path. It
	// is filled before type-checking starts and only read afterwards.
	view map[string]*types.Package

	// sums are the sha256 of the bytes analysed, by file name: fixes are
	// offsets into those bytes.
	sumsMu sync.Mutex
	sums   map[string][sha256.Size]byte
}

// noteSum records the bytes of a file as analysed.
func (l *loader) noteSum(name string, data []byte) {
	sum := sha256.Sum256(data)
	l.sumsMu.Lock()
	if l.sums == nil {
		l.sums = make(map[string][sha256.Size]byte)
	}
	l.sums[name] = sum
	l.sumsMu.Unlock()
}

// loadUnit is one package of the module to analyse, with its results.
type loadUnit struct {
	lp      *listPackage
	path    string
	xtest   bool           // an external test package (p_test)
	errs    []*listPackage // every listed variant of the package, for its errors
	deps    []*loadUnit
	imports map[string]string // import path as written → package ID

	done      chan struct{}
	files     []*ast.File
	parseErrs []error
	types     *types.Package
	model     *model.Package
	findings  []finding.Finding
}

// selectUnits picks one variant of each package of the main module: the
// test variant "p [p.test]" when there is one (it holds every file of p
// plus its in-package tests), else p itself; plus each external test
// package. Test mains and packages under .flash are left out.
func (l *loader) selectUnits(listed []*listPackage) {
	l.listed = listed
	var paths []string
	for _, lp := range listed {
		l.byID[lp.ImportPath] = lp
		if lp.DepOnly || lp.Module == nil || lp.Module.Path != l.modPath || strings.HasSuffix(lp.ImportPath, ".test") {
			continue
		}
		if model.UnderFlashDir(filepath.Join(lp.Dir, "x")) {
			continue
		}
		path := lp.pkgPath()
		variant := path != lp.ImportPath
		xtest := variant && lp.ForTest != "" && path != lp.ForTest
		if variant && !xtest && lp.ImportPath != path+" ["+path+".test]" {
			continue // p recompiled for another package's tests
		}
		u, ok := l.units[path]
		if !ok {
			u = &loadUnit{path: path, done: make(chan struct{})}
			l.units[path] = u
			paths = append(paths, path)
		}
		u.errs = append(u.errs, lp)
		if u.lp == nil || variant {
			u.lp, u.xtest = lp, xtest // prefer the test variant
		}
	}
	slices.Sort(paths)
	for _, path := range paths {
		u := l.units[path]
		l.order = append(l.order, u)
		u.imports = make(map[string]string, len(u.lp.Imports))
		for _, imp := range u.lp.Imports {
			u.imports[imp] = imp
		}
		for src, id := range u.lp.ImportMap {
			u.imports[src] = id
		}
		for _, id := range u.imports {
			if d, ok := l.units[pkgPathOf(id)]; ok && d != u {
				u.deps = append(u.deps, d)
			}
		}
	}
	breakCycles(l.order)
}

func pkgPathOf(id string) string {
	path, _, _ := strings.Cut(id, " [")
	return path
}

// breakCycles removes dependency edges that would close a cycle, which a
// package graph the go command accepted does not have, but an analysis that
// waits on its dependencies must never deadlock.
func breakCycles(units []*loadUnit) {
	const (
		white = iota
		grey
		black
	)
	color := make(map[*loadUnit]int)
	var visit func(u *loadUnit)
	visit = func(u *loadUnit) {
		color[u] = grey
		deps := u.deps[:0]
		for _, d := range u.deps {
			switch color[d] {
			case grey:
				continue // back edge
			case white:
				visit(d)
			}
			deps = append(deps, d)
		}
		u.deps = deps
		color[u] = black
	}
	for _, u := range units {
		if color[u] == white {
			visit(u)
		}
	}
}

// check parses, type-checks and analyses every unit, then applies the
// whole-module rules, and returns all findings.
func (l *loader) check() []finding.Finding {
	l.facts = NewFacts()
	l.readExportData()
	l.parse()

	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, u := range l.order {
		wg.Go(func() {
			defer close(u.done)
			for _, d := range u.deps {
				<-d.done
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			l.checkUnit(u)
		})
	}
	wg.Wait()

	var found []finding.Finding
	var models []*model.Package
	for _, u := range l.order {
		found = append(found, l.compileErrors(u)...)
		found = append(found, u.findings...)
		if u.model != nil {
			dropTestDecls(u.model)
			models = append(models, u.model)
		}
	}
	var moduleRules modulerules.Rules
	found = append(found, moduleRules.Check(models)...)
	found = l.clientCycles(found)
	for i := range found {
		if f := &found[i]; f.End == f.Start {
			if src, ok := l.content(f.File); ok {
				finding.Widen(f, src)
			}
		}
	}
	return finding.Merge(found)
}

// readExportData reads, in dependency order and before any type-checking,
// the export data of every package outside the module that a unit imports,
// so that the shared view is never written while a checker reads it.
func (l *loader) readExportData() {
	needed := make(map[string]bool)
	for _, u := range l.order {
		for _, id := range u.imports {
			if _, ok := l.units[pkgPathOf(id)]; !ok {
				needed[id] = true
			}
		}
	}
	for _, lp := range l.listed { // go list -deps lists dependencies first
		if !needed[lp.ImportPath] || lp.Export == "" || lp.ImportPath == "unsafe" {
			continue
		}
		if _, ok := l.view[lp.pkgPath()]; ok && l.view[lp.pkgPath()].Complete() {
			continue
		}
		if err := l.readExport(lp); err != nil {
			continue // the import fails when type-checking, as a finding
		}
	}
}

func (l *loader) readExport(lp *listPackage) error {
	f, err := os.Open(lp.Export)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := gcexportdata.NewReader(bufio.NewReader(f))
	if err != nil {
		return err
	}
	_, err = gcexportdata.Read(r, l.fset, l.view, lp.pkgPath())
	return err
}

// parse parses the files of every unit, several at a time.
func (l *loader) parse() {
	type job struct {
		u    *loadUnit
		i    int
		name string
	}
	jobs := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for j := range jobs {
				f, err := l.parseFile(j.name)
				mu.Lock()
				j.u.files[j.i] = f
				if err != nil {
					j.u.parseErrs = append(j.u.parseErrs, err)
				}
				mu.Unlock()
			}
		})
	}
	for _, u := range l.order {
		names := u.lp.sourceFiles()
		u.files = make([]*ast.File, len(names))
		for i, name := range names {
			if !filepath.IsAbs(name) {
				name = filepath.Join(u.lp.Dir, name)
			}
			jobs <- job{u, i, name}
		}
	}
	close(jobs)
	wg.Wait()
	for _, u := range l.order {
		u.files = slices.DeleteFunc(u.files, func(f *ast.File) bool { return f == nil })
	}
}

// content returns the bytes of file name as the loader sees them: its
// overlay, or what is on disk.
func (l *loader) content(name string) ([]byte, bool) {
	if src, ok := l.cfg.Overlay[name]; ok {
		return src, true
	}
	src, err := os.ReadFile(name)
	return src, err == nil
}

func (l *loader) parseFile(name string) (*ast.File, error) {
	src, ok := l.content(name)
	if !ok {
		_, err := os.ReadFile(name)
		return nil, err
	}
	l.noteSum(name, src)
	return parser.ParseFile(l.fset, name, src, parser.ParseComments|parser.SkipObjectResolution)
}

// checkUnit type-checks u (its dependencies are done) and analyses it.
func (l *loader) checkUnit(u *loadUnit) {
	info := &types.Info{
		Types:        make(map[ast.Expr]types.TypeAndValue),
		Defs:         make(map[*ast.Ident]types.Object),
		Uses:         make(map[*ast.Ident]types.Object),
		Implicits:    make(map[ast.Node]types.Object),
		Instances:    make(map[*ast.Ident]types.Instance),
		Scopes:       make(map[ast.Node]*types.Scope),
		Selections:   make(map[*ast.SelectorExpr]*types.Selection),
		FileVersions: make(map[*ast.File]string),
	}
	var typeErrs []types.Error
	conf := &types.Config{
		Importer:         importerFunc(func(path string) (*types.Package, error) { return l.importFor(u, path) }),
		IgnoreFuncBodies: true,
		Sizes:            l.sizes,
		Error: func(err error) {
			if te, ok := err.(types.Error); ok {
				typeErrs = append(typeErrs, te)
			}
		},
	}
	if m := u.lp.Module; m != nil && m.GoVersion != "" {
		conf.GoVersion = "go" + m.GoVersion
	}
	pkg := types.NewPackage(u.path, u.lp.Name)
	_ = types.NewChecker(conf, l.fset, pkg, info).Files(u.files) // errors collected above
	u.types = pkg
	for _, te := range typeErrs {
		u.parseErrs = append(u.parseErrs, te)
	}

	un := &unit{
		fset:       l.fset,
		files:      u.files,
		pkg:        pkg,
		info:       info,
		typeErrors: typeErrs,
		sizes:      l.sizes,
		facts:      l.facts,
		readFile: func(name string) ([]byte, error) {
			if data, ok := l.cfg.Overlay[name]; ok {
				return data, nil
			}
			return os.ReadFile(name)
		},
	}
	if m := u.lp.Module; m != nil {
		un.module = &analysis.Module{Path: m.Path, GoVersion: m.GoVersion}
	}
	u.model, u.findings = un.check(remote.Analyzer)
	if u.model.Dir == "" {
		u.model.Dir = u.lp.Dir
	}
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// importFor resolves an import of u: another unit, or export data.
func (l *loader) importFor(u *loadUnit, path string) (*types.Package, error) {
	if path == "unsafe" {
		return types.Unsafe, nil
	}
	id, ok := u.imports[path]
	if !ok {
		id = path
	}
	if d, ok := l.units[pkgPathOf(id)]; ok && d != u && d.types != nil {
		return d.types, nil
	}
	if p, ok := l.view[pkgPathOf(id)]; ok && p.Complete() {
		return p, nil
	}
	if lp := l.byID[id]; lp != nil && lp.Error != nil {
		return nil, errors.New(strings.Join(strings.Fields(lp.Error.Err), " "))
	}
	return nil, errors.New("no export data")
}

// compileErrors converts the errors of u into compile findings: the
// compiler's, then the parser's and type checker's (which collapse with
// the compiler's at the same position), then go list's own.
func (l *loader) compileErrors(u *loadUnit) []finding.Finding {
	var out []finding.Finding
	var other []*listPackage
	for _, lp := range u.errs {
		if lp.Error == nil {
			continue
		}
		if strings.HasPrefix(lp.Error.Err, "# ") {
			for _, line := range strings.Split(lp.Error.Err, "\n")[1:] {
				if f, ok := compilerLine(l.fset, line, l.root); ok {
					out = append(out, f)
				}
			}
			continue
		}
		other = append(other, lp)
	}
	out = append(out, finding.Compile(l.fset, u.parseErrs)...)
	for _, lp := range other {
		pos, ok := parsePos(l.fset, lp.Error.Pos, l.root)
		if !ok {
			if len(u.files) == 0 {
				continue
			}
			pos = finding.Position(l.fset, u.files[0].Package)
		}
		out = append(out, finding.CompileAt(pos, lp.Error.Err))
	}
	return dropGenerated(out)
}

// dropTestDecls removes from m what _test.go files declare: generated
// handlers cannot import test code (a directive there is reported as
// misplaced).
func dropTestDecls(m *model.Package) {
	m.Functions = slices.DeleteFunc(m.Functions, func(f *model.Function) bool {
		return strings.HasSuffix(f.Pos.Filename, "_test.go")
	})
	m.Resources = slices.DeleteFunc(m.Resources, func(r *model.Resource) bool {
		return strings.HasSuffix(r.Pos.Filename, "_test.go")
	})
}

// compilerLine parses a line of compiler output, "file:line:col: message".
func compilerLine(fset *token.FileSet, line, root string) (finding.Finding, bool) {
	line = strings.TrimSpace(line)
	// The position ends at the first ": " after the file name.
	i := strings.Index(line, ": ")
	if i < 0 {
		return finding.Finding{}, false
	}
	pos, ok := parsePos(fset, line[:i], root)
	if !ok {
		return finding.Finding{}, false
	}
	return finding.CompileAt(pos, line[i+2:]), true
}

// parsePos parses a go list error position "file:line:col" or "file:line",
// relative to root when not absolute, filling in Offset when fset knows the
// file.
func parsePos(fset *token.FileSet, s, root string) (token.Position, bool) {
	if s == "" || s == "-" {
		return token.Position{}, false
	}
	var nums []int
	rest := s
	for range 2 {
		i := strings.LastIndexByte(rest, ':')
		if i < 0 {
			break
		}
		n, err := strconv.Atoi(rest[i+1:])
		if err != nil {
			break
		}
		nums = append([]int{n}, nums...)
		rest = rest[:i]
	}
	if len(nums) == 0 || nums[0] < 1 || len(nums) > 1 && nums[1] < 0 {
		return token.Position{}, false
	}
	file := rest
	if !filepath.IsAbs(file) {
		file = filepath.Join(root, file)
	}
	pos := token.Position{Filename: file, Line: nums[0], Column: 1}
	if len(nums) > 1 && nums[1] > 0 {
		pos.Column = nums[1]
	}
	known := false
	fset.Iterate(func(f *token.File) bool {
		if f.Name() != file {
			return true
		}
		known = true
		if pos.Line >= 1 && pos.Line <= f.LineCount() {
			off := f.Offset(f.LineStart(pos.Line)) + pos.Column - 1
			if off >= 0 && off <= f.Size() {
				pos.Offset = off
			}
		}
		return false
	})
	if !known {
		// A file the loader did not parse (go.mod, a file of another
		// build): findings are offsets, so count the lines.
		if fi, err := os.Stat(file); err == nil && fi.Mode().IsRegular() && fi.Size() < 64<<20 {
			if src, err := os.ReadFile(file); err == nil {
				pos.Offset = lineColOffset(src, pos.Line, pos.Column)
			}
		}
	}
	return pos, true
}

// lineColOffset returns the byte offset of 1-based line:col in src,
// clamped to src.
func lineColOffset(src []byte, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return len(src)
		}
		off += i + 1
	}
	return min(off+col-1, len(src))
}

// within reports whether dir is root or below it.
func within(root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// namedDirs resolves patterns (relative to dir) to the directories of the
// packages they name, which must belong to the module modPath.
func namedDirs(ctx context.Context, dir, root, modPath string, env, buildFlags []string, overlay string, patterns []string) (map[string]bool, error) {
	args := append([]string{"-json=ImportPath,Dir,Module,Error,GoFiles", "--"}, patterns...)
	_, listed, err := goList(ctx, dir, env, buildFlags, overlay, args...)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", strings.Join(patterns, " "), err)
	}
	dirs := make(map[string]bool)
	var problems []string
	for _, lp := range listed {
		switch {
		case lp.Error != nil && len(lp.GoFiles) == 0 && !dirHasGo(lp.Dir):
			problems = append(problems, strings.Join(strings.Fields(lp.Error.Err), " "))
		case lp.Module == nil || lp.Module.Path != modPath || !within(root, lp.Dir):
			problems = append(problems, fmt.Sprintf("package %s is not in module %s", lp.ImportPath, modPath))
		default:
			dirs[lp.Dir] = true
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, errors.New(strings.Join(slices.Compact(problems), "; "))
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%s matched no packages", strings.Join(patterns, " "))
	}
	return dirs, nil
}

// dirHasGo reports whether dir holds a .go file.
func dirHasGo(dir string) bool {
	if dir == "" {
		return false
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	return len(m) > 0
}
