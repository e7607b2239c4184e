package remote

import (
	"fmt"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// FuzzRun runs the analyzer on a package built around fuzzed directive
// text and a fuzzed signature, type-checked as far as it goes (as the
// language server does while the user types). It must never panic, and every
// diagnostic and edit must lie inside the file.
func FuzzRun(f *testing.F) {
	imp := runtimeImporter(f)

	for _, seed := range [][3]string{
		{" API method=GET path=/items/{id}", "id string, n *int", `Name: "api"`},
		{" Q method=POST", "ctx int, x chan int", `Name: "api", WorkersMin: 3, WorkersMax: 1`},
		{" API method=get path=items/", "", `"positional"`},
		{" API path=/a/{v:(x|y)}/{v}", "v T", `Name: 1, Env: map[string]string{"a": T{}.B[0]}`},
		{" nope.X metod=1 path=", "...", `ScalerType: "QUEUE_DELAY", Mothership: true`},
		{"s API", "a, b", `Name: "x" + "y", GPUs: nil, Instances: []string{"a", 1}`},
		{" API\tmethod=PUT path=/ä/{ö}", "ö []T) (T, error", `WorkersMax: -1 << 70`},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, dir, params, lit string) {
		if strings.ContainsAny(dir, "\n\r") {
			return // one comment line
		}
		src := "package p\n\nimport \"github.com/flash-lsp/flash-lsp/runtime\"\n\n" +
			"var API = runtime.LoadBalancer{" + lit + "}\n\nvar Q = runtime.Serverless{Name: \"q\"}\n\n" +
			"type T struct {\n\tA int\n\tB []string\n}\n\n" +
			"//flash:remote" + dir + "\nfunc F(" + params + ") {}\n"
		pass := newPass(t, imp, src)
		if pass == nil {
			return
		}
		if _, err := run(pass); err != nil {
			t.Fatal(err)
		}
	})
}

// newPass parses and type-checks src as far as it goes and returns a pass
// over it whose Report checks that every diagnostic and edit lies inside the
// file; nil when src does not parse at all.
func newPass(t testing.TB, imp types.Importer, src string) *analysis.Pass {
	fset := token.NewFileSet()
	file, _ := parser.ParseFile(fset, "p.go", src, parser.ParseComments|parser.SkipObjectResolution)
	if file == nil {
		return nil
	}
	info := &types.Info{
		Types:      make(map[ast.Expr]types.TypeAndValue),
		Defs:       make(map[*ast.Ident]types.Object),
		Uses:       make(map[*ast.Ident]types.Object),
		Implicits:  make(map[ast.Node]types.Object),
		Selections: make(map[*ast.SelectorExpr]*types.Selection),
		Scopes:     make(map[ast.Node]*types.Scope),
	}
	conf := &types.Config{Importer: imp, Error: func(error) {}}
	pkg, _ := conf.Check("p", fset, []*ast.File{file}, info)
	tf := fset.File(file.Pos())
	inside := func(what string, pos, end token.Pos) {
		if !pos.IsValid() || pos < token.Pos(tf.Base()) || end < pos || int(end) > tf.Base()+tf.Size() {
			t.Fatalf("%s [%d,%d) outside the file [%d,%d)\n%s", what, pos, end, tf.Base(), tf.Base()+tf.Size(), src)
		}
	}
	return &analysis.Pass{
		Analyzer:   Analyzer,
		Fset:       fset,
		Files:      []*ast.File{file},
		Pkg:        pkg,
		TypesInfo:  info,
		TypesSizes: types.SizesFor("gc", "amd64"),
		ResultOf:   map[*analysis.Analyzer]any{inspect.Analyzer: inspector.New([]*ast.File{file})},
		Report: func(d analysis.Diagnostic) {
			inside(d.Category+" "+d.Message, d.Pos, d.End)
			for _, fix := range d.SuggestedFixes {
				for _, e := range fix.TextEdits {
					inside("fix "+fix.Message, e.Pos, e.End)
				}
			}
		},
		ImportObjectFact:  func(types.Object, analysis.Fact) bool { return false },
		ExportObjectFact:  func(types.Object, analysis.Fact) {},
		ImportPackageFact: func(*types.Package, analysis.Fact) bool { return false },
		ExportPackageFact: func(analysis.Fact) {},
	}
}

// runtimeImporter type-checks the testdata copy of the runtime package and
// imports it; other packages come from the standard importer.
func runtimeImporter(t testing.TB) types.Importer {
	runtimeSrc, err := os.ReadFile(filepath.Join("testdata", "src", "github.com", "flash-lsp", "flash-lsp", "runtime", "runtime.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	rf, err := parser.ParseFile(fset, "runtime.go", runtimeSrc, 0)
	if err != nil {
		t.Fatal(err)
	}
	runtimePkg, err := (&types.Config{}).Check(model.RuntimePath, fset, []*ast.File{rf}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return importerFunc(func(path string) (*types.Package, error) {
		if path == model.RuntimePath {
			return runtimePkg, nil
		}
		return importer.Default().Import(path)
	})
}

// BenchmarkRun measures the analyzer's own work on one package of 20
// remote functions, without loading, type-checking or the inspector.
func BenchmarkRun(b *testing.B) {
	imp := runtimeImporter(b)
	var src strings.Builder
	src.WriteString("package p\n\nimport \"github.com/flash-lsp/flash-lsp/runtime\"\n\n")
	src.WriteString("var API = runtime.LoadBalancer{Name: \"api\", WorkersMax: 3}\n\nvar Q = runtime.Serverless{Name: \"q\"}\n\n")
	src.WriteString("type Item struct {\n\tID   string\n\tTags []string\n\tNext *Item\n}\n\n")
	for i := range 20 {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&src, "//flash:remote API method=GET path=/items%d/{id}\nfunc Get%d(id string, limit *int, tags []string) (Item, error) { return Item{}, nil }\n\n", i, i)
		case 1:
			fmt.Fprintf(&src, "//flash:remote API method=POST path=/items%d\nfunc Post%d(item Item, n int) (*Item, error) { return nil, nil }\n\n", i, i)
		default:
			fmt.Fprintf(&src, "//flash:remote Q\nfunc Job%d(items []Item) error { return nil }\n\n", i)
		}
	}
	pass := newPass(b, imp, src.String())
	reported := 0
	pass.Report = func(analysis.Diagnostic) { reported++ }
	for b.Loop() {
		if _, err := run(pass); err != nil {
			b.Fatal(err)
		}
	}
	if reported != 0 {
		b.Fatalf("%d unexpected diagnostics", reported)
	}
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
