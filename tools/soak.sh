#!/usr/bin/env bash
# tools/soak.sh [BUILD_DIR] -- a soak of canaryd under mixed load (issue 5).
#
# SOAK_SECONDS (default 600) of keep-alive requests, a new connection per
# request, aborts mid-body, 1 MiB POSTs and slow clients (slow head, slow
# body, never-reading) against canaryd built with ASan and UBSan
# (`make SANITIZE=1`, so BUILD_DIR defaults to build/san), two workers, on
# loopback ports chosen at run time.  VmRSS of the master and of each
# child is sampled every 10 s.  At the end canaryd is stopped by PID
# (SIGTERM: a graceful drain), and the run fails on any sanitizer report
# (ASan, LSan and UBSan logs go to the run directory), on any error the
# load did not ask for, on a non-zero exit or a replaced worker.
# The load itself is tools/soak.py; it prints the summary.  Not part of
# `make test` (too long).  It runs under nice: other work goes first.
#
#   make SANITIZE=1 && tools/soak.sh            # 10 minutes
#   SOAK_SECONDS=60 tools/soak.sh build/san     # a short one
#
# The run directory (logs, summary.json) is kept and printed at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build/san}
SECS=${SOAK_SECONDS:-600}
case $SECS in
''|*[!0-9]*)
	echo "soak: SOAK_SECONDS must be a number of seconds" >&2
	exit 2
	;;
esac
for b in canaryd backend; do
	if [ ! -x "$BUILD/$b" ]; then
		echo "soak: $BUILD/$b missing: run make SANITIZE=1" >&2
		exit 2
	fi
done
if ! ldd "$BUILD/canaryd" 2>/dev/null | grep -q libasan; then
	echo "soak: warning: $BUILD/canaryd is not an ASan build" >&2
fi
RUN=$(mktemp -d "${TMPDIR:-/tmp}/canaryd-soak.XXXXXX")
SAN="$RUN/san"
mkdir -p "$SAN"

# Sanitizer reports go to files (one per process); only canaryd gets
# these options, the backends report on their own stderr.  ASan's
# quarantine of freed memory is cut from 256 MiB to 32 MiB: at 256 it
# fills the RSS figures of a busy worker and hides any real growth.
ASAN="log_path=$SAN/asan:detect_leaks=1:halt_on_error=1:quarantine_size_mb=32"
UBSAN="log_path=$SAN/ubsan:print_stacktrace=1:halt_on_error=1"

status=0
nice -n 10 python3 "$ROOT/tools/soak.py" --build "$BUILD" --run "$RUN" \
    --seconds "$SECS" --canaryd-env "ASAN_OPTIONS=$ASAN" \
    --canaryd-env "UBSAN_OPTIONS=$UBSAN" || status=$?

echo
reports=$(find "$SAN" -type f | sort)
if [ -n "$reports" ]; then
	echo "sanitizers: $(echo "$reports" | wc -l) report(s):"
	for f in $reports; do
		echo "--- $f"
		head -n 40 "$f"
	done
	status=1
else
	echo "sanitizers: ASan/LSan/UBSan logs clean (none written to $SAN)"
fi
if grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' \
    "$RUN"/*.log 2>/dev/null; then
	echo "sanitizers: a report in a process log:"
	grep -n 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error:' "$RUN"/*.log |
	    head -n 20
	status=1
fi
echo "run directory: $RUN"
[ "$status" -eq 0 ] && echo "soak: OK" || echo "soak: FAILED"
exit "$status"
