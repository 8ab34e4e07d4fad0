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
# map_beg.  One worker each (ROUTES_WORKERS).
#
# A shared box's load moves req/s by more than the effect measured, so
# every figure is paired in time with the others: each round starts all
# proxy x count instances at once (each on its own port, PROXY_PORT and
# up), warms each for WARMUP s, then DURATION times runs a SLICE-second
# wrk -t1 -c ROUTES_CONNS on /api and on /svcN/api of every instance in
# turn (the order rotating), so each instance is measured for DURATION s
# per path spread over the whole round.  Results (markdown,
# BUILD_DIR/bench-routes.md unless given): median req/s, the median of
# per-round ratios canaryd / nginx and canaryd / haproxy, and each
# proxy's req/s with N routes over its own with the first count, which
# is what "independent of the route count" means; canaryd's CPU per
# request too.  After the rounds, each instance alone: its config's
# validation time, its memory (RSS and PSS of the process tree, the
# largest worker's RSS) and so the bytes each route costs, and canaryd's
# structural reload time (SIGHUP to a table with one more route
# answering).
#
# Knobs (environment; defaults in brackets):
#   ROUTE_COUNTS ["1 1000 10000"] (set but empty: skip the table)
#   ROUNDS [5]  DURATION [5]  SLICE [1]  WARMUP [1]  WRK_THREADS [1]
#   ROUTES_CONNS [20]  ROUTES_WORKERS [1] (their own names: run.sh's CONNS
#   and WORKERS mean its 50-connection, 2-worker runs)
#   PROXIES ["nginx haproxy"]  PROXY_PORT [10000] (instances take
#   PROXY_PORT, PROXY_PORT + 1, ...)  V1_PORT [8081]  V2_PORT [8082]
#   KEEP_TMP [0]  ROUTES_LOAD [1] (0: no validation, memory and reload
#   table)  VALIDATE_RUNS [5]  ROUTES_RELOADS [3] (reloads per count)
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
SLICE=${SLICE:-1}
WARMUP=${WARMUP:-1}
CONNS=${ROUTES_CONNS:-20}
WORKERS=${ROUTES_WORKERS:-1}
WRK_THREADS=${WRK_THREADS:-1}
PROXIES=${PROXIES-nginx haproxy}
PROXY_PORT=${PROXY_PORT:-10000}
V1_PORT=${V1_PORT:-8081}
V2_PORT=${V2_PORT:-8082}
KEEP_TMP=${KEEP_TMP:-0}
LOAD=${ROUTES_LOAD:-1}
VALIDATE_RUNS=${VALIDATE_RUNS:-5}
RELOADS=${ROUTES_RELOADS:-3}
SEED=$ROOT/etc/canary/envoy-canary.yaml
export PATH="$PATH:/usr/sbin:/sbin"

log() { printf '[%s] routes: %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# shellcheck source=tools/bench/proc.sh
. "$HERE/proc.sh"
# shellcheck source=tools/bench/seedconf.sh
. "$HERE/seedconf.sh"

# STARTED, forget, the exit trap, cpu_ticks, ticks_delta, render, kv
# shellcheck source=tools/bench/benchlib.sh
. "$HERE/benchlib.sh"

# config T N PORT: instance T-N's config, listening on PORT.
config() {
	local t=$1 n=$2 port=$3 f=$TMP/$1-$2 admin
	case $t in
	canaryd)
		admin=$(free_port) || die "no free port for an admin listener"
		PROXY_PORT=$port bench_config "$f.yaml" "$admin"
		bench_routes "$f.yaml" "$n"
		"$BUILD/canaryd" --mode validate -f "$f.yaml" >/dev/null ||
		    die "canaryd rejects $f.yaml"
		;;
	nginx)
		PROXY_PORT=$port render "$HERE/conf/proxy.nginx.conf.tmpl" "$f.in"
		[ "$(grep -c 'location = /health' "$f.in")" -eq 1 ] ||
		    die "proxy.nginx.conf.tmpl: expected one 'location = /health'"
		awk -v n="$n" -v pid="$f.pid" '
		    /^pid / { $0 = "pid " pid ";" }
		    /location = \/health/ {
			ind = $0; sub(/location.*/, "", ind)
			for (i = 1; i <= n; i++)
				printf "%slocation /svc%d/ { proxy_pass http://app_v1; }\n", ind, i
		    } { print }' "$f.in" >"$f.conf"
		mkdir -p "$TMP/nginx-proxy"
		nginx -t -q -e "$f.error.log" -c "$f.conf" || die "nginx rejects $f.conf"
		;;
	haproxy)
		awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "/svc%d/ be_v1\n", i }' \
		    >"$f.map"
		PROXY_PORT=$port render "$HERE/conf/proxy.haproxy.cfg.tmpl" "$f.in"
		[ "$(grep -c 'use_backend be_v1 if { path /health }' "$f.in")" -eq 1 ] ||
		    die "proxy.haproxy.cfg.tmpl: expected one 'use_backend be_v1 if { path /health }'"
		awk -v map="$f.map" -v pid="$f.pid" '
		    /^ *pidfile / { sub(/pidfile .*/, "pidfile " pid) }
		    /use_backend be_v1 if \{ path \/health \}/ {
			ind = $0; sub(/use_backend.*/, "", ind)
			printf "%shttp-request set-var(txn.route) path,map_beg(%s)\n", ind, map
			printf "%suse_backend %%[var(txn.route)] if { var(txn.route) -m found }\n", ind
		    } { print }' "$f.in" >"$f.cfg"
		haproxy -c -q -f "$f.cfg" || die "haproxy rejects $f.cfg"
		;;
	*)	die "unknown proxy $t" ;;
	esac
}

start() {	# K: instance K (INST[K] = "T N PORT") -> IPID[K], IPIDS[K]
	local t n port f
	read -r t n port <<<"${INST[$1]}"
	f=$TMP/$t-$n
	case $t in
	nginx)	nginx -e "$f.error.log" -c "$f.conf" -g 'daemon off;' >>"$f.out" 2>&1 & ;;
	haproxy) haproxy -W -db -f "$f.cfg" >>"$f.out" 2>&1 & ;;
	canaryd) mkdir -p "$f.state"
		"$BUILD/canaryd" --concurrency "$WORKERS" -l warning -f "$f.yaml" \
		    --state-dir "$f.state" >>"$f.out" 2>&1 & ;;
	esac
	IPID[$1]=$!
	STARTED+=("${IPID[$1]}")
	wait_http "http://127.0.0.1:$port/svc$n/api" '"version"' 30 "${IPID[$1]}" ||
	    die "$t with $n routes did not answer on :$port (see $f.*)"
}

# validate_ms T N: the median wall time of VALIDATE_RUNS checks of
# instance T-N's config by its own proxy, in ms.
validate_ms() {
	local f=$TMP/$1-$2 i t0 t1 ms=()
	for ((i = 0; i < VALIDATE_RUNS; i++)); do
		t0=$(date +%s%N)
		case $1 in
		canaryd) "$BUILD/canaryd" --mode validate -f "$f.yaml" >/dev/null ;;
		nginx)	nginx -t -q -e "$f.error.log" -c "$f.conf" ;;
		haproxy) haproxy -c -q -f "$f.cfg" ;;
		esac || die "$1 rejects its config with $2 routes"
		t1=$(date +%s%N)
		ms+=($(((t1 - t0) / 1000000)))
	done
	printf '%s\n' "${ms[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

stop_all() {
	local k
	for k in "${!INST[@]}"; do stop_pid "${IPID[$k]}"; forget "${IPID[$k]}"; done
}

measure() {	# ROUND K PATHNAME URLPATH: one SLICE-second wrk run, one row
	local t n port res c0 c1 errs k v
	read -r t n port <<<"${INST[$2]}"
	# shellcheck disable=SC2086  # a list of pids
	c0=$(cpu_ticks ${IPIDS[$2]})
	res=$(timeout $((SLICE + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"$SLICE"s \
	    --latency -s "$HERE/wrk-report.lua" "http://127.0.0.1:$port$4" 2>&1 |
	    grep '^WRKRESULT') || res="WRKRESULT requests=0 duration_s=0 rps=0 p99_us=0 err_status=1"
	# shellcheck disable=SC2086
	c1=$(cpu_ticks ${IPIDS[$2]})
	errs=0
	for k in err_connect err_read err_write err_timeout err_status; do
		v=$(kv $k "$res")
		errs=$((errs + ${v:-0}))
	done
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$n" "$3" "$t" \
	    "$(kv requests "$res")" "$(kv duration_s "$res")" "$(kv p99_us "$res")" \
	    "$errs" "$(ticks_delta "$c0" "$c1" | cut -d' ' -f1)" \
	    >>"$TMP/runs.tsv"
}

# ---------------------------------------------------------------- main
[ -n "$ROUTE_COUNTS" ] || { log "ROUTE_COUNTS empty: skipped"; exit 0; }
"$ROOT/tools/deps.sh" bench || die "missing packages (see above)"
CANARYD=canaryd
if [ -n "${CANARYD_CMD+set}" ] && [ -z "$CANARYD_CMD" ]; then
	CANARYD=
elif [ ! -x "$BUILD/canaryd" ]; then
	die "no $BUILD/canaryd: run make first"
fi
read -ra targets <<<"$PROXIES $CANARYD"
read -ra counts <<<"$ROUTE_COUNTS"
[ ${#targets[@]} -gt 0 ] || die "nothing to run (PROXIES empty, canaryd left out)"
INST=() IPID=() IPIDS=()
for t in "${targets[@]}"; do
	for n in "${counts[@]}"; do
		INST+=("$t $n $((PROXY_PORT + ${#INST[@]}))")
	done
done
for p in "$V1_PORT" "$V2_PORT"; do
	port_free "$p" || die "port $p already in use"
done
for k in "${!INST[@]}"; do
	read -r t n port <<<"${INST[$k]}"
	port_free "$port" || die "port $port already in use (instances take" \
	    "PROXY_PORT to PROXY_PORT + $((${#INST[@]} - 1)))"
done
TMP=$(mktemp -d /tmp/canary-routes.XXXXXX)
chmod 755 "$TMP"
NGINX_USER=$(nginx_user)
{
	echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "host=$(nproc) cores, $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "nginx=$(nginx -v 2>&1 | sed 's/.*: //')"
	echo "haproxy=$(haproxy -v | head -1 | awk '{ print $1, $2, $3 }')"
	echo "rounds=$ROUNDS"; echo "duration=$DURATION"; echo "slice=$SLICE"
	echo "conns=$CONNS"; echo "workers=$WORKERS"; echo "wrk_threads=$WRK_THREADS"
	echo "counts=$ROUTE_COUNTS"
} >"$TMP/meta.txt"
printf 'round\troutes\tpath\ttarget\trequests\tduration_s\tp99_us\terrors\tcpu_s\n' >"$TMP/runs.tsv"

log "targets: ${targets[*]}; counts: $ROUTE_COUNTS; rounds=$ROUNDS," \
    "${DURATION}x${SLICE}s per path; tmp=$TMP"
for k in "${!INST[@]}"; do
	# shellcheck disable=SC2086  # "target count port"
	config ${INST[$k]}
done

render "$HERE/conf/backends.nginx.conf.tmpl" "$TMP/backends.conf"
mkdir -p "$TMP/backends"
nginx -e "$TMP/backends.error.log" -c "$TMP/backends.conf" -g 'daemon off;' \
    >"$TMP/backends.out" 2>&1 &
BACKEND_PID=$!
STARTED+=("$BACKEND_PID")
for p in "$V1_PORT" "$V2_PORT"; do
	wait_http "http://127.0.0.1:$p/api" '"version"' 10 ||
	    die "backends did not come up (see $TMP/backends.*)"
done

ninst=${#INST[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	log "round $r/$ROUNDS: starting $ninst instances"
	for k in "${!INST[@]}"; do start "$k"; done
	sleep 0.3
	for k in "${!INST[@]}"; do
		IPIDS[k]=$(tree_pids "${IPID[$k]}")
		read -r t n port <<<"${INST[$k]}"
		timeout $((WARMUP + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"$WARMUP"s \
		    "http://127.0.0.1:$port/api" >/dev/null 2>&1
	done
	for ((s = 0; s < DURATION; s++)); do
		for ((j = 0; j < ninst; j++)); do
			k=$(((j + s + r) % ninst))
			read -r t n port <<<"${INST[$k]}"
			measure "$r" "$k" api /api
			measure "$r" "$k" last "/svc$n/api"
		done
	done
	stop_all
done
# Then each instance alone: how long its validation takes (canaryd
# --mode validate, nginx -t, haproxy -c; the median of VALIDATE_RUNS),
# its memory once it has served, and canaryd's structural reload
# (benchlib.py reload: SIGHUP to a new route table answering).
printf 'target\troutes\tvalidate_ms\trss_kb\tpss_kb\tworker_rss_kb\treload_ms\n' \
    >"$TMP/load.tsv"
if [ "$LOAD" = 1 ]; then
	for k in "${!INST[@]}"; do
		read -r t n port <<<"${INST[$k]}"
		log "load: $t with $n routes"
		vms=$(validate_ms "$t" "$n")
		start "$k"
		timeout $((WARMUP + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"$WARMUP"s \
		    "http://127.0.0.1:$port/svc$n/api" >/dev/null 2>&1
		mem=$(python3 "$HERE/benchlib.py" mem --root "${IPID[$k]}")
		rl=-
		if [ "$t" = canaryd ]; then
			rl=$(python3 "$HERE/benchlib.py" reload --pid "${IPID[$k]}" \
			    --port "$port" --config "$TMP/$t-$n.yaml" --n "$RELOADS") ||
			    die "canaryd with $n routes: reload not served (see $TMP/$t-$n.*)"
		fi
		stop_pid "${IPID[$k]}"
		forget "${IPID[$k]}"
		printf '%s\t%s\t%s\t%s\t%s\n' "$t" "$n" "$vms" "${mem// /$'\t'}" "$rl" \
		    >>"$TMP/load.tsv"
	done
fi
python3 "$HERE/benchlib.py" routes-report --tmp "$TMP" --out "$OUT"
log "results written to $OUT"
