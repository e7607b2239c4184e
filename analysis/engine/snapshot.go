package engine

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"sort"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// File is one parsed Go file of a workspace package. A File is immutable:
// an edit produces a new one.
type File struct {
	Name    string // absolute filename
	Content []byte
	// AST is the file's syntax. Once its package is checked, the file of
	// a package nobody edits keeps only its package clause and imports
	// (Trimmed): its syntax is parsed again when the package must be
	// re-checked, and until then memory holds its types, not its tree.
	AST     *ast.File
	Tok     *token.File
	Trimmed bool
	// ParseErr is the parser's error (a scanner.ErrorList), if any.
	ParseErr error
}

// Package is the result of checking one workspace package. A Package is
// immutable once built.
type Package struct {
	Path  string // import path
	Name  string
	Dir   string
	XTest bool // an external test package (p_test)
	Files []*File
	Types *types.Package
	// api summarises what importers see of the package: its exported
	// API, its imports and its facts' Fingerprint.
	api string
	// imported holds the types of the workspace packages it was checked
	// against.
	imported map[string]*types.Package
	// The types.Info of the check is not kept: the analysis has read it,
	// and holding every package's would double the live heap (and the
	// garbage collector's work after every edit).

	// Model is what the package contributes to the Flash project; nil when
	// the analysis produced none.
	Model *model.Package
	// Findings are the package's own findings (compile errors and
	// per-package rules); whole-module findings live in the Snapshot.
	Findings []finding.Finding
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
	Findings map[string][]finding.Finding
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
func (s *Snapshot) HasErrors(ignoreCompile bool) (finding.Finding, bool) {
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
	return finding.Finding{}, false
}

func (m *Module) snapshot(checked []string) *Snapshot {
	s := &Snapshot{
		Module:     m,
		Packages:   make(map[string]*Package, len(m.pkgs)),
		Files:      make(map[string]*File),
		Findings:   make(map[string][]finding.Finding),
		Checked:    checked,
		LoadErrors: m.loadErrs,
		owner:      make(map[string]*Package),
		Models:     m.joined.Models,
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
			if m.joined.Explained == nil || !m.joined.Explained(f) {
				s.Findings[f.File] = append(s.Findings[f.File], f)
			}
		}
	}
	for _, f := range m.joined.Findings {
		s.Findings[f.File] = append(s.Findings[f.File], f)
	}
	for name, fs := range s.Findings {
		s.Findings[name] = finding.Merge(fs)
	}
	return s
}

func sortedPackages(m map[string]*Package) []*Package {
	out := make([]*Package, 0, len(m))
	for _, p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Package) int { return strings.Compare(a.Path, b.Path) })
	return out
}
