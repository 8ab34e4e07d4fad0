#!/usr/bin/env bash
# Where a 1 GiB GET's time goes on two cores: each placement of the three
# processes, paired with direct.
#
#   curl --> [canaryd worker 127.0.0.1:$PROXY_PORT] --> backend 127.0.0.1:$V1_PORT
#
# Usage:  [VAR=value ...] tools/bench/placement.sh ROUNDS BUILD_DIR
#
# canaryd runs $WORKERS workers (one transfer uses one).  Each round, one GET of /bytes/$SIZE each way,
# MB/s:
#   direct       curl and the backend, cores shared (the figure the
#                proxy's transfers are compared with);
#   shared       through canaryd, every process on any core;
#   W|B+C        the worker alone on CPU 1, the backend and curl on CPU 0
#                (the bench's "own core");
#   W+C|B        the worker and curl on CPU 0, the backend on CPU 1;
#   W+B|C        the worker and the backend on CPU 0, curl on CPU 1.
# Three processes on two cores: when "shared" is as fast as the best
# placement, the kernel placed them as well as pinning can, and what is
# left between it and direct is CPU, not placement.
#
# Knobs (environment; defaults in brackets):
#   SIZE [1073741824]  WORKERS [1]  PROXY_PORT [10110]  V1_PORT [10111]  ADMIN_PORT [10112]
set -uo pipefail

ROUNDS=${1:-}
[ -n "$ROUNDS" ] && [ $# -eq 2 ] || {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
	exit 2
}
BUILD=$(cd "$2" && pwd) || exit 2
SIZE=${SIZE:-1073741824}
WORKERS=${WORKERS:-1}
PROXY_PORT=${PROXY_PORT:-10110}
V1_PORT=${V1_PORT:-10111}
ADMIN_PORT=${ADMIN_PORT:-10112}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
# shellcheck source=tools/bench/proc.sh
. "$HERE/proc.sh"
# STARTED and the exit trap that stops them
# shellcheck source=tools/bench/benchlib.sh
. "$HERE/benchlib.sh"

[ "$(nproc)" -ge 2 ] || { log "placement.sh needs two cores"; exit 2; }
for p in "$PROXY_PORT" "$V1_PORT" "$ADMIN_PORT"; do
	port_free "$p" || { log "port $p already in use"; exit 1; }
done
TMP=$(mktemp -d /tmp/canary-place.XXXXXX)
bulk_start "$BUILD/backend"
"$BUILD/canaryd" --concurrency "$WORKERS" -f "$TMP/canaryd.yaml" --state-dir "$TMP" \
    >"$TMP/canaryd.out" 2>&1 &
PROXY_PID=$!
STARTED+=("$PROXY_PID")
wait_http "http://127.0.0.1:$PROXY_PORT/" '"version"' 10 "$PROXY_PID" ||
    { log "canaryd did not start (see $TMP/canaryd.out)"; exit 1; }
mapfile -t PROXY_PIDS < <(tree_pids "$PROXY_PID")

# get PORT CPUS: one GET, curl on CPUS (all: any); MB/s
get() {
	timeout 300 taskset -c "$2" curl -sS -o /dev/null -w '%{speed_download}' \
	    "http://127.0.0.1:$1/bytes/$SIZE" | awk '{ printf "%.0f", $1 / 1e6 }'
}
# place PROXY_CPUS BACKEND_CPUS: every thread of each process there
place() {
	local p
	for p in "${PROXY_PIDS[@]}"; do taskset -a -p -c "$1" "$p" >/dev/null; done
	taskset -a -p -c "$2" "$BACKEND_PID" >/dev/null
}

ALL=0-$(($(nproc) - 1))
get "$PROXY_PORT" "$ALL" >/dev/null	# the worker's buffers, once
printf '%-6s %8s %8s %8s %8s %8s   (MB/s)\n' round direct shared 'W|B+C' 'W+C|B' 'W+B|C'
for ((r = 1; r <= ROUNDS; r++)); do
	place "$ALL" "$ALL"
	d=$(get "$V1_PORT" "$ALL")
	s=$(get "$PROXY_PORT" "$ALL")
	place 1 0; a=$(get "$PROXY_PORT" 0)
	place 0 1; b=$(get "$PROXY_PORT" 0)
	place 0 0; c=$(get "$PROXY_PORT" 1)
	printf '%-6s %8s %8s %8s %8s %8s\n' "$r" "$d" "$s" "$a" "$b" "$c"
done
