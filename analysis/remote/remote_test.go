package remote_test

import (
	"testing"

	"golang.org/x/tools/go/analysis/analysistest"

	"github.com/flash-lsp/flash-lsp/analysis/remote"
)

func TestClean(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), remote.Analyzer, "clean")
}

func TestDirectives(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), remote.Analyzer, "directives")
}

func TestRoutes(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), remote.Analyzer, "routes")
}

func TestResources(t *testing.T) {
	analysistest.RunWithSuggestedFixes(t, analysistest.TestData(), remote.Analyzer, "resources")
}

func TestSignature(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), remote.Analyzer, "sig", "mainpkg")
}

func TestBroken(t *testing.T) {
	analysistest.Run(t, analysistest.TestData(), remote.Analyzer, "broken")
}
