package runtime_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/flash-lsp/flash-lsp/runtime"
)

// A generated typed client declares a RemoteFunc per function and calls
// it through a Caller. Here the resource "calc" is served by this process,
// so the call never leaves it; elsewhere, FLASH_ENDPOINT_URL_CALC, an
// endpoint id or the mothership's manifest would say where it goes.
func ExampleCaller() {
	app := runtime.App{
		Resource: runtime.LoadBalancer{Name: "calc"},
		Functions: []runtime.Function{{
			Name: "example.com/calc.Add", Method: "POST", Path: "/add",
			Params: []runtime.Param{{Name: "x", In: "body"}, {Name: "y", In: "body"}},
			Call: func(ctx context.Context, in *runtime.Input) (any, error) {
				var x, y int
				if err := runtime.Int(in, "x", &x); err != nil {
					return nil, err
				}
				if err := runtime.Int(in, "y", &y); err != nil {
					return nil, err
				}
				return Add(ctx, x, y)
			},
		}},
	}
	s, err := runtime.NewLoadBalancer(app)
	if err != nil {
		fmt.Println(err)
		return
	}
	s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	r := &runtime.Resolver{}
	defer r.Register("calc", s)()

	add := &runtime.RemoteFunc{Resource: "calc", LoadBalanced: true, Name: "example.com/calc.Add",
		Method: "POST", Path: "/add", Params: []string{"x", "y"}}
	c := &runtime.Caller{Resolver: r}
	var sum Sum
	err = c.Call(context.Background(), add, []any{5, 3}, &sum)
	fmt.Println(sum.Sum, err)

	// The server's answer to a bad argument is a typed error.
	err = c.Call(context.Background(), add, []any{"five", 3}, &sum)
	var he *runtime.HTTPError
	if errors.As(err, &he) {
		fmt.Println(he.StatusCode == http.StatusBadRequest, he.Message)
	}
	// Output:
	// 8 <nil>
	// true parameter "x": want a number, got a string
}
