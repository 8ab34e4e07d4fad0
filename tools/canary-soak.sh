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
command -v wrk >/dev/null || { echo "canary-soak: needs wrk (tools/deps.sh bench)" >&2; exit 1; }
. "$ROOT/tools/soak-lib.sh"
soak_config "$ROOT/test/fuzz/corpus/conf/canary-options.yaml" \
    -e "s/step_interval: 10s/step_interval: 2s/; s/window: 5s/window: 3s/" \
    -e "s/min_requests: 50/min_requests: 30/"
export ASAN_OPTIONS=log_path=$TMP/asan:detect_leaks=1
export UBSAN_OPTIONS=log_path=$TMP/ubsan:print_stacktrace=1
soak_start "$BUILD" || exit 1

cat > "$TMP/mix.lua" <<'LUA'
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
wrk -t2 -c32 -d"${SECS}s" -s "$TMP/mix.lua" "http://127.0.0.1:$PX/" \
    >"$TMP/wrk.txt" 2>&1 &
W=$!; PIDS+=($W)

post() { curl -s -XPOST "http://127.0.0.1:$1" >/dev/null || true; }
end=$((SECONDS + SECS)); i=0
while [ $SECONDS -lt $end ]; do
	i=$((i + 1))
	case $((i % 6)) in
	0) post "$V2/_ctl?fail_rate=30" ;;
	1) post "$V2/_ctl?fail_rate=0"; post "$AD/canary/web/resume" ;;
	2) sed -i 's/weight: 90/weight: 80/; s/weight: 10$/weight: 20/' "$TMP/canary.yaml"
	   kill -HUP "$CD" ;;
	3) cp "$TMP/base.yaml" "$TMP/canary.yaml"; kill -HUP "$CD" ;;
	4) sed -i 's/seed: 7/seed: 8/' "$TMP/canary.yaml"; kill -HUP "$CD" ;;
	5) post "$AD/canary/web/promote"; post "$AD/canary/web/pause" ;;
	esac
	for u in /canary / "/canary?format=text"; do
		curl -s "http://127.0.0.1:$AD$u" >/dev/null || true
	done
	sleep 2
done
wait "$W" || true
tail -n 8 "$TMP/wrk.txt"
curl -s "http://127.0.0.1:$AD/canary?format=text"
curl -s "http://127.0.0.1:$AD/stats" |
    grep -E '(canary|config_reload|downstream_rq_[45]xx)' | grep -v ': 0$' || true
kill -TERM "$CD"
st=0; wait "$CD" || st=$?
echo "canaryd exit status: $st"
if ls "$TMP" | grep -Eq '^(asan|ubsan)'; then
	echo "sanitizer reports:"; cat "$TMP"/asan* "$TMP"/ubsan* 2>/dev/null | head -50
	exit 1
fi
echo "no sanitizer reports"
[ "$st" -eq 0 ]
