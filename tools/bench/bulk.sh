#!/usr/bin/env bash
# Where a 1 GiB body's CPU goes: builds side by side, paired.
#
#   curl --> [canaryd 127.0.0.1:$PROXY_PORT] --> backend 127.0.0.1:$V1_PORT
#
# Usage:  [VAR=value ...] tools/bench/bulk.sh ROUNDS BUILD_DIR [BUILD_DIR ...]
#
# One backend (the first BUILD_DIR's).  Each round, for a GET of
# /bytes/$SIZE and a chunked upload of $SIZE bytes from a pipe (curl -T -):
# the backend alone ("direct"), then through each build's canaryd (one
# scale-table configuration, started afresh, $WORKERS workers).  A line
# per transfer: MB/s and CPU seconds per GiB of the proxy's processes, the
# backend and curl, and their total.  On a shared box the MB/s of one
# transfer is noise; the CPU per GiB of each process is steadier, and when
# the cores are all busy the throughput ratio follows the total.
#
# PIN=1 gives the proxy a core of its own, as a proxy in front of other
# hosts has: curl (and the upload's pipe) and the backend run on CPU 0,
# canaryd on CPU 1, direct as through the proxy.  Unpinned, the three
# share the host's cores, and on two cores the proxy's CPU is taken from
# the client's and the server's: the ratio to direct then follows the
# total CPU per GiB, not the proxy's speed.
#
# Knobs (environment; defaults in brackets):
#   SIZE [1073741824]  DIRS ["get post"]  WORKERS [2]  PIN [0]
#   PROXY_PORT [10100]  V1_PORT [10101]  ADMIN_PORT [10102]
set -uo pipefail

ROUNDS=${1:-}
[ -n "$ROUNDS" ] && [ $# -ge 2 ] || {
	awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
	exit 2
}
shift
BUILDS=()
for b in "$@"; do BUILDS+=("$(cd "$b" && pwd)") || exit 2; done
SIZE=${SIZE:-1073741824}
DIRS=${DIRS:-get post}
WORKERS=${WORKERS:-2}
PROXY_PORT=${PROXY_PORT:-10100}
V1_PORT=${V1_PORT:-10101}
ADMIN_PORT=${ADMIN_PORT:-10102}
ON_CLIENT=() ON_PROXY=()
if [ "${PIN:-0}" = 1 ]; then
	[ "$(nproc)" -ge 2 ] || { echo "bulk.sh: PIN=1 needs two cores" >&2; exit 2; }
	ON_CLIENT=(taskset -c 0) ON_PROXY=(taskset -c 1)
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
# shellcheck source=tools/bench/proc.sh
. "$HERE/proc.sh"
# STARTED, the exit trap, cpu_ticks ("utime stime" ticks)
# shellcheck source=tools/bench/benchlib.sh
. "$HERE/benchlib.sh"
ticks() { cpu_ticks "$@" | awk '{ print $1 + $2 }'; }

# transfer LABEL PORT DIR PIDS...: one line
transfer() {
	local lab=$1 port=$2 dir=$3 p0 b0 p1 b1 out
	shift 3
	p0=$(ticks "$@"); b0=$(ticks "$BACKEND_PID")
	if [ "$dir" = get ]; then
		out=$({ "${ON_CLIENT[@]}" /usr/bin/time -f 'T %U %S' curl -sS -o /dev/null \
		    -w '%{speed_download}\n' "http://127.0.0.1:$port/bytes/$SIZE"; } 2>&1)
	else
		out=$({ "${ON_CLIENT[@]}" head -c "$SIZE" /dev/zero |
		    "${ON_CLIENT[@]}" /usr/bin/time -f 'T %U %S' \
		    curl -sS -o /dev/null -T - -X POST -w '%{speed_upload}\n' \
		    "http://127.0.0.1:$port/upload"; } 2>&1)
	fi
	p1=$(ticks "$@"); b1=$(ticks "$BACKEND_PID")
	awk -v lab="$lab" -v dir="$dir" -v p=$((p1 - p0)) -v b=$((b1 - b0)) \
	    -v h="$CLK_TCK" -v size="$SIZE" -v out="$out" 'BEGIN {
		n = split(out, a, /[ \n]+/)
		for (i = 1; i <= n; i++)
			if (a[i] == "T") { c = a[i + 1] + a[i + 2]; i += 2 }
			else if (a[i] ~ /^[0-9.]+$/) mbs = a[i] / 1e6
		g = size / 1073741824
		printf "%-24s %-4s %7.1f MB/s  proxy %.2f  backend %.2f  client %.2f  total %.2f s/GiB\n",
		    lab, dir, mbs, p / h / g, b / h / g, c / g, (p / h + b / h + c) / g
	}'
}

for p in "$PROXY_PORT" "$V1_PORT" "$ADMIN_PORT"; do
	port_free "$p" || { log "port $p already in use"; exit 1; }
done
command -v curl >/dev/null && [ -x /usr/bin/time ] || { log "needs curl and /usr/bin/time"; exit 1; }
TMP=$(mktemp -d /tmp/canary-bulk.XXXXXX)
bulk_start "${ON_CLIENT[@]}" "${BUILDS[0]}/backend"
for ((r = 1; r <= ROUNDS; r++)); do
	for dir in $DIRS; do
		transfer direct "$V1_PORT" "$dir"
		for b in "${BUILDS[@]}"; do
			"${ON_PROXY[@]}" "$b/canaryd" --concurrency "$WORKERS" -f "$TMP/canaryd.yaml" \
			    --state-dir "$TMP" >>"$TMP/canaryd.out" 2>&1 &
			pid=$!
			STARTED+=("$pid")
			wait_http "http://127.0.0.1:$PROXY_PORT/" '"version"' 10 "$pid" ||
			    { log "canaryd ($b) did not start (see $TMP/canaryd.out)"; exit 1; }
			sleep 0.3
			mapfile -t pids < <(tree_pids "$pid")
			transfer "$b" "$PROXY_PORT" "$dir" "${pids[@]}"
			stop_pid "$pid"
			forget "$pid"
		done
	done
done
