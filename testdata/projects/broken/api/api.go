// Package api breaks one per-package rule per function.
package api

import (
	"context"

	_ "example.com/broken/res"
)

// Item is a result type.
type Item struct{ ID string }

//flash:remote res.API method= path=/syntax
func Syntax() {}

//flash:remote res.API method=GET path=/unknown-key pth=/x
func UnknownKey() {}

// Doc is not a function.
//
//flash:remote res.API method=GET path=/misplaced
type Doc struct{}

//flash:remote res.APi method=GET path=/unknown-resource
func UnknownResource() {}

//flash:remote res.Count method=GET path=/not-a-resource
func NotAResource() {}

//flash:remote res.API
func MissingRoute() {}

//flash:remote res.Queue method=POST path=/route-on-queue
func RouteOnQueue(x int) int { return x }

//flash:remote res.API method=get path=/bad-method
func BadMethod() {}

//flash:remote res.API method=GET path=bad-path/
func BadPath() {}

//flash:remote res.API method=GET path=/ping
func ReservedPath() {}

//flash:remote res.API method=GET path=/users/{uid}
func PathParam(ctx context.Context, id string) (Item, error) { return Item{ID: id}, nil }

//flash:remote res.API method=GET path=/query-param
func QueryParam(filter map[string]string) {}

//flash:remote res.API method=POST path=/signature
func Signature(ch chan int) {}

//flash:remote res.API method=GET path=/unexported
func unexported() {}

//flash:remote res.API method=POST path=/generic
func Generic[T any](x T) T { return x }

var _ = unexported
