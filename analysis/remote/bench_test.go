package remote_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/analysistest"
	"golang.org/x/tools/go/analysis/checker"
	"golang.org/x/tools/go/packages"

	"github.com/flash-lsp/flash-lsp/analysis/remote"
)

// BenchmarkAnalyzer runs the analyzer (with inspect and the facts of its
// dependencies) on one loaded package of 20 remote functions, the package
// size of SPEC section 11's workspace. Loading is not measured.
func BenchmarkAnalyzer(b *testing.B) {
	runtimeSrc, err := os.ReadFile(filepath.Join("testdata", "src", "github.com", "flash-lsp", "flash-lsp", "runtime", "runtime.go"))
	if err != nil {
		b.Fatal(err)
	}
	var src strings.Builder
	src.WriteString("package bench\n\nimport (\n\t\"context\"\n\n\t\"github.com/flash-lsp/flash-lsp/runtime\"\n)\n\n")
	src.WriteString("var API = runtime.LoadBalancer{Name: \"api\", WorkersMax: 3}\n\nvar Q = runtime.Serverless{Name: \"q\"}\n\n")
	src.WriteString("type Item struct {\n\tID   string\n\tTags []string\n\tNext *Item\n}\n\n")
	for i := range 20 {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&src, "//flash:remote API method=GET path=/items%d/{id}\nfunc Get%d(ctx context.Context, id string, limit *int, tags []string) (Item, error) { return Item{}, nil }\n\n", i, i)
		case 1:
			fmt.Fprintf(&src, "//flash:remote API method=POST path=/items%d\nfunc Post%d(ctx context.Context, item Item, n int) (*Item, error) { return nil, nil }\n\n", i, i)
		default:
			fmt.Fprintf(&src, "//flash:remote Q\nfunc Job%d(ctx context.Context, items []Item) error { return nil }\n\n", i)
		}
	}
	dir, cleanup, err := analysistest.WriteFiles(map[string]string{
		"github.com/flash-lsp/flash-lsp/runtime/runtime.go": string(runtimeSrc),
		"bench/bench.go": src.String(),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer cleanup()
	pkgs, err := packages.Load(&packages.Config{
		Mode: packages.LoadSyntax,
		Dir:  dir,
		Env:  append(os.Environ(), "GOPATH="+dir, "GO111MODULE=off", "GOWORK=off"),
	}, "bench")
	if err != nil || len(pkgs) != 1 || len(pkgs[0].Errors) > 0 {
		b.Fatalf("load: %v %v", err, pkgs)
	}
	for b.Loop() {
		res, err := checker.Analyze([]*analysis.Analyzer{remote.Analyzer}, pkgs, nil)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(res.Roots[0].Diagnostics); n != 0 {
			b.Fatalf("%d unexpected diagnostics", n)
		}
	}
}
