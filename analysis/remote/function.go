package remote

import (
	"go/ast"
	"go/token"
	"go/types"
	"strings"

	"golang.org/x/tools/go/analysis"

	"github.com/flash-lsp/flash-lsp/analysis/directive"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// fnInfo is what the analyzer knows about one remote function while it
// checks it.
type fnInfo struct {
	fn      *model.Function
	decl    *ast.FuncDecl
	file    *ast.File
	comment *ast.Comment
	d       *directive.Directive
	// syntaxErrs is set when the directive did not parse cleanly: the
	// route rules then stay silent rather than cascade.
	syntaxErrs bool
	// method is the directive's method when valid; vars, pathOK and
	// pathErr describe its path.
	method  string
	vars    []model.PathVar
	pathOK  bool
	pathErr error
	// routeKey is set for a complete, valid route on a load-balanced
	// resource.
	routeKey string
	params   []paramInfo
}

// paramInfo is one named parameter after the context.
type paramInfo struct {
	p     *model.Param
	ident *ast.Ident
}

// addFunction parses the directive c of fd, resolves its resource and adds
// the function to the model. The remaining checks wait for checkFunctions,
// which needs every route of the package.
func (a *analyzer) addFunction(f *ast.File, fd *ast.FuncDecl, c *ast.Comment) {
	d, errs := directive.Parse(c.Text, c.Pos())
	name := fd.Name.Name
	fn := &model.Function{
		Pkg:          a.pass.Pkg.Path(),
		PkgName:      a.pass.Pkg.Name(),
		Name:         name,
		Qualified:    a.pass.Pkg.Path() + "." + name,
		Doc:          fd.Doc.Text(),
		Pos:          a.position(fd.Name.Pos()),
		NameEnd:      a.position(fd.Name.End()),
		DirectivePos: a.position(c.Pos()),
	}
	fi := &fnInfo{fn: fn, decl: fd, file: f, comment: c, d: d, syntaxErrs: len(errs) > 0}
	a.funcs = append(a.funcs, fi)
	a.pkg.Functions = append(a.pkg.Functions, fn)

	for _, e := range errs {
		var fixes []analysis.SuggestedFix
		if e.Rule == rules.UnknownKey && e.Suggestion != "" {
			fixes = []analysis.SuggestedFix{{
				Message:   "Rename key to " + e.Suggestion,
				TextEdits: []analysis.TextEdit{{Pos: e.Pos, End: e.End, NewText: []byte(e.Suggestion)}},
			}}
		}
		a.report(fn, e.Rule, e.Pos, e.End, fixes, "%s", e.Message)
	}
	if d == nil {
		return
	}
	if d.Method != nil {
		fn.Method = d.Method.Value
		fn.MethodPos, fn.MethodEnd = a.position(d.Method.Pos), a.position(d.Method.End)
		fn.MethodValuePos = a.position(d.Method.ValuePos)
	}
	if d.Path != nil {
		fn.Path = d.Path.Value
		fn.PathPos, fn.PathEnd = a.position(d.Path.Pos), a.position(d.Path.End)
		fn.PathValuePos = a.position(d.Path.ValuePos)
	}
	if d.Resource == nil {
		return
	}
	fn.ResourceRef = d.Resource.Value
	fn.ResourcePos, fn.ResourceEnd = a.position(d.Resource.Pos), a.position(d.Resource.End)
	if !hasSyntaxErrAt(errs, d.Resource) {
		fn.Resource = a.resolve(f, fn, d.Resource)
	}

	if r := fn.Resource; r != nil && r.LoadBalanced() {
		if d.Method != nil && model.ValidMethod(d.Method.Value) {
			fi.method = d.Method.Value
		}
		if d.Path != nil {
			vars, key, err := model.ParseRoute(fi.method, d.Path.Value)
			fi.vars, fi.pathOK, fi.pathErr = vars, err == nil, err
			if fi.method != "" && fi.pathOK {
				fi.routeKey, fn.RouteKey = key, key
			}
		}
	}
}

func validPath(p string) bool {
	_, err := model.ParsePath(p)
	return err == nil
}

func hasSyntaxErrAt(errs []directive.Error, f *directive.Field) bool {
	for _, e := range errs {
		if e.Pos < f.End && f.Pos < e.End {
			return true
		}
	}
	return false
}

// checkFunctions runs every per-function rule once all functions and their
// routes are known.
func (a *analyzer) checkFunctions() {
	// routes[resource ref] holds the route keys of this package, so that a
	// fix never creates a route conflict.
	routes := make(map[string]map[string]bool)
	for _, fi := range a.funcs {
		if fi.routeKey == "" {
			continue
		}
		ref := fi.fn.Resource.Ref()
		if routes[ref] == nil {
			routes[ref] = make(map[string]bool)
		}
		routes[ref][fi.routeKey] = true
	}
	for _, fi := range a.funcs {
		a.checkDecl(fi)
		a.checkSignature(fi)
		r := fi.fn.Resource
		switch {
		case r == nil:
			a.bindUnresolved(fi)
		case r.LoadBalanced():
			a.checkRoute(fi, routes[r.Ref()])
		default:
			a.checkQueue(fi)
		}
	}
}

// checkDecl reports the unexported, package-main and generic rules.
func (a *analyzer) checkDecl(fi *fnInfo) {
	fn, name := fi.fn, fi.decl.Name
	if !name.IsExported() {
		a.report(fn, rules.Unexported, name.Pos(), name.End(), nil,
			"remote function %s is not exported: generated handlers call it from another package", fn.Name)
	}
	if a.pass.Pkg.Name() == "main" {
		a.report(fn, rules.PackageMain, name.Pos(), name.End(), nil,
			"remote function %s is in package main, which generated handlers cannot import", fn.Name)
	} else if name.IsExported() && !a.importable(a.pass.Pkg.Path()) {
		a.report(fn, rules.Unexported, name.Pos(), name.End(), nil,
			"remote function %s is in internal package %s, which generated handlers cannot import", fn.Name, a.pass.Pkg.Path())
	}
	if tp := fi.decl.Type.TypeParams; tp != nil {
		a.report(fn, rules.Generic, tp.Opening, tp.Closing+1, nil,
			"remote function %s must not be generic: a handler cannot choose its type arguments", fn.Name)
	}
}

// checkSignature checks section 3 of the spec on the parameters and
// results, and records them in the model. The parameters' binding is left
// to the route or queue checks.
func (a *analyzer) checkSignature(fi *fnInfo) {
	fn, ft := fi.fn, fi.decl.Type
	sig := func(pos, end token.Pos, format string, args ...any) {
		a.report(fn, rules.Signature, pos, end, nil, format, args...)
	}
	if ft.Params == nil {
		return // a syntax error
	}
	index := 0
	for _, field := range ft.Params.List {
		t := a.pass.TypesInfo.TypeOf(field.Type)
		if _, ok := field.Type.(*ast.Ellipsis); ok {
			sig(field.Type.Pos(), field.Type.End(), "%s must not be variadic: every parameter binds one named value", fn.Name)
		}
		names := field.Names
		if len(names) == 0 {
			names = []*ast.Ident{nil}
		}
		for _, ident := range names {
			first := index == 0
			index++
			pos, end := field.Type.Pos(), field.Type.End()
			if ident != nil {
				pos, end = ident.Pos(), ident.End()
			}
			if isContext(t) {
				if first {
					fn.Context = true
				} else {
					sig(pos, end, "context.Context must be the first parameter of %s", fn.Name)
				}
				continue
			}
			if ident == nil || ident.Name == "_" {
				sig(pos, end, "parameter %d of %s must be named: requests bind parameters by name", index, fn.Name)
				continue
			}
			p := &model.Param{Name: ident.Name, Type: t, TypeString: a.typeString(t), Optional: isPointer(t)}
			fi.params = append(fi.params, paramInfo{p: p, ident: ident})
			fn.Params = append(fn.Params, p)
			if t == nil {
				continue
			}
			if why := a.nameProblem(t); why != "" {
				sig(pos, end, "parameter %s of %s has type %s, which other packages cannot name: %s", ident.Name, fn.Name, p.TypeString, why)
			}
		}
	}

	// Results: none, (T), (error), (T, error), or a stream of T (SPEC 18).
	if ft.Results == nil || len(ft.Results.List) == 0 {
		return
	}
	var results []ast.Expr
	for _, field := range ft.Results.List {
		n := max(len(field.Names), 1)
		for range n {
			results = append(results, field.Type)
		}
	}
	resType := func(e ast.Expr) types.Type { return a.pass.TypesInfo.TypeOf(e) }
	var value ast.Expr
	switch len(results) {
	case 1:
		if isError(resType(results[0])) {
			fn.Error = true
		} else {
			value = results[0]
		}
	case 2:
		if t := resType(results[1]); t != nil && !isError(t) {
			sig(results[1].Pos(), results[1].End(), "the second result of %s must be error, not %s", fn.Name, a.typeString(t))
			return
		}
		fn.Error = true
		value = results[0]
	default:
		sig(ft.Results.Pos(), ft.Results.End(), "%s returns %d results: want none, (T), (error) or (T, error)", fn.Name, len(results))
		return
	}
	if value == nil {
		return
	}
	t := resType(value)
	if t == nil {
		return
	}
	if item, second, ok := streamOf(t); ok {
		// SPEC 18: iter.Seq2[T, error] or iter.Seq[T] instead of (T, error).
		if len(results) == 2 {
			sig(value.Pos(), results[1].End(), "%s returns %s and an error: a streaming function returns its stream alone (iter.Seq2[T, error] carries the errors)", fn.Name, a.typeString(t))
			return
		}
		if second != nil && !isError(second) {
			sig(value.Pos(), value.End(), "%s returns %s: the second type of an iter.Seq2 result must be error, not %s", fn.Name, a.typeString(t), a.typeString(second))
			return
		}
		fn.Stream, fn.Error = true, second != nil
		t = item
	}
	fn.Result, fn.ResultString = t, a.typeString(t)
	if isContext(t) || isError(t) && (len(results) == 2 || fn.Stream) {
		sig(value.Pos(), value.End(), "%s cannot be the result value of %s", fn.ResultString, fn.Name)
		return
	}
	if why := a.jsonProblem(t); why != "" {
		sig(value.Pos(), value.End(), "result of %s is not JSON-serialisable: %s", fn.Name, why)
		return
	}
	if why := a.nameProblem(t); why != "" {
		sig(value.Pos(), value.End(), "result of %s has type %s, which other packages cannot name: %s", fn.Name, fn.ResultString, why)
	}
}

// checkJSON reports a parameter decoded from JSON (body or arg) whose type
// JSON cannot carry.
func (a *analyzer) checkJSON(fi *fnInfo, pi paramInfo) {
	if pi.p.Type == nil {
		return
	}
	if why := a.jsonProblem(pi.p.Type); why != "" {
		a.report(fi.fn, rules.Signature, pi.ident.Pos(), pi.ident.End(), nil,
			"parameter %s of %s is not JSON-serialisable: %s", pi.p.Name, fi.fn.Name, why)
	}
}

// bindUnresolved records parameters of a function whose resource did not
// resolve: their binding is unknown, but they must be JSON values in any
// case but a route's path and query.
func (a *analyzer) bindUnresolved(fi *fnInfo) {
	for _, pi := range fi.params {
		pi.p.Bind = model.BindJSON
		a.checkJSON(fi, pi)
	}
}

// checkQueue binds the parameters of a queue function to the job's args and
// warns about route fields, which a queue resource ignores.
func (a *analyzer) checkQueue(fi *fnInfo) {
	r := fi.fn.Resource
	for _, f := range []*directive.Field{fi.d.Method, fi.d.Path} {
		if f == nil {
			continue
		}
		text := f.Key + "=" + f.Value
		fix := analysis.SuggestedFix{
			Message:   "Remove " + text,
			TextEdits: []analysis.TextEdit{{Pos: a.leadingBlank(fi, f.Pos), End: f.End}},
		}
		a.report(fi.fn, rules.RouteOnQueue, f.Pos, f.End, []analysis.SuggestedFix{fix},
			"%s on %s is ignored: %s is a queue resource (%s)", text, fi.fn.Name, fi.fn.ResourceRef, r.Type)
	}
	for _, pi := range fi.params {
		pi.p.In, pi.p.Bind = model.InArg, model.BindJSON
		a.checkJSON(fi, pi)
	}
}

// leadingBlank returns the start of the run of blanks before pos within
// the directive comment.
func (a *analyzer) leadingBlank(fi *fnInfo, pos token.Pos) token.Pos {
	text := fi.comment.Text
	i := int(pos - fi.comment.Pos())
	for i > 0 && i <= len(text) && (text[i-1] == ' ' || text[i-1] == '\t') {
		i--
	}
	return fi.comment.Pos() + token.Pos(i)
}

// checkRoute checks the method and path of a function on a load-balanced
// resource, and binds its parameters to path variables, the query string or
// the body. routes holds the package's route keys on the same resource.
func (a *analyzer) checkRoute(fi *fnInfo, routes map[string]bool) {
	fn, d := fi.fn, fi.d
	kebab := model.KebabPath(fn.Name)
	// free reports whether method and path make a route that a fix may
	// create: not reserved, and not taken in this package. A kebab path
	// that is itself a bad path (/café: requests carry é encoded) is not
	// offered either.
	free := func(method, path string) bool {
		if model.Reserved(path) || path == kebab && !validPath(kebab) {
			return false
		}
		if method == "" {
			return true
		}
		key, err := model.RouteKey(method, path)
		return err != nil || !routes[key]
	}

	if (d.Method == nil || d.Path == nil) && !fi.syntaxErrs {
		method := "POST"
		if len(fi.params) == 0 {
			method = "GET"
		}
		var missing, insert []string
		newMethod, newPath := fi.method, ""
		if d.Path != nil {
			newPath = d.Path.Value
		}
		if d.Method == nil {
			missing = append(missing, "method=")
			insert = append(insert, "method="+method)
			newMethod = method
		}
		if d.Path == nil {
			missing = append(missing, "path=")
			insert = append(insert, "path="+kebab)
			newPath = kebab
		}
		var fixes []analysis.SuggestedFix
		if free(newMethod, newPath) {
			text := " " + strings.Join(insert, " ")
			at := a.directiveEnd(d)
			fixes = []analysis.SuggestedFix{{
				Message:   "Add" + text,
				TextEdits: []analysis.TextEdit{{Pos: at, End: at, NewText: []byte(text)}},
			}}
		}
		a.report(fn, rules.MissingRoute, d.Resource.Pos, d.Resource.End, fixes,
			"%s on load-balanced resource %s needs %s", fn.Name, fn.ResourceRef, strings.Join(missing, " and "))
	}

	if f := d.Method; f != nil && fi.method == "" {
		var fixes []analysis.SuggestedFix
		if up := strings.ToUpper(f.Value); model.ValidMethod(up) {
			fixes = []analysis.SuggestedFix{{
				Message:   "Change method to " + up,
				TextEdits: []analysis.TextEdit{{Pos: f.ValuePos, End: f.End, NewText: []byte(up)}},
			}}
		}
		a.report(fn, rules.BadMethod, f.ValuePos, f.End, fixes,
			"bad method %q for %s: want one of %s (upper case)", f.Value, fn.Name, strings.Join(model.Methods, ", "))
	}

	if f := d.Path; f != nil {
		if err := fi.pathErr; err != nil {
			var fixes []analysis.SuggestedFix
			if fixed := model.RepairPath(f.Value); fixed != f.Value && validPath(fixed) {
				fixes = []analysis.SuggestedFix{{
					Message:   "Change path to " + fixed,
					TextEdits: []analysis.TextEdit{{Pos: f.ValuePos, End: f.End, NewText: []byte(fixed)}},
				}}
			}
			a.report(fn, rules.BadPath, f.ValuePos, f.End, fixes, "bad path %q for %s: %v", f.Value, fn.Name, err)
		} else if model.Reserved(f.Value) {
			var fixes []analysis.SuggestedFix
			if free(fi.method, kebab) {
				fixes = []analysis.SuggestedFix{{
					Message:   "Change path to " + kebab,
					TextEdits: []analysis.TextEdit{{Pos: f.ValuePos, End: f.End, NewText: []byte(kebab)}},
				}}
			}
			a.report(fn, rules.ReservedPath, f.ValuePos, f.End, fixes,
				"path %s of %s is reserved: every load-balanced handler serves %s itself", f.Value, fn.Name, f.Value)
		}
	}

	a.bindRoute(fi)
}

// directiveEnd returns the end of the last field of d, where a fix appends
// fields.
func (a *analyzer) directiveEnd(d *directive.Directive) token.Pos {
	end := d.Resource.End
	for _, f := range d.Fields {
		end = max(end, f.End)
	}
	return end
}

// bindRoute binds each parameter of a route: path variables by name, then
// the query string for GET and DELETE or the JSON body otherwise.
func (a *analyzer) bindRoute(fi *fnInfo) {
	fn, d := fi.fn, fi.d
	params := make(map[string]paramInfo)
	for _, pi := range fi.params {
		params[pi.p.Name] = pi
	}
	route := fn.Method + " " + fn.Path
	bound := make(map[string]bool)
	if fi.pathOK {
		for _, v := range fi.vars {
			pos := d.Path.ValuePos + token.Pos(v.Start)
			end := d.Path.ValuePos + token.Pos(v.End)
			if bound[v.Name] {
				a.report(fn, rules.PathParam, pos, end, nil,
					"path variable {%s} appears twice in %s", v.Name, fn.Path)
				continue
			}
			bound[v.Name] = true
			pi, ok := params[v.Name]
			if !ok {
				a.report(fn, rules.PathParam, pos, end, nil,
					"path variable {%s} of %s has no parameter of that name in %s", v.Name, route, fn.Name)
				continue
			}
			pi.p.In = model.InPath
			if pi.p.Type == nil {
				continue
			}
			bind, ok := a.scalarBind(pi.p.Type)
			if !ok {
				a.report(fn, rules.PathParam, pos, end, nil,
					"path variable {%s} of %s binds parameter %s of type %s: want string, bool, integer, float or encoding.TextUnmarshaler",
					v.Name, route, pi.p.Name, pi.p.TypeString)
				continue
			}
			pi.p.Bind = bind
		}
	}
	for _, pi := range fi.params {
		if pi.p.In == model.InPath {
			continue
		}
		if !model.QueryMethod(fi.method) {
			pi.p.In, pi.p.Bind = model.InBody, model.BindJSON
			a.checkJSON(fi, pi)
			continue
		}
		pi.p.In = model.InQuery
		if pi.p.Type == nil {
			continue
		}
		bind, slice, ok := a.queryBind(pi.p.Type)
		if !ok {
			var fixes []analysis.SuggestedFix
			if d.Method != nil {
				fixes = []analysis.SuggestedFix{{
					Message:   "Change method to POST",
					TextEdits: []analysis.TextEdit{{Pos: d.Method.ValuePos, End: d.Method.End, NewText: []byte("POST")}},
				}}
			}
			a.report(fn, rules.QueryParam, pi.ident.Pos(), pi.ident.End(), fixes,
				"parameter %s of %s (%s) has type %s: %s parameters come from the query string, which holds scalars and slices of scalars",
				pi.p.Name, fn.Name, route, pi.p.TypeString, fi.method)
			continue
		}
		pi.p.Bind, pi.p.Slice = bind, slice
	}
}
