package codegen

import (
	"bytes"
	"fmt"
	"go/token"
	"go/types"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// Handler renders the main package serving resource r: one typed adapter per
// function (fns sorted as in the manifest) and the manifest, without
// generated_at, and the resource's OpenAPI document (nil for queue
// resources), each embedded as a string literal. The source is gofmt-clean
// and does not import reflect.
func Handler(r *model.Resource, fns []*model.Function, manifest, openAPI []byte) ([]byte, error) {
	return handler(r, fns, manifest, openAPI, false)
}

// liveTypes maps each deployed resource type to its live counterpart, which
// has the same fields.
var liveTypes = map[string]string{
	"Serverless":      "LiveServerless",
	"CPUServerless":   "CPULiveServerless",
	"LoadBalancer":    "LiveLoadBalancer",
	"CPULoadBalancer": "CPULiveLoadBalancer",
}

// handler renders a handler; live converts a deployed resource to its live
// type, which is how `flash-lsp run` serves /execute locally without
// giving deployed handlers a way to reach it.
func handler(r *model.Resource, fns []*model.Function, manifest, openAPI []byte, live bool) ([]byte, error) {
	g := &handlerGen{im: newImports()}
	if len(fns) > 0 {
		g.im.use("context")
	}
	if !literalResource(r) {
		g.im.add(r.Pkg, r.PkgName)
	}
	// Each adapter is a top-level function named after the function it
	// calls; the names are package-scope, so no import may take them.
	calls := make([]string, len(fns))
	for i, f := range fns {
		name := "call" + f.Name
		for n := 2; g.im.taken[name]; n++ {
			name = fmt.Sprintf("call%s%d", f.Name, n)
		}
		g.im.taken[name] = true
		calls[i] = name
		g.im.add(f.Pkg, f.PkgName)
		for _, p := range f.Params {
			if p.Type == nil {
				return nil, fmt.Errorf("codegen: parameter %s of %s has no type", p.Name, f.Qualified)
			}
			g.im.addTypes(p.Type)
		}
	}
	g.im.assign()

	// The header holds the manifest literal, which must not be indented.
	var out bytes.Buffer
	b := &out
	fmt.Fprintf(b, "%s\n\n", model.GeneratedHeader)
	fmt.Fprintf(b, "// Command %s serves the Flash resource %q (%s, %s).\n", r.Dir(), r.Name, r.ResourceType(), kindText(r))
	if live {
		b.WriteString("// It is the live variant that flash-lsp run builds: POST /execute is on.\n")
	}
	b.WriteString("package main\n\n")
	g.im.write(b)
	b.WriteString("\n// manifest is the project's flash_manifest.json without generated_at.\n")
	fmt.Fprintf(b, "const manifest = %s\n\n", goString(manifest))
	appOpenAPI := ""
	if openAPI != nil {
		b.WriteString("// openAPI is the resource's OpenAPI document, served at GET /openapi.json.\n")
		fmt.Fprintf(b, "const openAPI = %s\n\n", goString(openAPI))
		appOpenAPI = "OpenAPI:   []byte(openAPI),\n"
	}

	resource := resourceExpr(r, g.im, live)
	serve := "ServeQueue"
	if r.LoadBalanced() {
		serve = "ServeLoadBalancer"
	}
	// The rest is written without indentation and indented by brace
	// depth: go/format would cost more than everything else generate does
	// on a large project. Tests check that the result is gofmt-clean.
	fmt.Fprintf(&g.buf, `func main() {
app := runtime.App{
Resource:  %s,
Functions: functions,
Manifest:  []byte(manifest),
%s}
if err := runtime.%s(app); err != nil {
fmt.Fprintln(os.Stderr, %s, err)
os.Exit(1)
}
}

`, resource, appOpenAPI, serve, strconv.Quote(r.Dir()+":"))

	fmt.Fprintf(&g.buf, "// functions are the remote functions of %q.\n", r.Name)
	if len(fns) == 0 {
		g.buf.WriteString("var functions = []runtime.Function{}\n")
	} else {
		g.buf.WriteString("var functions = []runtime.Function{\n")
		for i, f := range fns {
			g.entry(r, f, calls[i])
		}
		g.buf.WriteString("}\n")
	}
	for i, f := range fns {
		if err := g.adapter(f, calls[i]); err != nil {
			return nil, err
		}
	}
	return finish(&out, g.buf.Bytes(), g.im, "the handler of "+r.Name)
}

func kindText(r *model.Resource) string {
	kind := "queue"
	if r.LoadBalanced() {
		kind = "load-balanced"
	}
	if r.Live() {
		return "live " + kind
	}
	return "deployed " + kind
}

type handlerGen struct {
	im  *imports
	buf bytes.Buffer
}

// entry writes the runtime.Function literal of f, on one line so that no
// alignment is needed.
func (g *handlerGen) entry(r *model.Resource, f *model.Function, call string) {
	b := &g.buf
	fmt.Fprintf(b, "{Name: %s", strconv.Quote(f.Qualified))
	if r.LoadBalanced() {
		fmt.Fprintf(b, ", Method: %s, Path: %s", strconv.Quote(f.Method), strconv.Quote(f.Path))
	}
	if len(f.Params) > 0 {
		b.WriteString(", Params: []runtime.Param{")
		for i, p := range f.Params {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(b, "{Name: %s, In: %s", strconv.Quote(p.Name), strconv.Quote(p.In))
			if p.Optional {
				b.WriteString(", Optional: true")
			}
			b.WriteString("}")
		}
		b.WriteString("}")
	}
	if f.Result == nil {
		b.WriteString(", NoResult: true")
	}
	fmt.Fprintf(b, ", Call: %s},\n", call)
}

// adapter writes the function that binds f's parameters from a
// runtime.Input and calls f directly.
func (g *handlerGen) adapter(f *model.Function, call string) error {
	b := &g.buf
	fmt.Fprintf(b, "\n// %s binds the parameters of %s and calls it.\n", call, f.Qualified)
	fmt.Fprintf(b, "func %s(ctx context.Context, in *runtime.Input) (any, error) {\n", call)
	args := make([]string, 0, len(f.Params)+1)
	if f.Context {
		args = append(args, "ctx")
	}
	for i, p := range f.Params {
		v := "p" + strconv.Itoa(i)
		if err := g.bind(f, p, v); err != nil {
			return err
		}
		args = append(args, v)
	}
	expr := fmt.Sprintf("%s.%s(%s)", g.im.alias(f.Pkg), f.Name, strings.Join(args, ", "))
	switch {
	case f.Stream && f.Error:
		fmt.Fprintf(b, "return runtime.StreamOf(%s), nil\n", expr)
	case f.Stream:
		fmt.Fprintf(b, "return runtime.StreamOfSeq(%s), nil\n", expr)
	case f.Result != nil && f.Error:
		fmt.Fprintf(b, "return %s\n", expr)
	case f.Result != nil:
		fmt.Fprintf(b, "return %s, nil\n", expr)
	case f.Error:
		fmt.Fprintf(b, "return nil, %s\n", expr)
	default:
		fmt.Fprintf(b, "%s\nreturn nil, nil\n", expr)
	}
	b.WriteString("}\n")
	return nil
}

// bindFuncs names the runtime bind function of each Bind, for a single value
// and for a slice.
var bindFuncs = map[model.Bind][2]string{
	model.BindString: {"String", "Strings"},
	model.BindBool:   {"Bool", "Bools"},
	model.BindInt:    {"Int", "Ints"},
	model.BindUint:   {"Uint", "Uints"},
	model.BindFloat:  {"Float", "Floats"},
	model.BindText:   {"Text", "Texts"},
}

// bind declares v and decodes parameter p into it.
func (g *handlerGen) bind(f *model.Function, p *model.Param, v string) error {
	b := &g.buf
	name := strconv.Quote(p.Name)
	fmt.Fprintf(b, "var %s %s\n", v, g.im.typeString(p.Type))
	fn := "JSON"
	if p.Bind != model.BindJSON {
		names, ok := bindFuncs[p.Bind]
		if !ok {
			return fmt.Errorf("codegen: parameter %s of %s has unknown binding %d", p.Name, f.Qualified, p.Bind)
		}
		fn = names[0]
		if p.Slice {
			fn = names[1]
		}
	}
	check := "; err != nil {\nreturn nil, err\n}\n"
	switch {
	case p.Optional && p.Bind != model.BindJSON:
		// A scalar parser needs somewhere to write: allocate only when the
		// parameter is present, so that absence stays nil.
		ptr, ok := p.Type.Underlying().(*types.Pointer)
		if !ok {
			return fmt.Errorf("codegen: optional parameter %s of %s is not a pointer", p.Name, f.Qualified)
		}
		fmt.Fprintf(b, "if in.Has(%s) {\n%s = new(%s)\n", name, v, g.im.typeString(ptr.Elem()))
		fmt.Fprintf(b, "if err := runtime.%s(in, %s, %s)%s}\n", fn, name, v, check)
	case p.Optional:
		fmt.Fprintf(b, "if in.Has(%s) {\nif err := runtime.%s(in, %s, &%s)%s}\n", name, fn, name, v, check)
	default:
		fmt.Fprintf(b, "if err := runtime.%s(in, %s, &%s)%s", fn, name, v, check)
	}
	return nil
}

// resourceExpr is the resource r as generated code writes it: the
// user's variable, converted to its live type when live. A variable that
// the handler cannot name (unexported, or in an internal package) is
// written as a literal of its type with the settings the analysis read:
// a resource without errors has only constant settings.
func resourceExpr(r *model.Resource, im *imports, live bool) string {
	lt, toLive := liveTypes[r.Type]
	toLive = toLive && live
	if literalResource(r) {
		typ := r.Type
		if toLive {
			typ = lt
		}
		return "runtime." + typ + resourceLiteral(r)
	}
	resource := im.alias(r.Pkg) + "." + r.Var
	if toLive {
		if r.Pointer {
			resource = "*" + resource
		}
		resource = fmt.Sprintf("runtime.%s(%s)", lt, resource)
	}
	return resource
}

// literalResource reports whether the handler must write r as a literal:
// its variable is unexported or its package is internal.
func literalResource(r *model.Resource) bool {
	return !token.IsExported(r.Var) || strings.Contains("/"+r.Pkg+"/", "/internal/")
}

// resourceLiteral is the braces of a runtime.Config-shaped literal with
// r's constant settings, on one line.
func resourceLiteral(r *model.Resource) string {
	var b strings.Builder
	b.WriteString("{")
	n := 0
	for _, s := range r.Config {
		var v string
		switch x := s.Value.(type) {
		case string:
			v = strconv.Quote(x)
		case int64:
			v = strconv.FormatInt(x, 10)
		case bool:
			v = strconv.FormatBool(x)
		case []string:
			q := make([]string, len(x))
			for i, e := range x {
				q[i] = strconv.Quote(e)
			}
			v = "[]string{" + strings.Join(q, ", ") + "}"
		case map[string]string:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			q := make([]string, len(keys))
			for i, k := range keys {
				q[i] = strconv.Quote(k) + ": " + strconv.Quote(x[k])
			}
			v = "map[string]string{" + strings.Join(q, ", ") + "}"
		default:
			continue // not constant: reported by resource-config
		}
		if n > 0 {
			b.WriteString(", ")
		}
		n++
		b.WriteString(s.Field + ": " + v)
	}
	b.WriteString("}")
	return b.String()
}

// goString returns s as a Go string literal: raw when it can be.
func goString(s []byte) string {
	if !bytes.ContainsAny(s, "`\r") && !bytes.ContainsRune(s, '\uFEFF') {
		return "`" + string(s) + "`"
	}
	return strconv.Quote(string(s))
}

// imports gives every imported package of a handler a unique, valid name
// that collides with nothing the generated code declares or uses.
type imports struct {
	names   map[string]string // path → package name (before assign)
	aliases map[string]string // path → name used in the file
	used    map[string]bool   // paths emitted
	taken   map[string]bool
	// needFormat is set when a type was written in a form gofmt changes.
	needFormat bool
}

// fixed are the imports the generated code refers to by these names.
var fixed = []struct{ path, name string }{
	{"context", "context"},
	{"fmt", "fmt"},
	{"os", "os"},
	{model.RuntimePath, "runtime"},
}

// reserved are identifiers of the generated code that an import alias must
// not shadow (p0, p1, ... are checked separately).
var reserved = []string{"main", "manifest", "openAPI", "functions", "app", "err", "ctx", "in"}

func newImports() *imports {
	im := &imports{
		names:   make(map[string]string),
		aliases: make(map[string]string),
		used:    make(map[string]bool),
		taken:   make(map[string]bool),
	}
	for _, r := range reserved {
		im.taken[r] = true
	}
	for _, f := range fixed {
		im.aliases[f.path] = f.name
		im.taken[f.name] = true
	}
	im.use("fmt")
	im.use("os")
	im.use(model.RuntimePath)
	return im
}

func (im *imports) use(path string) { im.used[path] = true }

// add records that the file refers to package path, named name.
func (im *imports) add(path, name string) {
	im.used[path] = true
	if _, ok := im.aliases[path]; !ok {
		im.names[path] = name
	}
}

// addTypes records every package that t's written form refers to.
func (im *imports) addTypes(t types.Type) {
	types.TypeString(t, func(p *types.Package) string {
		im.add(p.Path(), p.Name())
		return p.Name()
	})
}

// assign gives each non-fixed import a unique alias, in import path order
// so that the result does not depend on the order functions were seen.
func (im *imports) assign() {
	paths := make([]string, 0, len(im.names))
	for p := range im.names {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		base := identifier(im.names[p], p)
		if base == "p" || isLocalVar(base) {
			// Numbering p or p1 would give p2 or p12, p13, ...: locals.
			base += "_"
		}
		alias := base
		for n := 2; im.taken[alias] || types.Universe.Lookup(alias) != nil || isLocalVar(alias); n++ {
			alias = base + strconv.Itoa(n)
		}
		im.taken[alias] = true
		im.aliases[p] = alias
	}
}

func (im *imports) alias(path string) string { return im.aliases[path] }

// typeString writes t with each package qualified by its alias, as gofmt
// would write it.
func (im *imports) typeString(t types.Type) string {
	s := types.TypeString(t, func(p *types.Package) string { return im.aliases[p.Path()] })
	if strings.ContainsRune(s, '{') {
		var ok bool
		if s, ok = canonicalType(s); !ok {
			im.needFormat = true
		}
	}
	return s
}

// write writes the import block: the standard library first.
func (im *imports) write(b *bytes.Buffer) {
	var std, other []string
	for p := range im.used {
		if isStd(p) {
			std = append(std, p)
		} else {
			other = append(other, p)
		}
	}
	sort.Strings(std)
	sort.Strings(other)
	b.WriteString("import (\n")
	for _, p := range std {
		im.writeSpec(b, p)
	}
	if len(std) > 0 && len(other) > 0 {
		b.WriteString("\n")
	}
	for _, p := range other {
		im.writeSpec(b, p)
	}
	b.WriteString(")\n")
}

func (im *imports) writeSpec(b *bytes.Buffer, p string) {
	a := im.aliases[p]
	if a == path.Base(p) {
		fmt.Fprintf(b, "\t%s\n", strconv.Quote(p))
		return
	}
	fmt.Fprintf(b, "\t%s %s\n", a, strconv.Quote(p))
}

// isStd reports whether an import path belongs to the standard library: its
// first element has no dot.
func isStd(p string) bool {
	first, _, _ := strings.Cut(p, "/")
	return !strings.Contains(first, ".") && p != model.RuntimePath
}

// identifier returns name when it is a usable Go identifier, else one made
// from the last element of the import path ("03_advanced-workers" →
// "_03_advanced_workers").
func identifier(name, importPath string) string {
	if token.IsIdentifier(name) && name != "_" {
		return name
	}
	var sb strings.Builder
	for _, c := range path.Base(importPath) {
		if c < 128 && (c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			sb.WriteRune(c)
		} else {
			sb.WriteByte('_')
		}
	}
	s := sb.String()
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "pkg" + s
	}
	if token.IsKeyword(s) {
		s += "_"
	}
	return s
}

// isLocalVar reports whether s has the form of a generated parameter
// variable: p0, p1, ... (p007 does not).
func isLocalVar(s string) bool {
	if len(s) < 2 || s[0] != 'p' || (s[1] == '0' && len(s) > 2) {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
