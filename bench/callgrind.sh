#!/bin/bash
# callgrind.sh: instructions per request of mpmgrd, or per operation of
# mpbench, under callgrind (valgrind), c=50 P=16: the figures of
# docs/PERFORMANCE.md that a busy machine does not blur.
#
#   bench/callgrind.sh [-b BUILD] [-r KEYSPACE] [-c] TEST... [-- OPTION...]
#
# Daemon (the default): one mpmgrd under callgrind, the tests in the order
# given; for each, 20,000 operations of warm-up, then the instructions of
# 50,000 and of 200,000 operations, and (Ir(200k) - Ir(50k)) / 150,000
# printed, so that start-up and connecting cancel out. The tests fill the
# daemon as they go (dict.set before dict.get fills bench:dict).
#
# -c, the client: mpbench under callgrind against a native mpmgrd (its
# dict and counters filled first with 400,000 dict.set and dict.incr),
# the same difference of a 50,000 and a 200,000 run.
#
# -r KEYSPACE is mpbench's (default 100000); BUILD holds mpmgrd and
# mpbench (default build). The OPTIONs after -- go to mpmgrd (e.g.
# --data-dir DIR --fsync no: the journal's cost per request). Repeated
# runs agree within a few instructions.
set -u

build=build
keyspace=100000
client=0
while getopts b:r:c o; do
	case $o in
	b) build=$OPTARG ;;
	r) keyspace=$OPTARG ;;
	c) client=1 ;;
	*) echo "usage: $0 [-b BUILD] [-r KEYSPACE] [-c] TEST..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
tests=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	tests+=("$1")
	shift
done
[ $# -gt 0 ] && shift
opts=("$@")
[ ${#tests[@]} -gt 0 ] || { echo "usage: $0 [-b BUILD] [-r KEYSPACE] [-c]" \
	"TEST... [-- OPTION...]" >&2; exit 2; }
for p in valgrind callgrind_control; do
	command -v $p >/dev/null ||
	    { echo "callgrind.sh: $p missing (apt-get install valgrind)" >&2
	    exit 1; }
done
for p in "$build/mpmgrd" "$build/mpbench"; do
	[ -x "$p" ] || { echo "callgrind.sh: $p: not built" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/callgrind.XXXXXX") || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' HUP INT TERM

"$build/mpmgrd" --genkey "$tmp/authkey" >/dev/null || exit 1
export MPMGR_AUTHKEY_FILE=$tmp/authkey

bench() {
	"$build/mpbench" -s "$tmp/sock" -c 50 -P 16 -n "$1" -r "$keyspace" \
	    -t "$2" -q >/dev/null
}

# The total of a callgrind output file.
total() {
	awk '/^(summary|totals):/ { print $2; exit }' "$1"
}

if [ "$client" = 0 ]; then
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.%p" \
	    "$build/mpmgrd" --socket "$tmp/sock" --authkey-file \
	    "$tmp/authkey" --log-level warning "${opts[@]}" 2>"$tmp/log" &
else
	"$build/mpmgrd" --socket "$tmp/sock" --authkey-file "$tmp/authkey" \
	    --log-level warning "${opts[@]}" 2>"$tmp/log" &
fi
pid=$!
for _ in $(seq 300); do
	"$build/mpbench" -s "$tmp/sock" -c 1 -n 1 -t ping -q >/dev/null 2>&1 &&
	    break
	sleep 0.1
done

# Instructions of one dump of the daemon since the last zeroing.
dumped() {
	local f

	callgrind_control -d "$pid" >/dev/null 2>&1
	# the one dump file (each is removed once read)
	for f in "$tmp"/cg.*.*; do
		total "$f"
		rm -f "$f"
	done
}

# Instructions of mpbench running n operations of a test.
client_run() {
	valgrind --tool=callgrind --callgrind-out-file="$tmp/client.out" \
	    "$build/mpbench" -s "$tmp/sock" -c 50 -P 16 -n "$1" \
	    -r "$keyspace" -t "$2" -q >/dev/null 2>"$tmp/vg" || return 1
	total "$tmp/client.out"
}

[ "$client" = 1 ] && bench 400000 dict.set,dict.incr
for t in "${tests[@]}"; do
	if [ "$client" = 0 ]; then
		bench 20000 "$t" || exit 1
		callgrind_control -z "$pid" >/dev/null 2>&1
		bench 50000 "$t" || exit 1
		a=$(dumped)
		callgrind_control -z "$pid" >/dev/null 2>&1
		bench 200000 "$t" || exit 1
		b=$(dumped)
	else
		if ! a=$(client_run 50000 "$t") ||
		    ! b=$(client_run 200000 "$t"); then
			cat "$tmp/vg" >&2
			exit 1
		fi
	fi
	printf '%-12s %5d\n' "$t" $(((b - a) / 150000))
done
