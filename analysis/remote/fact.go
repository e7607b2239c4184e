package remote

import (
	"fmt"
	"go/token"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// ResourceFact is exported on every package-level variable whose type is one
// of the eight runtime resource types or a pointer to one, so that packages
// importing it can resolve directives such as //flash:remote res.GPU without
// its syntax (under go vet -vettool too). It holds plain fields only: vet's
// unitchecker serialises facts with encoding/gob.
type ResourceFact struct {
	// Type is the runtime type's name ("LoadBalancer"); Pointer is set for
	// variables declared as &runtime.T{...} or of type *runtime.T.
	Type    string
	Pointer bool
	// Name is the constant value of the Name field ("" when missing or not
	// constant).
	Name string
	// Literal reports whether the variable is initialised with a composite
	// literal (or & of one) whose fields flash-lsp read.
	Literal bool
	// Mothership reports whether the literal sets Mothership: true.
	Mothership bool
	// Settings are the fields set in the literal, in source order.
	Settings []FactSetting
	// Pos and End span the variable's identifier; NamePos and NameEnd the
	// Name value.
	Pos, End, NamePos, NameEnd token.Position
}

// FactSetting is one field of a resource literal. Const reports whether the
// value is constant; the value itself is in the one of Str, Int, Bool, List
// and Map that matches the field's type.
type FactSetting struct {
	Field, Key string
	Const      bool
	Str        string
	Int        int64
	Bool       bool
	List       []string
	Map        map[string]string
	Pos        token.Position
	KeyEnd     token.Position
}

// AFact marks ResourceFact as an analysis.Fact.
func (*ResourceFact) AFact() {}

func (f *ResourceFact) String() string {
	ptr := ""
	if f.Pointer {
		ptr = "*"
	}
	lit := ""
	if !f.Literal {
		lit = " (not a literal)"
	}
	return fmt.Sprintf("resource %s%s %q%s", ptr, f.Type, f.Name, lit)
}

// Fingerprint is what importers' analysis reads of the fact: the
// resource's type, whether it is a pointer and a readable literal, and its
// Name (in messages). Positions and settings are read only through the
// declaring package's own model, which the whole-module step links every
// function to.
func (f *ResourceFact) Fingerprint() string {
	return fmt.Sprintf("%s %t %q %t", f.Type, f.Pointer, f.Name, f.Literal)
}

// factOf describes r as a fact.
func factOf(r *model.Resource) *ResourceFact {
	f := &ResourceFact{
		Type:       r.Type,
		Pointer:    r.Pointer,
		Name:       r.Name,
		Literal:    r.Literal,
		Mothership: r.Mothership(),
		Pos:        r.Pos,
		End:        r.End,
		NamePos:    r.NamePos,
		NameEnd:    r.NameEnd,
	}
	for _, s := range r.Config {
		fs := FactSetting{Field: s.Field, Key: s.Key, Pos: s.Pos, KeyEnd: s.KeyEnd, Const: s.Value != nil}
		switch v := s.Value.(type) {
		case string:
			fs.Str = v
		case int64:
			fs.Int = v
		case bool:
			fs.Bool = v
		case []string:
			fs.List = v
		case map[string]string:
			fs.Map = v
		}
		f.Settings = append(f.Settings, fs)
	}
	return f
}

// resource rebuilds the model of an imported resource from its fact.
func (f *ResourceFact) resource(pkgPath, pkgName, varName string) *model.Resource {
	kind, ok := model.ResourceTypes[f.Type]
	if !ok {
		return nil
	}
	r := &model.Resource{
		Pkg:     pkgPath,
		PkgName: pkgName,
		Var:     varName,
		Type:    f.Type,
		Pointer: f.Pointer,
		Kind:    kind,
		Name:    f.Name,
		Literal: f.Literal,
		Pos:     f.Pos,
		End:     f.End,
		NamePos: f.NamePos,
		NameEnd: f.NameEnd,
	}
	for _, fs := range f.Settings {
		s := model.Setting{Field: fs.Field, Key: fs.Key, Pos: fs.Pos, KeyEnd: fs.KeyEnd}
		if fs.Const {
			s.Value = settingValue(fs)
		}
		r.Config = append(r.Config, s)
	}
	return r
}

// settingValue picks the value of fs by the type of its Config field.
func settingValue(fs FactSetting) any {
	switch fs.Field {
	case "Name", "ImageName", "ScalerType", "FlashBoot", "Registry":
		return fs.Str
	case "GPUs", "Instances", "DataCenters", "NetworkVolumes":
		if fs.List == nil {
			return []string{}
		}
		return fs.List
	case "Env":
		if fs.Map == nil {
			return map[string]string{}
		}
		return fs.Map
	case "Mothership":
		return fs.Bool
	default:
		return fs.Int
	}
}
