// Package other uses the same client without a cycle.
package other

import (
	"context"

	"example.com/clientcycle/api"
	"example.com/clientcycle/flashclient/svc"
)

func Fetch(ctx context.Context) (api.Item, error) {
	return (&svc.Client{}).Get(ctx, "1")
}
