#!/usr/bin/env bash
# tools/reload-soak.sh BUILD_DIR [SECONDS] -- measure reloads under load.
#
# Starts the two demo backends and canaryd (2 workers) on free loopback
# ports, then runs wrk -c64 for SECONDS (30) twice: once while the weights
# flip every 500 ms by SIGHUP (in place), once while a route is added and
# removed every 2 s (structural: a new generation of workers each time).
# Prints wrk's errors and non-2xx counts and canaryd's reload counters.
# Every process it starts is stopped by PID on exit.
#
# SLOW_MS=40: the backends take that long to answer, so every busy
# keep-alive connection has a request in flight when a drain starts (an
# instant backend hides the bugs that need one).
set -euo pipefail
BUILD=${1:?usage: tools/reload-soak.sh BUILD_DIR [SECONDS]}
SECS=${2:-30}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -n "${SLOW_MS:-}" ] && export BACKEND_ARGS="--delay_ms $SLOW_MS"
. "$ROOT/tools/soak-lib.sh"
soak_config "$ROOT/etc/canary/envoy-canary.yaml"
soak_start "$BUILD" || exit 1

weights() {	# $1 $2: v1 and v2 weights into the config
	sed -e "/name: backend_v1\$/{n;s/weight: [0-9]*/weight: $1/}" \
	    -e "/name: backend_v2\$/{n;s/weight: [0-9]*/weight: $2/}" \
	    "$TMP/base.yaml" > "$TMP/next.yaml" && mv "$TMP/next.yaml" "$TMP/canary.yaml"
}
structural() {	# $1 = 1: an extra exact-path route to v2; 0: none
	if [ "$1" = 1 ]; then
		awk '{ print } /routes:$/ && !done { print "              - match: { path: \"/extra\" }"; print "                route: { cluster: backend_v2 }"; done = 1 }' \
		    "$TMP/base.yaml" > "$TMP/next.yaml"
	else
		cp "$TMP/base.yaml" "$TMP/next.yaml"
	fi
	mv "$TMP/next.yaml" "$TMP/canary.yaml"
}
stat() { curl -s "http://127.0.0.1:$AD/stats?filter=^server\\.config_reload" ; }

run() {	# $1 name, $2 interval (s), $3 function
	local name=$1 every=$2 fn=$3 i=0 n
	n=$(awk -v s="$SECS" -v e="$every" 'BEGIN { print int(s / e) - 1 }')
	wrk -t2 -c64 -d"${SECS}s" "http://127.0.0.1:$PX/api" > "$TMP/wrk-$name.txt" 2>&1 &
	local w=$!
	sleep 0.5
	for i in $(seq 1 "$n"); do
		case $fn in
		weights) if [ $((i % 2)) = 1 ]; then weights 50 50; else weights 90 10; fi ;;
		structural) structural $((i % 2)) ;;
		esac
		kill -HUP "$CD"
		sleep "$every"
	done
	wait "$w"
	echo "== $name: $n reloads every ${every}s under wrk -t2 -c64" \
	    "-d${SECS}s${SLOW_MS:+, backends answering in ${SLOW_MS} ms}"
	grep -E 'requests in|Socket errors|Non-2xx|Requests/sec' "$TMP/wrk-$name.txt" || true
	grep -q 'Socket errors\|Non-2xx' "$TMP/wrk-$name.txt" || echo "  no socket errors, no non-2xx responses"
	stat
}
run weights 0.5 weights
run structural 2 structural
grep -c 'generation .* started' "$TMP/canaryd.log" | sed 's/^/generations started: /'
