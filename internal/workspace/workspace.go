// Package workspace generates the synthetic Flash module that flash-lsp's
// benchmarks run on (SPEC section 11): N packages of M remote functions
// over R resources, mixing load-balanced and queue resources, GET routes
// with path variables and query parameters, POST routes with JSON bodies
// and struct types. The output is deterministic and clean under
// `flash-lsp check`, so that a benchmark measures analysis, not reporting.
package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"strings"
)

// Options size the generated module. The zero value is SPEC section 11's
// workspace: 100 packages × 20 functions over 3 resources.
type Options struct {
	// Module is the module path (default example.com/bench).
	Module string
	// Packages is the number of packages holding remote functions
	// (default 100).
	Packages int
	// Functions is the number of remote functions per package (default 20).
	Functions int
	// Resources is the number of resources (default 3). Every third
	// resource, starting with the second, is a queue resource; the others
	// are load balancers.
	Resources int
	// Replace is the directory of the flash-lsp module, written as the
	// replace target of github.com/flash-lsp/flash-lsp (required). Its
	// go.sum is copied, so the module builds offline from the module cache.
	Replace string
}

func (o *Options) defaults() error {
	if o.Module == "" {
		o.Module = "example.com/bench"
	}
	if o.Packages == 0 {
		o.Packages = 100
	}
	if o.Functions == 0 {
		o.Functions = 20
	}
	if o.Resources == 0 {
		o.Resources = 3
	}
	if o.Packages < 0 || o.Functions < 0 || o.Resources < 0 {
		return errors.New("workspace: negative size")
	}
	if o.Replace == "" {
		return errors.New("workspace: Options.Replace (the flash-lsp module directory) is required")
	}
	abs, err := filepath.Abs(o.Replace)
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	o.Replace = abs
	return nil
}

// Queue reports whether resource i is a queue resource.
func Queue(i int) bool { return i%3 == 1 }

// Generate writes the module into dir, which it creates if needed. Files
// it would write that exist are replaced; nothing else in dir is touched.
func Generate(dir string, opts Options) error {
	if err := opts.defaults(); err != nil {
		return err
	}
	files, err := moduleFiles(opts.Module, opts.Replace)
	if err != nil {
		return err
	}
	files["res/res.go"] = resources(opts)
	files["shared/shared.go"] = []byte(sharedSrc)
	for p := range opts.Packages {
		files[filepath.Join(pkgName(p), pkgName(p)+".go")] = pkg(opts, p)
	}
	return write(dir, files, true)
}

// WriteModule writes a module named module into dir: a go.mod that
// replaces github.com/flash-lsp/flash-lsp with the directory replace (and
// lists its requirements, so that the module builds offline), its go.sum,
// and files (slash-separated names relative to dir → contents), which
// are written as given, malformed or not. Tests use it to build small
// projects.
func WriteModule(dir, module, replace string, files map[string]string) error {
	abs, err := filepath.Abs(replace)
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	all, err := moduleFiles(module, abs)
	if err != nil {
		return err
	}
	for name, src := range files {
		all[filepath.FromSlash(name)] = []byte(src)
	}
	return write(dir, all, false)
}

// moduleFiles returns go.mod and go.sum for a module that uses the
// flash-lsp module at replace.
func moduleFiles(module, replace string) (map[string][]byte, error) {
	mod, err := os.ReadFile(filepath.Join(replace, "go.mod"))
	if err != nil {
		return nil, fmt.Errorf("workspace: reading the flash-lsp go.mod: %w", err)
	}
	sum, err := os.ReadFile(filepath.Join(replace, "go.sum"))
	if err != nil {
		return nil, fmt.Errorf("workspace: reading the flash-lsp go.sum: %w", err)
	}
	var gomod bytes.Buffer
	fmt.Fprintf(&gomod, "module %s\n\ngo 1.26.0\n\nrequire github.com/flash-lsp/flash-lsp v0.0.0\n\n", module)
	// The module graph needs flash-lsp's requirements too; listing them
	// all (indirect) keeps plain `go build` working without network.
	if reqs := requirements(mod); len(reqs) > 0 {
		gomod.WriteString("require (\n")
		for _, r := range reqs {
			fmt.Fprintf(&gomod, "\t%s // indirect\n", r)
		}
		gomod.WriteString(")\n\n")
	}
	fmt.Fprintf(&gomod, "replace github.com/flash-lsp/flash-lsp => %s\n", replace)
	return map[string][]byte{"go.mod": gomod.Bytes(), "go.sum": sum}, nil
}

// write writes files into dir, formatting Go sources when gofmt is set.
func write(dir string, files map[string][]byte, gofmt bool) error {
	for name, data := range files {
		if gofmt && strings.HasSuffix(name, ".go") {
			src, err := format.Source(data)
			if err != nil {
				return fmt.Errorf("workspace: formatting %s: %w", name, err)
			}
			data = src
		}
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("workspace: %w", err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return fmt.Errorf("workspace: %w", err)
		}
	}
	return nil
}

// requirements returns the "path version" requirements of a go.mod file.
func requirements(gomod []byte) []string {
	var out []string
	block := false
	for line := range strings.Lines(string(gomod)) {
		line, _, _ = strings.Cut(line, "//")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case block && f[0] == ")":
			block = false
		case block && len(f) == 2:
			out = append(out, f[0]+" "+f[1])
		case f[0] == "require" && len(f) == 2 && f[1] == "(":
			block = true
		case f[0] == "require" && len(f) == 3:
			out = append(out, f[1]+" "+f[2])
		}
	}
	return out
}

func pkgName(p int) string { return fmt.Sprintf("p%03d", p) }

func resVar(r int) string { return fmt.Sprintf("R%d", r) }

var lbTypes = []string{"LoadBalancer", "CPULiveLoadBalancer", "LiveLoadBalancer", "CPULoadBalancer"}
var queueTypes = []string{"LiveServerless", "Serverless", "CPULiveServerless", "CPUServerless"}

func resources(o Options) []byte {
	var b bytes.Buffer
	b.WriteString("// Package res declares the benchmark's resources.\npackage res\n\nimport \"github.com/flash-lsp/flash-lsp/runtime\"\n\n")
	for r := range o.Resources {
		typ := lbTypes[r%len(lbTypes)]
		if Queue(r) {
			typ = queueTypes[r%len(queueTypes)]
		}
		fmt.Fprintf(&b, "// %s is resource %d.\nvar %s = runtime.%s{Name: \"bench-%d\", WorkersMin: 0, WorkersMax: %d, IdleTimeout: 30}\n\n",
			resVar(r), r, resVar(r), typ, r, 2+r%3)
	}
	return b.Bytes()
}

const sharedSrc = `// Package shared holds types that every benchmark package uses.
package shared

import "time"

// Meta describes a record.
type Meta struct {
	Owner   string            ` + "`json:\"owner\"`" + `
	Labels  map[string]string ` + "`json:\"labels,omitempty\"`" + `
	Created time.Time         ` + "`json:\"created\"`" + `
}

// Page selects a window of a listing.
type Page struct {
	Offset int ` + "`json:\"offset\"`" + `
	Limit  int ` + "`json:\"limit\"`" + `
}
`

// pkg writes package p: its own struct types and o.Functions functions
// spread over the resources.
func pkg(o Options, p int) []byte {
	name := pkgName(p)
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Package %s is benchmark package %d.\npackage %s\n\n", name, p, name)
	b.WriteString("import (\n\t\"context\"\n\t\"errors\"\n\t\"fmt\"\n\t\"strings\"\n\n\t\"" + o.Module + "/shared\"\n")
	if o.Resources > 0 {
		b.WriteString("\t_ \"" + o.Module + "/res\"\n")
	}
	b.WriteString(")\n\n")
	fmt.Fprintf(&b, `// Record is what the functions of %[1]s store.
type Record struct {
	ID     string      `+"`json:\"id\"`"+`
	Name   string      `+"`json:\"name\"`"+`
	Score  float64     `+"`json:\"score\"`"+`
	Tags   []string    `+"`json:\"tags,omitempty\"`"+`
	Meta   shared.Meta `+"`json:\"meta\"`"+`
	Parent *Record     `+"`json:\"parent,omitempty\"`"+`
}

// Summary is the result of the queue functions of %[1]s.
type Summary struct {
	Count int     `+"`json:\"count\"`"+`
	Total float64 `+"`json:\"total\"`"+`
	Text  string  `+"`json:\"text\"`"+`
}

var errEmpty = errors.New("%[1]s: empty input")

func describe(r Record) string {
	return fmt.Sprintf("%%s/%%s (%%.2f) %%s", r.ID, r.Name, r.Score, strings.Join(r.Tags, ","))
}

`, name)
	if o.Resources == 0 {
		return b.Bytes()
	}
	for f := range o.Functions {
		r := (p*o.Functions + f) % o.Resources
		fn := fmt.Sprintf("P%03dF%02d", p, f)
		res := "res." + resVar(r)
		seg := fmt.Sprintf("/%s/f%02d", name, f)
		switch {
		case Queue(r):
			fmt.Fprintf(&b, `// %[1]s sums values.
//
//flash:remote %[2]s
func %[1]s(ctx context.Context, label string, values []float64, weight *float64) (Summary, error) {
	if len(values) == 0 {
		return Summary{}, errEmpty
	}
	w := 1.0
	if weight != nil {
		w = *weight
	}
	s := Summary{Count: len(values), Text: label}
	for _, v := range values {
		s.Total += v * w
	}
	return s, ctx.Err()
}

`, fn, res)
		case f%2 == 0:
			fmt.Fprintf(&b, `// %[1]s reads a record.
//
//flash:remote %[2]s method=GET path=%[3]s/{id}/items/{n:[0-9]+}
func %[1]s(ctx context.Context, id string, n int, verbose bool, tags []string, limit *int) (Record, error) {
	r := Record{ID: id, Name: fmt.Sprint(n), Tags: tags}
	if limit != nil && len(r.Tags) > *limit {
		r.Tags = r.Tags[:*limit]
	}
	if verbose {
		r.Name = describe(r)
	}
	return r, ctx.Err()
}

`, fn, res, seg)
		default:
			fmt.Fprintf(&b, `// %[1]s stores a record.
//
//flash:remote %[2]s method=POST path=%[3]s
func %[1]s(ctx context.Context, record Record, page shared.Page, note *string) ([]Record, error) {
	if record.ID == "" {
		return nil, errEmpty
	}
	if note != nil {
		record.Tags = append(record.Tags, *note)
	}
	out := make([]Record, 0, page.Limit)
	for i := range page.Limit {
		c := record
		c.ID = fmt.Sprintf("%%s-%%d", record.ID, page.Offset+i)
		out = append(out, c)
	}
	return out, ctx.Err()
}

`, fn, res, seg)
		}
	}
	return b.Bytes()
}
