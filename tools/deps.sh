#!/usr/bin/env bash
# tools/deps.sh [bench|fuzz] -- make sure the Debian packages canaryd needs are here.
#
# Without an argument: what `make`, `make test` and `make demo` need.  With
# `bench`: also the peers and the load generator of `make bench`; with
# `fuzz`: clang and its libFuzzer/sanitizer runtimes for `make fuzz`.  The check is
# one dpkg-query call, so a machine that has everything pays no apt-get.
# Missing packages: as root, `apt-get update` once and install them without
# questions (apt is kept from starting the system nginx/haproxy/etcd services);
# otherwise say exactly what is missing and how to install it, and exit 1.
set -euo pipefail

# One list, so the README, CI and this script cannot disagree.
# chromium: the admin page test renders GET / headless
# (test/integration/test_page.py).  libjansson-dev: the fleet coordinator
# reads etcd's v3 JSON gateway.  etcd-server, etcd-client: the fleet tests
# and demo start a real etcd cluster (tools/etcdlib.py).  zlib1g-dev: the
# compressor filter's gzip.
BUILD_PKGS="libyaml-dev libbsd-dev libcunit1-dev pkg-config
gcc make curl python3 procps mandoc chromium libjansson-dev etcd-server
etcd-client zlib1g-dev"
# valgrind: tools/bench/instr.sh counts instructions per request.
BENCH_PKGS="nginx haproxy wrk valgrind"
# clang 14 is Debian 12's; libclang-rt-14-dev holds libFuzzer and the
# sanitizer runtimes clang links with -fsanitize=fuzzer,address,undefined.
# libhttp-parser-dev: the oracle of the differential harness
# (test/fuzz/h1_oracle.c), the parsing canaryd had before its own; the
# program itself does not link it.
FUZZ_PKGS="clang libclang-rt-14-dev libhttp-parser-dev"

case "${1:-}" in
"")	want=$BUILD_PKGS ;;
bench)	want="$BUILD_PKGS $BENCH_PKGS" ;;
fuzz)	want="$BUILD_PKGS $FUZZ_PKGS" ;;
*)	echo "usage: tools/deps.sh [bench|fuzz]" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086  # word splitting of the package lists is the point
set -- $want

if ! command -v dpkg-query >/dev/null 2>&1; then
	# Not Debian: we cannot tell what is installed; the build says what fails.
	echo "deps: no dpkg-query (not Debian?): make sure these are installed: $*" >&2
	exit 0
fi

# missing PKG...: those of PKG not installed, on one line.  dpkg-query fails
# when it has never heard of one (nothing printed for it, so it stays
# missing); "installed" is the only state that counts (not "config-files").
missing() {
	local have p out=
	have=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" \
	    2>/dev/null | awk '$2 == "installed" { print $1 }') || true
	for p in "$@"; do
		grep -qx -- "$p" <<<"$have" || out="$out${out:+ }$p"
	done
	printf '%s' "$out"
}

miss=$(missing "$@")
[ -z "$miss" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: $miss" >&2
	echo "deps: install them with:" >&2
	echo "    sudo apt-get update && sudo apt-get install -y $miss" >&2
	exit 1
fi

echo "deps: installing: $miss"
# Keep apt from starting the system nginx/haproxy/etcd on install: an
# invoke-rc.d policy that refuses every action.  Only ours is removed.
prc=/usr/sbin/policy-rc.d
made_prc=0
cleanup() {
	[ "$made_prc" -eq 1 ] && rm -f "$prc"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ ! -e "$prc" ]; then
	printf '#!/bin/sh\nexit 101\n' >"$prc"
	chmod 755 "$prc"
	made_prc=1
fi

export DEBIAN_FRONTEND=noninteractive
# Another apt run (another developer's make) may hold the lock: wait for it.
apt_opts=(-q -o DPkg::Lock::Timeout=300)
apt-get "${apt_opts[@]}" update
# shellcheck disable=SC2086  # $miss is a word list
apt-get "${apt_opts[@]}" install -y $miss

miss=$(missing "$@")
if [ -n "$miss" ]; then
	echo "deps: still missing after apt-get install: $miss" >&2
	exit 1
fi
echo "deps: all packages present (installed in $SECONDS s)"
