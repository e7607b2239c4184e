package project

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/flash-lsp/flash-lsp/analysis/engine"
	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/modulerules"
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
	// the counts are restored, Cached is set, and Packages and Resources
	// are empty. Leave it unset when the model is needed.
	CacheDir string
}

// Project is a loaded and checked module.
type Project struct {
	Root      string // absolute directory of go.mod
	Module    string // module path
	GoVersion string // the go directive of go.mod
	// Packages holds what each package of the module contributes, sorted
	// by import path, without what _test.go files declare. External test
	// packages (p_test) are checked but not listed: generated code cannot
	// import them.
	Packages []*model.Package
	// Findings holds the findings located in the packages named by
	// Config.Patterns, sorted by file, line, column and rule.
	Findings []finding.Finding

	// Cached reports that Findings come from Config.CacheDir.
	Cached bool

	resources    []*model.Resource
	functions    map[*model.Resource][]*model.Function
	numPackages  int
	numFunctions int
	sums         map[string][sha256.Size]byte // when the findings come from the cache
	analysed     map[string][]byte            // the contents analysed, by file name
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

// Load loads every package of the module containing cfg.Dir, checks it with
// one run of the engine (package engine, which the language server runs
// incrementally) and returns the project. Errors of the user's code
// (syntax, types, per-package and whole-module rules) are Findings; Load
// returns an error only when there is no module, the module cannot be
// loaded at all, or a pattern names nothing in it.
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
	root, modPath, goVersion, err := engine.FindModule(dir)
	if err != nil {
		return nil, err
	}
	patterns := cfg.Patterns
	if len(patterns) == 0 {
		patterns = []string{"./..."}
	}

	// Resolve the named packages while the whole module is listed.
	var (
		named    map[string]bool // directories; nil for all
		namedErr error
		wg       sync.WaitGroup
	)
	if !(dir == root && len(patterns) == 1 && patterns[0] == "./...") {
		wg.Go(func() {
			named, namedErr = namedDirs(ctx, dir, root, modPath, cfg, patterns)
		})
	}
	m := engine.NewModule(root, engine.Config{Env: cfg.Env, BuildFlags: cfg.BuildFlags, SkipTests: cfg.SkipTests, Batch: true})
	listing, files, err := m.Metadata(ctx, cfg.Overlay)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("loading module %s: %w", modPath, err)
	}
	if namedErr != nil {
		return nil, namedErr
	}

	p := &Project{Root: root, Module: modPath, GoVersion: goVersion}
	var found []finding.Finding
	var cacheFile string
	if cfg.CacheDir != "" {
		if key, sums, err := cacheKey(cfg, root, listing, files); err == nil {
			p.sums = sums
			cacheFile = filepath.Join(cfg.CacheDir, key+".gob")
			if e, ok := readCache(cacheFile); ok {
				p.Cached = true
				p.numPackages, p.numFunctions = e.Packages, e.Functions
				found = e.Findings
			}
		}
	}
	if !p.Cached {
		snap, err := m.Analyze(ctx, cfg.Overlay)
		if err != nil {
			return nil, fmt.Errorf("checking module %s: %w", modPath, err)
		}
		for _, fs := range snap.Findings {
			found = append(found, fs...)
		}
		finding.Sort(found)
		for _, mp := range snap.Models {
			if pkg := snap.Packages[mp.Path]; pkg != nil && !pkg.XTest {
				p.Packages = append(p.Packages, mp)
			}
		}
		slices.SortFunc(p.Packages, func(a, b *model.Package) int { return cmp.Compare(a.Path, b.Path) })
		p.index()
		p.numPackages, p.numFunctions = len(p.Packages), len(p.AllFunctions())
		p.sums = nil
		p.analysed = make(map[string][]byte, len(snap.Files))
		for name, f := range snap.Files {
			p.analysed[name] = f.Content
		}
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
	return p, nil
}

// Sum returns the sha256 of the contents of file name as it was analysed,
// and whether the file was: a fix applies only to those bytes.
func (p *Project) Sum(name string) ([sha256.Size]byte, bool) {
	if data, ok := p.analysed[name]; ok {
		return sha256.Sum256(data), true
	}
	s, ok := p.sums[name]
	return s, ok
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

// within reports whether dir is root or below it.
func within(root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// namedDirs resolves patterns (relative to dir) to the directories of the
// packages they name, which must belong to the module modPath.
func namedDirs(ctx context.Context, dir, root, modPath string, cfg Config, patterns []string) (map[string]bool, error) {
	listed, err := engine.List(ctx, dir, cfg.Env, cfg.BuildFlags, cfg.Overlay, patterns)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", strings.Join(patterns, " "), err)
	}
	dirs := make(map[string]bool)
	var problems []string
	for _, lp := range listed {
		switch {
		case lp.Err != "" && len(lp.GoFiles) == 0 && !dirHasGo(lp.Dir):
			problems = append(problems, lp.Err)
		case lp.Module != modPath || !within(root, lp.Dir):
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
