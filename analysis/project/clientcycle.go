package project

import (
	"path/filepath"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/modulerules"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// clientCycles adds the client-cycle findings of the loaded module to
// found and drops the compile findings that the cycles explain.
func (l *loader) clientCycles(found []finding.Finding) []finding.Finding {
	pkgs := make([]modulerules.Package, 0, len(l.order))
	for _, u := range l.order {
		cp := modulerules.Package{Path: u.path, Name: u.lp.Name, XTest: u.xtest}
		for _, f := range u.files {
			cp.Files = append(cp.Files, modulerules.File{AST: f, Tok: l.fset.File(f.FileStart)})
		}
		pkgs = append(pkgs, cp)
	}
	out, onCycle := modulerules.ClientCycles(pkgs)
	if len(out) == 0 {
		return found
	}
	dirs := make(map[string]bool)
	for path := range onCycle {
		if u := l.units[path]; u != nil {
			dirs[u.lp.Dir] = true
		}
	}
	kept := found[:0:0]
	for _, f := range found {
		if f.Rule == rules.Compile && dirs[filepath.Dir(f.File)] && modulerules.CausedByCycle(f.Message, onCycle) {
			continue
		}
		kept = append(kept, f)
	}
	return append(kept, out...)
}
