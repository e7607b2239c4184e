// Package broken does not compile; the analyzer still reports what it can
// and never crashes.
package broken

import (
	"github.com/flash-lsp/flash-lsp/runtime"
	"nosuchpackage"
)

var API = runtime.LoadBalancer{Name: "api", Nope: 1} // want API:`resource LoadBalancer "api"`

var Bad = runtime.NoSuchType{Name: "bad"}

var Undefined = runtime.Serverless{Name: undefinedName} // want Undefined:`resource Serverless ""`

//flash:remote API method=POST path=/a
func A(x UndefinedType, y nosuchpackage.T) (Missing, error) { return nil, nil }

// Bad's type does not exist: the compiler says so, the analyzer does not.
//
//flash:remote Bad
func B(x int) {}

// want +2 `unknown resource nosuchpackage.R for C`
//
//flash:remote nosuchpackage.R method=GET path=/c
func C() {}

//flash:remote API method=GET path=/d/{id}
func D(id UndefinedType, q []UndefinedType) {}

// want +2 `unknown resource Gone for E: did you mean API\?`
//
//flash:remote Gone
func E(x int) int { return undefinedFunc(x) }

var WrongTypes = runtime.Serverless{Name: 3, WorkersMax: "three", ScalerType: 4, Mothership: "yes", GPUs: []string{5}} // want WrongTypes:`resource Serverless ""`
