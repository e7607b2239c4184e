package remote_test

import (
	"path/filepath"
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/remote"
)

// TestAnalyzer checks the // want comments of the cases without fixes:
// clean packages (nothing but facts, or nothing at all), signatures,
// package main, and code that does not compile. One run loads them all.
func TestAnalyzer(t *testing.T) {
	results := analysistest.Run(t, analysistest.TestData(), remote.Analyzer,
		"clean", "noresources", "sig", "mainpkg", "broken", "stream")
	for _, r := range results {
		pkg := r.Pass.Pkg.Path()
		if pkg != "broken" && len(r.Pass.TypeErrors) > 0 {
			t.Errorf("%s does not compile: %v", pkg, r.Pass.TypeErrors)
		}
		if pkg == "broken" && len(r.Pass.TypeErrors) == 0 {
			t.Errorf("broken compiles")
		}
		m, ok := r.Result.(*model.Package)
		if !ok {
			t.Fatalf("%s: result is %T", pkg, r.Result)
		}
		if pkg == "clean" {
			checkCleanModel(t, m)
		}
		if pkg == "stream" {
			checkStreamModel(t, m)
		}
		if pkg == "noresources" {
			if len(m.Resources) != 0 || len(m.Functions) != 2 || !m.Functions[0].Valid || !m.Functions[1].Valid {
				t.Errorf("noresources: %d resources, functions %+v", len(m.Resources), m.Functions)
			}
		}
	}
}

// TestFixes checks the // want comments and the .golden files of the cases
// with suggested fixes.
func TestFixes(t *testing.T) {
	results := analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), remote.Analyzer,
		"directives", "routes", "resources")
	for _, r := range results {
		if len(r.Pass.TypeErrors) > 0 {
			t.Errorf("%s does not compile: %v", r.Pass.Pkg.Path(), r.Pass.TypeErrors)
		}
	}
}

// TestModule runs a module-mode case, where the analyzer knows the module
// path: internal packages below the module root are out of the generated
// handlers' reach.
func TestModule(t *testing.T) {
	dir := filepath.Join(analysistest.TestData(), "modcase")
	results := analysistest.Run(t, dir, remote.Analyzer, "example.com/m/api", "example.com/m/api/internal/work")
	for _, r := range results {
		if len(r.Pass.TypeErrors) > 0 {
			t.Errorf("%s does not compile: %v", r.Pass.Pkg.Path(), r.Pass.TypeErrors)
		}
		if r.Pass.Module == nil || r.Pass.Module.Path != "example.com/m" {
			t.Errorf("module %+v", r.Pass.Module)
		}
	}
}
