package runtime

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The fault-injection harness of SPEC section 15: a fake RunPod job
// server that delays, drops connections mid-body, answers 500, 429, 408
// and 413, hands out batches, and counts every job it hands out and
// every result it receives; the real worker runs against it as a
// process (this test binary, FLASH_RUNTIME_TEST_CHILD=worker) and gets
// SIGTERM at random points, then another starts, until every job is
// handed out. Under every fault plan each job handed out must be
// reported exactly once.

// faultPlan is the probability of each fault, per request.
type faultPlan struct {
	name string
	// On job takes.
	takeDelay, takeStatus, takeDrop, takeArray float64
	// On result posts.
	postDelay, postStatus, postDrop, post413 float64
	// Of jobs: a function that ignores its context and outlives the
	// shutdown timeout; one that panics.
	stuck, boom float64
	// FLASH_SHUTDOWN_TIMEOUT of the workers; "" means 2.
	shutdown string
}

var faultPlans = []faultPlan{
	{name: "clean"},
	{name: "takes", takeDelay: 0.2, takeStatus: 0.2, takeDrop: 0.1, takeArray: 0.2},
	{name: "posts", postDelay: 0.2, postStatus: 0.25, postDrop: 0.1, post413: 0.02, boom: 0.02},
	{name: "everything", takeDelay: 0.1, takeStatus: 0.1, takeDrop: 0.05, takeArray: 0.2,
		postDelay: 0.1, postStatus: 0.1, postDrop: 0.05, post413: 0.01, stuck: 0.004, boom: 0.01, shutdown: "1"},
}

// jobServer is the fake RunPod job server.
type jobServer struct {
	t    *testing.T
	plan faultPlan
	srv  *httptest.Server

	mu       sync.Mutex
	rng      *rand.Rand
	queue    []string // ids not handed out yet
	inputs   map[string]string
	handed   map[string]int // id -> times handed out
	terminal map[string]int // id -> final answers to its posts (2xx or 413)
	posts    map[string]int // id -> result posts received
	faulted  map[string]int // id -> result posts that met an injected fault
	late     []string       // posts after a job's final answer
	strange  []string       // posts of jobs never handed out, bodies that are not results
	failed   int            // results with success false
	abandon  int            // results "worker shut down before ... returned"
	batches  int            // takes that handed out more than one job
	faults   map[string]int
	pings    int
	seen     map[string]bool // pods that have sent a request
}

// started reports whether worker pod has sent its first request.
func (f *jobServer) started(pod string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[pod]
}

func (f *jobServer) saw(r *http.Request) {
	f.mu.Lock()
	f.seen[r.PathValue("pod")] = true
	f.mu.Unlock()
}

func newJobServer(t *testing.T, plan faultPlan, jobs int, seed uint64) *jobServer {
	f := &jobServer{t: t, plan: plan, rng: rand.New(rand.NewPCG(seed, 11)),
		inputs: map[string]string{}, handed: map[string]int{}, terminal: map[string]int{},
		posts: map[string]int{}, faulted: map[string]int{}, faults: map[string]int{},
		seen: map[string]bool{}}
	for i := range jobs {
		id := fmt.Sprintf("job-%05d", i)
		in := fmt.Sprintf(`{"function_name": "Work", "args": [%d]}`, i)
		switch r := f.rng.Float64(); {
		case r < plan.stuck:
			in = `{"function_name": "Stuck"}`
		case r < plan.stuck+plan.boom:
			in = `{"function_name": "Boom"}`
		}
		f.queue = append(f.queue, id)
		f.inputs[id] = in
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /job-take/{pod}", func(w http.ResponseWriter, r *http.Request) { f.take(w, r, 1) })
	mux.HandleFunc("GET /job-take-batch/{pod}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("batch_size"))
		if err != nil || n < 1 {
			f.mu.Lock()
			f.strange = append(f.strange, "batch take without batch_size: "+r.URL.RawQuery)
			f.mu.Unlock()
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.take(w, r, n)
	})
	mux.HandleFunc("POST /job-done/{pod}/{job}", f.done)
	mux.HandleFunc("GET /ping/{pod}", func(w http.ResponseWriter, r *http.Request) {
		f.saw(r)
		f.mu.Lock()
		f.pings++
		f.mu.Unlock()
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *jobServer) roll(p float64) bool { return p > 0 && f.rng.Float64() < p }

// fault picks a fault for one request, under f.mu.
func (f *jobServer) fault(delay, status, drop float64, statuses []int) (d time.Duration, code int, dropIt bool) {
	if f.roll(delay) {
		d = time.Duration(f.rng.IntN(40)+1) * time.Millisecond
		f.faults["delay"]++
	}
	switch {
	case f.roll(status):
		code = statuses[f.rng.IntN(len(statuses))]
		f.faults[strconv.Itoa(code)]++
	case f.roll(drop):
		dropIt = true
		f.faults["drop"]++
	}
	return
}

func (f *jobServer) take(w http.ResponseWriter, r *http.Request, n int) {
	f.saw(r)
	f.mu.Lock()
	delay, code, drop := f.fault(f.plan.takeDelay, f.plan.takeStatus, f.plan.takeDrop, []int{500, 429, 408, 413})
	f.mu.Unlock()
	time.Sleep(delay)
	if code != 0 {
		w.WriteHeader(code)
		return
	}
	f.mu.Lock()
	array := n > 1
	if n == 1 && f.roll(f.plan.takeArray) {
		n, array = 2, true // a batch the worker did not ask for: it runs every job
		f.faults["unasked batch"]++
	}
	n = min(n, len(f.queue))
	ids := append([]string(nil), f.queue[:n]...)
	f.queue = f.queue[n:]
	f.mu.Unlock()
	if len(ids) == 0 {
		time.Sleep(2 * time.Millisecond) // a long poll that found nothing
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf(`{"id": %q, "input": %s, "webhook": null}`, id, f.inputs[id]))
	}
	body := strings.Join(parts, ", ")
	if array {
		body = "[" + body + "]"
	}
	putBack := func() {
		f.mu.Lock()
		f.queue = append(ids, f.queue...)
		f.mu.Unlock()
	}
	if drop {
		// Half the body under the full Content-Length, then the
		// connection goes: the worker gets no job, the jobs stay queued.
		conn, buf := hijack(w)
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:len(body)/2])
		buf.Flush()
		conn.Close()
		putBack()
		return
	}
	// Counted before the write: the worker may post a result before
	// this handler runs again.
	f.mu.Lock()
	for _, id := range ids {
		f.handed[id]++
	}
	if len(ids) > 1 {
		f.batches++
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, err := io.WriteString(w, body)
	if err == nil {
		err = http.NewResponseController(w).Flush()
	}
	if err != nil {
		// The worker cannot have the whole body: not handed out.
		f.mu.Lock()
		for _, id := range ids {
			f.handed[id]--
		}
		f.faults["write failed"]++
		f.mu.Unlock()
		putBack()
	}
}

func hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	return conn, buf
}

func (f *jobServer) done(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("job")
	f.mu.Lock()
	delay, code, drop := f.fault(f.plan.postDelay, f.plan.postStatus, f.plan.postDrop, []int{500, 502, 429, 408})
	final413 := code == 0 && !drop && f.roll(f.plan.post413)
	f.posts[id]++
	if code != 0 || drop {
		f.faulted[id]++
	}
	f.mu.Unlock()
	time.Sleep(delay)
	if drop {
		// Read part of the result, then drop the connection: not received.
		conn, buf := hijack(w)
		_, _ = buf.Read(make([]byte, 8))
		conn.Close()
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if delay > 0 && code == 0 {
			// The worker gave up on this attempt during the delay.
			f.mu.Lock()
			f.faulted[id]++
			f.mu.Unlock()
		}
		return
	}
	if code != 0 {
		if code == 429 {
			w.Header().Set("Retry-After", "0")
		}
		w.WriteHeader(code)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.handed[id] == 0:
		f.strange = append(f.strange, "a result for "+id+", never handed out")
	case f.terminal[id] > 0:
		f.late = append(f.late, id)
	}
	var res struct {
		Output *struct {
			Success *bool
			Error   string
		}
	}
	if json.Unmarshal(body, &res) != nil || res.Output == nil || res.Output.Success == nil {
		f.strange = append(f.strange, id+": "+string(body))
	} else if !*res.Output.Success {
		f.failed++
		if strings.HasPrefix(res.Output.Error, "worker shut down before Stuck returned") {
			f.abandon++
		}
	}
	f.terminal[id]++
	if final413 {
		f.faults["413 final"]++
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}
}

// harnessFunctions are the child worker's functions.
func harnessFunctions() []Function {
	return []Function{
		{Name: "example.com/app/jobs.Work", Params: []Param{{Name: "i", In: "arg"}},
			Call: func(ctx context.Context, in *Input) (any, error) {
				var i int
				if err := Int(in, "i", &i); err != nil {
					return nil, err
				}
				select {
				case <-time.After(time.Duration(i%5) * time.Millisecond):
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				return i * 2, nil
			}},
		{Name: "example.com/app/jobs.Stuck", Call: func(ctx context.Context, in *Input) (any, error) {
			time.Sleep(time.Minute) // ignores its context
			return nil, nil
		}},
		{Name: "example.com/app/jobs.Boom", Call: func(ctx context.Context, in *Input) (any, error) {
			panic("boom")
		}},
	}
}

// serveHarnessWorker is the child: ServeQueue's worker, with the pauses
// shortened so that a thousand jobs and their faults take seconds.
func serveHarnessWorker() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger, closeLog, err := newProcessLogger(os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	w, err := newWorker(App{Resource: Serverless{Name: "jobs"}, Functions: harnessFunctions()}, os.Getenv, logger)
	if err != nil {
		return err
	}
	w.backoff, w.errorDelay, w.retryDelay = 20*time.Millisecond, 5*time.Millisecond, 5*time.Millisecond
	return w.run(ctx)
}

func TestWorkerFaultHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("runs worker processes")
	}
	t.Parallel() // mostly waiting: beside the slow clients
	const jobs = 1000
	for i, plan := range faultPlans {
		t.Run(plan.name, func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			f := newJobServer(t, plan, jobs, seed)
			rng := rand.New(rand.NewPCG(seed, 7))
			runs, start := 0, time.Now()
			shutdown := cmp.Or(plan.shutdown, "2")
			timeout, _ := time.ParseDuration(shutdown + "s")
			for {
				f.mu.Lock()
				left := len(f.queue)
				f.mu.Unlock()
				if left == 0 {
					break
				}
				if time.Since(start) > 60*time.Second {
					t.Fatalf("%d jobs still queued after 60s", left)
				}
				runs++
				conc := 1 + rng.IntN(4)
				env := []string{"FLASH_RUNTIME_TEST_CHILD=worker", "FLASH_LOG_LEVEL=error",
					"RUNPOD_WEBHOOK_GET_JOB=" + f.srv.URL + "/job-take/$ID?gpu=A100",
					"RUNPOD_WEBHOOK_POST_OUTPUT=" + f.srv.URL + "/job-done/$RUNPOD_POD_ID/$ID?gpu=A100",
					"RUNPOD_WEBHOOK_PING=" + f.srv.URL + "/ping/$RUNPOD_POD_ID?gpu=A100",
					"RUNPOD_PING_INTERVAL=50", "RUNPOD_POD_ID=pod-" + strconv.Itoa(runs), "RUNPOD_AI_API_KEY=k",
					"FLASH_QUEUE_CONCURRENCY=" + strconv.Itoa(conc), "FLASH_SHUTDOWN_TIMEOUT=" + shutdown}
				cmd := exec.Command(os.Args[0], "-test.run=^$")
				cmd.Env = append(os.Environ(), env...)
				stderr := new(strings.Builder)
				cmd.Stderr = stderr
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				// SIGTERM at a random point of the worker's life (once it
				// runs: before, Go's default handler would kill it): a
				// take, a job, a post.
				pod := "pod-" + strconv.Itoa(runs)
				for !f.started(pod) {
					if cmd.ProcessState != nil || time.Since(start) > 60*time.Second {
						t.Fatalf("worker %d never sent a request: %s", runs, stderr)
					}
					time.Sleep(time.Millisecond)
				}
				time.Sleep(time.Duration(rng.IntN(400)) * time.Millisecond)
				sent := time.Now()
				if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				waitExit(t, cmd, 4*time.Second, stderr)
				if d := time.Since(sent); d > timeout+500*time.Millisecond+raceSlack {
					t.Errorf("worker %d exited %v after SIGTERM with FLASH_SHUTDOWN_TIMEOUT=%s", runs, d, shutdown)
				}
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			// A job none of whose result posts got through, every one of them
			// failed by an injected fault until the worker's shutdown deadline,
			// is still in flight for RunPod (it times the job out and retries
			// it); a job with no post at all, or a post that was answered and
			// not counted, is lost.
			handed, twice, lost, gaveUp, dup := 0, 0, []string{}, 0, 0
			for id, n := range f.handed {
				handed += n
				if n > 1 {
					twice++
				}
				switch f.terminal[id] {
				case 0:
					if p := f.posts[id]; p > 0 && f.faulted[id] == p {
						gaveUp++
						break
					}
					lost = append(lost, id)
				case 1:
				default:
					dup++
				}
			}
			sort.Strings(lost)
			reported := 0
			for _, n := range f.terminal {
				reported += n
			}
			var faults []string
			for k, v := range f.faults {
				faults = append(faults, fmt.Sprintf("%s=%d", k, v))
			}
			sort.Strings(faults)
			t.Logf("plan %-10s jobs %d: handed out %d (%d in batches of 2+), reported %d (failed %d, abandoned at shutdown %d), "+
				"in flight (every post faulted until the deadline) %d, lost %d, reported twice %d, late posts %d; %d worker processes, each SIGTERMed; %d heartbeats; faults: %s (seed %d, plan %d)",
				plan.name, jobs, handed, f.batches, reported, f.failed, f.abandon, gaveUp, len(lost), dup, len(f.late), runs, f.pings,
				strings.Join(faults, " "), seed, i)
			if handed < jobs || twice > 0 {
				t.Errorf("handed out %d jobs (%d twice), want each of %d once", handed, twice, jobs)
			}
			if gaveUp > jobs/100 {
				t.Errorf("%d jobs in flight at the end (every post faulted until the shutdown deadline), want at most %d: the post retries give up too early", gaveUp, jobs/100)
			}
			if len(lost) > 0 || dup > 0 || len(f.late) > 0 {
				t.Errorf("not reported: %v; reported twice: %d; posts after the final answer: %v", lost, dup, f.late)
			}
			if len(f.strange) > 0 {
				t.Errorf("unexpected requests: %q", f.strange)
			}
		})
	}
}
