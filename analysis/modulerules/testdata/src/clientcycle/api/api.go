// Package api declares the types of its resource's functions and uses the
// resource's generated client: an import cycle.
package api

import (
	"context"

	"example.com/clientcycle/flashclient/svc"
	"github.com/flash-lsp/flash-lsp/runtime"
)

var Svc = runtime.LoadBalancer{Name: "svc"}

type Item struct{ ID string }

//flash:remote Svc method=GET path=/items/{id}
func Get(id string) (Item, error) { return Item{ID: id}, nil }

// Again calls Get through the client.
func Again(ctx context.Context, id string) (Item, error) {
	var c svc.Client // want `using the client of resource "svc" here creates an import cycle: example.com/clientcycle/flashclient/svc imports example.com/clientcycle/api for the types of svc's functions; move those types to a package of their own`
	return c.Get(ctx, id)
}
