package lsp

import (
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/modulerules"
	"github.com/flash-lsp/flash-lsp/analysis/project"
	"github.com/flash-lsp/flash-lsp/lsp/cache"
)

// projectChecker runs package analysis/project's rules for the cache: the
// same per-package driver and whole-module rules as `flash-lsp check`. One
// projectChecker serves one module: its Facts carry what each package
// exports (its resources) to the packages that import it, and its Rules
// remember the module's compiled route templates across edits.
type projectChecker struct {
	facts *project.Facts
	rules modulerules.Rules
}

func newProjectChecker() *projectChecker {
	return &projectChecker{facts: project.NewFacts()}
}

func (c *projectChecker) CheckPackage(in *cache.CheckInput) (*cache.Analysis, error) {
	pkg, findings := project.CheckPackage(in.Fset, in.Files, in.Types, in.Info, in.Errors, c.facts)
	if pkg != nil && pkg.Dir == "" {
		pkg.Dir = in.Dir
	}
	all := append(findings, finding.Compile(in.Fset, in.Errors)...)
	return &cache.Analysis{Model: pkg, Findings: withFile(all), CompileReported: true,
		Fingerprint: c.facts.Fingerprint(in.Path)}, nil
}

func (c *projectChecker) ModuleRules(pkgs []*cache.Package) cache.ModuleResult {
	// Check links functions to resources and clears Valid in the models
	// it is given: give it copies, since the previous snapshot's models
	// may be read (hover) while this runs.
	var models []*model.Package
	for _, p := range pkgs {
		if p.Model == nil {
			continue
		}
		mp := *p.Model
		mp.Functions = make([]*model.Function, len(p.Model.Functions))
		for i, f := range p.Model.Functions {
			fc := *f
			mp.Functions[i] = &fc
		}
		models = append(models, &mp)
	}
	cycles, explained := clientCycles(pkgs)
	return cache.ModuleResult{
		Findings:  withFile(finding.Merge(c.rules.Check(models), cycles)),
		Models:    models,
		Explained: explained,
	}
}

// withFile drops findings without a file, which the editor cannot show.
func withFile(fs []finding.Finding) []finding.Finding {
	out := fs[:0]
	for _, f := range fs {
		if f.File != "" {
			out = append(out, f)
		}
	}
	return out
}

// clientCycles runs the client-cycle rule over the workspace packages, as
// `flash-lsp check` does over the module.
func clientCycles(pkgs []*cache.Package) ([]finding.Finding, func(finding.Finding) bool) {
	cps := make([]modulerules.Package, 0, len(pkgs))
	for _, p := range pkgs {
		cp := modulerules.Package{Path: p.Path, Name: p.Name, Dir: p.Dir, XTest: strings.HasSuffix(p.Path, "_test")}
		for _, f := range p.Files {
			if f.AST != nil && f.Tok != nil {
				cp.Files = append(cp.Files, modulerules.File{AST: f.AST, Tok: f.Tok})
			}
		}
		cps = append(cps, cp)
	}
	return modulerules.ClientCycles(cps)
}
