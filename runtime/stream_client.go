package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"strings"
	"sync"
	"time"
)

// defaultStreamPollInterval is how often StreamJob asks a job for more
// values when the last answer had none.
const defaultStreamPollInterval = 250 * time.Millisecond

// CallStream calls the streaming function fn (SPEC section 18) with args,
// one per fn.Params, and returns its values as they arrive, decoded into
// T: a load-balanced function's route is read as NDJSON, line by line
// ([Client.Stream]); a queue function runs as a job whose /stream/{id} is
// polled ([Client.StreamJob]). Nothing is sent until a loop ranges over
// the result, and each loop makes its own call. Breaking the loop stops
// the call: the request is cancelled, and a queue job is cancelled with
// POST /cancel/{id}. An error — the call's, or the function's, which ends
// its stream (a *RemoteError) — comes last, with a zero value.
//
// The generated typed clients call CallStream for each streaming function.
func CallStream[T any](ctx context.Context, c *Caller, fn *RemoteFunc, args []any) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		if fn == nil {
			yield(zero, errors.New("runtime: CallStream of a nil RemoteFunc"))
			return
		}
		cl, err := c.client(ctx, fn, args)
		if err != nil {
			yield(zero, err)
			return
		}
		var values iter.Seq2[json.RawMessage, error]
		if fn.LoadBalanced {
			values = cl.Stream(ctx, fn.Method, fn.Path, routeArgs(fn, args))
		} else {
			values = cl.StreamJob(ctx, fn.Name, nil, jobKwargs(fn, args))
		}
		for raw, err := range values {
			if err != nil {
				var re *RemoteError
				if errors.As(err, &re) {
					re.Function = fn.Name
				}
				yield(zero, err)
				return
			}
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				yield(zero, fmt.Errorf("decoding a value of %s: %w", fn.Name, err))
				return
			}
			if !yield(v, nil) {
				return
			}
		}
	}
}

// Stream calls a streaming route of a load-balanced endpoint, as Call does,
// and returns the values of its NDJSON answer, one per line, as they
// arrive. A last line {"error": "..."} is the function's error, returned
// as a *RemoteError; a non-2xx answer is an *HTTPError. Timeout bounds the
// wait for the answer to begin, not the stream. Breaking the loop cancels
// the request, which cancels the function on the server.
func (c *Client) Stream(ctx context.Context, method, template string, args map[string]any) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		method, u, body, err := c.routeRequest(method, template, args)
		if err != nil {
			yield(nil, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u, rd)
		if err != nil {
			yield(nil, fmt.Errorf("calling %s %s: %w", method, u, err))
			return
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", ndjsonType)
		timeout := c.Timeout
		if timeout == 0 {
			timeout = defaultClientTimeout
		}
		var timer *time.Timer
		if timeout > 0 {
			timer = time.AfterFunc(timeout, cancel)
		}
		resp, err := sendWithKey(c.HTTPClient, req, c.keyFor(u))
		if timer != nil && !timer.Stop() {
			if err == nil {
				resp.Body.Close()
			}
			err = fmt.Errorf("no answer within %v", timeout)
		}
		if err != nil {
			yield(nil, fmt.Errorf("calling %s %s: %w", method, u, err))
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			yield(nil, newHTTPError(method, u, resp))
			return
		}
		br := bufio.NewReader(resp.Body)
		// held is a line shaped like the error line, kept until it is
		// known whether it is the last: a value may look the same.
		var held json.RawMessage
		for {
			line, err := br.ReadBytes('\n')
			if line = bytes.TrimSpace(line); len(line) > 0 {
				if held != nil {
					if !yield(held, nil) {
						return
					}
					held = nil
				}
				if _, ok := errorLine(line); ok {
					held = line
				} else if !yield(line, nil) {
					return
				}
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				yield(nil, fmt.Errorf("calling %s %s: reading the stream: %w", method, u, err))
				return
			}
		}
		if held != nil {
			msg, _ := errorLine(held)
			yield(nil, &RemoteError{Function: method + " " + template, Message: msg})
		}
	}
}

// errorLine reports whether line is {"error": "..."}, the last line of a
// stream that failed, and returns the message.
func errorLine(line []byte) (string, bool) {
	if !bytes.HasPrefix(line, []byte(`{"error"`)) {
		return "", false
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(line, &m) != nil || len(m) != 1 {
		return "", false
	}
	var msg string
	if json.Unmarshal(m["error"], &msg) != nil {
		return "", false
	}
	return msg, true
}

// StreamJob runs a streaming function of a queue endpoint as a job (POST
// /run) and returns its values as the job produces them, polling
// /stream/{id} (every PollInterval when there was nothing new; zero means
// 250 ms). Once the job is done its result is read from /status/{id}: a
// failed function is a *RemoteError, a job that did not complete a
// *JobError, as is a /stream answer that says values were dropped
// unread. Breaking the loop, or ctx ending, cancels the job (POST
// /cancel/{id}).
func (c *Client) StreamJob(ctx context.Context, function string, args []any, kwargs map[string]any) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		body, err := json.Marshal(map[string]any{"input": callEnvelope(function, args, kwargs)})
		if err != nil {
			yield(nil, fmt.Errorf("encoding the call: %w", err))
			return
		}
		base := strings.TrimRight(c.BaseURL, "/")
		var st jobStatus
		if err := c.do(ctx, http.MethodPost, base+"/run", body, &st); err != nil {
			yield(nil, err)
			return
		}
		if st.ID == "" {
			yield(nil, errors.New("run: the answer has no job id"))
			return
		}
		id := escapePathValue(st.ID)
		finished := false
		defer func() {
			if !finished {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				defer cancel()
				_ = c.do(cctx, http.MethodPost, base+"/cancel/"+id, nil, nil)
			}
		}()
		interval := c.PollInterval
		if interval <= 0 {
			interval = defaultStreamPollInterval
		}
		failures := 0
		for {
			var sa struct {
				Status string `json:"status"`
				Stream []struct {
					Output json.RawMessage `json:"output"`
				} `json:"stream"`
				Dropped int `json:"dropped"`
			}
			if err := c.do(ctx, http.MethodPost, base+"/stream/"+id, nil, &sa); err != nil {
				failures++
				if failures >= statusTries || ctx.Err() != nil || !retryable(err) {
					yield(nil, &JobError{ID: st.ID, Status: st.Status, Err: err})
					return
				}
				sleep(ctx, interval)
				continue
			}
			failures = 0
			if sa.Status != "" {
				st.Status = sa.Status
			}
			if sa.Dropped > 0 {
				// The local test API dropped values nobody read in
				// time: what follows would be a stream with a hole.
				yield(nil, &JobError{ID: st.ID, Status: st.Status,
					Err: fmt.Errorf("%d streamed values were dropped before they were read", sa.Dropped)})
				return
			}
			for _, chunk := range sa.Stream {
				if !yield(chunk.Output, nil) {
					return
				}
			}
			if len(sa.Stream) > 0 {
				continue
			}
			if st.Status != "IN_QUEUE" && st.Status != "IN_PROGRESS" {
				break
			}
			sleep(ctx, interval)
			if ctx.Err() != nil {
				yield(nil, &JobError{ID: st.ID, Status: st.Status, Err: ctx.Err()})
				return
			}
		}
		finished = true
		var final jobStatus
		if err := c.do(ctx, http.MethodGet, base+"/status/"+id, nil, &final); err != nil {
			yield(nil, &JobError{ID: st.ID, Status: st.Status, Err: err})
			return
		}
		if final.Status != "COMPLETED" {
			yield(nil, &JobError{ID: st.ID, Status: final.Status, Message: errorText(final.Error)})
			return
		}
		var res resultBody
		if json.Unmarshal(final.Output, &res) == nil && res.Success != nil && !*res.Success {
			yield(nil, &RemoteError{Function: function, Message: res.Error, Traceback: res.Traceback})
		}
	}
}

// streamInProcess serves a stream request (Client.Stream's) with an
// in-process handler as a real connection would: the answer returns as
// soon as its header is written, and its body is read while the handler
// still writes it, so that values arrive as they are produced. Closing the
// body cancels the handler's request.
func (t inProcess) streamInProcess(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	r := req.Clone(ctx)
	if r.Body == nil {
		r.Body = http.NoBody
	}
	r.RemoteAddr = "in-process"
	r.RequestURI = r.URL.RequestURI()
	pr, pw := io.Pipe()
	w := &pipeWriter{header: make(http.Header), pw: pw, started: make(chan struct{})}
	go func() {
		defer func() {
			// A handler that aborts (http.ErrAbortHandler, as net/http
			// would recover) breaks the body, not the process.
			if p := recover(); p != nil {
				w.start(http.StatusInternalServerError)
				pw.CloseWithError(fmt.Errorf("in-process handler: %v", p))
				return
			}
			w.start(http.StatusOK)
			pw.Close()
		}()
		t.h.ServeHTTP(w, r)
	}()
	<-w.started
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode: w.status,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     w.sent,
		Body:       &cancelOnClose{ReadCloser: pr, cancel: cancel},
		// The length is not known until the handler is done.
		ContentLength: -1,
		Request:       req,
	}, nil
}

// pipeWriter is the http.ResponseWriter of streamInProcess: the header
// goes out once (started closes), the body through a pipe.
type pipeWriter struct {
	header  http.Header
	sent    http.Header
	status  int
	pw      *io.PipeWriter
	once    sync.Once
	started chan struct{}
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) start(status int) {
	w.once.Do(func() {
		w.status, w.sent = status, w.header.Clone()
		close(w.started)
	})
}

func (w *pipeWriter) WriteHeader(status int) { w.start(status) }

func (w *pipeWriter) Write(p []byte) (int, error) {
	w.start(http.StatusOK)
	return w.pw.Write(p)
}

// Flush makes http.ResponseController find a flusher: the pipe hands each
// write to the reader as it happens.
func (w *pipeWriter) Flush() { w.start(http.StatusOK) }

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	c.cancel()
	return c.ReadCloser.Close()
}
