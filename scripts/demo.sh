#!/usr/bin/env bash
# make demo: check the bundled example project, build it into a deployable
# archive, unpack the archive, start one of its load-balanced handlers on a
# free loopback port and send it real requests.
#
# The build runs on a copy of the example in a temporary directory (its
# go.mod pointed at this checkout), so the repository stays clean.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FLASH="$ROOT/bin/flash-lsp"
EXAMPLE=testdata/projects/quickstart
HANDLER=test-api

for tool in curl tar; do
	command -v "$tool" >/dev/null || { echo "demo: $tool is required" >&2; exit 1; }
done
[ -x "$FLASH" ] || { echo "demo: $FLASH is missing: run make build" >&2; exit 1; }

work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

if [ -t 1 ]; then
	step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	step() { printf '\n== %s\n' "$*"; }
fi

"$FLASH" version

step "flash-lsp check -C $EXAMPLE ./..."
"$FLASH" check -C "$EXAMPLE" ./...

step "flash-lsp build (in a copy of $EXAMPLE)"
mkdir -p "$work/quickstart"
tar -C "$EXAMPLE" --exclude=.flash -cf - . | tar -C "$work/quickstart" -xf -
sed -i.orig "s|^replace github.com/flash-lsp/flash-lsp => .*|replace github.com/flash-lsp/flash-lsp => $ROOT|" "$work/quickstart/go.mod"
rm -f "$work/quickstart/go.mod.orig"
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0} "$FLASH" build -C "$work/quickstart"

step "unpack .flash/archive.tar.gz"
mkdir "$work/app"
tar -C "$work/app" -xzf "$work/quickstart/.flash/archive.tar.gz"
tar -tzvf "$work/quickstart/.flash/archive.tar.gz"

step "start bin/$HANDLER on 127.0.0.1"
# PORT=0 lets the kernel pick a free port; the handler logs the address.
HOST=127.0.0.1 PORT=0 "$work/app/bin/$HANDLER" 2>"$work/handler.log" &
pid=$!
base=
for _ in $(seq 100); do
	addr=$(sed -n 's/.*"msg":"serving".*"addr":"\([^"]*\)".*/\1/p' "$work/handler.log" | head -n 1)
	if [ -n "$addr" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/ping")" = 200 ]; then
		base="http://$addr"
		break
	fi
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$base" ]; then
	echo "demo: the handler did not become healthy" >&2
	cat "$work/handler.log" >&2
	exit 1
fi
echo "GET $base/ping → 200"

# request prints a curl command line, runs it and prints the response.
request() {
	local line='$ curl -i' a
	for a in "$@"; do
		if [[ $a =~ [^A-Za-z0-9_./:=@%+-] ]]; then
			line+=" '$a'"
		else
			line+=" $a"
		fi
	done
	printf '\n%s\n' "$line"
	curl -sS -i "$@"
	echo
}
step "requests"
request "$base/items/2?verbose=true"
request "$base/items/42"
echo
echo "# test-api is a deployed resource: POST /execute is not served (flash-lsp run serves it locally)"
request -X POST "$base/execute" -H 'Content-Type: application/json' -d '{"function_name": "GetItem", "args": ["1"]}'

step "stop (SIGTERM)"
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=
echo "handler exited with status $status"
[ "$status" = 0 ]
