#!/usr/bin/env bash
# tools/canary-soak.sh BUILD_DIR [SECONDS] -- the canary options under load.
#
# Starts the two demo backends and canaryd (2 workers) on free loopback
# ports with the user's config plus every canary route option (the fuzz
# seed test/fuzz/corpus/conf/canary-options.yaml, short rollout timings),
# then runs wrk -c32 for SECONDS (120) with a mix of sticky cookies,
# overrides (always, never, unknown) and 3 kB POSTs while, every 2 s, one
# of: v2 starts failing 30 %, v2 recovers and the rollout is resumed, the
# weights change by SIGHUP, the file goes back by SIGHUP, the sticky seed
# changes (a structural reload), the operator promotes and pauses.  Prints
# wrk's summary, /canary and the non-zero canary and reload counters, stops
# canaryd by PID and says whether it exited 0 and whether the sanitizers
# (with BUILD_DIR = build/san) wrote any report.
set -euo pipefail
BUILD=${1:?usage: tools/canary-soak.sh BUILD_DIR [SECONDS]}
SECS=${2:-120}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
command -v wrk >/dev/null || { echo "canary-soak: needs wrk (tools/deps.sh bench)" >&2; exit 1; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
V1=$(free_port); V2=$(free_port); PX=$(free_port); AD=$(free_port)
sed -e "s/port_value: 8081/port_value: $V1/; s/port_value: 8082/port_value: $V2/" \
    -e "s/port_value: 10000/port_value: $PX/; s/port_value: 9901/port_value: $AD/" \
    -e "s/address: 0.0.0.0/address: 127.0.0.1/" \
    -e "s/step_interval: 10s/step_interval: 2s/; s/window: 5s/window: 3s/" \
    -e "s/min_requests: 50/min_requests: 30/" \
    "$ROOT/test/fuzz/corpus/conf/canary-options.yaml" > "$T/base.yaml"
cp "$T/base.yaml" "$T/c.yaml"
export ASAN_OPTIONS=log_path=$T/asan:detect_leaks=1
export UBSAN_OPTIONS=log_path=$T/ubsan:print_stacktrace=1

"$BUILD/backend" --port "$V1" --name v1 2>"$T/v1.log" & PIDS+=($!)
"$BUILD/backend" --port "$V2" --name v2 2>"$T/v2.log" & PIDS+=($!)
"$BUILD/canaryd" -f "$T/c.yaml" --concurrency 2 2>"$T/canaryd.log" &
CD=$!; PIDS+=($CD)
for _ in $(seq 1 100); do
	curl -sf "http://127.0.0.1:$AD/ready" >/dev/null 2>&1 && break
	sleep 0.1
done

cat > "$T/mix.lua" <<'LUA'
local n = 0
request = function()
	n = n + 1
	local h = {}
	local m = n % 7
	if m == 0 then h["Cookie"] = "uid=u" .. (n % 500)
	elseif m == 1 then h["x-canary"] = "always"
	elseif m == 2 then h["x-canary"] = "bogus"
	elseif m == 3 then h["Cookie"] = "canary=never; uid=x"
	elseif m == 4 then
		return wrk.format("POST", "/echo", h, string.rep("b", 3000))
	end
	return wrk.format("GET", "/api", h)
end
LUA
wrk -t2 -c32 -d"${SECS}s" -s "$T/mix.lua" "http://127.0.0.1:$PX/" \
    >"$T/wrk.txt" 2>&1 &
W=$!; PIDS+=($W)

post() { curl -s -XPOST "http://127.0.0.1:$1" >/dev/null || true; }
end=$((SECONDS + SECS)); i=0
while [ $SECONDS -lt $end ]; do
	i=$((i + 1))
	case $((i % 6)) in
	0) post "$V2/_ctl?fail_rate=30" ;;
	1) post "$V2/_ctl?fail_rate=0"; post "$AD/canary/web/resume" ;;
	2) sed -i 's/weight: 90/weight: 80/; s/weight: 10$/weight: 20/' "$T/c.yaml"
	   kill -HUP "$CD" ;;
	3) cp "$T/base.yaml" "$T/c.yaml"; kill -HUP "$CD" ;;
	4) sed -i 's/seed: 7/seed: 8/' "$T/c.yaml"; kill -HUP "$CD" ;;
	5) post "$AD/canary/web/promote"; post "$AD/canary/web/pause" ;;
	esac
	for u in /canary / "/canary?format=text"; do
		curl -s "http://127.0.0.1:$AD$u" >/dev/null || true
	done
	sleep 2
done
wait "$W" || true
tail -n 8 "$T/wrk.txt"
curl -s "http://127.0.0.1:$AD/canary?format=text"
curl -s "http://127.0.0.1:$AD/stats" |
    grep -E '(canary|config_reload|downstream_rq_[45]xx)' | grep -v ': 0$' || true
kill -TERM "$CD"
st=0; wait "$CD" || st=$?
echo "canaryd exit status: $st"
if ls "$T" | grep -Eq '^(asan|ubsan)'; then
	echo "sanitizer reports:"; cat "$T"/asan* "$T"/ubsan* 2>/dev/null | head -50
	exit 1
fi
echo "no sanitizer reports"
[ "$st" -eq 0 ]
