package main

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/flash-lsp/flash-lsp/internal/workspace"
)

// BenchmarkCheck times `flash-lsp check ./...` against `go vet ./...` on
// the workspace of SPEC section 11 (100 packages × 20 functions over 3
// resources), in the same run, after go build ./... has warmed the build
// cache and one run of each has warmed its own result cache (go vet caches
// its results; check caches its findings). It also times check with its
// cache off. Run it with:
//
//	go test ./cmd/flash-lsp -run '^$' -bench BenchmarkCheck -benchtime 5x
func BenchmarkCheck(b *testing.B) {
	bin := ckBinary(b)
	dir := b.TempDir()
	if err := workspace.Generate(dir, workspace.Options{Replace: ckRepo(b)}); err != nil {
		b.Fatal(err)
	}
	cacheEnv := "FLASH_LSP_CACHE=" + b.TempDir()
	run := func(env []string, name string, args ...string) time.Duration {
		b.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return d
	}
	run(nil, "go", "build", "./...")
	run(nil, "go", "vet", "./...")
	run([]string{cacheEnv}, bin, "check", "./...")

	var check, vet, uncached time.Duration
	b.ResetTimer()
	for range b.N {
		check += run([]string{cacheEnv}, bin, "check", "./...")
		vet += run(nil, "go", "vet", "./...")
		uncached += run([]string{"FLASH_LSP_CACHE=off"}, bin, "check", "./...")
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(check.Seconds()/n, "check-s/op")
	b.ReportMetric(vet.Seconds()/n, "vet-s/op")
	b.ReportMetric(check.Seconds()/vet.Seconds(), "check/vet")
	b.ReportMetric(uncached.Seconds()/n, "check-nocache-s/op")
	b.ReportMetric(uncached.Seconds()/vet.Seconds(), "nocache/vet")
}
