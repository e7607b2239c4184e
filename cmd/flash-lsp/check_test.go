package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flash-lsp/flash-lsp/analysis/rules"
	"github.com/flash-lsp/flash-lsp/internal/workspace"
)

// The tests in this file run the real flash-lsp binary: `check` on the
// example projects, compared with golden files (go test -update rewrites
// them), and `go vet -vettool`.

var ckUpdate = flag.Bool("update", false, "rewrite the golden files of the check tests")

var (
	ckBinOnce sync.Once
	ckBinPath string
	ckBinErr  error
)

// ckBinary builds flash-lsp once for the check tests.
func ckBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	ckBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flash-lsp-check-test-")
		if err != nil {
			ckBinErr = err
			return
		}
		ckBinPath = filepath.Join(dir, "flash-lsp")
		if out, err := exec.Command("go", "build", "-o", ckBinPath, ".").CombinedOutput(); err != nil {
			ckBinErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if ckBinErr != nil {
		t.Fatal(ckBinErr)
	}
	return ckBinPath
}

func ckRepo(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func ckProject(t testing.TB, name string) string {
	return filepath.Join(ckRepo(t), "testdata", "projects", name)
}

type ckResult struct {
	code           int
	stdout, stderr string
}

// ckRun runs the binary in dir with the findings cache off unless env
// says otherwise.
func ckRun(t testing.TB, dir string, env []string, name string, args ...string) ckResult {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "FLASH_LSP_CACHE=off"), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return ckResult{code, stdout.String(), stderr.String()}
}

func ckCheck(t testing.TB, dir string, args ...string) ckResult {
	t.Helper()
	return ckRun(t, dir, nil, ckBinary(t), append([]string{"check"}, args...)...)
}

// ckCopyProject copies an example project into a temporary module that
// uses this repository, for tests that change files.
func ckCopyProject(t *testing.T, name string) string {
	t.Helper()
	src := ckProject(t, name)
	files := make(map[string]string)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "go.mod" || rel == "go.sum" {
			return nil
		}
		data, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), name)
	if err := workspace.WriteModule(dir, "example.com/"+name, ckRepo(t), files); err != nil {
		t.Fatal(err)
	}
	return dir
}

func ckGolden(t *testing.T, name, got string) {
	t.Helper()
	file := filepath.Join("testdata", "check", name)
	if *ckUpdate {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", file, got, want)
	}
}

var ckSummary = regexp.MustCompile(`^checked \d+ functions? in \d+ packages?: (no problems|\d+ errors?, \d+ warnings?)\n$`)

func TestCheckGolden(t *testing.T) {
	for _, tt := range []struct {
		project string
		code    int
	}{
		{"quickstart", 0},
		{"broken", 1},
	} {
		t.Run(tt.project, func(t *testing.T) {
			// Run from elsewhere with -C: paths are relative to -C.
			r := ckCheck(t, t.TempDir(), "-C", ckProject(t, tt.project))
			if r.code != tt.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			if !ckSummary.MatchString(r.stderr) {
				t.Errorf("stderr is not one summary line: %q", r.stderr)
			}
			ckGolden(t, tt.project+".golden", r.stdout)
			j := ckCheck(t, ckProject(t, tt.project), "--format", "json")
			ckGolden(t, tt.project+".json.golden", j.stdout)
		})
	}
}

func TestCheckTextFormat(t *testing.T) {
	r := ckCheck(t, ckProject(t, "broken"))
	line := regexp.MustCompile(`^([\w/]+\.go):(\d+):(\d+): (.+) \[([a-z-]+)\]$`)
	seen := make(map[string]bool)
	for l := range strings.Lines(strings.TrimSuffix(r.stdout, "\n")) {
		m := line.FindStringSubmatch(strings.TrimSuffix(l, "\n"))
		if m == nil {
			t.Errorf("malformed line %q", l)
			continue
		}
		if filepath.IsAbs(m[1]) || !rules.Known(m[5]) {
			t.Errorf("line %q: absolute path or unknown rule", l)
		}
		seen[m[5]] = true
	}
	for _, rule := range rules.All {
		if !seen[rule.ID] && rule.ID != rules.ClientCycle {
			t.Errorf("no %s finding in the broken project", rule.ID)
		}
	}
}

type ckJSON struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	EndLine  int    `json:"end_line"`
	EndCol   int    `json:"end_col"`
	Severity string `json:"severity"`
	Rule     string `json:"rule"`
	Message  string `json:"message"`
	Related  []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Col     int    `json:"col"`
		Message string `json:"message"`
	} `json:"related"`
}

func TestCheckJSON(t *testing.T) {
	clean := ckCheck(t, ckProject(t, "quickstart"), "--format=json")
	if strings.TrimSpace(clean.stdout) != "[]" || clean.code != 0 {
		t.Errorf("clean project: %q, exit %d", clean.stdout, clean.code)
	}
	r := ckCheck(t, ckProject(t, "broken"), "--format", "json")
	var fs []ckJSON
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	var raw []map[string]any
	json.Unmarshal([]byte(r.stdout), &raw)
	for _, m := range raw {
		for _, key := range []string{"file", "line", "col", "end_line", "end_col", "severity", "rule", "message", "related"} {
			if _, ok := m[key]; !ok {
				t.Errorf("finding without %q: %v", key, m)
			}
		}
	}
	var conflicts int
	for _, f := range fs {
		if f.Severity != rules.SeverityOf(f.Rule).String() {
			t.Errorf("%s: severity %s", f.Rule, f.Severity)
		}
		if f.EndLine < f.Line || f.EndLine == f.Line && f.EndCol < f.Col {
			t.Errorf("%s at %d:%d ends before it starts (%d:%d)", f.Rule, f.Line, f.Col, f.EndLine, f.EndCol)
		}
		switch f.Rule {
		case rules.BadMethod:
			if f.File == "api/api.go" && f.EndCol-f.Col != len("get") {
				t.Errorf("bad-method spans %d..%d, want exactly the value get (end exclusive)", f.Col, f.EndCol)
			}
		case rules.RouteConflict:
			conflicts++
			other := map[string]string{"left/left.go": "right/right.go", "right/right.go": "left/left.go"}[f.File]
			if len(f.Related) != 1 || f.Related[0].File != other || f.Related[0].Line == 0 || f.Related[0].Message == "" {
				t.Errorf("route-conflict in %s: related %+v, want %s", f.File, f.Related, other)
			}
		}
	}
	if conflicts != 2 {
		t.Errorf("%d route-conflict findings, want one at each function", conflicts)
	}
}

func TestCheckGitHubAndSARIF(t *testing.T) {
	dir := ckProject(t, "broken")
	text := ckCheck(t, dir)
	n := strings.Count(text.stdout, "\n")

	gh := ckCheck(t, dir, "--format", "github")
	annotation := regexp.MustCompile(`^::(error|warning) file=([^,]+),line=(\d+),col=(\d+)::(.+) \[([a-z-]+)\]$`)
	lines := strings.Split(strings.TrimSuffix(gh.stdout, "\n"), "\n")
	if len(lines) != n || gh.code != 1 {
		t.Errorf("github: %d lines (text has %d), exit %d", len(lines), n, gh.code)
	}
	for _, l := range lines {
		m := annotation.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("malformed annotation %q", l)
			continue
		}
		if want := rules.SeverityOf(m[6]).String(); m[1] != want {
			t.Errorf("%q: level %s, want %s", l, m[1], want)
		}
	}

	sr := ckCheck(t, dir, "--format", "sarif")
	var log struct {
		Version string `json:"version"`
		Schema  string `json:"$schema"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID  string `json:"ruleId"`
				Level   string `json:"level"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine, StartColumn, EndLine, EndColumn int
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(sr.stdout), &log); err != nil {
		t.Fatalf("sarif: %v", err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif") || len(log.Runs) != 1 {
		t.Fatalf("sarif header: version %q, schema %q, %d runs", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	if run.Tool.Driver.Name != "flash-lsp" {
		t.Errorf("driver %q", run.Tool.Driver.Name)
	}
	var ids []string
	for _, r := range run.Tool.Driver.Rules {
		ids = append(ids, r.ID)
	}
	for _, r := range rules.All {
		if !slices.Contains(ids, r.ID) {
			t.Errorf("sarif rules lack %s", r.ID)
		}
	}
	if len(run.Results) != n {
		t.Errorf("%d sarif results, text has %d", len(run.Results), n)
	}
	for _, res := range run.Results {
		if res.Level != rules.SeverityOf(res.RuleID).String() || res.Message.Text == "" || len(res.Locations) != 1 {
			t.Errorf("result %+v", res)
			continue
		}
		loc := res.Locations[0].PhysicalLocation
		if filepath.IsAbs(loc.ArtifactLocation.URI) || loc.Region.StartLine < 1 || loc.Region.StartColumn < 1 || loc.Region.EndLine < loc.Region.StartLine {
			t.Errorf("location %+v", loc)
		}
	}
}

func TestCheckExitCodes(t *testing.T) {
	warnOnly := t.TempDir()
	err := workspace.WriteModule(warnOnly, "example.com/warn", ckRepo(t), map[string]string{
		"res/res.go": "package res\n\nimport \"github.com/flash-lsp/flash-lsp/runtime\"\n\nvar Q = runtime.LiveServerless{Name: \"q\"}\n",
		"a/a.go":     "package a\n\nimport _ \"example.com/warn/res\"\n\n//flash:remote res.Q\nfunc Ping() string { return \"a\" }\n",
		"b/b.go":     "package b\n\nimport _ \"example.com/warn/res\"\n\n//flash:remote res.Q\nfunc Ping() string { return \"b\" }\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		dir    string
		args   []string
		code   int
		stderr string
	}{
		{"clean", ckProject(t, "quickstart"), nil, 0, "no problems"},
		{"errors", ckProject(t, "broken"), nil, 1, "errors"},
		{"warnings", warnOnly, nil, 0, "0 errors, 2 warnings"},
		{"warnings strict", warnOnly, []string{"--strict"}, 1, "2 warnings"},
		{"strict after a package", warnOnly, []string{"./a", "--strict"}, 1, "1 warning"},
		{"unknown flag", warnOnly, []string{"--frobnicate"}, 2, "flag provided but not defined"},
		{"unknown format", warnOnly, []string{"--format", "xml"}, 2, `unknown format "xml"`},
		{"no module", t.TempDir(), nil, 2, "no go.mod"},
		{"no such directory", warnOnly, []string{"-C", "missing"}, 2, "no such file or directory"},
		{"no such package", warnOnly, []string{"./nope"}, 2, "flash-lsp check:"},
		{"help", warnOnly, []string{"-h"}, 0, "usage: flash-lsp check"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := ckCheck(t, tt.dir, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tt.code, tt.stderr)
			}
			if tt.code == 2 && r.stdout != "" {
				t.Errorf("stdout on a usage or load error: %q", r.stdout)
			}
		})
	}
}

func TestCheckPackages(t *testing.T) {
	dir := ckProject(t, "broken")
	// Flags may follow the packages.
	r := ckCheck(t, t.TempDir(), "./left", "-C", dir, "--format", "json")
	var fs []ckJSON
	if err := json.Unmarshal([]byte(r.stdout), &fs); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	var got []string
	for _, f := range fs {
		got = append(got, f.File+" "+f.Rule)
		// The whole-module rules saw package right.
		if f.Rule == rules.RouteConflict && (len(f.Related) != 1 || f.Related[0].File != "right/right.go") {
			t.Errorf("route-conflict related %+v", f.Related)
		}
	}
	if want := []string{"left/left.go route-conflict", "left/left.go ambiguous-function"}; !slices.Equal(got, want) {
		t.Errorf("check ./left = %v, want %v", got, want)
	}
	// Two packages, from a subdirectory.
	r = ckCheck(t, filepath.Join(dir, "res"), ".", "../cmd/...")
	for l := range strings.Lines(r.stdout) {
		if !strings.HasPrefix(l, "res.go:") && !strings.HasPrefix(l, "../cmd/tool/main.go:") {
			t.Errorf("unexpected line %q", l)
		}
	}
	if !strings.Contains(r.stdout, "[duplicate-resource]") || !strings.Contains(r.stdout, "[package-main]") {
		t.Errorf("missing findings:\n%s", r.stdout)
	}
}

func TestCheckFix(t *testing.T) {
	dir := ckCopyProject(t, "broken")
	before := ckCheck(t, dir)
	r := ckCheck(t, dir, "--fix")
	if r.code != 1 {
		t.Errorf("exit %d after fixing, want 1 (unfixable errors remain)", r.code)
	}
	if !regexp.MustCompile(`fixed \d+ findings in 2 files`).MatchString(r.stderr) {
		t.Errorf("stderr %q does not report the fixes", r.stderr)
	}
	for _, fixed := range []string{rules.BadMethod, rules.BadPath, rules.RouteOnQueue} {
		if !strings.Contains(before.stdout, "["+fixed+"]") {
			t.Errorf("no %s before fixing", fixed)
		}
		if strings.Contains(r.stdout, "["+fixed+"]") {
			t.Errorf("%s left after --fix:\n%s", fixed, r.stdout)
		}
	}
	// Fixes that would guess are not applied.
	for _, kept := range []string{rules.UnknownKey, rules.UnknownResource, rules.MissingRoute, rules.ReservedPath} {
		if !strings.Contains(r.stdout, "["+kept+"]") {
			t.Errorf("%s was fixed or lost", kept)
		}
	}
	api, _ := os.ReadFile(filepath.Join(dir, "api", "api.go"))
	for _, want := range []string{
		"//flash:remote res.API method=GET path=/bad-method\n",
		"//flash:remote res.API method=GET path=/bad-path\n",
	} {
		if !strings.Contains(string(api), want) {
			t.Errorf("api.go lacks %q after --fix", want)
		}
	}
	if !regexp.MustCompile(`(?m)^//flash:remote res\.Queue\s*$`).Match(api) {
		t.Errorf("route-on-queue fields not removed:\n%s", api)
	}
	comp, _ := os.ReadFile(filepath.Join(dir, "compile", "compile.go"))
	if !strings.Contains(string(comp), "method=POST path=/compile") {
		t.Errorf("compile.go not fixed:\n%s", comp)
	}
	// Fixed files stay gofmt-clean and nothing else is left behind.
	if out, err := exec.Command("gofmt", "-l", dir).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("gofmt -l: %s %v", out, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "api"))
	if len(entries) != 2 {
		t.Errorf("api holds %d files after --fix", len(entries))
	}
	// A second run has nothing to fix.
	if again := ckCheck(t, dir, "--fix"); strings.Contains(again.stderr, "fixed") || again.stdout != r.stdout {
		t.Errorf("second --fix: %q", again.stderr)
	}
}

func TestCheckCache(t *testing.T) {
	dir := ckProject(t, "broken")
	env := []string{"FLASH_LSP_CACHE=" + t.TempDir()}
	bin := ckBinary(t)
	first := ckRun(t, dir, env, bin, "check")
	second := ckRun(t, dir, env, bin, "check")
	if first.stdout != second.stdout || first.stderr != second.stderr || first.code != second.code {
		t.Errorf("cached run differs:\n%s%s\n---\n%s%s", first.stdout, first.stderr, second.stdout, second.stderr)
	}
}

func TestIsVetInvocation(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want bool
	}{
		{[]string{"-V=full"}, true},
		{[]string{"-flags"}, true},
		{[]string{"/tmp/go-build1/b001/vet.cfg"}, true},
		{[]string{"-json", "-flashremote", "/tmp/b/vet.cfg"}, true},
		{[]string{"check", "x.cfg"}, false},
		{[]string{"check"}, false},
		{[]string{"serve"}, false},
		{nil, false},
		{[]string{"-C", "dir", "x.cfg"}, false},
	} {
		if got := isVetInvocation(tt.args); got != tt.want {
			t.Errorf("isVetInvocation(%q) = %t, want %t", tt.args, got, tt.want)
		}
	}
}

// TestVetTool runs go vet with flash-lsp as its vet tool.
func TestVetTool(t *testing.T) {
	bin := ckBinary(t)
	vettool := "-vettool=" + bin
	if r := ckRun(t, ckProject(t, "quickstart"), nil, "go", "vet", vettool, "./..."); r.code != 0 {
		t.Errorf("go vet on the quickstart: exit %d\n%s", r.code, r.stderr)
	}
	broken := ckProject(t, "broken")
	plain := ckRun(t, broken, nil, "go", "vet", vettool, "./api")
	if plain.code == 0 || !strings.Contains(plain.stderr, `api.go:36:31: bad method "get" for BadMethod`) {
		t.Errorf("go vet ./api: exit %d\n%s", plain.code, plain.stderr)
	}
	// A fresh copy, so that go vet's result cache, which replays earlier
	// runs, plays no part.
	js := ckRun(t, ckCopyProject(t, "broken"), nil, "go", "vet", vettool, "-json", "./...")
	for _, r := range rules.All {
		switch r.ID {
		case rules.RouteConflict, rules.DuplicateResource, rules.AmbiguousFunction, rules.Compile, rules.ClientCycle:
			continue // whole-module rules and compile errors are check's
		}
		if !strings.Contains(js.stdout+js.stderr, `"category": "`+r.ID+`"`) {
			t.Errorf("go vet -json shows no %s", r.ID)
		}
	}
	if t.Failed() {
		t.Logf("go vet -json output:\n%s%s", js.stdout, js.stderr)
	}
}
