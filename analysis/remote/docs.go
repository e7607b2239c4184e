package remote

import (
	"go/ast"
	"go/token"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// CollectDocs records the doc comments of f's top-level named types and of
// their struct fields in pkg.Docs: the OpenAPI documents describe types and
// properties with them, and go/types keeps no comments.
func CollectDocs(pkg *model.Package, f *ast.File) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			doc := ts.Doc
			if doc == nil && len(gd.Specs) == 1 {
				doc = gd.Doc
			}
			setDoc(pkg, ts.Name.Name, doc)
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, field := range st.Fields.List {
				doc := field.Doc
				if doc == nil {
					doc = field.Comment
				}
				for _, n := range field.Names {
					setDoc(pkg, ts.Name.Name+"."+n.Name, doc)
				}
				if len(field.Names) == 0 {
					setDoc(pkg, ts.Name.Name+"."+embeddedName(field.Type), doc)
				}
			}
		}
	}
}

func setDoc(pkg *model.Package, key string, cg *ast.CommentGroup) {
	text := strings.TrimSpace(cg.Text())
	if text == "" {
		return
	}
	if pkg.Docs == nil {
		pkg.Docs = make(map[string]string)
	}
	pkg.Docs[key] = text
}

// embeddedName is the field name of an embedded field's type expression.
func embeddedName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return embeddedName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.IndexExpr:
		return embeddedName(t.X)
	case *ast.IndexListExpr:
		return embeddedName(t.X)
	case *ast.Ident:
		return t.Name
	}
	return ""
}
