#!/usr/bin/env bash
# tools/bench.sh BUILD_DIR -- `make bench`: canaryd beside nginx and HAProxy.
#
# Runs tools/bench/run.sh (the team's peer benchmark, see its README) with
# canaryd as one more proxy: BUILD_DIR/canaryd on the user's seed config with
# the bench's ports substituted, listener and admin on 127.0.0.1, the admin on
# a free port, as many workers as nginx and HAProxy get, reloaded by SIGHUP.
# Results (markdown, with the canaryd/nginx and canaryd/haproxy ratios) go to
# BUILD_DIR/bench-results.md and stdout.
#
# Knobs are run.sh's and tools/bench/scale.sh's (BENCH_TABLES, ROUNDS,
# DURATION, WORKERS, PROXIES, CONNS, IDLE_CONNS, RELOADS, BIG_CONNS,
# BIG_BODY, PROXY_PORT, V1_PORT, V2_PORT, KEEP_TMP ...; `tools/bench/run.sh`
# and `tools/bench/scale.sh` with no argument list them).  CANARYD_CMD set in the environment wins, and set but empty
# leaves canaryd out:  CANARYD_CMD= PROXIES=nginx ROUNDS=1 tools/bench.sh build
set -euo pipefail

die() { echo "bench: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: tools/bench.sh BUILD_DIR" >&2; exit 2; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -d "$1" ] || die "no build directory $1 (run make first)"
BUILD=$(cd "$1" && pwd)
SEED=$ROOT/etc/canary/envoy-canary.yaml

export PROXY_PORT=${PROXY_PORT:-10000} V1_PORT=${V1_PORT:-8081}
# Five rounds unless told otherwise: every ratio is a median of per-round
# ratios, and fewer rounds leave one noisy round too much weight.
export ROUNDS=${ROUNDS:-5}
export V2_PORT=${V2_PORT:-8082} WORKERS=${WORKERS:-2}

# free_port and bench_config
. "$ROOT/tools/bench/seedconf.sh"

if [ -z "${CANARYD_CMD+set}" ]; then
	[ -x "$BUILD/canaryd" ] || die "no $BUILD/canaryd: run make first" \
	    "(or CANARYD_CMD= to bench the peers alone)"
	admin=$(free_port) || die "no free port for the admin listener"
	mkdir -p "$BUILD/bench"
	cfg=$BUILD/bench/canaryd.yaml
	bench_config "$cfg" "$admin"
	"$BUILD/canaryd" --mode validate -f "$cfg" >/dev/null ||
	    die "canaryd rejects the generated config $cfg"
	CANARYD_CMD="$BUILD/canaryd --concurrency $WORKERS -f $cfg"
	CANARYD_CMD="$CANARYD_CMD --state-dir $BUILD/bench"
	# Single quotes: run.sh expands $CANARYD_PID when it reloads.
	# shellcheck disable=SC2016
	CANARYD_RELOAD_CMD=${CANARYD_RELOAD_CMD-'kill -HUP $CANARYD_PID'}
fi
export CANARYD_CMD CANARYD_RELOAD_CMD=${CANARYD_RELOAD_CMD:-}

# BENCH_TABLES picks tables: peers (run.sh, above), conns and bodies
# (tools/bench/scale.sh: 1 / 4 / 50 / 10,000 connections; 1 KiB / 1 MiB /
# 1 GiB bodies).  BENCH_TABLES=conns make bench runs that table alone.
BENCH_TABLES=${BENCH_TABLES:-peers,conns,bodies}
has() { case ",$BENCH_TABLES," in *",$1,"*) return 0 ;; esac; return 1; }
scale=
for t in conns bodies; do has $t && scale=${scale:+$scale,}$t; done

echo "bench: tables: $BENCH_TABLES; canaryd: ${CANARYD_CMD:-(not run)}"
# A failed run must not leave an older run's results looking current.
rm -f "$BUILD/bench-results.md" "$BUILD/bench-scale.md"
if has peers; then
	"$ROOT/tools/bench/run.sh" "$BUILD/bench-results.md" || exit
fi
if [ -n "$scale" ]; then
	BENCH_TABLES=$scale "$ROOT/tools/bench/scale.sh" "$BUILD" \
	    "$BUILD/bench-scale.md" || exit
	cat "$BUILD/bench-scale.md" >>"$BUILD/bench-results.md"
fi
