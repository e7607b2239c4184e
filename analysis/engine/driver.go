package engine

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/types/objectpath"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// unit is one type-checked package being analysed by the flash rules
// (remote.Analyzer and the analyzers it requires). facts holds the facts of
// the packages it imports: units are checked in dependency order, sharing
// one Facts, and when check returns, facts holds the package's own facts,
// replacing any earlier ones. Findings in files under a .flash directory
// are dropped, and a failure of an analyzer (a panic included) becomes a
// finding: user input never stops the analysis.
type unit struct {
	fset       *token.FileSet
	files      []*ast.File
	pkg        *types.Package
	info       *types.Info
	typeErrors []types.Error
	sizes      types.Sizes
	module     *analysis.Module
	readFile   func(string) ([]byte, error)
	facts      *Facts

	// local holds the facts this package exports while it is analysed.
	local map[localKey]analysis.Fact
	// localPkg holds this package's package facts.
	localPkg map[reflect.Type]analysis.Fact
}

type localKey struct {
	obj types.Object
	typ reflect.Type
}

// check runs root and its prerequisites and returns root's model result and
// the diagnostics of all of them.
func (u *unit) check(root *analysis.Analyzer) (*model.Package, []finding.Finding) {
	u.local = make(map[localKey]analysis.Fact)
	u.localPkg = make(map[reflect.Type]analysis.Fact)
	if u.sizes == nil {
		u.sizes = types.SizesFor("gc", "amd64")
	}
	if u.readFile == nil {
		u.readFile = os.ReadFile
	}

	var findings []finding.Finding
	results := make(map[*analysis.Analyzer]any)
	failed := make(map[*analysis.Analyzer]bool)
	var run func(a *analysis.Analyzer)
	run = func(a *analysis.Analyzer) {
		if _, ok := results[a]; ok || failed[a] {
			return
		}
		inputs := make(map[*analysis.Analyzer]any, len(a.Requires))
		for _, req := range a.Requires {
			run(req)
			if failed[req] {
				failed[a] = true
				return
			}
			inputs[req] = results[req]
		}
		if len(u.typeErrors) > 0 && !a.RunDespiteErrors {
			failed[a] = true
			return
		}
		res, diags, err := u.runOne(a, inputs)
		for _, d := range diags {
			findings = append(findings, finding.FromDiagnostic(u.fset, a, d))
		}
		if err != nil {
			failed[a] = true
			findings = append(findings, u.failure(a, err))
			return
		}
		results[a] = res
	}
	run(root)
	u.publishFacts()

	mp, _ := results[root].(*model.Package)
	if mp == nil {
		mp = &model.Package{}
	}
	if mp.Path == "" {
		mp.Path, mp.Name = u.pkg.Path(), u.pkg.Name()
	}
	if mp.Dir == "" && len(u.files) > 0 {
		mp.Dir = filepath.Dir(u.fset.File(u.files[0].FileStart).Name())
	}
	return mp, dropGenerated(findings)
}

// runOne runs one analyzer, turning a panic into an error.
func (u *unit) runOne(a *analysis.Analyzer, inputs map[*analysis.Analyzer]any) (res any, diags []analysis.Diagnostic, err error) {
	pass := &analysis.Pass{
		Analyzer:   a,
		Fset:       u.fset,
		Files:      u.files,
		Pkg:        u.pkg,
		TypesInfo:  u.info,
		TypesSizes: u.sizes,
		TypeErrors: u.typeErrors,
		Module:     u.module,
		ResultOf:   inputs,
		ReadFile:   u.readFile,
		Report:     func(d analysis.Diagnostic) { diags = append(diags, d) },

		ImportObjectFact:  u.importObjectFact,
		ExportObjectFact:  u.exportObjectFact,
		ImportPackageFact: u.importPackageFact,
		ExportPackageFact: u.exportPackageFact,
		AllObjectFacts:    func() []analysis.ObjectFact { return u.allObjectFacts(a) },
		AllPackageFacts:   func() []analysis.PackageFact { return u.allPackageFacts(a) },
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	res, err = a.Run(pass)
	return res, diags, err
}

// failure reports an analyzer that failed on this package, at the start of
// its first file.
func (u *unit) failure(a *analysis.Analyzer, err error) finding.Finding {
	var pos token.Position
	if len(u.files) > 0 {
		pos = finding.Position(u.fset, u.files[0].Package)
	}
	msg := strings.SplitN(err.Error(), "\n", 2)[0]
	return finding.CompileAt(pos, fmt.Sprintf("internal error: analyzer %s failed on %s: %s", a.Name, u.pkg.Path(), msg))
}

func (u *unit) isLocal(pkg *types.Package) bool {
	return pkg == u.pkg || pkg != nil && pkg.Path() == u.pkg.Path()
}

func (u *unit) importObjectFact(obj types.Object, fact analysis.Fact) bool {
	if obj == nil || obj.Pkg() == nil {
		return false
	}
	typ := reflect.TypeOf(fact)
	if u.isLocal(obj.Pkg()) {
		if f, ok := u.local[localKey{obj, typ}]; ok {
			return copyFact(fact, f)
		}
		return false
	}
	pf := u.facts.get(obj.Pkg().Path())
	if pf == nil {
		return false
	}
	path, err := objectpath.For(obj)
	if err != nil {
		return false
	}
	if f, ok := pf.objects[objectKey{path, typ}]; ok {
		return copyFact(fact, f)
	}
	return false
}

func (u *unit) exportObjectFact(obj types.Object, fact analysis.Fact) {
	if obj == nil || !u.isLocal(obj.Pkg()) {
		return // the analysis API forbids it; ignore rather than panic
	}
	u.local[localKey{obj, reflect.TypeOf(fact)}] = fact
}

func (u *unit) importPackageFact(pkg *types.Package, fact analysis.Fact) bool {
	if pkg == nil {
		return false
	}
	typ := reflect.TypeOf(fact)
	if u.isLocal(pkg) {
		if f, ok := u.localPkg[typ]; ok {
			return copyFact(fact, f)
		}
		return false
	}
	if pf := u.facts.get(pkg.Path()); pf != nil {
		if f, ok := pf.pkg[typ]; ok {
			return copyFact(fact, f)
		}
	}
	return false
}

func (u *unit) exportPackageFact(fact analysis.Fact) {
	u.localPkg[reflect.TypeOf(fact)] = fact
}

// factTypes is the set of fact types of a.
func factTypes(a *analysis.Analyzer) map[reflect.Type]bool {
	m := make(map[reflect.Type]bool, len(a.FactTypes))
	for _, f := range a.FactTypes {
		m[reflect.TypeOf(f)] = true
	}
	return m
}

// deps returns the packages pkg imports, transitively.
func deps(pkg *types.Package) []*types.Package {
	seen := map[*types.Package]bool{}
	var out []*types.Package
	var visit func(p *types.Package)
	visit = func(p *types.Package) {
		for _, imp := range p.Imports() {
			if !seen[imp] {
				seen[imp] = true
				out = append(out, imp)
				visit(imp)
			}
		}
	}
	visit(pkg)
	return out
}

func (u *unit) allObjectFacts(a *analysis.Analyzer) []analysis.ObjectFact {
	want := factTypes(a)
	var out []analysis.ObjectFact
	for k, f := range u.local {
		if want[k.typ] {
			out = append(out, analysis.ObjectFact{Object: k.obj, Fact: f})
		}
	}
	for _, p := range deps(u.pkg) {
		pf := u.facts.get(p.Path())
		if pf == nil {
			continue
		}
		for k, f := range pf.objects {
			if !want[k.typ] {
				continue
			}
			if obj, err := objectpath.Object(p, k.path); err == nil {
				out = append(out, analysis.ObjectFact{Object: obj, Fact: f})
			}
		}
	}
	return out
}

func (u *unit) allPackageFacts(a *analysis.Analyzer) []analysis.PackageFact {
	want := factTypes(a)
	var out []analysis.PackageFact
	for typ, f := range u.localPkg {
		if want[typ] {
			out = append(out, analysis.PackageFact{Package: u.pkg, Fact: f})
		}
	}
	for _, p := range deps(u.pkg) {
		if pf := u.facts.get(p.Path()); pf != nil {
			for typ, f := range pf.pkg {
				if want[typ] {
					out = append(out, analysis.PackageFact{Package: p, Fact: f})
				}
			}
		}
	}
	return out
}

// publishFacts replaces the package's facts in the shared store. Facts on
// objects that importers cannot name (locals) stay private to the pass.
func (u *unit) publishFacts() {
	pf := newPkgFacts()
	for k, f := range u.local {
		path, err := objectpath.For(k.obj)
		if err != nil {
			continue
		}
		pf.objects[objectKey{path, k.typ}] = f
	}
	for typ, f := range u.localPkg {
		pf.pkg[typ] = f
	}
	u.facts.set(u.pkg.Path(), pf)
}

// dropGenerated removes findings located in files under a .flash directory,
// which hold flash-lsp's own output and are never analysed.
func dropGenerated(fs []finding.Finding) []finding.Finding {
	out := fs[:0]
	for _, f := range fs {
		if !model.UnderFlashDir(f.File) {
			out = append(out, f)
		}
	}
	return out
}
