#!/usr/bin/env bash
# tools/fleet-demo.sh BUILD_DIR -- `make fleet-demo`: fleet mode, for real.
#
# Starts a 3-member etcd cluster on loopback (tools/etcdlib.py, data in a
# temporary directory), the two demo backends (v1 :8181, v2 :8182) and
# three canaryd instances of one fleet, edge-1..edge-3 (proxy :10001..3,
# admin :9911..3, a state directory each), then a bounded load spread
# unevenly over the three (at most FLEET_DEMO_RATE requests a second, for
# at most FLEET_DEMO_SECONDS).  It shows:
#   1. a healthy canary promoted across the fleet, step by step, every
#      instance applying the same revision;
#   2. a new attempt whose canary fails for part of the traffic (one
#      request in five): the fleet sees it in its merged numbers and rolls
#      it back everywhere, with the decision history.
# Then it keeps serving until Ctrl-C (FLEET_DEMO_EXIT=1: it stops at once,
# exit status 1 if a step did not happen).  Whatever it started it stops,
# by PID, on every way out.  Logs: BUILD_DIR/fleet-demo/.
set -u

[ $# -eq 1 ] || { echo "usage: tools/fleet-demo.sh BUILD_DIR" >&2; exit 2; }
[ -d "$1" ] || { echo "fleet-demo: no build directory $1 (run make)" >&2;
    exit 1; }
BUILD=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 1
# shellcheck source=tools/bench/proc.sh
. tools/bench/proc.sh

LOGDIR=$BUILD/fleet-demo
RATE=${FLEET_DEMO_RATE:-150}
SECONDS_MAX=${FLEET_DEMO_SECONDS:-180}
NODES="1 2 3"
STARTED=()
FAILED=0

say() { printf 'fleet-demo: %s\n' "$*"; }
die() { printf 'fleet-demo: %s\n' "$*" >&2; exit 1; }

cleanup() {
	local rc=$? i
	trap - EXIT INT TERM
	# Newest first: the load, then canaryd, the backends, etcd.
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
command -v etcd >/dev/null || die "no etcd (tools/deps.sh installs it)"
for p in 8181 8182 10001 10002 10003 9911 9912 9913; do
	port_free "$p" || die "port $p is busy; stop what listens there and" \
	    "run the demo again"
done
rm -rf "$LOGDIR"
mkdir -p "$LOGDIR" || exit 1

# start NAME CMD...: run CMD in the background, output to LOGDIR/NAME.log.
start() {
	local name=$1
	shift
	"$@" >"$LOGDIR/$name.log" 2>&1 &
	LAST_PID=$!
	STARTED+=("$LAST_PID")
}

failed_start() {
	say "$1 did not come up; last lines of $LOGDIR/$1.log:" >&2
	tail -n 30 "$LOGDIR/$1.log" >&2
	exit 1
}

# ---- etcd, backends, three instances ----------------------------------------

say "starting a 3-member etcd cluster on loopback"
start etcd python3 tools/etcdlib.py --members 3 --logdir "$LOGDIR/etcd"
ETCD_PID=$LAST_PID
ENDPOINTS=
for _ in $(seq 1 300); do
	ENDPOINTS=$(sed -n 's/^etcd endpoints: //p' "$LOGDIR/etcd.log")
	[ -n "$ENDPOINTS" ] && break
	kill -0 "$ETCD_PID" 2>/dev/null || failed_start etcd
	sleep 0.1
done
[ -n "$ENDPOINTS" ] || failed_start etcd
say "etcd: $ENDPOINTS"

start backend-v1 "$BUILD/backend" --port 8181 --name v1 --addr 127.0.0.1
wait_http http://127.0.0.1:8181/ '"version":"v1"' 10 "$LAST_PID" ||
    failed_start backend-v1
start backend-v2 "$BUILD/backend" --port 8182 --name v2 --addr 127.0.0.1
wait_http http://127.0.0.1:8182/ '"version":"v2"' 10 "$LAST_PID" ||
    failed_start backend-v2

# config N: edge-N's configuration, on stdout.
config() {
	cat <<EOF
node:
  id: edge-$1
  cluster: demo
  metadata:
    canaryd:
      fleet:
        etcd: [$ENDPOINTS]
        prefix: /canaryd/demo
        lease_ttl: 3s
        report_interval: 0.5s
        state_dir: $LOGDIR/state-edge-$1
static_resources:
  listeners:
  - name: main
    address:
      socket_address: { address: 127.0.0.1, port_value: 1000$1 }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            name: routes
            virtual_hosts:
            - name: app
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                name: web
                route:
                  weighted_clusters:
                    clusters:
                    - { name: backend_v1, weight: 90 }
                    - { name: backend_v2, weight: 10 }
                metadata:
                  filter_metadata:
                    canaryd:
                      rollout:
                        canary: backend_v2
                        stable: backend_v1
                        steps: [10, 25, 50, 100]
                        step_interval: 4s
                        window: 4s
                        min_requests: 40
                        max_error_rate_delta: 0.05
                        max_p99_ratio: 20
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: backend_v1
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend_v1
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: 8181 }
  - name: backend_v2
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend_v2
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: 8182 }
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: 991$1 }
EOF
}

for n in $NODES; do
	mkdir -p "$LOGDIR/state-edge-$n"
	config "$n" >"$LOGDIR/edge-$n.yaml"
	start "edge-$n" "$BUILD/canaryd" -f "$LOGDIR/edge-$n.yaml" \
	    --concurrency 1 --state-dir "$LOGDIR/state-edge-$n"
	wait_http "http://127.0.0.1:991$n/ready" '^LIVE' 30 "$LAST_PID" ||
	    failed_start "edge-$n"
	say "edge-$n: proxy http://127.0.0.1:1000$n/, admin" \
	    "http://127.0.0.1:991$n/ (master pid $LAST_PID)"
done

# ---- what the fleet says ----------------------------------------------------

# states: one line per instance (state, canary share, the revision in
# force, the leader as it sees it); STATES holds the states, in order.
states() {
	local n line
	STATES=
	for n in $NODES; do
		line=$(curl -s -m 2 "http://127.0.0.1:991$n/canary" |
		    python3 -c '
import json, sys
try:
    c = json.load(sys.stdin)
except ValueError:
    print("? no answer"); sys.exit()
r = [r for r in c["routes"] if r["name"] == "web"][0]
ro, f = r["rollout"], c.get("fleet") or {}
ld = f.get("leader") or {}
print("%s %s canary %3.0f%%  %-44s leader %s (fence %s)" % (
    ro["state"], " " * (11 - len(ro["state"])), ro["canary_percent"],
    ro["origin"][:44], ld.get("id") or "-", ld.get("fence")))')
		printf '  edge-%s: %s\n' "$n" "$line"
		STATES="$STATES ${line%% *}"
	done
}

# wait_all STATE SECONDS: print the fleet every 2 s until every instance
# is in STATE; false when that did not happen in time.
wait_all() {
	local want=$1 secs=$2 t=0 s ok
	while [ "$t" -le "$secs" ]; do
		printf '%s (%d s)\n' "$(date +%T)" "$t"
		states
		ok=1
		for s in $STATES; do
			[ "$s" = "$want" ] || ok=0
		done
		[ "$ok" = 1 ] && return 0
		sleep 2
		t=$((t + 2))
	done
	return 1
}

step() {
	printf '\n$ %s\n' "$1"
	bash -c "$1"
	echo
}

# ---- the load -----------------------------------------------------------------

say "a bounded load: $RATE requests a second at most, for $SECONDS_MAX s" \
    "at most, over edge-1 (60 %), edge-2 (30 %) and edge-3 (10 %)"
# (a file: a background command's standard input is /dev/null)
cat >"$LOGDIR/load.py" <<'EOF'
import http.client, sys, threading, time
rate, secs = float(sys.argv[1]), float(sys.argv[2])
end = time.monotonic() + secs
def run(port, share):
    per = rate * share
    c, nxt = None, time.monotonic()
    while time.monotonic() < end:
        try:
            c = c or http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/api")
            c.getresponse().read()
        except Exception:
            c = None
        nxt += 1.0 / per
        time.sleep(max(0.0, nxt - time.monotonic()))
ts = [threading.Thread(target=run, args=(p, s), daemon=True)
      for p, s in ((10001, 0.6), (10002, 0.3), (10003, 0.1))]
[t.start() for t in ts]
[t.join() for t in ts]
EOF
start load python3 "$LOGDIR/load.py" "$RATE" "$SECONDS_MAX"

# ---- 1: a healthy canary, promoted across the fleet ---------------------------

echo
say "1. a healthy canary: the leader decides from the fleet's merged numbers;"
say "   every instance applies the same revision at each step"
if wait_all promoted 90; then
	say "-> promoted on every instance"
else
	say "-> FAILED: not promoted everywhere in time"
	FAILED=1
fi

# ---- 2: a canary failing for part of the traffic, rolled back everywhere -------

echo
say "2. a new attempt: an operator on edge-2 rolls back and resumes (each"
say "   answered once every instance applied it, ?wait=ack); the canary"
say "   then fails one request in five"
step 'curl -s -X POST "http://127.0.0.1:9912/canary/web/rollback?wait=ack"'
step 'curl -s -X POST "http://127.0.0.1:9912/canary/web/resume?wait=ack"'
step 'curl -s -X POST "http://127.0.0.1:8182/_ctl?fail_rate=20"'
if wait_all rolled_back 40; then
	say "-> rolled back on every instance"
else
	say "-> FAILED: not rolled back everywhere in time"
	FAILED=1
fi
step 'curl -s -X POST "http://127.0.0.1:8182/_ctl?fail_rate=0"'

echo
say "the fleet as edge-3 sees it: leader, members, decisions with their inputs"
step 'curl -s "http://127.0.0.1:9913/canary?format=text" | sed -n "/^fleet/,\$p"'
say "each instance counts the decisions it wrote: the leader's, the operator's"
step 'for n in 1 2 3; do curl -s http://127.0.0.1:991$n/stats/prometheus | sed -n "s/^canaryd_fleet_decisions\(.* [1-9][0-9]*\)$/edge-$n: canaryd_fleet_decisions\1/p"; done'

if [ "${FLEET_DEMO_EXIT:-0}" = 1 ]; then
	exit "$FAILED"
fi
cat <<EOF

The fleet keeps serving: proxies http://127.0.0.1:10001/ .. 10003/, admin
http://127.0.0.1:9911/ .. 9913/ (the page shows the fleet), logs in
$LOGDIR/.  Try: curl -s -X POST http://127.0.0.1:9911/canary/web/resume
Press Ctrl-C to stop everything.
EOF
wait "$ETCD_PID"
say "etcd exited by itself; see $LOGDIR/etcd.log"
exit 1
