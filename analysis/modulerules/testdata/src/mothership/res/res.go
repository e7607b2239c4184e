// Package res declares two motherships.
package res

import "github.com/flash-lsp/flash-lsp/runtime"

var Home = runtime.LoadBalancer{Name: "home", Mothership: true} // want `more than one mothership: example.com/mothership/res.Home and example.com/mothership/more.Portal set Mothership, at most one resource may`

// Mothership: false is no mothership.
var Plain = runtime.LoadBalancer{Name: "plain", Mothership: false}
