package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/mux"
)

// Job statuses, as RunPod names them.
const (
	statusInProgress = "IN_PROGRESS"
	statusCompleted  = "COMPLETED"
)

// The finished jobs a QueueServer remembers for /status/{id}: at most
// this many and this many bytes of output; the oldest are forgotten first.
const (
	maxFinishedJobs  = 1000
	maxFinishedBytes = 64 << 20
)

// A QueueServer is the http.Handler of a queue resource's local test API,
// runpod-python's equivalent: POST /runsync, POST /run, GET|POST /status/{id} and
// GET /ping. A job's input is the envelope {"function_name", "args",
// "kwargs"}; its output is RESULT, {"success": true, "result": ...} or
// {"success": false, "error": "...", "traceback": "..."}. Every job
// completes: a failing function, an unknown function and a null or
// non-object input give success false. Create one with NewQueueServer.
type QueueServer struct {
	// MaxBodyBytes limits request bodies: larger ones are answered with
	// 413. NewQueueServer sets it to 10 MiB.
	MaxBodyBytes int64

	// ReadTimeout bounds the reading of a request body (408 after it).
	// NewQueueServer sets it to 60 s; zero means no limit.
	ReadTimeout time.Duration

	// MaxPending bounds the jobs queued or running, /runsync's included:
	// beyond it /run and /runsync answer 429. NewQueueServer sets it to
	// 1000.
	MaxPending int

	// Logger receives one record per request; nil means slog.Default().
	Logger *slog.Logger

	reg     *registry
	router  *mux.Router
	handler http.HandlerFunc // the router, logged

	baseCtx context.Context // the context of /run jobs
	cancel  context.CancelFunc
	running sync.WaitGroup
	closing atomic.Bool // shutting down: answers close their connections

	mu            sync.Mutex
	jobs          map[string]*localJob
	pending       int      // jobs queued or running
	finished      []string // ids of finished jobs, oldest first
	finishedBytes int      // the size of their outputs

	// maxUnreadStream bounds streamBytes, the values of all jobs that no
	// /stream reader has taken yet (stream_queue.go).
	maxUnreadStream int
	streamBytes     int
}

type localJob struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Output json.RawMessage `json:"output,omitempty"`
	stream *localStream    // what the job streamed (stream_queue.go)
}

// NewQueueServer returns the local test API of app.
func NewQueueServer(app App) (*QueueServer, error) {
	for _, fn := range app.Functions {
		if fn.Call == nil {
			return nil, fmt.Errorf("function %s has no Call", fn.Name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &QueueServer{
		MaxBodyBytes:    defaultMaxBodyBytes,
		ReadTimeout:     defaultReadTimeout,
		MaxPending:      defaultMaxPending,
		maxUnreadStream: defaultMaxUnreadStream,
		reg:             newRegistry(app.Functions),
		baseCtx:         ctx,
		cancel:          cancel,
		jobs:            make(map[string]*localJob),
	}
	r := mux.NewRouter()
	r.HandleFunc("/runsync", s.serveRunSync).Methods(http.MethodPost)
	r.HandleFunc("/run", s.serveRun).Methods(http.MethodPost)
	r.HandleFunc("/status/{id}", s.serveStatus).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/stream/{id}", s.serveJobStream).Methods(http.MethodGet, http.MethodPost)
	r.HandleFunc("/cancel/{id}", s.serveCancel).Methods(http.MethodPost)
	r.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "healthy"})
	}).Methods(http.MethodGet, http.MethodHead)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		allow := "POST"
		switch {
		case strings.HasPrefix(r.URL.Path, "/status/"), strings.HasPrefix(r.URL.Path, "/stream/"):
			allow = "GET, POST"
		case r.URL.Path == "/ping":
			allow = "GET, HEAD"
		}
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow))
	})
	s.router = r
	s.handler = logged(s.logger, &s.closing, r.ServeHTTP)
	return s, nil
}

func (s *QueueServer) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// ServeHTTP routes a request and logs it.
func (s *QueueServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.router == nil {
		writeError(w, http.StatusInternalServerError, "runtime: QueueServer not created by NewQueueServer")
		return
	}
	s.handler(w, r)
}

// readInput reads a request {"input": ...} and returns the input. A body
// that is not a JSON object is answered with 400 here; a missing, null
// or non-object input is left to the job, which fails cleanly.
func (s *QueueServer) readInput(w http.ResponseWriter, r *http.Request) (json.RawMessage, bool) {
	buf := getBuf()
	defer putBuf(buf)
	if !readBody(w, r, s.MaxBodyBytes, s.ReadTimeout, buf) {
		return nil, false
	}
	obj, err := decodeObject(buf.Bytes())
	if err != nil {
		writeError(w, http.StatusBadRequest, "request body must be a JSON object {\"input\": ...}: "+err.Error())
		return nil, false
	}
	return obj["input"], true
}

// run runs one job and encodes its RESULT; it never panics.
func (s *QueueServer) run(ctx context.Context, input json.RawMessage) (out json.RawMessage) {
	defer func() {
		if p := recover(); p != nil {
			s.logger().ErrorContext(ctx, "panic running a job", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			out, _ = json.Marshal(failure(&panicError{value: p, stack: string(debug.Stack())}))
		}
	}()
	res := s.reg.execute(ctx, input)
	if strings.HasPrefix(res.Error, "panic: ") {
		s.logger().ErrorContext(ctx, "panic in remote function", slog.String("error", res.Error), slog.String("stack", res.Traceback))
	}
	out, err := json.Marshal(res)
	if err != nil {
		out, _ = json.Marshal(failure(fmt.Errorf("encoding the result: %w", err)))
	}
	return out
}

// admit counts one more job queued or running, or answers 429 and
// reports false when MaxPending are.
func (s *QueueServer) admit(w http.ResponseWriter) bool {
	limit := s.MaxPending
	if limit <= 0 {
		limit = defaultMaxPending
	}
	s.mu.Lock()
	ok := s.pending < limit
	if ok {
		s.pending++
	}
	s.mu.Unlock()
	if !ok {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusTooManyRequests, fmt.Sprintf("%d jobs are queued or running: try again later", limit))
	}
	return ok
}

func (s *QueueServer) serveRunSync(w http.ResponseWriter, r *http.Request) {
	input, ok := s.readInput(w, r)
	if !ok || !s.admit(w) {
		return
	}
	job := &localJob{ID: newJobID(), Status: statusCompleted, Output: s.run(r.Context(), input)}
	s.remember(job)
	writeJSON(w, http.StatusOK, job)
}

func (s *QueueServer) serveRun(w http.ResponseWriter, r *http.Request) {
	input, ok := s.readInput(w, r)
	if !ok || !s.admit(w) {
		return
	}
	job := &localJob{ID: newJobID(), Status: statusInProgress}
	s.mu.Lock()
	s.jobs[job.ID] = job
	s.mu.Unlock()
	s.running.Add(1)
	go func() {
		defer s.running.Done()
		ctx, cancel := s.jobContext(job)
		defer cancel()
		out := s.run(ctx, input)
		s.mu.Lock()
		job.Status, job.Output = statusCompleted, out
		s.mu.Unlock()
		s.remember(job)
	}()
	writeJSON(w, http.StatusOK, localJob{ID: job.ID, Status: statusInProgress})
}

// writeJobNotFound answers a /status, /stream or /cancel of a job the
// server does not know (never run, or forgotten).
func writeJobNotFound(w http.ResponseWriter, id string) {
	writeJSON(w, http.StatusNotFound, map[string]string{"id": id, "status": "FAILED", "error": fmt.Sprintf("job %q not found", id)})
}

func (s *QueueServer) serveStatus(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	s.mu.Lock()
	job, ok := s.jobs[id]
	var snapshot localJob
	if ok {
		snapshot = *job
	}
	s.mu.Unlock()
	if !ok {
		writeJobNotFound(w, id)
		return
	}
	writeJSON(w, http.StatusOK, snapshot)
}

// remember records a finished job, no longer pending; beyond
// maxFinishedJobs or maxFinishedBytes of output, the oldest finished
// jobs are forgotten.
func (s *QueueServer) remember(job *localJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobs[job.ID] = job
	s.pending--
	s.finished = append(s.finished, job.ID)
	s.finishedBytes += len(job.Output)
	for len(s.finished) > 0 && (len(s.finished) > maxFinishedJobs || s.finishedBytes > maxFinishedBytes) {
		if old, ok := s.jobs[s.finished[0]]; ok {
			s.finishedBytes -= len(old.Output)
			if old.stream != nil {
				s.streamBytes -= old.stream.bytes // values never read
			}
			delete(s.jobs, s.finished[0])
		}
		s.finished = s.finished[1:]
	}
	if cap(s.finished) > 4*maxFinishedJobs {
		s.finished = append([]string(nil), s.finished...)
	}
}

// drain waits for the jobs started by /run; once ctx is done it cancels
// them and waits at most grace more: a job that ignores its context does
// not hold the process.
func (s *QueueServer) drain(ctx context.Context, grace time.Duration) {
	done := make(chan struct{})
	go func() { s.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.cancel()
		select {
		case <-done:
		case <-time.After(grace):
			s.logger().Warn("shutdown timeout: jobs still running are abandoned")
		}
	}
	s.cancel()
}

// newJobID returns "test-" and a random UUID, as runpod-python's local
// API names jobs.
func newJobID() string { return "test-" + newUUID() }

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// ServeQueue runs a queue resource until SIGTERM or
// SIGINT, then finishes the jobs in progress (FLASH_SHUTDOWN_TIMEOUT,
// default 25s) and returns nil.
//
// With RUNPOD_WEBHOOK_GET_JOB set it is a RunPod worker: it takes jobs
// from that URL (RUNPOD_POD_ID, RUNPOD_AI_API_KEY), posts each job's
// {"output": RESULT} to RUNPOD_WEBHOOK_POST_OUTPUT, and sends a heartbeat
// to RUNPOD_WEBHOOK_PING every RUNPOD_PING_INTERVAL milliseconds (default
// 10000). FLASH_QUEUE_CONCURRENCY (default 1) jobs run at a time; with
// more than one free, jobs are taken in batches; a take that gets no
// answer within 5 minutes is given up and made again. No job it took is lost:
// SIGTERM stops the taking, not a take in flight; result posts are
// retried with back-off (1, 2, 4, ... s, up to 5 minutes) on network
// errors, 5xx, 408 and 429; the heartbeat runs until the last result is
// posted; and a job still running at FLASH_SHUTDOWN_TIMEOUT is reported
// as failed.
//
// Otherwise it serves the local test API of [QueueServer] on HOST:PORT
// (PORT default 8000), with FLASH_MAX_BODY_BYTES, FLASH_READ_TIMEOUT and
// FLASH_QUEUE_MAX_PENDING (default 1000 jobs queued or running).
//
// Logs go to stderr as [ServeLoadBalancer]'s do (FLASH_LOG_LEVEL,
// FLASH_LOG_FORMAT). Functions registered with OnStartup run before the
// first job.
func ServeQueue(app App) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger, closeLog, err := newProcessLogger(os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	if app.Resource != nil {
		// Typed clients in this process call its own resource in memory,
		// through the local test API's handler.
		if local, err := NewQueueServer(app); err == nil {
			local.Logger = logger
			defer RegisterLocal(app.Resource.ResourceConfig().Name, local)()
		}
	}
	if os.Getenv("RUNPOD_WEBHOOK_GET_JOB") != "" {
		w, err := newWorker(app, os.Getenv, logger)
		if err != nil {
			return err
		}
		return w.run(ctx)
	}
	env, err := readServerEnv(os.Getenv, "8000")
	if err != nil {
		return err
	}
	s, err := NewQueueServer(app)
	if err != nil {
		return err
	}
	s.Logger = logger
	s.MaxBodyBytes = env.maxBodyBytes
	s.ReadTimeout = env.readTimeout
	s.MaxPending = env.maxPending
	if err := runStartup(ctx, startupFuncs()); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(env.host, env.port))
	if err != nil {
		return fmt.Errorf("listening: %w", err)
	}
	return serveQueue(ctx, s, ln, env.shutdownTimeout)
}

// serveQueue serves the local test API on ln until ctx is done, then
// gives requests and /run jobs shutdownTimeout to finish.
func serveQueue(ctx context.Context, s *QueueServer, ln net.Listener, shutdownTimeout time.Duration) error {
	logger := s.logger()
	// /runsync calls run on reqCtx, cancelled before the timeout so that
	// they can still answer.
	reqCtx, cancelRequests := context.WithCancel(context.Background())
	defer cancelRequests()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: readHeaderTimeout, IdleTimeout: idleTimeout,
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return reqCtx }}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	logger.Info("serving the local queue API", slog.String("addr", ln.Addr().String()))
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.closing.Store(true)
	plan := newDrainPlan(0, shutdownTimeout)
	start := time.Now()
	cctx, cancel := context.WithDeadline(context.Background(), start.Add(plan.cancel))
	defer cancel()
	if err := srv.Shutdown(cctx); err != nil {
		cancelRequests()
		actx, cancel := context.WithDeadline(context.Background(), start.Add(plan.abandon))
		defer cancel()
		if err := srv.Shutdown(actx); err != nil {
			logger.Warn("shutdown timeout: closing open connections", slog.String("error", err.Error()))
			srv.Close()
		}
	}
	s.drain(cctx, time.Until(start.Add(plan.abandon)))
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", serveErr)
	}
	logger.Info("stopped")
	return nil
}
