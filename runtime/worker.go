package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// worker runs RunPod's serverless worker protocol (as runpod-python
// implements it): take a job, run it, post its output; meanwhile send a
// heartbeat.
type worker struct {
	reg    *registry
	logger *slog.Logger
	client *http.Client

	jobURL, postURL, pingURL string
	streamURL                string // RUNPOD_WEBHOOK_POST_STREAM (stream_queue.go)
	podID, apiKey            string
	pingInterval             time.Duration
	concurrency              int
	shutdownTimeout          time.Duration

	// Pauses, fields so that tests can shorten them.
	backoff    time.Duration // after 429 Too Many Requests
	errorDelay time.Duration // after a failed or unreadable job take
	retryDelay time.Duration // between attempts to post a result
	postTries  int

	mu         sync.Mutex
	inProgress []string // ids of the jobs running now
}

func newWorker(app App, getenv func(string) string, logger *slog.Logger) (*worker, error) {
	for _, fn := range app.Functions {
		if fn.Call == nil {
			return nil, fmt.Errorf("function %s has no Call", fn.Name)
		}
	}
	w := &worker{
		reg:             newRegistry(app.Functions),
		logger:          logger,
		client:          &http.Client{Timeout: 0},
		jobURL:          getenv("RUNPOD_WEBHOOK_GET_JOB"),
		postURL:         getenv("RUNPOD_WEBHOOK_POST_OUTPUT"),
		pingURL:         getenv("RUNPOD_WEBHOOK_PING"),
		streamURL:       getenv("RUNPOD_WEBHOOK_POST_STREAM"),
		podID:           getenv("RUNPOD_POD_ID"),
		apiKey:          getenv("RUNPOD_AI_API_KEY"),
		pingInterval:    10 * time.Second,
		concurrency:     1,
		shutdownTimeout: defaultShutdownTimeout,
		backoff:         5 * time.Second,
		errorDelay:      time.Second,
		retryDelay:      time.Second,
		postTries:       3,
	}
	if w.jobURL == "" {
		return nil, errors.New("RUNPOD_WEBHOOK_GET_JOB is not set")
	}
	if w.postURL == "" {
		return nil, errors.New("RUNPOD_WEBHOOK_POST_OUTPUT is not set")
	}
	if w.podID == "" {
		w.podID = newUUID()
	}
	if v := getenv("RUNPOD_PING_INTERVAL"); v != "" {
		ms, err := strconv.Atoi(v)
		if err != nil || ms <= 0 {
			return nil, fmt.Errorf("RUNPOD_PING_INTERVAL=%q: want a positive number of milliseconds", v)
		}
		w.pingInterval = time.Duration(ms) * time.Millisecond
	}
	if v := getenv("FLASH_QUEUE_CONCURRENCY"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("FLASH_QUEUE_CONCURRENCY=%q: want a positive number", v)
		}
		w.concurrency = n
	}
	if v := getenv("FLASH_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := parseSeconds(v)
		if err != nil {
			return nil, fmt.Errorf("FLASH_SHUTDOWN_TIMEOUT=%q: %w", v, err)
		}
		w.shutdownTimeout = d
	}
	return w, nil
}

// job is a job as the job-take endpoint returns it.
type job struct {
	ID    string          `json:"id"`
	Input json.RawMessage `json:"input"`
}

// postTimeout bounds the posting of one result, retries included.
const postTimeout = time.Minute

// errBackoff is a job take answered 429.
var errBackoff = errors.New("job take: 429 too many requests")

// run takes and runs jobs until ctx is done, then gives the jobs in
// progress shutdownTimeout to finish and returns nil.
func (w *worker) run(ctx context.Context) error {
	// Jobs outlive ctx: SIGTERM stops the taking, not the running.
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()

	w.logger.Info("RunPod worker starting", slog.String("worker_id", w.podID), slog.Int("concurrency", w.concurrency))
	if w.pingURL != "" {
		go w.heartbeat(ctx)
	}
	if err := runStartup(ctx, startupFuncs()); err != nil {
		return err
	}
	var slots sync.WaitGroup
	for range w.concurrency {
		slots.Add(1)
		go func() {
			defer slots.Done()
			w.loop(ctx, jobCtx)
		}()
	}
	<-ctx.Done()
	done := make(chan struct{})
	go func() { slots.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(w.shutdownTimeout):
		w.logger.Warn("shutdown timeout: cancelling the jobs in progress")
		cancelJobs()
		<-done
	}
	w.logger.Info("stopped")
	return nil
}

// loop is one concurrency slot: take a job, run it, post the result.
func (w *worker) loop(ctx, jobCtx context.Context) {
	for ctx.Err() == nil {
		j, err := w.take(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errBackoff):
			w.logger.Warn("job take rate-limited: backing off", slog.Duration("for", w.backoff))
			sleep(ctx, w.backoff)
			continue
		case err != nil:
			w.logger.Error("job take failed", slog.String("error", err.Error()))
			sleep(ctx, w.errorDelay)
			continue
		case j == nil:
			continue // the job take long-polls: ask again at once
		}
		w.process(jobCtx, j)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// take asks for one job: nil (and no error) when there is none.
func (w *worker) take(ctx context.Context) (*job, error) {
	w.mu.Lock()
	busy := len(w.inProgress) > 0
	w.mu.Unlock()
	u := strings.ReplaceAll(w.jobURL, "$ID", w.podID)
	if busy {
		u = addQuery(u, "job_in_progress=1")
	} else {
		u = addQuery(u, "job_in_progress=0")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("job take: %w", err)
	}
	w.authorize(req)
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("job take: %w", err)
	}
	defer drainAndClose(resp.Body)
	switch {
	case resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusBadRequest:
		return nil, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, errBackoff
	case resp.StatusCode >= 400:
		return nil, fmt.Errorf("job take: %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("job take: reading the job: %w", err)
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return nil, nil // empty or not a job object: no job
	}
	var j job
	if err := json.Unmarshal(body, &j); err != nil || j.ID == "" {
		w.logger.Warn("job take returned no usable job", slog.String("body", truncate(string(body), 200)))
		return nil, nil
	}
	return &j, nil
}

func (w *worker) authorize(req *http.Request) {
	if w.apiKey != "" {
		req.Header.Set("Authorization", w.apiKey) // the raw key: no "Bearer"
	}
}

// process runs one job and posts its output. Whatever the function does,
// the output is RESULT; {"error": ...} is posted only when the worker
// itself fails.
func (w *worker) process(ctx context.Context, j *job) {
	w.mu.Lock()
	w.inProgress = append(w.inProgress, j.ID)
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.inProgress = slices.DeleteFunc(w.inProgress, func(id string) bool { return id == j.ID })
		w.mu.Unlock()
	}()
	start := time.Now()
	ctx, wj := w.startJob(ctx, j.ID)
	body, err := w.output(ctx, j)
	wj.stop() // no progress report follows the result
	if err != nil {
		w.logger.Error("worker failed on job", slog.String("job_id", j.ID), slog.String("error", err.Error()))
		body = w.workerError(err)
	}
	// The result is posted even when the job was cancelled by the
	// shutdown timeout: RunPod should learn how the job ended.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), postTimeout)
	defer cancel()
	if err := w.post(pctx, j.ID, body); err != nil {
		w.logger.Error("posting the job result failed", slog.String("job_id", j.ID), slog.String("error", err.Error()))
		return
	}
	w.logger.Info("job done", slog.String("job_id", j.ID), slog.Duration("duration", time.Since(start)))
}

// output runs a job and encodes {"output": RESULT}; an error is a failure
// of the worker, not of the function.
func (w *worker) output(ctx context.Context, j *job) (body []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in the worker: %v\n%s", p, debug.Stack())
		}
	}()
	res := w.reg.execute(ctx, j.Input)
	if strings.HasPrefix(res.Error, "panic: ") {
		w.logger.Error("panic in remote function", slog.String("job_id", j.ID), slog.String("error", res.Error), slog.String("stack", res.Traceback))
	}
	return json.Marshal(struct {
		Output result `json:"output"`
	}{res})
}

// workerError is the body RunPod expects when the worker itself fails:
// {"error": "<JSON of error_type, error_message, error_traceback,
// hostname, worker_id>"}.
func (w *worker) workerError(err error) []byte {
	host, _ := os.Hostname()
	detail, _ := json.Marshal(map[string]string{
		"error_type":      fmt.Sprintf("%T", err),
		"error_message":   err.Error(),
		"error_traceback": traceback(err),
		"hostname":        host,
		"worker_id":       w.podID,
	})
	body, _ := json.Marshal(map[string]string{"error": string(detail)})
	return body
}

// post sends a job's result, retrying on network errors and 5xx.
func (w *worker) post(ctx context.Context, jobID string, body []byte) error {
	u := strings.ReplaceAll(w.postURL, "$RUNPOD_POD_ID", w.podID)
	u = addQuery(strings.ReplaceAll(u, "$ID", jobID), "isStream="+strconv.FormatBool(isStreamJob(ctx)))
	return w.send(ctx, u, jobID, body)
}

// send posts body to u, retrying on network errors and 5xx.
func (w *worker) send(ctx context.Context, u, jobID string, body []byte) error {
	var last error
	for try := 0; try < max(w.postTries, 1); try++ {
		if try > 0 {
			sleep(ctx, w.retryDelay)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("posting the result: %w", err)
		}
		// runpod-python sends the JSON body with this content type; the
		// platform expects exactly that.
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Request-ID", jobID)
		w.authorize(req)
		resp, err := w.client.Do(req)
		if err != nil {
			last = fmt.Errorf("posting the result: %w", err)
			continue
		}
		drainAndClose(resp.Body)
		if resp.StatusCode >= 500 {
			last = fmt.Errorf("posting the result: %s", resp.Status)
			continue
		}
		if resp.StatusCode >= 400 {
			return fmt.Errorf("posting the result: %s", resp.Status)
		}
		return nil
	}
	return last
}

// heartbeat tells RunPod the worker is alive, and which jobs it runs,
// every pingInterval until ctx is done.
func (w *worker) heartbeat(ctx context.Context) {
	t := time.NewTicker(w.pingInterval)
	defer t.Stop()
	for {
		w.ping(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (w *worker) ping(ctx context.Context) {
	u := strings.ReplaceAll(w.pingURL, "$RUNPOD_POD_ID", w.podID)
	w.mu.Lock()
	ids := strings.Join(w.inProgress, ",")
	w.mu.Unlock()
	if ids != "" {
		u = addQuery(u, "job_id="+url.QueryEscape(ids))
	}
	pctx, cancel := context.WithTimeout(ctx, max(w.pingInterval, time.Second))
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, u, nil)
	if err != nil {
		w.logger.Error("heartbeat", slog.String("error", err.Error()))
		return
	}
	w.authorize(req)
	resp, err := w.client.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			w.logger.Warn("heartbeat failed", slog.String("error", err.Error()))
		}
		return
	}
	drainAndClose(resp.Body)
	if resp.StatusCode >= 400 {
		w.logger.Warn("heartbeat rejected", slog.String("status", resp.Status))
	}
}

// addQuery appends one key=value to a URL template's query: after "&"
// when the template has a query already (RunPod's always do), after "?"
// otherwise, so that the value never ends up in the path.
func addQuery(u, kv string) string {
	if strings.Contains(u, "?") {
		return u + "&" + kv
	}
	return u + "?" + kv
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
