package lsp

import (
	"context"
	"encoding/json"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// dispatch is the inner end of the handler chain (jsonrpc2.go): lifecycle
// checks and the method table.

// methodFunc handles one method. For notifications the result is dropped.
type methodFunc func(ctx context.Context, params json.RawMessage) (any, error)

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
