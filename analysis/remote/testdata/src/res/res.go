// Package res declares resources that other test packages import.
package res

import "github.com/flash-lsp/flash-lsp/runtime"

// GPU is a queue resource.
var GPU = runtime.Serverless{Name: "gpu-worker", GPUCount: 1, GPUs: []string{"A100"}}

// Web is a load-balanced resource declared as a pointer.
var Web = &runtime.CPULoadBalancer{Name: "web", WorkersMax: 2}

// Computed has a resource type but no literal.
var Computed = runtime.LoadBalancer(runtime.Config{Name: "computed"})

// Count is not a resource.
var Count = 3

var private = runtime.Serverless{Name: "private"}
