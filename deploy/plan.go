package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Plan actions.
const (
	Create    = "create"
	Update    = "update"
	Replace   = "replace"
	Unchanged = "unchanged"
	Delete    = "delete"
)

// Step is the plan for one resource.
type Step struct {
	Name   string `json:"name"`
	Action string `json:"action"`
	// Changes are the changed keys of an update, sorted: image, env, and
	// manifest config keys.
	Changes []string `json:"changes"`

	// Resource is the code's resource (nil for a delete); Prev what the
	// state holds (nil for a create).
	Resource *Resource      `json:"-"`
	Prev     *ResourceState `json:"-"`
}

// Plan is what a deploy would do, in resource-name order.
type Plan struct {
	Steps []*Step `json:"resources"`
	// Warnings are printed with the plan (cross-calls without a key).
	Warnings []string `json:"-"`
}

// PlanInput is what a plan is computed from; nothing in it needs the
// network.
type PlanInput struct {
	Resources []*Resource
	State     *State
	// Digests maps resource names to the digests of their freshly built
	// images; nil when images were not built (the language server), in
	// which case image changes are not detected.
	Digests map[string]string
	// Only limits the plan to these resources (all when empty).
	Only []string
	// APIKeySecret is --api-key-secret.
	APIKeySecret string
	// Deletes reports whether deletes will be applied (--yes): siblings
	// of a deleted resource lose its id from their env only then.
	Deletes bool
}

// MakePlan compares the code with the state.
func MakePlan(in PlanInput) *Plan {
	p := &Plan{}
	selected := func(name string) bool { return len(in.Only) == 0 || slices.Contains(in.Only, name) }
	inCode := map[string]*Resource{}
	for _, r := range in.Resources {
		inCode[r.Name] = r
	}
	var steps []*Step
	for _, r := range in.Resources {
		prev := in.State.Resources[r.Name]
		s := &Step{Name: r.Name, Resource: r, Prev: prev, Changes: []string{}}
		switch {
		case prev == nil || prev.EndpointID == "":
			s.Action = Create
		case prev.Type != r.Type || strings.HasPrefix(prev.ResourceType, "Cpu") != r.CPU:
			s.Action = Replace // the API cannot change either
		default:
			s.Action = Update
		}
		steps = append(steps, s)
	}
	for _, name := range in.State.Names() {
		if inCode[name] == nil {
			steps = append(steps, &Step{Name: name, Action: Delete, Prev: in.State.Resources[name], Changes: []string{}})
		}
	}
	w := PlannedWiring(steps, in.APIKeySecret, in.Deletes)
	for _, s := range steps {
		if s.Action != Update {
			continue
		}
		r, prev := s.Resource, s.Prev
		var changes []string
		if r.ConfigHash != prev.ConfigHash {
			changes = ConfigChanges(prev.Config, r.Config)
			if len(changes) == 0 {
				changes = []string{"config"}
			}
		}
		if d := in.Digests[r.Name]; in.Digests != nil && d != prev.ImageDigest {
			changes = append(changes, "image")
		}
		if EnvHash(r.Env(w)) != prev.EnvHash && !slices.Contains(changes, "env") {
			changes = append(changes, "env")
		}
		sort.Strings(changes)
		if len(changes) == 0 {
			s.Action = Unchanged
			changes = []string{}
		}
		s.Changes = changes
	}
	for _, s := range steps {
		if selected(s.Name) {
			p.Steps = append(p.Steps, s)
		}
	}
	sort.Slice(p.Steps, func(i, j int) bool { return p.Steps[i].Name < p.Steps[j].Name })
	if in.APIKeySecret == "" {
		for _, s := range p.Steps {
			if s.Resource != nil && s.Resource.UsesClients {
				p.Warnings = append(p.Warnings, fmt.Sprintf("resource %s calls other endpoints through typed clients, but no --api-key-secret was given: its calls will have no RUNPOD_API_KEY", s.Name))
			}
		}
	}
	return p
}

// PlannedWiring is the wiring after the plan's steps: ids from the state,
// PendingID for endpoints still to be created.
func PlannedWiring(steps []*Step, secret string, deletes bool) Wiring {
	w := Wiring{IDs: map[string]string{}, APIKeySecret: secret}
	for _, s := range steps {
		switch s.Action {
		case Create, Replace:
			w.IDs[s.Name] = PendingID
		case Delete:
			if !deletes {
				w.IDs[s.Name] = s.Prev.EndpointID
			}
		default:
			w.IDs[s.Name] = s.Prev.EndpointID
		}
		if s.Resource != nil && s.Resource.Mothership {
			w.Mothership = s.Name
		}
	}
	return w
}

// ConfigChanges lists the config keys whose values differ, sorted.
func ConfigChanges(old, cur map[string]any) []string {
	var out []string
	keys := map[string]bool{}
	for k := range old {
		keys[k] = true
	}
	for k := range cur {
		keys[k] = true
	}
	for k := range keys {
		if !sameJSON(old[k], cur[k]) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func sameJSON(a, b any) bool {
	da, _ := json.Marshal(a)
	db, _ := json.Marshal(b)
	var va, vb any
	json.Unmarshal(da, &va)
	json.Unmarshal(db, &vb)
	return reflect.DeepEqual(va, vb)
}

// Text formats the plan, one line per resource: `<action> <resource>`, and
// for an update `: ` and the changed keys.
func (p *Plan) Text() string {
	var b strings.Builder
	for _, s := range p.Steps {
		b.WriteString(s.Action + " " + s.Name)
		if s.Action == Update {
			b.WriteString(": " + strings.Join(s.Changes, ", "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// JSON formats the plan as {"resources": [{"name", "action", "changes"}]}.
func (p *Plan) JSON() ([]byte, error) {
	steps := p.Steps
	if steps == nil {
		steps = []*Step{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(struct {
		Resources []*Step `json:"resources"`
	}{steps}); err != nil {
		return nil, fmt.Errorf("encoding the plan: %w", err)
	}
	return b.Bytes(), nil
}

// Count returns how many steps have the action.
func (p *Plan) Count(action string) int {
	n := 0
	for _, s := range p.Steps {
		if s.Action == action {
			n++
		}
	}
	return n
}

// Changes reports whether the plan changes anything.
func (p *Plan) Changes() bool { return len(p.Steps) != p.Count(Unchanged) }
