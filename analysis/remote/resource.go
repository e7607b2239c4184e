package remote

import (
	"go/ast"
	"go/constant"
	"go/token"
	"go/types"
	"iter"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/flash-lsp/flash-lsp/analysis/directive"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// localResource is a resource-typed variable declared in this package.
type localResource struct {
	res  *model.Resource
	name *ast.Ident
	// values maps the fields set in the literal to their expressions.
	values map[string]ast.Expr
}

// resourceType reports whether t is one of the runtime resource types or a
// pointer to one, matched by exact package path and type name.
func resourceType(t types.Type) (name string, pointer, ok bool) {
	if t == nil {
		return "", false, false
	}
	t = types.Unalias(t)
	if p, isPtr := t.(*types.Pointer); isPtr {
		pointer = true
		t = types.Unalias(p.Elem())
	}
	named, isNamed := t.(*types.Named)
	if !isNamed {
		return "", false, false
	}
	obj := named.Obj()
	if obj.Pkg() == nil || obj.Pkg().Path() != model.RuntimePath {
		return "", false, false
	}
	if _, known := model.ResourceTypes[obj.Name()]; !known {
		return "", false, false
	}
	return obj.Name(), pointer, true
}

// collectResources finds the package-level variables of f that have a
// resource type, reads their literals, checks their configuration and
// exports a ResourceFact on each.
func (a *analyzer) collectResources(f *ast.File) {
	test := a.isTestFile(f)
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for i, name := range vs.Names {
				if name.Name == "_" {
					continue // no directive can name it
				}
				obj, _ := a.pass.TypesInfo.Defs[name].(*types.Var)
				if obj == nil {
					continue
				}
				typeName, pointer, ok := resourceType(obj.Type())
				if !ok {
					continue
				}
				var value ast.Expr
				if len(vs.Values) == len(vs.Names) {
					value = vs.Values[i]
				}
				lr := a.readResource(name, obj, typeName, pointer, value)
				a.local[obj] = lr
				a.pass.ExportObjectFact(obj, factOf(lr.res))
				if lr.res.Literal {
					a.checkConfig(lr)
					if !test {
						a.pkg.Resources = append(a.pkg.Resources, lr.res)
					}
				}
			}
		}
	}
}

// readResource builds the model of one resource variable.
func (a *analyzer) readResource(name *ast.Ident, obj *types.Var, typeName string, pointer bool, value ast.Expr) *localResource {
	pos, end := a.position(name.Pos()), a.position(name.End())
	r := &model.Resource{
		Pkg:     a.pass.Pkg.Path(),
		PkgName: a.pass.Pkg.Name(),
		Var:     name.Name,
		Type:    typeName,
		Pointer: pointer,
		Kind:    model.ResourceTypes[typeName],
		Pos:     pos,
		End:     end,
		NamePos: pos,
		NameEnd: end,
		TokPos:  name.Pos(),
		TokEnd:  name.End(),
	}
	lr := &localResource{res: r, name: name, values: make(map[string]ast.Expr)}

	lit := compositeLit(value)
	if lit == nil {
		return lr
	}
	if litType, _, ok := resourceType(a.pass.TypesInfo.TypeOf(lit)); !ok || litType != typeName {
		return lr
	}
	var fields *types.Struct
	if tv, ok := a.pass.TypesInfo.Types[lit]; ok && tv.Type != nil {
		fields, _ = tv.Type.Underlying().(*types.Struct)
	}
	r.Literal = true
	for i, elt := range lit.Elts {
		var field string
		var val ast.Expr
		if kv, ok := elt.(*ast.KeyValueExpr); ok {
			key, ok := kv.Key.(*ast.Ident)
			if !ok {
				continue
			}
			field, val = key.Name, kv.Value
		} else if fields != nil && i < fields.NumFields() {
			field, val = fields.Field(i).Name(), elt
		} else {
			continue
		}
		key, known := model.ConfigKeys[field]
		if !known {
			continue // a compile error: unknown field
		}
		lr.values[field] = val
		keyEnd := val.End()
		if kv, ok := elt.(*ast.KeyValueExpr); ok {
			keyEnd = kv.Key.End()
		}
		s := model.Setting{Field: field, Key: key, Value: a.constValue(field, val),
			Pos: a.position(elt.Pos()), KeyEnd: a.position(keyEnd)}
		r.Config = append(r.Config, s)
		if field == "Name" {
			r.NamePos, r.NameEnd = a.position(val.Pos()), a.position(val.End())
			r.Name, _ = s.Value.(string)
		}
	}
	return lr
}

// compositeLit returns the composite literal of a T{...} or &T{...}
// initialiser, or nil.
func compositeLit(e ast.Expr) *ast.CompositeLit {
	if e == nil {
		return nil
	}
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = ast.Unparen(u.X)
	}
	lit, _ := e.(*ast.CompositeLit)
	return lit
}

// constValue returns the constant value of the Config field set to e: a
// string, int64, bool, []string or map[string]string, or nil when e is not
// constant.
func (a *analyzer) constValue(field string, e ast.Expr) any {
	switch field {
	case "GPUs", "Instances", "DataCenters", "NetworkVolumes":
		if a.isNil(e) {
			return []string{}
		}
		lit, ok := ast.Unparen(e).(*ast.CompositeLit)
		if !ok {
			return nil
		}
		list := []string{}
		for _, elt := range lit.Elts {
			s, ok := a.constString(elt)
			if !ok {
				return nil
			}
			list = append(list, s)
		}
		return list
	case "Env":
		if a.isNil(e) {
			return map[string]string{}
		}
		lit, ok := ast.Unparen(e).(*ast.CompositeLit)
		if !ok {
			return nil
		}
		m := map[string]string{}
		for _, elt := range lit.Elts {
			kv, ok := elt.(*ast.KeyValueExpr)
			if !ok {
				return nil
			}
			k, ok1 := a.constString(kv.Key)
			v, ok2 := a.constString(kv.Value)
			if !ok1 || !ok2 {
				return nil
			}
			m[k] = v
		}
		return m
	}
	tv, ok := a.pass.TypesInfo.Types[e]
	if !ok || tv.Value == nil {
		return nil
	}
	// The kind must match the field's type; a mismatch is a compile error.
	switch kind := tv.Value.Kind(); field {
	case "Name", "ImageName", "ScalerType", "FlashBoot", "Registry":
		if kind == constant.String {
			return constant.StringVal(tv.Value)
		}
	case "Mothership":
		if kind == constant.Bool {
			return constant.BoolVal(tv.Value)
		}
	default:
		if kind == constant.Int {
			if v, exact := constant.Int64Val(tv.Value); exact {
				return v
			}
		}
	}
	return nil
}

// wrongConstant reports whether e, or an element of the composite literal
// e, has no type or is a constant whose kind does not fit its field: a
// compile error, which the compiler reports.
func (a *analyzer) wrongConstant(e ast.Expr) bool {
	if tv, ok := a.pass.TypesInfo.Types[e]; !ok || tv.Value != nil || !typeKnown(tv.Type) {
		return true
	}
	lit, ok := ast.Unparen(e).(*ast.CompositeLit)
	if !ok {
		return false
	}
	for _, elt := range lit.Elts {
		exprs := []ast.Expr{elt}
		if kv, ok := elt.(*ast.KeyValueExpr); ok {
			exprs = []ast.Expr{kv.Key, kv.Value}
		}
		for _, x := range exprs {
			if tv, ok := a.pass.TypesInfo.Types[x]; ok && tv.Value != nil && tv.Value.Kind() != constant.String {
				return true
			}
		}
	}
	return false
}

func (a *analyzer) constString(e ast.Expr) (string, bool) {
	tv, ok := a.pass.TypesInfo.Types[e]
	if !ok || tv.Value == nil || tv.Value.Kind() != constant.String {
		return "", false
	}
	return constant.StringVal(tv.Value), true
}

func (a *analyzer) isNil(e ast.Expr) bool {
	tv, ok := a.pass.TypesInfo.Types[e]
	return ok && tv.IsNil()
}

// checkConfig reports resource-config findings on a resource literal, each
// at the offending field value.
func (a *analyzer) checkConfig(lr *localResource) {
	r := lr.res
	bad := func(e ast.Expr, format string, args ...any) {
		a.report(nil, rules.ResourceConfig, e.Pos(), e.End(), nil, "resource "+r.Var+": "+format, args...)
	}
	values := make(map[string]any)
	for _, s := range r.Config {
		values[s.Field] = s.Value
	}
	for _, s := range r.Config {
		e := lr.values[s.Field]
		if s.Value == nil {
			if a.wrongConstant(e) {
				continue // a constant of the wrong type: the compiler reports it
			}
			if s.Field == "Name" {
				bad(e, "Name must be a constant string")
			} else {
				bad(e, "%s must be a constant: the manifest is written without running the program", s.Field)
			}
			continue
		}
		switch s.Field {
		case "Name":
			if s.Value == "" {
				bad(e, "Name must not be empty")
			}
		case "GPUCount", "WorkersMin", "WorkersMax", "IdleTimeout", "ScalerValue", "DiskGB", "Timeout":
			if v, _ := s.Value.(int64); v < 0 {
				bad(e, "%s must not be negative (%d)", s.Field, v)
			}
			if v, _ := s.Value.(int64); s.Field == "GPUCount" && v > 0 && r.CPU() {
				bad(e, "GPUCount does not apply to CPU resource %s (%s): CPU workers have no GPUs", r.Var, r.Type)
			}
		case "GPUs":
			if len(s.Value.([]string)) > 0 && r.CPU() {
				bad(e, "GPUs does not apply to CPU resource %s (%s): use Instances", r.Var, r.Type)
			}
		case "Instances":
			if len(s.Value.([]string)) > 0 && !r.CPU() {
				bad(e, "Instances does not apply to GPU resource %s (%s): use GPUs, or a CPU type", r.Var, r.Type)
			}
		case "FlashBoot":
			if v, _ := s.Value.(string); v != "" && !slices.Contains(model.FlashBootModes, v) {
				bad(e, "FlashBoot %q is not one of %s", v, strings.Join(model.FlashBootModes, ", "))
			}
		case "Registry":
			if v, _ := s.Value.(string); strings.TrimSpace(v) != v || strings.ContainsAny(v, "/ ") {
				bad(e, "Registry %q is not a RunPod registry credential id", v)
			}
		case "ScalerType":
			switch v, _ := s.Value.(string); {
			case v != "" && v != "QUEUE_DELAY" && v != "REQUEST_COUNT":
				bad(e, "ScalerType %q is not QUEUE_DELAY or REQUEST_COUNT", v)
			case v == "QUEUE_DELAY" && r.LoadBalanced():
				bad(e, "ScalerType QUEUE_DELAY does not apply to load-balanced %s: use REQUEST_COUNT", r.Type)
			}
		case "DataCenters", "NetworkVolumes":
			for _, v := range s.Value.([]string) {
				if strings.TrimSpace(v) == "" {
					bad(e, "%s must not contain an empty id", s.Field)
					break
				}
			}
		case "Mothership":
			if s.Value == true && !r.LoadBalanced() {
				bad(e, "only a load-balanced resource can be the Mothership, and %s is a queue resource (%s)", r.Var, r.Type)
			}
		}
	}
	minV, ok1 := values["WorkersMin"].(int64)
	maxV, ok2 := values["WorkersMax"].(int64)
	if ok1 && ok2 && minV > maxV && maxV >= 0 {
		bad(lr.values["WorkersMin"], "WorkersMin %d exceeds WorkersMax %d", minV, maxV)
	}
	if _, ok := values["Name"]; !ok {
		a.report(nil, rules.ResourceConfig, lr.name.Pos(), lr.name.End(), nil,
			"resource %s has no Name: Name is required and identifies the resource", r.Var)
	}
}

// resolve resolves a directive's resource field, reporting unknown-resource
// or not-a-resource when it does not name a resource literal. Resources of
// this package are known from their syntax, imported ones from their
// ResourceFact.
func (a *analyzer) resolve(f *ast.File, fn *model.Function, field *directive.Field) *model.Resource {
	qual, ident, _ := strings.Cut(field.Value, ".")
	if ident == "" {
		qual, ident = "", qual
	}
	var obj types.Object
	var pkg *types.Package
	if qual == "" {
		obj = a.pass.Pkg.Scope().Lookup(ident)
	} else {
		pkg = a.importedAs(f, qual)
		if pkg != nil {
			if o := pkg.Scope().Lookup(ident); o != nil && o.Exported() {
				obj = o
			}
		}
	}
	if obj == nil {
		a.unknownResource(f, fn, field)
		return nil
	}
	notResource := func(format string, args ...any) *model.Resource {
		a.report(fn, rules.NotAResource, field.Pos, field.End, nil, format, args...)
		return nil
	}
	v, ok := obj.(*types.Var)
	if !ok {
		return notResource("%s is a %s, not a resource variable", field.Value, objectKind(obj))
	}
	if !typeKnown(v.Type()) {
		return nil // a compile error, which the compiler reports
	}
	if pkg == nil {
		lr := a.local[v]
		if lr == nil {
			return notResource("%s has type %s, not one of the runtime resource types", field.Value, a.typeString(v.Type()))
		}
		if !lr.res.Literal {
			return notResource("resource %s is not initialised with a composite literal (T{...} or &T{...}) that flash-lsp can read", field.Value)
		}
		return lr.res
	}
	if r, ok := a.imported[v]; ok {
		return r
	}
	var fact ResourceFact
	if !a.pass.ImportObjectFact(v, &fact) {
		if _, _, ok := resourceType(v.Type()); ok {
			// Only a driver that skipped the dependency gets here.
			return notResource("resource %s carries no facts: its package was not analysed", field.Value)
		}
		return notResource("%s has type %s, not one of the runtime resource types", field.Value, a.typeString(v.Type()))
	}
	if !fact.Literal {
		return notResource("resource %s is not initialised with a composite literal (T{...} or &T{...}) that flash-lsp can read", field.Value)
	}
	r := fact.resource(pkg.Path(), pkg.Name(), v.Name())
	if r == nil {
		return notResource("%s is not a resource", field.Value)
	}
	r.TokPos, r.TokEnd = v.Pos(), v.Pos()+token.Pos(len(v.Name()))
	a.imported[v] = r
	return r
}

func objectKind(obj types.Object) string {
	switch obj.(type) {
	case *types.Const:
		return "constant"
	case *types.TypeName:
		return "type"
	case *types.Func:
		return "function"
	case *types.PkgName:
		return "package"
	case *types.Nil:
		return "nil value"
	case *types.Builtin:
		return "builtin"
	default:
		return "name"
	}
}

// imports yields the packages that f imports, each with the name a
// directive uses for it: the explicit name, or the package's own name for
// blank and unnamed imports.
func (a *analyzer) imports(f *ast.File) iter.Seq2[string, *types.Package] {
	if a.byPath == nil {
		a.byPath = make(map[string]*types.Package)
		for _, p := range a.pass.Pkg.Imports() {
			a.byPath[p.Path()] = p
		}
	}
	return func(yield func(string, *types.Package) bool) {
		for _, spec := range f.Imports {
			path, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				continue
			}
			pkg := a.byPath[path]
			if pkg == nil {
				if pn, ok := a.pass.TypesInfo.Implicits[spec].(*types.PkgName); ok {
					pkg = pn.Imported()
				} else if spec.Name != nil {
					if pn, ok := a.pass.TypesInfo.Defs[spec.Name].(*types.PkgName); ok {
						pkg = pn.Imported()
					}
				}
			}
			if pkg == nil {
				continue
			}
			name := model.ImportName(spec, pkg.Name())
			if name == "" {
				continue
			}
			if !yield(name, pkg) {
				return
			}
		}
	}
}

// importedAs returns the package that f imports under name, or nil.
func (a *analyzer) importedAs(f *ast.File, name string) *types.Package {
	for n, pkg := range a.imports(f) {
		if n == name {
			return pkg
		}
	}
	return nil
}

// unknownResource reports an unresolved resource, suggesting the closest
// resource in scope: this package's resource literals and the exported
// resource literals of the packages f imports.
func (a *analyzer) unknownResource(f *ast.File, fn *model.Function, field *directive.Field) {
	// A qualifier that names an import narrows the search to that package.
	qual, _, qualified := strings.Cut(field.Value, ".")
	narrow := qualified && a.importedAs(f, qual) != nil
	var candidates []string
	if !narrow {
		for _, lr := range a.local {
			if lr.res.Literal {
				candidates = append(candidates, lr.res.Var)
			}
		}
	}
	for name, pkg := range a.imports(f) {
		if narrow && name != qual {
			continue
		}
		scope := pkg.Scope()
		for _, n := range scope.Names() {
			v, ok := scope.Lookup(n).(*types.Var)
			if !ok || !v.Exported() {
				continue
			}
			var fact ResourceFact
			if a.pass.ImportObjectFact(v, &fact) && fact.Literal {
				candidates = append(candidates, name+"."+n)
			}
		}
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)
	best := model.Closest(field.Value, candidates)
	if best == "" || best == field.Value {
		a.report(fn, rules.UnknownResource, field.Pos, field.End, nil,
			"unknown resource %s for %s: no resource variable of that name is in scope", field.Value, fn.Name)
		return
	}
	fix := analysis.SuggestedFix{
		Message:   "Replace with " + best,
		TextEdits: []analysis.TextEdit{{Pos: field.Pos, End: field.End, NewText: []byte(best)}},
	}
	a.report(fn, rules.UnknownResource, field.Pos, field.End, []analysis.SuggestedFix{fix},
		"unknown resource %s for %s: did you mean %s?", field.Value, fn.Name, best)
}

// typeKnown reports whether t is free of type errors at its top level.
func typeKnown(t types.Type) bool {
	if t == nil {
		return false
	}
	if p, ok := types.Unalias(t).(*types.Pointer); ok {
		t = p.Elem()
	}
	b, ok := types.Unalias(t).(*types.Basic)
	return !ok || b.Kind() != types.Invalid
}
