// Package types is internal to example.com/m/api: the module's generated
// handlers, under example.com/m/.flash, cannot import it.
package types

// Job is a request.
type Job struct{ ID string }
