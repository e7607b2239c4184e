package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkCaller compares, against one server on loopback, a call
// through Caller (what a generated typed client does: bind the arguments
// to path, query or body, send, decode the typed result) with a
// hand-written net/http request doing the same. The typed and inproc
// sub-benchmarks report their time per call as a multiple of the
// hand-written one (x_nethttp); interleaved alternates the two call by
// call, the fairest comparison on a loaded machine; inproc is the same
// call to a resource this process serves, which stays in memory.
//
//	go test -run '^$' -bench BenchmarkCaller -benchtime 2s ./runtime
func BenchmarkCaller(b *testing.B) {
	s, err := NewLoadBalancer(App{Resource: LoadBalancer{Name: "test-api"}, Functions: testFunctions(newBlocker())})
	if err != nil {
		b.Fatal(err)
	}
	s.Logger = discardLogger()
	srv := httptest.NewServer(s)
	defer srv.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport}
	ctx := context.Background()
	verbose := true

	var handNs float64
	for _, c := range []struct {
		name string
		fn   *RemoteFunc
		args []any
		hand func() error
	}{
		{"GET", remoteGetItem, []any{"a/b", &verbose}, func() error {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/items/a%2Fb?verbose=true", nil)
			var it item
			return handDo(hc, req, &it)
		}},
		{"POST", remoteProcess, []any{5, 3}, func() error {
			body, _ := json.Marshal(map[string]int{"x": 5, "y": 3})
			req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/api/process", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			var sum sumResult
			return handDo(hc, req, &sum)
		}},
	} {
		b.Run(c.name+"/nethttp", func(b *testing.B) {
			for b.Loop() {
				if err := c.hand(); err != nil {
					b.Fatal(err)
				}
			}
			handNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		})
		caller := &Caller{BaseURL: srv.URL, HTTPClient: hc, Timeout: 10 * time.Second}
		b.Run(c.name+"/typed", func(b *testing.B) {
			for b.Loop() {
				if err := caller.Call(ctx, c.fn, c.args, new(json.RawMessage)); err != nil {
					b.Fatal(err)
				}
			}
			if handNs > 0 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/handNs, "x_nethttp")
			}
		})
		// The machine's load drifts between sub-benchmarks; this one
		// alternates the two clients call by call and compares their
		// total times.
		b.Run(c.name+"/interleaved", func(b *testing.B) {
			var typed, hand time.Duration
			for b.Loop() {
				t0 := time.Now()
				if err := caller.Call(ctx, c.fn, c.args, new(json.RawMessage)); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if err := c.hand(); err != nil {
					b.Fatal(err)
				}
				typed, hand = typed+t1.Sub(t0), hand+time.Since(t1)
			}
			b.ReportMetric(float64(typed)/float64(hand), "x_nethttp")
		})
		r := &Resolver{Getenv: func(string) string { return "" }}
		r.Register("test-api", s)
		local := &Caller{Resolver: r}
		b.Run(c.name+"/inproc", func(b *testing.B) {
			for b.Loop() {
				if err := local.Call(ctx, c.fn, c.args, new(json.RawMessage)); err != nil {
					b.Fatal(err)
				}
			}
			if handNs > 0 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/handNs, "x_nethttp")
			}
		})
	}
}

// handDo is the hand-written client: send, check the status, decode.
func handDo(hc *http.Client, req *http.Request, v any) error {
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
