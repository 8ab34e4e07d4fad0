#!/usr/bin/env bash
# tools/demo.sh BUILD_DIR -- `make demo`: the user's run steps, for real.
#
# Starts the two demo backends (v1 :8081, v2 :8082) and canaryd on the user's
# own config (etc/canary/envoy-canary.yaml, unchanged, so its ports: proxy
# :10000, admin :9901), waits for the admin /ready, then runs the steps of
# RUN-STEPS.md as the user types them, printing each command and its output,
# and checks what the user expects to see.  It then keeps serving until
# Ctrl-C.  With DEMO_EXIT=1 it stops right after the steps and exits 1 if a
# check failed (tests use that).  Whatever it started it stops, by PID, on
# every way out.  Logs: BUILD_DIR/demo/.
set -u

[ $# -eq 1 ] || { echo "usage: tools/demo.sh BUILD_DIR" >&2; exit 2; }
[ -d "$1" ] || { echo "demo: no build directory $1 (run make)" >&2; exit 1; }
BUILD=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=tools/bench/proc.sh
. tools/bench/proc.sh

CONFIG=etc/canary/envoy-canary.yaml
LOGDIR=$BUILD/demo
STARTED=()

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	# Newest first: canaryd goes before the backends it talks to.
	for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
		stop_pid "${STARTED[$i]}"
	done
	[ ${#STARTED[@]} -gt 0 ] && say "stopped everything it started"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for f in canaryd backend; do
	[ -x "$BUILD/$f" ] || die "no $BUILD/$f (run make)"
done
# The user's config fixes the ports; refuse to start beside another server.
for p in 8081 8082 10000 9901; do
	port_free "$p" || die "port $p is busy (something already listens" \
	    "there); stop it and run the demo again"
done
mkdir -p "$LOGDIR" || exit 1

# start NAME CMD...: run CMD in the background, output to LOGDIR/NAME.log.
start() {
	local name=$1
	shift
	say "starting $name: $*"
	"$@" >"$LOGDIR/$name.log" 2>&1 &
	LAST_PID=$!
	STARTED+=("$LAST_PID")
}

# failed_start NAME: the server did not come up; show why and stop.
failed_start() {
	say "$1 did not come up; last lines of $LOGDIR/$1.log:" >&2
	tail -n 30 "$LOGDIR/$1.log" >&2
	exit 1
}

start backend-v1 "$BUILD/backend" --port 8081 --name v1
wait_http http://127.0.0.1:8081/ '"version":"v1"' 10 "$LAST_PID" ||
    failed_start backend-v1
start backend-v2 "$BUILD/backend" --port 8082 --name v2
wait_http http://127.0.0.1:8082/ '"version":"v2"' 10 "$LAST_PID" ||
    failed_start backend-v2
start canaryd "$BUILD/canaryd" -f "$CONFIG"
CANARYD_PID=$LAST_PID
# 30 s: a sanitizer build starts slowly on a busy two-core box.
wait_http http://127.0.0.1:9901/ready '^LIVE' 30 "$CANARYD_PID" ||
    failed_start canaryd
# The first active health check of backend_v1 runs at start; give it a
# moment to pass, as a user typing the next command would (not fatal: the
# steps below show what canaryd does either way).
wait_http http://127.0.0.1:9901/clusters \
    '^backend_v1::127\.0\.0\.1:8081::health_flags::healthy' 5 "$CANARYD_PID" ||
    say "backend_v1 not reported healthy yet; running the steps anyway"
say "canaryd is ready (master pid $CANARYD_PID)"

FAILED=0
OUT=
# step CMD: print the command as the user types it, run it, print its output.
step() {
	printf '\n$ %s\n' "$1"
	OUT=$(bash -c "$1" 2>&1)
	printf '%s\n' "$OUT"
}
# check WHAT OK: one line per expectation; a failure is remembered.
check() {
	if [ "$2" = 0 ]; then
		printf '  -> ok: %s\n' "$1"
	else
		printf '  -> FAILED: %s\n' "$1"
		FAILED=1
	fi
}
has() { grep -Eq -- "$1" <<<"$OUT"; echo $?; }

step 'for i in {1..20}; do curl -s http://localhost:10000/api; done | sort | uniq -c'
v1=$(awk '/"version":"v1"/ { n += $1 } END { print n + 0 }' <<<"$OUT")
v2=$(awk '/"version":"v2"/ { n += $1 } END { print n + 0 }' <<<"$OUT")
check "18 v1 and 2 v2 answers (got $v1 v1, $v2 v2)" \
    "$([ "$v1" -eq 18 ] && [ "$v2" -eq 2 ]; echo $?)"

step 'curl -s http://localhost:9901/stats | grep cluster.backend_v1'
check "cluster.backend_v1.* counters listed" \
    "$(has '^cluster\.backend_v1\.upstream_rq_total: [0-9]+$')"

step 'curl -s http://localhost:9901/clusters'
check "both clusters listed with their observability_name" \
    "$([ "$(has '^backend_v1::observability_name::backend_v1$')" = 0 ] &&
    [ "$(has '^backend_v2::observability_name::backend_v2$')" = 0 ]; echo $?)"

step 'curl -s http://localhost:9901/config_dump | head -40'
check "config_dump answers JSON" "$(has '^\{')"

step 'curl -s http://localhost:10000/health'
check "/health answered by v1" "$(has '^\{"version":"v1",')"

# canaryd's own view of the split (not one of the user's steps)
step 'curl -s "http://localhost:9901/canary?format=text"'
check "/canary shows both versions of the weighted route" \
    "$([ "$(has '^ *backend_v1 ')" = 0 ] &&
    [ "$(has '^ *backend_v2 ')" = 0 ]; echo $?)"

echo
if [ "$FAILED" -ne 0 ]; then
	say "some checks FAILED; canaryd's log: $LOGDIR/canaryd.log"
else
	say "all run steps behaved as RUN-STEPS.md says"
fi
if [ "${DEMO_EXIT:-0}" = 1 ]; then
	exit "$FAILED"
fi

cat <<EOF

canaryd keeps serving: proxy http://localhost:10000/, admin http://localhost:9901/
  (logs in $LOGDIR/). To change the split, edit $CONFIG, then
  kill -HUP $CANARYD_PID
Press Ctrl-C to stop canaryd and both backends.
EOF
wait "$CANARYD_PID"
rc=$?
say "canaryd exited by itself (status $rc); see $LOGDIR/canaryd.log"
exit 1
