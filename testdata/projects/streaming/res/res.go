// Package res declares the resources of the streaming example: a deployed
// load balancer whose routes stream tokens, and a queue endpoint whose jobs
// stream frames and report progress.
package res

import "github.com/flash-lsp/flash-lsp/runtime"

// API streams tokens over HTTP.
var API = runtime.LoadBalancer{
	Name:       "stream-api",
	WorkersMax: 2,
}

// Jobs renders frames from a queue.
var Jobs = runtime.LiveServerless{
	Name:       "stream-jobs",
	WorkersMax: 1,
}
