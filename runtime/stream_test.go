package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"

	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// streamProbe records what the streaming test functions did, so that a test
// can see when values were produced and when the function's context ended.
type streamProbe struct {
	mu       sync.Mutex
	produced []time.Time
	ctxDone  chan time.Time
}

func newStreamProbe() *streamProbe { return &streamProbe{ctxDone: make(chan time.Time, 16)} }

func (p *streamProbe) mark() {
	p.mu.Lock()
	p.produced = append(p.produced, time.Now())
	p.mu.Unlock()
}

func (p *streamProbe) times() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.produced...)
}

// watch records when ctx is done.
func (p *streamProbe) watch(ctx context.Context) {
	go func() {
		<-ctx.Done()
		p.ctxDone <- time.Now()
	}()
}

type tok struct {
	I    int    `json:"i"`
	Text string `json:"text"`
}

// counting yields n tokens, pausing between them, and stops early when ctx
// is done (as a well-behaved generator does).
func counting(ctx context.Context, p *streamProbe, n int, pause time.Duration) iter.Seq2[tok, error] {
	return func(yield func(tok, error) bool) {
		for i := range n {
			if i > 0 && pause > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(pause):
				}
			}
			if p != nil {
				p.mark()
			}
			if !yield(tok{I: i, Text: fmt.Sprint("t", i)}, nil) {
				return
			}
		}
	}
}

// streamFunctions are the streaming functions of the tests, as a generated
// handler registers them.
func streamFunctions(p *streamProbe) []Function {
	intParam := func(in *Input, name string) (int, error) {
		var n int
		err := Int(in, name, &n)
		return n, err
	}
	return []Function{
		{
			Name: "example.com/app/api.Count", Method: "GET", Path: "/count",
			Params: []Param{{Name: "n", In: "query"}, {Name: "pause_ms", In: "query"}},
			Call: func(ctx context.Context, in *Input) (any, error) {
				n, err := intParam(in, "n")
				if err != nil {
					return nil, err
				}
				ms, err := intParam(in, "pause_ms")
				if err != nil {
					return nil, err
				}
				return StreamOf(counting(ctx, p, n, time.Duration(ms)*time.Millisecond)), nil
			},
		},
		{
			// Forever streams until its context is done.
			Name: "example.com/app/api.Forever", Method: "GET", Path: "/forever",
			Call: func(ctx context.Context, in *Input) (any, error) {
				p.watch(ctx)
				return StreamOf(counting(ctx, p, 1<<30, time.Millisecond)), nil
			},
		},
		{
			// Failing yields three tokens, then an error.
			Name: "example.com/app/api.Failing", Method: "POST", Path: "/failing",
			Params: []Param{{Name: "at", In: "body"}},
			Call: func(ctx context.Context, in *Input) (any, error) {
				at, err := intParam(in, "at")
				if err != nil {
					return nil, err
				}
				return StreamOf(func(yield func(tok, error) bool) {
					for i := range at {
						if !yield(tok{I: i}, nil) {
							return
						}
					}
					yield(tok{}, &statusError{http.StatusTeapot, fmt.Sprintf("out of tokens after %d", at)})
				}), nil
			},
		},
		{
			Name: "example.com/app/api.Panicky", Method: "GET", Path: "/panicky",
			Call: func(ctx context.Context, in *Input) (any, error) {
				return StreamOfSeq(func(yield func(int) bool) {
					if yield(1) {
						panic("the model fell over")
					}
				}), nil
			},
		},
		{
			Name: "example.com/app/api.Empty", Method: "GET", Path: "/empty",
			Call: func(ctx context.Context, in *Input) (any, error) {
				return StreamOfSeq[int](nil), nil
			},
		},
	}
}

func newStreamLB(t testing.TB, res Resource, p *streamProbe, logs io.Writer) (base string) {
	t.Helper()
	s, err := NewLoadBalancer(App{Resource: res, Functions: streamFunctions(p)})
	if err != nil {
		t.Fatal(err)
	}
	if logs == nil {
		logs = io.Discard
	}
	s.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	base, _, _ = startLB(t, s, false, 5*time.Second)
	return base
}

// syncBuffer is a bytes.Buffer safe for the server's log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestStreamNDJSON streams 10,000 small values: one JSON value per line, in
// order, as application/x-ndjson; the request log, written when the stream
// ends, counts them.
func TestStreamNDJSON(t *testing.T) {
	logs := &syncBuffer{}
	base := newStreamLB(t, LoadBalancer{Name: "api"}, nil, logs)
	resp, err := http.Get(base + "/count?n=10000&pause_ms=0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		var v tok
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %d: %q: %v", n+1, sc.Text(), err)
		}
		if v.I != n || v.Text != fmt.Sprint("t", n) {
			t.Fatalf("line %d is %+v", n+1, v)
		}
		n++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 10000 {
		t.Fatalf("%d values, want 10000", n)
	}
	// The request log is written as the handler returns, just after the
	// last byte went out.
	var rec map[string]any
	deadline := time.Now().Add(2 * time.Second)
	for rec == nil && time.Now().Before(deadline) {
		for _, line := range strings.Split(logs.String(), "\n") {
			var r map[string]any
			if json.Unmarshal([]byte(line), &r) == nil && r["msg"] == "request" && r["path"] == "/count" {
				rec = r
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	if rec == nil {
		t.Fatalf("no request log for /count:\n%s", logs.String())
	}
	if rec["items"] != float64(10000) || rec["status"] != float64(200) || rec["duration"] == nil {
		t.Errorf("request log %v, want items 10000, status 200 and a duration", rec)
	}
}

// TestStreamAsProduced: 100 values with a 10 ms pause between them arrive
// as they are produced — the first within 20 ms of the request, each soon
// after its production — not all at the end.
func TestStreamAsProduced(t *testing.T) {
	p := newStreamProbe()
	base := newStreamLB(t, LoadBalancer{Name: "api"}, p, nil)
	// Warm the connection pool so the measurement is of the stream.
	if a := send(t, "GET", base+"/count?n=1&pause_ms=0", ""); a.status != 200 {
		t.Fatal(a)
	}
	p = resetProbe(p)
	start := time.Now()
	resp, err := http.Get(base + "/count?n=100&pause_ms=10")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	var arrived []time.Time
	for {
		line, err := rd.ReadBytes('\n')
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		arrived = append(arrived, time.Now())
		var v tok
		if err := json.Unmarshal(line, &v); err != nil || v.I != len(arrived)-1 {
			t.Fatalf("value %d: %q (%v)", len(arrived), line, err)
		}
	}
	produced := p.times()
	if len(arrived) != 100 || len(produced) != 100 {
		t.Fatalf("%d values arrived, %d produced; want 100", len(arrived), len(produced))
	}
	if first := arrived[0].Sub(start); first > 20*time.Millisecond {
		t.Errorf("first value after %v, want ≤ 20ms", first)
	}
	// Values arrive as produced: each within a few ms of its production,
	// so the 100th arrives about a second after the first.
	var worst time.Duration
	for i := range arrived {
		worst = max(worst, arrived[i].Sub(produced[i]))
	}
	if worst > 50*time.Millisecond {
		t.Errorf("a value arrived %v after it was produced, want ≤ 50ms", worst)
	}
	if spread := arrived[99].Sub(arrived[0]); spread < 900*time.Millisecond {
		t.Errorf("values arrived within %v of each other: not as produced", spread)
	}
}

// resetProbe replaces p's records (the functions hold p itself).
func resetProbe(p *streamProbe) *streamProbe {
	p.mu.Lock()
	p.produced = nil
	p.mu.Unlock()
	return p
}

// TestStreamDisconnect: a client that goes away after 5 values cancels the
// function's context within 100 ms, and the iteration stops.
func TestStreamDisconnect(t *testing.T) {
	p := newStreamProbe()
	base := newStreamLB(t, LoadBalancer{Name: "api"}, p, nil)
	resp, err := http.Get(base + "/forever")
	if err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(resp.Body)
	for i := range 5 {
		if _, err := rd.ReadBytes('\n'); err != nil {
			t.Fatalf("value %d: %v", i+1, err)
		}
	}
	closed := time.Now()
	resp.Body.Close() // closes the connection: the body was not read to its end
	select {
	case done := <-p.ctxDone:
		if d := done.Sub(closed); d > 100*time.Millisecond {
			t.Errorf("function context done %v after the disconnect, want ≤ 100ms", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("function context not done 2s after the disconnect")
	}
	n := len(p.times())
	time.Sleep(30 * time.Millisecond)
	if m := len(p.times()); m != n {
		t.Errorf("the function produced %d more values after its context ended", m-n)
	}
}

// TestStreamErrors: an error after the first value is a last line
// {"error": ...} (SSE: an error event); before the first value it is the
// ordinary error answer, with the error's own status; a panic mid-stream
// is a last line naming the function only, on a deployed resource.
func TestStreamErrors(t *testing.T) {
	base := newStreamLB(t, LoadBalancer{Name: "api"}, nil, nil)

	a := send(t, "POST", base+"/failing", `{"at": 3}`)
	want := "{\"i\":0,\"text\":\"\"}\n{\"i\":1,\"text\":\"\"}\n{\"i\":2,\"text\":\"\"}\n{\"error\":\"out of tokens after 3\"}\n"
	if a.status != 200 || a.body != want {
		t.Errorf("mid-stream error: %d %q, want 200 %q", a.status, a.body, want)
	}

	a = send(t, "POST", base+"/failing", `{"at": 0}`)
	if a.status != http.StatusTeapot || a.header.Get("Content-Type") != "application/json" || !strings.Contains(a.body, `"error":"out of tokens after 0"`) {
		t.Errorf("error before the first value: %d %s %q", a.status, a.header.Get("Content-Type"), a.body)
	}

	a = send(t, "POST", base+"/failing", `{"at": "x"}`)
	if a.status != 400 {
		t.Errorf("bad parameter: %d %q", a.status, a.body)
	}

	a = send(t, "GET", base+"/panicky", "")
	if a.status != 200 || a.body != "1\n{\"error\":\"internal error in Panicky\"}\n" {
		t.Errorf("panic mid-stream: %d %q", a.status, a.body)
	}

	a = send(t, "GET", base+"/empty", "")
	if a.status != 200 || a.body != "" || a.header.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("empty stream: %d %q %v", a.status, a.body, a.header)
	}

	// SSE framing of values and of the error.
	req, _ := http.NewRequest("POST", base+"/failing", strings.NewReader(`{"at": 2}`))
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantSSE := "data: {\"i\":0,\"text\":\"\"}\n\ndata: {\"i\":1,\"text\":\"\"}\n\nevent: error\ndata: {\"error\":\"out of tokens after 2\"}\n\n"
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || string(body) != wantSSE {
		t.Errorf("SSE: %d %q %q, want %q", resp.StatusCode, resp.Header.Get("Content-Type"), body, wantSSE)
	}
}

// TestStreamExecute: /execute on a live resource runs a streaming function
// to its end and answers the array of its values; a mid-stream error fails
// the call.
func TestStreamExecute(t *testing.T) {
	base := newStreamLB(t, LiveLoadBalancer{Name: "api"}, nil, nil)
	a := send(t, "POST", base+"/execute", `{"function_name": "Failing", "kwargs": {"at": 2}}`)
	if a.status != 200 || !strings.Contains(a.body, `"success":false`) || !strings.Contains(a.body, "out of tokens after 2") {
		t.Errorf("failing stream: %d %s", a.status, a.body)
	}
	a = send(t, "POST", base+"/execute", `{"function_name": "Count", "kwargs": {"n": 3, "pause_ms": 0}}`)
	want := `{"success":true,"result":[{"i":0,"text":"t0"},{"i":1,"text":"t1"},{"i":2,"text":"t2"}]}` + "\n"
	if a.status != 200 || a.body != want {
		t.Errorf("stream via /execute: %d %q, want %q", a.status, a.body, want)
	}
	// On a live resource a panic's detail is shown.
	a = send(t, "GET", base+"/panicky", "")
	if !strings.Contains(a.body, "the model fell over") {
		t.Errorf("live panic: %q", a.body)
	}
}
