package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

// errNotServed is returned by NewAllServer for an App without a resource.
var errNotServed = errors.New("an App without a Resource cannot be served")

// A Mount is one App of a process serving several (see [ServeAll]).
type Mount struct {
	// Prefix is the path the App is served under: "/" and the resource's
	// directory name ("/test-api").
	Prefix string
	App    App
}

// An AllServer serves several Apps in one http.Handler, each under its
// prefix: a load-balanced App's routes under /<dir>/..., a queue App's
// local test API under /<dir>/runsync, /<dir>/run and /<dir>/status/{id}.
// GET /ping answers for the whole process. It is what `flash-lsp run
// --all` serves. Create one with NewAllServer.
type AllServer struct {
	// Logger receives one record per request; nil means slog.Default().
	Logger *slog.Logger

	mounts []mounted
	lbs    []*LoadBalancerServer
	queues []*QueueServer
	byDir  map[string]http.Handler
	names  map[string]string // dir → resource name
}

type mounted struct {
	prefix string
	name   string
	h      http.Handler
}

// NewAllServer returns the handler of mounts. Prefixes must be distinct
// single path segments, and every App needs its Resource.
func NewAllServer(mounts []Mount) (*AllServer, error) {
	s := &AllServer{byDir: make(map[string]http.Handler), names: make(map[string]string)}
	for _, m := range mounts {
		dir, ok := strings.CutPrefix(m.Prefix, "/")
		if !ok || dir == "" || strings.Contains(dir, "/") {
			return nil, fmt.Errorf("mount prefix %q: want / and one path segment", m.Prefix)
		}
		if m.App.Resource == nil {
			return nil, fmt.Errorf("mount %s: %w", m.Prefix, errNotServed)
		}
		if _, dup := s.byDir[dir]; dup {
			return nil, fmt.Errorf("mount prefix %s used twice", m.Prefix)
		}
		var h http.Handler
		if m.App.Resource.IsLoadBalanced() {
			lb, err := NewLoadBalancer(m.App)
			if err != nil {
				return nil, fmt.Errorf("mount %s: %w", m.Prefix, err)
			}
			s.lbs = append(s.lbs, lb)
			h = lb
		} else {
			q, err := NewQueueServer(m.App)
			if err != nil {
				return nil, fmt.Errorf("mount %s: %w", m.Prefix, err)
			}
			s.queues = append(s.queues, q)
			h = q
		}
		name := m.App.Resource.ResourceConfig().Name
		s.byDir[dir] = h
		s.names[dir] = name
		s.mounts = append(s.mounts, mounted{prefix: m.Prefix, name: name, h: h})
	}
	return s, nil
}

// SetLogger sets the logger of the server and of every App it serves.
func (s *AllServer) SetLogger(l *slog.Logger) {
	s.Logger = l
	for _, lb := range s.lbs {
		lb.Logger = l
	}
	for _, q := range s.queues {
		q.Logger = l
	}
}

// Register makes the Apps' resources served in process for the Callers of
// r: a typed client call between them never leaves the process. It
// returns a function that undoes it.
func (s *AllServer) Register(r *Resolver) (unregister func()) {
	var undo []func()
	for _, m := range s.mounts {
		undo = append(undo, r.Register(m.name, m.h))
	}
	return func() {
		for _, u := range undo {
			u()
		}
	}
}

// ServeHTTP dispatches on the first path segment.
func (s *AllServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	if p == "/ping" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on /ping (allowed: GET, HEAD)", r.Method))
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "healthy"})
		return
	}
	dir, rest, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	h, ok := s.byDir[dir]
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no resource is served under /%s; resources: %s", dir, s.dirList()))
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = "/" + strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"+dir), "/")
	r2.URL.RawPath = ""
	if r.URL.RawPath != "" {
		r2.URL.RawPath = "/" + rest
	}
	h.ServeHTTP(w, r2)
}

func (s *AllServer) dirList() string {
	dirs := make([]string, 0, len(s.byDir))
	for d := range s.byDir {
		dirs = append(dirs, "/"+d)
	}
	sort.Strings(dirs)
	return strings.Join(dirs, ", ")
}

// Startup runs the functions registered with OnStartup, once for all the
// Apps: the load-balanced ones answer /ping with 204 until they return.
func (s *AllServer) Startup(ctx context.Context) error {
	err := runStartup(ctx, startupFuncs())
	for _, lb := range s.lbs {
		if err != nil {
			msg := err.Error()
			lb.failure.Store(&msg)
			lb.state.Store(stateFailed)
		} else {
			lb.state.CompareAndSwap(stateStarting, stateReady)
		}
	}
	return err
}

// ServeAll serves mounts on HOST:PORT (PORT default 8888) with an
// [AllServer], each App's resource served in process for the typed
// clients of this process, until SIGTERM or SIGINT; then it drains like
// [ServeLoadBalancer] and returns nil.
func ServeAll(mounts []Mount) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	env, err := readServerEnv(os.Getenv, "8888")
	if err != nil {
		return err
	}
	s, err := NewAllServer(mounts)
	if err != nil {
		return err
	}
	logger, closeLog, err := newProcessLogger(os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	s.SetLogger(logger)
	for _, lb := range s.lbs {
		lb.MaxBodyBytes = env.maxBodyBytes
		lb.ReadTimeout = env.readTimeout
		lb.DrainGrace = env.drainGrace
		lb.Mothership = lb.Mothership || env.mothership
		if env.manifestPath != "" {
			lb.ManifestPaths = []string{env.manifestPath}
		}
	}
	for _, q := range s.queues {
		q.MaxBodyBytes = env.maxBodyBytes
		q.ReadTimeout = env.readTimeout
		q.MaxPending = env.maxPending
	}
	defer s.Register(DefaultResolver)()
	ln, err := net.Listen("tcp", net.JoinHostPort(env.host, env.port))
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	return serveAll(ctx, s, ln, env.shutdownTimeout)
}

func serveAll(ctx context.Context, s *AllServer, ln net.Listener, shutdownTimeout time.Duration) error {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("serving", slog.String("addr", ln.Addr().String()), slog.Int("resources", len(s.mounts)))
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
	for _, lb := range s.lbs {
		lb.Drain()
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown timeout: closing open connections", slog.String("error", err.Error()))
		srv.Close()
	}
	for _, q := range s.queues {
		q.drain(sctx, 500*time.Millisecond)
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", serveErr)
	}
	logger.Info("stopped")
	return nil
}
