package project

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/report"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
	"github.com/flash-lsp/flash-lsp/internal/workspace"
)

func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, _ := goruntime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

func projectDir(t testing.TB, name string) string {
	return filepath.Join(repoRoot(t), "testdata", "projects", name)
}

// writeModule writes a module using this repository's flash-lsp.
func writeModule(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := workspace.WriteModule(dir, "example.com/m", repoRoot(t), files); err != nil {
		t.Fatal(err)
	}
	return dir
}

func load(t *testing.T, cfg Config) *Project {
	t.Helper()
	p, err := Load(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p
}

func TestLoadQuickstart(t *testing.T) {
	p := load(t, Config{Dir: projectDir(t, "quickstart")})
	for _, f := range p.Findings {
		t.Errorf("unexpected finding %s: %s [%s]", where(f), f.Message, f.Rule)
	}
	if p.Module != "example.com/quickstart" || p.HasErrors() || p.Cached {
		t.Errorf("Module = %q, HasErrors = %t, Cached = %t", p.Module, p.HasErrors(), p.Cached)
	}
	var paths []string
	for _, pkg := range p.Packages {
		paths = append(paths, pkg.Path)
	}
	wantPaths := []string{"example.com/quickstart/cpu",
		"example.com/quickstart/flashclient/03_05_load_balancer_cpu", "example.com/quickstart/flashclient/03_05_load_balancer_gpu",
		"example.com/quickstart/flashclient/jobs", "example.com/quickstart/flashclient/test-api",
		"example.com/quickstart/gpu", "example.com/quickstart/items",
		"example.com/quickstart/jobs", "example.com/quickstart/report", "example.com/quickstart/res"}
	if !slices.Equal(paths, wantPaths) {
		t.Errorf("packages = %v, want %v", paths, wantPaths)
	}
	var names []string
	for _, r := range p.Resources() {
		names = append(names, r.Name)
	}
	if want := []string{"03_05_load_balancer_cpu", "03_05_load_balancer_gpu", "jobs", "test-api"}; !slices.Equal(names, want) {
		t.Fatalf("resources = %v, want %v", names, want)
	}
	resPkg := p.Package("example.com/quickstart/res")
	if resPkg == nil {
		t.Fatal("no package res")
	}
	wantFuncs := map[string][]string{
		"03_05_load_balancer_cpu": {"HealthCheck", "Validate", "Transform", "Summarize"},
		"03_05_load_balancer_gpu": {"HealthCheck", "Compute", "WorkerInfo"},
		"jobs":                    {"WordCount", "Reverse"},
		"test-api":                {"GetItem"},
	}
	for _, r := range p.Resources() {
		if !slices.Contains(resPkg.Resources, r) {
			t.Errorf("resource %s is not the res package's own *model.Resource", r.Ref())
		}
		var got []string
		for _, f := range p.Functions(r) {
			got = append(got, f.Name)
			if f.Resource != r || !f.Valid {
				t.Errorf("%s: Resource = %p (want %p), Valid = %t", f.Qualified, f.Resource, r, f.Valid)
			}
		}
		if !slices.Equal(got, wantFuncs[r.Name]) {
			t.Errorf("functions of %s = %v, want %v", r.Name, got, wantFuncs[r.Name])
		}
	}
	if n := len(p.AllFunctions()); n != 10 || p.NumFunctions() != 10 || p.NumPackages() != 10 {
		t.Errorf("AllFunctions = %d, NumFunctions = %d, NumPackages = %d", n, p.NumFunctions(), p.NumPackages())
	}
}

// TestLoadBroken checks that the broken example breaks every rule of SPEC
// section 4, and how the whole-module rules report.
func TestLoadBroken(t *testing.T) {
	p := load(t, Config{Dir: projectDir(t, "broken")})
	seen := make(map[string]int)
	for _, f := range p.Findings {
		seen[f.Rule]++
		if f.Severity != rules.SeverityOf(f.Rule) {
			t.Errorf("%s has severity %v", f.Rule, f.Severity)
		}
		if !filepath.IsAbs(f.File) || f.Start < 0 || f.End < f.Start {
			t.Errorf("bad position %s-%d for %s", where(f), f.End, f.Rule)
		}
	}
	for _, r := range rules.All {
		if r.ID == rules.ClientCycle {
			continue // no typed clients yet
		}
		if seen[r.ID] == 0 {
			t.Errorf("no %s finding", r.ID)
		}
	}
	if seen[rules.RouteConflict] != 2 {
		t.Errorf("%d route-conflict findings, want 2", seen[rules.RouteConflict])
	}
	if seen[rules.Compile] != 1 {
		t.Errorf("%d compile findings, want 1 (the type checker's and the compiler's collapse)", seen[rules.Compile])
	}
	// A directive in a _test.go file is reported once, not per test variant.
	n := 0
	for _, f := range p.Findings {
		if strings.HasSuffix(f.File, "_test.go") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d findings in _test.go files, want 1", n)
	}
	for _, fn := range p.AllFunctions() {
		if fn.Name == "GetItem" || fn.Name == "FetchItem" {
			if fn.Valid {
				t.Errorf("%s is in a route conflict but Valid", fn.Qualified)
			}
		}
	}
	if !p.HasErrors() {
		t.Error("HasErrors = false")
	}
}

func TestLoadPatternsFilterFindings(t *testing.T) {
	dir := projectDir(t, "broken")
	p := load(t, Config{Dir: dir, Patterns: []string{"./left"}})
	if len(p.Findings) == 0 {
		t.Fatal("no findings in ./left")
	}
	var conflict *finding.Finding
	for i, f := range p.Findings {
		if filepath.Dir(f.File) != filepath.Join(dir, "left") {
			t.Errorf("finding outside ./left: %s", where(f))
		}
		if f.Rule == rules.RouteConflict {
			conflict = &p.Findings[i]
		}
	}
	// The conflict with package right, which ./left does not import, is
	// found because whole-module rules see the whole module.
	if conflict == nil || len(conflict.Related) != 1 || filepath.Base(conflict.Related[0].File) != "right.go" {
		t.Errorf("route conflict with package right: %+v", conflict)
	}
	// A directory pattern from a subdirectory.
	p = load(t, Config{Dir: filepath.Join(dir, "api"), Patterns: []string{"."}})
	for _, f := range p.Findings {
		if filepath.Dir(f.File) != filepath.Join(dir, "api") {
			t.Errorf("finding outside api: %s", f.File)
		}
	}
	if len(p.Findings) < 10 {
		t.Errorf("%d findings in api", len(p.Findings))
	}
}

func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Load(ctx, Config{Dir: t.TempDir()}); !errors.Is(err, ErrNoModule) {
		t.Errorf("no go.mod: err = %v, want ErrNoModule", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "go.mod"), []byte("module example.com/bad\n\nrequire (\n"), 0o644)
	if _, err := Load(ctx, Config{Dir: bad}); err == nil {
		t.Error("malformed go.mod: no error")
	}
	if _, err := Load(ctx, Config{Dir: projectDir(t, "quickstart"), Patterns: []string{"./nothing-here"}}); err == nil {
		t.Error("pattern naming no package: no error")
	}
	if _, err := Load(ctx, Config{Dir: projectDir(t, "quickstart"), Patterns: []string{"fmt"}}); err == nil ||
		!strings.Contains(err.Error(), "not in module") {
		t.Errorf("package of another module: err = %v", err)
	}
}

func TestLoadSkipsFlashAndTestVariants(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"res/res.go": `package res

import "github.com/flash-lsp/flash-lsp/runtime"

var Q = runtime.LiveServerless{Name: "q"}
`,
		"a/a.go": `package a

import _ "example.com/m/res"

//flash:remote res.Q
func Work(n int) int { return n }
`,
		"a/a_test.go": `package a

import "testing"

//flash:remote res.Q
func helper() {}

func TestWork(t *testing.T) { helper() }
`,
		"a/x_test.go": `package a_test

import "testing"

//flash:remote res.Q
func Helper() {}

func TestX(t *testing.T) { Helper() }
`,
		".flash/handlers/q/main.go": `package main

//flash:remote nothing method=bad
func main() {}
`,
	})
	p := load(t, Config{Dir: dir})
	var got []string
	for _, f := range p.Findings {
		rel, _ := filepath.Rel(dir, f.File)
		got = append(got, rel+" "+f.Rule)
	}
	want := []string{"a/a_test.go misplaced-directive", "a/x_test.go misplaced-directive"}
	if !slices.Equal(got, want) {
		t.Errorf("findings = %v, want %v", got, want)
	}
	fns := p.AllFunctions()
	if len(fns) != 1 || fns[0].Name != "Work" || !fns[0].Valid {
		t.Errorf("functions = %v, want Work only", fns)
	}
	if p.NumPackages() != 2 {
		t.Errorf("NumPackages = %d, want 2 (a, res; a_test is not listed)", p.NumPackages())
	}
}

func TestLoadCompileErrors(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"res/res.go": `package res

import "github.com/flash-lsp/flash-lsp/runtime"

var API = runtime.LoadBalancer{Name: "api"}
`,
		// An error in a body (the compiler's) and a flash rule in one file.
		"a/a.go": `package a

import _ "example.com/m/res"

//flash:remote res.API method=get path=/a
func A() int { x := 1; return 2 }
`,
		// A syntax error.
		"b/b.go": `package b

func B( {
`,
		// An import that does not exist.
		"c/c.go": `package c

import "example.com/m/missing"

var _ = missing.X
`,
	})
	p := load(t, Config{Dir: dir})
	var got []string
	for _, f := range p.Findings {
		rel, _ := filepath.Rel(dir, f.File)
		got = append(got, rel+" "+f.Rule)
	}
	want := []string{"a/a.go bad-method", "a/a.go compile", "b/b.go compile", "c/c.go compile"}
	if !slices.Equal(got, want) {
		t.Errorf("findings = %v, want %v\n%v", got, want, p.Findings)
	}
	for _, f := range p.Findings {
		if f.Rule == rules.Compile && strings.Contains(f.Message, "\n") {
			t.Errorf("multi-line compile message %q", f.Message)
		}
	}
}

func TestLoadDuplicateNameEnds(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"res/res.go": "package res\n\nimport \"github.com/flash-lsp/flash-lsp/runtime\"\n\nconst name = \"api\"\n\n" +
			"var A = runtime.LoadBalancer{Name: name}\n\nvar B = runtime.LoadBalancer{Name: `API`}\n",
	})
	p := load(t, Config{Dir: dir})
	if len(p.Findings) != 2 {
		t.Fatalf("findings %v", p.Findings)
	}
	for i, want := range []int{len("name"), len("`API`")} {
		f := p.Findings[i]
		if f.Rule != rules.DuplicateResource || f.End-f.Start != want {
			t.Errorf("finding %d: %s %s-%d, want a span of %d", i, f.Rule, where(f), f.End, want)
		}
	}
}

func TestLoadCache(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"res/res.go": `package res

import "github.com/flash-lsp/flash-lsp/runtime"

var API = runtime.LoadBalancer{Name: "api"}
`,
		"a/a.go": `package a

import _ "example.com/m/res"

//flash:remote res.API method=GET path=/a
func A() int { return 1 }
`,
	})
	cfg := Config{Dir: dir, CacheDir: t.TempDir()}
	first := load(t, cfg)
	if first.Cached || len(first.Findings) != 0 || first.NumFunctions() != 1 {
		t.Fatalf("first load: Cached = %t, %d findings, %d functions", first.Cached, len(first.Findings), first.NumFunctions())
	}
	second := load(t, cfg)
	if !second.Cached || second.NumFunctions() != 1 || second.NumPackages() != 2 || second.Packages != nil {
		t.Fatalf("second load: Cached = %t, %d functions, %d packages", second.Cached, second.NumFunctions(), second.NumPackages())
	}
	// An edit invalidates the entry.
	src := filepath.Join(dir, "a", "a.go")
	data, _ := os.ReadFile(src)
	os.WriteFile(src, []byte(strings.Replace(string(data), "method=GET", "method=get", 1)), 0o644)
	third := load(t, cfg)
	if third.Cached || len(third.Findings) != 1 || third.Findings[0].Rule != rules.BadMethod {
		t.Fatalf("after an edit: Cached = %t, findings %v", third.Cached, third.Findings)
	}
	// So does an overlay, without touching the disk; an overlay holding
	// the first contents finds the first entry.
	overlaid := []byte(strings.Replace(string(data), "method=GET", "method=Get", 1))
	fourth := load(t, Config{Dir: dir, CacheDir: cfg.CacheDir, Overlay: map[string][]byte{src: overlaid}})
	if fourth.Cached || len(fourth.Findings) != 1 || !strings.Contains(fourth.Findings[0].Message, `"Get"`) {
		t.Fatalf("with an overlay: Cached = %t, findings %v", fourth.Cached, fourth.Findings)
	}
	fifth := load(t, Config{Dir: dir, CacheDir: cfg.CacheDir, Overlay: map[string][]byte{src: data}})
	if !fifth.Cached || len(fifth.Findings) != 0 {
		t.Fatalf("with an overlay of the first contents: Cached = %t, findings %v", fifth.Cached, fifth.Findings)
	}
}

// TestLoadOverlayAndTags checks that unsaved files (overlays, even of files
// that do not exist on disk) and build flags decide what is analysed.
func TestLoadOverlayAndTags(t *testing.T) {
	dir := writeModule(t, map[string]string{
		"res/res.go": `package res

import "github.com/flash-lsp/flash-lsp/runtime"

var Q = runtime.LiveServerless{Name: "q"}
`,
		"a/a.go": `package a

import _ "example.com/m/res"

//flash:remote res.Q
func A() {}
`,
		"a/extra.go": `//go:build extra

package a

//flash:remote res.Q
func Extra() {}
`,
	})
	names := func(p *Project) []string {
		var out []string
		for _, f := range p.AllFunctions() {
			out = append(out, f.Name)
		}
		return out
	}
	if got := names(load(t, Config{Dir: dir})); !slices.Equal(got, []string{"A"}) {
		t.Errorf("without tags: %v", got)
	}
	if got := names(load(t, Config{Dir: dir, BuildFlags: []string{"-tags=extra"}})); !slices.Equal(got, []string{"A", "Extra"}) {
		t.Errorf("with -tags=extra: %v", got)
	}
	newFile := filepath.Join(dir, "a", "unsaved.go")
	p := load(t, Config{Dir: dir, Overlay: map[string][]byte{
		newFile: []byte("package a\n\nimport _ \"example.com/m/res\"\n\n//flash:remote res.Q method=GET\nfunc Unsaved() {}\n"),
	}})
	if got := names(p); !slices.Equal(got, []string{"A", "Unsaved"}) {
		t.Errorf("with an overlay: %v", got)
	}
	if len(p.Findings) != 1 || p.Findings[0].Rule != rules.RouteOnQueue || p.Findings[0].File != newFile {
		t.Errorf("overlay findings: %v", p.Findings)
	}
}

// where returns "file:line:col" of the start of f.
func where(f finding.Finding) string {
	var lines report.Lines
	p := lines.Position(f.File, f.Start)
	return fmt.Sprintf("%s:%d:%d", f.File, p.Line, p.Col)
}
