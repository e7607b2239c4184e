// Package shared is internal to the module root, which the generated
// handlers live under.
package shared

// Item is a request.
type Item struct{ ID string }
