// Package noresources declares no resource: it uses those of another
// package, and nothing is reported or exported.
package noresources

import (
	"context"

	_ "res"
)

// Train runs on an imported queue resource.
//
//flash:remote res.GPU
func Train(ctx context.Context, steps int, rate *float64) (map[string]float64, error) {
	return nil, nil
}

// Status is served by an imported load-balanced resource.
//
//flash:remote res.Web method=GET path=/status/{job}
func Status(job string, verbose *bool) (string, error) { return "", nil }
