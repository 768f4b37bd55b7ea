#!/bin/bash
# callgrind.sh: instructions per request of mpmgrd (docs/PERFORMANCE.md,
# "Instructions per request"). One mpmgrd under callgrind on a temporary
# socket serves mpbench -c 50 -P 16 -r 100000 for each test in order:
# a 20,000-operation warm-up, then n=50000 and n=200000, each after
# zeroing the counters; Ir per request = (Ir(200000) - Ir(50000)) / 150000,
# so connecting and the handshake cancel out.
#
#   MPMGRD=build/mpmgrd MPBENCH=build/mpbench bash bench/callgrind.sh \
#       [TESTS] [-- MPMGRD OPTIONS...]
#
# TESTS defaults to ping,dict.set,dict.get,dict.incr,queue.put,queue.get;
# the options after -- go to mpmgrd (e.g. --data-dir DIR --fsync no).
# Prints "test Ir/request" lines. Never part of make check.
set -eu

MPMGRD=${MPMGRD:-build/mpmgrd}
MPBENCH=${MPBENCH:-build/mpbench}
tests=ping,dict.set,dict.get,dict.incr,queue.put,queue.get
if [ $# -gt 0 ] && [ "$1" != -- ]; then
	tests=$1
	shift
fi
[ $# -gt 0 ] && [ "$1" = -- ] && shift

dir=$(mktemp -d /tmp/mpmgr-cg.XXXXXX)
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
sock=$dir/s
key=$dir/key
"$MPMGRD" --genkey "$key"
valgrind --tool=callgrind --callgrind-out-file="$dir/cg.%p" \
	"$MPMGRD" -s "$sock" -k "$key" "$@" 2>"$dir/log" &
pid=$!
export MPMGR_SOCKET=$sock MPMGR_AUTHKEY_FILE=$key
for _ in $(seq 600); do
	"$MPBENCH" -c 1 -n 1 -t ping -q >/dev/null 2>&1 && break
	sleep 0.1
done

# The Ir total of the counters since the last zeroing.
ir_now() {
	callgrind_control -d "$pid" >/dev/null 2>&1
	local f
	f=$(ls -t "$dir"/cg."$pid".* 2>/dev/null | head -1)
	awk '/^totals:/ { print $2; exit } /^summary:/ { s = $2 } END { if (s) print s }' "$f" | head -1
	rm -f "$dir"/cg."$pid".*
}

run() {
	"$MPBENCH" -c 50 -P 16 -r 100000 -n "$2" -t "$1" -q >/dev/null
}

IFS=, read -r -a list <<<"$tests"
for t in "${list[@]}"; do
	run "$t" 20000
	callgrind_control -z "$pid" >/dev/null 2>&1
	run "$t" 50000
	a=$(ir_now)
	callgrind_control -z "$pid" >/dev/null 2>&1
	run "$t" 200000
	b=$(ir_now)
	echo "$t $(( (b - a) / 150000 ))"
done
