package runtime

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// A call is a user function running for a request: what the drain
// answers itself when the function outlives the shutdown timeout.
type call struct {
	w          http.ResponseWriter
	fn         string
	prev, next *call
	abandoned  bool
}

// calls are the user functions running now. A request's handler enters
// before it calls the function and leaves after; whoever is second, the
// handler or the drain, does not write the answer.
type calls struct {
	mu   sync.Mutex
	head call // sentinel of a circular list
}

var callPool = sync.Pool{New: func() any { return new(call) }}

func (cs *calls) enter(w http.ResponseWriter, fn string) *call {
	c := callPool.Get().(*call)
	c.w, c.fn, c.abandoned = w, fn, false
	cs.mu.Lock()
	if cs.head.next == nil {
		cs.head.next, cs.head.prev = &cs.head, &cs.head
	}
	c.prev, c.next = cs.head.prev, &cs.head
	cs.head.prev.next = c
	cs.head.prev = c
	cs.mu.Unlock()
	return c
}

// leave reports whether the handler still owns its answer: false once
// the drain has answered for it.
func (cs *calls) leave(c *call) bool {
	cs.mu.Lock()
	abandoned := c.abandoned
	if !abandoned {
		c.prev.next, c.next.prev = c.next, c.prev
	}
	cs.mu.Unlock()
	if abandoned {
		return false // the drain's list no longer holds it, nor does the pool
	}
	*c = call{}
	callPool.Put(c)
	return true
}

// abandon answers every call still running with 503 and a complete
// body (Content-Length, so the client has its answer although the
// handler never returns), and returns how many there were.
func (cs *calls) abandon(logger *slog.Logger) int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.head.next == nil {
		return 0
	}
	n := 0
	for c := cs.head.next; c != &cs.head; {
		next := c.next
		c.abandoned = true
		c.prev, c.next = nil, nil
		body := `{"error":"shutting down: ` + bareName(c.fn) + ` did not return in time"}` + "\n"
		h := c.w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("Connection", "close")
		c.w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = c.w.Write([]byte(body))
		_ = http.NewResponseController(c.w).Flush()
		logger.Warn("shutdown timeout: answered 503 for a function still running", slog.String("function", c.fn))
		n++
		c = next
	}
	cs.head.next, cs.head.prev = &cs.head, &cs.head
	return n
}

// drainPlan is when each step of a drain happens, counted from SIGTERM.
type drainPlan struct {
	grace   time.Duration // the listener stays open at least this long
	cancel  time.Duration // request contexts are cancelled
	abandon time.Duration // calls still running are answered 503
	timeout time.Duration // everything is closed
}

func newDrainPlan(grace, timeout time.Duration) drainPlan {
	p := drainPlan{grace: grace, timeout: timeout}
	p.abandon = timeout - min(timeout/5, time.Second)
	p.cancel = p.abandon - min(timeout/5, 2*time.Second)
	if p.grace > p.cancel {
		p.grace = p.cancel
	}
	return p
}

// drainServers runs the drain of SPEC section 15 once the serve context
// is done and s answers 503: it waits for the grace and for the requests
// in flight, cancels the contexts of those that outlive their share of
// the timeout (cancelRequests), answers 503 for the functions that still
// do not return, then closes the listeners and connections. It returns
// by timeout.
//
// Every answer of the drain closes its connection (Drain), so clients
// reconnect, and through the grace they reach the open listener and are
// answered 503. But closing a listener resets the connections the kernel
// has accepted for it and the server has not yet: a client that
// reconnected a moment before would see its request reset. So before the
// listener closes, answers are held (s.hold): a client whose connection
// was just closed reconnects once and waits for its answer, and no new
// connection follows; once none has come for a moment (settle), the
// listener closes and the held requests are answered, after which a
// client's reconnection is refused. Connections whose clients stay idle
// close with the servers' shutdown.
func drainServers(s *LoadBalancerServer, servers []*http.Server, listeners []net.Listener, cancelRequests context.CancelFunc, timeout time.Duration) {
	logger := s.logger()
	start := time.Now()
	plan := newDrainPlan(s.DrainGrace, timeout)
	cancelCtx, cancel1 := context.WithDeadline(context.Background(), start.Add(plan.cancel))
	defer cancel1()
	abandonCtx, cancel2 := context.WithDeadline(context.Background(), start.Add(plan.abandon))
	defer cancel2()
	// The last steps must be over by the timeout, the process's exit too.
	end := start.Add(plan.timeout - min(plan.timeout/20, 100*time.Millisecond))
	closeCtx, cancel3 := context.WithDeadline(context.Background(), end)
	defer cancel3()
	sleepUntil(start.Add(plan.grace))
	abandoned := 0
	if !s.waitIdle(cancelCtx) {
		logger.Warn("shutdown: cancelling the requests still running", slog.Int64("requests", s.inflight.Load()))
		cancelRequests()
		if !s.waitIdle(abandonCtx) {
			abandoned = s.calls.abandon(logger)
		}
	}

	hold := make(chan struct{})
	s.hold.Store(&hold)
	settleBy := earliest(time.Now().Add(settleMax), end)
	for time.Now().Before(settleBy) && time.Since(time.Unix(0, s.lastConn.Load())) < settleQuiet {
		time.Sleep(settleQuiet / 10)
	}
	for _, ln := range listeners {
		_ = ln.Close()
	}
	s.hold.Store(nil)
	close(hold)
	logger.Info("draining: listener closed", slog.Int64("connections", s.conns.Load()), slog.Duration("after", time.Since(start)))
	closeBy := earliest(time.Now().Add(settleMax), end)
	for time.Now().Before(closeBy) && s.conns.Load() > int64(abandoned) {
		time.Sleep(time.Millisecond)
	}
	logger.Info("draining: closing the connections left", slog.Int64("connections", s.conns.Load()), slog.Duration("after", time.Since(start)))
	for _, srv := range servers {
		if abandoned > 0 {
			// Their handlers never return: Shutdown would wait for
			// them to the end. Their answers are out; close.
			_ = srv.Close()
			continue
		}
		if err := srv.Shutdown(closeCtx); err != nil {
			logger.Warn("shutdown timeout: closing open connections", slog.String("error", err.Error()))
			_ = srv.Close()
		}
	}
}

// A drain waits up to settleMax for connections to settle (no new one
// for settleQuiet) before it closes the listener, and as long again for
// the open connections to close after their next answer.
const (
	settleQuiet = 50 * time.Millisecond
	settleMax   = 500 * time.Millisecond
)

// connState counts the open connections of the main server and notes
// when the last one came.
func (s *LoadBalancerServer) connState(_ net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		s.conns.Add(1)
		s.lastConn.Store(time.Now().UnixNano())
	case http.StateClosed, http.StateHijacked:
		s.conns.Add(-1)
	}
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func sleepUntil(t time.Time) {
	if d := time.Until(t); d > 0 {
		time.Sleep(d)
	}
}

// waitIdle waits until no request but /ping is in flight, or ctx is
// done; it reports whether none is.
func (s *LoadBalancerServer) waitIdle(ctx context.Context) bool {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for s.inflight.Load() > 0 {
		select {
		case <-ctx.Done():
			return s.inflight.Load() == 0
		case <-tick.C:
		}
	}
	return true
}

// errShuttingDown is the answer to a request whose context the drain
// cancelled.
var errShuttingDown = errors.New("shutting down")
