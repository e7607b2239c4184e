package openapi

import (
	"go/token"
	"go/types"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// Schema is a JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it). A zero
// Schema is {}: any value.
type Schema struct {
	Ref             string     `json:"$ref,omitempty"`
	Description     string     `json:"description,omitempty"`
	Type            Types      `json:"type,omitempty"`
	Format          string     `json:"format,omitempty"`
	ContentEncoding string     `json:"contentEncoding,omitempty"`
	Pattern         string     `json:"pattern,omitempty"`
	Minimum         *int64     `json:"minimum,omitempty"`
	Maximum         *int64     `json:"maximum,omitempty"`
	MinItems        *int64     `json:"minItems,omitempty"`
	MaxItems        *int64     `json:"maxItems,omitempty"`
	Items           *Schema    `json:"items,omitempty"`
	Properties      Properties `json:"properties,omitempty"`
	Required        []string   `json:"required,omitempty"`
	PropertyNames   *Schema    `json:"propertyNames,omitempty"`
	// AdditionalProperties is a *Schema, or false for objects that take
	// no other keys.
	AdditionalProperties any       `json:"additionalProperties,omitempty"`
	AnyOf                []*Schema `json:"anyOf,omitempty"`

	// comp is the component a $ref points at; its name is only known once
	// every type of the document has been seen (clashes are qualified).
	comp *component
}

// MarshalJSON writes the schema compactly, a component reference by the
// component's final name.
func (s *Schema) MarshalJSON() ([]byte, error) {
	w := &jsonWriter{}
	w.schema(s)
	return w.b.Bytes(), nil
}

// Types is a schema's "type": one name is written as a string, several as
// an array (["string", "null"]).
type Types []string

// Property is one property of an object schema.
type Property struct {
	Name   string
	Schema *Schema
}

// Properties are an object's properties in declaration order.
type Properties []Property

// component is a named type of components/schemas.
type component struct {
	key     string // the type's fully qualified string: unique
	pkgPath string
	pkgName string
	goName  string // the type's name, type arguments included, sanitised
	name    string // the final name, set by Schemas.Components
	schema  *Schema
}

// Schemas builds the schemas of Go types the way encoding/json encodes
// them, and collects the named struct types (and recursive named types) as
// components that the schemas refer to by $ref.
type Schemas struct {
	docs  model.Docs
	comps map[string]*component
	order []*component
	// inlining marks the named non-struct types being expanded, so that a
	// recursive one (type List []List) becomes a component.
	inlining map[string]*component
}

// NewSchemas returns an empty set of schemas; docs supply descriptions.
func NewSchemas(docs model.Docs) *Schemas {
	return &Schemas{docs: docs, comps: make(map[string]*component), inlining: make(map[string]*component)}
}

// Of returns the schema of the JSON encoding of a value of type t.
func (s *Schemas) Of(t types.Type) *Schema { return s.schema(t) }

// Value returns the schema of a non-null value of type t: a pointer's
// target, a slice or map that is present. Request parameters use it,
// since a null parameter counts as missing.
func (s *Schemas) Value(t types.Type) *Schema {
	t = types.Unalias(t)
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	sc := s.schema(t)
	if len(sc.Type) > 1 {
		sc.Type = slices.DeleteFunc(slices.Clone(sc.Type), func(x string) bool { return x == "null" })
	}
	return sc
}

// Components names the components and returns them by name. A Go name
// that two types share is qualified by package name (pkg_Type) for both,
// and numbered if that still clashes.
func (s *Schemas) Components() map[string]*Schema {
	byName := make(map[string][]*component)
	for _, c := range s.order {
		byName[c.goName] = append(byName[c.goName], c)
	}
	taken := make(map[string]bool)
	for _, c := range s.order {
		if len(byName[c.goName]) == 1 {
			c.name = c.goName
			taken[c.name] = true
		}
	}
	// Qualified names in key order, so that numbering is deterministic.
	var clashed []*component
	for _, c := range s.order {
		if len(byName[c.goName]) > 1 {
			clashed = append(clashed, c)
		}
	}
	slices.SortFunc(clashed, func(a, b *component) int { return strings.Compare(a.key, b.key) })
	for _, c := range clashed {
		base := sanitize(c.pkgName) + "_" + c.goName
		name := base
		for n := 2; taken[name]; n++ {
			name = base + strconv.Itoa(n)
		}
		c.name = name
		taken[name] = true
	}
	out := make(map[string]*Schema, len(s.order))
	for _, c := range s.order {
		out[c.name] = c.schema
	}
	return out
}

// addComponent registers a component for key and returns it; build fills
// its schema (after registration, so that recursion finds it).
func (s *Schemas) addComponent(key, pkgPath, pkgName, goName string, build func() *Schema) *component {
	if c, ok := s.comps[key]; ok {
		return c
	}
	c := &component{key: key, pkgPath: pkgPath, pkgName: pkgName, goName: goName}
	s.comps[key] = c
	s.order = append(s.order, c)
	c.schema = build()
	return c
}

func ref(c *component) *Schema { return &Schema{comp: c} }

var (
	errorType = types.Universe.Lookup("error").Type()
	bytesType = types.NewSlice(types.Typ[types.Byte])
	// jsonMarshaler and textMarshaler are encoding/json's and encoding's
	// interfaces, built here so that checking a type needs no import.
	jsonMarshaler = iface("MarshalJSON")
	textMarshaler = iface("MarshalText")
)

func iface(method string) *types.Interface {
	res := types.NewTuple(types.NewVar(token.NoPos, nil, "", bytesType), types.NewVar(token.NoPos, nil, "", errorType))
	sig := types.NewSignatureType(nil, nil, nil, nil, res, false)
	it := types.NewInterfaceType([]*types.Func{types.NewFunc(token.NoPos, nil, method, sig)}, nil)
	return it.Complete()
}

// implements reports whether t or *t has the methods of it, as
// encoding/json finds them on addressable values.
func implements(t types.Type, it *types.Interface) bool {
	if types.Implements(t, it) {
		return true
	}
	if _, isPtr := t.Underlying().(*types.Pointer); isPtr || types.IsInterface(t) {
		return false
	}
	return types.Implements(types.NewPointer(t), it)
}

func isNamed(t types.Type, pkg, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return false
	}
	return n.Obj().Pkg().Path() == pkg && n.Obj().Name() == name
}

func nullable(sc *Schema) *Schema {
	switch {
	case sc.comp != nil || sc.Ref != "":
		return &Schema{AnyOf: []*Schema{sc, {Type: Types{"null"}}}}
	case len(sc.Type) == 0 && sc.AnyOf == nil:
		return sc // any value, null included
	case sc.AnyOf != nil:
		if !slices.ContainsFunc(sc.AnyOf, func(x *Schema) bool { return slices.Contains(x.Type, "null") }) {
			sc.AnyOf = append(sc.AnyOf, &Schema{Type: Types{"null"}})
		}
		return sc
	case !slices.Contains(sc.Type, "null"):
		sc.Type = append(slices.Clone(sc.Type), "null")
	}
	return sc
}

func int64p(n int64) *int64 { return &n }

func (s *Schemas) schema(t types.Type) *Schema {
	t = types.Unalias(t)
	switch {
	case isNamed(t, "time", "Time"):
		return &Schema{Type: Types{"string"}, Format: "date-time"}
	case isNamed(t, "encoding/json", "RawMessage"):
		return &Schema{} // any JSON value, verbatim
	case isNamed(t, "encoding/json", "Number"):
		return &Schema{Type: Types{"number"}}
	}
	if _, isPtr := t.(*types.Pointer); !isPtr && !types.IsInterface(t) {
		if implements(t, jsonMarshaler) {
			return &Schema{} // its own encoding: nothing is known of it
		}
		if implements(t, textMarshaler) {
			return &Schema{Type: Types{"string"}}
		}
	}
	if n, ok := t.(*types.Named); ok {
		if _, isStruct := n.Underlying().(*types.Struct); isStruct {
			return ref(s.namedStruct(n))
		}
		return s.namedOther(n)
	}
	return s.underlying(t)
}

// underlying is the schema of t's structure, its name aside.
func (s *Schemas) underlying(t types.Type) *Schema {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return basic(u)
	case *types.Pointer:
		return nullable(s.schema(u.Elem()))
	case *types.Slice:
		if isByte(u.Elem()) {
			// encoding/json writes []byte as base64, unless its element
			// type marshals itself.
			return &Schema{Type: Types{"string", "null"}, ContentEncoding: "base64"}
		}
		return &Schema{Type: Types{"array", "null"}, Items: s.schema(u.Elem())}
	case *types.Array:
		n := u.Len()
		return &Schema{Type: Types{"array"}, Items: s.schema(u.Elem()), MinItems: int64p(n), MaxItems: int64p(n)}
	case *types.Map:
		sc := &Schema{Type: Types{"object", "null"}, AdditionalProperties: s.schema(u.Elem())}
		if b, ok := u.Key().Underlying().(*types.Basic); ok && b.Info()&types.IsInteger != 0 && !implements(u.Key(), textMarshaler) {
			if b.Info()&types.IsUnsigned != 0 {
				sc.PropertyNames = &Schema{Pattern: "^[0-9]+$"}
			} else {
				sc.PropertyNames = &Schema{Pattern: "^-?[0-9]+$"}
			}
		}
		return sc
	case *types.Struct:
		return s.structSchema(u, nil)
	case *types.Interface:
		return &Schema{}
	}
	return &Schema{}
}

func isByte(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	if !ok || b.Kind() != types.Uint8 {
		return false
	}
	return !implements(t, jsonMarshaler) && !implements(t, textMarshaler)
}

func basic(b *types.Basic) *Schema {
	info := b.Info()
	switch {
	case info&types.IsBoolean != 0:
		return &Schema{Type: Types{"boolean"}}
	case info&types.IsString != 0:
		return &Schema{Type: Types{"string"}}
	case info&types.IsInteger != 0:
		sc := &Schema{Type: Types{"integer"}}
		switch b.Kind() {
		case types.Int8:
			sc.Minimum, sc.Maximum = int64p(-128), int64p(127)
		case types.Int16:
			sc.Minimum, sc.Maximum = int64p(-32768), int64p(32767)
		case types.Int32:
			sc.Format = "int32"
		case types.Uint8:
			sc.Minimum, sc.Maximum = int64p(0), int64p(255)
		case types.Uint16:
			sc.Minimum, sc.Maximum = int64p(0), int64p(65535)
		case types.Uint32:
			sc.Minimum, sc.Maximum = int64p(0), int64p(4294967295)
		case types.Uint, types.Uint64, types.Uintptr:
			sc.Minimum = int64p(0)
		default:
			sc.Format = "int64"
		}
		return sc
	case info&types.IsFloat != 0:
		if b.Kind() == types.Float32 {
			return &Schema{Type: Types{"number"}, Format: "float"}
		}
		return &Schema{Type: Types{"number"}, Format: "double"}
	}
	return &Schema{}
}

// namedStruct returns the component of a named struct type.
func (s *Schemas) namedStruct(n *types.Named) *component {
	obj := n.Obj()
	pkgPath, pkgName := "", ""
	if obj.Pkg() != nil {
		pkgPath, pkgName = obj.Pkg().Path(), obj.Pkg().Name()
	}
	return s.addComponent(types.TypeString(n, nil), pkgPath, pkgName, goName(n), func() *Schema {
		sc := s.structSchema(n.Underlying().(*types.Struct), n)
		sc.Description = s.docs.Lookup(pkgPath, obj.Name())
		return sc
	})
}

// namedOther expands a named type that is not a struct in place, unless it
// refers to itself: it is then a component.
func (s *Schemas) namedOther(n *types.Named) *Schema {
	key := types.TypeString(n, nil)
	if c, ok := s.comps[key]; ok {
		return ref(c)
	}
	if c, ok := s.inlining[key]; ok {
		if c == nil {
			obj := n.Obj()
			pkgPath, pkgName := "", ""
			if obj.Pkg() != nil {
				pkgPath, pkgName = obj.Pkg().Path(), obj.Pkg().Name()
			}
			c = &component{key: key, pkgPath: pkgPath, pkgName: pkgName, goName: goName(n)}
			s.inlining[key] = c
		}
		return ref(c)
	}
	s.inlining[key] = nil
	sc := s.underlying(n)
	c := s.inlining[key]
	delete(s.inlining, key)
	if c == nil {
		return sc
	}
	// The type refers to itself: it becomes a component.
	c.schema = sc
	s.comps[key] = c
	s.order = append(s.order, c)
	return ref(c)
}

// goName is a component name for n: its name with type arguments, each
// character outside [A-Za-z0-9_.-] replaced by '_'.
func goName(n *types.Named) string {
	name := n.Obj().Name()
	if args := n.TypeArgs(); args != nil && args.Len() > 0 {
		for i := range args.Len() {
			name += "_" + types.TypeString(args.At(i), func(p *types.Package) string { return p.Name() })
		}
	}
	return sanitize(name)
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' || r == '.' || r == '-') {
			return r
		}
		return '_'
	}, s)
}

// field is one JSON property of a struct, as encoding/json's typeFields
// finds it.
type field struct {
	name      string
	tagged    bool
	index     []int
	typ       types.Type
	omit      bool // omitempty or omitzero: not always present
	quoted    bool // ",string"
	owner     *types.Named
	goName    string
	embedded  bool
	structTyp *types.Struct // set on embedded structs to explore
}

// structSchema is the object schema of st, whose named type (if any) is
// owner.
func (s *Schemas) structSchema(st *types.Struct, owner *types.Named) *Schema {
	sc := &Schema{Type: Types{"object"}}
	for _, f := range jsonFields(st, owner) {
		var p *Schema
		if f.quoted {
			p = quotedSchema(f.typ)
		} else {
			p = s.schema(f.typ)
		}
		if f.owner != nil && f.owner.Obj().Pkg() != nil {
			if d := s.docs.Lookup(f.owner.Obj().Pkg().Path(), f.owner.Obj().Name()+"."+f.goName); d != "" {
				if p.comp != nil {
					p = &Schema{comp: p.comp} // a fresh $ref: the description is this property's
				}
				p.Description = d
			}
		}
		sc.Properties = append(sc.Properties, Property{Name: f.name, Schema: p})
		if !f.omit {
			sc.Required = append(sc.Required, f.name)
		}
	}
	return sc
}

// quotedSchema is the schema of a ",string" field: the value's JSON text
// inside a string (a string field's is a quoted JSON string).
func quotedSchema(t types.Type) *Schema {
	sc := &Schema{Type: Types{"string"}}
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
		sc.Type = Types{"string", "null"}
	}
	if b, ok := t.Underlying().(*types.Basic); ok {
		switch {
		case b.Info()&types.IsInteger != 0:
			sc.Pattern = "^-?[0-9]+$"
		case b.Info()&types.IsBoolean != 0:
			sc.Pattern = "^(true|false)$"
		}
	}
	return sc
}

// jsonFields ports encoding/json's typeFields: the fields of st, embedded
// structs flattened breadth-first, with Go's rules for names that several
// depths share (the shallowest wins; at one depth a tagged name wins;
// otherwise the name is dropped), in declaration order.
func jsonFields(st *types.Struct, owner *types.Named) []field {
	type level struct {
		st    *types.Struct
		owner *types.Named
		index []int
		key   string
		// viaPointer: reached through an embedded pointer, whose fields
		// encoding/json leaves out when it is nil.
		viaPointer bool
	}
	var fields []field
	current := []level{}
	next := []level{{st: st, owner: owner, key: types.TypeString(st, nil)}}
	var count, nextCount map[string]int
	visited := make(map[string]bool)
	for len(next) > 0 {
		current, next = next, nil
		count, nextCount = nextCount, make(map[string]int)
		for _, lv := range current {
			if visited[lv.key] {
				continue
			}
			visited[lv.key] = true
			for i := range lv.st.NumFields() {
				sf := lv.st.Field(i)
				ft := types.Unalias(sf.Type())
				if sf.Embedded() {
					t := ft
					if p, ok := t.Underlying().(*types.Pointer); ok {
						t = p.Elem()
					}
					if _, isStruct := t.Underlying().(*types.Struct); !sf.Exported() && !isStruct {
						continue
					}
				} else if !sf.Exported() {
					continue
				}
				tag := reflect.StructTag(lv.st.Tag(i)).Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTag(name) {
					name = ""
				}
				index := append(slices.Clone(lv.index), i)
				viaPointer := lv.viaPointer
				if p, ok := ft.(*types.Pointer); ok {
					ft = types.Unalias(p.Elem())
					viaPointer = viaPointer || sf.Embedded()
				}
				fst, isStruct := ft.Underlying().(*types.Struct)
				if name != "" || !sf.Embedded() || !isStruct {
					f := field{name: name, tagged: name != "", index: index, typ: types.Unalias(sf.Type()),
						owner: lv.owner, goName: sf.Name(), omit: lv.viaPointer}
					if f.name == "" {
						f.name = sf.Name()
					}
					for o := range strings.SplitSeq(opts, ",") {
						switch o {
						case "omitempty", "omitzero":
							f.omit = true
						case "string":
							if b, ok := ft.Underlying().(*types.Basic); ok && b.Info()&(types.IsBoolean|types.IsNumeric|types.IsString) != 0 {
								f.quoted = true
							}
						}
					}
					fields = append(fields, f)
					if count[lv.key] > 1 {
						// The struct appeared twice at the level above:
						// the duplicate makes the name ambiguous below.
						fields = append(fields, f)
					}
					continue
				}
				key := types.TypeString(ft, nil)
				nextCount[key]++
				if nextCount[key] == 1 {
					var o *types.Named
					if n, ok := ft.(*types.Named); ok {
						o = n
					}
					next = append(next, level{st: fst, owner: o, index: index, key: key, viaPointer: viaPointer})
				}
			}
		}
	}
	slices.SortStableFunc(fields, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0:0]
	for i := 0; i < len(fields); {
		j := i + 1
		for j < len(fields) && fields[j].name == fields[i].name {
			j++
		}
		group := fields[i:j]
		if len(group) == 1 || len(group[0].index) < len(group[1].index) || group[0].tagged != group[1].tagged {
			out = append(out, group[0])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}

// validTag is encoding/json's isValidTag.
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
