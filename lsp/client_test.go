package lsp

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/internal/workspace"
)

// client is the editor side of a session, speaking JSON-RPC over a real
// stream as VS Code or Neovim would.
type client struct {
	t    testing.TB
	conn io.ReadWriteCloser
	in   *bufio.Reader

	wmu sync.Mutex

	mu       sync.Mutex
	nextID   int
	pending  map[string]chan *wireMsg
	diags    []protocol.PublishDiagnosticsParams // every publish, in order
	messages []protocol.ShowMessageParams
	requests []string // methods of requests the server sent us
	changed  chan struct{}
	closed   chan struct{}
}

type wireMsg struct {
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method,omitempty"`
	Params json.RawMessage `json:"params,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *rpcError       `json:"error,omitempty"`
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *rpcError) Error() string { return fmt.Sprintf("%d: %s", e.Code, e.Message) }

// session starts a server on one end of a pipe and a client on the other.
// The returned channel yields the server's exit code.
func session(t testing.TB, setup func(*Server)) (*client, *Server, <-chan int) {
	t.Helper()
	a, b := net.Pipe()
	srv := New(Options{Log: testLog{t}})
	if setup != nil {
		setup(srv)
	}
	code := make(chan int, 1)
	go func() { code <- srv.Run(context.Background(), a) }()
	c := newClient(t, b)
	t.Cleanup(func() { b.Close() })
	return c, srv, code
}

// newClient starts the client side of a session on conn.
func newClient(t testing.TB, conn io.ReadWriteCloser) *client {
	c := &client{
		t: t, conn: conn, in: bufio.NewReader(conn),
		pending: make(map[string]chan *wireMsg),
		changed: make(chan struct{}),
		closed:  make(chan struct{}),
	}
	go c.readLoop()
	return c
}

type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	if os.Getenv("FLASH_LSP_TEST_LOG") != "" {
		l.t.Logf("%s", strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func (c *client) readLoop() {
	defer close(c.closed)
	for {
		length := -1
		for {
			line, err := c.in.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
				length, _ = strconv.Atoi(v)
			}
		}
		data := make([]byte, length)
		if _, err := io.ReadFull(c.in, data); err != nil {
			return
		}
		var m wireMsg
		if err := json.Unmarshal(data, &m); err != nil {
			c.t.Errorf("server sent invalid JSON: %s", data)
			return
		}
		c.handle(&m, data)
	}
}

func (c *client) handle(m *wireMsg, raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		close(c.changed)
		c.changed = make(chan struct{})
	}()
	switch {
	case m.Method != "" && len(m.ID) > 0: // a request from the server
		c.requests = append(c.requests, m.Method)
		go c.write(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": nil})
	case m.Method == protocol.MethodTextDocumentPublishDiagnostics:
		var p protocol.PublishDiagnosticsParams
		if err := json.Unmarshal(m.Params, &p); err != nil {
			c.t.Errorf("bad publishDiagnostics: %v", err)
		}
		if !strings.Contains(string(m.Params), `"diagnostics":[`) {
			c.t.Errorf("publishDiagnostics without a diagnostics array: %s", m.Params)
		}
		c.diags = append(c.diags, p)
	case m.Method == protocol.MethodWindowShowMessage:
		var p protocol.ShowMessageParams
		json.Unmarshal(m.Params, &p)
		c.messages = append(c.messages, p)
	case m.Method != "":
	default:
		key := string(m.ID)
		if ch, ok := c.pending[key]; ok {
			ch <- m
			delete(c.pending, key)
		} else {
			// Errors for messages that never had an id ("id": null).
			ch := make(chan *wireMsg, 1)
			ch <- m
			c.pending["orphan:"+key] = ch
		}
	}
}

func (c *client) write(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		c.t.Errorf("marshal: %v", err)
		return
	}
	c.writeRaw(data)
}

func (c *client) writeRaw(data []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	fmt.Fprintf(c.conn, "Content-Length: %d\r\n\r\n%s", len(data), data)
}

// send sends a request and returns its id without waiting.
func (c *client) send(method string, params any) (id string, reply <-chan *wireMsg) {
	c.mu.Lock()
	c.nextID++
	id = strconv.Itoa(c.nextID)
	ch := make(chan *wireMsg, 1)
	c.pending[id] = ch
	c.mu.Unlock()
	c.write(map[string]any{"jsonrpc": "2.0", "id": c.nextID, "method": method, "params": params})
	return id, ch
}

// call sends a request and waits for its response.
func (c *client) call(method string, params any, result any) *rpcError {
	c.t.Helper()
	_, ch := c.send(method, params)
	select {
	case m := <-ch:
		if m.Error != nil {
			return m.Error
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				c.t.Fatalf("%s: decoding result %s: %v", method, m.Result, err)
			}
		}
		return nil
	case <-time.After(60 * time.Second):
		c.t.Fatalf("%s: no response", method)
		return nil
	}
}

func (c *client) notify(method string, params any) {
	c.write(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
}

// orphan waits for a response with the given raw id ("null") that matches
// no request of ours.
func (c *client) orphan(rawID string, timeout time.Duration) *wireMsg {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		ch, ok := c.pending["orphan:"+rawID]
		if ok {
			delete(c.pending, "orphan:"+rawID)
		}
		changed := c.changed
		c.mu.Unlock()
		if ok {
			return <-ch
		}
		select {
		case <-changed:
		case <-deadline:
			c.t.Fatalf("no response with id %s", rawID)
			return nil
		}
	}
}

// initialize runs the handshake with a workspace folder.
func (c *client) initialize(root string) {
	c.t.Helper()
	params := map[string]any{
		"processId": os.Getpid(),
		"rootUri":   pathToURI(root),
		"workspaceFolders": []map[string]string{
			{"uri": string(pathToURI(root)), "name": filepath.Base(root)},
		},
		"capabilities": map[string]any{
			"workspace": map[string]any{
				"didChangeWatchedFiles": map[string]any{"dynamicRegistration": true},
			},
		},
	}
	var res protocol.InitializeResult
	if err := c.call(protocol.MethodInitialize, params, &res); err != nil {
		c.t.Fatalf("initialize: %v", err)
	}
	c.notify(protocol.MethodInitialized, map[string]any{})
}

func (c *client) open(filename string, version int32) {
	data, err := os.ReadFile(filename)
	if err != nil {
		c.t.Fatal(err)
	}
	c.openText(filename, string(data), version)
}

func (c *client) openText(filename, text string, version int32) {
	c.notify(protocol.MethodTextDocumentDidOpen, map[string]any{
		"textDocument": map[string]any{"uri": pathToURI(filename), "languageId": "go", "version": version, "text": text},
	})
}

func (c *client) change(filename, text string, version int32) {
	c.notify(protocol.MethodTextDocumentDidChange, map[string]any{
		"textDocument":   map[string]any{"uri": pathToURI(filename), "version": version},
		"contentChanges": []map[string]any{{"text": text}},
	})
}

// waitDiags waits until the newest publish for filename satisfies ok, and
// returns it.
func (c *client) waitDiags(filename string, timeout time.Duration, ok func(protocol.PublishDiagnosticsParams) bool) protocol.PublishDiagnosticsParams {
	c.t.Helper()
	uri := pathToURI(filename)
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		var last *protocol.PublishDiagnosticsParams
		for i := len(c.diags) - 1; i >= 0; i-- {
			if c.diags[i].URI == uri {
				last = &c.diags[i]
				break
			}
		}
		changed := c.changed
		c.mu.Unlock()
		if last != nil && ok(*last) {
			return *last
		}
		select {
		case <-changed:
		case <-deadline:
			if last == nil {
				c.t.Fatalf("no diagnostics published for %s", filepath.Base(filename))
			}
			c.t.Fatalf("diagnostics for %s never matched; last: %s", filepath.Base(filename), describeDiags(last.Diagnostics))
			return protocol.PublishDiagnosticsParams{}
		}
	}
}

// publishes returns every publish for filename so far.
func (c *client) publishes(filename string) []protocol.PublishDiagnosticsParams {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []protocol.PublishDiagnosticsParams
	for _, p := range c.diags {
		if p.URI == pathToURI(filename) {
			out = append(out, p)
		}
	}
	return out
}

func (c *client) waitMessage(timeout time.Duration, ok func(protocol.ShowMessageParams) bool) protocol.ShowMessageParams {
	c.t.Helper()
	deadline := time.After(timeout)
	for {
		c.mu.Lock()
		for _, m := range c.messages {
			if ok(m) {
				c.mu.Unlock()
				return m
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-deadline:
			c.t.Fatalf("no matching window/showMessage; got %+v", c.messages)
			return protocol.ShowMessageParams{}
		}
	}
}

func describeDiags(ds []protocol.Diagnostic) string {
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%d:%d-%d:%d [%v] %s", d.Range.Start.Line, d.Range.Start.Character,
			d.Range.End.Line, d.Range.End.Character, d.Code, d.Message))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// codes returns the diagnostics' codes.
func hasCode(ds []protocol.Diagnostic, code string) bool {
	for _, d := range ds {
		if fmt.Sprint(d.Code) == code {
			return true
		}
	}
	return false
}

// repoRoot is the flash-lsp module root, for replace directives.
func repoRoot(t testing.TB) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), ".."))
}

// writeModule writes a module example.com/app holding files.
func writeModule(t testing.TB, files map[string]string) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	writeModuleAt(t, dir, "example.com/app", files)
	return dir
}

func writeModuleAt(t testing.TB, dir, path string, files map[string]string) {
	t.Helper()
	if err := workspace.WriteModule(dir, path, repoRoot(t), files); err != nil {
		t.Fatal(err)
	}
}
