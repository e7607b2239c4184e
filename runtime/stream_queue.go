package runtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gorilla/mux"
)

// jobHooks connect a running queue job to whoever reports it: the RunPod
// worker or the local test API. They travel in the job's context, where
// collect (for each streamed value) and Progress find them.
type jobHooks struct {
	value    func(json.RawMessage) // a streamed value, in order; valid during the call only
	progress func(json.RawMessage) // the latest progress report
	streamed atomic.Bool           // the function returned a Stream
}

type jobHooksKey struct{}

func withJobHooks(ctx context.Context, h *jobHooks) context.Context {
	return context.WithValue(ctx, jobHooksKey{}, h)
}

func jobHooksOf(ctx context.Context) *jobHooks {
	h, _ := ctx.Value(jobHooksKey{}).(*jobHooks)
	return h
}

// --- RunPod worker -------------------------------------------------------

// workerJob reports one job of a RunPod worker while it runs: each streamed
// value is posted to RUNPOD_WEBHOOK_POST_STREAM as it is produced, and
// progress to RUNPOD_WEBHOOK_POST_OUTPUT as {"status": "IN_PROGRESS",
// "output": v}, as runpod-python does. stop ends the progress reports, so
// that none can follow the job's result.
type workerJob struct {
	w     *worker
	id    string
	hooks *jobHooks

	mu      sync.Mutex
	pending json.RawMessage // progress not yet posted
	wake    chan struct{}
	stopped chan struct{}
	ctx     context.Context // the job's posts; cancelled by stop
	cancel  context.CancelFunc
	done    chan struct{}
}

// startJob returns the context a job runs in, with its hooks.
func (w *worker) startJob(ctx context.Context, jobID string) (context.Context, *workerJob) {
	wj := &workerJob{w: w, id: jobID, wake: make(chan struct{}, 1), stopped: make(chan struct{}), done: make(chan struct{})}
	wj.hooks = &jobHooks{value: wj.postValue, progress: wj.setProgress}
	wj.ctx, wj.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go wj.reportProgress(wj.ctx)
	return withJobHooks(ctx, wj.hooks), wj
}

// postValue posts one streamed value, {"output": v}, to the stream webhook
// before the function's next value is taken; a failed post is retried as
// results are (SPEC 15). Without RUNPOD_WEBHOOK_POST_STREAM values are only
// aggregated into the result.
func (wj *workerJob) postValue(v json.RawMessage) {
	w := wj.w
	if w.streamURL == "" {
		return
	}
	select {
	case <-wj.stopped:
		return // the result is posted: nothing may follow it
	default:
	}
	body := make([]byte, 0, len(v)+12)
	body = append(append(append(body, `{"output":`...), v...), '}')
	u := strings.ReplaceAll(w.streamURL, "$RUNPOD_POD_ID", w.podID)
	// runpod-python's stream_result sends isStream=false on the stream
	// webhook (the final result of a stream job says true).
	u = addQuery(strings.ReplaceAll(u, "$ID", wj.id), "isStream=false")
	// A job the shutdown abandoned stops posting once its result is.
	ctx, cancel := context.WithTimeout(wj.ctx, w.postFor)
	defer cancel()
	if err := w.send(ctx, u, wj.id, body); err != nil {
		w.logger.Error("posting a stream value failed", slog.String("job_id", wj.id), slog.String("error", err.Error()))
	}
}

func (wj *workerJob) setProgress(v json.RawMessage) {
	wj.mu.Lock()
	wj.pending = v
	wj.mu.Unlock()
	select {
	case wj.wake <- struct{}{}:
	default:
	}
}

// reportProgress posts the latest progress report whenever there is a new
// one, until stop. A report that cannot be posted is dropped: a later one,
// or the result, supersedes it.
func (wj *workerJob) reportProgress(ctx context.Context) {
	defer close(wj.done)
	w := wj.w
	for {
		select {
		case <-wj.stopped:
			return
		case <-wj.wake:
		}
		wj.mu.Lock()
		v := wj.pending
		wj.pending = nil
		wj.mu.Unlock()
		if v == nil {
			continue
		}
		body := make([]byte, 0, len(v)+40)
		body = append(append(append(body, `{"status":"IN_PROGRESS","output":`...), v...), '}')
		u := strings.ReplaceAll(w.postURL, "$RUNPOD_POD_ID", w.podID)
		u = addQuery(strings.ReplaceAll(u, "$ID", wj.id), "isStream=false")
		if _, err := w.postOnce(ctx, u, wj.id, body); err != nil && ctx.Err() == nil {
			w.logger.Warn("posting progress failed", slog.String("job_id", wj.id), slog.String("error", err.Error()))
		}
	}
}

// stop ends the progress reports and waits until none is in flight.
func (wj *workerJob) stop() {
	close(wj.stopped)
	wj.cancel()
	<-wj.done
}

// --- local test API ------------------------------------------------------

// localStream holds what a job of the local test API has streamed and not
// yet been fetched by POST /stream/{id}, and cancels the job.
type localStream struct {
	values  []json.RawMessage
	bytes   int // the size of values
	dropped int // values dropped unread since the last /stream (keep)
	cancel  context.CancelFunc
}

// defaultMaxUnreadStream bounds the streamed values that the local test
// API keeps for /stream/{id}, all jobs together. A value is kept until a
// /stream call takes it or its job is forgotten (with the finished
// results, queue.go). When a new value would pass the bound, the job
// with the largest backlog loses its oldest unread values first (a
// stream nobody reads pays for itself before it costs another job
// anything), and that job's next /stream answer counts them: "dropped":
// n. The job's result, at /status/{id}, still holds every value.
const defaultMaxUnreadStream = 64 << 20

// keep records a value that job ls streamed, dropping the oldest unread
// values of the largest backlogs while the total passes the bound.
// s.mu is held.
func (s *QueueServer) keep(ls *localStream, v json.RawMessage) {
	ls.values = append(ls.values, append(json.RawMessage(nil), v...))
	ls.bytes += len(v)
	s.streamBytes += len(v)
	limit := s.maxUnreadStream
	if limit <= 0 {
		limit = defaultMaxUnreadStream
	}
	for s.streamBytes > limit {
		victim := ls
		if 2*ls.bytes <= s.streamBytes { // else ls holds most of it: no other job can hold more
			for _, job := range s.jobs {
				if job.stream != nil && job.stream.bytes > victim.bytes {
					victim = job.stream
				}
			}
		}
		n := len(victim.values[0])
		victim.values[0] = nil
		victim.values = victim.values[1:]
		victim.bytes -= n
		victim.dropped++
		s.streamBytes -= n
	}
}

// take returns and forgets the values a /stream call takes, and how many
// were dropped before it. s.mu is held.
func (s *QueueServer) take(ls *localStream) (values []json.RawMessage, dropped int) {
	values, dropped = ls.values, ls.dropped
	s.streamBytes -= ls.bytes
	ls.values, ls.bytes, ls.dropped = nil, 0, 0
	return values, dropped
}

// jobContext returns the context of a /run job: streamed values are kept
// for /stream/{id}; progress becomes the job's output while it is in
// progress (GET /status/{id}); POST /cancel/{id} cancels it.
func (s *QueueServer) jobContext(job *localJob) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(s.baseCtx)
	ls := &localStream{cancel: cancel}
	s.mu.Lock()
	job.stream = ls
	s.mu.Unlock()
	return withJobHooks(ctx, &jobHooks{
		value: func(v json.RawMessage) {
			s.mu.Lock()
			s.keep(ls, v)
			s.mu.Unlock()
		},
		progress: func(v json.RawMessage) {
			s.mu.Lock()
			if job.Status == statusInProgress {
				job.Output = v
			}
			s.mu.Unlock()
		},
	}), cancel
}

// streamChunk is one value of a /stream answer, as RunPod frames it.
type streamChunk struct {
	Output json.RawMessage `json:"output"`
}

// serveJobStream answers GET|POST /stream/{id}: {"id", "status", "stream":
// [{"output": v}, ...]} with the values the job produced since the last
// call, as RunPod's /stream does, so that a poller sees each value once,
// and "dropped": n when the bound on unread values (keep) dropped some
// since. Once status is COMPLETED and the stream is empty, the job's
// result is at /status/{id}.
func (s *QueueServer) serveJobStream(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	s.mu.Lock()
	job, ok := s.jobs[id]
	var status string
	var values []json.RawMessage
	var dropped int
	if ok {
		status = job.Status
		if job.stream != nil {
			values, dropped = s.take(job.stream)
		}
	}
	s.mu.Unlock()
	if !ok {
		writeJobNotFound(w, id)
		return
	}
	chunks := make([]streamChunk, len(values))
	for i, v := range values {
		chunks[i].Output = v
	}
	writeJSON(w, http.StatusOK, struct {
		ID      string        `json:"id"`
		Status  string        `json:"status"`
		Stream  []streamChunk `json:"stream"`
		Dropped int           `json:"dropped,omitempty"`
	}{id, status, chunks, dropped})
}

// serveCancel answers POST /cancel/{id}: the job's context is cancelled
// (a typed client does this when its caller stops reading a stream); the
// job then completes as its function ends.
func (s *QueueServer) serveCancel(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	s.mu.Lock()
	job, ok := s.jobs[id]
	var status string
	if ok {
		status = job.Status
		if job.stream != nil {
			job.stream.cancel()
		}
	}
	s.mu.Unlock()
	if !ok {
		writeJobNotFound(w, id)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "status": status})
}
