package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzResultEncoding: whatever a function returns or fails with, the
// worker's {"output": RESULT} is JSON that decodes back to the same
// result.
func FuzzResultEncoding(f *testing.F) {
	f.Add(true, []byte(`{"sum": 8}`), "", "")
	f.Add(true, []byte(`null`), "", "")
	f.Add(false, []byte(``), "plain failure", "*errors.errorString: plain failure\n")
	f.Add(false, []byte(``), "panic: \x00\u2028</script>", "goroutine 1 [running]:\n\tmain.go:1")
	f.Add(true, []byte(`"\ud800"`), "", "")
	f.Fuzz(func(t *testing.T, success bool, raw []byte, msg, tb string) {
		r := result{Success: success, Error: msg, Traceback: tb}
		if success {
			if !json.Valid(raw) {
				raw, _ = json.Marshal(string(raw))
			}
			r = result{Success: true, Result: raw}
		}
		body, err := marshalJSON(struct {
			Output result `json:"output"`
		}{r})
		if err != nil {
			t.Fatalf("encoding %+v: %v", r, err)
		}
		var got struct{ Output resultBody }
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s is not JSON: %v", body, err)
		}
		o := got.Output
		if o.Success == nil || *o.Success != success {
			t.Fatalf("%s: success %v", body, o.Success)
		}
		if success {
			var want, have bytes.Buffer
			_ = json.Compact(&want, raw)
			_ = json.Compact(&have, o.Result)
			if want.String() != have.String() {
				t.Fatalf("result %s came back as %s", want.String(), have.String())
			}
			return
		}
		if utf8.ValidString(msg) && o.Error != msg || utf8.ValidString(tb) && o.Traceback != tb {
			t.Fatalf("error %q / traceback %q came back as %q / %q", msg, tb, o.Error, o.Traceback)
		}
	})
}

// FuzzJobEnvelope: any job-take body is zero or more jobs, each with an
// id, and running any job's input yields a RESULT, never a panic or a
// worker error.
func FuzzJobEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"id": "j1", "input": {"function_name": "ProcessData", "args": [5, 3]}}`,
		`[{"id": "a", "input": {"function_name": "GetItem", "kwargs": {"id": "x"}}}, {"id": "b", "input": null}]`,
		`[{"id": ""}, {"input": {}}, 3, "x", {"id": "c", "input": [1]}]`,
		`{"id": "p", "input": {"function_name": "Panic"}}`,
		`{"id": "f", "input": {"function_name": "Fail", "args": [0]}, "webhook": null}`,
		``, `null`, `[]`, `[`, `{"id": 1}`, "\x00",
	} {
		f.Add([]byte(s))
	}
	w := &worker{reg: newRegistry(queueFunctions(nil)), logger: discardLogger(), podID: "pod"}
	f.Fuzz(func(t *testing.T, body []byte) {
		jobs, _ := parseJobs(body)
		for _, j := range jobs {
			if j.ID == "" {
				t.Fatalf("a job without an id from %q", body)
			}
			out, err := w.output(context.Background(), j)
			if err != nil {
				t.Fatalf("job %q: worker error %v", body, err)
			}
			var got struct{ Output resultBody }
			if json.Unmarshal(out, &got) != nil || got.Output.Success == nil {
				t.Fatalf("job %q: output %s is not a RESULT", body, out)
			}
			if !*got.Output.Success && got.Output.Traceback != "" {
				t.Fatalf("a deployed resource's job returned a traceback: %s", out)
			}
		}
	})
}
