#!/usr/bin/env bash
# The load-balancer budget of SPEC section 11 (with section 15's logs):
# the real generated handler binary of the quickstart's GPU load balancer
# (POST /compute), built by `flash-lsp build`, beside a hand-written
# net/http + encoding/json server doing the same work
# (runtime/testdata/lbanchor), both driven by wrk over loopback.
# Rounds are interleaved (anchor, logs on, logs off, in a rotating
# order); it prints each round's requests/s and the median ratios.
#
#   scripts/bench-lb.sh [rounds (default 5)] [seconds per run (default 5)]
#
# Environment: WRK_THREADS (2), WRK_CONNS (32).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rounds=${1:-5}
secs=${2:-5}
threads=${WRK_THREADS:-2}
conns=${WRK_CONNS:-32}
. scripts/deps.d/lib.sh
. scripts/deps.d/runtime.sh

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

# The quickstart, copied so that the build writes nowhere in the repository.
cp -r testdata/projects/quickstart "$tmp/app"
rm -rf "$tmp/app/.flash"
sed -i "s#=> ../../..#=> $root#" "$tmp/app/go.mod"
go build -o "$tmp/flash-lsp" ./cmd/flash-lsp
"$tmp/flash-lsp" build -C "$tmp/app" --keep-build --goos "$(go env GOOS)" --goarch "$(go env GOARCH)" >/dev/null
handler="$tmp/app/.flash/.build/bin/03_05_load_balancer_gpu"
CGO_ENABLED=0 go build -trimpath -o "$tmp/anchor" ./runtime/testdata/lbanchor

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
up() {
	for _ in $(seq 200); do
		curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -d '{"numbers":[1]}' "http://127.0.0.1:$1/compute" && return 0
		sleep 0.05
	done
	echo "bench-lb: nothing answers on port $1" >&2
	exit 1
}

p_anchor=$(free_port); p_on=$(free_port); p_off=$(free_port)
PORT=$p_anchor "$tmp/anchor" & pids+=($!)
# Logs on: the default (JSON at info, one record per request) into a file,
# as a container runtime takes stderr. Logs off: only warnings.
HOST=127.0.0.1 PORT=$p_on "$handler" 2>"$tmp/requests.log" & pids+=($!)
HOST=127.0.0.1 PORT=$p_off FLASH_LOG_LEVEL=warn "$handler" 2>"$tmp/off.log" & pids+=($!)
up "$p_anchor"; up "$p_on"; up "$p_off"

cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"numbers":[1.5,2,3.25,4,5,6.75,7,8,9,10]}'
wrk.headers["Content-Type"] = "application/json"
LUA
run() { # port -> requests/s
	wrk -t"$threads" -c"$conns" -d"${secs}s" -s "$tmp/post.lua" "http://127.0.0.1:$1/compute" >"$tmp/wrk.out"
	if grep -q 'Non-2xx\|Socket errors' "$tmp/wrk.out"; then
		cat "$tmp/wrk.out" >&2
		echo "bench-lb: errors under load" >&2
		exit 1
	fi
	awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk.out"
}
# Warm-up, not counted.
for p in "$p_anchor" "$p_on" "$p_off"; do wrk -t"$threads" -c"$conns" -d1s -s "$tmp/post.lua" "http://127.0.0.1:$p/compute" >/dev/null; done

echo "== wrk -t$threads -c$conns -d${secs}s POST /compute, $rounds interleaved rounds ($(nproc) cores, shared)"
printf '%-6s %12s %12s %12s %8s %8s\n' round anchor logs-on logs-off on/anc off/anc
div() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.4f", x / y}'; }
a=(); on=(); off=()
for r in $(seq "$rounds"); do
	declare -A got=()
	case $((r % 3)) in
	1) order="anchor on off" ;;
	2) order="on off anchor" ;;
	0) order="off anchor on" ;;
	esac
	for k in $order; do
		case $k in
		anchor) got[$k]=$(run "$p_anchor") ;;
		on) got[$k]=$(run "$p_on") ;;
		off) got[$k]=$(run "$p_off") ;;
		esac
	done
	a+=("${got[anchor]}"); on+=("${got[on]}"); off+=("${got[off]}")
	printf '%-6s %12.0f %12.0f %12.0f %8.3f %8.3f\n' "$r" "${got[anchor]}" "${got[on]}" "${got[off]}" \
		"$(div "${got[on]}" "${got[anchor]}")" "$(div "${got[off]}" "${got[anchor]}")"
	unset got
done
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ratios() { # median of the per-round ratios of $1 to the anchor
	local -n xs=$1
	local rs=() i
	for i in "${!xs[@]}"; do rs+=("$(div "${xs[$i]}" "${a[$i]}")"); done
	median "${rs[@]}"
}
m_a=$(median "${a[@]}"); m_on=$(median "${on[@]}"); m_off=$(median "${off[@]}")
r_on=$(ratios on); r_off=$(ratios off)
printf '%-6s %12.0f %12.0f %12.0f %8.3f %8.3f\n' median "$m_a" "$m_on" "$m_off" "$r_on" "$r_off"
lines=$(wc -l <"$tmp/requests.log")
verdict=$(awk -v r="$r_on" 'BEGIN {print (r >= 0.90) ? "met" : "NOT met"}')
echo "logs on wrote $lines records ($(du -h "$tmp/requests.log" | cut -f1)); budget (SPEC 11): logs on / anchor >= 0.90: $verdict"
