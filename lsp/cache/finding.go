package cache

import (
	"go/ast"
	"go/token"
	"go/types"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// CheckInput is one type-checked workspace package, handed to the Checker.
type CheckInput struct {
	Fset  *token.FileSet
	Path  string // import path
	Dir   string
	Files []*ast.File
	Types *types.Package
	Info  *types.Info
	// Errors are the parse and type errors (scanner.Error, types.Error).
	Errors []error
	// Deps are the results of the workspace packages this package imports,
	// already checked in this run or an earlier one.
	Deps map[string]*Package
}

// Checker runs flash-lsp's analysis on a package the cache type-checked,
// and the whole-module rules over every package's model. The server plugs
// in the analysis of package analysis/project; the cache itself reports
// only compile errors.
type Checker interface {
	// CheckPackage returns the package's model and its findings. State
	// that dependants need (analysis facts) travels in the returned
	// value's Extra.
	CheckPackage(in *CheckInput) (*Analysis, error)
	// ModuleRules runs the rules that need every package of the module.
	// It must not modify the models it is given, which other goroutines
	// may be reading.
	ModuleRules(pkgs []*Package) ModuleResult
}

// ModuleResult is what the whole-module step of a Checker found.
type ModuleResult struct {
	Findings []finding.Finding
	// Models are the packages' models joined into one project (functions
	// linked to resources of other packages).
	Models []*model.Package
	// Explained, when set, reports the packages' own findings that a
	// whole-module finding explains and replaces (the compile errors of a
	// client-cycle).
	Explained func(finding.Finding) bool
}

// Analysis is what a Checker found in one package.
type Analysis struct {
	Model    *model.Package
	Findings []finding.Finding
	// CompileReported says the findings already include the compile errors,
	// so the cache must not add its own.
	CompileReported bool
	// Fingerprint summarises what importers read of the package's
	// analysis (its facts): with an unchanged API, an unchanged
	// fingerprint means the importers need no new check.
	Fingerprint string
	// Extra is the Checker's own per-package state (facts for dependants).
	Extra any
}
