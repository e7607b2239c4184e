package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Environment variables that say where a resource is served (see
// [Caller] for the order in which they are read).
const (
	EnvEndpointURL   = "FLASH_ENDPOINT_URL_" // + EnvSuffix(name)
	EnvEndpointID    = "FLASH_ENDPOINT_ID_"  // + EnvSuffix(name)
	EnvMothershipURL = "FLASH_MOTHERSHIP_URL"
	EnvMothershipID  = "FLASH_MOTHERSHIP_ID"
)

const (
	defaultManifestTTL   = time.Minute
	defaultManifestTries = 3
	manifestRetryDelay   = 200 * time.Millisecond
)

// EnvSuffix returns the suffix of the environment variables that name the
// endpoint of resource name: the name with every character outside
// [A-Za-z0-9_-] replaced by '_', upper-cased, '-' replaced by '_'.
func EnvSuffix(name string) string {
	var b strings.Builder
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z':
			b.WriteRune(c - 'a' + 'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
			b.WriteRune(c)
		default: // '-' and everything else
			b.WriteByte('_')
		}
	}
	return b.String()
}

// A Resolver finds where a resource is served: in this process, or at a
// base URL named by the environment or by the mothership's manifest. Its
// zero value reads the process environment; it is safe for concurrent use.
type Resolver struct {
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string

	// HTTPClient fetches the mothership's manifest; nil means
	// http.DefaultClient. APIKey is sent as a Bearer token; empty means
	// $RUNPOD_API_KEY.
	HTTPClient *http.Client
	APIKey     string

	// ManifestTTL is how long a fetched manifest is used; zero means a
	// minute. ManifestTries bounds the attempts to fetch it; zero means 3.
	ManifestTTL   time.Duration
	ManifestTries int

	mu        sync.Mutex
	local     map[string]*localHandler
	manifest  map[string]manifestEndpoint // endpoints of the cached manifest
	fetchedAt time.Time
	fetchedOf string // the mothership URL it came from
}

// DefaultResolver is the Resolver of Callers that set none. Handlers
// register the resource they serve with it.
var DefaultResolver = &Resolver{}

// RegisterLocal makes this process serve resource name with h (the
// handler of a [LoadBalancerServer] or a [QueueServer]) for the Callers
// of DefaultResolver. It returns a function that undoes it.
func RegisterLocal(name string, h http.Handler) (unregister func()) {
	return DefaultResolver.Register(name, h)
}

// Register makes calls to resource name go to h, in memory. It returns
// a function that undoes it.
func (r *Resolver) Register(name string, h http.Handler) (unregister func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.local == nil {
		r.local = make(map[string]*localHandler)
	}
	e := &localHandler{h}
	r.local[name] = e
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.local[name] == e {
			delete(r.local, name)
		}
	}
}

// localHandler is one registration; its address tells registrations of
// the same handler apart.
type localHandler struct{ h http.Handler }

// Local returns the handler serving resource name in this process, or nil.
func (r *Resolver) Local(name string) http.Handler {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.local[name]; e != nil {
		return e.h
	}
	return nil
}

func (r *Resolver) getenv(key string) string {
	if r.Getenv != nil {
		return r.Getenv(key)
	}
	return os.Getenv(key)
}

// Resolve returns the base URL of resource name from the environment or
// the mothership's manifest (steps 3 to 5 of [Caller]'s order).
func (r *Resolver) Resolve(ctx context.Context, name string, loadBalanced bool) (string, error) {
	suffix := EnvSuffix(name)
	if u := strings.TrimSpace(r.getenv(EnvEndpointURL + suffix)); u != "" {
		return strings.TrimRight(u, "/"), nil
	}
	if id := strings.TrimSpace(r.getenv(EnvEndpointID + suffix)); id != "" {
		return endpointBase(id, loadBalanced), nil
	}
	mothership := strings.TrimRight(strings.TrimSpace(r.getenv(EnvMothershipURL)), "/")
	if mothership == "" {
		if id := strings.TrimSpace(r.getenv(EnvMothershipID)); id != "" {
			mothership = EndpointURL(id)
		}
	}
	if mothership == "" {
		return "", fmt.Errorf("no endpoint for resource %q: set %s%s, %s%s or %s", name,
			EnvEndpointURL, suffix, EnvEndpointID, suffix, EnvMothershipID)
	}
	endpoints, err := r.endpoints(ctx, mothership)
	if err != nil {
		return "", fmt.Errorf("resolving resource %q through the mothership: %w", name, err)
	}
	ep, ok := endpoints[name]
	switch {
	case ok && ep.URL != "":
		return strings.TrimRight(ep.URL, "/"), nil
	case ok && ep.EndpointID != "":
		return endpointBase(ep.EndpointID, loadBalanced), nil
	}
	return "", fmt.Errorf("no endpoint for resource %q: the mothership's manifest (%s/manifest) does not list it in \"endpoints\"", name, mothership)
}

func endpointBase(id string, loadBalanced bool) string {
	if loadBalanced {
		return EndpointURL(id)
	}
	return QueueURL(id)
}

// manifestEndpoint is one entry of the manifest's "endpoints".
type manifestEndpoint struct {
	EndpointID string `json:"endpoint_id"`
	URL        string `json:"url"`
}

// endpoints returns the "endpoints" of the mothership's manifest, from the
// cache while it is fresh.
func (r *Resolver) endpoints(ctx context.Context, mothership string) (map[string]manifestEndpoint, error) {
	ttl := r.ManifestTTL
	if ttl <= 0 {
		ttl = defaultManifestTTL
	}
	r.mu.Lock()
	if r.manifest != nil && r.fetchedOf == mothership && time.Since(r.fetchedAt) < ttl {
		m := r.manifest
		r.mu.Unlock()
		return m, nil
	}
	r.mu.Unlock()

	m, err := r.fetchManifest(ctx, mothership)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.manifest, r.fetchedAt, r.fetchedOf = m, time.Now(), mothership
	r.mu.Unlock()
	return m, nil
}

// fetchManifest gets mothership/manifest, retrying network errors, 429
// and 5xx answers with a growing pause.
func (r *Resolver) fetchManifest(ctx context.Context, mothership string) (map[string]manifestEndpoint, error) {
	tries := r.ManifestTries
	if tries <= 0 {
		tries = defaultManifestTries
	}
	var lastErr error
	for attempt := 0; attempt < tries; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(manifestRetryDelay << (attempt - 1))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, fmt.Errorf("%w (after %v)", ctx.Err(), lastErr)
			case <-t.C:
			}
		}
		m, retry, err := r.getManifest(ctx, mothership)
		if err == nil {
			return m, nil
		}
		lastErr = err
		if !retry || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func (r *Resolver) getManifest(ctx context.Context, mothership string) (_ map[string]manifestEndpoint, retry bool, _ error) {
	u := mothership + "/manifest"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, false, fmt.Errorf("fetching %s: %w", u, err)
	}
	req.Header.Set("Accept", "application/json")
	key := r.APIKey
	if key == "" {
		key = r.getenv("RUNPOD_API_KEY")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	hc := r.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, true, fmt.Errorf("fetching %s: %w", u, err)
	}
	defer drainAndClose(resp.Body)
	data, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, true, fmt.Errorf("fetching %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &HTTPError{Method: http.MethodGet, URL: u, StatusCode: resp.StatusCode, Body: string(data[:min(len(data), maxErrorBody)])}
		var eb struct {
			Error json.RawMessage `json:"error"`
		}
		if json.Unmarshal(data, &eb) == nil {
			e.Message = errorText(eb.Error)
		}
		return nil, resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests, e
	}
	var m struct {
		Endpoints map[string]manifestEndpoint `json:"endpoints"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(data), &m); err != nil {
		return nil, false, fmt.Errorf("fetching %s: not a manifest: %w", u, err)
	}
	if m.Endpoints == nil {
		m.Endpoints = map[string]manifestEndpoint{}
	}
	return m.Endpoints, false, nil
}

// localBaseURL is the base URL of calls served in process; only the
// in-memory transport sees it.
const localBaseURL = "http://in-process"

// inProcess is an http.RoundTripper that serves each request with a
// handler of this process, in memory: no connection, but the same
// routing, binding and encoding as a request over the network.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	r := req.Clone(req.Context())
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.RemoteAddr = "in-process"
	r.RequestURI = r.URL.RequestURI()
	w := &memoryWriter{header: make(http.Header)}
	t.h.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(bytes.NewReader(w.body.Bytes())),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// memoryWriter is an http.ResponseWriter that keeps the answer.
type memoryWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *memoryWriter) Header() http.Header { return w.header }

func (w *memoryWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *memoryWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}
