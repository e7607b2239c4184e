package lsp

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/flash-lsp/flash-lsp/internal/workspace"
)

// BenchmarkDidChange measures SPEC section 11's language-server budgets on
// the generated 100-package × 20-function workspace: the latency from a
// didChange to the publishDiagnostics of that version (p50, p95), the time
// from `initialized` to the first diagnostics of the first opened file,
// and memory. Each iteration is one edit of a directive's path, which
// re-checks the edited package and reruns the whole-module rules.
//
//	go test ./lsp -run '^$' -bench DidChange -benchtime 200x
func BenchmarkDidChange(b *testing.B) {
	dir := b.TempDir()
	if err := workspace.Generate(dir, workspace.Options{Replace: repoRoot(b)}); err != nil {
		b.Fatal(err)
	}
	// SPEC 13: benchmarks run after `go build ./...` warmed the build cache.
	build := exec.Command("go", "build", "./...")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build ./...: %v\n%s", err, out)
	}
	file := filepath.Join(dir, "p050", "p050.go")
	data, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	src := string(data)
	i := strings.Index(src, "path=/")
	if i < 0 {
		b.Fatal("no path= in the generated package")
	}
	i += len("path=/")

	c, _, _ := session(b, nil)
	start := time.Now()
	c.initialize(dir)
	c.open(file, 1)
	c.waitDiags(file, 60*time.Second, func(p protocol.PublishDiagnosticsParams) bool { return p.Version == 1 })
	first := time.Since(start)
	if n := len(c.publishes(file)); n == 0 {
		b.Fatal("no diagnostics")
	}

	var lat []time.Duration
	b.ResetTimer()
	for n := range b.N {
		v := int32(n + 2)
		text := src[:i] + "e" + strconv.Itoa(n) + src[i:]
		t0 := time.Now()
		c.change(file, text, v)
		p := c.waitDiags(file, 30*time.Second, func(p protocol.PublishDiagnosticsParams) bool { return int32(p.Version) == v })
		lat = append(lat, time.Since(t0))
		if len(p.Diagnostics) != 0 {
			b.Fatalf("edit %d produced diagnostics: %s", n, describeDiags(p.Diagnostics))
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(float64(first.Milliseconds()), "first-diag-ms")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	if rss := vmRSS(); rss > 0 {
		b.ReportMetric(rss, "rss-MB")
	}
}

// vmRSS returns this process's resident memory in MB (Linux), 0 elsewhere.
func vmRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}
