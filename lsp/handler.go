package lsp

import (
	"context"
	"encoding/json"
	"math"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// The handler chain, outermost first:
//
//	cancel   $/cancelRequest, matching numeric and string ids (protocol's
//	         CancelHandler only matches int32 ids, but JSON numbers decode as
//	         float64, so it never cancels what VS Code and Neovim cancel)
//	queue    messages start in arrival order; a handler may release the
//	         queue before it replies (a slow command)
//	guard    panics become InternalError replies; every request is replied
//	         to exactly once
//	dispatch lifecycle checks and the method table
//
// It runs inside jsonrpc2's read loop, which must never see an error: an
// error returned there closes the connection.

// methodFunc handles one method. For notifications the result is dropped.
type methodFunc func(ctx context.Context, params json.RawMessage) (any, error)

type releaseKey struct{}

// release lets the next message start before this one replies. Handlers
// that wait on slow work call it once they have read the state they need.
func release(ctx context.Context) {
	if f, ok := ctx.Value(releaseKey{}).(func()); ok {
		f()
	}
}

// requests tracks in-flight calls for cancellation.
type requests struct {
	mu       sync.Mutex
	inflight map[jsonrpc2.ID]context.CancelFunc
}

func (r *requests) add(id jsonrpc2.ID, cancel context.CancelFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inflight == nil {
		r.inflight = make(map[jsonrpc2.ID]context.CancelFunc)
	}
	r.inflight[id] = cancel
}

func (r *requests) done(id jsonrpc2.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.inflight, id)
}

func (r *requests) cancel(id jsonrpc2.ID) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.inflight[id]; ok {
		c()
		return true
	}
	return false
}

// toID converts the id of a $/cancelRequest, as decoded into an any, to a
// jsonrpc2.ID.
func toID(v any) (jsonrpc2.ID, bool) {
	switch v := v.(type) {
	case float64:
		if v != math.Trunc(v) || v < math.MinInt32 || v > math.MaxInt32 {
			return jsonrpc2.ID{}, false
		}
		return jsonrpc2.NewNumberID(int32(v)), true
	case string:
		return jsonrpc2.NewStringID(v), true
	}
	return jsonrpc2.ID{}, false
}

func (s *Server) cancelHandler(next jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		if req.Method() == protocol.MethodCancelRequest {
			var p struct {
				ID any `json:"id"`
			}
			if err := json.Unmarshal(req.Params(), &p); err != nil {
				s.log.Printf("$/cancelRequest: %v", err)
				return nil
			}
			if id, ok := toID(p.ID); ok {
				s.reqs.cancel(id)
			} else {
				s.log.Printf("$/cancelRequest: malformed id %v", p.ID)
			}
			if _, isCall := req.(*jsonrpc2.Call); isCall {
				return reply(context.WithoutCancel(ctx), nil, nil)
			}
			return nil
		}
		call, ok := req.(*jsonrpc2.Call)
		if !ok {
			return next(ctx, reply, req)
		}
		ctx, cancel := context.WithCancel(ctx)
		id := call.ID()
		s.reqs.add(id, cancel)
		inner := reply
		reply = func(rctx context.Context, result any, err error) error {
			s.reqs.done(id)
			if ctx.Err() != nil && err == nil {
				result, err = nil, protocol.ErrRequestCancelled
			}
			cancel()
			// The write must not see the cancelled context.
			return inner(context.WithoutCancel(rctx), result, err)
		}
		return next(ctx, reply, req)
	}
}

// queueHandler starts each message after the previous one replied or
// released the queue, each in its own goroutine, so the read loop never
// blocks.
func (s *Server) queueHandler(next func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request)) jsonrpc2.Handler {
	prev := make(chan struct{})
	close(prev)
	return func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		wait := prev
		mine := make(chan struct{})
		prev = mine
		var once sync.Once
		free := func() { once.Do(func() { close(mine) }) }
		go func() {
			<-wait
			defer free()
			ctx := context.WithValue(ctx, releaseKey{}, free)
			next(ctx, func(ctx context.Context, result any, err error) error {
				free()
				return reply(ctx, result, err)
			}, req)
		}()
		return nil
	}
}

// guard runs dispatch, replies with its result, and turns a panic into an
// InternalError reply.
func (s *Server) guard(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) {
	var replied atomic.Bool
	once := func(ctx context.Context, result any, err error) {
		if !replied.CompareAndSwap(false, true) {
			return
		}
		if err := reply(ctx, result, err); err != nil {
			s.log.Printf("replying to %s: %v", req.Method(), err)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			s.log.Printf("panic in %s: %v\n%s", req.Method(), r, debug.Stack())
			once(ctx, nil, jsonrpc2.Errorf(jsonrpc2.InternalError, "internal error in %s: %v", req.Method(), r))
		}
	}()
	result, err := s.dispatch(ctx, req)
	if _, isCall := req.(*jsonrpc2.Call); !isCall && err != nil {
		s.log.Printf("%s: %v", req.Method(), err)
	}
	once(ctx, result, err)
}

// lifecycle states.
const (
	stateNew int32 = iota
	stateInitialized
	stateShutdown
)

func (s *Server) dispatch(ctx context.Context, req jsonrpc2.Request) (any, error) {
	method := req.Method()
	_, isCall := req.(*jsonrpc2.Call)
	if s.testHook != nil {
		s.testHook(ctx, method)
	}
	if ctx.Err() != nil {
		return nil, protocol.ErrRequestCancelled
	}
	switch method {
	case protocol.MethodExit:
		s.exit()
		return nil, nil
	case protocol.MethodInitialize:
		if !s.state.CompareAndSwap(stateNew, stateInitialized) {
			return nil, jsonrpc2.NewError(jsonrpc2.InvalidRequest, "initialize: server already initialized")
		}
	default:
		switch s.state.Load() {
		case stateNew:
			if isCall {
				return nil, jsonrpc2.Errorf(jsonrpc2.ServerNotInitialized, "%s: server not initialized", method)
			}
			return nil, nil
		case stateShutdown:
			if isCall {
				return nil, jsonrpc2.Errorf(jsonrpc2.InvalidRequest, "%s: server is shut down", method)
			}
			return nil, nil
		}
	}
	h, ok := s.methods[method]
	if !ok {
		if isCall {
			return nil, jsonrpc2.Errorf(jsonrpc2.MethodNotFound, "method not found: %s", method)
		}
		return nil, nil // unknown notifications ($/setTrace, ...) are ignored
	}
	result, err := h(ctx, req.Params())
	if err != nil {
		if _, ok := err.(*jsonrpc2.Error); !ok {
			err = jsonrpc2.NewError(jsonrpc2.InternalError, err.Error())
		}
	}
	return result, err
}

// decode unmarshals params into v, as an InvalidParams error.
func decode(params json.RawMessage, v any) error {
	if len(params) == 0 {
		return jsonrpc2.NewError(jsonrpc2.InvalidParams, "missing params")
	}
	if err := json.Unmarshal(params, v); err != nil {
		return jsonrpc2.Errorf(jsonrpc2.InvalidParams, "invalid params: %v", err)
	}
	return nil
}
