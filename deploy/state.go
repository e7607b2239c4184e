// Package deploy takes a built project to RunPod (SPEC 17): it builds one
// image per resource, computes the plan (create, update, replace, unchanged,
// delete) from the manifest and the state file .flash/deploy.json, applies
// it through RunPod's REST v2 API with every endpoint's environment wired to
// its siblings, waits for health, and records what exists after every call
// that changed something, so an interrupted deploy resumes.
//
// The plan needs no network: the language server shows it from the state
// file and the current manifest.
package deploy

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/codegen"
	"github.com/flash-lsp/flash-lsp/deploy/runpod"
)

// StatePath is the state file, relative to the module root.
const StatePath = ".flash/deploy.json"

// StateVersion is the state file's format version.
const StateVersion = 1

// State is what a deploy created: one entry per resource.
type State struct {
	Version   int                       `json:"version"`
	Resources map[string]*ResourceState `json:"resources"`
}

// ResourceState is one deployed resource.
type ResourceState struct {
	// EndpointID is empty while a create is pending (PendingCreate).
	EndpointID string `json:"endpoint_id,omitempty"`
	// PendingCreate is set just before a create is sent and cleared when
	// its answer arrives: a resumed deploy looks for the endpoint the lost
	// answer described before creating another.
	PendingCreate bool `json:"pending_create,omitempty"`
	// Name is the endpoint's name at RunPod.
	Name string `json:"name"`
	// Type is QUEUE or LOAD_BALANCER; ResourceType the manifest's type.
	Type         string `json:"type"`
	ResourceType string `json:"resource_type"`
	Image        string `json:"image"`
	ImageDigest  string `json:"image_digest"`
	ConfigHash   string `json:"config_hash"`
	// Config holds the manifest config keys as deployed, so that a plan
	// can name the keys that changed.
	Config      map[string]any     `json:"config"`
	EnvHash     string             `json:"env_hash"`
	RequestURLs runpod.RequestURLs `json:"request_urls"`
}

// ReadState reads the state file of the module at root; a missing file is
// an empty state.
func ReadState(root string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(StatePath)))
	if errors.Is(err, fs.ErrNotExist) {
		return &State{Version: StateVersion, Resources: map[string]*ResourceState{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", StatePath, err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("reading %s: %w", StatePath, err)
	}
	if s.Version != StateVersion {
		return nil, fmt.Errorf("reading %s: unknown version %d (this flash-lsp writes %d)", StatePath, s.Version, StateVersion)
	}
	if s.Resources == nil {
		s.Resources = map[string]*ResourceState{}
	}
	return &s, nil
}

// WriteState writes the state file through codegen's writer: under the
// .flash/.lock of every writer, refusing symbolic links on the way, and
// atomically, so a reader sees the old file or the new one, never a part. It
// is the one place deploy.json is written.
func WriteState(root string, s *State) error {
	data, err := s.Marshal()
	if err != nil {
		return err
	}
	if err := codegen.WriteFlashFile(root, StatePath, data); err != nil {
		return fmt.Errorf("writing %s: %w", StatePath, err)
	}
	return nil
}

// Marshal encodes the state: two-space indent, sorted keys, a newline.
func (s *State) Marshal() ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", StatePath, err)
	}
	return b.Bytes(), nil
}

// Names returns the resource names of the state, sorted.
func (s *State) Names() []string {
	names := make([]string, 0, len(s.Resources))
	for n := range s.Resources {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup finds the resource arg names: its name, or its directory name
// (as flash-lsp run takes it).
func (s *State) Lookup(arg string) (name string, ok bool) {
	if s.Resources[arg] != nil {
		return arg, true
	}
	for _, n := range s.Names() {
		if model.DirName(n) == arg {
			return n, true
		}
	}
	return "", false
}

// EnvHash is the sha256 of an environment's canonical JSON.
func EnvHash(env map[string]string) string {
	data, _ := json.Marshal(env) // sorted keys
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
