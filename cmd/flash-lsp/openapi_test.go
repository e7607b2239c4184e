package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestOpenAPITellsTheTruth: for every operation of the quickstart's OpenAPI
// documents, the example request built from the document is sent to the
// real handlers (flash-lsp run --all on loopback), and each answer must be
// one the operation documents, with a body that its schema accepts
// (kin-openapi, JSON Schema 2020-12). Each process also serves the document
// generate wrote, byte for byte, at /<dir>/openapi.json.
func TestOpenAPITellsTheTruth(t *testing.T) {
	mod := cgCopyModule(t, "quickstart")
	bin := cgBinary(t)
	if out, err := exec.Command(bin, "generate", "-C", mod).CombinedOutput(); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
	docFiles, err := filepath.Glob(filepath.Join(mod, ".flash", "openapi", "*.json"))
	if err != nil || len(docFiles) != 3 {
		t.Fatalf("generate wrote %v (%v), want the documents of the 3 load balancers", docFiles, err)
	}

	port := freePort(t)
	cmd := exec.Command(bin, "run", "--all", "-C", mod, "--port", fmt.Sprint(port))
	cmd.Dir = t.TempDir()
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "FLASH_") })
	stderr := newSyncBuffer()
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitPing(t, base, done, stderr)

	ok, operations := 0, 0
	for _, file := range docFiles {
		dir := strings.TrimSuffix(filepath.Base(file), ".json")
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		status, served, _ := get(t, base+"/"+dir+"/openapi.json")
		if status != 200 || !bytes.Equal(served, want) {
			t.Errorf("GET /%s/openapi.json: %d, the document generate wrote: %v", dir, status, bytes.Equal(served, want))
		}
		doc, err := openapi3.NewLoader().LoadFromData(want)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if err := doc.Validate(context.Background()); err != nil {
			t.Errorf("%s: kin-openapi rejects the document: %v", dir, err)
		}
		for path, item := range doc.Paths.Map() {
			for method, op := range item.Operations() {
				operations++
				if checkOperation(t, base+"/"+dir, path, method, op) {
					ok++
				}
			}
		}
	}
	if operations != 8 {
		t.Errorf("%d operations, want the quickstart's 8 routes", operations)
	}
	// The example requests carry placeholder values, so some answers are
	// documented errors (an unknown item, an unknown operation); the rest
	// must succeed, so that success schemas are checked too.
	if ok < 5 {
		t.Errorf("only %d operations answered 2xx to their example request", ok)
	}

	// The check can fail: a body the schema does not describe is rejected.
	doc, _ := openapi3.NewLoader().LoadFromData(mustRead(t, filepath.Join(mod, ".flash", "openapi", "test-api.json")))
	item := doc.Components.Schemas["Item"].Value
	if err := item.VisitJSON(map[string]any{"id": 1, "name": "x", "price": 1.0}, openapi3.EnableJSONSchema2020()); err == nil {
		t.Error("the Item schema accepts a numeric id")
	}
	if err := item.VisitJSON(map[string]any{"id": "1", "price": 1.0}, openapi3.EnableJSONSchema2020()); err == nil {
		t.Error("the Item schema accepts an item without its name")
	}

	// Killed without a chance to forward a signal, flash-lsp takes the
	// server it started with it: no server outlives its run.
	cmd.Process.Kill()
	select {
	case <-done: // its output closed: the server that shared it is gone too
	case <-time.After(10 * time.Second):
		t.Fatal("10 s after flash-lsp run --all was killed, its server still holds its output open")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(base + "/ping")
		if err != nil {
			break
		}
		resp.Body.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still answers 10 s after flash-lsp run --all was killed")
		}
	}
}

// checkOperation sends op's example request under base and validates the
// answer; it reports whether the answer was a success.
func checkOperation(t *testing.T, base, path, method string, op *openapi3.Operation) bool {
	t.Helper()
	name := method + " " + path
	query := url.Values{}
	for _, pr := range op.Parameters {
		p := pr.Value
		switch p.In {
		case "path":
			path = strings.ReplaceAll(path, "{"+p.Name+"}", url.PathEscape(textExample(p.Schema.Value)))
		case "query":
			s := p.Schema.Value
			if s.Type.Is("array") {
				query.Add(p.Name, textExample(s.Items.Value))
			} else {
				query.Add(p.Name, textExample(s))
			}
		}
	}
	u := base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if rb := op.RequestBody; rb != nil {
		mt := rb.Value.Content.Get("application/json")
		if mt == nil {
			t.Errorf("%s: request body is not JSON", name)
			return false
		}
		v := example(mt.Schema.Value, 0)
		if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s: the example body does not match its own schema: %v", name, err)
		}
		data, _ := json.Marshal(v)
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Logf("%s %s → %d %s", method, u, resp.StatusCode, data)

	rr := op.Responses.Status(resp.StatusCode)
	if rr == nil {
		t.Errorf("%s: answered %d, which the document does not list", name, resp.StatusCode)
		return false
	}
	mt := rr.Value.Content.Get("application/json")
	switch {
	case mt == nil && len(data) > 0:
		t.Errorf("%s: %d has a body the document does not describe: %s", name, resp.StatusCode, data)
	case mt != nil:
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q, want application/json", name, ct)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Errorf("%s: body is not JSON: %v", name, err)
		} else if err := mt.Schema.Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s: %d body %s does not match the documented schema: %v", name, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode < 300
}

// example is a value of schema s: every property set, one item per array.
func example(s *openapi3.Schema, depth int) any {
	for _, alt := range s.AnyOf {
		if !alt.Value.Type.Is("null") {
			return example(alt.Value, depth)
		}
	}
	var typ string
	if s.Type != nil {
		for _, x := range s.Type.Slice() {
			if x != "null" {
				typ = x
				break
			}
		}
	}
	switch typ {
	case "string":
		switch {
		case s.Format == "date-time":
			return "2026-01-02T03:04:05Z"
		case s.ContentEncoding == "base64":
			return "ZXhhbXBsZQ=="
		}
		return textExample(s)
	case "integer":
		return 1
	case "number":
		return 1.5
	case "boolean":
		return true
	case "array":
		if depth > 4 {
			return []any{}
		}
		return []any{example(s.Items.Value, depth+1)}
	case "object":
		obj := map[string]any{}
		if depth > 4 {
			return obj
		}
		for name, p := range s.Properties {
			obj[name] = example(p.Value, depth+1)
		}
		return obj
	}
	return "example"
}

// textExample is a path or query value of a scalar schema.
func textExample(s *openapi3.Schema) string {
	switch {
	case s.Type.Is("integer"), s.Type.Is("number"):
		return "1"
	case s.Type.Is("boolean"):
		return "true"
	case s.Pattern != "" && !regexp.MustCompile(s.Pattern).MatchString("example"):
		return "1"
	}
	return "example"
}

func get(t *testing.T, u string) (int, []byte, http.Header) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data, resp.Header
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
