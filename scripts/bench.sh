#!/usr/bin/env bash
# make bench: the benchmarks behind SPEC section 11's budgets, each printing
# its figures (b.ReportMetric) beside the reference it is measured against.
# They run after `go build ./...` has warmed the build cache.
set -euo pipefail
cd "$(dirname "$0")/.."
go build ./...

bench() {
	echo "== go test -run '^\$' $*" >&2
	go test -run '^$' "$@"
}

# The real binaries over stdio: flash-lsp serve beside gopls v0.23.0 (diagnosticsDelay 0s and its
# default) with one LSP client, then generate, check and go vet; medians of interleaved rounds.
. scripts/deps.d/lib.sh
. scripts/deps.d/gopls.sh
echo "== go run ./internal/serverbench" >&2
go run ./internal/serverbench -flash bin/flash-lsp -gopls "$GOPLS" -rounds 3

# flash-lsp check ./... beside go vet ./... on the 100 x 20 workspace (check/vet ratio).
bench -bench BenchmarkCheck -benchtime 5x ./cmd/flash-lsp
# flash-lsp generate on the same workspace (budget: 1 s), and its in-process parts.
bench -bench BenchmarkGenerateCommand -benchtime 5x ./cmd/flash-lsp
bench -bench . -benchtime 5x ./codegen
# language server: didChange -> publishDiagnostics p50/p95, first diagnostics, memory.
bench -bench BenchmarkDidChange -benchtime 300x ./lsp
# load-balancer handler beside a hand-written net/http + encoding/json handler.
bench -bench BenchmarkLoadBalancer -benchtime 3s ./runtime
# the real generated handler binary under wrk beside a hand-written server,
# request logs on and off (SPEC sections 11 and 15).
scripts/bench-lb.sh
# a typed client call beside a hand-written net/http request to the same server.
bench -bench BenchmarkCaller -benchtime 2s ./runtime
# the analyzer alone.
bench -bench . -benchtime 2s -benchmem ./analysis/remote
# streaming (SPEC 18): NDJSON values/s of the generated handler binary beside
# a hand-written net/http handler that flushes per value (ratio, >= 0.9).
scripts/bench-stream.sh
