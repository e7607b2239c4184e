package runtime

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The load tests of SPEC section 15: the real entry point
// (ServeLoadBalancer, in this test binary as a child process) under an
// external load generator, SIGTERMed mid-load, and under slow clients.

// TestSIGTERMUnderWrk: wrk -t2 -c64 against the handler, SIGTERM in the
// middle: no read errors and no timeouts (every request read is
// answered, no connection is closed under a request), and exit 0 within
// FLASH_SHUTDOWN_TIMEOUT. wrk does not check a non-blocking connect, so
// the connections it opens after the port closes, refused, show as
// write errors.
func TestSIGTERMUnderWrk(t *testing.T) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Fatal("wrk not found: scripts/deps.sh test installs it")
	}
	port := freePort(t)
	cmd, stderr := startChild(t, "lb", "PORT="+port, "FLASH_SHUTDOWN_TIMEOUT=5", "FLASH_LOG_LEVEL=warn")
	base := "http://127.0.0.1:" + port
	waitUp(t, base+"/ping")
	script := filepath.Join(t.TempDir(), "post.lua")
	if err := os.WriteFile(script, []byte(`wrk.method = "POST"
wrk.body = '{"x": 1, "y": 2}'
wrk.headers["Content-Type"] = "application/json"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	load := exec.Command(wrk, "-t2", "-c64", "-d4s", "-s", script, base+"/api/process")
	out := new(strings.Builder)
	load.Stdout = out
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 6*time.Second, stderr)
	exited := time.Since(sent)
	if err := load.Wait(); err != nil {
		t.Fatalf("wrk: %v\n%s", err, out)
	}
	t.Logf("exit 0 %v after SIGTERM; wrk -t2 -c64 -d4s:\n%s", exited.Round(time.Millisecond), out)
	m := regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`).FindStringSubmatch(out.String())
	if m != nil && (m[2] != "0" || m[4] != "0") {
		t.Errorf("read errors %s, timeouts %s: want none", m[2], m[4])
	}
	if !strings.Contains(out.String(), "requests in") {
		t.Errorf("no wrk summary:\n%s", out)
	}
	if exited > 5*time.Second+raceSlack {
		t.Errorf("exited %v after SIGTERM with FLASH_SHUTDOWN_TIMEOUT=5", exited)
	}
}

// loadCounts classifies what a raw HTTP/1.1 load client saw.
type loadCounts struct {
	ok, shuttingDown, other atomic.Int64 // answers: 200, 503, anything else
	keptAlive               atomic.Int64 // 503 answers without Connection: close
	refused                 atomic.Int64 // dials refused (the port is closed)
	broken                  atomic.Int64 // a connection closed or reset under a request
	firstBroken             atomic.Pointer[string]
}

// loadClient keeps one keep-alive connection to addr busy with POSTs
// until stop is closed, reconnecting after Connection: close; unlike
// net/http's client it never retries, so a request cut off is counted.
func loadClient(addr string, stop <-chan struct{}, c *loadCounts) {
	body := `{"x": 1, "y": 2}`
	req := "POST /api/process HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body
	var conn net.Conn
	var br *bufio.Reader
	for {
		select {
		case <-stop:
			if conn != nil {
				conn.Close()
			}
			return
		default:
		}
		if conn == nil {
			var err error
			conn, err = net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				c.refused.Add(1)
				time.Sleep(time.Millisecond)
				continue
			}
			br = bufio.NewReader(conn)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		resp, err := func() (*http.Response, error) {
			if _, err := conn.Write([]byte(req)); err != nil {
				return nil, err
			}
			return http.ReadResponse(br, nil)
		}()
		if err != nil {
			msg := err.Error()
			c.firstBroken.CompareAndSwap(nil, &msg)
			c.broken.Add(1)
			conn.Close()
			conn = nil
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case 200:
			c.ok.Add(1)
		case 503:
			c.shuttingDown.Add(1)
			if !resp.Close {
				c.keptAlive.Add(1)
			}
		default:
			c.other.Add(1)
		}
		if resp.Close {
			conn.Close()
			conn = nil
		}
	}
}

// TestSIGTERMUnderLoadStuckFunction: 64 keep-alive clients and one call
// of a function that ignores its context; SIGTERM: the clients see
// answers and then refused connections, never a request cut off; the
// stuck call gets 503; the process exits 0 within the timeout.
func TestSIGTERMUnderLoadStuckFunction(t *testing.T) {
	port := freePort(t)
	cmd, stderr := startChild(t, "lb", "PORT="+port, "FLASH_SHUTDOWN_TIMEOUT=3", "FLASH_DRAIN_GRACE=1", "FLASH_LOG_LEVEL=warn")
	addr := "127.0.0.1:" + port
	waitUp(t, "http://"+addr+"/ping")
	stuck := make(chan answer, 1)
	go func() { stuck <- send(t, "GET", "http://"+addr+"/hang", "") }()
	var c loadCounts
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() { defer wg.Done(); loadClient(addr, stop, &c) }()
	}
	time.Sleep(time.Second)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 5*time.Second, stderr)
	exited := time.Since(sent)
	time.Sleep(200 * time.Millisecond) // refused dials after the exit
	close(stop)
	wg.Wait()
	t.Logf("exit 0 %v after SIGTERM (FLASH_SHUTDOWN_TIMEOUT=3); answers: %d 200, %d 503, %d other; cut off: %d; refused dials after the port closed: %d",
		exited.Round(time.Millisecond), c.ok.Load(), c.shuttingDown.Load(), c.other.Load(), c.broken.Load(), c.refused.Load())
	if n := c.broken.Load(); n > 0 {
		t.Errorf("%d requests cut off (first: %s)", n, *c.firstBroken.Load())
	}
	if n := c.keptAlive.Load(); n > 0 {
		t.Errorf("%d answers of the drain kept their connection alive: want Connection: close on every one", n)
	}
	if c.ok.Load() == 0 || c.shuttingDown.Load() == 0 || c.refused.Load() == 0 || c.other.Load() > 0 {
		t.Errorf("want 200s, then 503s, then refused dials")
	}
	if exited > 3*time.Second+raceSlack {
		t.Errorf("exited %v after SIGTERM", exited)
	}
	select {
	case a := <-stuck:
		if a.status != 503 || !strings.Contains(a.body, "shutting down") {
			t.Errorf("the call that ignores its context: %d %s", a.status, a.body)
		}
	case <-time.After(time.Second):
		t.Error("the call that ignores its context got no answer")
	}
}

// TestSlowClients: 500 connections that each announce a 10 MiB body and
// send a byte a second keep the process under 150 MiB and /ping under
// 100 ms (SPEC section 15); a body that does not arrive within
// FLASH_READ_TIMEOUT is answered 408, and headers that do not arrive
// within 10 s close the connection.
func TestSlowClients(t *testing.T) {
	t.Parallel() // mostly waiting: beside the fault harness
	port := freePort(t)
	cmd, stderr := startChild(t, "lb", "PORT="+port, "FLASH_READ_TIMEOUT=4", "FLASH_LOG_LEVEL=warn")
	addr := "127.0.0.1:" + port
	waitUp(t, "http://"+addr+"/ping")
	const slow = 500
	conns := make([]net.Conn, 0, slow)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	head := fmt.Sprintf("POST /api/process HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", addr, 10<<20)
	for range slow {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := c.Write([]byte(head)); err != nil {
			t.Fatal(err)
		}
	}
	// A slowloris on the headers.
	hc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer hc.Close()
	if _, err := hc.Write([]byte("GET /ping HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var maxPing time.Duration
	var maxRSS int
	for s := 1; time.Since(start) < 3*time.Second; s++ {
		for _, c := range conns {
			if _, err := c.Write([]byte(" ")); err != nil {
				t.Fatalf("a slow body was cut off after %v: %v", time.Since(start), err)
			}
		}
		p := time.Now()
		if a := send(t, "GET", "http://"+addr+"/ping", ""); a.status != 200 {
			t.Errorf("/ping: %d", a.status)
		}
		maxPing = max(maxPing, time.Since(p))
		maxRSS = max(maxRSS, rssKiB(t, cmd.Process.Pid))
		time.Sleep(time.Second - time.Since(p))
	}
	t.Logf("%d slow bodies (10 MiB announced, a byte a second): peak RSS %.1f MiB, slowest /ping %v",
		slow, float64(maxRSS)/1024, maxPing.Round(time.Microsecond))
	if maxRSS > 150<<10 {
		t.Errorf("peak RSS %d KiB, over 150 MiB", maxRSS)
	}
	if maxPing > 100*time.Millisecond {
		t.Errorf("/ping took %v", maxPing)
	}
	// FLASH_READ_TIMEOUT=4: the bodies get 408 about 4 s after they began.
	_ = conns[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conns[0]), nil)
	if err != nil {
		t.Fatalf("no answer to a body past FLASH_READ_TIMEOUT: %v", err)
	}
	if resp.StatusCode != 408 || !resp.Close {
		t.Errorf("a body past FLASH_READ_TIMEOUT: %d (close %v)", resp.StatusCode, resp.Close)
	}
	t.Logf("408 after %v", time.Since(start).Round(time.Millisecond))
	// ReadHeaderTimeout 10 s: the connection of the slow headers closes.
	_ = hc.SetReadDeadline(time.Now().Add(12 * time.Second))
	if n, err := hc.Read(make([]byte, 512)); err == nil {
		t.Logf("slow headers: %d bytes of answer", n)
	} else if ne := (net.Error)(nil); errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("slow headers still open after %v", time.Since(start))
	}
	if d := time.Since(start); d < 9*time.Second {
		t.Errorf("slow headers cut off after %v, before the 10 s ReadHeaderTimeout", d)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd, 30*time.Second, stderr)
}

// rssKiB is the resident set of process pid.
func rssKiB(t *testing.T, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
