package codegen

import (
	"bytes"
	"errors"
	"fmt"
	"go/token"
	"path"
	"strconv"
	"strings"
	"unicode"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/runtime"
)

// DefaultClientDir is where generate writes the typed clients, relative to
// the module root: one package per resource, <dir>/<resource dir>.
const DefaultClientDir = "flashclient"

// ClientFileName is the one file of a client package.
const ClientFileName = "client.go"

// CheckClientDir reports a client directory that is not a clean relative
// path to an importable directory of the module: the go tool ignores
// directories starting with '.' or '_' and testdata, and .flash is
// generated output.
func CheckClientDir(dir string) error {
	if dir == "" {
		return errors.New("the client directory is empty")
	}
	if path.IsAbs(dir) || strings.Contains(dir, `\`) || path.Clean(dir) != dir || dir == "." || strings.HasPrefix(dir, "../") || dir == ".." {
		return fmt.Errorf("client directory %q: want a clean slash-separated path inside the module, such as %s", dir, DefaultClientDir)
	}
	for _, elem := range strings.Split(dir, "/") {
		if strings.HasPrefix(elem, ".") || strings.HasPrefix(elem, "_") || elem == "testdata" || elem == "vendor" {
			return fmt.Errorf("client directory %q: the go tool does not build packages under %q", dir, elem)
		}
	}
	return nil
}

// ClientFile returns the path of the client of resource name inside the
// module, slash-separated: <clientDir>/<dir>/client.go.
func ClientFile(clientDir, name string) string {
	return path.Join(clientDir, model.DirName(name), ClientFileName)
}

// ClientImportPath returns the import path of the client package of
// resource name in module.
func ClientImportPath(module, clientDir, name string) string {
	return module + "/" + path.Join(clientDir, model.DirName(name))
}

// ClientPackage returns the package name of the client of resource name:
// its directory name made a Go identifier ("test-api" → test_api,
// "03_cpu" → pkg03_cpu).
func ClientPackage(name string) string {
	dir := model.DirName(name)
	return identifier(dir, dir)
}

// ClientMethods returns the name of each function's client method, fns
// sorted as in the manifest: the function's name, or its package name and
// name when several functions of the resource share a name.
func ClientMethods(fns []*model.Function) []string {
	count := make(map[string]int)
	for _, f := range fns {
		count[f.Name]++
	}
	names := make([]string, len(fns))
	taken := map[string]bool{"Caller": true} // the embedded runtime.Caller
	for i, f := range fns {
		n := f.Name
		if count[n] > 1 {
			n = exportedName(identifier(f.PkgName, f.Pkg)) + n
		}
		base := n
		for k := 2; taken[n]; k++ {
			n = base + strconv.Itoa(k)
		}
		taken[n] = true
		names[i] = n
	}
	return names
}

// ClientFunctions maps each method of the typed client that Generate
// writes for the resource named name to the function it calls: the
// language server's hover and go-to-definition on client calls read the
// methods from here rather than from the generated source. It is empty
// when p has no such resource.
func ClientFunctions(p *Project, name string) map[string]*model.Function {
	resources, byRes, err := selectProject(p)
	if err != nil {
		return nil
	}
	for _, r := range resources {
		if r.Name != name {
			continue
		}
		fns := byRes[r]
		out := make(map[string]*model.Function, len(fns))
		for i, m := range ClientMethods(fns) {
			out[m] = fns[i]
		}
		return out
	}
	return nil
}

func exportedName(s string) string {
	s = strings.TrimLeft(s, "_")
	if s == "" {
		return "Pkg"
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// Client renders the typed client package of resource r: a Client type
// whose methods call r's functions (fns sorted as in the manifest) with
// their own parameter and result types, through runtime.Caller. It
// imports context, runtime and the packages declaring those types, and
// nothing else, so that it never adds an import of its own to a user
// package's dependencies.
func Client(r *model.Resource, fns []*model.Function) ([]byte, error) {
	im := &imports{
		names:   make(map[string]string),
		aliases: map[string]string{"context": "context", "iter": "iter", model.RuntimePath: "runtime"},
		used:    map[string]bool{model.RuntimePath: true},
		taken:   map[string]bool{"context": true, "iter": true, "runtime": true},
	}
	// The identifiers of the generated code that an import must not shadow.
	for _, id := range []string{"c", "ctx", "result", "err", "Client", "Resource"} {
		im.taken[id] = true
	}
	methods := ClientMethods(fns)
	for i, f := range fns {
		im.taken[descriptorName(methods[i])] = true
		im.use("context")
		for _, p := range f.Params {
			if p.Type == nil {
				return nil, fmt.Errorf("codegen: parameter %s of %s has no type", p.Name, f.Qualified)
			}
			im.addTypes(p.Type)
		}
		if f.Result != nil {
			im.addTypes(f.Result)
		}
		if f.Stream {
			im.use("iter")
		}
	}
	im.assign()

	// Like handlers, clients are written gofmt-clean without go/format,
	// which would cost more than the rest of generate on a large project:
	// the declarations are indented by brace depth, literals kept on one
	// line.
	var out bytes.Buffer
	b := &out
	pkg := ClientPackage(r.Name)
	fmt.Fprintf(b, "%s\n\n", model.GeneratedHeader)
	fmt.Fprintf(b, "// Package %s calls the functions of the Flash resource %q\n", pkg, r.Name)
	fmt.Fprintf(b, "// (%s, %s).\n", r.ResourceType(), kindText(r))
	b.WriteString("//\n")
	b.WriteString("// A call goes to the first of: the Client's BaseURL; this process, when\n")
	fmt.Fprintf(b, "// it serves %s (its own handler, or flash-lsp run --all);\n", commentName(r.Name))
	fmt.Fprintf(b, "// $FLASH_ENDPOINT_URL_%s; $FLASH_ENDPOINT_ID_%s; the\n", runtime.EnvSuffix(r.Name), runtime.EnvSuffix(r.Name))
	b.WriteString("// endpoints of the mothership's manifest ($FLASH_MOTHERSHIP_URL or\n")
	b.WriteString("// $FLASH_MOTHERSHIP_ID). See runtime.Caller.\n")
	fmt.Fprintf(b, "package %s\n\n", pkg)
	im.write(b)

	var body bytes.Buffer
	body.WriteString("\n// Resource is the name of the resource whose functions Client calls.\n")
	fmt.Fprintf(&body, "const Resource = %s\n\n", strconv.Quote(r.Name))
	fmt.Fprintf(&body, "// Client calls the functions of %s. Its zero value is ready to use;\n", commentName(r.Name))
	body.WriteString("// the fields of runtime.Caller set an explicit base URL, the API key,\n")
	body.WriteString("// the HTTP client and the timeout.\n")
	body.WriteString("type Client struct {\nruntime.Caller\n}\n")
	for i, f := range fns {
		if err := clientMethod(&body, im, r, f, methods[i]); err != nil {
			return nil, err
		}
	}
	return finish(&out, body.Bytes(), im, "the client of "+r.Name)
}

func descriptorName(method string) string { return "remote" + method }

// clientMethod writes the descriptor and the method calling f.
func clientMethod(b *bytes.Buffer, im *imports, r *model.Resource, f *model.Function, method string) error {
	desc := descriptorName(method)
	wire := make([]string, len(f.Params))
	for i, p := range f.Params {
		wire[i] = strconv.Quote(p.Name)
	}
	fmt.Fprintf(b, "\nvar %s = &runtime.RemoteFunc{Resource: Resource", desc)
	if r.LoadBalanced() {
		b.WriteString(", LoadBalanced: true")
	}
	fmt.Fprintf(b, ", Name: %s", strconv.Quote(f.Qualified))
	if r.LoadBalanced() {
		fmt.Fprintf(b, ", Method: %s, Path: %s", strconv.Quote(f.Method), strconv.Quote(f.Path))
	}
	if len(wire) > 0 {
		fmt.Fprintf(b, ", Params: []string{%s}", strings.Join(wire, ", "))
	}
	b.WriteString("}\n\n")

	// Parameter names are the function's own unless they would shadow an
	// identifier of the method's body.
	locals := make(map[string]bool)
	params := make([]string, len(f.Params))
	args := make([]string, len(f.Params))
	for i, p := range f.Params {
		n := p.Name
		if n == "_" || !token.IsIdentifier(n) {
			n = "arg" + strconv.Itoa(i)
		}
		for im.taken[n] || locals[n] {
			n += "_"
		}
		locals[n] = true
		params[i] = n + " " + im.typeString(p.Type)
		args[i] = n
	}
	route := "a queue job (/runsync)"
	if f.Stream {
		route = "a queue job (/run, values from /stream/{id})"
	}
	if r.LoadBalanced() {
		route = f.Method + " " + f.Path
	}
	fmt.Fprintf(b, "// %s calls %s on %s: %s.\n", method, f.Qualified, commentName(r.Name), route)
	sig := strings.Join(append([]string{"ctx context.Context"}, params...), ", ")
	argList := "nil"
	if len(args) > 0 {
		argList = "[]any{" + strings.Join(args, ", ") + "}"
	}
	if f.Stream {
		// SPEC 18: the values as they arrive; breaking the loop stops
		// the call.
		b.WriteString("// It streams the function's values; breaking the loop stops the call.\n")
		item := im.typeString(f.Result)
		fmt.Fprintf(b, "func (c *Client) %s(%s) iter.Seq2[%s, error] {\n", method, sig, item)
		fmt.Fprintf(b, "return runtime.CallStream[%s](ctx, &c.Caller, %s, %s)\n}\n", item, desc, argList)
		return nil
	}
	if f.Result == nil {
		fmt.Fprintf(b, "func (c *Client) %s(%s) error {\n", method, sig)
		fmt.Fprintf(b, "return c.Caller.Call(ctx, %s, %s, nil)\n}\n", desc, argList)
		return nil
	}
	fmt.Fprintf(b, "func (c *Client) %s(%s) (%s, error) {\n", method, sig, im.typeString(f.Result))
	fmt.Fprintf(b, "var result %s\n", im.typeString(f.Result))
	fmt.Fprintf(b, "err := c.Caller.Call(ctx, %s, %s, &result)\n", desc, argList)
	b.WriteString("return result, err\n}\n")
	return nil
}

// commentName is a resource name as written in a comment: as it is when
// it quotes as itself, else quoted, so that a newline or another control
// character in a name cannot end the comment.
func commentName(name string) string {
	if q := strconv.Quote(name); q[1:len(q)-1] != name {
		return q
	}
	return name
}
