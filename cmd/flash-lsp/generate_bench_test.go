package main

import (
	"os/exec"
	"testing"
	"time"

	"github.com/flash-lsp/flash-lsp/internal/workspace"
)

// BenchmarkGenerateCommand times `flash-lsp generate` as a user runs it on
// the workspace of SPEC section 11 (budget: 1 s), after go build ./... and
// untimed runs of generate have warmed the build cache and written the
// files (typed clients included), so each timed run regenerates an
// unchanged project. Run it with:
//
//	go test ./cmd/flash-lsp -run '^$' -bench BenchmarkGenerateCommand -benchtime 5x
func BenchmarkGenerateCommand(b *testing.B) {
	bin := ckBinary(b)
	dir := b.TempDir()
	if err := workspace.Generate(dir, workspace.Options{Replace: ckRepo(b)}); err != nil {
		b.Fatal(err)
	}
	run := func(name string, args ...string) time.Duration {
		b.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return d
	}
	run("go", "build", "./...")
	run(bin, "generate")
	run("go", "build", "./...") // the typed clients generate just wrote
	run(bin, "generate")        // go list's export data of the new packages

	var total time.Duration
	b.ResetTimer()
	for range b.N {
		total += run(bin, "generate")
	}
	b.StopTimer()
	b.ReportMetric(total.Seconds()/float64(b.N), "generate-s/op")
}
