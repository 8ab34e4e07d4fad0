#!/usr/bin/env bash
# Peer-proxy benchmark for canaryd (Envoy-style 90/10 weighted split).
# `make bench` runs it through tools/bench.sh, which builds CANARYD_CMD from
# the seed config; run it by hand to compare other builds or settings.
#
#   clients --> proxy 127.0.0.1:$PROXY_PORT --> 90% v1 :$V1_PORT / 10% v2 :$V2_PORT
#
# Usage:  [VAR=value ...] ./run.sh RESULTS.md
#
# Starts nginx backends (1 worker), then for ROUNDS interleaved rounds runs wrk
# directly against v1 ("direct", the no-proxy upper bound) and through every
# proxy (nginx, haproxy, and canaryd when CANARYD_CMD is set). Each proxy is
# started fresh per round, warmed up, measured (throughput run + latency run),
# stopped. Then per proxy: split check, idle-connection memory, reload under
# load. Results (markdown) go to RESULTS.md and stdout. ~4.5 min with defaults.
# Needs root only to apt-get install missing tools (tools/deps.sh bench).
#
# Knobs (environment; defaults in brackets):
#   PROXY_PORT [10000] V1_PORT [8081] V2_PORT [8082]   -- the only place ports live
#   WORKERS [2]          worker processes (nginx) / threads (haproxy); exported to canaryd
#   ROUNDS [3]           interleaved rounds (target order rotates every round)
#   DURATION [10]        seconds per wrk run;  WARMUP [2] seconds of wrk warm-up
#   WRK_THREADS [1]  CONNS [50]  LAT_CONNS [4]
#   PROXIES ["nginx haproxy"]   canaryd is appended when CANARYD_CMD is set
#   CANARYD_CMD          e.g. "/path/canaryd -f cfg.yaml"; run via bash -c with
#                        PROXY_PORT V1_PORT V2_PORT WORKERS BENCH_TMP exported
#   CANARYD_RELOAD_CMD   e.g. 'kill -HUP $CANARYD_PID' (reload test skipped if unset)
#   SPLIT_N [2000]  IDLE_CONNS [5000] (0 = skip)  RELOADS [5] (0 = skip)
#   KEEP_TMP [0]         1 = keep the temp dir (configs, logs, raw TSVs)
set -uo pipefail

PROXY_PORT=${PROXY_PORT:-10000}
V1_PORT=${V1_PORT:-8081}
V2_PORT=${V2_PORT:-8082}
WORKERS=${WORKERS:-2}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
WRK_THREADS=${WRK_THREADS:-1}
CONNS=${CONNS:-50}
LAT_CONNS=${LAT_CONNS:-4}
PROXIES=${PROXIES-nginx haproxy}
CANARYD_CMD=${CANARYD_CMD:-}
CANARYD_RELOAD_CMD=${CANARYD_RELOAD_CMD:-}
SPLIT_N=${SPLIT_N:-2000}
IDLE_CONNS=${IDLE_CONNS:-5000}
RELOADS=${RELOADS:-5}
KEEP_TMP=${KEEP_TMP:-0}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools/bench/proc.sh
. "$HERE/proc.sh"
LUA="$HERE/wrk-report.lua"
LIB="$HERE/benchlib.py"
export PATH="$PATH:/usr/sbin:/sbin"

OUT=${1:-}
[ -n "$OUT" ] || { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 2; }
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ------------------------------------------------------------ dependencies
# One installer for the whole repo: nginx haproxy wrk beside the build tools.
ensure_deps() { "$HERE/../deps.sh" bench || die "missing packages (see above)"; }

# ------------------------------------------------------------ process helpers
# STARTED, forget, the exit trap, existing, cpu_ticks, ticks_delta, render, kv
# shellcheck source=tools/bench/benchlib.sh
. "$HERE/benchlib.sh"

rss_kb() { local f; f=$(existing status "$@"); [ -n "$f" ] || { echo 0; return; }
           awk '/^VmRSS:/ { s += $2 } END { print s + 0 }' $f 2>/dev/null || echo 0; }
pss_kb() { local f; f=$(existing smaps_rollup "$@"); [ -n "$f" ] || { echo 0; return; }
           awk '/^Pss:/ { s += $2 } END { print s + 0 }' $f 2>/dev/null || echo 0; }
host_cpu() { awk '/^cpu / { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $5 + $6; exit }' /proc/stat; }  # total idle

wait_ready() {  # $1 port, $2 path: up to 10 s for a 200 with a version body
    wait_http "http://127.0.0.1:$1$2" '"version"' 10
}

# ------------------------------------------------------------ backends / proxies
start_backends() {
    render "$HERE/conf/backends.nginx.conf.tmpl" "$TMP/backends.conf"
    mkdir -p "$TMP/backends"
    nginx -t -q -e "$TMP/backends.error.log" -c "$TMP/backends.conf" || die "backend config invalid"
    nginx -e "$TMP/backends.error.log" -c "$TMP/backends.conf" -g 'daemon off;' >"$TMP/backends.out" 2>&1 &
    BACKEND_PID=$!; STARTED+=("$BACKEND_PID")
    wait_ready "$V1_PORT" /api && wait_ready "$V2_PORT" /api || die "backends did not come up (see $TMP/backends.*)"
    sleep 0.2; BACKEND_PIDS=$(tree_pids "$BACKEND_PID")
}

start_proxy() {  # $1 name -> PROXY_PID, PROXY_PIDS
    local name=$1
    case $name in
    nginx)
        render "$HERE/conf/proxy.nginx.conf.tmpl" "$TMP/nginx-proxy.conf"
        mkdir -p "$TMP/nginx-proxy"
        nginx -t -q -e "$TMP/nginx-proxy.error.log" -c "$TMP/nginx-proxy.conf" || die "nginx proxy config invalid"
        nginx -e "$TMP/nginx-proxy.error.log" -c "$TMP/nginx-proxy.conf" -g 'daemon off;' >>"$TMP/nginx-proxy.out" 2>&1 &
        ;;
    haproxy)
        render "$HERE/conf/proxy.haproxy.cfg.tmpl" "$TMP/haproxy.cfg"
        haproxy -c -q -f "$TMP/haproxy.cfg" || die "haproxy config invalid"
        haproxy -W -db -f "$TMP/haproxy.cfg" >>"$TMP/haproxy.out" 2>&1 &   # master-worker, foreground
        ;;
    canaryd)
        bash -c "exec $CANARYD_CMD" >>"$TMP/canaryd.out" 2>&1 &
        ;;
    *) die "unknown proxy $name" ;;
    esac
    PROXY_PID=$!; STARTED+=("$PROXY_PID")
    wait_ready "$PROXY_PORT" /api || die "$name did not answer on :$PROXY_PORT (see $TMP/$name*)"
    sleep 0.3; PROXY_PIDS=$(tree_pids "$PROXY_PID")
}

stop_proxy() { stop_pid "$PROXY_PID"; forget "$PROXY_PID"; PROXY_PID=; PROXY_PIDS=; }

reload_proxy() {  # $1 name
    case $1 in
    nginx) kill -HUP "$PROXY_PID" ;;
    haproxy) kill -USR2 "$PROXY_PID" ;;
    canaryd) CANARYD_PID=$PROXY_PID bash -c "$CANARYD_RELOAD_CMD" ;;
    esac
}
reload_log_lines() {  # $1 name -> lines mentioning a reload in its log so far
    local f="$TMP/$1.out" n=0
    [ -r "$f" ] && n=$(grep -ci reload "$f")
    echo "${n:-0}"
}
reload_method() {
    case $1 in nginx) echo "SIGHUP to master" ;; haproxy) echo "-W master, SIGUSR2" ;;
    canaryd) echo "${CANARYD_RELOAD_CMD//|/\\|}" ;; esac
}

# ------------------------------------------------------------ wrk
wrk_run() {  # $1 port, $2 conns, $3 secs, $4 outfile -> prints WRKRESULT line
    timeout $(($3 + 30)) wrk -t"$WRK_THREADS" -c"$2" -d"$3"s --latency -s "$LUA" \
        "http://127.0.0.1:$1/api" >"$4" 2>&1
    grep '^WRKRESULT' "$4" || echo "WRKRESULT requests=0 rps=0 p50_us=0 p90_us=0 p99_us=0 max_us=0 err_connect=0 err_read=0 err_write=0 err_timeout=0 err_status=0 failed=1"
}

RUN_HDR="round\ttarget\ttest\tconns\trequests\trps\tp50_us\tp90_us\tp99_us\tmax_us\terr_connect\terr_read\terr_write\terr_timeout\terr_status\tproxy_rss_max_kb\tproxy_pss_kb\tproxy_cpu_s\tproxy_usr_s\tproxy_sys_s\tbackend_cpu_s\thost_busy_pct"

measure() {  # $1 round, $2 target, $3 test(thr|lat), $4 conns, $5 port
    local round=$1 target=$2 test=$3 conns=$4 port=$5 res c0 c1 b0 b1 rss=NA pss=NA cpu="NA NA NA" sampler=
    local flag="$TMP/sampling" maxf="$TMP/rss_max"
    local h0 h1 busy
    b0=$(cpu_ticks $BACKEND_PIDS); h0=$(host_cpu)
    if [ -n "${PROXY_PIDS:-}" ]; then
        c0=$(cpu_ticks $PROXY_PIDS); : >"$flag"; echo 0 >"$maxf"
        (   # sample summed RSS every 0.5 s while wrk runs (bounded)
            max=0; i=0
            while [ -e "$flag" ] && [ $i -lt $((DURATION * 2 + 60)) ]; do
                cur=$(rss_kb $PROXY_PIDS); [ "$cur" -gt "$max" ] && max=$cur && echo "$max" >"$maxf"
                sleep 0.5; i=$((i + 1))
            done ) &
        sampler=$!; STARTED+=("$sampler")
    fi
    res=$(wrk_run "$port" "$conns" "$DURATION" "$TMP/wrk-$target-$test-r$round.txt")
    b1=$(cpu_ticks $BACKEND_PIDS); h1=$(host_cpu)
    busy=$(awk -v a="$h0" -v b="$h1" 'BEGIN { split(a, x, " "); split(b, y, " ")
        printf "%.0f", 100 * (1 - (y[2] - x[2]) / (y[1] - x[1])) }')
    if [ -n "$sampler" ]; then
        c1=$(cpu_ticks $PROXY_PIDS); pss=$(pss_kb $PROXY_PIDS)
        rm -f "$flag"; wait "$sampler" 2>/dev/null; forget "$sampler"
        rss=$(cat "$maxf"); cpu=$(ticks_delta "$c0" "$c1")
    fi
    local bcpu; bcpu=$(ticks_delta "$b0" "$b1"); bcpu=${bcpu%% *}
    printf '%s\t%s\t%s\t%s' "$round" "$target" "$test" "$conns" >>"$TMP/runs.tsv"
    local k; for k in requests rps p50_us p90_us p99_us max_us err_connect err_read err_write err_timeout err_status; do
        printf '\t%s' "$(kv $k "$res")" >>"$TMP/runs.tsv"
    done
    printf '\t%s\t%s\t%s\t%s\t%s\n' "$rss" "$pss" "${cpu// /$'\t'}" "$bcpu" "$busy" >>"$TMP/runs.tsv"
    log "  r$round $target/$test c=$conns: rps=$(kv rps "$res") p50=$(kv p50_us "$res")us p99=$(kv p99_us "$res")us" \
        "errs=$(($(kv err_connect "$res") + $(kv err_read "$res") + $(kv err_write "$res") + $(kv err_timeout "$res") + $(kv err_status "$res")))" \
        "rss=${rss}kB cpu(total usr sys)=${cpu}s host_busy=${busy}%"
}

bench_target() {  # $1 round, $2 target (direct | proxy name)
    local round=$1 t=$2 port=$PROXY_PORT
    if [ "$t" = direct ]; then
        port=$V1_PORT; PROXY_PIDS=
    else
        start_proxy "$t"
    fi
    timeout $((WARMUP + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"$WARMUP"s "http://127.0.0.1:$port/api" >/dev/null 2>&1
    measure "$round" "$t" thr "$CONNS" "$port"
    measure "$round" "$t" lat "$LAT_CONNS" "$port"
    [ "$t" = direct ] || stop_proxy
}

# ------------------------------------------------------------ functional checks
split_check() {  # $1 proxy name (proxy already running)
    local path n res
    for path in /api /health; do
        n=$SPLIT_N; [ "$path" = /health ] && n=200
        res=$(python3 "$LIB" split --port "$PROXY_PORT" --n "$n" --path "$path")
        log "  split $1 $path: $res"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$path" "$n" "$(kv v1 "$res")" "$(kv v2 "$res")" \
            "$(kv other "$res")" "$(kv errors "$res")" "$(kv ctype_bad "$res")" >>"$TMP/split.tsv"
    done
}

idle_check() {  # $1 proxy name (proxy already running)
    local res k
    res=$(timeout 120 python3 "$LIB" idle --port "$PROXY_PORT" --n "$IDLE_CONNS" --root "$PROXY_PID") || { log "  idle $1 failed: $res"; return; }
    log "  idle $1: $res"
    printf '%s' "$1" >>"$TMP/idle.tsv"
    for k in conns still_open rss_base_kb rss_connected_kb rss_after_req_kb rss_per_conn_connected_b \
             rss_per_conn_after_req_b pss_per_conn_after_req_b; do printf '\t%s' "$(kv $k "$res")" >>"$TMP/idle.tsv"; done
    echo >>"$TMP/idle.tsv"
}

reload_check() {  # $1 proxy name: wrk for DURATION s while reloading RELOADS times
    local name=$1 wpid res seen=0 i before after logs0 logs1 interval ok_after=no
    interval=$(awk -v d="$DURATION" -v n="$RELOADS" 'BEGIN { printf "%.2f", d / (n + 1) }')
    timeout $((WARMUP + 30)) wrk -t"$WRK_THREADS" -c"$CONNS" -d1s "http://127.0.0.1:$PROXY_PORT/api" >/dev/null 2>&1
    wrk_run "$PROXY_PORT" "$CONNS" "$DURATION" "$TMP/wrk-$name-reload.txt" >"$TMP/reload-res.txt" &
    wpid=$!; STARTED+=("$wpid")
    for i in $(seq 1 "$RELOADS"); do
        sleep "$interval"
        before=$(tree_pids "$PROXY_PID" | sort); logs0=$(reload_log_lines "$name")
        reload_proxy "$name"
        sleep 0.3
        after=$(tree_pids "$PROXY_PID" | sort); logs1=$(reload_log_lines "$name")
        # a reload "took" if a process that did not exist before showed up, or
        # (canaryd swaps an unchanged config in place, forking nothing) if
        # the proxy logged another line about a reload
        if [ -n "$(comm -13 <(echo "$before") <(echo "$after"))" ] || [ "$logs1" -gt "$logs0" ]; then
            seen=$((seen + 1))
        fi
    done
    wait "$wpid"; forget "$wpid"
    res=$(cat "$TMP/reload-res.txt")
    wait_ready "$PROXY_PORT" /api && ok_after=yes
    log "  reload $name: seen=$seen/$RELOADS $res ok_after=$ok_after"
    printf '%s\t%s\t%s\t%s' "$name" "$(reload_method "$name")" "$RELOADS" "$seen" >>"$TMP/reload.tsv"
    local k; for k in requests rps p99_us max_us err_status err_connect err_read err_write err_timeout; do
        printf '\t%s' "$(kv $k "$res")" >>"$TMP/reload.tsv"; done
    printf '\t%s\n' "$ok_after" >>"$TMP/reload.tsv"
}

# ------------------------------------------------------------ main
ensure_deps
[ -r "$LUA" ] && [ -r "$LIB" ] || die "missing $LUA or $LIB"
for p in "$PROXY_PORT" "$V1_PORT" "$V2_PORT"; do port_free "$p" || die "port $p already in use"; done
# fds: 5000 idle conns + wrk; use the hard limit (capped at 65536)
hard=$(ulimit -Hn); [ "$hard" = unlimited ] && hard=65536; [ "$hard" -gt 65536 ] && hard=65536
ulimit -n "$hard"

TMP=$(mktemp -d /tmp/canary-bench.XXXXXX); chmod 755 "$TMP"
export PROXY_PORT V1_PORT V2_PORT WORKERS BENCH_TMP=$TMP
NGINX_USER=$(nginx_user)

targets=(direct $PROXIES)
[ -n "$CANARYD_CMD" ] && targets+=(canaryd)
proxies=("${targets[@]:1}")

{
    echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "host=$(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "kernel=$(uname -r)"
    echo "cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "nginx=$(nginx -v 2>&1 | sed 's/.*: //')"
    echo "haproxy=$(haproxy -v | head -1)"
    echo "wrk=$(wrk -v 2>&1 | head -1)"
    echo "python=$(python3 --version)"
    [ -n "$CANARYD_CMD" ] && echo "canaryd_cmd=$CANARYD_CMD"
    echo "workers=$WORKERS (nginx worker_processes / haproxy nbthread); backends: 1 nginx worker"
    echo "rounds=$ROUNDS"; echo "duration=$DURATION"; echo "conns=$CONNS"; echo "reloads=$RELOADS"
    echo "wrk_threads=$WRK_THREADS"
    echo "wrk_thr=wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s --latency -s wrk-report.lua http://127.0.0.1:PORT/api"
    echo "wrk_lat=wrk -t$WRK_THREADS -c$LAT_CONNS -d${DURATION}s --latency -s wrk-report.lua http://127.0.0.1:PORT/api"
    echo "ports=proxy $PROXY_PORT, v1 $V1_PORT, v2 $V2_PORT"
} >"$TMP/meta.txt"
printf "$RUN_HDR\n" >"$TMP/runs.tsv"
printf 'target\tpath\tn\tv1\tv2\tother\terrors\tctype_bad\n' >"$TMP/split.tsv"
printf 'target\tconns\tstill_open\trss_base_kb\trss_connected_kb\trss_after_req_kb\trss_per_conn_connected_b\trss_per_conn_after_req_b\tpss_per_conn_after_req_b\n' >"$TMP/idle.tsv"
printf 'target\tmethod\treloads\treloads_seen\trequests\trps\tp99_us\tmax_us\terr_status\terr_connect\terr_read\terr_write\terr_timeout\tok_after\n' >"$TMP/reload.tsv"

log "targets: ${targets[*]}; workers=$WORKERS rounds=$ROUNDS duration=${DURATION}s tmp=$TMP"
start_backends

# Phase 1: interleaved rounds; the target order rotates each round.
n=${#targets[@]}
for ((r = 1; r <= ROUNDS; r++)); do
    log "round $r/$ROUNDS"
    for ((j = 0; j < n; j++)); do
        bench_target "$r" "${targets[$(((j + r - 1) % n))]}"
    done
done

# Phase 2: functional checks per proxy (fresh process for each check group).
for t in "${proxies[@]}"; do
    log "checks: $t"
    start_proxy "$t"
    split_check "$t"
    [ "$IDLE_CONNS" -gt 0 ] && idle_check "$t"
    stop_proxy
    if [ "$RELOADS" -gt 0 ] && { [ "$t" != canaryd ] || [ -n "$CANARYD_RELOAD_CMD" ]; }; then
        start_proxy "$t"
        reload_check "$t"
        stop_proxy
    fi
done

python3 "$LIB" report --tmp "$TMP" --out "$OUT"
log "results written to $OUT"
