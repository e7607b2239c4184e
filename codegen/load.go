package codegen

import (
	"context"
	"path/filepath"
	"sort"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/engine"
	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/project"
	"github.com/flash-lsp/flash-lsp/analysis/report"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// Loaded is a module loaded and checked for code generation.
type Loaded struct {
	// Project is what Generate reads; Module is the full analysis result.
	Project *Project
	Module  *project.Project
	// Findings are the findings of the whole module, sorted.
	Findings []finding.Finding
	// Packages and Functions count the module's packages and remote
	// functions ("✓ Checked 40 functions in 12 packages").
	Packages, Functions int
}

// Load loads and checks the whole module containing dir, with the files the
// target platform sees (GOOS, GOARCH, CGO_ENABLED=0), so that the manifest
// and the compiled handlers agree.
func Load(ctx context.Context, dir string, t Target) (*Loaded, error) {
	return LoadOverlay(ctx, dir, t, nil)
}

// LoadOverlay is Load with overlay (absolute file name → contents)
// replacing files on disk: the language server's flash.generate loads
// its unsaved buffers for the same target as `flash-lsp generate`.
func LoadOverlay(ctx context.Context, dir string, t Target, overlay map[string][]byte) (*Loaded, error) {
	root, _, _, err := engine.FindModule(dir)
	if err != nil {
		return nil, err
	}
	p, err := project.Load(ctx, project.Config{Dir: root, Env: t.Env(), Overlay: overlay})
	if err != nil {
		return nil, err
	}
	return &Loaded{
		Project:   FromProject(p),
		Module:    p,
		Findings:  p.Findings,
		Packages:  len(p.Packages),
		Functions: len(p.AllFunctions()),
	}, nil
}

// FromProject returns what Generate needs of a loaded project.
func FromProject(p *project.Project) *Project {
	return &Project{
		Root:      p.Root,
		Module:    p.Module,
		Resources: p.Resources(),
		Functions: p.AllFunctions(),
		Docs:      model.CollectDocs(p.Packages),
	}
}

// FromModels returns what Generate needs of the joined models of a
// module's packages: the language server calls it with its snapshot's.
func FromModels(root, module string, pkgs []*model.Package) *Project {
	p := &Project{Root: root, Module: module, Docs: model.CollectDocs(pkgs)}
	seen := map[string]bool{}
	add := func(r *model.Resource) {
		if r != nil && !seen[r.Ref()] {
			seen[r.Ref()] = true
			p.Resources = append(p.Resources, r)
		}
	}
	for _, mp := range pkgs {
		for _, r := range mp.Resources {
			add(r)
		}
		p.Functions = append(p.Functions, mp.Functions...)
	}
	for _, f := range p.Functions {
		add(f.Resource)
	}
	return p
}

// Blocking returns the findings that stop generation: errors other than
// compile errors, since stale generated code can be what does not compile.
// With compile set, compile errors block too (build and run compile).
func (l *Loaded) Blocking(compile bool) []finding.Finding {
	return Blocking(l.Findings, compile)
}

// Blocking returns the findings among fs that stop generation (see
// Loaded.Blocking).
func Blocking(fs []finding.Finding, compile bool) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Severity == rules.Error && (compile || f.Rule != rules.Compile) {
			out = append(out, f)
		}
	}
	return out
}

// FormatFinding formats f as `check` does, warnings and errors alike:
// file:line:col: message [rule], the file relative to dir.
func (l *Loaded) FormatFinding(dir string, f finding.Finding) string {
	var b strings.Builder
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if err := report.Write(&b, "text", []finding.Finding{f}, report.Options{Dir: dir}); err != nil {
		return f.File + ": " + f.Message + " [" + f.Rule + "]"
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Resource finds a resource of the result by its directory name or its
// Name, as `flash-lsp run RESOURCE` accepts either.
func (r *Result) Resource(arg string) (dir, name string, ok bool) {
	if name, ok := r.Handlers[arg]; ok {
		return arg, name, true
	}
	for d, n := range r.Handlers {
		if n == arg {
			return d, n, true
		}
	}
	return "", "", false
}

// ResourceList lists the resources' directory names, sorted, for messages.
func (r *Result) ResourceList() string {
	dirs := sortedKeys(r.Handlers)
	if len(dirs) == 0 {
		return "none"
	}
	sort.Strings(dirs)
	return strings.Join(dirs, ", ")
}
