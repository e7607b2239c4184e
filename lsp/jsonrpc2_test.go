package lsp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// Each test here pins one behaviour of go.lsp.dev/jsonrpc2 v0.10.0 or
// go.lsp.dev/protocol v0.12.0 that jsonrpc2.go works around: the first
// half shows the upstream behaviour (when it fails, upstream changed and
// the workaround may be dead), the second that the server copes.

func quietServer() *Server {
	return &Server{log: log.New(io.Discard, "", 0)}
}

func mustCall(t *testing.T, id jsonrpc2.ID, method string, params any) *jsonrpc2.Call {
	t.Helper()
	c, err := jsonrpc2.NewCall(id, method, params)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustNotification(t *testing.T, method string, params any) *jsonrpc2.Notification {
	t.Helper()
	n, err := jsonrpc2.NewNotification(method, params)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// protocol.CancelHandler cancels only int32 and string ids, but a numeric
// id of $/cancelRequest, as VS Code and Neovim send it, decodes as
// float64: upstream answers it as malformed and cancels nothing.
func TestUpstreamCancelIgnoresNumericIDs(t *testing.T) {
	cancelFive := json.RawMessage(`{"id": 5}`)
	var params protocol.CancelParams
	if err := json.Unmarshal(cancelFive, &params); err != nil {
		t.Fatal(err)
	}
	if _, ok := params.ID.(float64); !ok {
		t.Errorf("upstream: a numeric cancel id decodes as %T, not float64", params.ID)
	}
	var upstreamErr error
	up := protocol.CancelHandler(func(context.Context, jsonrpc2.Replier, jsonrpc2.Request) error { return nil })
	_ = up(context.Background(), func(_ context.Context, _ any, err error) error { upstreamErr = err; return nil },
		mustCall(t, jsonrpc2.NewNumberID(6), protocol.MethodCancelRequest, cancelFive))
	if upstreamErr == nil || !strings.Contains(upstreamErr.Error(), "malformed") {
		t.Errorf("upstream: cancelling id 5 answered %v, want a malformed-id error", upstreamErr)
	}

	// The server's cancelHandler cancels the call with numeric id 5.
	s := quietServer()
	started := make(chan struct{})
	replied := make(chan error, 1)
	h := s.cancelHandler(func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		go func() {
			close(started)
			<-ctx.Done()
			reply(ctx, "late", nil)
		}()
		return nil
	})
	ctx := context.Background()
	h(ctx, func(_ context.Context, _ any, err error) error { replied <- err; return nil },
		mustCall(t, jsonrpc2.NewNumberID(5), protocol.MethodTextDocumentHover, map[string]any{}))
	<-started
	if err := h(ctx, func(context.Context, any, error) error { return nil },
		mustNotification(t, protocol.MethodCancelRequest, cancelFive)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-replied:
		if !errors.Is(err, protocol.ErrRequestCancelled) {
			t.Errorf("cancelled call answered %v, want RequestCancelled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("numeric cancel id did not cancel the call")
	}
}

// jsonrpc2.AsyncHandler starts a message only once the previous one has
// replied: a slow request (generate, a hover waiting for analysis) would
// hold every message behind it.
func TestUpstreamAsyncHandlerWaitsForReply(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	startedSecond := make(chan struct{}, 2)
	inner := func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) {
		if req.Method() == "slow" {
			release(ctx) // only the server's queue honours this
			<-block
			reply(ctx, nil, nil)
			return
		}
		startedSecond <- struct{}{}
		reply(ctx, nil, nil)
	}
	noReply := func(context.Context, any, error) error { return nil }
	send := func(h jsonrpc2.Handler) {
		h(context.Background(), noReply, mustCall(t, jsonrpc2.NewNumberID(1), "slow", nil))
		h(context.Background(), noReply, mustCall(t, jsonrpc2.NewNumberID(2), "fast", nil))
	}

	send(jsonrpc2.AsyncHandler(func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		inner(ctx, reply, req)
		return nil
	}))
	select {
	case <-startedSecond:
		t.Error("upstream: AsyncHandler started a message before the previous one replied")
	case <-time.After(200 * time.Millisecond):
	}

	// The server's queue lets a handler release it before it replies.
	send(quietServer().queueHandler(inner))
	select {
	case <-startedSecond:
	case <-time.After(5 * time.Second):
		t.Fatal("the second message waited for the slow one")
	}
}

// A handler that returns an error makes jsonrpc2's connection fail and
// end (and conn.fail stores errors in an atomic.Value: a second failure
// of another concrete type, such as the read error that follows, panics
// the process, so this test fails with a wrapped error like the
// stream's). The server's chain answers every failure (here a panic)
// with an error reply and returns nil.
func TestUpstreamHandlerErrorClosesConn(t *testing.T) {
	serverSide, clientSide := net.Pipe()
	defer clientSide.Close()
	conn := jsonrpc2.NewConn(jsonrpc2.NewStream(serverSide))
	conn.Go(context.Background(), func(context.Context, jsonrpc2.Replier, jsonrpc2.Request) error {
		return fmt.Errorf("handler failed: %w", io.EOF)
	})
	go io.Copy(io.Discard, clientSide)
	client := jsonrpc2.NewStream(clientSide)
	if _, err := client.Write(context.Background(), mustNotification(t, "anything", nil)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-conn.Done():
	case <-time.After(5 * time.Second):
		t.Error("upstream: a handler's error no longer ends the connection")
	}

	s := quietServer()
	s.testHook = func(context.Context, string) { panic("boom") }
	var got error
	s.guard(context.Background(), func(_ context.Context, _ any, err error) error { got = err; return nil },
		mustCall(t, jsonrpc2.NewNumberID(1), protocol.MethodTextDocumentHover, nil))
	var rpcErr *jsonrpc2.Error
	if !errors.As(got, &rpcErr) || rpcErr.Code != jsonrpc2.InternalError || !strings.Contains(rpcErr.Message, "boom") {
		t.Errorf("panicking handler answered %v, want InternalError naming the panic", got)
	}
}

// jsonrpc2's stream fails on a body that is not JSON, which ends the
// session; and the zero ID, the only one it has for "no id", marshals as
// 0 where JSON-RPC wants null. The server's stream answers with a
// ParseError whose id is null and reads the next message.
func TestUpstreamStreamFailsOnBadJSON(t *testing.T) {
	bad := "Content-Length: 3\r\n\r\n{x}"
	good := `{"jsonrpc":"2.0","id":7,"method":"shutdown"}`
	input := bad + "Content-Length: " + strconv.Itoa(len(good)) + "\r\n\r\n" + good

	up := jsonrpc2.NewStream(rwc{strings.NewReader(input), io.Discard})
	if _, _, err := up.Read(context.Background()); err == nil {
		t.Error("upstream: a body that is not JSON no longer fails the stream")
	}
	resp, err := jsonrpc2.NewResponse(jsonrpc2.ID{}, nil, jsonrpc2.NewError(jsonrpc2.ParseError, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := json.Marshal(resp); !bytes.Contains(data, []byte(`"id":0`)) {
		t.Errorf("upstream: a zero id now marshals as %s", data)
	}

	var out bytes.Buffer
	ours := newStream(rwc{strings.NewReader(input), &out}, log.New(io.Discard, "", 0))
	msg, _, err := ours.Read(context.Background())
	if err != nil {
		t.Fatalf("the stream failed on bad JSON: %v", err)
	}
	if call, ok := msg.(*jsonrpc2.Call); !ok || call.Method() != "shutdown" {
		t.Errorf("read %v, want the message after the bad one", msg)
	}
	if !strings.Contains(out.String(), `"id":null`) || !strings.Contains(out.String(), `"code":-32700`) {
		t.Errorf("bad JSON answered %q, want a ParseError with id null", out.String())
	}
}

// jsonrpc2's stream writes nothing when the context is cancelled, so the
// RequestCancelled reply of a cancelled request would never be sent:
// cancelHandler replies with a context that is not cancelled.
func TestUpstreamWriteDropsCancelledReplies(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	resp, err := jsonrpc2.NewResponse(jsonrpc2.NewNumberID(1), nil, protocol.ErrRequestCancelled)
	if err != nil {
		t.Fatal(err)
	}
	var upOut bytes.Buffer
	if _, err := jsonrpc2.NewStream(rwc{strings.NewReader(""), &upOut}).Write(ctx, resp); err == nil || upOut.Len() > 0 {
		t.Errorf("upstream: a write with a cancelled context wrote %q (%v)", upOut.String(), err)
	}

	s := quietServer()
	var replyCtx context.Context
	h := s.cancelHandler(func(ctx context.Context, reply jsonrpc2.Replier, req jsonrpc2.Request) error {
		s.reqs.cancel(jsonrpc2.NewNumberID(1))
		return reply(ctx, nil, nil)
	})
	h(context.Background(), func(ctx context.Context, _ any, _ error) error { replyCtx = ctx; return nil },
		mustCall(t, jsonrpc2.NewNumberID(1), protocol.MethodTextDocumentHover, nil))
	if replyCtx == nil {
		t.Fatal("no reply")
	}
	if err := replyCtx.Err(); err != nil {
		t.Errorf("a cancelled request is replied with context error %v, want a live context", err)
	}
}
