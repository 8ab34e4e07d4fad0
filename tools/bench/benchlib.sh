# shellcheck shell=bash
# tools/bench/benchlib.sh -- what the benchmark runners share.
#
# Sourced by run.sh, routes.sh, bulk.sh and placement.sh after proc.sh,
# with log() defined.  They start servers in the background, keep their
# pids in STARTED and their files under TMP; the exit trap set here stops
# every one of them by PID, newest first, and removes TMP unless KEEP_TMP
# is 1 or the run failed.

STARTED=()	# top-level pids we started (proxies, backends, background jobs)

# forget PID: a pid stopped by hand is not stopped again at exit.
forget() {
	local x keep=()
	for x in "${STARTED[@]}"; do [ "$x" != "$1" ] && keep+=("$x"); done
	STARTED=("${keep[@]}")
}

bench_cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do stop_pid "${STARTED[$i]}"; done
	if [ -n "${TMP:-}" ] && [ -d "$TMP" ]; then
		if [ "${KEEP_TMP:-0}" = 1 ] || [ $rc -ne 0 ]; then
			log "temp dir kept: $TMP"
		else
			rm -rf "$TMP"
		fi
	fi
	exit $rc
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# existing FILE PIDS...: /proc/PID/FILE of the pids still there.
existing() {
	local f=$1 p
	shift
	for p in "$@"; do [ -r "/proc/$p/$f" ] && echo "/proc/$p/$f"; done
}

CLK_TCK=$(getconf CLK_TCK)
# cpu_ticks PIDS... -> "utime stime" (clock ticks) summed over the pids
cpu_ticks() {
	local f
	f=$(existing stat "$@")
	[ -n "$f" ] || { echo 0 0; return; }
	# shellcheck disable=SC2086  # a list of files
	awk '{ sub(/^.*\) /, ""); u += $12; s += $13 } END { print u + 0, s + 0 }' \
	    $f 2>/dev/null || echo 0 0
}
# ticks_delta "u s" "u s" -> "total usr sys" seconds from the first to the second
ticks_delta() {
	awk -v a="$1" -v b="$2" -v t="$CLK_TCK" 'BEGIN {
		split(a, x, " "); split(b, y, " ")
		u = (y[1] - x[1]) / t; s = (y[2] - x[2]) / t
		printf "%.2f %.2f %.2f", u + s, u, s }'
}

# render TEMPLATE OUT: the bench's @VARS@ filled in
render() {
	sed -e "s|@TMP@|$TMP|g" -e "s|@PROXY_PORT@|$PROXY_PORT|g" \
	    -e "s|@V1_PORT@|$V1_PORT|g" -e "s|@V2_PORT@|$V2_PORT|g" \
	    -e "s|@WORKERS@|$WORKERS|g" -e "s|@NGINX_USER@|$NGINX_USER|g" "$1" >"$2"
}

# bulk_start BACKEND_CMD...: the backend (BACKEND_CMD --port V1_PORT, its
# log in TMP) as BACKEND_PID, and the scale tables' canaryd configuration
# on PROXY_PORT, V1_PORT and ADMIN_PORT in TMP/canaryd.yaml (bulk.sh and
# placement.sh).  Exits when the backend does not answer.
bulk_start() {
	"$@" --port "$V1_PORT" --name v1 >"$TMP/backend.log" 2>&1 &
	BACKEND_PID=$!
	STARTED+=("$BACKEND_PID")
	wait_http "http://127.0.0.1:$V1_PORT/" '"version"' 10 "$BACKEND_PID" ||
	    { log "backend did not start (see $TMP/backend.log)"; exit 1; }
	sed -e "s|@TMP@|$TMP|g" -e "s|@PROXY_PORT@|$PROXY_PORT|g" -e "s|@V1_PORT@|$V1_PORT|g" \
	    -e "s|@ADMIN_PORT@|$ADMIN_PORT|g" "$HERE/conf/scale.canaryd.yaml.tmpl" >"$TMP/canaryd.yaml"
}

# kv KEY "k=v k=v ..." -> the value of KEY
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# nginx_user: the "user" line nginx needs when run as root (workers drop
# to an unprivileged user), nothing otherwise.
nginx_user() {
	[ "$(id -u)" -eq 0 ] || return 0
	if id www-data >/dev/null 2>&1; then
		echo "user www-data www-data;"
	else
		echo "user nobody nogroup;"
	fi
}
