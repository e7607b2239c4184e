// Command serverbench measures SPEC section 11's language-server and CLI
// budgets against the real binaries: it drives `flash-lsp serve` and gopls
// over stdio with one LSP client, on the generated 100-package ×
// 20-function workspace, in interleaved rounds, and prints the medians of
// the rounds beside each other. `make bench` runs it (scripts/bench.sh).
//
//	go run ./internal/serverbench -flash bin/flash-lsp -gopls ~/.cache/flash-lsp/tools/gopls
//
// Per server and round: the time from `initialized` to the first
// diagnostics of the opened leaf file; 20 edits that put an error into a
// leaf package (and 20 that take it out again), timed from didChange to
// the publish of that version showing the error; 10 such edits in the
// package every other package imports, which leave its API alone; VmHWM
// of the server after those 60 edits; then 10 error edits there that add
// an exported function, so that every importer is checked again. The error is one each server reports: a bad path= for
// flash-lsp, a self-assignment (the assign analyzer) for gopls, which
// cannot see annotation errors. gopls runs twice, with diagnosticsDelay
// 0s and with its default. Then `flash-lsp generate`, `flash-lsp check
// ./...` (with and without its cache) and `go vet ./...`, interleaved.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/flash-lsp/flash-lsp/internal/workspace"
)

func main() {
	flashBin := flag.String("flash", "bin/flash-lsp", "the flash-lsp `binary`")
	goplsBin := flag.String("gopls", filepath.Join(os.Getenv("HOME"), ".cache/flash-lsp/tools/gopls"), "the gopls `binary`")
	rounds := flag.Int("rounds", 3, "interleaved `rounds`")
	dir := flag.String("workspace", "", "the workspace `dir` (default: a new temporary one)")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("serverbench: ")

	repo, err := os.Getwd()
	if err != nil {
		log.Fatal(err)
	}
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "serverbench-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	if err := workspace.Generate(*dir, workspace.Options{Replace: repo}); err != nil {
		log.Fatal(err)
	}
	// SPEC 13: benchmarks run after `go build ./...` warmed the build cache.
	run(*dir, "go", "build", "./...")
	run(*dir, "go", "vet", "./...")
	flash, err := filepath.Abs(*flashBin)
	if err != nil {
		log.Fatal(err)
	}
	for _, bin := range []string{flash, *goplsBin} {
		if _, err := os.Stat(bin); err != nil {
			log.Fatalf("%v (make build installs flash-lsp, scripts/deps.d/gopls.sh gopls)", err)
		}
	}

	servers := []server{
		{name: "flash-lsp", cmd: []string{flash, "serve"}, flash: true},
		{name: "gopls (delay 0)", cmd: []string{*goplsBin}, settings: map[string]any{"diagnosticsDelay": "0s"}},
		{name: "gopls (default)", cmd: []string{*goplsBin}, settings: map[string]any{}},
	}
	results := make([][]sessionResult, len(servers))
	for r := range *rounds {
		for i, s := range servers {
			log.Printf("round %d/%d: %s", r+1, *rounds, s.name)
			res, err := s.session(*dir)
			if err != nil {
				log.Fatalf("%s: %v", s.name, err)
			}
			results[i] = append(results[i], res)
		}
	}

	var gen, checkCold, checkWarm, vet []time.Duration
	cache, err := os.MkdirTemp("", "serverbench-cache-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(cache)
	// As BenchmarkGenerateCommand: the first generate writes the typed
	// clients, whose export data the next go build caches; timed runs
	// regenerate an unchanged project.
	timed(*dir, nil, flash, "generate")
	run(*dir, "go", "build", "./...")
	timed(*dir, nil, flash, "generate")
	for range max(*rounds, 5) {
		gen = append(gen, timed(*dir, nil, flash, "generate"))
		checkCold = append(checkCold, timed(*dir, []string{"FLASH_LSP_CACHE=off"}, flash, "check", "./..."))
		checkWarm = append(checkWarm, timed(*dir, []string{"FLASH_LSP_CACHE=" + cache}, flash, "check", "./..."))
		vet = append(vet, timed(*dir, nil, "go", "vet", "./..."))
	}

	fmt.Printf("SPEC 11 workspace (100 packages x 20 functions), %d interleaved rounds, medians of the rounds; %d CPUs (shared)\n\n",
		*rounds, runtime.NumCPU())
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, s := range servers {
		fmt.Fprintf(tw, "%s\t", s.name)
	}
	fmt.Fprintln(tw)
	row := func(label string, f func(sessionResult) float64, unit string) {
		fmt.Fprintf(tw, "%s\t", label)
		for i := range servers {
			var vs []float64
			for _, r := range results[i] {
				vs = append(vs, f(r))
			}
			fmt.Fprintf(tw, "%.1f %s\t", median(vs), unit)
		}
		fmt.Fprintln(tw)
	}
	row("leaf edit p50", func(r sessionResult) float64 { return pct(r.leaf, 0.50) }, "ms")
	row("leaf edit p95", func(r sessionResult) float64 { return pct(r.leaf, 0.95) }, "ms")
	row("root edit p50", func(r sessionResult) float64 { return pct(r.root, 0.50) }, "ms")
	row("root edit p95", func(r sessionResult) float64 { return pct(r.root, 0.95) }, "ms")
	row("root API edit p50", func(r sessionResult) float64 { return pct(r.api, 0.50) }, "ms")
	row("root API edit p95", func(r sessionResult) float64 { return pct(r.api, 0.95) }, "ms")
	row("first diagnostics", func(r sessionResult) float64 { return ms(r.first) }, "ms")
	row("VmHWM after 60 edits", func(r sessionResult) float64 { return float64(r.hwmKB) / 1024 }, "MiB")
	tw.Flush()
	fmt.Println()
	fmt.Printf("flash-lsp generate           %7.0f ms (budget 500 ms)\n", medianDur(gen))
	fmt.Printf("flash-lsp check ./... (cold) %7.0f ms (FLASH_LSP_CACHE=off)\n", medianDur(checkCold))
	fmt.Printf("flash-lsp check ./... (warm) %7.0f ms (its findings cache)\n", medianDur(checkWarm))
	fmt.Printf("go vet ./...                 %7.0f ms (warm build cache)\n", medianDur(vet))
	fmt.Printf("check/vet ratio              %7.2f cold, %.2f warm (budget <= 1)\n",
		medianDur(checkCold)/medianDur(vet), medianDur(checkWarm)/medianDur(vet))
}

// A server is one configuration of a language server under test.
type server struct {
	name     string
	cmd      []string
	flash    bool // flash-lsp, which reports the edits' flash errors; gopls reports their self-assignment
	settings map[string]any
}

type sessionResult struct {
	first           time.Duration
	leaf, root, api []time.Duration // latencies of the edits that add the error
	hwmKB           int
}

// edit is one file the session edits between its clean text and a text
// with an error both servers report one of.
type edit struct {
	file         string
	clean, error string
	flashCode    string // the rule flash-lsp reports for the error
}

// gopls reports the error's self-assignment, with the assign analyzer.
const goplsFinding = "self-assignment"

func leafEdit(dir string) edit {
	file := filepath.Join(dir, "p050", "p050.go")
	clean := readFile(file)
	// path=/p050/... → path=p050/...: bad-path; x = x: assign.
	bad := strings.Replace(clean, "path=/", "path=", 1) + "\nfunc benchEdit() {\n\tvar x int\n\tx = x\n}\n"
	return edit{file, clean, bad, "bad-path"}
}

func rootEdit(dir string) edit {
	file := filepath.Join(dir, "res", "res.go")
	clean := readFile(file)
	// A path field does not exist here: make R0's config invalid instead
	// (resource-config), and add the same self-assignment.
	bad := strings.Replace(clean, "WorkersMin: 0", "WorkersMin: 9", 1) + "\nfunc benchEdit() {\n\tvar x int\n\tx = x\n}\n"
	return edit{file, clean, bad, "resource-config"}
}

// rootAPIEdit is rootEdit with an exported function: the package's API
// changes, so every importer must be checked again.
func rootAPIEdit(dir string) edit {
	e := rootEdit(dir)
	e.error = strings.Replace(e.error, "func benchEdit()", "func BenchEdit()", 1)
	return e
}

// session runs one server through the measurements.
func (s server) session(dir string) (sessionResult, error) {
	var res sessionResult
	cmd := exec.Command(s.cmd[0], s.cmd[1:]...)
	cmd.Dir = dir
	cmd.Stderr = io.Discard
	in, err := cmd.StdinPipe()
	if err != nil {
		return res, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	if err := cmd.Start(); err != nil {
		return res, err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	c := newClient(in, out, s.settings)
	go c.readLoop()

	leaf, root, api := leafEdit(dir), rootEdit(dir), rootAPIEdit(dir)
	var initOpts any
	if s.settings != nil {
		initOpts = s.settings
	}
	if err := c.call("initialize", map[string]any{
		"processId":             os.Getpid(),
		"rootUri":               uri(dir),
		"workspaceFolders":      []map[string]string{{"uri": uri(dir), "name": "bench"}},
		"initializationOptions": initOpts,
		"capabilities": map[string]any{
			"workspace":    map[string]any{"configuration": true, "didChangeWatchedFiles": map[string]any{"dynamicRegistration": true}},
			"textDocument": map[string]any{"publishDiagnostics": map[string]any{"versionSupport": true}},
		},
	}); err != nil {
		return res, fmt.Errorf("initialize: %w", err)
	}
	t0 := time.Now()
	c.notify("initialized", map[string]any{})
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{
		"uri": uri(leaf.file), "languageId": "go", "version": 1, "text": leaf.clean}})
	if _, err := c.waitPublish(uri(leaf.file), func(diagnostics) bool { return true }, 120*time.Second); err != nil {
		return res, fmt.Errorf("first diagnostics: %w", err)
	}
	res.first = time.Since(t0)
	c.notify("textDocument/didOpen", map[string]any{"textDocument": map[string]any{
		"uri": uri(root.file), "languageId": "go", "version": 1, "text": root.clean}})
	// Let the first analysis of everything finish before timing edits.
	time.Sleep(2 * time.Second)

	version := map[string]int{leaf.file: 1, root.file: 1}
	change := func(e edit, bad bool) (time.Duration, error) {
		version[e.file]++
		v := version[e.file]
		text, code := e.clean, goplsFinding
		if bad {
			text = e.error
		}
		if s.flash {
			code = e.flashCode
		}
		start := time.Now()
		c.notify("textDocument/didChange", map[string]any{
			"textDocument":   map[string]any{"uri": uri(e.file), "version": v},
			"contentChanges": []map[string]any{{"text": text}},
		})
		_, err := c.waitPublish(uri(e.file), func(d diagnostics) bool {
			return d.Version == v && d.has(code) == bad
		}, 60*time.Second)
		return time.Since(start), err
	}
	for range 20 {
		for _, bad := range []bool{true, false} {
			d, err := change(leaf, bad)
			if err != nil {
				return res, fmt.Errorf("leaf edit: %w", err)
			}
			if bad {
				res.leaf = append(res.leaf, d)
			}
		}
	}
	for range 10 {
		for _, bad := range []bool{true, false} {
			d, err := change(root, bad)
			if err != nil {
				return res, fmt.Errorf("root edit: %w", err)
			}
			if bad {
				res.root = append(res.root, d)
			}
		}
	}
	res.hwmKB = vmHWM(cmd.Process.Pid)
	for range 10 {
		for _, bad := range []bool{true, false} {
			d, err := change(api, bad)
			if err != nil {
				return res, fmt.Errorf("root API edit: %w", err)
			}
			if bad {
				res.api = append(res.api, d)
			}
		}
	}
	c.call("shutdown", nil)
	c.notify("exit", nil)
	return res, nil
}

// client is a minimal LSP client over a server's stdio.
type client struct {
	w        io.Writer
	r        *bufio.Reader
	settings map[string]any

	wmu     sync.Mutex
	mu      sync.Mutex
	next    int
	pending map[int]chan response
	pubs    map[string][]diagnostics // every publish, by URI
	changed chan struct{}
	closed  chan struct{}
}

type response struct {
	Result json.RawMessage
	Error  *struct {
		Code    int
		Message string
	}
}

type diagnostics struct {
	URI         string `json:"uri"`
	Version     int    `json:"version"`
	Diagnostics []struct {
		Code    any    `json:"code"`
		Message string `json:"message"`
	} `json:"diagnostics"`
}

// has reports whether a diagnostic's code or message contains s.
func (d diagnostics) has(s string) bool {
	for _, x := range d.Diagnostics {
		if code, _ := x.Code.(string); code == s || strings.Contains(x.Message, s) {
			return true
		}
	}
	return false
}

func newClient(w io.Writer, r io.Reader, settings map[string]any) *client {
	return &client{w: w, r: bufio.NewReaderSize(r, 1<<20), settings: settings, pending: map[int]chan response{},
		pubs: map[string][]diagnostics{}, changed: make(chan struct{}), closed: make(chan struct{})}
}

func (c *client) write(msg any) {
	data, err := json.Marshal(msg)
	if err != nil {
		log.Fatal(err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	fmt.Fprintf(c.w, "Content-Length: %d\r\n\r\n%s", len(data), data)
}

func (c *client) call(method string, params any) error {
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan response, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	c.write(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	select {
	case r := <-ch:
		if r.Error != nil {
			return fmt.Errorf("%s: %d %s", method, r.Error.Code, r.Error.Message)
		}
		return nil
	case <-c.closed:
		return errors.New("the server closed the connection")
	case <-time.After(120 * time.Second):
		return fmt.Errorf("%s: no answer", method)
	}
}

func (c *client) notify(method string, params any) {
	c.write(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

func (c *client) readLoop() {
	defer close(c.closed)
	for {
		length := -1
		for {
			line, err := c.r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length:"); ok {
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		if length < 0 {
			return
		}
		body := make([]byte, length)
		if _, err := io.ReadFull(c.r, body); err != nil {
			return
		}
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			response
		}
		if json.Unmarshal(body, &m) != nil {
			continue
		}
		switch {
		case m.Method == "textDocument/publishDiagnostics":
			var d diagnostics
			if json.Unmarshal(m.Params, &d) == nil {
				c.mu.Lock()
				c.pubs[d.URI] = append(c.pubs[d.URI], d)
				close(c.changed)
				c.changed = make(chan struct{})
				c.mu.Unlock()
			}
		case m.Method != "" && len(m.ID) > 0:
			c.answer(m.ID, m.Method, m.Params)
		case m.Method == "" && len(m.ID) > 0:
			id, _ := strconv.Atoi(string(m.ID))
			c.mu.Lock()
			ch := c.pending[id]
			delete(c.pending, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- m.response
			}
		}
	}
}

// answer replies to a request of the server: workspace/configuration
// gets the session's settings, everything else an empty result.
func (c *client) answer(id json.RawMessage, method string, params json.RawMessage) {
	var result any
	if method == "workspace/configuration" {
		var p struct{ Items []json.RawMessage }
		json.Unmarshal(params, &p)
		items := make([]any, len(p.Items))
		for i := range items {
			items[i] = c.settings
		}
		result = items
	}
	c.write(map[string]any{"jsonrpc": "2.0", "id": id, "result": result})
}

// waitPublish waits for a publish for uri satisfying ok (looking at every
// publish since the last call returned).
func (c *client) waitPublish(uri string, ok func(diagnostics) bool, timeout time.Duration) (diagnostics, error) {
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		pubs := c.pubs[uri]
		c.pubs[uri] = nil
		changed := c.changed
		c.mu.Unlock()
		for _, p := range pubs {
			if ok(p) {
				return p, nil
			}
		}
		select {
		case <-changed:
		case <-c.closed:
			return diagnostics{}, errors.New("the server closed the connection")
		case <-deadline:
			return diagnostics{}, fmt.Errorf("no matching diagnostics for %s within %v", uri, timeout)
		}
	}
}

func uri(path string) string { return "file://" + filepath.ToSlash(path) }

// vmHWM returns the peak resident set size of process pid in KiB.
func vmHWM(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return 0
}

func readFile(name string) string {
	data, err := os.ReadFile(name)
	if err != nil {
		log.Fatal(err)
	}
	return string(data)
}

func run(dir string, name string, args ...string) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		log.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// timed runs a command in dir and returns how long it took; it must
// succeed.
func timed(dir string, env []string, name string, args ...string) time.Duration {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return time.Since(start)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pct returns the q-quantile of ds in milliseconds.
func pct(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return ms(s[int(q*float64(len(s)-1)+0.5)])
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.SortFunc(s, cmp.Compare)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func medianDur(ds []time.Duration) float64 {
	vs := make([]float64, len(ds))
	for i, d := range ds {
		vs[i] = ms(d)
	}
	return median(vs)
}
