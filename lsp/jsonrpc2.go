package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// This file gathers what the server does around go.lsp.dev/jsonrpc2
// v0.10.0 and go.lsp.dev/protocol v0.12.0 (pinned: jsonrpc2 v1 has another
// API under the same path). Each workaround names the upstream behaviour
// it exists for, and jsonrpc2_test.go has a test per workaround that
// shows the behaviour upstream and the server's answer to it:
//
//   - a handler that returns an error closes the connection, and
//     ReplyHandler neither recovers panics nor tolerates a handler that
//     never replies: guard replies exactly once and never returns an
//     error (TestUpstreamHandlerErrorClosesConn);
//   - AsyncHandler starts a message only once the previous one replied:
//     queueHandler lets a slow handler release the queue
//     (TestUpstreamAsyncHandlerWaitsForReply);
//   - protocol's CancelHandler matches ids of type int32 and string, but
//     a numeric $/cancelRequest id decodes as float64: cancelHandler
//     converts it (TestUpstreamCancelIgnoresNumericIDs);
//   - the stream writes nothing once the context is cancelled, which
//     would swallow the RequestCancelled reply of a cancelled request:
//     cancelHandler replies with a context that is not cancelled
//     (TestUpstreamWriteDropsCancelledReplies);
//   - the stream's read error on a body that is not JSON ends the
//     session, and a zero jsonrpc2.ID marshals as 0, not null: stream
//     answers with a ParseError whose id is null and reads on
//     (TestUpstreamStreamFailsOnBadJSON).
//
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

// stream frames JSON-RPC messages with Content-Length headers, like
// jsonrpc2.NewStream, but survives bad input: a body that is not JSON is
// answered with a ParseError whose id is null, a body that is JSON but not a
// message with an InvalidRequest, and reading goes on. (jsonrpc2 v0.10.0
// closes the connection on any read error.) Only the end of the input or a
// broken transport ends a session.
type stream struct {
	rwc io.ReadWriteCloser
	in  *bufio.Reader
	log *log.Logger

	mu sync.Mutex // serialises writes: replies, notifications, our own errors
}

func newStream(rwc io.ReadWriteCloser, logger *log.Logger) *stream {
	return &stream{rwc: rwc, in: bufio.NewReaderSize(rwc, 64<<10), log: logger}
}

// Read returns the next well-formed message.
func (s *stream) Read(ctx context.Context) (jsonrpc2.Message, int64, error) {
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return nil, total, err
		}
		data, n, err := s.readFrame()
		total += n
		if err != nil {
			return nil, total, err
		}
		if data == nil {
			continue // a framing problem already answered
		}
		if !json.Valid(data) {
			s.log.Printf("malformed message (%d bytes): not JSON", len(data))
			s.writeError(nil, jsonrpc2.ParseError, "parse error: message is not valid JSON")
			continue
		}
		msg, err := jsonrpc2.DecodeMessage(data)
		if err != nil {
			s.log.Printf("invalid message: %v", err)
			s.writeError(rawID(data), jsonrpc2.InvalidRequest, fmt.Sprintf("invalid request: %v", err))
			continue
		}
		return msg, total, nil
	}
}

// readFrame reads one header block and body. It returns a nil body, and no
// error, when the header was unusable and has been answered.
func (s *stream) readFrame() ([]byte, int64, error) {
	var total int64
	length := int64(-1)
	bad := ""
	sawHeader := false
	for {
		line, err := s.in.ReadString('\n')
		total += int64(len(line))
		if err != nil {
			if err == io.EOF && !sawHeader {
				return nil, total, io.EOF
			}
			return nil, total, fmt.Errorf("reading header: %w", err)
		}
		line = strings.TrimSpace(line)
		if line == "" {
			if !sawHeader {
				continue // blank lines between messages are harmless
			}
			break
		}
		sawHeader = true
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			bad = fmt.Sprintf("invalid header line %q", line)
			continue
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 32)
			if err != nil || n <= 0 {
				bad = fmt.Sprintf("invalid Content-Length %q", strings.TrimSpace(value))
				continue
			}
			length = n
		}
	}
	if length < 0 {
		if bad == "" {
			bad = "missing Content-Length header"
		}
		s.log.Printf("malformed message header: %s", bad)
		s.writeError(nil, jsonrpc2.ParseError, "parse error: "+bad)
		return nil, total, nil
	}
	data := make([]byte, length)
	if _, err := io.ReadFull(s.in, data); err != nil {
		return nil, total, fmt.Errorf("reading body: %w", err)
	}
	return data, total + length, nil
}

// Write frames and writes msg.
func (s *stream) Write(ctx context.Context, msg jsonrpc2.Message) (int64, error) {
	data, err := json.Marshal(msg)
	if err != nil {
		return 0, fmt.Errorf("marshaling message: %w", err)
	}
	return s.writeRaw(data)
}

func (s *stream) writeRaw(data []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	buf := make([]byte, 0, len(data)+32)
	buf = append(buf, "Content-Length: "...)
	buf = strconv.AppendInt(buf, int64(len(data)), 10)
	buf = append(buf, "\r\n\r\n"...)
	buf = append(buf, data...)
	n, err := s.rwc.Write(buf)
	if err != nil {
		return int64(n), fmt.Errorf("writing message: %w", err)
	}
	return int64(n), nil
}

// writeError answers a message that never reached the handlers. id is the
// raw JSON id, or nil for "id": null.
func (s *stream) writeError(id json.RawMessage, code jsonrpc2.Code, message string) {
	if id == nil {
		id = json.RawMessage("null")
	}
	resp := struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   *jsonrpc2.Error `json:"error"`
	}{"2.0", id, &jsonrpc2.Error{Code: code, Message: message}}
	data, err := json.Marshal(resp)
	if err != nil {
		return
	}
	if _, err := s.writeRaw(data); err != nil {
		s.log.Printf("answering a malformed message: %v", err)
	}
}

// Close closes the transport.
func (s *stream) Close() error { return s.rwc.Close() }

// rawID extracts a usable id (number or string) from a message that did not
// decode; nil when there is none.
func rawID(data []byte) json.RawMessage {
	var m struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(data, &m) != nil || len(m.ID) == 0 {
		return nil
	}
	switch m.ID[0] {
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return m.ID
	}
	return nil
}
