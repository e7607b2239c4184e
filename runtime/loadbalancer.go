package runtime

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/mux"
)

// Health states of a handler, as GET /ping reports them.
const (
	stateStarting int32 = iota // 204: startup functions are running
	stateReady                 // 200
	stateDraining              // 503: shutting down
	stateFailed                // 503: a startup function failed
)

// A LoadBalancerServer is the http.Handler of a load-balanced resource:
// the routes of its functions on gorilla/mux, GET /ping, GET /manifest
// and, for live resources, POST /execute. Create one with NewLoadBalancer;
// set its fields before serving.
//
// Routes are tried most specific first (literal segments before
// variables), matched on the escaped path, and their path variables are
// percent-decoded before binding. A call answers 200 with the JSON of its
// result, or 204 when the function has none. A parameter that is missing,
// malformed or of the wrong type, a body key that names no parameter
// (keys match exactly) and a body that is not a JSON object answer 400; a
// body over MaxBodyBytes 413. A returned error answers 500, or the status
// of an error with a StatusCode() int method; a panic answers 500 and the
// process serves on. Every answer outside 2xx, 404 and 405 included, has
// the body {"error": "..."}; 405 carries Allow.
type LoadBalancerServer struct {
	// MaxBodyBytes limits request bodies: larger ones are answered with
	// 413. NewLoadBalancer sets it to 10 MiB.
	MaxBodyBytes int64

	// Mothership makes GET /manifest serve the app's manifest rather than
	// answer 403. NewLoadBalancer sets it from the resource's Mothership
	// field.
	Mothership bool

	// ManifestPaths are the files GET /manifest serves, the first that
	// exists, in preference to the manifest embedded in the App (a
	// deployer adds "endpoints" to the file). NewLoadBalancer sets them to
	// flash_manifest.json beside the executable and at the archive root.
	ManifestPaths []string

	// ReadTimeout bounds the reading of a request body: a body that has
	// not arrived by then is answered with 408. NewLoadBalancer sets it
	// to 60 s; zero means no limit.
	ReadTimeout time.Duration

	// DrainGrace is how long the listener stays open after SIGTERM,
	// answering 503, so that the platform sees /ping fail and stops
	// routing here before connections are refused. NewLoadBalancer sets
	// it to 2 s.
	DrainGrace time.Duration

	// Logger receives one record per request; nil means slog.Default().
	Logger *slog.Logger

	app     App
	live    bool // errors keep their detail: only live resources show it
	reg     *registry
	handler http.HandlerFunc // dispatch, logged
	router  *mux.Router
	literal map[string]map[string]http.Handler // path → method → handler, for templates without variables
	allow   []allowRoute
	state   atomic.Int32
	failure atomic.Pointer[string]
	// inflight counts the requests being served, /ping excepted, so that
	// a drain can wait for them.
	inflight atomic.Int64
	closing  atomic.Bool // draining: every answer closes its connection
	// hold, while not nil, keeps requests from being answered until it
	// is closed: a drain holds them while the listener closes (see
	// drainServers).
	hold     atomic.Pointer[chan struct{}]
	calls    calls        // user functions running, for the drain
	conns    atomic.Int64 // open connections of the main listener
	lastConn atomic.Int64 // when the last one was accepted (UnixNano)
}

// routeHandler is a user route: the function and how its body is read.
type routeHandler struct {
	fn       *Function
	hasBody  bool // POST, PUT, PATCH: the body is a JSON object of parameters
	hasQuery bool // some parameters come from the query string
}

// ServeHTTP is never reached: LoadBalancerServer.ServeHTTP calls
// serveRoute directly with the variables mux matched, which spares the
// request copy mux.Vars needs.
func (h *routeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusInternalServerError, "route served outside its server")
}

// allowRoute matches a path regardless of method, to compute Allow.
type allowRoute struct {
	route   *mux.Route
	methods []string
}

// NewLoadBalancer returns the handler of app. It reports an App that
// cannot be served: a function without a method, path or Call, an
// invalid path template, or two functions on one route.
func NewLoadBalancer(app App) (*LoadBalancerServer, error) {
	s := &LoadBalancerServer{
		MaxBodyBytes:  defaultMaxBodyBytes,
		ReadTimeout:   defaultReadTimeout,
		DrainGrace:    defaultDrainGrace,
		ManifestPaths: defaultManifestPaths(),
		app:           app,
		reg:           newRegistry(app.Functions),
	}
	if app.Resource != nil {
		s.Mothership = app.Resource.ResourceConfig().Mothership
		s.live = app.Resource.IsLive()
	}
	if len(startupFuncs()) > 0 {
		s.state.Store(stateStarting)
	} else {
		s.state.Store(stateReady)
	}
	if err := s.buildRoutes(); err != nil {
		return nil, err
	}
	s.handler = logged(s.logger, &s.closing, s.dispatch)
	return s, nil
}

func (s *LoadBalancerServer) buildRoutes() (err error) {
	// mux panics on some templates (a capturing group in a variable's
	// regexp); report them as errors.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("building routes: %v", p)
		}
	}()
	s.router = mux.NewRouter().UseEncodedPath()
	s.literal = make(map[string]map[string]http.Handler)
	pathOnly := mux.NewRouter().UseEncodedPath()
	add := func(method, tpl string, h http.Handler) error {
		methods := []string{method}
		if method == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
		route := s.router.NewRoute().Path(tpl).Methods(methods...).Handler(h)
		if err := route.GetError(); err != nil {
			return fmt.Errorf("route %s %s: %w", method, tpl, err)
		}
		pr := pathOnly.NewRoute().Path(tpl)
		if err := pr.GetError(); err != nil {
			return fmt.Errorf("route %s %s: %w", method, tpl, err)
		}
		s.allow = append(s.allow, allowRoute{route: pr, methods: methods})
		if !strings.Contains(tpl, "{") {
			if s.literal[tpl] == nil {
				s.literal[tpl] = make(map[string]http.Handler)
			}
			for _, m := range methods {
				s.literal[tpl][m] = h
			}
		}
		return nil
	}

	// The reserved routes are literal, so they come first.
	if err := add(http.MethodGet, "/ping", http.HandlerFunc(s.servePing)); err != nil {
		return err
	}
	if err := add(http.MethodGet, "/manifest", http.HandlerFunc(s.serveManifest)); err != nil {
		return err
	}
	if err := add(http.MethodGet, "/openapi.json", http.HandlerFunc(s.serveOpenAPI)); err != nil {
		return err
	}
	if s.app.Resource != nil && s.app.Resource.IsLive() {
		if err := add(http.MethodPost, "/execute", http.HandlerFunc(s.serveExecute)); err != nil {
			return err
		}
	}

	type entry struct {
		fn  *Function
		key []int
	}
	var entries []entry
	seen := make(map[string]string)
	for i := range s.app.Functions {
		fn := &s.app.Functions[i]
		switch {
		case fn.Method == "" || fn.Path == "":
			return fmt.Errorf("function %s has no method and path: it cannot be a load-balanced route", fn.Name)
		case fn.Call == nil:
			return fmt.Errorf("function %s has no Call", fn.Name)
		case fn.Path == "/ping" || fn.Path == "/manifest" || fn.Path == "/execute" || fn.Path == "/openapi.json":
			return fmt.Errorf("function %s: path %s is reserved", fn.Name, fn.Path)
		}
		re, err := mux.NewRouter().NewRoute().Path(fn.Path).GetPathRegexp()
		if err != nil {
			return fmt.Errorf("function %s: path %s: %w", fn.Name, fn.Path, err)
		}
		k := fn.Method + " " + re
		if other, dup := seen[k]; dup {
			return fmt.Errorf("functions %s and %s both serve %s %s", other, fn.Name, fn.Method, fn.Path)
		}
		seen[k] = fn.Name
		entries = append(entries, entry{fn, specificity(fn.Path)})
	}
	// gorilla/mux tries routes in order: most specific first, so that
	// /items/new is tried before /items/{id}.
	slices.SortStableFunc(entries, func(a, b entry) int {
		if c := compareSpecificity(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.fn.Path, b.fn.Path)
	})
	for _, e := range entries {
		h := &routeHandler{fn: e.fn}
		switch e.fn.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch:
			h.hasBody = true
		}
		for _, p := range e.fn.Params {
			if p.In == "query" {
				h.hasQuery = true
			}
		}
		if err := add(e.fn.Method, e.fn.Path, h); err != nil {
			return err
		}
	}
	return nil
}

// specificity ranks each segment of a template: 0 literal, 1 a variable
// with its own pattern, 2 a plain variable, 3 a variable whose pattern may
// span segments.
func specificity(tpl string) []int {
	var key []int
	depth, start := 0, 1
	for i := 1; i <= len(tpl); i++ {
		if i < len(tpl) {
			switch tpl[i] {
			case '{':
				depth++
				continue
			case '}':
				depth--
				continue
			case '/':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		seg := tpl[start:i]
		start = i + 1
		rank := 0
		if open := strings.IndexByte(seg, '{'); open >= 0 {
			rank = 2
			if colon := strings.IndexByte(seg[open:], ':'); colon >= 0 {
				pattern := seg[open+colon+1:]
				rank = 1
				if strings.Contains(pattern, ".") || strings.Contains(pattern, "/") {
					rank = 3
				}
			}
		}
		key = append(key, rank)
	}
	return key
}

// compareSpecificity orders segment by segment; a template that extends
// another is the more specific.
func compareSpecificity(a, b []int) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := cmp.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(b), len(a))
}

func defaultManifestPaths() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	dir := filepath.Dir(exe)
	return []string{
		filepath.Join(dir, "flash_manifest.json"),
		filepath.Join(filepath.Dir(dir), "flash_manifest.json"), // the archive root, above bin/<dir>
	}
}

func (s *LoadBalancerServer) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// ServeHTTP routes a request and logs it.
func (s *LoadBalancerServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.handler == nil {
		writeError(w, http.StatusInternalServerError, "runtime: LoadBalancerServer not created by NewLoadBalancer")
		return
	}
	if hold := s.hold.Load(); hold != nil {
		<-*hold
	}
	if r.URL.Path != "/ping" {
		// Counted before dispatch looks at the state: a request either
		// sees the drain and is refused, or is waited for.
		s.inflight.Add(1)
		defer s.inflight.Add(-1)
	}
	s.handler(w, r)
}

func (s *LoadBalancerServer) dispatch(w http.ResponseWriter, r *http.Request) {
	// Whatever panics past the function's own recovery (a MarshalJSON of
	// an error, a bug here) is a 500, not a reset connection.
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.logger().ErrorContext(r.Context(), "panic serving a request", slog.String("path", r.URL.Path),
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			if rec, ok := w.(*recorder); !ok || rec.status == 0 {
				writeError(w, http.StatusInternalServerError, "internal error")
			}
		}
	}()
	if st := s.state.Load(); st != stateReady && r.URL.Path != "/ping" {
		switch {
		case st == stateDraining:
			writeError(w, http.StatusServiceUnavailable, "shutting down")
			return
		case r.URL.Path == "/manifest" || r.URL.Path == "/openapi.json":
			// Not a function: served while starting.
		case st == stateStarting:
			writeError(w, http.StatusServiceUnavailable, "starting")
			return
		default:
			msg := "startup failed"
			if p := s.failure.Load(); p != nil {
				msg += ": " + *p
			}
			writeError(w, http.StatusServiceUnavailable, msg)
			return
		}
	}
	p := r.URL.EscapedPath()
	if cp := cleanPath(p); cp != p {
		// What mux does, with the JSON body every non-2xx answer has.
		loc := cp
		if r.URL.RawQuery != "" {
			loc += "?" + r.URL.RawQuery
		}
		w.Header().Set("Location", loc)
		writeError(w, http.StatusMovedPermanently, "moved to the canonical path "+cp)
		return
	}
	// A literal template is the most specific match there is: find it
	// without running mux's regexps.
	if h, ok := s.literal[p][r.Method]; ok {
		if rh, ok := h.(*routeHandler); ok {
			s.serveRoute(w, r, rh, nil)
		} else {
			h.ServeHTTP(w, r)
		}
		return
	}
	var m mux.RouteMatch
	if !s.router.Match(r, &m) {
		if m.MatchErr == mux.ErrMethodMismatch {
			s.methodNotAllowed(w, r)
			return
		}
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
		return
	}
	if h, ok := m.Handler.(*routeHandler); ok {
		s.serveRoute(w, r, h, m.Vars)
		return
	}
	m.Handler.ServeHTTP(w, r)
}

// cleanPath is gorilla/mux's canonical form of a path.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

func (s *LoadBalancerServer) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, a := range s.allow {
		var m mux.RouteMatch
		if a.route.Match(r, &m) {
			for _, method := range a.methods {
				if !slices.Contains(allowed, method) {
					allowed = append(allowed, method)
				}
			}
		}
	}
	slices.Sort(allowed)
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allowed, ", ")))
}

// serveRoute binds a request to its function, calls it and writes the
// result: 200 with its JSON, 204 for no result, 400 for a binding error,
// the error's own status or 500 for a returned error or a panic.
func (s *LoadBalancerServer) serveRoute(w http.ResponseWriter, r *http.Request, h *routeHandler, vars map[string]string) {
	var body []byte
	if h.hasBody {
		buf := getBuf()
		defer putBuf(buf)
		if !readBody(w, r, s.MaxBodyBytes, s.ReadTimeout, buf) {
			return
		}
		body = buf.Bytes()
	}
	var query map[string][]string
	if h.hasQuery {
		query = r.URL.Query()
	}
	in, err := routeInput(h.fn, vars, query, body, h.hasBody)
	if err != nil {
		writeError(w, errorStatus(err), err.Error())
		return
	}
	c := s.calls.enter(w, h.fn.Name)
	v, err := invoke(r.Context(), h.fn, in)
	if !s.calls.leave(c) {
		return // the drain gave up on it and answered
	}
	if st, ok := v.(*Stream); ok && err == nil {
		// The values are produced while the answer is written; a
		// failure before the first is answered below.
		if err = s.serveStream(w, r, h.fn, st); err == nil {
			return
		}
	}
	if err != nil {
		s.writeCallError(w, r, h.fn, err)
		return
	}
	if h.fn.NoResult {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := writeEncoded(w, http.StatusOK, v); err != nil {
		s.writeCallError(w, r, h.fn, fmt.Errorf("encoding the result: %w", err))
	}
}

// writeCallError answers a function's error: 400 for binding, the
// error's own status, 503 for a call the drain cancelled, else 500. A
// 500 of a deployed resource says only "internal error in F": the
// detail, a panic's stack included, goes to the log.
func (s *LoadBalancerServer) writeCallError(w http.ResponseWriter, r *http.Request, fn *Function, err error) {
	status := errorStatus(err)
	var pe *panicError
	switch {
	case errors.As(err, &pe):
		s.logger().ErrorContext(r.Context(), "panic in remote function",
			slog.String("function", fn.Name), slog.Any("panic", pe.value), slog.String("stack", pe.stack))
	case status == http.StatusInternalServerError && s.state.Load() == stateDraining && r.Context().Err() != nil:
		writeError(w, http.StatusServiceUnavailable, errShuttingDown.Error())
		return
	case status >= 500:
		s.logger().WarnContext(r.Context(), "remote function failed",
			slog.String("function", fn.Name), slog.String("error", err.Error()))
	}
	writeError(w, status, s.publicMessage(fn, err))
}

// publicMessage is what an answer says of a function's error: on a
// deployed resource, a 500 without a status of its own says only
// "internal error in F" (SPEC 15); the detail is for the log.
func (s *LoadBalancerServer) publicMessage(fn *Function, err error) string {
	if !s.live && !hasOwnStatus(err) && errorStatus(err) == http.StatusInternalServerError {
		return internalError(fn.Name)
	}
	return err.Error()
}

// servePing answers the RunPod health check: 200 when ready, 204 while
// startup functions run, 503 while draining or after a failed startup.
func (s *LoadBalancerServer) servePing(w http.ResponseWriter, r *http.Request) {
	switch s.state.Load() {
	case stateReady:
		writeJSON(w, http.StatusOK, map[string]string{"status": "healthy"})
	case stateStarting:
		w.WriteHeader(http.StatusNoContent)
	case stateDraining:
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "draining", "error": "shutting down"})
	default:
		msg := "startup failed"
		if p := s.failure.Load(); p != nil {
			msg = *p
		}
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unhealthy", "error": msg})
	}
}

// HealthHandler returns the handler of GET /ping alone, for a separate
// health port (PORT_HEALTH).
func (s *LoadBalancerServer) HealthHandler() http.Handler {
	return logged(s.logger, &s.closing, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != "/ping":
			writeError(w, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on /ping (allowed: GET, HEAD)", r.Method))
		default:
			s.servePing(w, r)
		}
	})
}

// Startup runs the functions registered with OnStartup; /ping answers
// 204 until they return, then 200, or 503 if one failed (the error is
// returned too). ServeLoadBalancer calls it once it is listening.
func (s *LoadBalancerServer) Startup(ctx context.Context) error {
	err := runStartup(ctx, startupFuncs())
	if err != nil {
		msg := err.Error()
		s.failure.Store(&msg)
		s.state.CompareAndSwap(stateStarting, stateFailed)
		s.state.CompareAndSwap(stateReady, stateFailed)
		return err
	}
	s.state.CompareAndSwap(stateStarting, stateReady)
	return nil
}

// Drain makes /ping answer 503 from now on, so that no new requests are
// routed here while in-flight ones finish, and answers any other new
// request with 503 {"error": "shutting down"}. Every answer from now on,
// an in-flight request's included, closes its connection (Connection:
// close): keep-alives are off.
func (s *LoadBalancerServer) Drain() {
	s.state.Store(stateDraining)
	s.closing.Store(true)
}

// serveManifest answers GET /manifest: the manifest on the mothership, a
// real 403 elsewhere.
func (s *LoadBalancerServer) serveManifest(w http.ResponseWriter, r *http.Request) {
	if !s.Mothership {
		writeError(w, http.StatusForbidden, "only the mothership serves the manifest")
		return
	}
	data := s.app.Manifest
	for _, p := range s.ManifestPaths {
		if b, err := os.ReadFile(p); err == nil {
			data = b
			break
		}
	}
	if len(data) == 0 {
		writeError(w, http.StatusNotFound, "no manifest is embedded in this handler")
		return
	}
	if !json.Valid(data) {
		writeError(w, http.StatusInternalServerError, "the manifest is not valid JSON")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// serveOpenAPI answers GET /openapi.json with the document the generator
// embedded (SPEC section 16).
func (s *LoadBalancerServer) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	if len(s.app.OpenAPI) == 0 {
		writeError(w, http.StatusNotFound, "no OpenAPI document is embedded in this handler")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(s.app.OpenAPI)
}

// serveExecute answers POST /execute on live resources: the envelope
// {"function_name", "args", "kwargs"} in, RESULT out. A body that is not a
// JSON object is 400; everything else, a failing call included, is 200
// with success false.
func (s *LoadBalancerServer) serveExecute(w http.ResponseWriter, r *http.Request) {
	buf := getBuf()
	defer putBuf(buf)
	if !readBody(w, r, s.MaxBodyBytes, s.ReadTimeout, buf) {
		return
	}
	body := buf.Bytes()
	if _, err := decodeObject(body); err != nil || len(strings.TrimSpace(string(body))) == 0 {
		if err == nil {
			err = errors.New("empty request body: want {\"function_name\", \"args\", \"kwargs\"}")
		}
		writeJSON(w, http.StatusBadRequest, failure(err))
		return
	}
	c := s.calls.enter(w, "/execute")
	res := s.reg.execute(r.Context(), body)
	if !s.calls.leave(c) {
		return
	}
	if res.Traceback != "" && strings.HasPrefix(res.Error, "panic: ") {
		s.logger().ErrorContext(r.Context(), "panic in remote function", slog.String("error", res.Error), slog.String("stack", res.Traceback))
	}
	writeJSON(w, http.StatusOK, res)
}

// ServeLoadBalancer serves app with a LoadBalancerServer until SIGTERM or
// SIGINT, then drains and returns nil. It reads its settings from the
// environment:
//
//	PORT                    listening port (default 80)
//	HOST                    listening address (default all interfaces)
//	PORT_HEALTH             a second port serving only GET /ping, when it differs from PORT
//	FLASH_MAX_BODY_BYTES    request body limit (default 10485760)
//	FLASH_READ_TIMEOUT      how long a request body may take to arrive (default 60s)
//	FLASH_DRAIN_GRACE       how long the listener stays open after SIGTERM (default 2s)
//	FLASH_SHUTDOWN_TIMEOUT  how long in-flight requests may finish after SIGTERM (default 25s)
//	FLASH_IS_MOTHERSHIP     true: serve GET /manifest whatever the resource says
//	FLASH_MANIFEST_PATH     the manifest file /manifest serves when it exists
//	FLASH_LOG_LEVEL         debug, info (default), warn or error
//	FLASH_LOG_FORMAT        json (default) or text
//
// Request logs go to stderr, one record per request, through a buffer
// flushed every 100 ms and at exit.
func ServeLoadBalancer(app App) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	env, err := readServerEnv(os.Getenv, "80")
	if err != nil {
		return err
	}
	logger, closeLog, err := newProcessLogger(os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	s, err := NewLoadBalancer(app)
	if err != nil {
		return err
	}
	s.Logger = logger
	s.MaxBodyBytes = env.maxBodyBytes
	s.ReadTimeout = env.readTimeout
	s.DrainGrace = env.drainGrace
	s.Mothership = s.Mothership || env.mothership
	if app.Resource != nil {
		// Typed clients in this process call its own resource in memory.
		defer RegisterLocal(app.Resource.ResourceConfig().Name, s)()
	}
	if env.manifestPath != "" {
		s.ManifestPaths = []string{env.manifestPath}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(env.host, env.port))
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	var healthLn net.Listener
	if env.healthPort != "" && env.healthPort != env.port {
		if healthLn, err = net.Listen("tcp", net.JoinHostPort(env.host, env.healthPort)); err != nil {
			ln.Close()
			return fmt.Errorf("listening for health checks: %w", err)
		}
	}
	return serveLoadBalancer(ctx, s, ln, healthLn, env.shutdownTimeout)
}

// serveLoadBalancer serves s on ln (and /ping on healthLn, if not nil)
// until ctx is done, then drains (SPEC section 15): /ping answers 503
// and every other request 503, each answer closing its connection; the
// requests in flight finish, within shutdownTimeout; the listeners close
// after s.DrainGrace or when the last request is done, whichever is later.
func serveLoadBalancer(ctx context.Context, s *LoadBalancerServer, ln, healthLn net.Listener, shutdownTimeout time.Duration) error {
	logger := s.logger()
	errorLog := slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	// The requests' contexts come from reqCtx, which the drain cancels
	// for the functions that outlive their share of the timeout.
	reqCtx, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()
	base := func(net.Listener) context.Context { return reqCtx }
	srv := &http.Server{Handler: s, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout, ErrorLog: errorLog,
		BaseContext: base, ConnState: s.connState}
	servers := []*http.Server{srv}
	listeners := []net.Listener{ln}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	if healthLn != nil {
		hs := &http.Server{Handler: s.HealthHandler(), ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout, ErrorLog: errorLog}
		servers = append(servers, hs)
		listeners = append(listeners, healthLn)
		go func() { errc <- hs.Serve(healthLn) }()
	}
	logger.Info("serving", slog.String("addr", ln.Addr().String()), slog.Int("routes", len(s.app.Functions)))

	startCtx, cancelStartup := context.WithCancel(ctx)
	defer cancelStartup()
	go func() {
		if err := s.Startup(startCtx); err != nil {
			logger.Error("startup failed", slog.String("error", err.Error()))
		}
	}()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.Drain()
	logger.Info("draining", slog.Duration("grace", s.DrainGrace), slog.Duration("timeout", shutdownTimeout))
	// The health server is closed last, so that it answers 503 while the
	// main server drains.
	drainServers(s, servers, listeners, cancelRequests, shutdownTimeout)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", serveErr)
	}
	logger.Info("stopped")
	return nil
}
