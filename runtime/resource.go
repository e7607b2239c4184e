// Package runtime is the library that Flash user code and the handlers that
// flash-lsp generates import: the resource types a //flash:remote directive
// names, the load-balancer HTTP server, the queue worker and a client for
// deployed endpoints.
//
// It is linked into every deployed handler binary, so it imports only the
// standard library and gorilla/mux.
package runtime

// Config is the field set shared by every resource type. Each field maps to a
// key of the resource in flash_manifest.json (given in brackets).
type Config struct {
	// Name identifies the resource [the key of resources in the manifest].
	// It is required and must be a constant.
	Name string
	// ImageName is the container image of the endpoint [imageName].
	ImageName string
	// GPUs lists the accepted GPU types [gpuIds].
	GPUs []string
	// GPUCount is the number of GPUs per worker [gpuCount].
	GPUCount int
	// Instances lists the accepted CPU instance types [instanceIds].
	Instances []string
	// WorkersMin is the minimum number of workers kept running [workersMin].
	WorkersMin int
	// WorkersMax is the maximum number of workers [workersMax].
	WorkersMax int
	// IdleTimeout is how long, in seconds, an idle worker is kept [idleTimeout].
	IdleTimeout int
	// ScalerType is QUEUE_DELAY or REQUEST_COUNT [scalerType].
	ScalerType string
	// ScalerValue parameterises the scaler [scalerValue].
	ScalerValue int
	// Env is set in the workers' environment [env].
	Env map[string]string
	// Mothership marks the load-balanced resource that serves the app's
	// manifest at /manifest [is_mothership].
	Mothership bool
	// DiskGB is the container disk size of each worker, in GB [diskGb].
	DiskGB int
	// Timeout is the execution timeout of a request, in milliseconds
	// [timeout].
	Timeout int
	// FlashBoot is OFF, FLASHBOOT or PRIORITY_FLASHBOOT [flashboot].
	FlashBoot string
	// DataCenters lists the data centers workers may run in
	// [dataCenterIds].
	DataCenters []string
	// NetworkVolumes lists the network volumes attached to workers
	// [networkVolumes].
	NetworkVolumes []string
	// Registry is the id of a RunPod registry credential used to pull the
	// endpoint's image from a private registry [registry].
	Registry string
}

// Resource is implemented by the eight resource types.
type Resource interface {
	// ResourceConfig returns the resource's configuration.
	ResourceConfig() Config
	// ResourceType returns the resource_type written to flash_manifest.json.
	ResourceType() string
	// IsLoadBalanced reports whether the resource serves HTTP routes
	// (method and path) rather than queued jobs.
	IsLoadBalanced() bool
	// IsLive reports whether the resource is a live (local development)
	// resource, which also serves POST /execute.
	IsLive() bool
}

// Serverless is a deployed GPU queue endpoint.
type Serverless Config

// CPUServerless is a deployed CPU queue endpoint.
type CPUServerless Config

// LiveServerless is a live GPU queue endpoint for local development.
type LiveServerless Config

// CPULiveServerless is a live CPU queue endpoint for local development.
type CPULiveServerless Config

// LoadBalancer is a deployed GPU load-balanced HTTP endpoint.
type LoadBalancer Config

// CPULoadBalancer is a deployed CPU load-balanced HTTP endpoint.
type CPULoadBalancer Config

// LiveLoadBalancer is a live GPU load-balanced HTTP endpoint; it also serves
// POST /execute.
type LiveLoadBalancer Config

// CPULiveLoadBalancer is a live CPU load-balanced HTTP endpoint; it also
// serves POST /execute.
type CPULiveLoadBalancer Config

func (r Serverless) ResourceConfig() Config          { return Config(r) }
func (r CPUServerless) ResourceConfig() Config       { return Config(r) }
func (r LiveServerless) ResourceConfig() Config      { return Config(r) }
func (r CPULiveServerless) ResourceConfig() Config   { return Config(r) }
func (r LoadBalancer) ResourceConfig() Config        { return Config(r) }
func (r CPULoadBalancer) ResourceConfig() Config     { return Config(r) }
func (r LiveLoadBalancer) ResourceConfig() Config    { return Config(r) }
func (r CPULiveLoadBalancer) ResourceConfig() Config { return Config(r) }

func (Serverless) ResourceType() string          { return "ServerlessEndpoint" }
func (CPUServerless) ResourceType() string       { return "CpuServerlessEndpoint" }
func (LiveServerless) ResourceType() string      { return "LiveServerless" }
func (CPULiveServerless) ResourceType() string   { return "CpuLiveServerless" }
func (LoadBalancer) ResourceType() string        { return "LoadBalancerSlsResource" }
func (CPULoadBalancer) ResourceType() string     { return "CpuLoadBalancerSlsResource" }
func (LiveLoadBalancer) ResourceType() string    { return "LiveLoadBalancer" }
func (CPULiveLoadBalancer) ResourceType() string { return "CpuLiveLoadBalancer" }

func (Serverless) IsLoadBalanced() bool          { return false }
func (CPUServerless) IsLoadBalanced() bool       { return false }
func (LiveServerless) IsLoadBalanced() bool      { return false }
func (CPULiveServerless) IsLoadBalanced() bool   { return false }
func (LoadBalancer) IsLoadBalanced() bool        { return true }
func (CPULoadBalancer) IsLoadBalanced() bool     { return true }
func (LiveLoadBalancer) IsLoadBalanced() bool    { return true }
func (CPULiveLoadBalancer) IsLoadBalanced() bool { return true }

func (Serverless) IsLive() bool          { return false }
func (CPUServerless) IsLive() bool       { return false }
func (LiveServerless) IsLive() bool      { return true }
func (CPULiveServerless) IsLive() bool   { return true }
func (LoadBalancer) IsLive() bool        { return false }
func (CPULoadBalancer) IsLive() bool     { return false }
func (LiveLoadBalancer) IsLive() bool    { return true }
func (CPULiveLoadBalancer) IsLive() bool { return true }

// Pointers to resources are resources too, so that a resource declared as
// &runtime.LoadBalancer{...} works wherever a value does.
var (
	_ Resource = Serverless{}
	_ Resource = CPUServerless{}
	_ Resource = LiveServerless{}
	_ Resource = CPULiveServerless{}
	_ Resource = LoadBalancer{}
	_ Resource = CPULoadBalancer{}
	_ Resource = LiveLoadBalancer{}
	_ Resource = CPULiveLoadBalancer{}
	_ Resource = &LoadBalancer{}
)
