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
// import a generated typed client (anything under the module's
// flashclient/): their calls to siblings need the API key.
func MarkClientUsers(p *project.Project, rs []*Resource) {
	prefix := p.Module + "/" + codegen.DefaultClientDir + "/"
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
				imp = importsPrefix(pkg.Dir, prefix)
			}
			uses[f.Pkg] = imp
		}
		if imp {
			byName[f.Resource.Name].UsesClients = true
		}
	}
}

// importsPrefix reports whether a non-test Go file in dir imports a package
// whose path starts with prefix.
func importsPrefix(dir, prefix string) bool {
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
			if path, err := strconv.Unquote(spec.Path.Value); err == nil && strings.HasPrefix(path, prefix) {
				return true
			}
		}
	}
	return false
}
