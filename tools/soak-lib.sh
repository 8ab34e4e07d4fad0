# tools/soak-lib.sh -- sourced by reload-soak.sh and canary-soak.sh: a
# scratch directory, the processes a run starts (stopped by PID on exit),
# free loopback ports, and the demo backends plus canaryd on them.
#
#   soak_config SRC [SED_ARGS...]  picks V1 V2 PX AD, writes $TMP/base.yaml
#                                  (SRC on those ports, 127.0.0.1 only, then
#                                  SED_ARGS) and $TMP/canary.yaml, a copy
#   soak_start BUILD               backends v1/v2 and canaryd (2 workers) on
#                                  $TMP/canary.yaml; CD is canaryd's PID;
#                                  fails, with canaryd's log, if not ready;
#                                  BACKEND_ARGS (e.g. "--delay_ms 40") go to
#                                  both backends

TMP=$(mktemp -d)
PIDS=()
soak_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap soak_cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

soak_config() {
	local src=$1
	shift
	V1=$(free_port); V2=$(free_port); PX=$(free_port); AD=$(free_port)
	sed -e "s/port_value: 8081/port_value: $V1/; s/port_value: 8082/port_value: $V2/" \
	    -e "s/port_value: 10000/port_value: $PX/; s/port_value: 9901/port_value: $AD/" \
	    -e "s/address: 0.0.0.0/address: 127.0.0.1/" "$@" \
	    "$src" > "$TMP/base.yaml"
	cp "$TMP/base.yaml" "$TMP/canary.yaml"
}

soak_start() {
	local build=$1
	# shellcheck disable=SC2086  # BACKEND_ARGS is a word list
	"$build/backend" --port "$V1" --name v1 ${BACKEND_ARGS:-} \
	    2>"$TMP/v1.log" & PIDS+=($!)
	# shellcheck disable=SC2086
	"$build/backend" --port "$V2" --name v2 ${BACKEND_ARGS:-} \
	    2>"$TMP/v2.log" & PIDS+=($!)
	"$build/canaryd" -f "$TMP/canary.yaml" --concurrency 2 \
	    --state-dir "$TMP" 2>"$TMP/canaryd.log" &
	CD=$!; PIDS+=($CD)
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$AD/ready" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$TMP/canaryd.log"
	return 1
}
