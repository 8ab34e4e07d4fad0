#!/usr/bin/env bash
# tools/bench/instr.sh BUILD_DIR [REQUESTS [PATH [ROUTES]]] -- CPU
# instructions a worker spends per proxied request, counted by callgrind.
#
# Wall-clock figures drift by 10-30 % on a shared machine; an instruction
# count does not: the same binary, config and requests give the same count
# whatever else runs.  So this is the figure to compare two builds with
# (run it once per build; the ratio is the regression or the gain).
#
# Starts the demo backends and BUILD_DIR/canaryd (one worker, on the seed
# config with free loopback ports) under valgrind --tool=callgrind, sends
# 200 warm-up requests, zeroes the worker's counters, sends REQUESTS
# (default 2000) keep-alive GETs of PATH (default /api) from one client,
# dumps the worker's profile and prints
#     instr: <Ir per request> Ir/request over <n> requests (<build>)
# then the 15 functions that cost most.  ROUTES (default 0) puts that
# many prefix routes, /svc1/ ... /svcROUTES/, before the seed's routes
# (bench_routes in seedconf.sh): PATH /api then goes past all of them,
# /svcROUTES/api takes the last.  Every process it starts is
# stopped by PID on exit.  Needs valgrind (tools/deps.sh bench).
set -euo pipefail

die() { echo "instr: $*" >&2; exit 1; }

[ $# -ge 1 ] || { echo "usage: tools/bench/instr.sh BUILD_DIR [REQUESTS [PATH [ROUTES]]]" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(cd "$1" && pwd) || die "no build directory $1"
NREQ=${2:-2000}
RPATH=${3:-/api}
NROUTES=${4:-0}
case $NROUTES in ''|*[!0-9]*) die "ROUTES must be a number: $NROUTES" ;; esac
SEED=$ROOT/etc/canary/envoy-canary.yaml
command -v valgrind >/dev/null || die "valgrind is missing (tools/deps.sh bench)"
command -v callgrind_control >/dev/null || die "callgrind_control is missing"

. "$ROOT/tools/bench/proc.sh"
PROXY_PORT= V1_PORT= V2_PORT=
. "$ROOT/tools/bench/seedconf.sh"

TMP=$(mktemp -d /tmp/canaryd-instr.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do stop_pid "$p"; done
	rm -rf "$TMP"
}
trap cleanup EXIT

PROXY_PORT=$(free_port) && V1_PORT=$(free_port) && V2_PORT=$(free_port) &&
    admin=$(free_port) || die "no free ports"
bench_config "$TMP/canaryd.yaml" "$admin"
bench_routes "$TMP/canaryd.yaml" "$NROUTES"

"$BUILD/backend" --port "$V1_PORT" --name v1 >"$TMP/v1.log" 2>&1 &
PIDS+=($!)
"$BUILD/backend" --port "$V2_PORT" --name v2 >"$TMP/v2.log" 2>&1 &
PIDS+=($!)
# builds older than --state-dir take the system's
state=
"$BUILD/canaryd" --help 2>&1 | grep -q -- --state-dir && state="--state-dir $TMP"
# shellcheck disable=SC2086  # $state is a word list
valgrind --tool=callgrind --trace-children=yes --dump-instr=no \
    --callgrind-out-file="$TMP/cg.%p" \
    "$BUILD/canaryd" --concurrency 1 -l warning -f "$TMP/canaryd.yaml" $state \
    >"$TMP/canaryd.log" 2>&1 &
master=$!
PIDS+=("$master")
wait_http "http://127.0.0.1:$admin/ready" LIVE 60 "$master" ||
    { tail -20 "$TMP/canaryd.log" >&2; die "canaryd did not come up"; }

# The master's children: the worker and the DNS resolver (titles are not
# visible under valgrind); the worker is the one whose count grows with
# the requests.
kids=$(tree_pids "$master" | grep -vx "$master" || true)
[ -n "$kids" ] || die "no child processes under $master"

client() {
	python3 - "$PROXY_PORT" "$1" "$RPATH" <<'EOF'
import http.client, sys
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
bad = 0
for _ in range(n):
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    bad += r.status != 200
sys.exit(1 if bad else 0)
EOF
}

client 200 || die "warm-up requests failed"
for p in $kids; do callgrind_control -z "$p" >/dev/null 2>&1 || true; done
client "$NREQ" || die "requests failed"
for p in $kids; do callgrind_control -d "$p" >/dev/null 2>&1 || true; done
sleep 0.5
best= total=0
for p in $kids; do
	# the dump of this run: cg.PID.1 (cg.PID is written at exit)
	f=$(ls -t "$TMP"/cg."$p".* 2>/dev/null | head -1 || true)
	[ -n "$f" ] || continue
	n=$(callgrind_annotate "$f" 2>/dev/null |
	    awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }' ||
	    true)
	if [ -n "$n" ] && [ "$n" -gt "$total" ]; then
		best=$f total=$n
	fi
done
[ -n "$best" ] || die "no profile from the worker"
routes=
[ "$NROUTES" -gt 0 ] && routes=", $NROUTES routes before the seed's"
echo "instr: $((total / NREQ)) Ir/request over $NREQ requests of $RPATH ($BUILD$routes)"
callgrind_annotate --inclusive=no --threshold=100 "$best" 2>/dev/null |
    awk '/%\)/ && !/PROGRAM TOTALS/ && !/100.0%/ && n < 400 { print "  " $0; n++ }'
