package project

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"

	"github.com/flash-lsp/flash-lsp/analysis/model"
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
	Findings []Finding
	// Facts holds the analysis facts of every package, for incremental
	// re-checking (see CheckPackage).
	Facts *Facts

	resources []*model.Resource
	functions map[*model.Resource][]*model.Function
}

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
	slices.SortFunc(out, compareFunctions)
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

const loadMode = packages.NeedName | packages.NeedFiles | packages.NeedCompiledGoFiles |
	packages.NeedImports | packages.NeedTypes | packages.NeedTypesSizes | packages.NeedSyntax |
	packages.NeedTypesInfo | packages.NeedModule | packages.NeedForTest

// Load loads every package of the module containing cfg.Dir, checks it and
// returns the project. Errors of the user's code (syntax, types, per-package
// and whole-module rules) are Findings; Load returns an error only when
// there is no module, the module cannot be loaded at all, or a pattern names
// nothing in it.
func Load(ctx context.Context, cfg Config) (*Project, error) {
	dir := cfg.Dir
	if dir == "" {
		dir = "."
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("loading: %w", err)
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

	// Resolve the named packages while the whole module loads.
	var (
		named    map[string]bool // directories, nil for all
		namedErr error
		wg       sync.WaitGroup
	)
	if !(dir == root && len(patterns) == 1 && patterns[0] == "./...") {
		wg.Go(func() {
			named, namedErr = namedDirs(ctx, dir, root, env, cfg, patterns)
		})
	}

	fset := token.NewFileSet()
	pcfg := &packages.Config{
		Context:    ctx,
		Mode:       loadMode,
		Dir:        root,
		Env:        env,
		BuildFlags: cfg.BuildFlags,
		Fset:       fset,
		Tests:      !cfg.SkipTests,
		Overlay:    cfg.Overlay,
	}
	pkgs, err := packages.Load(pcfg, "./...")
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("loading module %s: %w", modPath, err)
	}
	if namedErr != nil {
		return nil, namedErr
	}

	units := selectUnits(pkgs, root)
	if len(units) == 0 {
		if msgs := packageErrors(pkgs); len(msgs) > 0 {
			return nil, fmt.Errorf("loading module %s: %s", modPath, strings.Join(msgs, "; "))
		}
	}

	p := &Project{Root: root, Module: modPath, GoVersion: goVersion, Facts: NewFacts()}
	readFile := func(name string) ([]byte, error) {
		if data, ok := cfg.Overlay[name]; ok {
			return data, nil
		}
		return os.ReadFile(name)
	}
	analyse(units, fset, p.Facts, readFile)

	var (
		all    []*model.Package
		found  []Finding
		byPath = make(map[string]*model.Package)
	)
	for _, u := range units {
		found = append(found, u.findings...)
		found = append(found, compileErrors(fset, u.pkg, root)...)
		if u.model == nil {
			continue
		}
		dropTestDecls(u.model)
		all = append(all, u.model)
		if !u.xtest {
			byPath[u.model.Path] = u.model
		}
	}
	found = append(found, ModuleRules(all)...)
	found = Merge(found)
	if named != nil {
		kept := found[:0]
		for _, f := range found {
			if named[filepath.Dir(f.Pos.Filename)] {
				kept = append(kept, f)
			}
		}
		found = kept
	}
	p.Findings = found

	for _, m := range byPath {
		p.Packages = append(p.Packages, m)
	}
	slices.SortFunc(p.Packages, func(a, b *model.Package) int { return cmp.Compare(a.Path, b.Path) })
	p.index()
	return p, nil
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

// loadUnit is one package to analyse, with its result.
type loadUnit struct {
	pkg   *packages.Package
	xtest bool // an external test package (p_test)
	deps  []*loadUnit

	done     chan struct{}
	model    *model.Package
	findings []Finding
}

// selectUnits picks one variant of each package of the module: the test
// variant "p [p.test]" when there is one (it holds every file of p plus its
// in-package tests), else p itself; plus each external test package. Test
// mains and packages under .flash are left out. The units are linked to the
// units they import.
func selectUnits(pkgs []*packages.Package, root string) []*loadUnit {
	byPath := make(map[string]*loadUnit)
	var paths []string
	for _, pkg := range pkgs {
		if strings.HasSuffix(pkg.ID, ".test") || pkg.Types == nil || len(pkg.Syntax) == 0 {
			continue // a generated test main, or nothing to analyse
		}
		if underFlash(filepath.Join(pkg.Dir, "x")) || !within(root, pkg.Dir) {
			continue
		}
		variant := strings.Contains(pkg.ID, " [")
		xtest := variant && pkg.ForTest != "" && pkg.PkgPath != pkg.ForTest
		if variant && !xtest && pkg.ID != pkg.PkgPath+" ["+pkg.PkgPath+".test]" {
			continue // p recompiled for another package's tests
		}
		u, ok := byPath[pkg.PkgPath]
		if !ok {
			paths = append(paths, pkg.PkgPath)
		} else if !variant {
			continue // keep the test variant
		} else if u.xtest {
			continue
		}
		byPath[pkg.PkgPath] = &loadUnit{pkg: pkg, xtest: xtest, done: make(chan struct{})}
	}
	slices.Sort(paths)
	units := make([]*loadUnit, 0, len(paths))
	for _, path := range paths {
		units = append(units, byPath[path])
	}
	for _, u := range units {
		for _, imp := range u.pkg.Imports {
			if d, ok := byPath[imp.PkgPath]; ok && d != u {
				u.deps = append(u.deps, d)
			}
		}
	}
	breakCycles(units)
	return units
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

// analyse runs CheckPackage over the units, each after the units it
// imports, using every CPU.
func analyse(units []*loadUnit, fset *token.FileSet, facts *Facts, readFile func(string) ([]byte, error)) {
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, u := range units {
		wg.Go(func() {
			defer close(u.done)
			for _, d := range u.deps {
				<-d.done
			}
			sem <- struct{}{}
			defer func() { <-sem }()
			pkg := u.pkg
			un := &unit{
				fset:       fset,
				files:      pkg.Syntax,
				pkg:        pkg.Types,
				info:       pkg.TypesInfo,
				typeErrors: pkg.TypeErrors,
				sizes:      pkg.TypesSizes,
				readFile:   readFile,
				facts:      facts,
			}
			if pkg.Module != nil {
				un.module = &analysis.Module{Path: pkg.Module.Path, Version: pkg.Module.Version, GoVersion: pkg.Module.GoVersion}
			}
			u.model, u.findings = un.check(remote.Analyzer)
			if u.model.Dir == "" {
				u.model.Dir = pkg.Dir
			}
		})
	}
	wg.Wait()
}

// compileErrors converts a package's load, syntax and type errors into
// compile findings. Errors without a position are placed at the package
// clause of its first file.
func compileErrors(fset *token.FileSet, pkg *packages.Package, root string) []Finding {
	var out []Finding
	for _, e := range pkg.TypeErrors {
		out = append(out, CompileFindings(fset, []error{e})...)
	}
	for _, e := range pkg.Errors {
		if e.Kind == packages.TypeError {
			continue // reported from TypeErrors, with exact positions
		}
		if strings.HasPrefix(e.Msg, "# ") {
			// The compiler's output from building export data: one error
			// per line after the "# pkg" header. Most repeat TypeErrors
			// and collapse with them.
			for _, line := range strings.Split(e.Msg, "\n")[1:] {
				if f, ok := compilerLine(fset, line, root); ok {
					out = append(out, f)
				}
			}
			continue
		}
		pos, ok := parsePos(fset, e.Pos, root)
		if !ok {
			if len(pkg.Syntax) == 0 {
				continue
			}
			pos = position(fset, pkg.Syntax[0].Package)
		}
		if underFlash(pos.Filename) {
			continue
		}
		out = append(out, compileFinding(pos, e.Msg))
	}
	return out
}

// compilerLine parses a line of compiler output, "file:line:col: message".
func compilerLine(fset *token.FileSet, line, root string) (Finding, bool) {
	line = strings.TrimSpace(line)
	// The position ends at the first ": " after the file name.
	i := strings.Index(line, ": ")
	if i < 0 {
		return Finding{}, false
	}
	pos, ok := parsePos(fset, line[:i], root)
	if !ok {
		return Finding{}, false
	}
	return compileFinding(pos, line[i+2:]), true
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
	if len(nums) == 0 {
		return token.Position{}, false
	}
	file := rest
	if !filepath.IsAbs(file) {
		file = filepath.Join(root, file)
	}
	pos := token.Position{Filename: file, Line: nums[0], Column: 1}
	if len(nums) > 1 {
		pos.Column = nums[1]
	}
	fset.Iterate(func(f *token.File) bool {
		if f.Name() != file {
			return true
		}
		if pos.Line >= 1 && pos.Line <= f.LineCount() {
			off := f.Offset(f.LineStart(pos.Line)) + pos.Column - 1
			if off <= f.Size() {
				pos.Offset = off
			}
		}
		return false
	})
	return pos, true
}

// packageErrors lists the errors of pkgs, for when nothing could be loaded.
func packageErrors(pkgs []*packages.Package) []string {
	var msgs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			msgs = append(msgs, e.Error())
		}
	})
	slices.Sort(msgs)
	return slices.Compact(msgs)
}

// namedDirs resolves patterns (relative to dir) to the directories of the
// packages they name, which must lie in the module at root.
func namedDirs(ctx context.Context, dir, root string, env []string, cfg Config, patterns []string) (map[string]bool, error) {
	pkgs, err := packages.Load(&packages.Config{
		Context:    ctx,
		Mode:       packages.NeedName | packages.NeedFiles,
		Dir:        dir,
		Env:        env,
		BuildFlags: cfg.BuildFlags,
		Overlay:    cfg.Overlay,
	}, patterns...)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", strings.Join(patterns, " "), err)
	}
	dirs := make(map[string]bool)
	var problems []string
	for _, p := range pkgs {
		if p.Dir == "" || len(p.GoFiles)+len(p.IgnoredFiles)+len(p.OtherFiles) == 0 && len(p.Errors) > 0 {
			for _, e := range p.Errors {
				problems = append(problems, e.Msg)
			}
			if len(p.Errors) == 0 {
				problems = append(problems, fmt.Sprintf("package %s not found", p.PkgPath))
			}
			continue
		}
		if !within(root, p.Dir) {
			problems = append(problems, fmt.Sprintf("package %s is not in module %s", p.PkgPath, root))
			continue
		}
		dirs[p.Dir] = true
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return nil, fmt.Errorf("%s", strings.Join(slices.Compact(problems), "; "))
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%s matched no packages", strings.Join(patterns, " "))
	}
	return dirs, nil
}

// within reports whether dir is root or below it.
func within(root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}
