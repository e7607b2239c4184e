#!/usr/bin/env bash
# The streaming benchmark (SPEC 18), run by make bench: values per second
# streamed as NDJSON by the generated handler binary of
# testdata/projects/streaming (POST /generate, request logs on, written to a
# file) beside a hand-written net/http handler that encodes and flushes each
# value itself (internal/streambench anchor), each in its own process, read
# by an external client (streambench measure) in interleaved rounds.
#   scripts/bench-stream.sh [ROUNDS [VALUES]]   defaults: 9 rounds, 100000 values per request
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ROUNDS=${1:-9}
VALUES=${2:-100000}

work=$(mktemp -d)
pids=()
cleanup() {
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/flash-lsp" ./cmd/flash-lsp
go build -o "$work/streambench" ./internal/streambench
cp -r testdata/projects/streaming "$work/streaming"
rm -rf "$work/streaming/.flash"
sed -i "s|=> ../../..|=> $ROOT|" "$work/streaming/go.mod"
(cd "$work/streaming" && "$work/flash-lsp" build --keep-build --goos "$(go env GOOS)" --goarch "$(go env GOARCH)" 2>/dev/null)

flash_port=$("$work/streambench" port)
HOST=127.0.0.1 PORT=$flash_port "$work/streaming/.flash/.build/bin/stream-api" 2>"$work/stream-api.log" &
pids+=($!)
anchor_port=$("$work/streambench" port)
"$work/streambench" anchor -addr "127.0.0.1:$anchor_port" &
pids+=($!)
"$work/streambench" wait "http://127.0.0.1:$flash_port" "http://127.0.0.1:$anchor_port"

echo "== streaming: $VALUES NDJSON values per request, generated handler vs hand-written net/http, $ROUNDS interleaved rounds" >&2
"$work/streambench" measure -flash "http://127.0.0.1:$flash_port" -anchor "http://127.0.0.1:$anchor_port" -rounds "$ROUNDS" -values "$VALUES"
echo "(request log records of the generated handler: $(grep -c '"msg":"request"' "$work/stream-api.log"))" >&2
