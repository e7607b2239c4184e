// Package res declares a queue resource.
package res

import "github.com/flash-lsp/flash-lsp/runtime"

var Q = runtime.LiveServerless{Name: "q"}

var Other = runtime.Serverless{Name: "other"}
