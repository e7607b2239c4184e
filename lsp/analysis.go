package lsp

import (
	"go/token"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/project"
	"github.com/flash-lsp/flash-lsp/lsp/cache"
)

// projectChecker runs package analysis/project's rules for the cache: the
// same per-package driver and whole-module rules as `flash-lsp check`. One
// projectChecker serves one module: its Facts carry what each package
// exports (its resources) to the packages that import it.
type projectChecker struct {
	facts *project.Facts
}

func newProjectChecker() *projectChecker {
	return &projectChecker{facts: project.NewFacts()}
}

func (c *projectChecker) CheckPackage(in *cache.CheckInput) (*cache.Analysis, error) {
	pkg, findings := project.CheckPackage(in.Fset, in.Files, in.Types, in.Info, in.Errors, c.facts)
	if pkg != nil && pkg.Dir == "" {
		pkg.Dir = in.Dir
	}
	all := append(findings, project.CompileFindings(in.Fset, in.Errors)...)
	return &cache.Analysis{Model: pkg, Findings: convertFindings(all), CompileReported: true}, nil
}

func (c *projectChecker) ModuleRules(pkgs []*cache.Package) ([]cache.Finding, []*model.Package) {
	// ModuleRules links functions to resources and clears Valid in the
	// models it is given: give it copies, since the previous snapshot's
	// models may be read (hover) while this runs.
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
	return convertFindings(project.Merge(project.ModuleRules(models), clientCycleFindings(pkgs))), models
}

func convertFindings(fs []project.Finding) []cache.Finding {
	out := make([]cache.Finding, 0, len(fs))
	for _, f := range fs {
		if f.Pos.Filename == "" {
			continue
		}
		cf := cache.Finding{
			Rule:     f.Rule,
			Severity: f.Severity,
			Message:  f.Message,
			File:     f.Pos.Filename,
			Start:    f.Pos.Offset,
			End:      endOffset(f.Pos, f.End),
		}
		for _, r := range f.Related {
			if r.Pos.Filename == "" {
				continue
			}
			cf.Related = append(cf.Related, cache.Related{
				File: r.Pos.Filename, Start: r.Pos.Offset, End: endOffset(r.Pos, r.End), Message: r.Message,
			})
		}
		for _, fix := range f.Fixes {
			cfix := cache.Fix{Message: fix.Message}
			for _, e := range fix.Edits {
				cfix.Edits = append(cfix.Edits, cache.Edit{
					File: e.Filename, Start: e.Start.Offset, End: endOffset(e.Start, e.End), NewText: e.NewText,
				})
			}
			cf.Fixes = append(cf.Fixes, cfix)
		}
		out = append(out, cf)
	}
	return out
}

func endOffset(start, end token.Position) int {
	if !end.IsValid() || end.Filename != start.Filename || end.Offset < start.Offset {
		return start.Offset
	}
	return end.Offset
}
