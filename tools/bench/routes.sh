#!/usr/bin/env bash
# tools/bench/routes.sh BUILD_DIR [RESULTS.md] -- the route-count table of
# `make bench`: req/s of canaryd, nginx and HAProxy with 1, 1,000 and
# 10,000 prefix routes before the seed's, for /api (past all of them, to
# the seed's "/" route) and for the last of them (/svcN/api).
#
# Every proxy runs the same table.  canaryd: the seed config on the
# bench's ports (seedconf.sh: bench_config) with N routes "/svcI/" to
# backend_v1 before its own (bench_routes).  nginx: conf/proxy.nginx.conf.tmpl
# with a prefix location "location /svcI/" per route, which it matches
# through its static location tree.  HAProxy: conf/proxy.haproxy.cfg.tmpl
# with the N prefixes in a map file, looked up once per request by
# map_beg.  One worker each (WORKERS), wrk -t1 -c CONNS for DURATION s
# per path after WARMUP s on /api, in ROUNDS rounds; a round runs every
# count on every proxy (a proxy's counts one after the other), in an
# order that rotates from round to round.
# Results (markdown, BUILD_DIR/bench-routes.md unless given) have the
# median req/s, the median of per-round ratios canaryd / nginx and
# canaryd / haproxy, and each proxy's req/s at N routes over its own at
# the first count in the same round: "independent of the route count"
# is that last ratio staying near 1.
#
# Knobs (environment; defaults in brackets):
#   ROUTE_COUNTS ["1 1000 10000"] (set but empty: skip the table)
#   ROUNDS [5]  DURATION [5]  WARMUP [1]  WRK_THREADS [1]
#   ROUTES_CONNS [20]  ROUTES_WORKERS [1] (their own names: run.sh's CONNS
#   and WORKERS mean its 50-connection, 2-worker runs)
#   PROXIES ["nginx haproxy"]  PROXY_PORT [10000]  V1_PORT [8081]
#   V2_PORT [8082]  KEEP_TMP [0]
#   CANARYD_CMD set but empty leaves canaryd out (its command is built
#   here: BUILD_DIR/canaryd --concurrency ROUTES_WORKERS on the generated
#   config, so a CANARYD_CMD for run.sh does not apply).
# Every process it starts is stopped by PID on exit; wrk runs under timeout.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tools/bench
[ $# -ge 1 ] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
BUILD=$(cd "$1" 2>/dev/null && pwd) || { echo "routes: no build directory $1" >&2; exit 1; }
OUT=${2:-$BUILD/bench-routes.md}
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac

ROUTE_COUNTS=${ROUTE_COUNTS-1 1000 10000}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS=${ROUTES_CONNS:-20}
WORKERS=${ROUTES_WORKERS:-1}
WRK_THREADS=${WRK_THREADS:-1}
PROXIES=${PROXIES-nginx haproxy}
PROXY_PORT=${PROXY_PORT:-10000}
V1_PORT=${V1_PORT:-8081}
V2_PORT=${V2_PORT:-8082}
KEEP_TMP=${KEEP_TMP:-0}
SEED=$ROOT/etc/canary/envoy-canary.yaml
export PATH="$PATH:/usr/sbin:/sbin"

log() { printf '[%s] routes: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# shellcheck source=tools/bench/proc.sh
. "$HERE/proc.sh"
# shellcheck source=tools/bench/seedconf.sh
. "$HERE/seedconf.sh"

STARTED=()
cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED[$i]}"; done
	if [ -n "${TMP:-}" ] && [ -d "$TMP" ]; then
		if [ "$KEEP_TMP" = 1 ] || [ $rc -ne 0 ]; then log "temp dir kept: $TMP"; else rm -rf "$TMP"; fi
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {	# PIDS... -> utime + stime ticks summed
	local p f=()
	for p in "$@"; do [ -r "/proc/$p/stat" ] && f+=("/proc/$p/stat"); done
	[ ${#f[@]} -gt 0 ] || { echo 0; return; }
	awk '{ sub(/^.*\) /, ""); s += $12 + $13 } END { print s + 0 }' "${f[@]}" 2>/dev/null || echo 0
}

render() {	# template -> file, the bench's @VARS@ filled in
	sed -e "s|@TMP@|$TMP|g" -e "s|@PROXY_PORT@|$PROXY_PORT|g" \
	    -e "s|@V1_PORT@|$V1_PORT|g" -e "s|@V2_PORT@|$V2_PORT|g" \
	    -e "s|@WORKERS@|$WORKERS|g" -e "s|@NGINX_USER@|$NGINX_USER|g" "$1" >"$2"
}

# configs N: canaryd-N.yaml, nginx-N.conf, haproxy-N.cfg (+ routes-N.map)
configs() {
	local n=$1
	if [ -n "$CANARYD" ]; then
		bench_config "$TMP/canaryd-$n.yaml" "$ADMIN_PORT"
		bench_routes "$TMP/canaryd-$n.yaml" "$n"
		"$BUILD/canaryd" --mode validate -f "$TMP/canaryd-$n.yaml" >/dev/null ||
		    die "canaryd rejects $TMP/canaryd-$n.yaml"
	fi
	render "$HERE/conf/proxy.nginx.conf.tmpl" "$TMP/nginx-$n.conf.in"
	[ "$(grep -c 'location = /health' "$TMP/nginx-$n.conf.in")" -eq 1 ] ||
	    die "proxy.nginx.conf.tmpl: expected one 'location = /health'"
	awk -v n="$n" '/location = \/health/ {
		ind = $0; sub(/location.*/, "", ind)
		for (i = 1; i <= n; i++)
			printf "%slocation /svc%d/ { proxy_pass http://app_v1; }\n", ind, i
	    } { print }' "$TMP/nginx-$n.conf.in" >"$TMP/nginx-$n.conf"
	awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "/svc%d/ be_v1\n", i }' \
	    >"$TMP/routes-$n.map"
	render "$HERE/conf/proxy.haproxy.cfg.tmpl" "$TMP/haproxy-$n.cfg.in"
	[ "$(grep -c 'use_backend be_v1 if { path /health }' "$TMP/haproxy-$n.cfg.in")" -eq 1 ] ||
	    die "proxy.haproxy.cfg.tmpl: expected one 'use_backend be_v1 if { path /health }'"
	awk -v map="$TMP/routes-$n.map" '/use_backend be_v1 if \{ path \/health \}/ {
		ind = $0; sub(/use_backend.*/, "", ind)
		printf "%shttp-request set-var(txn.route) path,map_beg(%s)\n", ind, map
		printf "%suse_backend %%[var(txn.route)] if { var(txn.route) -m found }\n", ind
	    } { print }' "$TMP/haproxy-$n.cfg.in" >"$TMP/haproxy-$n.cfg"
	mkdir -p "$TMP/nginx-proxy"
	nginx -t -q -e "$TMP/nginx-check.log" -c "$TMP/nginx-$n.conf" ||
	    die "nginx rejects $TMP/nginx-$n.conf"
	haproxy -c -q -f "$TMP/haproxy-$n.cfg" || die "haproxy rejects $TMP/haproxy-$n.cfg"
}

start_proxy() {	# NAME N -> PROXY_PID, PROXY_PIDS
	case $1 in
	nginx)	nginx -e "$TMP/nginx-proxy.error.log" -c "$TMP/nginx-$2.conf" \
		    -g 'daemon off;' >>"$TMP/nginx.out" 2>&1 & ;;
	haproxy) haproxy -W -db -f "$TMP/haproxy-$2.cfg" >>"$TMP/haproxy.out" 2>&1 & ;;
	canaryd) "$BUILD/canaryd" --concurrency "$WORKERS" -l warning \
		    -f "$TMP/canaryd-$2.yaml" --state-dir "$TMP" \
		    >>"$TMP/canaryd.out" 2>&1 & ;;
	esac
	PROXY_PID=$!
	STARTED+=("$PROXY_PID")
	wait_http "http://127.0.0.1:$PROXY_PORT/svc$2/api" '"version"' 30 "$PROXY_PID" ||
	    die "$1 with $2 routes did not answer (see $TMP/$1*)"
	sleep 0.3
	PROXY_PIDS=$(tree_pids "$PROXY_PID")
}

stop_proxy() {
	local x keep=()
	stop_pid "$PROXY_PID"
	for x in "${STARTED[@]}"; do [ "$x" != "$PROXY_PID" ] && keep+=("$x"); done
	STARTED=("${keep[@]}")
}

kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

measure() {	# ROUND N PATHNAME TARGET URLPATH
	local res c0 c1 errs k v
	# shellcheck disable=SC2086  # a list of pids
	c0=$(cpu_ticks $PROXY_PIDS)
	res=$(timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"$DURATION"s \
	    --latency -s "$HERE/wrk-report.lua" "http://127.0.0.1:$PROXY_PORT$5" 2>&1 |
	    grep '^WRKRESULT') || res="WRKRESULT requests=0 rps=0 p99_us=0 err_status=1"
	# shellcheck disable=SC2086
	c1=$(cpu_ticks $PROXY_PIDS)
	errs=0
	for k in err_connect err_read err_write err_timeout err_status; do
		v=$(kv $k "$res")
		errs=$((errs + ${v:-0}))
	done
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" \
	    "$(kv rps "$res")" "$(kv p99_us "$res")" "$errs" \
	    "$(awk -v t="$((c1 - c0))" -v h="$CLK_TCK" 'BEGIN { printf "%.2f", t / h }')" \
	    "$(kv requests "$res")" >>"$TMP/runs.tsv"
	log "r$1 $4 routes=$2 $5: rps=$(kv rps "$res") p99=$(kv p99_us "$res")us errors=$errs"
}

# ---------------------------------------------------------------- main
[ -n "$ROUTE_COUNTS" ] || { log "ROUTE_COUNTS empty: skipped"; exit 0; }
"$ROOT/tools/deps.sh" bench || die "missing packages (see above)"
for p in "$PROXY_PORT" "$V1_PORT" "$V2_PORT"; do
	port_free "$p" || die "port $p already in use"
done
CANARYD=canaryd
if [ -n "${CANARYD_CMD+set}" ] && [ -z "$CANARYD_CMD" ]; then
	CANARYD=
elif [ ! -x "$BUILD/canaryd" ]; then
	die "no $BUILD/canaryd: run make first"
fi
ADMIN_PORT=$(free_port) || die "no free port for the admin listener"
TMP=$(mktemp -d /tmp/canary-routes.XXXXXX)
chmod 755 "$TMP"
NGINX_USER=
if [ "$(id -u)" -eq 0 ]; then
	if id www-data >/dev/null 2>&1; then NGINX_USER="user www-data www-data;"
	else NGINX_USER="user nobody nogroup;"; fi
fi
read -ra targets <<<"$PROXIES $CANARYD"
[ ${#targets[@]} -gt 0 ] || die "nothing to run (PROXIES empty, canaryd left out)"
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host=$(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "nginx=$(nginx -v 2>&1 | sed 's/.*: //')"
	echo "haproxy=$(haproxy -v | head -1 | awk '{ print $1, $2, $3 }')"
	echo "rounds=$ROUNDS"; echo "duration=$DURATION"; echo "conns=$CONNS"
	echo "workers=$WORKERS"; echo "wrk_threads=$WRK_THREADS"
	echo "counts=$ROUTE_COUNTS"
} >"$TMP/meta.txt"
printf 'round\troutes\tpath\ttarget\trps\tp99_us\terrors\tcpu_s\trequests\n' >"$TMP/runs.tsv"

log "targets: ${targets[*]}; counts: $ROUTE_COUNTS; rounds=$ROUNDS duration=${DURATION}s tmp=$TMP"
for n in $ROUTE_COUNTS; do configs "$n"; done

render "$HERE/conf/backends.nginx.conf.tmpl" "$TMP/backends.conf"
mkdir -p "$TMP/backends"
nginx -e "$TMP/backends.error.log" -c "$TMP/backends.conf" -g 'daemon off;' \
    >"$TMP/backends.out" 2>&1 &
STARTED+=($!)
for p in "$V1_PORT" "$V2_PORT"; do
	wait_http "http://127.0.0.1:$p/api" '"version"' 10 ||
	    die "backends did not come up (see $TMP/backends.*)"
done

# A proxy's counts run back to back, so "N routes over 1" compares runs
# a few seconds apart: the ratio the target is about moves least with
# whatever else the box is doing.  Each round rotates the order of the
# proxies and of the counts.
read -ra counts <<<"$ROUTE_COUNTS"
for ((r = 1; r <= ROUNDS; r++)); do
	log "round $r/$ROUNDS"
	for ((i = 0; i < ${#targets[@]}; i++)); do
		t=${targets[$(((i + r - 1) % ${#targets[@]}))]}
		for ((j = 0; j < ${#counts[@]}; j++)); do
			n=${counts[$(((j + r - 1) % ${#counts[@]}))]}
			start_proxy "$t" "$n"
			timeout $((WARMUP + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" \
			    -d"$WARMUP"s "http://127.0.0.1:$PROXY_PORT/api" >/dev/null 2>&1
			measure "$r" "$n" api "$t" /api
			measure "$r" "$n" last "$t" "/svc$n/api"
			stop_proxy
		done
	done
done
python3 "$HERE/benchlib.py" routes-report --tmp "$TMP" --out "$OUT"
log "results written to $OUT"
