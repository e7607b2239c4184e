// Package clean uses every supported form and reports nothing.
package clean

import (
	"context"
	"net/netip"
	"time"

	"github.com/flash-lsp/flash-lsp/runtime"
)

// LB is an alias of a resource type.
type LB = runtime.LoadBalancer

var API = LB{Name: "test-api", WorkersMin: 0, WorkersMax: 3, ScalerType: "REQUEST_COUNT", Env: map[string]string{"MODE": "prod"}, GPUs: []string{"A100", "H100"}} // want API:`resource LoadBalancer "test-api"`

var Jobs = &runtime.LiveServerless{Name: "jobs", ScalerType: "QUEUE_DELAY"} // want Jobs:`resource \*LiveServerless "jobs"`

const itemsName = "items"

var Items = runtime.CPULiveLoadBalancer{Name: itemsName, Mothership: true, IdleTimeout: 60} // want Items:`resource CPULiveLoadBalancer "items"`

var plain = 3

// Item is a JSON value.
type Item struct {
	ID     string
	Tags   []string
	Next   *Item
	Meta   map[string]any
	Counts map[int]float64
	When   time.Time
	hidden chan int
}

// Kind parses itself from text.
type Kind int

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error { *k = Kind(len(b)); return nil }

// ProcessData takes a JSON body.
//
//flash:remote API method=POST path=/api/process
func ProcessData(ctx context.Context, x, y int) (Item, error) { return Item{}, nil }

// GetItem binds a path variable and the query string.
//
//flash:remote API method=GET path=/items/{id}
func GetItem(id string, verbose bool, limit *int, tags []string, extra *[]int, addr netip.Addr) (*Item, error) {
	return nil, nil
}

// Run is a queue function.
//
//flash:remote Jobs
func Run(ctx context.Context, item Item, note *string) error { return nil }

// Delete has a text-unmarshalled path variable and a pattern.
//
//flash:remote Items method=DELETE path=/items/{kind}/{n:[0-9]+}
func Delete(kind Kind, n uint) error { return nil }

// Nothing has neither parameters nor results.
//
//flash:remote Jobs
func Nothing() {}

// Ordinary carries an ordinary comment that looks like a directive.
// flash:remote Nope method=get
func Ordinary() {}

// Anything takes and returns any JSON value.
//
//flash:remote Items method=PUT path=/any
func Anything(v any, err error) (any, error) { return v, err }

var _ = runtime.Serverless{Name: "blank"}
