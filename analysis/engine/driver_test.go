package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/packages"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/remote"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// loadSource type-checks the named packages of the quickstart from source
// (their dependencies from export data), as a language server does.
func loadSource(t *testing.T, overlay map[string][]byte, patterns ...string) map[string]*packages.Package {
	t.Helper()
	pkgs, err := packages.Load(&packages.Config{
		Mode: packages.NeedName | packages.NeedFiles | packages.NeedImports | packages.NeedTypes |
			packages.NeedSyntax | packages.NeedTypesInfo,
		Dir:     projectDir(t, "quickstart"),
		Overlay: overlay,
	}, patterns...)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]*packages.Package)
	for _, p := range pkgs {
		if len(p.Errors) > 0 {
			t.Fatalf("%s: %v", p.PkgPath, p.Errors)
		}
		out[p.PkgPath] = p
	}
	return out
}

func checkPkg(p *packages.Package, facts *Facts) (*model.Package, []finding.Finding) {
	u := &unit{fset: p.Fset, files: p.Syntax, pkg: p.Types, info: p.TypesInfo, facts: facts}
	for _, e := range p.TypeErrors {
		u.typeErrors = append(u.typeErrors, e)
	}
	return u.check(remote.Analyzer)
}

// TestCheckFacts checks the incremental use of unit.check: a
// resource of another package is known only through the facts of that
// package, and re-checking that package replaces its facts.
func TestCheckFacts(t *testing.T) {
	const resPath, cpuPath = "example.com/quickstart/res", "example.com/quickstart/cpu"
	pkgs := loadSource(t, nil, "./res", "./cpu")
	facts := NewFacts()

	// Without the facts of res, the directives of cpu do not resolve.
	m, fs := checkPkg(pkgs[cpuPath], facts)
	if len(fs) == 0 {
		t.Fatal("cpu checked before res: no findings")
	}
	for _, f := range fs {
		if f.Rule != rules.UnknownResource && f.Rule != rules.NotAResource {
			t.Errorf("cpu before res: unexpected %s: %s", f.Rule, f.Message)
		}
	}
	if len(m.Functions) != 3 || m.Functions[0].Resource != nil {
		t.Fatalf("cpu before res: functions %v", m.Functions)
	}

	resModel, fs := checkPkg(pkgs[resPath], facts)
	if len(fs) != 0 || len(resModel.Resources) != 4 {
		t.Fatalf("res: %d findings, %d resources", len(fs), len(resModel.Resources))
	}
	m, fs = checkPkg(pkgs[cpuPath], facts)
	if len(fs) != 0 {
		t.Fatalf("cpu after res: %v", fs)
	}
	for _, f := range m.Functions {
		if f.Resource == nil || f.Resource.Name != "03_05_load_balancer_cpu" || !f.Valid {
			t.Errorf("%s: resource %+v, Valid %t", f.Name, f.Resource, f.Valid)
		}
	}
	if m.Dir != filepath.Join(projectDir(t, "quickstart"), "cpu") {
		t.Errorf("Dir = %q", m.Dir)
	}

	// An edit of res, type-checked again: cpu sees the new facts.
	resFile := filepath.Join(projectDir(t, "quickstart"), "res", "res.go")
	src, err := os.ReadFile(resFile)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "runtime.CPULiveLoadBalancer{", "runtime.CPULiveServerless{", 1)
	pkgs2 := loadSource(t, map[string][]byte{resFile: []byte(edited)}, "./res")
	if _, fs := checkPkg(pkgs2[resPath], facts); len(fs) != 0 {
		t.Fatalf("edited res: %v", fs)
	}
	m, fs = checkPkg(pkgs[cpuPath], facts)
	var onQueue int
	for _, f := range fs {
		if f.Rule == rules.RouteOnQueue {
			onQueue++
		}
	}
	if onQueue == 0 {
		t.Errorf("cpu after res became a queue resource: findings %v", fs)
	}
	if r := m.Functions[0].Resource; r == nil || r.LoadBalanced() {
		t.Errorf("cpu's resource after the edit: %+v", r)
	}

	// Forget drops them.
	facts.Forget(resPath)
	if _, fs := checkPkg(pkgs[cpuPath], facts); len(fs) == 0 {
		t.Error("after Forget: cpu resolves its resource still")
	}
}

// TestDriverFailures checks that an analyzer that panics or fails becomes a
// finding, and that facts flow between passes of a custom analyzer.
func TestDriverFailures(t *testing.T) {
	pkgs := loadSource(t, nil, "./res")
	p := pkgs["example.com/quickstart/res"]
	for name, run := range map[string]func(*analysis.Pass) (any, error){
		"panics": func(*analysis.Pass) (any, error) { panic("boom") },
		"fails":  func(*analysis.Pass) (any, error) { return nil, errors.New("no luck") },
	} {
		a := &analysis.Analyzer{Name: name, Doc: name, Run: run}
		u := &unit{fset: p.Fset, files: p.Syntax, pkg: p.Types, info: p.TypesInfo, facts: NewFacts()}
		m, fs := u.check(a)
		if m == nil || m.Path != p.PkgPath {
			t.Errorf("%s: model %+v", name, m)
		}
		if len(fs) != 1 || fs[0].Rule != rules.Compile || !strings.Contains(fs[0].Message, "analyzer "+name+" failed") ||
			fs[0].File == "" {
			t.Errorf("%s: findings %+v", name, fs)
		}
	}
}
