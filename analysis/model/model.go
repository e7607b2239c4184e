// Package model is flash-lsp's one description of a Flash project: the
// resources a module declares and the remote functions bound to them, with
// their routes and parameter bindings.
//
// The remote analyzer builds a Package per Go package while it checks it;
// the whole-module step (package project) joins them; codegen writes the
// manifest and handlers from them; the language server answers hover and
// completion from them. A fact about a function is computed once, here or in
// the analyzer, and read everywhere else.
package model

import (
	"bytes"
	"go/token"
	"go/types"
	"path/filepath"
	"strings"

	"github.com/flash-lsp/flash-lsp/runtime"
)

// RuntimePath is the import path of the package declaring the resource types.
const RuntimePath = "github.com/flash-lsp/flash-lsp/runtime"

// ResourceTypes maps each resource type name of package runtime to a zero
// value of it, which knows its manifest type and whether it is load-balanced
// and live.
var ResourceTypes = map[string]runtime.Resource{
	"Serverless":          runtime.Serverless{},
	"CPUServerless":       runtime.CPUServerless{},
	"LiveServerless":      runtime.LiveServerless{},
	"CPULiveServerless":   runtime.CPULiveServerless{},
	"LoadBalancer":        runtime.LoadBalancer{},
	"CPULoadBalancer":     runtime.CPULoadBalancer{},
	"LiveLoadBalancer":    runtime.LiveLoadBalancer{},
	"CPULiveLoadBalancer": runtime.CPULiveLoadBalancer{},
}

// Package is what one Go package contributes to the project.
type Package struct {
	Path string // import path
	Name string // package name
	// Dir is the package's directory (absolute).
	Dir       string
	Resources []*Resource // in source order
	Functions []*Function // in source order
	// Docs holds the doc comments of the package's named types, by type
	// name ("Item"), and of their struct fields, by "Type.Field"
	// ("Item.Price"), for the descriptions of the OpenAPI documents.
	// Empty comments are left out.
	Docs map[string]string
}

// Docs holds the type and field doc comments of several packages (see
// Package.Docs), by import path.
type Docs map[string]map[string]string

// CollectDocs gathers the Docs of pkgs.
func CollectDocs(pkgs []*Package) Docs {
	d := make(Docs, len(pkgs))
	for _, p := range pkgs {
		if p != nil && len(p.Docs) > 0 {
			d[p.Path] = p.Docs
		}
	}
	return d
}

// Lookup returns the doc comment of key ("Type" or "Type.Field") in the
// package with import path pkg, or "".
func (d Docs) Lookup(pkg, key string) string { return d[pkg][key] }

// Resource is a package-level variable initialised with a resource literal.
type Resource struct {
	Pkg     string // import path of the declaring package
	PkgName string
	Var     string // the variable's name
	// Type is the runtime type's name ("LoadBalancer"); Pointer is set when
	// the variable is declared as &runtime.T{...}.
	Type    string
	Pointer bool
	// Kind is a zero value of the runtime type.
	Kind runtime.Resource
	// Name is the constant value of the Name field ("" when missing or not
	// constant).
	Name string
	// Literal reports whether the initialiser is a composite literal whose
	// fields flash-lsp could read.
	Literal bool
	// Config lists the fields set in the literal, in source order.
	Config []Setting
	// Pos and End span the variable's identifier; NamePos and NameEnd the
	// Name value as written (Pos and End when there is none).
	Pos, End         token.Position
	NamePos, NameEnd token.Position
	// TokPos and TokEnd are Pos's token.Pos range, valid in the FileSet of
	// the analysis that built it.
	TokPos, TokEnd token.Pos
}

// ResourceType returns the manifest resource_type.
func (r *Resource) ResourceType() string { return r.Kind.ResourceType() }

// LoadBalanced reports whether the resource serves HTTP routes.
func (r *Resource) LoadBalanced() bool { return r.Kind.IsLoadBalanced() }

// CPU reports whether the resource runs on CPU workers (the CPU* types).
func (r *Resource) CPU() bool { return strings.HasPrefix(r.Type, "CPU") }

// Live reports whether the resource is a live resource (POST /execute on).
func (r *Resource) Live() bool { return r.Kind.IsLive() }

// Mothership reports whether the literal sets Mothership: true.
func (r *Resource) Mothership() bool {
	for _, s := range r.Config {
		if s.Field == "Mothership" {
			b, _ := s.Value.(bool)
			return b
		}
	}
	return false
}

// Ref returns "pkgpath.Var", the resource variable's qualified name.
func (r *Resource) Ref() string { return r.Pkg + "." + r.Var }

// Dir returns the resource's directory name: its Name with every character
// outside [A-Za-z0-9_-] replaced by '_'.
func (r *Resource) Dir() string { return DirName(r.Name) }

// DirName sanitises a resource name into a directory name.
func DirName(name string) string {
	var b strings.Builder
	for _, c := range name {
		if c < 128 && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// Setting is one field set in a resource literal.
type Setting struct {
	Field string // Go field name ("WorkersMax")
	Key   string // manifest key ("workersMax")
	// Value is the constant value: string, int64, bool, []string or
	// map[string]string; nil when the value is not constant.
	Value any
	// Pos and KeyEnd span the field's key (its value, for an element
	// without a key).
	Pos, KeyEnd token.Position
}

// ConfigKeys maps Config field names to manifest keys.
var ConfigKeys = map[string]string{
	"Name":        "name",
	"ImageName":   "imageName",
	"GPUs":        "gpuIds",
	"GPUCount":    "gpuCount",
	"Instances":   "instanceIds",
	"WorkersMin":  "workersMin",
	"WorkersMax":  "workersMax",
	"IdleTimeout": "idleTimeout",
	"ScalerType":  "scalerType",
	"ScalerValue": "scalerValue",
	"Env":         "env",
	"Mothership":  "is_mothership",
	// Deployment settings (SPEC 17.1).
	"DiskGB":         "diskGb",
	"Timeout":        "timeout",
	"FlashBoot":      "flashboot",
	"DataCenters":    "dataCenterIds",
	"NetworkVolumes": "networkVolumes",
	"Registry":       "registry",
}

// FlashBootModes are the accepted FlashBoot values.
var FlashBootModes = []string{"OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT"}

// Function is a function carrying a //flash:remote directive.
type Function struct {
	Pkg       string // import path
	PkgName   string
	Name      string // bare name
	Qualified string // "pkgpath.Name"
	// Doc is the function's doc comment without its directives
	// (ast.CommentGroup.Text).
	Doc string
	// Pos and NameEnd span the function's name.
	Pos, NameEnd token.Position
	// DirectivePos, ResourcePos, MethodPos and PathPos locate the directive
	// and its fields (zero when absent); *ValuePos are the starts of the
	// values after "key="; *End are exclusive ends. Rules underline these
	// spans as they are: nobody counts bytes.
	DirectivePos         token.Position
	ResourcePos          token.Position
	ResourceEnd          token.Position
	MethodPos, MethodEnd token.Position
	MethodValuePos       token.Position
	PathPos, PathEnd     token.Position
	PathValuePos         token.Position

	// ResourceRef is the resource field as written ("API", "res.GPU").
	ResourceRef string
	// Resource is the resource it resolves to, nil when it does not.
	Resource *Resource
	// Method and Path are the directive's values as written.
	Method, Path string
	// RouteKey is RouteKey(Method, Path) for a valid route of a
	// load-balanced resource, equal for two functions exactly when the
	// router cannot tell their routes apart; "" otherwise.
	RouteKey string

	// Context reports whether the first parameter is a context.Context.
	Context bool
	// Params are the parameters after the context, in order.
	Params []*Param
	// Result is T of a (T) or (T, error) result; nil otherwise.
	Result types.Type
	// ResultString is Result as types.TypeString qualified by package name.
	ResultString string
	// Error reports whether the last result is error.
	Error bool
	// Stream reports whether the function returns iter.Seq2[T, error] or
	// iter.Seq[T] (SPEC section 18): Result is then T, the type of each
	// streamed value, and Error reports an iter.Seq2, whose values may
	// carry an error that ends the stream.
	Stream bool

	// Valid is set when no error finding concerns this function, so that
	// code can be generated for it.
	Valid bool
}

// Bind says how a parameter is decoded.
type Bind int

const (
	// BindJSON decodes the parameter from a JSON value (body and arg).
	BindJSON Bind = iota
	// The scalar kinds parse a path variable or query value; the element
	// type is the parameter's type, or its element for slices and pointers.
	BindString
	BindBool
	BindInt
	BindUint
	BindFloat
	// BindText uses encoding.TextUnmarshaler.
	BindText
)

// Where a parameter comes from, as written in the manifest's "in".
const (
	InPath  = "path"
	InQuery = "query"
	InBody  = "body"
	InArg   = "arg"
)

// Param is one parameter of a remote function (the context excluded).
type Param struct {
	Name string
	Type types.Type
	// TypeString is Type as types.TypeString qualified by package name
	// ("api.Item", "[]string", "*int").
	TypeString string
	// In is InPath, InQuery, InBody or InArg.
	In string
	// Bind is how a path or query value is parsed (BindJSON for body and
	// arg parameters).
	Bind Bind
	// Optional is set for pointer parameters.
	Optional bool
	// Slice is set for query parameters that are slices ([]T or *[]T).
	Slice bool
}

// GeneratedHeader is the first line of every Go file flash-lsp generates
// (handlers, typed clients, the run --all program), the marker by which
// the writer, the client-cycle rule and the language server recognise
// them.
const GeneratedHeader = "// Code generated by flash-lsp. DO NOT EDIT."

// IsGenerated reports whether data, the contents of a file, has
// GeneratedHeader as its first line.
func IsGenerated(data []byte) bool {
	rest, ok := bytes.CutPrefix(data, []byte(GeneratedHeader))
	return ok && (len(rest) == 0 || rest[0] == '\n' || bytes.HasPrefix(rest, []byte("\r\n")))
}

// UnderFlashDir reports whether filename lies in a .flash directory, where
// flash-lsp writes what it generates: files there are never analysed, by
// check and the language server alike.
func UnderFlashDir(filename string) bool {
	for _, part := range strings.Split(filepath.ToSlash(filepath.Dir(filename)), "/") {
		if part == ".flash" {
			return true
		}
	}
	return false
}
