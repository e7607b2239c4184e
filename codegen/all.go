package codegen

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// AllDir holds the main package of `flash-lsp run --all` while it is
// compiled, relative to the module root.
const AllDir = BuildDir + "/all"

// DefaultAllPort is the port `flash-lsp run --all` serves on.
const DefaultAllPort = 8888

// AllMain renders the main package that `flash-lsp run --all` builds: one
// process serving every resource of res with runtime.ServeAll, each under
// /<dir>, deployed resources converted to their live type (POST /execute
// on). The typed clients of the process find every resource in process.
func AllMain(res *Result) ([]byte, error) {
	dirs := sortedKeys(res.Handlers)
	sort.Strings(dirs)
	g := &handlerGen{im: newImports()}
	for _, id := range []string{"mounts"} {
		g.im.taken[id] = true
	}
	calls := make(map[*model.Function]string)
	for i, dir := range dirs {
		in := res.inputs[dir]
		g.im.taken["functions"+strconv.Itoa(i)] = true
		g.im.taken["openAPI"+strconv.Itoa(i)] = true
		if !literalResource(in.res) {
			g.im.add(in.res.Pkg, in.res.PkgName)
		}
		if len(in.fns) > 0 {
			g.im.use("context") // the adapters' parameter
		}
		for _, f := range in.fns {
			name := "call" + f.Name
			for n := 2; g.im.taken[name]; n++ {
				name = fmt.Sprintf("call%s%d", f.Name, n)
			}
			g.im.taken[name] = true
			calls[f] = name
			g.im.add(f.Pkg, f.PkgName)
			for _, p := range f.Params {
				if p.Type == nil {
					return nil, fmt.Errorf("codegen: parameter %s of %s has no type", p.Name, f.Qualified)
				}
				g.im.addTypes(p.Type)
			}
		}
	}
	g.im.assign()

	var out bytes.Buffer
	fmt.Fprintf(&out, "%s\n\n", model.GeneratedHeader)
	out.WriteString("// Command all serves every Flash resource of the module in one process,\n")
	out.WriteString("// each under /<dir>, with live behaviour: it is what flash-lsp run --all builds.\n")
	out.WriteString("package main\n\n")
	g.im.write(&out)
	out.WriteString("\n// manifest is the project's flash_manifest.json without generated_at.\n")
	fmt.Fprintf(&out, "const manifest = %s\n\n", goString(res.embedded))
	for i, dir := range dirs {
		if doc := res.inputs[dir].openAPI; doc != nil {
			fmt.Fprintf(&out, "// openAPI%d is the OpenAPI document of %q, served at /%s/openapi.json.\n", i, res.inputs[dir].res.Name, dir)
			fmt.Fprintf(&out, "const openAPI%d = %s\n\n", i, goString(doc))
		}
	}

	b := &g.buf
	b.WriteString("func main() {\nmounts := []runtime.Mount{\n")
	for i, dir := range dirs {
		r := res.inputs[dir].res
		resource := resourceExpr(r, g.im, true)
		doc := ""
		if res.inputs[dir].openAPI != nil {
			doc = fmt.Sprintf(", OpenAPI: []byte(openAPI%d)", i)
		}
		fmt.Fprintf(b, "{Prefix: %s, App: runtime.App{Resource: %s, Functions: functions%d, Manifest: []byte(manifest)%s}},\n",
			strconv.Quote("/"+dir), resource, i, doc)
	}
	b.WriteString("}\n")
	b.WriteString("if err := runtime.ServeAll(mounts); err != nil {\n")
	b.WriteString("fmt.Fprintln(os.Stderr, \"flash-lsp run --all:\", err)\nos.Exit(1)\n}\n}\n")
	for i, dir := range dirs {
		in := res.inputs[dir]
		fmt.Fprintf(b, "\n// functions%d are the remote functions of %q.\n", i, in.res.Name)
		fmt.Fprintf(b, "var functions%d = []runtime.Function{\n", i)
		for _, f := range in.fns {
			g.entry(in.res, f, calls[f])
		}
		b.WriteString("}\n")
	}
	for _, dir := range dirs {
		for _, f := range res.inputs[dir].fns {
			if err := g.adapter(f, calls[f]); err != nil {
				return nil, err
			}
		}
	}
	// This program is small and written for reading, not speed: it goes
	// through go/format whole.
	g.im.needFormat = true
	return finish(&out, b.Bytes(), g.im, "the run --all main package")
}

// CompileAll writes AllMain under .flash/.build/all, compiles it to out
// for t, and removes the source.
func CompileAll(ctx context.Context, res *Result, out string, t Target) error {
	src, err := AllMain(res)
	if err != nil {
		return err
	}
	return compileSource(ctx, res, AllDir, src, out, t)
}

// A Route is one entry of the table `flash-lsp run --all` prints.
type Route struct {
	Resource string // the resource's name
	Method   string // "GET"; "POST" for queue functions (/runsync)
	Path     string // under the resource's prefix: "/test-api/items/{id}"
	Function string // qualified name
	Curl     string // an example request against base
}

// Routes lists the routes of every resource of res as served under
// base by `flash-lsp run --all`: load-balanced functions on their route
// under /<dir>, queue functions through /<dir>/runsync. Resources are
// sorted by directory, functions as in the manifest.
func Routes(res *Result, base string) []Route {
	dirs := sortedKeys(res.Handlers)
	sort.Strings(dirs)
	var out []Route
	for _, dir := range dirs {
		in := res.inputs[dir]
		for _, f := range in.fns {
			rt := Route{Resource: in.res.Name, Function: f.Qualified}
			if in.res.LoadBalanced() {
				rt.Method, rt.Path = f.Method, "/"+dir+f.Path
			} else {
				rt.Method, rt.Path = "POST", "/"+dir+"/runsync"
			}
			rt.Curl = exampleCurl(base, dir, in.res, f)
			out = append(out, rt)
		}
	}
	return out
}

// RouteTable renders Routes as the aligned table `flash-lsp run --all`
// prints at startup.
func RouteTable(res *Result, base string) string {
	routes := Routes(res, base)
	wm, wp := 0, 0
	for _, r := range routes {
		wm, wp = max(wm, len(r.Method)), max(wp, len(r.Path))
	}
	var b strings.Builder
	last := ""
	for _, r := range routes {
		if r.Resource != last {
			fmt.Fprintf(&b, "  %s\n", r.Resource)
			last = r.Resource
		}
		fmt.Fprintf(&b, "    %-*s %-*s  %s\n", wm, r.Method, wp, r.Path, r.Curl)
	}
	return b.String()
}

// exampleCurl is an example request for f under base/dir.
func exampleCurl(base, dir string, r *model.Resource, f *model.Function) string {
	method, path := f.Method, f.Path
	if !r.LoadBalanced() {
		method, path = "", ""
	}
	return model.NewExample(base+"/"+dir, f, method, path).Curl()
}
