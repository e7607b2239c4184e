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
PORT=$p_anchor "$tmp/anchor" & pids+=($!); pid_anchor=$!
# Logs on: the default (JSON at info, one record per request) into a file,
# as a container runtime takes stderr. Logs off: only warnings.
HOST=127.0.0.1 PORT=$p_on "$handler" 2>"$tmp/requests.log" & pids+=($!); pid_on=$!
HOST=127.0.0.1 PORT=$p_off FLASH_LOG_LEVEL=warn "$handler" 2>"$tmp/off.log" & pids+=($!); pid_off=$!
up "$p_anchor"; up "$p_on"; up "$p_off"

cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"numbers":[1.5,2,3.25,4,5,6.75,7,8,9,10]}'
wrk.headers["Content-Type"] = "application/json"
LUA
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # port pid -> "requests/s requests-per-server-CPU-second"
	local before after
	before=$(cpu_ticks "$2")
	wrk -t"$threads" -c"$conns" -d"${secs}s" -s "$tmp/post.lua" "http://127.0.0.1:$1/compute" >"$tmp/wrk.out"
	after=$(cpu_ticks "$2")
	if grep -q 'Non-2xx\|Socket errors' "$tmp/wrk.out"; then
		cat "$tmp/wrk.out" >&2
		echo "bench-lb: errors under load" >&2
		exit 1
	fi
	awk -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" '
		/requests in/ {n = $1}
		/^Requests\/sec:/ {rps = $2}
		END {printf "%s %.0f\n", rps, n / (ticks / hz)}' "$tmp/wrk.out"
}
# Warm-up, not counted.
for p in "$p_anchor" "$p_on" "$p_off"; do wrk -t"$threads" -c"$conns" -d1s -s "$tmp/post.lua" "http://127.0.0.1:$p/compute" >/dev/null; done

div() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.4f", x / y}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
echo "== wrk -t$threads -c$conns -d${secs}s POST /compute, $rounds interleaved rounds ($(nproc) cores, $(uptime | sed 's/.*load average: //') load)"
echo "   requests/s, and requests per second of the server's own CPU time (less sensitive to other load on the machine)"
printf '%-6s %10s %10s %10s %7s %7s | %9s %9s %9s %7s %7s\n' round anchor logs-on logs-off on/anc off/anc anc/cpu on/cpu off/cpu on/anc off/anc
a=(); on=(); off=(); ca=(); con=(); coff=(); r_on=(); r_off=(); rc_on=(); rc_off=()
for r in $(seq "$rounds"); do
	declare -A got=()
	case $((r % 3)) in
	1) order="anchor on off" ;;
	2) order="on off anchor" ;;
	0) order="off anchor on" ;;
	esac
	for k in $order; do
		case $k in
		anchor) got[$k]=$(run "$p_anchor" "$pid_anchor") ;;
		on) got[$k]=$(run "$p_on" "$pid_on") ;;
		off) got[$k]=$(run "$p_off" "$pid_off") ;;
		esac
	done
	read -r xa ya <<<"${got[anchor]}"; read -r xon yon <<<"${got[on]}"; read -r xoff yoff <<<"${got[off]}"
	a+=("$xa"); on+=("$xon"); off+=("$xoff"); ca+=("$ya"); con+=("$yon"); coff+=("$yoff")
	r_on+=("$(div "$xon" "$xa")"); r_off+=("$(div "$xoff" "$xa")")
	rc_on+=("$(div "$yon" "$ya")"); rc_off+=("$(div "$yoff" "$ya")")
	printf '%-6s %10.0f %10.0f %10.0f %7.3f %7.3f | %9.0f %9.0f %9.0f %7.3f %7.3f\n' "$r" "$xa" "$xon" "$xoff" \
		"${r_on[-1]}" "${r_off[-1]}" "$ya" "$yon" "$yoff" "${rc_on[-1]}" "${rc_off[-1]}"
	unset got
done
m_on=$(median "${r_on[@]}")
printf '%-6s %10.0f %10.0f %10.0f %7.3f %7.3f | %9.0f %9.0f %9.0f %7.3f %7.3f\n' median \
	"$(median "${a[@]}")" "$(median "${on[@]}")" "$(median "${off[@]}")" "$m_on" "$(median "${r_off[@]}")" \
	"$(median "${ca[@]}")" "$(median "${con[@]}")" "$(median "${coff[@]}")" "$(median "${rc_on[@]}")" "$(median "${rc_off[@]}")"
lines=$(wc -l <"$tmp/requests.log")
verdict=$(awk -v r="$m_on" 'BEGIN {print (r >= 0.90) ? "met" : "NOT met"}')
echo "ratios are medians of the per-round ratios; logs on wrote $lines records ($(du -h "$tmp/requests.log" | cut -f1))"
echo "budget (SPEC 11): requests/s with logs on / anchor >= 0.90: $verdict ($m_on)"
