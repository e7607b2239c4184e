package codegen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/flash-lsp/flash-lsp/analysis/model"
)

// ManifestVersion is the manifest's "version".
const ManifestVersion = "1.0"

// ManifestPath is where the manifest is written, relative to the module root.
const ManifestPath = ".flash/flash_manifest.json"

// HandlersDir holds one handler directory per resource, relative to the
// module root.
const HandlersDir = ".flash/handlers"

// timeLayout is generated_at's format: UTC to the second.
const timeLayout = "2006-01-02T15:04:05Z"

// Manifest is flash_manifest.json (SPEC section 5). Maps marshal with sorted
// keys; everything else has a fixed order, so the encoding is deterministic.
type Manifest struct {
	Version string `json:"version"`
	// GeneratedAt is empty in the copy embedded in handlers.
	GeneratedAt      string                       `json:"generated_at,omitempty"`
	ProjectName      string                       `json:"project_name"`
	Module           string                       `json:"module"`
	Resources        map[string]*ManifestResource `json:"resources"`
	FunctionRegistry map[string]string            `json:"function_registry"`
	// Routes maps resource name → "METHOD /path" → qualified function name;
	// it is left out when no resource has routes.
	Routes map[string]map[string]string `json:"routes,omitempty"`
}

// ManifestResource is one entry of the manifest's "resources".
type ManifestResource struct {
	ResourceType   string
	HandlerFile    string
	LoadBalanced   bool
	Live           bool
	Mothership     bool
	ConfigVariable string
	ConfigPackage  string
	ConfigHash     string
	// Config holds the config keys set in the resource literal ("name",
	// "workersMax", ...) except is_mothership, which is always present.
	Config    map[string]any
	Functions []*ManifestFunction
}

// MarshalJSON writes the fixed keys first, then the config keys in sorted
// order, then the functions.
func (r *ManifestResource) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	field := func(key string, v any) error {
		if b.Len() > 0 {
			b.WriteByte(',')
		} else {
			b.WriteByte('{')
		}
		k, _ := marshalCompact(key)
		b.Write(k)
		b.WriteByte(':')
		data, err := marshalCompact(v)
		if err != nil {
			return fmt.Errorf("resource key %s: %w", key, err)
		}
		b.Write(data)
		return nil
	}
	fixed := []struct {
		key string
		v   any
	}{
		{"resource_type", r.ResourceType},
		{"handler_file", r.HandlerFile},
		{"is_load_balanced", r.LoadBalanced},
		{"is_live_resource", r.Live},
		{"is_mothership", r.Mothership},
		{"config_variable", r.ConfigVariable},
		{"config_package", r.ConfigPackage},
		{"config_hash", r.ConfigHash},
	}
	for _, f := range fixed {
		if err := field(f.key, f.v); err != nil {
			return nil, err
		}
	}
	for _, k := range sortedKeys(r.Config) {
		if err := field(k, r.Config[k]); err != nil {
			return nil, err
		}
	}
	fns := r.Functions
	if fns == nil {
		fns = []*ManifestFunction{}
	}
	if err := field("functions", fns); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ManifestFunction is one remote function of a resource.
type ManifestFunction struct {
	Name           string `json:"name"`
	Module         string `json:"module"`
	QualifiedName  string `json:"qualified_name"`
	IsAsync        bool   `json:"is_async"`
	IsClass        bool   `json:"is_class"`
	IsLoadBalanced bool   `json:"is_load_balanced"`
	IsLiveResource bool   `json:"is_live_resource"`
	// IsStream marks a function that streams its results (SPEC 18); it is
	// left out for the others.
	IsStream       bool            `json:"is_stream,omitempty"`
	ConfigVariable string          `json:"config_variable"`
	HTTPMethod     string          `json:"http_method,omitempty"`
	HTTPPath       string          `json:"http_path,omitempty"`
	File           string          `json:"file"`
	Line           int             `json:"line"`
	Params         []ManifestParam `json:"params"`
}

// ManifestParam is one parameter of a function (the context excluded).
type ManifestParam struct {
	Name string `json:"name"`
	Type string `json:"type"`
	In   string `json:"in"`
}

// Marshal encodes the manifest: two-space indent, no HTML escaping, a
// trailing newline.
func (m *Manifest) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return b.Bytes(), nil
}

// marshalCompact is json.Marshal without HTML escaping.
func marshalCompact(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// ConfigHash is the drift-detection hash of a resource (SPEC section 13): the
// sha256, in hex, of the compact JSON with sorted keys of resource_type plus
// the manifest config keys set in the literal, name included. Settings whose
// value is not constant are left out: nothing is known about them.
func ConfigHash(r *model.Resource) (string, error) {
	obj := map[string]any{"resource_type": r.ResourceType()}
	for _, s := range r.Config {
		if s.Value == nil || s.Key == "" {
			continue
		}
		obj[s.Key] = s.Value
	}
	data, err := marshalCompact(obj) // maps marshal with sorted keys
	if err != nil {
		return "", fmt.Errorf("hashing config of resource %s: %w", r.Name, err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// buildManifest builds the manifest of p, without generated_at.
func buildManifest(p *Project, byRes map[*model.Resource][]*model.Function) (*Manifest, error) {
	m := &Manifest{
		Version:          ManifestVersion,
		ProjectName:      p.name(),
		Module:           p.Module,
		Resources:        make(map[string]*ManifestResource),
		FunctionRegistry: make(map[string]string),
		Routes:           make(map[string]map[string]string),
	}
	for _, r := range p.Resources {
		hash, err := ConfigHash(r)
		if err != nil {
			return nil, err
		}
		mr := &ManifestResource{
			ResourceType:   r.ResourceType(),
			HandlerFile:    HandlerFile(r.Name),
			LoadBalanced:   r.LoadBalanced(),
			Live:           r.Live(),
			Mothership:     r.Mothership(),
			ConfigVariable: r.Var,
			ConfigPackage:  r.Pkg,
			ConfigHash:     hash,
			Config:         make(map[string]any),
			Functions:      []*ManifestFunction{},
		}
		for _, s := range r.Config {
			if s.Value == nil || s.Key == "" || s.Key == "is_mothership" {
				continue
			}
			mr.Config[s.Key] = s.Value
		}
		for _, f := range byRes[r] {
			mf := &ManifestFunction{
				Name:           f.Name,
				Module:         f.Pkg,
				QualifiedName:  f.Qualified,
				IsLoadBalanced: r.LoadBalanced(),
				IsLiveResource: r.Live(),
				IsStream:       f.Stream,
				ConfigVariable: r.Var,
				File:           p.relFile(f.Pos.Filename),
				Line:           f.Pos.Line,
				Params:         []ManifestParam{},
			}
			if r.LoadBalanced() {
				mf.HTTPMethod, mf.HTTPPath = f.Method, f.Path
				if m.Routes[r.Name] == nil {
					m.Routes[r.Name] = make(map[string]string)
				}
				m.Routes[r.Name][f.Method+" "+f.Path] = f.Qualified
			}
			for _, prm := range f.Params {
				mf.Params = append(mf.Params, ManifestParam{Name: prm.Name, Type: prm.TypeString, In: prm.In})
			}
			mr.Functions = append(mr.Functions, mf)
			m.FunctionRegistry[f.Qualified] = r.Name
		}
		m.Resources[r.Name] = mr
	}
	if len(m.Routes) == 0 {
		m.Routes = nil
	}
	return m, nil
}

// HandlerFile returns the path of a resource's handler, relative to the module
// root and slash-separated.
func HandlerFile(resourceName string) string {
	return path.Join(HandlersDir, model.DirName(resourceName), "main.go")
}

// FormatTime formats t as generated_at: UTC, to the second.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// relFile returns filename relative to the module root with forward slashes;
// a file outside the root keeps its absolute path.
func (p *Project) relFile(filename string) string {
	if filename == "" {
		return ""
	}
	rel, err := filepath.Rel(p.Root, filename)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return filepath.ToSlash(filename)
	}
	return filepath.ToSlash(rel)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
