package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The functions of a small user API, and their route table written the
// way the generator writes it.

type item struct {
	ID      string `json:"id"`
	Verbose bool   `json:"verbose"`
}

type sumResult struct {
	Sum int `json:"sum"`
}

type level int

func (l *level) UnmarshalText(b []byte) error {
	switch string(b) {
	case "low":
		*l = 1
	case "high":
		*l = 2
	default:
		return fmt.Errorf("unknown level %q", b)
	}
	return nil
}

type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string   { return e.msg }
func (e *statusError) StatusCode() int { return e.code }

func processData(ctx context.Context, x, y int) (sumResult, error) {
	return sumResult{Sum: x + y}, nil
}

func getItem(ctx context.Context, id string, verbose *bool) (item, error) {
	it := item{ID: id}
	if verbose != nil {
		it.Verbose = *verbose
	}
	return it, nil
}

// blockers lets a test hold a call of /slow until it says so.
type blocker struct {
	started chan struct{}
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}, 16), release: make(chan struct{})}
}

func testFunctions(b *blocker) []Function {
	return []Function{
		{
			Name: "example.com/app/api.ProcessData", Method: "POST", Path: "/api/process",
			Params: []Param{{Name: "x", In: "body"}, {Name: "y", In: "body"}},
			Call: func(ctx context.Context, in *Input) (any, error) {
				var p0 int
				if err := Int(in, "x", &p0); err != nil {
					return nil, err
				}
				var p1 int
				if err := Int(in, "y", &p1); err != nil {
					return nil, err
				}
				return processData(ctx, p0, p1)
			},
		},
		{
			Name: "example.com/app/api.GetItem", Method: "GET", Path: "/items/{id}",
			Params: []Param{{Name: "id", In: "path"}, {Name: "verbose", In: "query", Optional: true}},
			Call: func(ctx context.Context, in *Input) (any, error) {
				var p0 string
				if err := String(in, "id", &p0); err != nil {
					return nil, err
				}
				var p1 *bool
				if in.Has("verbose") {
					p1 = new(bool)
					if err := Bool(in, "verbose", p1); err != nil {
						return nil, err
					}
				}
				return getItem(ctx, p0, p1)
			},
		},
		{
			Name: "example.com/app/api.NewItem", Method: "GET", Path: "/items/new",
			Call: func(ctx context.Context, in *Input) (any, error) {
				return "the new-item form", nil
			},
		},
		{
			Name: "example.com/app/api.DeleteItem", Method: "DELETE", Path: "/items/{id:[0-9]+}",
			Params:   []Param{{Name: "id", In: "path"}},
			NoResult: true,
			Call: func(ctx context.Context, in *Input) (any, error) {
				var p0 uint16
				if err := Uint(in, "id", &p0); err != nil {
					return nil, err
				}
				if p0 == 404 {
					return nil, &statusError{http.StatusNotFound, "item 404 does not exist"}
				}
				return nil, nil
			},
		},
		{
			Name: "example.com/app/api.GetFile", Method: "GET", Path: "/files/{name}",
			Params: []Param{{Name: "name", In: "path"}},
			Call: func(ctx context.Context, in *Input) (any, error) {
				var p0 string
				if err := String(in, "name", &p0); err != nil {
					return nil, err
				}
				return map[string]string{"name": p0}, nil
			},
		},
		{
			Name: "example.com/app/api.Search", Method: "GET", Path: "/search",
			Params: []Param{{Name: "names", In: "query"}, {Name: "limit", In: "query", Optional: true},
				{Name: "scores", In: "query", Optional: true}, {Name: "level", In: "query", Optional: true}},
			Call: func(ctx context.Context, in *Input) (any, error) {
				var p0 []string
				if err := Strings(in, "names", &p0); err != nil {
					return nil, err
				}
				var p1 *int8
				if in.Has("limit") {
					p1 = new(int8)
					if err := Int(in, "limit", p1); err != nil {
						return nil, err
					}
				}
				var p2 *[]float64
				if in.Has("scores") {
					p2 = new([]float64)
					if err := Floats(in, "scores", p2); err != nil {
						return nil, err
					}
				}
				var p3 *level
				if in.Has("level") {
					p3 = new(level)
					if err := Text(in, "level", p3); err != nil {
						return nil, err
					}
				}
				out := map[string]any{"names": p0}
				if p1 != nil {
					out["limit"] = *p1
				}
				if p2 != nil {
					out["scores"] = *p2
				}
				if p3 != nil {
					out["level"] = int(*p3)
				}
				return out, nil
			},
		},
		{
			Name: "example.com/app/api.Transform", Method: "PUT", Path: "/transform/{op}",
			Params: []Param{{Name: "op", In: "path"}, {Name: "text", In: "body"},
				{Name: "options", In: "body", Optional: true}},
			Call: func(ctx context.Context, in *Input) (any, error) {
				var p0 string
				if err := String(in, "op", &p0); err != nil {
					return nil, err
				}
				var p1 string
				if err := String(in, "text", &p1); err != nil {
					return nil, err
				}
				var p2 *map[string]int
				if in.Has("options") {
					p2 = new(map[string]int)
					if err := JSON(in, "options", p2); err != nil {
						return nil, err
					}
				}
				if p0 == "upper" {
					p1 = strings.ToUpper(p1)
				}
				return map[string]any{"text": p1, "options": p2}, nil
			},
		},
		{
			Name: "example.com/app/api.Fail", Method: "POST", Path: "/fail",
			Params: []Param{{Name: "code", In: "body"}},
			Call: func(ctx context.Context, in *Input) (any, error) {
				var p0 int
				if err := Int(in, "code", &p0); err != nil {
					return nil, err
				}
				if p0 == 0 {
					return nil, errors.New("plain failure")
				}
				return nil, fmt.Errorf("wrapped: %w", &statusError{p0, "teapot trouble"})
			},
		},
		{
			Name: "example.com/app/api.Panic", Method: "GET", Path: "/panic",
			Call: func(ctx context.Context, in *Input) (any, error) {
				var m map[string]int
				m["boom"]++ // nil map write
				return nil, nil
			},
		},
		{
			Name: "example.com/app/api.Reset", Method: "POST", Path: "/reset",
			NoResult: true,
			Call: func(ctx context.Context, in *Input) (any, error) {
				return nil, nil
			},
		},
		{
			Name: "example.com/app/api.Slow", Method: "GET", Path: "/slow",
			Call: func(ctx context.Context, in *Input) (any, error) {
				if b == nil {
					return "no blocker", nil
				}
				b.started <- struct{}{}
				select {
				case <-b.release:
					return "released", nil
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			},
		},
		{
			// Stuck ignores its context: only the drain's own 503 answers it.
			Name: "example.com/app/api.Stuck", Method: "GET", Path: "/stuck",
			Call: func(ctx context.Context, in *Input) (any, error) {
				if b == nil {
					return "no blocker", nil
				}
				b.started <- struct{}{}
				<-b.release
				return "released", nil
			},
		},
		{
			// BadJSON's result panics in MarshalJSON.
			Name: "example.com/app/api.BadJSON", Method: "GET", Path: "/bad-json",
			Call: func(ctx context.Context, in *Input) (any, error) {
				return panickyJSON{}, nil
			},
		},
		{
			// Same bare name as GetItem, in another package: /execute must
			// use the qualified names of both.
			Name: "example.com/app/other.GetItem", Method: "GET", Path: "/other/{id}",
			Params: []Param{{Name: "id", In: "path"}},
			Call: func(ctx context.Context, in *Input) (any, error) {
				var p0 string
				if err := String(in, "id", &p0); err != nil {
					return nil, err
				}
				return "other " + p0, nil
			},
		},
	}
}

// panickyJSON panics when encoded.
type panickyJSON struct{}

func (panickyJSON) MarshalJSON() ([]byte, error) { panic("marshal boom") }

func discardLogger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(io.Discard, nil))
}

// startLB serves app with the real serve loop on a random loopback port.
// It returns the base URL and a stop function that cancels the serve
// context and waits for serveLoadBalancer to return.
func startLB(t testing.TB, s *LoadBalancerServer, healthPort bool, shutdownTimeout time.Duration) (base, health string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var hln net.Listener
	if healthPort {
		if hln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		health = "http://" + hln.Addr().String()
	}
	if s.DrainGrace == defaultDrainGrace {
		s.DrainGrace = 0 // no platform load balancer to wait for
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveLoadBalancer(ctx, s, ln, hln, shutdownTimeout) }()
	var stopped bool
	var stopErr error
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(shutdownTimeout + 10*time.Second):
				stopErr = errors.New("serveLoadBalancer did not return")
			}
		}
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return "http://" + ln.Addr().String(), health, stop
}
