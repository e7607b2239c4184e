package runpod

// The types below follow the schemas of RunPod's REST v2 OpenAPI document
// (CreateEndpointRequest, UpdateEndpointRequest, Endpoint, the request URL
// variants, and the registry credential). Optional fields are pointers or
// omitempty, because the API treats an omitted field ("leave it" or "use the
// default") differently from a zero.

// Endpoint types (EndpointType).
const (
	TypeQueue        = "QUEUE"
	TypeLoadBalancer = "LOAD_BALANCER"
)

// Scaler types (EndpointScaling's discriminator).
const (
	ScalerQueueDelay   = "QUEUE_DELAY"
	ScalerRequestCount = "REQUEST_COUNT"
)

// GPU is an endpoint's GPU selection (CreateEndpointGpuConfig).
type GPU struct {
	Pools []string `json:"pools"`
	Count int      `json:"count,omitempty"`
}

// CPU is one eligible CPU configuration (CreateCpuConfig).
type CPU struct {
	ID        string `json:"id"`
	VCPUCount int    `json:"vcpuCount"`
}

// Workers bounds an endpoint's workers (EndpointWorkers).
type Workers struct {
	Min         *int `json:"min,omitempty"`
	Max         *int `json:"max,omitempty"`
	IdleTimeout *int `json:"idleTimeout,omitempty"`
}

// Scaling is the autoscaling signal (EndpointScaling): QueueDelay for
// QUEUE_DELAY, RequestCount for REQUEST_COUNT.
type Scaling struct {
	Type         string   `json:"type"`
	QueueDelay   *float64 `json:"queueDelay,omitempty"`
	RequestCount *int     `json:"requestCount,omitempty"`
}

// CreateEndpoint is the body of POST /v2/serverless.
type CreateEndpoint struct {
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	Image          string            `json:"image"`
	Env            map[string]string `json:"env,omitempty"`
	Ports          []string          `json:"ports,omitempty"`
	Disk           *int              `json:"disk,omitempty"`
	Registry       *string           `json:"registry,omitempty"`
	GPU            *GPU              `json:"gpu,omitempty"`
	CPU            []CPU             `json:"cpu,omitempty"`
	Workers        *Workers          `json:"workers,omitempty"`
	Scaling        Scaling           `json:"scaling"`
	DataCenterIDs  []string          `json:"dataCenterIds,omitempty"`
	NetworkVolumes []string          `json:"networkVolumes,omitempty"`
	Timeout        *int              `json:"timeout,omitempty"`
	FlashBoot      string            `json:"flashboot,omitempty"`
}

// UpdateEndpoint is the body of PATCH /v2/serverless/{id}: only the fields
// set are changed. An Env replaces the endpoint's whole environment.
type UpdateEndpoint struct {
	Name           *string           `json:"name,omitempty"`
	Image          *string           `json:"image,omitempty"`
	Env            map[string]string `json:"env,omitempty"`
	Ports          []string          `json:"ports,omitempty"`
	Disk           *int              `json:"disk,omitempty"`
	Registry       *string           `json:"registry,omitempty"`
	GPU            *GPU              `json:"gpu,omitempty"`
	CPU            []CPU             `json:"cpu,omitempty"`
	Workers        *Workers          `json:"workers,omitempty"`
	Scaling        *Scaling          `json:"scaling,omitempty"`
	DataCenterIDs  []string          `json:"dataCenterIds,omitempty"`
	NetworkVolumes []string          `json:"networkVolumes,omitempty"`
	Timeout        *int              `json:"timeout,omitempty"`
	FlashBoot      *string           `json:"flashboot,omitempty"`
}

// Empty reports whether the update changes nothing.
func (u *UpdateEndpoint) Empty() bool {
	return u.Name == nil && u.Image == nil && u.Env == nil && u.Ports == nil && u.Disk == nil &&
		u.Registry == nil && u.GPU == nil && u.CPU == nil && u.Workers == nil && u.Scaling == nil &&
		u.DataCenterIDs == nil && u.NetworkVolumes == nil && u.Timeout == nil && u.FlashBoot == nil
}

// RequestURLs are the URLs an endpoint answers on: Base and Health for load
// balancers; Run, RunSync, Status, Stream, Cancel, Retry, PurgeQueue and
// Health for queues.
type RequestURLs struct {
	Base       string `json:"base,omitempty"`
	Health     string `json:"health,omitempty"`
	Run        string `json:"run,omitempty"`
	RunSync    string `json:"runSync,omitempty"`
	Status     string `json:"status,omitempty"`
	Stream     string `json:"stream,omitempty"`
	Cancel     string `json:"cancel,omitempty"`
	Retry      string `json:"retry,omitempty"`
	PurgeQueue string `json:"purgeQueue,omitempty"`
}

// Endpoint is a serverless endpoint as the API describes it.
type Endpoint struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	Image          string            `json:"image,omitempty"`
	Env            map[string]string `json:"env,omitempty"`
	Ports          []string          `json:"ports,omitempty"`
	Disk           int               `json:"disk,omitempty"`
	Registry       *string           `json:"registry,omitempty"`
	GPU            *GPU              `json:"gpu,omitempty"`
	CPU            []CPU             `json:"cpu,omitempty"`
	Workers        Workers           `json:"workers"`
	Scaling        Scaling           `json:"scaling"`
	DataCenterIDs  []string          `json:"dataCenterIds"`
	NetworkVolumes []string          `json:"networkVolumes"`
	Timeout        int               `json:"timeout"`
	FlashBoot      string            `json:"flashboot"`
	CreatedAt      string            `json:"createdAt"`
	RequestURLs    RequestURLs       `json:"requestUrls"`
}

// ListEndpoints is the answer of GET /v2/serverless.
type ListEndpoints struct {
	Endpoints []Endpoint `json:"endpoints"`
}

// CreateRegistry is the body of POST /v2/registries. The password is
// write-only: the API never returns it.
type CreateRegistry struct {
	Name     string `json:"name"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// Registry is a registry credential.
type Registry struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// QueueHealth is the answer of a queue endpoint's health URL.
type QueueHealth struct {
	Jobs    map[string]int `json:"jobs"`
	Workers struct {
		Idle         int `json:"idle"`
		Initializing int `json:"initializing"`
		Ready        int `json:"ready"`
		Running      int `json:"running"`
		Throttled    int `json:"throttled"`
		Unhealthy    int `json:"unhealthy"`
	} `json:"workers"`
}

// Problem is an application/problem+json error answer.
type Problem struct {
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Errors []ProblemError `json:"errors"`
}

// ProblemError is one entry of a problem's errors.
type ProblemError struct {
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
	Value    any    `json:"value,omitempty"`
}
