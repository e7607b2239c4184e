package project

import (
	"slices"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/modulerules"
)

// clientCycles adds the client-cycle findings of the loaded module to
// found and drops the compile findings that the cycles explain.
func (l *loader) clientCycles(found []finding.Finding) []finding.Finding {
	pkgs := make([]modulerules.Package, 0, len(l.order))
	for _, u := range l.order {
		cp := modulerules.Package{Path: u.path, Name: u.lp.Name, Dir: u.lp.Dir, XTest: u.xtest}
		for _, f := range u.files {
			cp.Files = append(cp.Files, modulerules.File{AST: f, Tok: l.fset.File(f.FileStart)})
		}
		pkgs = append(pkgs, cp)
	}
	out, explained := modulerules.ClientCycles(pkgs)
	found = slices.DeleteFunc(found, explained)
	return append(found, out...)
}
