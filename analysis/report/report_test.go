package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/finding"
	"github.com/flash-lsp/flash-lsp/analysis/rules"
)

// TestWriters checks each format's positions: offsets become 1-based lines
// and byte columns, end_col is exclusive, and paths are relative to Dir.
func TestWriters(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "api", "api.go")
	src := "package api\n\n// x\n//flash:remote API method=get path=/x\n"
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	start := strings.Index(src, "get")
	fs := []finding.Finding{{
		Rule: rules.BadMethod, Severity: rules.Error, Message: `bad method "get"`,
		File: file, Start: start, End: start + 3,
		Related: []finding.Related{{File: file, Start: 0, End: 7, Message: "here"}},
	}, {
		Rule: rules.AmbiguousFunction, Severity: rules.Warning, Message: "ambiguous, 100%",
		File: file, Start: 13, End: 13,
	}}
	write := func(format string) string {
		var b bytes.Buffer
		if err := Write(&b, format, fs, Options{Dir: dir, Version: "v1.2.3"}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if got, want := write("text"), "api/api.go:4:27: bad method \"get\" [bad-method]\napi/api.go:3:1: ambiguous, 100% [ambiguous-function]\n"; got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
	var js []jsonFinding
	if err := json.Unmarshal([]byte(write("json")), &js); err != nil {
		t.Fatal(err)
	}
	if len(js) != 2 || js[0].Line != 4 || js[0].Col != 27 || js[0].EndLine != 4 || js[0].EndCol != 30 ||
		js[0].Related[0].Line != 1 || js[0].Related[0].Col != 1 || js[1].Related == nil {
		t.Errorf("json: %+v", js)
	}
	if got := write("github"); !strings.Contains(got, "::error file=api/api.go,line=4,col=27::bad method") ||
		!strings.Contains(got, "::warning file=api/api.go,line=3,col=1::ambiguous, 100%25 [ambiguous-function]") {
		t.Errorf("github:\n%s", got)
	}
	var log sarifLog
	if err := json.Unmarshal([]byte(write("sarif")), &log); err != nil {
		t.Fatal(err)
	}
	r := log.Runs[0].Results[0]
	if log.Runs[0].Tool.Driver.Version != "v1.2.3" || r.RuleID != rules.BadMethod ||
		r.Locations[0].PhysicalLocation.Region != (sarifRegion{StartLine: 4, StartColumn: 27, EndLine: 4, EndColumn: 30}) {
		t.Errorf("sarif: %+v", log)
	}
	var empty bytes.Buffer
	if err := Write(&empty, "json", nil, Options{}); err != nil || strings.TrimSpace(empty.String()) != "[]" {
		t.Errorf("json of no findings = %q, %v", empty.String(), err)
	}
	if err := Write(&empty, "xml", nil, Options{}); err == nil || Known("xml") {
		t.Error("unknown format accepted")
	}
}
