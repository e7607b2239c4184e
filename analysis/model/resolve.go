package model

import (
	"go/ast"
	"strings"
)

// ImportName returns the name by which a directive in a file with the
// import spec names the imported package, whose own name is pkgName: the
// import's explicit name, or the package's name for plain and blank
// imports (Go rejects an import used only in a comment, so a directive's
// package may be imported blank). It returns "" for a dot import, which
// no directive can name.
func ImportName(spec *ast.ImportSpec, pkgName string) string {
	name := pkgName
	if spec.Name != nil && spec.Name.Name != "_" {
		name = spec.Name.Name
	}
	if name == "." {
		return ""
	}
	return name
}

// Resolve finds the resource that a directive's resource field ref names
// in a file of package pkgPath: Ident is a resource of pkgPath, pkg.Ident
// an exported resource of the package the file imports as pkg
// (importPath maps an import name to its path, "" when the file has no
// such import). pkgs are the models to look in. The analyzer resolves
// with type information and reports why a reference fails; this is the
// same rule over models, for readers that have only those (the language
// server, while the analysis catches up with a buffer).
func Resolve(pkgs []*Package, pkgPath, ref string, importPath func(name string) string) *Resource {
	qual, ident, qualified := strings.Cut(ref, ".")
	if !qualified {
		qual, ident = "", qual
	}
	target := pkgPath
	if qualified {
		if target = importPath(qual); target == "" {
			return nil
		}
	}
	for _, p := range pkgs {
		if p.Path != target {
			continue
		}
		for _, r := range p.Resources {
			if r.Var == ident && (!qualified || ast.IsExported(ident)) {
				return r
			}
		}
	}
	return nil
}
