package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// sseClient runs runtime/testdata/sse/sse.mjs, the eventsource npm
// package reading url (POSTing body when it is not empty) until want values
// or the server's error event, and returns what it saw. A missing node or
// package fails the test.
func sseClient(t *testing.T, url, body string, want int) (values []json.RawMessage, serverErr *string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH: %v (install Node 20 or later)", err)
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "sse"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "eventsource", "package.json")); err != nil {
		t.Fatalf("the eventsource package is not installed (%v): run scripts/deps.sh test", err)
	}
	args := []string{"sse.mjs", url}
	if body != "" {
		args = append(args, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WANT="+itoa(int64(want)), "NO_PROXY=127.0.0.1", "no_proxy=127.0.0.1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sse.mjs %s: %v\n%s%s", url, err, stdout.String(), stderr.String())
	}
	var out struct {
		Values []json.RawMessage `json:"values"`
		Error  *string           `json:"error"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("sse.mjs printed %q: %v", stdout.String(), err)
	}
	return out.Values, out.Error
}

// TestStreamSSEEventSource: a real SSE client (the eventsource package)
// reads a stream as events — it sends Accept: text/event-stream — and sees
// a mid-stream error as the server's "error" event.
func TestStreamSSEEventSource(t *testing.T) {
	base := newStreamLB(t, LoadBalancer{Name: "api"}, nil, nil)

	values, serverErr := sseClient(t, base+"/count?n=50&pause_ms=1", "", 50)
	if len(values) != 50 || serverErr != nil {
		t.Fatalf("%d values, error %v; want 50 values", len(values), serverErr)
	}
	for i, v := range values {
		var got tok
		if err := json.Unmarshal(v, &got); err != nil || got.I != i {
			t.Fatalf("value %d is %s", i, v)
		}
	}

	values, serverErr = sseClient(t, base+"/failing", `{"at": 3}`, 0)
	if len(values) != 3 || serverErr == nil || *serverErr != "out of tokens after 3" {
		t.Errorf("failing stream: values %s, error %v", values, serverErr)
	}
}
