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
	// defaultManifestMaxStale is how long the last good manifest is served
	// while the mothership fails.
	defaultManifestMaxStale = 10 * time.Minute
	// manifestFailPause spares a failing mothership: after a failed
	// refresh, a stale manifest is served without asking for this long.
	manifestFailPause = 5 * time.Second
	// manifestFetchTimeout bounds one shared fetch, which outlives the
	// caller that started it.
	manifestFetchTimeout = 60 * time.Second
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
	// While the mothership fails, the last good manifest is still served
	// for ManifestMaxStale after it was fetched; zero means 10 minutes.
	ManifestTTL      time.Duration
	ManifestTries    int
	ManifestMaxStale time.Duration

	mu        sync.Mutex
	local     map[string]*localHandler
	manifest  map[string]manifestEndpoint // endpoints of the cached manifest
	fetchedAt time.Time
	fetchedOf string    // the mothership URL it came from
	failedAt  time.Time // the last failed refresh
	inflight  *manifestFetch
}

// manifestFetch is one fetch of a mothership's manifest that every
// concurrent caller waits for (single flight).
type manifestFetch struct {
	of   string
	done chan struct{}
	m    map[string]manifestEndpoint
	err  error
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
// the mothership's manifest (steps 3 to 5 of [Caller]'s order). An
// endpoint id that is not one ([CheckEndpointID]) is an error naming the
// variable or the manifest entry.
func (r *Resolver) Resolve(ctx context.Context, name string, loadBalanced bool) (string, error) {
	u, _, err := r.resolve(ctx, name, loadBalanced)
	return u, err
}

// resolve is Resolve, and whether the URL may receive the API key: a URL
// the process configured, or a RunPod URL; not another URL of a manifest.
func (r *Resolver) resolve(ctx context.Context, name string, loadBalanced bool) (u string, keyOK bool, err error) {
	suffix := EnvSuffix(name)
	if u := strings.TrimSpace(r.getenv(EnvEndpointURL + suffix)); u != "" {
		return strings.TrimRight(u, "/"), true, nil
	}
	if id := strings.TrimSpace(r.getenv(EnvEndpointID + suffix)); id != "" {
		if err := CheckEndpointID(id); err != nil {
			return "", false, fmt.Errorf("%s%s: %w", EnvEndpointID, suffix, err)
		}
		return endpointBase(id, loadBalanced), true, nil
	}
	mothership := strings.TrimRight(strings.TrimSpace(r.getenv(EnvMothershipURL)), "/")
	if mothership == "" {
		if id := strings.TrimSpace(r.getenv(EnvMothershipID)); id != "" {
			if err := CheckEndpointID(id); err != nil {
				return "", false, fmt.Errorf("%s: %w", EnvMothershipID, err)
			}
			mothership = EndpointURL(id)
		}
	}
	if mothership == "" {
		return "", false, fmt.Errorf("no endpoint for resource %q: set %s%s, %s%s or %s", name,
			EnvEndpointURL, suffix, EnvEndpointID, suffix, EnvMothershipID)
	}
	endpoints, err := r.endpoints(ctx, mothership)
	if err != nil {
		return "", false, fmt.Errorf("resolving resource %q through the mothership: %w", name, err)
	}
	ep, ok := endpoints[name]
	switch {
	case ok && ep.URL != "":
		u := strings.TrimRight(ep.URL, "/")
		return u, runPodURL(u), nil
	case ok && ep.EndpointID != "":
		if err := CheckEndpointID(ep.EndpointID); err != nil {
			return "", false, fmt.Errorf("the mothership's manifest (%s/manifest): endpoints[%q].endpoint_id: %w", mothership, name, err)
		}
		return endpointBase(ep.EndpointID, loadBalanced), true, nil
	}
	return "", false, fmt.Errorf("no endpoint for resource %q: the mothership's manifest (%s/manifest) does not list it in \"endpoints\"", name, mothership)
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

// endpoints returns the "endpoints" of the mothership's manifest: from the
// cache while it is fresh; else from one fetch shared by every concurrent
// caller; else, while the mothership fails, from the last good manifest
// for up to ManifestMaxStale.
func (r *Resolver) endpoints(ctx context.Context, mothership string) (map[string]manifestEndpoint, error) {
	ttl := r.ManifestTTL
	if ttl <= 0 {
		ttl = defaultManifestTTL
	}
	maxStale := r.ManifestMaxStale
	if maxStale <= 0 {
		maxStale = defaultManifestMaxStale
	}
	r.mu.Lock()
	cached := r.manifest != nil && r.fetchedOf == mothership
	age := time.Since(r.fetchedAt)
	if cached && (age < ttl || age < maxStale && time.Since(r.failedAt) < manifestFailPause) {
		m := r.manifest
		r.mu.Unlock()
		return m, nil
	}
	f := r.inflight
	if f == nil || f.of != mothership {
		f = &manifestFetch{of: mothership, done: make(chan struct{})}
		r.inflight = f
		// The fetch outlives the caller that starts it: the others
		// wait for it with their own contexts.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), manifestFetchTimeout)
		go func() {
			defer cancel()
			m, err := r.fetchManifest(fctx, mothership)
			r.mu.Lock()
			if err == nil {
				r.manifest, r.fetchedAt, r.fetchedOf = m, time.Now(), mothership
			} else {
				r.failedAt = time.Now()
			}
			if r.inflight == f {
				r.inflight = nil
			}
			r.mu.Unlock()
			f.m, f.err = m, err
			close(f.done)
		}()
	}
	r.mu.Unlock()

	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-f.done:
	}
	if f.err == nil {
		return f.m, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.manifest != nil && r.fetchedOf == mothership && time.Since(r.fetchedAt) < maxStale {
		return r.manifest, nil
	}
	return nil, f.err
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
	// The mothership is FLASH_MOTHERSHIP_URL, configured by the process,
	// or the RunPod URL of FLASH_MOTHERSHIP_ID: both may get the key.
	key := r.APIKey
	if key == "" {
		key = r.getenv("RUNPOD_API_KEY")
	}
	resp, err := sendWithKey(r.HTTPClient, req, key)
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
	if req.Header.Get("Accept") == ndjsonType {
		return t.streamInProcess(req) // stream_client.go
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
