// Package more declares the second mothership.
package more

import "github.com/flash-lsp/flash-lsp/runtime"

var Portal = runtime.CPULoadBalancer{
	Name:       "portal",
	Mothership: true, // want `more than one mothership: example.com/mothership/more.Portal and example.com/mothership/res.Home`
}
