package deploy

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/project"
	"github.com/flash-lsp/flash-lsp/codegen"
)

// MarkClientUsers sets UsesClients on the resources whose functions' packages
// import a generated typed client (a package of the module whose client.go
// carries the generated header, wherever generate --client-dir put it):
// their calls to siblings need the API key.
func MarkClientUsers(p *project.Project, rs []*Resource) {
	byName := map[string]*Resource{}
	for _, r := range rs {
		byName[r.Name] = r
	}
	uses := map[string]bool{} // package path → imports a client
	for _, f := range p.AllFunctions() {
		if f.Resource == nil || byName[f.Resource.Name] == nil {
			continue
		}
		imp, seen := uses[f.Pkg]
		if !seen {
			if pkg := p.Package(f.Pkg); pkg != nil {
				imp = importsGeneratedClient(pkg.Dir, p.Root, p.Module)
			}
			uses[f.Pkg] = imp
		}
		if imp {
			byName[f.Resource.Name].UsesClients = true
		}
	}
}

// importsGeneratedClient reports whether a non-test Go file in dir imports a
// package of the module (at root, with path module) that is a generated
// typed client.
func importsGeneratedClient(dir, root, module string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.ImportsOnly)
		if err != nil {
			continue
		}
		for _, spec := range f.Imports {
			path, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				continue
			}
			rel, ok := strings.CutPrefix(path, module+"/")
			if ok && codegen.HasHeader(filepath.Join(root, filepath.FromSlash(rel), codegen.ClientFileName)) {
				return true
			}
		}
	}
	return false
}
