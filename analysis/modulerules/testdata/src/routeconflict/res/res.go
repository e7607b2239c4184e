// Package res declares the resources the other packages use.
package res

import "github.com/flash-lsp/flash-lsp/runtime"

var API = runtime.LoadBalancer{Name: "api"}

var Other = runtime.LoadBalancer{Name: "other"}
