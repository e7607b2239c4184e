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
	"sync/atomic"
	"time"
)

// worker runs RunPod's serverless worker protocol (as runpod-python
// implements it): take jobs, run them, post their outputs; meanwhile send
// a heartbeat. No job is lost (SPEC section 15): a take is never
// cancelled once sent, every job of a batch runs, a result post is
// retried with back-off, and a job still running at the shutdown timeout
// is reported as failed.
type worker struct {
	reg    *registry
	logger *slog.Logger
	client *http.Client
	live   bool // results keep their tracebacks

	jobURL, postURL, pingURL string
	streamURL                string // RUNPOD_WEBHOOK_POST_STREAM (stream_queue.go)
	podID, apiKey            string
	pingInterval             time.Duration
	concurrency              int
	shutdownTimeout          time.Duration

	// Pauses, fields so that tests can shorten them.
	backoff    time.Duration // after 429 Too Many Requests
	errorDelay time.Duration // after a failed or unreadable job take
	// takeTimeout bounds the wait for a job take's answer, and then as
	// long again for its body (see defaultTakeTimeout).
	takeTimeout time.Duration
	retryDelay  time.Duration // the first pause between attempts to post a result; it doubles
	postFor     time.Duration // how long a result post is retried

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
		live:            app.Resource != nil && app.Resource.IsLive(),
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
		takeTimeout:     defaultTakeTimeout,
		retryDelay:      time.Second,
		postFor:         5 * time.Minute,
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

// defaultTakeTimeout is how long a job take may go unanswered, and then
// how long its body may take to arrive. RunPod holds a take open while
// it has no job for the worker (a long poll), for far less than this;
// runpod-python's client gives the whole request 300 s. A take without
// an answer after it is a stuck connection: it is given up (the platform
// has handed out no job on it that the worker could have read) and the
// worker takes again.
const defaultTakeTimeout = 5 * time.Minute

// postAttemptTimeout bounds one attempt to post a result.
const postAttemptTimeout = time.Minute

// errBackoff is a job take answered 429.
var errBackoff = errors.New("job take: 429 too many requests")

// shutdown holds the contexts of a worker's shutdown, counted from
// SIGTERM: jobs are cancelled, then abandoned (reported as failed), then
// everything, result posts and a take in flight included, stops.
type shutdown struct {
	jobs    context.Context // the functions' context
	abandon context.Context // done: report the jobs still running as failed
	final   context.Context // done: stop posting, return
}

// run takes and runs jobs until ctx is done, then finishes the jobs in
// progress within shutdownTimeout and returns nil.
func (w *worker) run(ctx context.Context) error {
	jobs, cancelJobs := context.WithCancel(context.Background())
	defer cancelJobs()
	abandon, cancelAbandon := context.WithCancel(context.Background())
	defer cancelAbandon()
	final, cancelFinal := context.WithCancel(context.Background())
	defer cancelFinal()
	sd := shutdown{jobs: jobs, abandon: abandon, final: final}
	go func() {
		select {
		case <-final.Done():
			return
		case <-ctx.Done():
		}
		plan := newDrainPlan(0, w.shutdownTimeout)
		start := time.Now()
		for _, step := range []struct {
			at     time.Duration
			cancel context.CancelFunc
		}{{plan.cancel, cancelJobs}, {plan.abandon, cancelAbandon}, {plan.timeout, cancelFinal}} {
			t := time.NewTimer(time.Until(start.Add(step.at)))
			select {
			case <-t.C:
				step.cancel()
			case <-final.Done():
				t.Stop()
				return
			}
		}
	}()

	w.logger.Info("RunPod worker starting", slog.String("worker_id", w.podID), slog.Int("concurrency", w.concurrency))
	// The heartbeat runs until the last result is posted: RunPod takes a
	// silent worker's jobs for lost.
	hbCtx, stopHeartbeat := context.WithCancel(context.Background())
	hbDone := make(chan struct{})
	if w.pingURL != "" {
		go func() { defer close(hbDone); w.heartbeat(hbCtx) }()
	} else {
		close(hbDone)
	}
	defer func() { stopHeartbeat(); <-hbDone }()
	if err := runStartup(ctx, startupFuncs()); err != nil {
		return err
	}

	slots := make(chan struct{}, w.concurrency)
	var running sync.WaitGroup
	for ctx.Err() == nil {
		// Take as many jobs as there are free slots, once one is.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		n := 1
		for n < w.concurrency {
			select {
			case slots <- struct{}{}:
				n++
				continue
			default:
			}
			break
		}
		// The take is never cancelled by SIGTERM: a job the platform
		// handed out is run. Only the end of the shutdown stops it.
		got, err := w.take(final, n)
		for i := len(got); i < n; i++ {
			<-slots
		}
		switch {
		case errors.Is(err, errBackoff):
			w.logger.Warn("job take rate-limited: backing off", slog.Duration("for", w.backoff))
			sleep(ctx, w.backoff)
		case err != nil:
			if final.Err() == nil {
				w.logger.Error("job take failed", slog.String("error", err.Error()))
			}
			sleep(ctx, w.errorDelay)
		}
		for i, j := range got {
			running.Add(1)
			go func() {
				defer running.Done()
				if i < n {
					defer func() { <-slots }()
				}
				w.process(sd, j)
			}()
		}
	}
	done := make(chan struct{})
	go func() { running.Wait(); close(done) }()
	select {
	case <-done:
	case <-final.Done():
		w.logger.Error("shutdown timeout: results still unposted")
	}
	w.logger.Info("stopped")
	return nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// take asks for up to n jobs: a batch take (RunPod's /job-take-batch/,
// batch_size=n) when n > 1. It returns no job and no error when there is
// none.
func (w *worker) take(ctx context.Context, n int) ([]*job, error) {
	w.mu.Lock()
	busy := len(w.inProgress) > 0
	w.mu.Unlock()
	u := strings.ReplaceAll(w.jobURL, "$ID", w.podID)
	if n > 1 {
		u = addQuery(strings.Replace(u, "/job-take/", "/job-take-batch/", 1), "batch_size="+strconv.Itoa(n))
	}
	if busy {
		u = addQuery(u, "job_in_progress=1")
	} else {
		u = addQuery(u, "job_in_progress=0")
	}
	// A stuck endpoint must not hold the worker: the answer gets
	// takeTimeout, and its body as long again.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	timer := time.AfterFunc(w.takeTimeout, func() { timedOut.Store(true); cancel() })
	defer timer.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("job take: %w", err)
	}
	w.authorize(req)
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		if timedOut.Load() {
			return nil, fmt.Errorf("job take: no answer within %v", w.takeTimeout)
		}
		return nil, fmt.Errorf("job take: %w", err)
	}
	defer drainAndClose(resp.Body)
	if timer.Stop() {
		timer.Reset(w.takeTimeout)
	}
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
		if timedOut.Load() {
			return nil, fmt.Errorf("job take: the job did not arrive within %v", w.takeTimeout)
		}
		return nil, fmt.Errorf("job take: reading the job: %w", err)
	}
	jobs, bad := parseJobs(body)
	if bad != "" {
		w.logger.Warn("job take returned no usable job", slog.String("body", truncate(bad, 200)))
	}
	return jobs, nil
}

// parseJobs reads a job take's body: one job object, or an array of them
// (a batch). Empty or non-JSON is no job; bad describes what was skipped
// (a job without an id cannot be reported, so it cannot be run either).
func parseJobs(body []byte) (jobs []*job, bad string) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, ""
	}
	var raws []json.RawMessage
	switch body[0] {
	case '{':
		raws = []json.RawMessage{body}
	case '[':
		if err := json.Unmarshal(body, &raws); err != nil {
			return nil, string(body)
		}
	default:
		return nil, ""
	}
	for _, raw := range raws {
		var j job
		if err := json.Unmarshal(raw, &j); err != nil || j.ID == "" {
			bad = string(raw)
			continue
		}
		jobs = append(jobs, &j)
	}
	return jobs, bad
}

func (w *worker) authorize(req *http.Request) {
	if w.apiKey != "" {
		req.Header.Set("Authorization", w.apiKey) // the raw key: no "Bearer"
	}
}

// process runs one job and posts its output. Whatever the function does,
// the output is RESULT; {"error": ...} is posted only when the worker
// itself fails. A function still running when the shutdown abandons it
// is reported as failed.
func (w *worker) process(sd shutdown, j *job) {
	w.mu.Lock()
	w.inProgress = append(w.inProgress, j.ID)
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.inProgress = slices.DeleteFunc(w.inProgress, func(id string) bool { return id == j.ID })
		w.mu.Unlock()
	}()
	start := time.Now()
	jobCtx, wj := w.startJob(sd.jobs, j.ID) // stream_queue.go
	done := make(chan []byte, 1)
	go func() {
		body, err := w.output(jobCtx, j)
		if err != nil {
			w.logger.Error("worker failed on job", slog.String("job_id", j.ID), slog.String("error", err.Error()))
			body = w.workerError(err)
		}
		done <- body
	}()
	var body []byte
	select {
	case body = <-done:
	case <-sd.abandon.Done():
		name := functionName(j.Input)
		w.logger.Error("shutdown timeout: reporting a job still running as failed", slog.String("job_id", j.ID), slog.String("function", name))
		body, _ = json.Marshal(struct {
			Output result `json:"output"`
		}{result{Error: fmt.Sprintf("worker shut down before %s returned", bareName(name))}})
	}
	// The result is posted for up to postFor, or until the end of the
	// shutdown: RunPod must learn how every job it handed out ended.
	wj.stop() // no progress report nor stream value follows the result
	pctx, cancel := context.WithTimeout(sd.final, w.postFor)
	defer cancel()
	if err := w.post(pctx, j.ID, body, wj.hooks.streamed.Load()); err != nil {
		w.logger.Error("posting the job result failed", slog.String("job_id", j.ID), slog.String("error", err.Error()))
		return
	}
	w.logger.Info("job done", slog.String("job_id", j.ID), slog.Duration("duration", time.Since(start)))
}

// functionName is the function_name of a job's input, for messages.
func functionName(input json.RawMessage) string {
	var env struct {
		FunctionName string `json:"function_name"`
	}
	if json.Unmarshal(input, &env) != nil || env.FunctionName == "" {
		return "the function"
	}
	return env.FunctionName
}

// output runs a job and encodes {"output": RESULT}; an error is a failure
// of the worker, not of the function. A deployed resource's RESULT has
// no traceback, and a panic says only "internal error in F" (the detail
// goes to the log).
func (w *worker) output(ctx context.Context, j *job) (body []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in the worker: %v\n%s", p, debug.Stack())
		}
	}()
	res, fn := w.reg.run(ctx, j.Input)
	if strings.HasPrefix(res.Error, "panic: ") {
		w.logger.Error("panic in remote function", slog.String("job_id", j.ID), slog.String("error", res.Error), slog.String("stack", res.Traceback))
		if !w.live && fn != nil {
			res.Error = internalError(fn.Name)
		}
	}
	if !w.live {
		res.Traceback = ""
	}
	return marshalJSON(struct {
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

// post sends a job's result until ctx is done, retrying network errors,
// 5xx, 408 and 429 with a pause that starts at retryDelay and doubles
// (a Retry-After is honoured when longer); another 4xx is final.
func (w *worker) post(ctx context.Context, jobID string, body []byte, stream bool) error {
	u := strings.ReplaceAll(w.postURL, "$RUNPOD_POD_ID", w.podID)
	// isStream is true for the result of a streaming job, as
	// runpod-python sends it.
	u = addQuery(strings.ReplaceAll(u, "$ID", jobID), "isStream="+strconv.FormatBool(stream))
	return w.send(ctx, u, jobID, body)
}

// send posts body to u (a result, or a streamed value) until ctx is done,
// retrying as post says.
func (w *worker) send(ctx context.Context, u, jobID string, body []byte) error {
	delay := max(w.retryDelay, time.Millisecond)
	for attempt := 1; ; attempt++ {
		retryAfter, err := w.postOnce(ctx, u, jobID, body)
		var final *finalError
		if err == nil || errors.As(err, &final) {
			return err
		}
		pause := max(delay, retryAfter)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < pause || ctx.Err() != nil {
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		w.logger.Warn("posting the job result failed: retrying", slog.String("job_id", jobID),
			slog.String("error", err.Error()), slog.Duration("in", pause))
		sleep(ctx, pause)
		delay *= 2
	}
}

// finalError is an answer to a result post that retrying cannot change.
type finalError struct{ status string }

func (e *finalError) Error() string { return "posting the result: " + e.status + " (final)" }

func (w *worker) postOnce(ctx context.Context, u, jobID string, body []byte) (retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, postAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, &finalError{err.Error()}
	}
	// runpod-python sends the JSON body with this content type; the
	// platform expects exactly that.
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Request-ID", jobID)
	w.authorize(req)
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("posting the result: %w", err)
	}
	drainAndClose(resp.Body)
	switch code := resp.StatusCode; {
	case code < 400:
		return 0, nil
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
			retryAfter = min(time.Duration(secs)*time.Second, time.Minute)
		}
		return retryAfter, fmt.Errorf("posting the result: %s", resp.Status)
	default:
		return 0, &finalError{resp.Status}
	}
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
