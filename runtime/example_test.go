package runtime_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"

	"github.com/flash-lsp/flash-lsp/runtime"
)

type Sum struct {
	Sum int `json:"sum"`
}

func Add(ctx context.Context, x, y int) (Sum, error) { return Sum{x + y}, nil }

// A generated handler registers each function with a Call that binds its
// parameters and calls it directly; NewLoadBalancer turns the App into an
// http.Handler, and a Client calls it.
func ExampleNewLoadBalancer() {
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
	h, err := runtime.NewLoadBalancer(app)
	if err != nil {
		panic(err)
	}
	h.Logger = slog.New(slog.DiscardHandler) // request logs would go to slog.Default()
	srv := httptest.NewServer(h)
	defer srv.Close()

	c := &runtime.Client{BaseURL: srv.URL}
	var out Sum
	err = c.Call(context.Background(), "POST", "/add", map[string]any{"x": 5, "y": 3}, &out)
	fmt.Println(out.Sum, err)

	err = c.Call(context.Background(), "POST", "/add", map[string]any{"x": 5, "Y": 3}, &out)
	fmt.Println(err.(*runtime.HTTPError).StatusCode, err.(*runtime.HTTPError).Message)
	// Output:
	// 8 <nil>
	// 400 parameter "Y": unknown key in request body (keys are case-sensitive: did you mean "y"?)
}
