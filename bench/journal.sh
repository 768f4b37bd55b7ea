#!/bin/bash
# journal.sh: mpmgrd with its journal against Redis with its AOF, the way
# `make bench` runs it after run.sh; docs/PERFORMANCE.md keeps the
# results ("The journal").
#
#  - For --fsync always and everysec against appendfsync always and
#    everysec, and both in memory only (no --data-dir, appendonly no) to
#    see what the journal costs: fresh servers (mpmgrd --data-dir,
#    redis-server --appendonly yes, each with its default rewrite
#    thresholds), the write pairs
#    dict.set~HSET, dict.incr~HINCRBY, queue.put~LPUSH, queue.get~RPOP
#    at (c=1,P=1), (c=50,P=1) and (c=50,P=16), alternating A B for $ROUNDS
#    rounds: medians of rate, p50 and p99; and mpmgrd's journal records
#    per fdatasync over its rounds (sys.stats: the group commit's batch
#    under always).
#  - Bytes per write: the growth of mpmgrd's journal (sys.stats
#    journal_written) and of Redis's AOF (INFO aof_current_size) for the
#    same $N_BYTES writes of each pair.
#  - Restart: a 1M-entry dict (dict.incr from 0 / HSET key 1, pipelined),
#    each server killed and started again: the time until it answers, and
#    mpmgrd's replay in records/s (its log); then after a compaction (a
#    snapshot; Redis: BGREWRITEAOF, an RDB preamble), the fork's time and
#    the compaction's, the max latency of 50 clients reading meanwhile,
#    and the restart again.
# QUICK=1 is a fast pass; ONLY="always everysec memory bytes restart"
# (any of them) runs only those parts. Progress to stderr, tables to
# stdout. Speed never fails the script; a server or a load generator that
# fails does.
set -u

MPMGRD=${MPMGRD:-build/mpmgrd}
MPCTL=${MPCTL:-build/mpctl}
MPBENCH=${MPBENCH:-build/mpbench}
QUICK=${QUICK:-0}
ONLY=${ONLY:-always everysec memory bytes restart}
KEYSPACE=100000
VALUE=xxx
if [ "$QUICK" = 1 ]; then
	ROUNDS=1 ENTRIES=100000 N_BYTES=20000
else
	ROUNDS=3 ENTRIES=1000000 N_BYTES=100000
fi

for p in "$MPMGRD" "$MPCTL" "$MPBENCH"; do
	[ -x "$p" ] || { echo "journal.sh: $p: not built" >&2; exit 1; }
done
for p in redis-server redis-cli redis-benchmark; do
	command -v $p >/dev/null ||
	    { echo "journal.sh: $p missing (make bench)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mpjournal.XXXXXX") || exit 1
live=()
finish() {
	local p
	for p in "${live[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap finish EXIT
trap 'exit 130' HUP INT TERM

note() { echo "journal: $*" >&2; }
fail() { note "$*"; exit 1; }

# until_ok SECS CMD...: CMD, every 10 ms, until it succeeds.
until_ok() {
	local t=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -ge $t ] && return 1
		sleep 0.01
	done
}

forget() {
	local p keep=()
	for p in "${live[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	live=("${keep[@]}")
}

now_ms() { date +%s%3N; }

# mp_up DIR POLICY [OPTS...]: mpmgrd with its journal in DIR/data (none
# for POLICY memory); MP, MPS (socket), and the milliseconds until it
# answered in UP_MS.
mp_up() {
	local dir=$1 policy=$2 t0 j=()
	shift 2
	mkdir -p "$dir"
	[ -f "$dir/key" ] || "$MPMGRD" --genkey "$dir/key" >/dev/null
	[ "$policy" = memory ] || j=(--data-dir "$dir/data" --fsync "$policy")
	t0=$(now_ms)
	"$MPMGRD" -s "$dir/s" -k "$dir/key" --max-clients 20000 "${j[@]}" \
	    "$@" 2>>"$dir/log" &
	MP=$!
	live+=("$MP")
	MPS=$dir/s
	export MPMGR_SOCKET=$dir/s MPMGR_AUTHKEY_FILE=$dir/key
	until_ok 600 "$MPBENCH" -s "$MPS" -c 1 -n 1 -t ping -q ||
	    fail "mpmgrd did not start: $(tail -3 "$dir/log")"
	UP_MS=$(($(now_ms) - t0))
}

# r_up DIR POLICY: redis-server with appendonly yes in DIR (no for POLICY
# memory); R, RS, UP_MS.
r_up() {
	local dir=$1 t0 aof=(--appendonly yes --appendfsync "$2")
	mkdir -p "$dir"
	[ "$2" = memory ] && aof=(--appendonly no)
	t0=$(now_ms)
	redis-server --port 0 --unixsocket "$dir/r.sock" --unixsocketperm 700 \
	    --save '' "${aof[@]}" --dir "$dir" \
	    --maxclients 20000 --logfile "$dir/redis.log" &
	R=$!
	live+=("$R")
	RS=$dir/r.sock
	until_ok 600 redis-cli -s "$RS" ping ||
	    fail "redis-server did not start: $(tail -3 "$dir/redis.log")"
	# ping answers while loading (-LOADING), and redis-cli exits 0 on an
	# error reply: wait for a write's OK
	until_ok 600 sh -c "redis-cli -s '$RS' set journal:up 1 | grep -qx OK"
	UP_MS=$(($(now_ms) - t0))
}

down() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	forget "$1"
}

crash() {
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	forget "$1"
}

# "rps p50 p99 max" of a --csv run on stdin.
rate() {
	tail -n 1 | tr -d '"' |
	    awk -F, 'NF == 8 && $2 + 0 > 0 { print $2, $5, $7, $8 }'
}

mid() {
	sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# --- writes under each policy ------------------------------------------------

PAIRS=(
	"dict.set|HSET|hset bench:dict key:__rand_int__ $VALUE"
	"dict.incr|HINCRBY|hincrby bench:counters key:__rand_int__ 1"
	"queue.put|LPUSH|lpush bench:queue $VALUE"
	"queue.get|RPOP|rpop bench:queue"
)

# n_for POLICY C P: requests for a few seconds' run.
n_for() {
	local n
	case "$1 $2 $3" in
	"always 1 1") n=2000 ;;
	"always 50 1") n=40000 ;;
	"always 50 16") n=400000 ;;
	"everysec 1 1" | "memory 1 1") n=30000 ;;
	"everysec 50 1" | "memory 50 1") n=300000 ;;
	*) n=2000000 ;;
	esac
	[ "$QUICK" = 1 ] && n=$((n / 10))
	echo "$n"
}

# "records syncs" of the daemon's journal so far ("0 0" in memory).
journal_counts() {
	"$MPCTL" stats | awk '/^journal_records:/ { r = $2 }
	    /^journal_syncs:/ { s = $2 } END { print r + 0, s + 0 }'
}

res=$tmp/res
mkdir -p "$res"
FAILED=0
echo
echo "mpmgrd --data-dir --fsync P against redis-server --appendonly yes" \
    "--appendfsync P (memory: neither), Redis $(redis-server --version |
    sed 's/.*v=\([^ ]*\).*/\1/'): medians of $ROUNDS alternating rounds;" \
    "operations/s, ms"
echo
printf '%-9s %-10s %-18s %9s %6s %6s %9s %6s %6s %5s %8s\n' fsync config \
    "op (mpmgrd~Redis)" mpmgrd/s p50 p99 Redis/s p50 p99 ratio rec/sync
# part NAME: ONLY names it.
part() {
	[[ " $ONLY " == *" $1 "* ]]
}

for policy in always everysec memory; do
	part "$policy" || continue
	mp_up "$tmp/mp-$policy" "$policy"
	r_up "$tmp/r-$policy" "$policy"
	for cfg in "1 1" "50 1" "50 16"; do
		read -r c P <<<"$cfg"
		n=$(n_for "$policy" "$c" "$P")
		for pair in "${PAIRS[@]}"; do
			IFS='|' read -r test rname rargs <<<"$pair"
			f=$res/$policy.$c.$P.$test
			note "$policy c=$c P=$P: $test vs $rname ($ROUNDS x $n)"
			j0=$(journal_counts)
			for ((r = 1; r <= ROUNDS; r++)); do
				"$MPBENCH" -s "$MPS" -c "$c" -P "$P" -n "$n" \
				    -r $KEYSPACE -t "$test" --csv -q 2>>"$tmp/err" |
				    rate >>"$f.mp"
				# shellcheck disable=SC2086 # several words
				redis-benchmark -s "$RS" -c "$c" -P "$P" -n "$n" \
				    -r $KEYSPACE --csv -q $rargs 2>>"$tmp/err" |
				    rate >>"$f.r"
			done
			[ -s "$f.mp" ] && [ -s "$f.r" ] || FAILED=1
			per_sync=$(echo "$j0 $(journal_counts)" | awk '$4 > $2 {
			    printf "%.1f", ($3 - $1) / ($4 - $2); next }
			    { print "-" }')
			a=$(awk '{ print $1 }' "$f.mp" | mid)
			b=$(awk '{ print $1 }' "$f.r" | mid)
			printf '%-9s %-10s %-18s %9.0f %6.3f %6.3f %9.0f %6.3f %6.3f %5.2f %8s\n' \
			    "$policy" "c=$c P=$P" "$test~$rname" "$a" \
			    "$(awk '{ print $2 }' "$f.mp" | mid)" \
			    "$(awk '{ print $3 }' "$f.mp" | mid)" "$b" \
			    "$(awk '{ print $2 }' "$f.r" | mid)" \
			    "$(awk '{ print $3 }' "$f.r" | mid)" \
			    "$(awk -v a="$a" -v b="$b" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
			    "$per_sync"
		done
	done
	down "$MP"
	down "$R"
done

# --- bytes per write ---------------------------------------------------------

if part bytes; then
echo
echo "journal bytes per write ($N_BYTES writes of each, fsync everysec):"
mp_up "$tmp/mp-bytes" everysec
r_up "$tmp/r-bytes" everysec
for pair in "${PAIRS[@]}"; do
	IFS='|' read -r test rname rargs <<<"$pair"
	a0=$("$MPCTL" stats | awk '/^journal_written:/ { print $2 }')
	b0=$(redis-cli -s "$RS" info persistence |
	    awk -F: '/^aof_current_size:/ { print $2 + 0 }')
	"$MPBENCH" -s "$MPS" -c 1 -P 16 -n "$N_BYTES" -r $KEYSPACE -t "$test" \
	    -q >/dev/null 2>>"$tmp/err" || FAILED=1
	# shellcheck disable=SC2086
	redis-benchmark -s "$RS" -c 1 -P 16 -n "$N_BYTES" -r $KEYSPACE -q \
	    $rargs >/dev/null 2>>"$tmp/err" || FAILED=1
	sleep 1.2 # everysec: Redis writes its AOF buffer each event loop
	a1=$("$MPCTL" stats | awk '/^journal_written:/ { print $2 }')
	b1=$(redis-cli -s "$RS" info persistence |
	    awk -F: '/^aof_current_size:/ { print $2 + 0 }')
	printf '  %-10s mpmgrd %6.1f  Redis %6.1f  (%s)\n' "$test" \
	    "$(awk -v d=$((a1 - a0)) -v n="$N_BYTES" 'BEGIN { print d / n }')" \
	    "$(awk -v d=$((b1 - b0)) -v n="$N_BYTES" 'BEGIN { print d / n }')" \
	    "$rname"
done
down "$MP"
down "$R"
fi

# --- restart, replay, compaction -------------------------------------------

# "records ms" of the last replay in the big daemon's log.
replayed() {
	grep 'replayed' "$tmp/mp-big/log" | tail -1 |
	    sed 's/.*replayed \([0-9]*\) records in \([0-9]*\) ms.*/\1 \2/'
}

if part restart; then
echo
echo "restart with $ENTRIES dict entries key:NNNNNNNNNNNN -> 1:"
mp_up "$tmp/mp-big" everysec
"$MPBENCH" -s "$MPS" -c 1 -P 64 -n "$ENTRIES" -r "$ENTRIES" --seq \
    -t dict.incr -q >/dev/null 2>>"$tmp/err" || FAILED=1
jb=$("$MPCTL" stats | awk '/^journal_bytes:/ { print $2 }')
crash "$MP"
mp_up "$tmp/mp-big" everysec
read -r nrec ms <<<"$(replayed)"
printf '  mpmgrd, journal of %s records (%s bytes): answers after %s ms; replay %s ms, %.0f records/s\n' \
    "$nrec" "$jb" "$UP_MS" "$ms" \
    "$(awk -v n="$nrec" -v m="$ms" 'BEGIN { print (m > 0 ? n * 1000 / m : 0) }')"
# a compaction while 50 clients read
"$MPBENCH" -s "$MPS" -c 50 -P 1 -n 200000 -r "$ENTRIES" -t dict.get --csv -q \
    2>>"$tmp/err" | rate >"$tmp/quiet"
"$MPBENCH" -s "$MPS" -c 50 -P 1 -n 200000 -r "$ENTRIES" -t dict.get --csv -q \
    2>>"$tmp/err" | rate >"$tmp/busy" &
bpid=$!
t0=$(now_ms)
"$MPCTL" save || FAILED=1
save_ms=$(($(now_ms) - t0))
wait $bpid
fork=$(grep -o 'fork took [0-9]* us' "$tmp/mp-big/log" | tail -1)
done_ms=$(grep -o 'done in [0-9]* ms' "$tmp/mp-big/log" | tail -1)
sb=$("$MPCTL" stats | awk '/^snapshot_bytes:/ { print $2 }')
printf '  mpmgrd compaction: %s, %s, mpctl save %s ms; snapshot %s bytes\n' \
    "$fork" "$done_ms" "$save_ms" "$sb"
read -r _ _ qp99 qmax <"$tmp/quiet"
read -r _ _ bp99 bmax <"$tmp/busy"
printf '  50 clients reading (dict.get): p99 %s ms max %s ms; during the compaction p99 %s max %s\n' \
    "$qp99" "$qmax" "$bp99" "$bmax"
crash "$MP"
mp_up "$tmp/mp-big" everysec
read -r nrec ms <<<"$(replayed)"
printf '  mpmgrd from the snapshot (%s records): answers after %s ms; replay %s ms\n' \
    "$nrec" "$UP_MS" "$ms"
down "$MP"

r_up "$tmp/r-big" everysec
seq 1 "$ENTRIES" | awk '{ printf "HSET bench:counters key:%012d 1\n", $1 }' |
    redis-cli -s "$RS" --pipe >/dev/null 2>>"$tmp/err" || FAILED=1
sleep 1.2
ab=$(redis-cli -s "$RS" info persistence |
    awk -F: '/^aof_current_size:/ { print $2 + 0 }')
crash "$R"
r_up "$tmp/r-big" everysec
printf '  Redis, AOF of %s bytes: answers a write after %s ms (%s)\n' "$ab" \
    "$UP_MS" "$(grep -o 'DB loaded from .*' "$tmp/r-big/redis.log" | tail -1)"
t0=$(now_ms)
rw=$(redis-cli -s "$RS" info persistence | awk -F: '/^aof_rewrites:/ { print $2 + 0 }')
reply=$(redis-cli -s "$RS" bgrewriteaof 2>&1)
# aof_rewrites counts a rewrite when its child starts: done is that and
# none in progress (the manifest then names the new base)
if until_ok 120 sh -c "redis-cli -s '$RS' info persistence | tr -d '\r' |
    awk -F: '/^aof_rewrites:/ { n = \$2 }
	/^aof_rewrite_in_progress:/ { busy = \$2 }
	/^aof_rewrite_scheduled:/ { busy += \$2 }
	END { exit !(n > $rw && busy == 0) }'"; then
	printf '  Redis BGREWRITEAOF: %s ms (latest_fork_usec %s)\n' \
	    "$(($(now_ms) - t0))" "$(redis-cli -s "$RS" info stats |
	    awk -F: '/^latest_fork_usec:/ { print $2 + 0 }')"
else
	printf '  Redis BGREWRITEAOF: not done after 120 s (%s)\n' "$reply"
fi
crash "$R"
r_up "$tmp/r-big" everysec
printf '  Redis from the rewritten AOF: answers a write after %s ms (%s)\n' \
    "$UP_MS" "$(grep -o 'DB loaded from .*' "$tmp/r-big/redis.log" | tail -1)"
down "$R"
fi

if [ -s "$tmp/err" ]; then
	note "errors from the load generators:"
	sort -u "$tmp/err" | head -5 >&2
fi
exit $FAILED
