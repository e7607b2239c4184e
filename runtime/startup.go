package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// startupHooks are the functions registered with OnStartup. Registration
// is the one piece of package state, like database/sql's drivers: user
// code registers from init, before any handler starts.
var startupHooks struct {
	sync.Mutex
	fns []func(context.Context) error
}

// OnStartup registers fn to run when a handler starts, typically from an
// init function of the user's package, for work such as loading a model:
//
//	func init() {
//		runtime.OnStartup(func(ctx context.Context) error {
//			var err error
//			model, err = loadModel(ctx)
//			return err
//		})
//	}
//
// A load-balanced handler listens at once and answers GET /ping with 204
// (initializing) until every registered function has returned, then with
// 200; if one fails, /ping answers 503 and RunPod replaces the worker. A
// queue worker runs them before it takes its first job. The functions run
// one after another, in registration order; ctx is cancelled on shutdown.
func OnStartup(fn func(ctx context.Context) error) {
	if fn == nil {
		return
	}
	startupHooks.Lock()
	startupHooks.fns = append(startupHooks.fns, fn)
	startupHooks.Unlock()
}

func startupFuncs() []func(context.Context) error {
	startupHooks.Lock()
	defer startupHooks.Unlock()
	return append([]func(context.Context) error(nil), startupHooks.fns...)
}

// runStartup runs the startup functions, turning a panic into an error.
func runStartup(ctx context.Context, fns []func(context.Context) error) error {
	for i, fn := range fns {
		if err := callStartup(ctx, fn); err != nil {
			return fmt.Errorf("startup function %d: %w", i+1, err)
		}
	}
	return nil
}

func callStartup(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = errors.New(fmt.Sprint("panic: ", p))
		}
	}()
	return fn(ctx)
}
