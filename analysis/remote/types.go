package remote

import (
	"fmt"
	"go/token"
	"go/types"
	"reflect"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// typeString writes t as the manifest and generated code do: qualified by
// package name ("api.Item", "[]string", "*int").
func (a *analyzer) typeString(t types.Type) string {
	if t == nil {
		return "invalid type"
	}
	return types.TypeString(t, func(p *types.Package) string { return p.Name() })
}

func isNamed(t types.Type, pkgPath, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	obj := n.Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == pkgPath && obj.Name() == name
}

func isContext(t types.Type) bool { return t != nil && isNamed(t, "context", "Context") }

func isError(t types.Type) bool {
	return t != nil && types.Identical(types.Unalias(t), types.Universe.Lookup("error").Type())
}

// streamOf reports whether t is iter.Seq[T] or iter.Seq2[T, U], and returns
// T and U (nil for iter.Seq).
func streamOf(t types.Type) (item, second types.Type, ok bool) {
	n, isNamed := types.Unalias(t).(*types.Named)
	if !isNamed || n.Obj().Pkg() == nil || n.Obj().Pkg().Path() != "iter" {
		return nil, nil, false
	}
	args := n.TypeArgs()
	switch {
	case n.Obj().Name() == "Seq" && args.Len() == 1:
		return args.At(0), nil, true
	case n.Obj().Name() == "Seq2" && args.Len() == 2:
		return args.At(0), args.At(1), true
	}
	return nil, nil, false
}

func isPointer(t types.Type) bool {
	if t == nil {
		return false
	}
	_, ok := types.Unalias(t).(*types.Pointer)
	return ok
}

// The interfaces that let a type choose its own encoding. They are built
// here rather than looked up, since the analysed package need not import
// encoding or encoding/json.
var (
	byteSlice   = types.NewSlice(types.Typ[types.Byte])
	errorType   = types.Universe.Lookup("error").Type()
	marshalJSON = iface("MarshalJSON", nil, []types.Type{byteSlice, errorType})
	unmarshJSON = iface("UnmarshalJSON", []types.Type{byteSlice}, []types.Type{errorType})
	marshalText = iface("MarshalText", nil, []types.Type{byteSlice, errorType})
	unmarshText = iface("UnmarshalText", []types.Type{byteSlice}, []types.Type{errorType})
)

func iface(method string, params, results []types.Type) *types.Interface {
	vars := func(ts []types.Type) *types.Tuple {
		var vs []*types.Var
		for _, t := range ts {
			vs = append(vs, types.NewParam(token.NoPos, nil, "", t))
		}
		return types.NewTuple(vs...)
	}
	sig := types.NewSignatureType(nil, nil, nil, vars(params), vars(results), false)
	it := types.NewInterfaceType([]*types.Func{types.NewFunc(token.NoPos, nil, method, sig)}, nil)
	return it.Complete()
}

// implements reports whether t or *t implements it.
func implements(t types.Type, it *types.Interface) bool {
	if types.Implements(t, it) {
		return true
	}
	if _, isIface := t.Underlying().(*types.Interface); isIface {
		return false
	}
	if _, isPtr := t.(*types.Pointer); isPtr {
		return false
	}
	return types.Implements(types.NewPointer(t), it)
}

// jsonProblem says why encoding/json cannot carry a value of type t, or
// returns "". It looks through exported struct fields recursively (cycles
// allowed); a type with its own JSON or text encoding is accepted as it is.
func (a *analyzer) jsonProblem(t types.Type) string {
	// Functions of a package share their types: remember the answers.
	if why, ok := a.jsonMemo[t]; ok {
		return why
	}
	why := a.jsonWalk(t, make(map[types.Type]bool))
	if a.jsonMemo == nil {
		a.jsonMemo = make(map[types.Type]string)
	}
	a.jsonMemo[t] = why
	return why
}

const maxNamedDepth = 1000

func (a *analyzer) jsonWalk(t types.Type, seen map[types.Type]bool) string {
	t = types.Unalias(t)
	if _, ok := t.(*types.TypeParam); ok {
		return "" // generic functions are reported on their own
	}
	if n, ok := t.(*types.Named); ok {
		if implements(t, marshalJSON) || implements(t, unmarshJSON) || implements(t, marshalText) {
			return ""
		}
		// seen makes cycles harmless; its size bounds instances of
		// generic types that keep growing (T[T[T[...]]]).
		if seen[n] || len(seen) > maxNamedDepth {
			return ""
		}
		seen[n] = true
	}
	switch u := t.Underlying().(type) {
	case *types.Basic:
		switch {
		case u.Kind() == types.Invalid:
			return "" // a type error, reported by the compiler
		case u.Info()&types.IsComplex != 0, u.Kind() == types.UnsafePointer:
			return a.typeString(t) + " has no JSON encoding"
		}
	case *types.Pointer:
		return a.jsonWalk(u.Elem(), seen)
	case *types.Slice:
		return a.jsonWalk(u.Elem(), seen)
	case *types.Array:
		return a.jsonWalk(u.Elem(), seen)
	case *types.Map:
		key := types.Unalias(u.Key())
		b, basic := key.Underlying().(*types.Basic)
		keyOK := basic && (b.Info()&(types.IsString|types.IsInteger) != 0 || b.Kind() == types.Invalid)
		if !keyOK && !(implements(key, marshalText) && implements(key, unmarshText)) {
			return fmt.Sprintf("map key type %s is not a string or integer", a.typeString(u.Key()))
		}
		return a.jsonWalk(u.Elem(), seen)
	case *types.Struct:
		for i := range u.NumFields() {
			f := u.Field(i)
			tag := reflect.StructTag(u.Tag(i)).Get("json")
			if tag == "-" {
				continue
			}
			if !f.Exported() {
				// encoding/json still promotes the exported fields of an
				// embedded unexported struct.
				if !f.Embedded() {
					continue
				}
				ft := types.Unalias(f.Type())
				if p, ok := ft.(*types.Pointer); ok {
					ft = types.Unalias(p.Elem())
				}
				if _, isStruct := ft.Underlying().(*types.Struct); !isStruct {
					continue
				}
			}
			if why := a.jsonWalk(f.Type(), seen); why != "" {
				return fmt.Sprintf("field %s of %s: %s", f.Name(), a.typeString(t), why)
			}
		}
	case *types.Chan:
		return a.typeString(t) + " is a channel"
	case *types.Signature:
		return a.typeString(t) + " is a function"
	case *types.Interface:
		if u.Empty() || isError(t) {
			return ""
		}
		return a.typeString(t) + " is a non-empty interface: JSON cannot decode into it"
	}
	return ""
}

// nameProblem says why code outside the package, in the generated handler
// of this module, could not write type t, or returns "".
func (a *analyzer) nameProblem(t types.Type) string {
	return a.nameWalk(t, make(map[types.Type]bool))
}

func (a *analyzer) nameWalk(t types.Type, seen map[types.Type]bool) string {
	if seen[t] {
		return ""
	}
	seen[t] = true
	checkObj := func(obj *types.TypeName) string {
		pkg := obj.Pkg()
		if pkg == nil {
			return "" // predeclared
		}
		qualified := pkg.Name() + "." + obj.Name()
		switch {
		case !obj.Exported():
			return qualified + " is unexported"
		case obj.Parent() != nil && obj.Parent() != pkg.Scope():
			return qualified + " is declared inside a function"
		case pkg.Name() == "main" && pkg != a.pass.Pkg: // package-main covers this package
			return qualified + " is declared in package main"
		case !a.importable(pkg.Path()):
			return qualified + " is in an internal package the module's handlers cannot import"
		}
		return ""
	}
	switch t := t.(type) {
	case *types.Alias:
		if why := checkObj(t.Obj()); why != "" {
			return why
		}
		if args := t.TypeArgs(); args != nil {
			for arg := range args.Types() {
				if why := a.nameWalk(arg, seen); why != "" {
					return why
				}
			}
		}
	case *types.Named:
		if why := checkObj(t.Obj()); why != "" {
			return why
		}
		if args := t.TypeArgs(); args != nil {
			for arg := range args.Types() {
				if why := a.nameWalk(arg, seen); why != "" {
					return why
				}
			}
		}
	case *types.Pointer:
		return a.nameWalk(t.Elem(), seen)
	case *types.Slice:
		return a.nameWalk(t.Elem(), seen)
	case *types.Array:
		return a.nameWalk(t.Elem(), seen)
	case *types.Chan:
		return a.nameWalk(t.Elem(), seen)
	case *types.Map:
		if why := a.nameWalk(t.Key(), seen); why != "" {
			return why
		}
		return a.nameWalk(t.Elem(), seen)
	case *types.Struct:
		for i := range t.NumFields() {
			f := t.Field(i)
			if !f.Exported() {
				return "its unexported field " + f.Name() + " belongs to package " + a.pass.Pkg.Name()
			}
			if why := a.nameWalk(f.Type(), seen); why != "" {
				return why
			}
		}
	}
	return ""
}

// importable reports whether the generated code of this module (under its
// root, .flash/handlers) may import the package at path: Go lets only the
// tree rooted at the parent of an internal directory import it.
func (a *analyzer) importable(path string) bool {
	parent, ok := internalParent(path)
	if !ok {
		return true
	}
	importer := a.pass.Pkg.Path()
	if m := a.pass.Module; m != nil && m.Path != "" {
		importer = m.Path + "/.flash/handlers"
	}
	return parent != "" && (importer == parent || strings.HasPrefix(importer, parent+"/"))
}

// internalParent returns the directory that holds the last "internal"
// element of path, when there is one.
func internalParent(path string) (string, bool) {
	switch {
	case strings.HasSuffix(path, "/internal"):
		return strings.TrimSuffix(path, "/internal"), true
	case path == "internal" || strings.HasPrefix(path, "internal/"):
		return "", true
	}
	if i := strings.LastIndex(path, "/internal/"); i >= 0 {
		return path[:i], true
	}
	return "", false
}

// scalarBind says how a path variable or query value of type t is parsed:
// with encoding.TextUnmarshaler when *t implements it, else by t's basic
// kind.
func (a *analyzer) scalarBind(t types.Type) (model.Bind, bool) {
	t = types.Unalias(t)
	if _, ok := t.(*types.Pointer); ok {
		return 0, false
	}
	if _, ok := t.(*types.TypeParam); ok {
		return 0, false
	}
	if _, isIface := t.Underlying().(*types.Interface); !isIface && types.Implements(types.NewPointer(t), unmarshText) {
		return model.BindText, true
	}
	b, ok := t.Underlying().(*types.Basic)
	if !ok {
		return 0, false
	}
	info := b.Info()
	switch {
	case info&types.IsString != 0:
		return model.BindString, true
	case info&types.IsBoolean != 0:
		return model.BindBool, true
	case info&types.IsInteger != 0 && info&types.IsUnsigned != 0:
		return model.BindUint, true
	case info&types.IsInteger != 0:
		return model.BindInt, true
	case info&types.IsFloat != 0:
		return model.BindFloat, true
	}
	return 0, false
}

// queryBind says how a query parameter of type t is parsed: T, *T, []T or
// *[]T for a scalar T.
func (a *analyzer) queryBind(t types.Type) (bind model.Bind, slice, ok bool) {
	t = types.Unalias(t)
	if p, isPtr := t.(*types.Pointer); isPtr {
		t = types.Unalias(p.Elem())
	}
	if bind, ok := a.scalarBind(t); ok {
		return bind, false, true
	}
	if s, isSlice := t.Underlying().(*types.Slice); isSlice {
		bind, ok := a.scalarBind(s.Elem())
		return bind, true, ok
	}
	return 0, false, false
}
