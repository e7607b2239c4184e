// Command mainpkg declares remote functions in package main.
package main

import "github.com/flash-lsp/flash-lsp/runtime"

var Q = runtime.Serverless{Name: "q"} // want Q:`resource Serverless "q"`

// Item is declared in package main too: package-main says it all.
type Item struct{ X int }

//flash:remote Q
func Process(x int, item Item) error { return nil } // want `remote function Process is in package main, which generated handlers cannot import`

// process is both unexported and in package main: one finding per token,
// the first in rule order.
//
//flash:remote Q
func process() {} // want `remote function process is not exported`

func main() {}
