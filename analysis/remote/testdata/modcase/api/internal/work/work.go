// Package work is internal to example.com/m/api: a remote function here
// could not be called by its generated handler.
package work

import "github.com/flash-lsp/flash-lsp/runtime"

var W = runtime.Serverless{Name: "w"} // want W:`resource Serverless "w"`

//flash:remote W
func Run(n int) int { return n } // want `remote function Run is in internal package example.com/m/api/internal/work, which generated handlers cannot import`
