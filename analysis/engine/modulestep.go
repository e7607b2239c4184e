package engine

import (
	"slices"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/modulerules"
)

// moduleResult is what the whole-module step found.
type moduleResult struct {
	Findings []finding.Finding
	// Models are the packages' models joined into one project (functions
	// linked to resources of other packages), without what _test.go files
	// declare: generated handlers cannot import test code.
	Models []*model.Package
	// Explained reports the packages' own findings that a whole-module
	// finding explains and replaces (the compile errors of a client
	// cycle).
	Explained func(finding.Finding) bool
}

// moduleStep runs the rules that need every package of the module (package
// modulerules) over the packages' models and syntax.
func (m *Module) moduleStep(pkgs []*Package) moduleResult {
	// Check links functions to resources and clears Valid in the models
	// it is given: give it copies, since the previous snapshot's models
	// may be read (hover) while this runs.
	var models []*model.Package
	for _, p := range pkgs {
		if p.Model == nil {
			continue
		}
		mp := *p.Model
		mp.Functions = nil
		for _, f := range p.Model.Functions {
			if !isTestFile(f.Pos.Filename) {
				fc := *f
				mp.Functions = append(mp.Functions, &fc)
			}
		}
		mp.Resources = slices.DeleteFunc(slices.Clone(mp.Resources), func(r *model.Resource) bool {
			return isTestFile(r.Pos.Filename)
		})
		models = append(models, &mp)
	}
	cycles, explained := clientCycles(pkgs)
	return moduleResult{
		Findings:  withFile(finding.Merge(modulerules.Check(models), cycles)),
		Models:    models,
		Explained: explained,
	}
}

func isTestFile(name string) bool { return strings.HasSuffix(name, "_test.go") }

// withFile drops findings without a file, which no editor can show.
func withFile(fs []finding.Finding) []finding.Finding {
	out := fs[:0]
	for _, f := range fs {
		if f.File != "" {
			out = append(out, f)
		}
	}
	return out
}

// clientCycles runs the client-cycle rule over the workspace packages.
func clientCycles(pkgs []*Package) ([]finding.Finding, func(finding.Finding) bool) {
	cps := make([]modulerules.Package, 0, len(pkgs))
	for _, p := range pkgs {
		cp := modulerules.Package{Path: p.Path, Name: p.Name, Dir: p.Dir, XTest: p.XTest}
		for _, f := range p.Files {
			if f.AST != nil && f.Tok != nil {
				cp.Files = append(cp.Files, modulerules.File{AST: f.AST, Tok: f.Tok})
			}
		}
		cps = append(cps, cp)
	}
	return modulerules.ClientCycles(cps)
}
