# shellcheck shell=bash
# tools/bench/proc.sh -- process and port helpers for the bash tools.
#
# Sourced (not run) by tools/bench/run.sh and tools/demo.sh, which both start
# servers in the background and must stop exactly those, by PID, on every
# exit path.  Only ever talks to 127.0.0.1; every wait is bounded.

# tree_pids PID: PID and all its descendants, one per line (from ps, so a
# canaryd master's workers are found without knowing how many it forked).
tree_pids() {
	ps -e -o pid=,ppid= | awk -v root="$1" '
	    { par[$1] = $2 }
	    END {
		keep[root] = 1; ch = 1
		while (ch) {
			ch = 0
			for (p in par)
				if (!(p in keep) && (par[p] in keep)) {
					keep[p] = 1; ch = 1
				}
		}
		for (p in keep) if (p in par) print p
	    }'
}

# stop_pid PID: SIGTERM a process we started (a master drains its own
# workers), wait up to 10 s, then SIGKILL whatever is left of the tree as it
# was before the TERM.  Never fails, so it is safe in an EXIT trap.
stop_pid() {
	local pid=$1 p pids _
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
	pids=$(tree_pids "$pid")
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	for p in $pids; do
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	wait "$pid" 2>/dev/null
	return 0
}

# port_free PORT: true when nothing accepts on 127.0.0.1:PORT (which also
# catches a listener on 0.0.0.0).
port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_http URL PATTERN [SECONDS [PID]]: poll URL every 0.1 s until its body
# matches the grep -E PATTERN (default 10 s).  With PID, give up as soon as
# that process is gone: no point waiting for a server that died.
wait_http() {
	local url=$1 pat=$2 secs=${3:-10} pid=${4:-} _
	for _ in $(seq 1 $((secs * 10))); do
		curl -fsS -m 1 "$url" 2>/dev/null | grep -Eq -- "$pat" && return 0
		[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && return 1
		sleep 0.1
	done
	return 1
}
