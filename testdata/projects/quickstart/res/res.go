// Package res declares the quickstart's Flash resources: two live load
// balancers (one on CPU, one on GPU), a deployed load balancer and a live
// queue endpoint. The functions bound to them live in other packages.
package res

import "github.com/flash-lsp/flash-lsp/runtime"

// CPU serves text utilities from CPU workers.
var CPU = runtime.CPULiveLoadBalancer{
	Name:       "03_05_load_balancer_cpu",
	Instances:  []string{"cpu3c-2-4"},
	WorkersMin: 0,
	WorkersMax: 3,
}

// GPU serves numeric work from a warm GPU worker.
var GPU = runtime.LiveLoadBalancer{
	Name:        "03_05_load_balancer_gpu",
	GPUs:        []string{"AMPERE_16"},
	WorkersMin:  1,
	WorkersMax:  3,
	IdleTimeout: 60,
}

// API is the deployed catalogue API; it also serves the app's manifest.
var API = runtime.LoadBalancer{
	Name:       "test-api",
	WorkersMin: 0,
	WorkersMax: 3,
	ScalerType: "REQUEST_COUNT",
	Mothership: true,
}

// Jobs runs batch text jobs from a queue.
var Jobs = &runtime.LiveServerless{
	Name:        "jobs",
	WorkersMax:  2,
	ScalerType:  "QUEUE_DELAY",
	ScalerValue: 4,
	Env:         map[string]string{"LOG_LEVEL": "info"},
}
