// Package res declares the broken project's resources, some of them
// misconfigured.
package res

import "github.com/flash-lsp/flash-lsp/runtime"

var API = runtime.LoadBalancer{Name: "api", WorkersMax: 3}

var Queue = runtime.Serverless{Name: "queue"}

// Shout's name differs from API's only in case: duplicate-resource.
var Shout = runtime.CPULoadBalancer{Name: "API"}

// Scaled has WorkersMin > WorkersMax: resource-config.
var Scaled = runtime.LiveLoadBalancer{Name: "scaled", WorkersMin: 5, WorkersMax: 1}

// Home and Portal both claim to be the mothership: resource-config.
var Home = runtime.LoadBalancer{Name: "home", Mothership: true}

var Portal = runtime.CPULiveLoadBalancer{Name: "portal", Mothership: true}

// Count is not a resource.
var Count = 3
