package runtime

import (
	"bytes"
	"context"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EndpointURL is the base URL of a deployed load-balanced endpoint, or ""
// when id is not an endpoint id (see [CheckEndpointID]): an unchecked id
// could name another host ("evil.example#").
func EndpointURL(id string) string {
	if CheckEndpointID(id) != nil {
		return ""
	}
	return "https://" + id + ".api.runpod.ai"
}

// QueueURL is the base URL of a deployed queue endpoint, or "" when id is
// not an endpoint id (see [CheckEndpointID]).
func QueueURL(id string) string {
	if CheckEndpointID(id) != nil {
		return ""
	}
	return "https://api.runpod.ai/v2/" + id
}

// CheckEndpointID reports an id that is not a RunPod endpoint id:
// ^[a-z0-9][a-z0-9-]{0,63}$. Only such ids become URLs, so that an id can
// change neither the host nor the route a call reaches.
func CheckEndpointID(id string) error {
	ok := len(id) >= 1 && len(id) <= 64
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0
	}
	if !ok {
		return fmt.Errorf("%s is not a RunPod endpoint id (lower-case letters, digits and '-', at most 64, not starting with '-')", quoteShort(id))
	}
	return nil
}

// quoteShort quotes s for an error message, cut at 80 bytes.
func quoteShort(s string) string {
	if len(s) > 80 {
		return strconv.Quote(s[:80]) + "…"
	}
	return strconv.Quote(s)
}

// runPodURL reports whether u is an https URL of runpod.ai or one of its
// subdomains: the only URLs that receive the API key without the process
// having named them explicitly (SPEC section 14).
func runPodURL(u string) bool {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "https" || pu.User != nil || pu.Opaque != "" {
		return false
	}
	h := strings.ToLower(pu.Hostname())
	return h == "runpod.ai" || strings.HasSuffix(h, ".runpod.ai")
}

const (
	defaultClientTimeout = 30 * time.Second
	defaultPollInterval  = time.Second
	maxErrorBody         = 500
	// queueRequestTimeout is the least a queue request may take: RunPod
	// holds /runsync up to 90 s before it answers IN_QUEUE or IN_PROGRESS,
	// and a client that gave up sooner and retried would run the job twice.
	queueRequestTimeout = 100 * time.Second
	// statusTries bounds the consecutive failures of /status polls.
	statusTries = 3
)

// A Client calls the functions of a Flash endpoint: the routes of a
// load-balanced endpoint ([Client.Call]), POST /execute of a live one
// ([Client.Execute]), and the jobs of a queue endpoint ([Client.RunSync]).
// Its zero value is usable once BaseURL is set; a Client is safe for
// concurrent use.
//
//	c := &runtime.Client{BaseURL: runtime.EndpointURL("abc123")}
//	var item api.Item
//	err := c.Call(ctx, "GET", "/items/{id}", map[string]any{"id": "a/b", "verbose": true}, &item)
type Client struct {
	// BaseURL is the endpoint's URL: EndpointURL(id) or QueueURL(id) when
	// deployed, http://127.0.0.1:PORT locally.
	BaseURL string

	// APIKey is sent as "Authorization: Bearer APIKEY". When empty, the
	// RUNPOD_API_KEY environment variable is used if set. It goes to
	// BaseURL, and never over a redirect to another host.
	APIKey string

	// HTTPClient sends the requests; nil means http.DefaultClient.
	HTTPClient *http.Client

	// Timeout bounds each HTTP request; zero means 30 seconds, a negative
	// value no limit beyond the context's. The requests of RunSync wait
	// at least 100 seconds, longer than RunPod holds /runsync.
	Timeout time.Duration

	// PollInterval is how often RunSync asks for the status of a job that
	// is still queued or running; zero means one second.
	PollInterval time.Duration

	// keyOnlyRunPod: BaseURL was not configured by the process (it came
	// from a mothership's manifest), so the key goes only to RunPod URLs.
	keyOnlyRunPod bool
}

// An HTTPError is a non-2xx answer.
type HTTPError struct {
	Method     string
	URL        string
	StatusCode int
	Body       string // the response body, cut at 500 bytes
	Message    string // the body's "error" string, when it is JSON with one
}

func (e *HTTPError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = strings.TrimSpace(e.Body)
	}
	s := fmt.Sprintf("%s %s: %d %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode))
	if msg != "" {
		s += ": " + msg
	}
	return s
}

// A RemoteError is a remote function that failed: a RESULT with success
// false, from /execute or a queue job.
type RemoteError struct {
	Function  string
	Message   string // the "error" of the RESULT
	Traceback string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("remote function %s failed: %s", e.Function, e.Message)
}

// A JobError is a queue job that did not complete: its status is FAILED,
// CANCELLED or TIMED_OUT, or the client gave up waiting for it (Err is
// why; Status the last one seen). The job was submitted once: ID names it
// for a later look-up, and the client never submits it again.
type JobError struct {
	ID      string
	Status  string
	Message string // the job's "error", if any
	Err     error  // why the client stopped waiting, when it did
}

func (e *JobError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("job %s (last status %s): stopped waiting: %v", e.ID, e.Status, e.Err)
	}
	s := fmt.Sprintf("job %s %s", e.ID, strings.ToLower(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (e *JobError) Unwrap() error { return e.Err }

// Call calls the route method template of a load-balanced endpoint. The
// path variables of template ({id}, {id:[0-9]+}) are taken from args and
// escaped with url.PathEscape ("." and ".." as %2E and %2E%2E, so that no
// value changes the route); the other args are sent as the query
// string for GET and DELETE (a slice as repeated keys) and as a JSON
// object body otherwise. Nil pointers are left out, so an optional
// parameter can be passed as a pointer. When result is not nil, the
// response's JSON is decoded into it; a 204 leaves it untouched.
func (c *Client) Call(ctx context.Context, method, template string, args map[string]any, result any) error {
	method, u, body, err := c.routeRequest(method, template, args)
	if err != nil {
		return err
	}
	return c.do(ctx, method, u, body, result)
}

// routeRequest is the method, URL and body of a call of a route.
func (c *Client) routeRequest(method, template string, args map[string]any) (string, string, []byte, error) {
	method = strings.ToUpper(method)
	p, rest, err := expandPath(template, args)
	if err != nil {
		return "", "", nil, err
	}
	var body []byte
	rawQuery := ""
	switch method {
	case http.MethodGet, http.MethodDelete, http.MethodHead:
		q := url.Values{}
		for name, v := range rest {
			vals, err := queryValues(v)
			if err != nil {
				return "", "", nil, fmt.Errorf("parameter %q: %w", name, err)
			}
			q[name] = vals
		}
		rawQuery = q.Encode()
	default:
		obj := make(map[string]any, len(rest))
		for name, v := range rest {
			if !isNil(v) {
				obj[name] = v
			}
		}
		if body, err = json.Marshal(obj); err != nil {
			return "", "", nil, fmt.Errorf("encoding the request body: %w", err)
		}
	}
	u := strings.TrimRight(c.BaseURL, "/") + p
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	return method, u, body, nil
}

// Execute calls function through POST /execute of a live endpoint, with
// positional args and keyword kwargs, and decodes the result into result
// (when not nil). A function that failed is a *RemoteError.
func (c *Client) Execute(ctx context.Context, function string, args []any, kwargs map[string]any, result any) error {
	body, err := json.Marshal(callEnvelope(function, args, kwargs))
	if err != nil {
		return fmt.Errorf("encoding the call: %w", err)
	}
	var res resultBody
	if err := c.do(ctx, http.MethodPost, strings.TrimRight(c.BaseURL, "/")+"/execute", body, &res); err != nil {
		return err
	}
	return res.decode(function, result)
}

// RunSync runs function as a job of a queue endpoint: it posts to
// /runsync and, while the job is IN_QUEUE or IN_PROGRESS, polls
// /status/{id} every PollInterval until it finishes or ctx is done. A
// function that failed is a *RemoteError, a job that did not complete a
// *JobError.
func (c *Client) RunSync(ctx context.Context, function string, args []any, kwargs map[string]any, result any) error {
	body, err := json.Marshal(map[string]any{"input": callEnvelope(function, args, kwargs)})
	if err != nil {
		return fmt.Errorf("encoding the call: %w", err)
	}
	base := strings.TrimRight(c.BaseURL, "/")
	q := *c
	if q.Timeout >= 0 && q.Timeout < queueRequestTimeout {
		q.Timeout = queueRequestTimeout
	}
	var st jobStatus
	if err := q.do(ctx, http.MethodPost, base+"/runsync", body, &st); err != nil {
		return err
	}
	interval := c.PollInterval
	if interval <= 0 {
		interval = defaultPollInterval
	}
	failures := 0
	for st.Status == "IN_QUEUE" || st.Status == "IN_PROGRESS" {
		if err := checkJobID(st.ID); err != nil {
			// The job was submitted, and cannot be followed: it is not
			// submitted again.
			return &JobError{ID: st.ID, Status: st.Status, Err: fmt.Errorf("runsync answered %w", err)}
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return &JobError{ID: st.ID, Status: st.Status, Err: ctx.Err()}
		case <-t.C:
		}
		var next jobStatus
		if err := q.do(ctx, http.MethodGet, base+"/status/"+escapePathValue(st.ID), nil, &next); err != nil {
			// The job runs whatever happens to a poll: ask again,
			// never submit it again.
			failures++
			if failures >= statusTries || ctx.Err() != nil || !retryable(err) {
				return &JobError{ID: st.ID, Status: st.Status, Err: err}
			}
			continue
		}
		failures = 0
		if next.ID == "" {
			next.ID = st.ID
		}
		st = next
	}
	if st.Status != "COMPLETED" {
		return &JobError{ID: st.ID, Status: st.Status, Message: errorText(st.Error)}
	}
	var res resultBody
	if err := json.Unmarshal(st.Output, &res); err != nil || res.Success == nil {
		// Not a Flash RESULT: the output itself is the result.
		if result == nil || len(st.Output) == 0 {
			return nil
		}
		if err := json.Unmarshal(st.Output, result); err != nil {
			return fmt.Errorf("decoding the output of job %s: %w", st.ID, err)
		}
		return nil
	}
	return res.decode(function, result)
}

// checkJobID reports a job id the client cannot poll: empty, longer
// than 256 bytes, or with bytes outside printable ASCII, '/', '?', '#'
// and '%' included, which would change the /status URL.
func checkJobID(id string) error {
	if id == "" {
		return errors.New("a job in progress without an id")
	}
	if len(id) > 256 {
		return fmt.Errorf("a job id of %d bytes", len(id))
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("/?#%\\", c) >= 0 {
			return fmt.Errorf("an invalid job id %s", quoteShort(id))
		}
	}
	return nil
}

func callEnvelope(function string, args []any, kwargs map[string]any) map[string]any {
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	return map[string]any{"function_name": function, "args": args, "kwargs": kwargs}
}

type jobStatus struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Output json.RawMessage `json:"output"`
	Error  json.RawMessage `json:"error"`
}

// errorText is an "error" value as text: a JSON string's contents, other
// JSON as it is.
func errorText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if isJSONNull(bytes.TrimSpace(raw)) {
		return ""
	}
	return string(raw)
}

// resultBody is RESULT.
type resultBody struct {
	Success   *bool           `json:"success"`
	Result    json.RawMessage `json:"result"`
	Error     string          `json:"error"`
	Traceback string          `json:"traceback"`
}

func (r *resultBody) decode(function string, result any) error {
	if r.Success == nil {
		return fmt.Errorf("calling %s: the answer is not a result (no \"success\")", function)
	}
	if !*r.Success {
		return &RemoteError{Function: function, Message: r.Error, Traceback: r.Traceback}
	}
	if result == nil || len(r.Result) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.Result, result); err != nil {
		return fmt.Errorf("decoding the result of %s: %w", function, err)
	}
	return nil
}

// retryable reports whether a failed poll may be asked again: a network
// error or timeout, 408, 429 or 5xx.
func retryable(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.StatusCode >= 500 || he.StatusCode == http.StatusTooManyRequests || he.StatusCode == http.StatusRequestTimeout
	}
	return true
}

// do sends one request and decodes a 2xx JSON answer into result.
func (c *Client) do(ctx context.Context, method, u string, body []byte, result any) error {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = defaultClientTimeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("calling %s %s: %w", method, u, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := sendWithKey(c.HTTPClient, req, c.keyFor(u))
	if err != nil {
		return fmt.Errorf("calling %s %s: %w", method, u, err)
	}
	defer drainAndClose(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newHTTPError(method, u, resp)
	}
	if result == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("calling %s %s: reading the answer: %w", method, u, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, result); err != nil {
		return fmt.Errorf("calling %s %s: decoding the answer: %w", method, u, err)
	}
	return nil
}

// keyFor is the API key to send with a request to u ("" for none).
func (c *Client) keyFor(u string) string {
	key := c.APIKey
	if key == "" {
		key = os.Getenv("RUNPOD_API_KEY")
	}
	if c.keyOnlyRunPod && !runPodURL(u) {
		key = ""
	}
	return key
}

// newHTTPError describes a non-2xx answer, reading (part of) its body.
func newHTTPError(method, u string, resp *http.Response) *HTTPError {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &HTTPError{Method: method, URL: u, StatusCode: resp.StatusCode, Body: string(b)}
	var eb struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(b, &eb) == nil {
		e.Message = errorText(eb.Error)
	}
	return e
}

// sendWithKey sends req with "Authorization: Bearer key" (none when key
// is empty) through hc (nil: http.DefaultClient). A redirect to another
// host or from https to http loses the header: the key goes only where
// the caller decided it may.
func sendWithKey(hc *http.Client, req *http.Request, key string) (*http.Response, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	if key == "" {
		return hc.Do(req)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	guarded := *hc // the caller's client is shared: never change it
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
	return guarded.Do(req)
}

// escapePathValue escapes one path segment's value: url.PathEscape, and
// "." and ".." percent-encoded, which PathEscape leaves as they are and
// which would otherwise move the request to another route.
func escapePathValue(s string) string {
	switch s {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}

// expandPath substitutes the variables of a mux template with escaped
// args and returns the args left over.
func expandPath(template string, args map[string]any) (string, map[string]any, error) {
	rest := make(map[string]any, len(args))
	for k, v := range args {
		rest[k] = v
	}
	var b strings.Builder
	for i := 0; i < len(template); {
		if template[i] != '{' {
			b.WriteByte(template[i])
			i++
			continue
		}
		depth, end := 0, -1
		for j := i; j < len(template); j++ {
			if template[j] == '{' {
				depth++
			} else if template[j] == '}' {
				depth--
				if depth == 0 {
					end = j
					break
				}
			}
		}
		if end < 0 {
			return "", nil, fmt.Errorf("path template %q: unbalanced braces", template)
		}
		name, _, _ := strings.Cut(template[i+1:end], ":")
		name = strings.TrimSpace(name)
		v, ok := rest[name]
		if !ok || isNil(v) {
			return "", nil, fmt.Errorf("path template %q: no value for {%s}", template, name)
		}
		delete(rest, name)
		s, err := textValue(v)
		if err != nil {
			return "", nil, fmt.Errorf("path variable %q: %w", name, err)
		}
		b.WriteString(escapePathValue(s))
		i = end + 1
	}
	return b.String(), rest, nil
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
		return rv.IsNil()
	}
	return false
}

// queryValues renders a query parameter: nothing for nil, each element
// of a slice, or one scalar.
func queryValues(v any) ([]string, error) {
	if isNil(v) {
		return nil, nil
	}
	if _, ok := v.(encoding.TextMarshaler); !ok {
		rv := reflect.ValueOf(v)
		for rv.Kind() == reflect.Pointer {
			rv = rv.Elem()
		}
		if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
			out := make([]string, 0, rv.Len())
			for i := range rv.Len() {
				s, err := textValue(rv.Index(i).Interface())
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				out = append(out, s)
			}
			return out, nil
		}
	}
	s, err := textValue(v)
	if err != nil {
		return nil, err
	}
	return []string{s}, nil
}

// textValue renders a scalar as the text a path variable or query value
// holds: the way the runtime's bind functions parse it back.
func textValue(v any) (string, error) {
	if tm, ok := v.(encoding.TextMarshaler); ok {
		b, err := tm.MarshalText()
		return string(b), err
	}
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "", errors.New("nil pointer")
		}
		rv = rv.Elem()
		if tm, ok := rv.Interface().(encoding.TextMarshaler); ok {
			b, err := tm.MarshalText()
			return string(b), err
		}
	}
	switch rv.Kind() {
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return strconv.FormatBool(rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(rv.Uint(), 10), nil
	case reflect.Float32:
		return strconv.FormatFloat(rv.Float(), 'g', -1, 32), nil
	case reflect.Float64:
		return strconv.FormatFloat(rv.Float(), 'g', -1, 64), nil
	}
	return "", fmt.Errorf("a %s cannot be sent as text", rv.Type())
}
