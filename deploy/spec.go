package deploy

import (
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"

	"github.com/flash-lsp/flash-lsp/analysis/model"
	"github.com/flash-lsp/flash-lsp/codegen"
	"github.com/flash-lsp/flash-lsp/deploy/runpod"
	"github.com/flash-lsp/flash-lsp/runtime"
)

// Defaults where the code sets nothing and the API needs a value.
var (
	// DefaultGPUPools is the GPU selection of a GPU resource without GPUs.
	DefaultGPUPools = []string{"ADA_24", "AMPERE_24", "AMPERE_16"}
	// DefaultCPU is the CPU selection of a CPU resource without Instances.
	DefaultCPU = runpod.CPU{ID: "cpu3c", VCPUCount: 2}
)

// defaultScalerValue is RunPod's own default for both scalers.
const defaultScalerValue = 4

// Resource is what the code asks for, for one resource.
type Resource struct {
	Name, Dir    string
	ResourceType string
	// Type is runpod.TypeQueue or runpod.TypeLoadBalancer.
	Type string
	CPU  bool
	// Mothership marks the load balancer that serves the app's manifest.
	Mothership bool
	ConfigHash string
	// Config are the manifest config keys, is_mothership included when
	// set.
	Config map[string]any
	// UsesClients reports whether the resource's packages import a
	// generated typed client: its calls to siblings need the API key.
	UsesClients bool
}

// Resources lists the manifest's resources, sorted by name.
func Resources(m *codegen.Manifest) []*Resource {
	var out []*Resource
	for name, mr := range m.Resources {
		r := &Resource{
			Name:         name,
			Dir:          model.DirName(name),
			ResourceType: mr.ResourceType,
			Type:         runpod.TypeQueue,
			CPU:          strings.HasPrefix(mr.ResourceType, "Cpu"),
			Mothership:   mr.Mothership,
			ConfigHash:   mr.ConfigHash,
			Config:       maps.Clone(mr.Config),
		}
		if r.Config == nil {
			r.Config = map[string]any{}
		}
		if mr.Mothership {
			r.Config["is_mothership"] = true
		}
		if mr.LoadBalanced {
			r.Type = runpod.TypeLoadBalancer
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (r *Resource) intKey(key string) (int, bool) {
	switch v := r.Config[key].(type) {
	case int64:
		return int(v), true
	case int:
		return v, true
	case float64:
		return int(v), true
	}
	return 0, false
}

func (r *Resource) stringKey(key string) (string, bool) {
	s, ok := r.Config[key].(string)
	return s, ok
}

func (r *Resource) listKey(key string) ([]string, bool) {
	switch v := r.Config[key].(type) {
	case []string:
		return v, true
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, _ := x.(string)
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// UserEnv is the resource's Env.
func (r *Resource) UserEnv() map[string]string {
	out := map[string]string{}
	switch v := r.Config["env"].(type) {
	case map[string]string:
		maps.Copy(out, v)
	case map[string]any:
		for k, x := range v {
			out[k], _ = x.(string)
		}
	}
	return out
}

// Ports returns the PORT and PORT_HEALTH of a load balancer: 80 unless the
// user's Env sets them.
func (r *Resource) Ports() (port, health string) {
	env := r.UserEnv()
	port = env["PORT"]
	if port == "" {
		port = "80"
	}
	health = env["PORT_HEALTH"]
	if health == "" {
		health = port
	}
	return port, health
}

// WorkersMin is the resource's WorkersMin (0 when unset).
func (r *Resource) WorkersMin() int {
	n, _ := r.intKey("workersMin")
	return n
}

// Wiring says how the endpoints of a deployment find each other.
type Wiring struct {
	// IDs maps resource names to endpoint ids (PendingID for endpoints not
	// created yet).
	IDs map[string]string
	// Mothership is the mothership's resource name, or "".
	Mothership string
	// APIKeySecret names the RunPod secret holding the API key (--api-key-
	// secret), or "".
	APIKeySecret string
}

// PendingID stands for the id of an endpoint that a plan would create.
const PendingID = "<pending>"

// Env is the full environment of r's endpoint (SPEC 17 "Wiring").
func (r *Resource) Env(w Wiring) map[string]string {
	env := r.UserEnv()
	env["FLASH_RESOURCE_NAME"] = r.Name
	for name, id := range w.IDs {
		if name != r.Name {
			env["FLASH_ENDPOINT_ID_"+runtime.EnvSuffix(name)] = id
		}
	}
	if w.Mothership != "" {
		if w.Mothership == r.Name {
			env["FLASH_IS_MOTHERSHIP"] = "true"
		} else if id := w.IDs[w.Mothership]; id != "" {
			env["FLASH_MOTHERSHIP_ID"] = id
		}
	}
	if r.UsesClients && w.APIKeySecret != "" {
		env["RUNPOD_API_KEY"] = "{{ RUNPOD_SECRET_" + w.APIKeySecret + " }}"
	}
	if r.Type == runpod.TypeLoadBalancer {
		env["PORT"], env["PORT_HEALTH"] = r.Ports()
	}
	return env
}

func ptr[T any](v T) *T { return &v }

// gpu returns the GPU selection of a GPU resource.
func (r *Resource) gpu() *runpod.GPU {
	if r.CPU {
		return nil
	}
	g := &runpod.GPU{Pools: DefaultGPUPools}
	if pools, ok := r.listKey("gpuIds"); ok && len(pools) > 0 {
		g.Pools = pools
	}
	if n, ok := r.intKey("gpuCount"); ok && n > 0 {
		g.Count = n
	}
	return g
}

// cpu returns the CPU selection of a CPU resource. An instance id of the
// form flavor-vcpus-memory (cpu3c-2-4) gives flavor and vCPU count; any
// other id is a flavor with two vCPUs.
func (r *Resource) cpu() []runpod.CPU {
	if !r.CPU {
		return nil
	}
	ids, _ := r.listKey("instanceIds")
	if len(ids) == 0 {
		return []runpod.CPU{DefaultCPU}
	}
	var out []runpod.CPU
	seen := map[runpod.CPU]bool{}
	for _, id := range ids {
		c := runpod.CPU{ID: id, VCPUCount: 2}
		if parts := strings.Split(id, "-"); len(parts) == 3 {
			if n, err := strconv.Atoi(parts[1]); err == nil && n >= 2 {
				c = runpod.CPU{ID: parts[0], VCPUCount: n}
			}
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func (r *Resource) workers() *runpod.Workers {
	var w runpod.Workers
	if n, ok := r.intKey("workersMin"); ok {
		w.Min = ptr(n)
	}
	if n, ok := r.intKey("workersMax"); ok {
		w.Max = ptr(n)
	}
	if n, ok := r.intKey("idleTimeout"); ok && n > 0 {
		w.IdleTimeout = ptr(n)
	}
	if w.Min == nil && w.Max == nil && w.IdleTimeout == nil {
		return nil
	}
	return &w
}

// scaling maps ScalerType and ScalerValue; load balancers default to
// REQUEST_COUNT, queues to QUEUE_DELAY.
func (r *Resource) scaling() runpod.Scaling {
	typ, _ := r.stringKey("scalerType")
	if typ == "" {
		typ = runpod.ScalerQueueDelay
		if r.Type == runpod.TypeLoadBalancer {
			typ = runpod.ScalerRequestCount
		}
	}
	v, ok := r.intKey("scalerValue")
	if !ok || v <= 0 {
		v = defaultScalerValue
	}
	if typ == runpod.ScalerRequestCount {
		return runpod.Scaling{Type: typ, RequestCount: ptr(v)}
	}
	return runpod.Scaling{Type: typ, QueueDelay: ptr(float64(v))}
}

// idleTimeoutApplies reports whether RunPod takes workers.idleTimeout for
// r: not for a queue endpoint that scales on REQUEST_COUNT.
func (r *Resource) idleTimeoutApplies() bool {
	return r.Type != runpod.TypeQueue || r.scaling().Type != runpod.ScalerRequestCount
}

// Create is the API request that creates r's endpoint; unset fields are
// omitted, not sent as zero.
func (r *Resource) Create(image string, env map[string]string) *runpod.CreateEndpoint {
	req := &runpod.CreateEndpoint{
		Name:    r.Name,
		Type:    r.Type,
		Image:   image,
		Env:     env,
		GPU:     r.gpu(),
		CPU:     r.cpu(),
		Workers: r.workers(),
		Scaling: r.scaling(),
	}
	if r.Type == runpod.TypeLoadBalancer {
		req.Ports = r.ports()
	}
	if n, ok := r.intKey("diskGb"); ok && n > 0 {
		req.Disk = ptr(n)
	}
	if n, ok := r.intKey("timeout"); ok && n > 0 {
		req.Timeout = ptr(n)
	}
	if s, ok := r.stringKey("flashboot"); ok && s != "" {
		req.FlashBoot = s
	}
	if s, ok := r.stringKey("registry"); ok && s != "" {
		req.Registry = ptr(s)
	}
	req.DataCenterIDs, _ = r.listKey("dataCenterIds")
	req.NetworkVolumes, _ = r.listKey("networkVolumes")
	return req
}

func (r *Resource) ports() []string {
	port, health := r.Ports()
	ports := []string{port + "/http"}
	if health != port {
		ports = append(ports, health+"/http")
	}
	return ports
}

// Update is the PATCH that brings r's endpoint from the deployed config
// to the current one: only the fields behind the changed keys. image and
// env are set by the caller when they changed.
func (r *Resource) Update(changed []string) *runpod.UpdateEndpoint {
	u := &runpod.UpdateEndpoint{}
	var w runpod.Workers
	for _, key := range changed {
		switch key {
		case "workersMin":
			w.Min = ptr(r.WorkersMin())
		case "workersMax":
			n, ok := r.intKey("workersMax")
			if !ok {
				n = 3 // the API's default
			}
			w.Max = ptr(n)
		case "idleTimeout":
			n, ok := r.intKey("idleTimeout")
			if !ok || n <= 0 {
				if !r.idleTimeoutApplies() {
					continue // RunPod refuses any idleTimeout here
				}
				n = 10 // the API's default
			}
			w.IdleTimeout = ptr(n)
		case "scalerType", "scalerValue":
			u.Scaling = ptr(r.scaling())
		case "gpuIds", "gpuCount":
			u.GPU = r.gpu()
			if u.GPU != nil && u.GPU.Count == 0 {
				u.GPU.Count = 1
			}
		case "instanceIds":
			u.CPU = r.cpu()
		case "diskGb":
			if n, ok := r.intKey("diskGb"); ok && n > 0 {
				u.Disk = ptr(n)
			}
		case "timeout":
			if n, ok := r.intKey("timeout"); ok && n > 0 {
				u.Timeout = ptr(n)
			}
		case "flashboot":
			s, _ := r.stringKey("flashboot")
			if s == "" {
				s = "OFF"
			}
			u.FlashBoot = ptr(s)
		case "registry":
			s, _ := r.stringKey("registry")
			u.Registry = ptr(s)
		case "dataCenterIds":
			u.DataCenterIDs, _ = r.listKey("dataCenterIds")
		case "networkVolumes":
			u.NetworkVolumes, _ = r.listKey("networkVolumes")
		}
	}
	if w.Min != nil || w.Max != nil || w.IdleTimeout != nil {
		u.Workers = &w
	}
	return u
}

// String names r for messages.
func (r *Resource) String() string { return fmt.Sprintf("%s (%s)", r.Name, r.ResourceType) }

// ResourceOf describes a resource of the analysis model the way Resources
// describes a manifest entry, for the language server, which has the model
// but no manifest.
func ResourceOf(r *model.Resource) (*Resource, error) {
	hash, err := codegen.ConfigHash(r)
	if err != nil {
		return nil, err
	}
	out := &Resource{Name: r.Name, Dir: r.Dir(), ResourceType: r.ResourceType(), Type: runpod.TypeQueue, CPU: r.CPU(),
		Mothership: r.Mothership(), ConfigHash: hash, Config: map[string]any{}}
	if r.LoadBalanced() {
		out.Type = runpod.TypeLoadBalancer
	}
	for _, s := range r.Config {
		if s.Value != nil && s.Key != "" && s.Key != "is_mothership" {
			out.Config[s.Key] = s.Value
		}
	}
	if out.Mothership {
		out.Config["is_mothership"] = true
	}
	return out, nil
}
