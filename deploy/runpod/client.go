// Package runpod is a client of RunPod's REST v2 management API, the part
// that `flash-lsp deploy` uses: serverless endpoints and registry
// credentials. It retries what can succeed later (429, 5xx, network errors,
// honouring Retry-After, at most five tries per call) and turns the API's
// problem answers into errors that name what RunPod rejected.
package runpod

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultBaseURL is the management API's base URL; RUNPOD_API_URL overrides
// it. It is the one place a RunPod management host is named.
const DefaultBaseURL = "https://api.runpod.io/v2"

// MaxTries bounds the attempts of one call.
const MaxTries = 5

// ErrUnauthorized is returned (wrapped) when RunPod answers 401.
var ErrUnauthorized = errors.New("RunPod rejected the API key")

// Client calls the management API. Its zero value is not usable: build one
// with New.
type Client struct {
	// BaseURL is the API's base URL, without a trailing slash.
	BaseURL string
	// APIKey is sent as a Bearer token, and never logged or put in errors.
	APIKey string
	// HTTP is the transport (http.DefaultClient when nil).
	HTTP *http.Client
	// Backoff returns the wait before try n+1 (n ≥ 1) when the answer
	// carries no Retry-After: 1, 2, 4, 8 s by default.
	Backoff func(n int) time.Duration
	// MaxRetryAfter caps a server's Retry-After (60 s when zero).
	MaxRetryAfter time.Duration
}

// New returns a client for the API at RUNPOD_API_URL, or DefaultBaseURL.
func New(apiKey string) *Client {
	base := os.Getenv("RUNPOD_API_URL")
	if base == "" {
		base = DefaultBaseURL
	}
	return &Client{BaseURL: strings.TrimRight(base, "/"), APIKey: apiKey}
}

// APIError is an answer of the API that is not a success.
type APIError struct {
	Method, Path string
	Status       int
	Problem      Problem
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	switch e.Status {
	case http.StatusUnauthorized:
		b.WriteString(ErrUnauthorized.Error())
		return b.String()
	case http.StatusUnprocessableEntity:
		b.WriteString("RunPod rejected the request")
	default:
		fmt.Fprintf(&b, "RunPod answered %d", e.Status)
	}
	if d := e.Problem.Detail; d != "" {
		b.WriteString(": " + d)
	} else if t := e.Problem.Title; t != "" {
		b.WriteString(": " + t)
	}
	if len(e.Problem.Errors) > 0 {
		msgs := make([]string, len(e.Problem.Errors))
		for i, pe := range e.Problem.Errors {
			msgs[i] = pe.String()
		}
		b.WriteString(": " + strings.Join(msgs, "; "))
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrUnauthorized) work.
func (e *APIError) Unwrap() error {
	if e.Status == http.StatusUnauthorized {
		return ErrUnauthorized
	}
	return nil
}

// NotFound reports whether err is a 404 answer.
func NotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound
}

func (pe ProblemError) String() string {
	switch {
	case pe.Location != "" && pe.Message != "":
		return pe.Location + ": " + pe.Message
	case pe.Message != "":
		return pe.Message
	}
	return pe.Location
}

// UnmarshalJSON accepts a plain string as well as an object.
func (pe *ProblemError) UnmarshalJSON(data []byte) error {
	var s string
	if json.Unmarshal(data, &s) == nil {
		*pe = ProblemError{Message: s}
		return nil
	}
	type plain ProblemError
	return json.Unmarshal(data, (*plain)(pe))
}

// CreateEndpoint creates an endpoint. A network error is retried only
// after a look at the endpoint list shows that the lost request created
// nothing; otherwise the endpoint it created is returned.
func (c *Client) CreateEndpoint(ctx context.Context, req *CreateEndpoint) (*Endpoint, error) {
	var ep Endpoint
	err := c.do(ctx, http.MethodPost, "/serverless", req, &ep, func(ctx context.Context) (bool, error) {
		list, err := c.ListEndpoints(ctx)
		if err != nil {
			return false, err
		}
		for _, e := range list {
			if e.Name == req.Name && e.Image == req.Image {
				ep = e
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return &ep, nil
}

// GetEndpoint returns one endpoint.
func (c *Client) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	var ep Endpoint
	if err := c.do(ctx, http.MethodGet, "/serverless/"+url.PathEscape(id), nil, &ep, nil); err != nil {
		return nil, err
	}
	return &ep, nil
}

// ListEndpoints returns every endpoint of the account.
func (c *Client) ListEndpoints(ctx context.Context) ([]Endpoint, error) {
	var list ListEndpoints
	if err := c.do(ctx, http.MethodGet, "/serverless", nil, &list, nil); err != nil {
		return nil, err
	}
	return list.Endpoints, nil
}

// UpdateEndpoint changes the fields set in req, keeping the endpoint's id.
func (c *Client) UpdateEndpoint(ctx context.Context, id string, req *UpdateEndpoint) (*Endpoint, error) {
	var ep Endpoint
	if err := c.do(ctx, http.MethodPatch, "/serverless/"+url.PathEscape(id), req, &ep, nil); err != nil {
		return nil, err
	}
	return &ep, nil
}

// DeleteEndpoint deletes an endpoint and its bound template. An endpoint
// that is already gone counts as deleted.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	err := c.do(ctx, http.MethodDelete, "/serverless/"+url.PathEscape(id), nil, nil, nil)
	if NotFound(err) {
		return nil
	}
	return err
}

// CreateRegistry stores a registry credential and returns its id.
func (c *Client) CreateRegistry(ctx context.Context, req *CreateRegistry) (*Registry, error) {
	var r Registry
	if err := c.do(ctx, http.MethodPost, "/registries", req, &r, nil); err != nil {
		return nil, err
	}
	return &r, nil
}

// do sends one call, retrying 429, 5xx and network errors. For a call that
// is not idempotent, recover (when set) decides after a network error
// whether the lost request took effect (true: stop, out is filled).
func (c *Client) do(ctx context.Context, method, path string, in, out any, recover func(context.Context) (bool, error)) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("%s %s: encoding the request: %w", method, path, err)
		}
	}
	var last error
	for try := 1; try <= MaxTries; try++ {
		if try > 1 && recover != nil && isNetwork(last) {
			done, err := recover(ctx)
			if err != nil {
				return err
			}
			if done {
				return nil
			}
		}
		wait, err := c.once(ctx, method, path, body, out)
		if err == nil {
			return nil
		}
		last = err
		if wait < 0 || try == MaxTries {
			break
		}
		if wait == 0 {
			wait = c.backoff(try)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s %s: %w (after %w)", method, path, ctx.Err(), last)
		case <-t.C:
		}
	}
	return last
}

func (c *Client) backoff(try int) time.Duration {
	if c.Backoff != nil {
		return c.Backoff(try)
	}
	return time.Duration(1<<(try-1)) * time.Second
}

// netError marks a failure to get an answer.
type netError struct{ err error }

func (e *netError) Error() string { return e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

func isNetwork(err error) bool {
	var ne *netError
	return errors.As(err, &ne)
}

// once sends one request. wait is -1 when the failure is final, otherwise
// how long the server asked to wait (0: unknown).
func (c *Client) once(ctx context.Context, method, path string, body []byte, out any) (wait time.Duration, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return -1, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.APIKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := KeyOnHostOnly(c.HTTP).Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return -1, fmt.Errorf("%s %s: %w", method, path, ctx.Err())
		}
		return 0, &netError{fmt.Errorf("%s %s: %w", method, path, redact(err))}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return 0, &netError{fmt.Errorf("%s %s: reading the answer: %w", method, path, err)}
	}
	if resp.StatusCode/100 == 2 {
		if out == nil || resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(data)) == 0 {
			return 0, nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return -1, fmt.Errorf("%s %s: decoding the answer: %w", method, path, err)
		}
		return 0, nil
	}
	ae := &APIError{Method: method, Path: path, Status: resp.StatusCode}
	if json.Unmarshal(data, &ae.Problem) != nil || ae.Problem.Title == "" && ae.Problem.Detail == "" {
		ae.Problem = Problem{Status: resp.StatusCode, Detail: strings.TrimSpace(firstLine(string(data)))}
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return c.retryAfter(resp.Header.Get("Retry-After")), ae
	}
	return -1, ae
}

// KeyOnHostOnly returns a copy of hc (http.DefaultClient when nil) that
// follows a redirect without the Authorization header once it leaves the
// scheme and host, port included, of the first request: the key is never
// sent over a redirect to another host (SPEC 14). Go's own rule would keep
// it for another port of the same host name, and for subdomains.
func KeyOnHostOnly(hc *http.Client) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	guarded := *hc // the caller's client may be shared: never change it
	next := hc.CheckRedirect
	guarded.CheckRedirect = func(r *http.Request, via []*http.Request) error {
		first := via[0].URL
		if !strings.EqualFold(r.URL.Host, first.Host) || r.URL.Scheme != first.Scheme {
			r.Header.Del("Authorization")
		}
		if next != nil {
			return next(r, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &guarded
}

// retryAfter parses a Retry-After header (seconds or an HTTP date).
func (c *Client) retryAfter(h string) time.Duration {
	limit := c.MaxRetryAfter
	if limit == 0 {
		limit = time.Minute
	}
	var d time.Duration
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && s >= 0 {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = time.Until(t)
	}
	if d <= 0 {
		return 0
	}
	return min(d, limit)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// redact drops the URL from a transport error: the operation and path are
// already in the message.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
