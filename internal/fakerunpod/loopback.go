package fakerunpod

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// LoopbackTransport dials loopback addresses only: a client under test that
// tries anything else fails instead of reaching out.
func LoopbackTransport() *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			ip := net.ParseIP(host)
			if ip == nil || !ip.IsLoopback() {
				return nil, fmt.Errorf("test transport: refusing to dial %s (not a loopback address)", addr)
			}
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 16,
	}
}

// LoopbackClient is an http.Client on LoopbackTransport.
func LoopbackClient() *http.Client { return &http.Client{Transport: LoopbackTransport()} }
