package remote

import (
	_ "embed"
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/inspect"
	"golang.org/x/tools/go/ast/inspector"

	"github.com/flash-lsp/flash-lsp/analysis/directive"
	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

//go:embed doc.go
var doc string

// Analyzer checks the //flash:remote directives of one package and the
// resources it declares, and returns the package's *model.Package.
var Analyzer = &analysis.Analyzer{
	Name:             "flashremote",
	Doc:              analyzerDoc(doc),
	URL:              "https://github.com/flash-lsp/flash-lsp/tree/main/analysis/remote",
	Requires:         []*analysis.Analyzer{inspect.Analyzer},
	Run:              run,
	RunDespiteErrors: true,
	ResultType:       reflect.TypeFor[*model.Package](),
	FactTypes:        []analysis.Fact{new(ResourceFact)},
}

// analyzerDoc returns the "# Analyzer flashremote" section of the package
// comment in doc.go, as the passes of golang.org/x/tools do: its first line
// is the analyzer's title.
func analyzerDoc(src string) string {
	var lines []string
	in := false
	for line := range strings.SplitSeq(src, "\n") {
		text, ok := strings.CutPrefix(line, "//")
		if !ok {
			break // the end of the package comment
		}
		text = strings.TrimPrefix(text, " ")
		if heading, isHeading := strings.CutPrefix(text, "# "); isHeading {
			if in {
				break
			}
			in = heading == "Analyzer flashremote"
			continue
		}
		if in {
			lines = append(lines, text)
		}
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// analyzer holds the state of one run.
type analyzer struct {
	pass     *analysis.Pass
	pkg      *model.Package
	findings []finding

	// resources declared in this package, by variable.
	local map[*types.Var]*localResource
	// imported resources rebuilt from facts, by variable.
	imported map[*types.Var]*model.Resource
	// byPath indexes the package's imports (see imports).
	byPath   map[string]*types.Package
	funcs    []*fnInfo
	jsonMemo map[types.Type]string
}

// finding is a diagnostic before deduplication.
type finding struct {
	rule     string
	pos, end token.Pos
	msg      string
	fixes    []analysis.SuggestedFix
	fn       *model.Function // the function it concerns, if any
}

func run(pass *analysis.Pass) (any, error) {
	ins := pass.ResultOf[inspect.Analyzer].(*inspector.Inspector)
	a := &analyzer{
		pass: pass,
		pkg: &model.Package{
			Path: pass.Pkg.Path(),
			Name: pass.Pkg.Name(),
		},
		local:    make(map[*types.Var]*localResource),
		imported: make(map[*types.Var]*model.Resource),
	}
	var files []*ast.File
	for cur := range ins.Root().Children() {
		if f, ok := cur.Node().(*ast.File); ok {
			files = append(files, f)
		}
	}
	if len(files) > 0 {
		if tf := pass.Fset.File(files[0].Pos()); tf != nil {
			a.pkg.Dir = filepath.Dir(tf.Name())
		}
	}

	for _, f := range files {
		a.collectResources(f)
	}
	for _, f := range files {
		a.scanDirectives(f)
	}
	for _, f := range files {
		if !a.isTestFile(f) {
			CollectDocs(a.pkg, f)
		}
	}
	a.checkFunctions()
	a.flush()
	return a.pkg, nil
}

// report records a finding; flush decides which findings are reported.
func (a *analyzer) report(fn *model.Function, rule string, pos, end token.Pos, fixes []analysis.SuggestedFix, format string, args ...any) {
	tf := a.pass.Fset.File(pos)
	if tf == nil || end < pos {
		return
	}
	// The parser's recovery can end a node past the end of its file.
	if fileEnd := token.Pos(tf.Base() + tf.Size()); end > fileEnd {
		end, fixes = fileEnd, nil
	}
	a.findings = append(a.findings, finding{
		rule:  rule,
		pos:   pos,
		end:   end,
		msg:   fmt.Sprintf(format, args...),
		fixes: fixes,
		fn:    fn,
	})
}

// flush reports at most one finding per token: where findings overlap, the
// first in rules.Precedence order wins. A function is Valid when its
// resource resolved and no error-severity finding concerns it, reported or
// not.
func (a *analyzer) flush() {
	invalid := make(map[*model.Function]bool)
	for _, f := range a.findings {
		if f.fn != nil && rules.SeverityOf(f.rule) == rules.Error {
			invalid[f.fn] = true
		}
	}
	for _, fn := range a.pkg.Functions {
		fn.Valid = !invalid[fn] && fn.Resource != nil
	}

	byRank := slices.Clone(a.findings)
	slices.SortStableFunc(byRank, func(x, y finding) int {
		if c := rules.Precedence(x.rule) - rules.Precedence(y.rule); c != 0 {
			return c
		}
		return int(x.pos - y.pos)
	})
	// kept is sorted by pos and its ranges are disjoint, so a new finding
	// can only overlap its neighbours.
	var kept []finding
	for _, f := range byRank {
		i, _ := slices.BinarySearchFunc(kept, f.pos, func(k finding, p token.Pos) int { return int(k.pos - p) })
		if i > 0 && overlaps(kept[i-1], f) || i < len(kept) && overlaps(kept[i], f) {
			continue
		}
		kept = slices.Insert(kept, i, f)
	}
	for _, f := range kept {
		a.pass.Report(analysis.Diagnostic{
			Pos:            f.pos,
			End:            f.end,
			Category:       f.rule,
			Message:        f.msg,
			SuggestedFixes: f.fixes,
		})
	}
}

func overlaps(x, y finding) bool {
	if x.pos == y.pos {
		return true
	}
	return x.pos < y.end && y.pos < x.end
}

// position converts p with the pass's FileSet.
func (a *analyzer) position(p token.Pos) token.Position {
	if !p.IsValid() {
		return token.Position{}
	}
	return a.pass.Fset.Position(p)
}

// isTestFile reports whether f is a _test.go file.
func (a *analyzer) isTestFile(f *ast.File) bool {
	tf := a.pass.Fset.File(f.Pos())
	return tf != nil && strings.HasSuffix(tf.Name(), "_test.go")
}

// scanDirectives walks every comment of f once. A //flash:remote in the doc
// comment of a top-level function starts the analysis of that function;
// anywhere else it is misplaced, and a second one on a function, like any
// other //flash: comment, is malformed.
func (a *analyzer) scanDirectives(f *ast.File) {
	test := a.isTestFile(f)
	docs := make(map[*ast.CommentGroup]*ast.FuncDecl)
	for _, decl := range f.Decls {
		if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Doc != nil {
			docs[fd.Doc] = fd
		}
	}
	for _, cg := range f.Comments {
		fd := docs[cg]
		var first *ast.Comment
		for _, c := range cg.List {
			switch directive.Classify(c.Text) {
			case directive.None:
				continue
			case directive.Unknown:
				_, errs := directive.Parse(c.Text, c.Pos())
				for _, e := range errs {
					a.report(nil, e.Rule, e.Pos, e.End, nil, "%s", e.Message)
				}
				continue
			}
			prefixEnd := c.Pos() + token.Pos(len(directive.Prefix))
			switch {
			case test:
				a.report(nil, rules.MisplacedDirective, c.Pos(), prefixEnd, nil,
					"misplaced //flash:remote in a _test.go file: generated handlers cannot import test code")
			case fd == nil:
				if place, sure := where(f, cg, c); sure {
					a.report(nil, rules.MisplacedDirective, c.Pos(), prefixEnd, nil,
						"misplaced //flash:remote %s: only top-level functions can be remote", place)
				}
			case first != nil:
				a.report(a.funcs[len(a.funcs)-1].fn, rules.DirectiveSyntax, c.Pos(), prefixEnd, nil,
					"second //flash:remote on %s: a function takes one directive", fd.Name.Name)
			default:
				first = c
				a.addFunction(f, fd, c)
			}
		}
	}
}

// where describes the place of a misplaced directive c of comment group cg.
// It is not sure when a syntax error may have misplaced it: the parser's
// recovery can swallow the functions that follow a broken declaration, and
// while the user types that is no reason to flag their directives.
func where(f *ast.File, cg *ast.CommentGroup, c *ast.Comment) (place string, sure bool) {
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.FuncDecl:
			if d.Doc == cg && d.Recv != nil {
				return "on method " + methodName(d), true
			}
			if !within(c, d) {
				continue
			}
			if d.Body == nil || c.Pos() < d.Body.Lbrace || !d.Body.Rbrace.IsValid() || c.Pos() > d.Body.Rbrace || broken(d) {
				return "", false
			}
			if d.Recv != nil {
				return "inside method " + methodName(d), true
			}
			return "inside function " + d.Name.Name, true
		case *ast.GenDecl:
			if d.Doc == cg || specDoc(d, cg) {
				return "on " + article(d.Tok) + " declaration", true
			}
			if !within(c, d) {
				continue
			}
			if broken(d) {
				return "", false
			}
			return "inside " + article(d.Tok) + " declaration", true
		case *ast.BadDecl:
			if within(c, d) {
				return "", false
			}
		}
	}
	return "not attached to a function", !broken(f)
}

// article returns "a var", "a type", "an import".
func article(tok token.Token) string {
	if tok == token.IMPORT {
		return "an import"
	}
	return "a " + tok.String()
}

func within(c *ast.Comment, n ast.Node) bool {
	return n.Pos() <= c.Pos() && (!n.End().IsValid() || c.Pos() < n.End())
}

// broken reports whether n holds a syntax error that the parser recorded
// in the tree.
func broken(n ast.Node) bool {
	if !n.End().IsValid() {
		return true
	}
	found := false
	ast.Inspect(n, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.BadExpr, *ast.BadStmt, *ast.BadDecl:
			found = true
		}
		return !found
	})
	return found
}

func specDoc(d *ast.GenDecl, cg *ast.CommentGroup) bool {
	for _, s := range d.Specs {
		switch s := s.(type) {
		case *ast.ValueSpec:
			if s.Doc == cg {
				return true
			}
		case *ast.TypeSpec:
			if s.Doc == cg {
				return true
			}
		}
	}
	return false
}

func methodName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	return "(" + types.ExprString(d.Recv.List[0].Type) + ")." + d.Name.Name
}
