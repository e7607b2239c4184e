// Package more declares a resource of the same name in another package.
package more

import "github.com/flash-lsp/flash-lsp/runtime"

var B = runtime.CPULoadBalancer{Name: "api"} // want `duplicate resource name "api" of B: also declared by example.com/duplicateresource/res.A`
