// Package res declares resources whose names collide.
package res

import "github.com/flash-lsp/flash-lsp/runtime"

const name = "api"

var A = runtime.LoadBalancer{Name: name} // want `duplicate resource name "api" of A: also declared by example.com/duplicateresource/more.B; clashes with "API" \(example.com/duplicateresource/res.C\)`

var C = runtime.Serverless{Name: `API`} // want `duplicate resource name "API" of C: clashes with "api" \(example.com/duplicateresource/more.B\), "api" \(example.com/duplicateresource/res.A\): both deploy as API`

var D = runtime.Serverless{Name: "test api"} // want `duplicate resource name "test api" of D: clashes with "test_api"`

var E = runtime.Serverless{Name: "test_api"} // want `duplicate resource name "test_api" of E: clashes with "test api"`

// Distinct names are fine.
var F = runtime.Serverless{Name: "test-apis"}
