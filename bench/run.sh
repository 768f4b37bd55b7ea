#!/bin/bash
# run.sh: mpmgrd against Redis on the same machine, the way `make bench`
# runs it; docs/PERFORMANCE.md explains the method and keeps the results.
#
# Starts mpmgrd ($MPMGRD) and a private redis-server on Unix sockets in a
# temporary directory (fresh key, persistence off), then:
#  - bench:dict (and Redis's hash) filled with every key of the keyspace;
#  - for (c=1,P=1), (c=1,P=1) with both processes on CPU 0, (c=50,P=1) and
#    (c=50,P=16): each pair of equivalent operations (mpbench test against
#    redis-benchmark command), alternating A B A B for $ROUNDS rounds, and
#    the medians of rate, p50 and p99, plus each server's CPU time per
#    operation (from /proc, so that neither load generator's own cost
#    decides the ratio on 2 CPUs);
#  - the floor ($FLOOR): a raw 32-byte AF_UNIX ping-pong, unpinned and on
#    one CPU, and the c=1 same-CPU rates as a fraction of it;
#  - memory: RSS growth of fresh servers holding $MEM_ENTRIES dict entries
#    key:N -> small int (pipelined dict.incr from 0, HSET key 1);
#  - $IDLE idle authenticated connections: RSS per connection and the p99
#    of 50 other clients with and without them;
#  - one command from a shell (hyperfine), and $N_SHELL commands from a
#    shell: as many mpctl processes, one `mpctl batch`, as many redis-cli
#    processes, redis-cli reading them from stdin, and redis-cli --pipe;
#  - stalls ($STALL): ping round trips of one client while another
#    pipelines 100 list.count over a 1M-element list, and during one
#    list.sort of it (docs/PERFORMANCE.md, "Stalls");
#  - pipes ($PIPEBENCH, bench/pipe.py): messages one way and round trips
#    through an mpmgr pipe, a raw socketpair and CPython's
#    multiprocessing.Pipe, unpinned and with everything on CPU 0;
#  - with PERF=1, a perf profile of mpmgrd under dict.set c=50 P=16.
# QUICK=1 is a fast pass (a tenth of the requests, one round). ONLY=...
# runs some of the sections: race, pipe, shell, idle, memory, stall,
# perf. Progress goes to stderr, the tables to stdout. Exit 1 if a server
# or a load generator fails; speed itself never fails the script.
set -u

MPMGRD=${MPMGRD:-build/mpmgrd}
MPCTL=${MPCTL:-build/mpctl}
MPBENCH=${MPBENCH:-build/mpbench}
FLOOR=${FLOOR:-build/floor}
STALL=${STALL:-build/stall}
PIPEBENCH=${PIPEBENCH:-build/pipebench}
PYTHON=${PYTHON:-/usr/bin/python3}
QUICK=${QUICK:-0}
PERF=${PERF:-0}
ONLY=${ONLY:-}

KEYSPACE=100000
VALUE=xxx                       # mpbench's default -d 3
if [ "$QUICK" = 1 ]; then
	ROUNDS=1 N_C1=3000 N_PIN=6000 N_C50=30000 N_P16=200000
	MEM_ENTRIES=100000 FLOOR_N=20000 N_SHELL=1000 N_PIPE=20000
else
	ROUNDS=3 N_C1=30000 N_PIN=60000 N_C50=300000 N_P16=2000000
	MEM_ENTRIES=1000000 FLOOR_N=100000 N_SHELL=10000 N_PIPE=200000
fi
IDLE=10000
NCPU=$(nproc)
TCK=$(getconf CLK_TCK)

for p in "$MPMGRD" "$MPCTL" "$MPBENCH" "$FLOOR" "$STALL" "$PIPEBENCH"; do
	[ -x "$p" ] || { echo "bench: $p: not built (make bench)" >&2; exit 1; }
done
for p in redis-server redis-cli redis-benchmark taskset; do
	command -v $p >/dev/null ||
	    { echo "bench: $p missing (make bench installs it)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mpbench.XXXXXX") || exit 1
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' HUP INT TERM

say() {
	echo "bench: $*" >&2
}

die() {
	say "$*"
	exit 1
}

# want SECTION: ONLY is empty or names it.
want() {
	[ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]
}

# wait_until SECS CMD...: polls CMD until it succeeds; 1 past the deadline.
wait_until() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		sleep 0.05
	done
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# User + system CPU of a process, in clock ticks.
cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat") || return 1
	s=${s##*) }
	# shellcheck disable=SC2086 # the fields, split on purpose
	set -- $s
	echo $((${12} + ${13}))
}

median() {
	sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# The number of CPUs given to servers when not pinned.
ALLCPUS=0-$((NCPU - 1))

# Raise the descriptor limit for 10,000 idle clients and the bench's own.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((IDLE + 200)) ]
then
	IDLE=$(($(ulimit -n) - 200))
	say "open files limited to $(ulimit -n): $IDLE idle connections"
fi

# --- servers -----------------------------------------------------------------

# start_mpmgrd DIR: a daemon on DIR/mpmgr.sock; sets MP_PID, MP_SOCK.
start_mpmgrd() {
	mkdir -p "$1"
	"$MPMGRD" --genkey "$1/authkey" >/dev/null ||
	    die "mpmgrd --genkey failed"
	"$MPMGRD" --socket "$1/mpmgr.sock" --authkey-file "$1/authkey" \
	    --max-clients 20000 --log-level warning 2>"$1/mpmgrd.log" &
	MP_PID=$!
	pids+=("$MP_PID")
	MP_SOCK=$1/mpmgr.sock
	export MPMGR_AUTHKEY_FILE=$1/authkey
	wait_until 10 "$MPBENCH" -s "$MP_SOCK" -c 1 -n 1 -t ping -q ||
	    die "mpmgrd did not start: $(cat "$1/mpmgrd.log")"
}

# start_redis DIR: redis-server on DIR/redis.sock; sets R_PID, R_SOCK.
start_redis() {
	mkdir -p "$1"
	redis-server --port 0 --unixsocket "$1/redis.sock" \
	    --unixsocketperm 700 --save '' --appendonly no \
	    --maxclients 20000 --dir "$1" --logfile "$1/redis.log" &
	R_PID=$!
	pids+=("$R_PID")
	R_SOCK=$1/redis.sock
	wait_until 10 redis-cli -s "$R_SOCK" ping ||
	    die "redis-server did not start: $(cat "$1/redis.log")"
}

# Stops a process this script started, and forgets its pid (which the
# system may give to another process afterwards).
stop() {
	local p keep=()
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

# --- one measurement -----------------------------------------------------------

# The pairs: name, mpbench test, redis-benchmark arguments.
PAIRS=(
	"ping|ping|-t ping_mbulk"
	"dict.set|dict.set|hset bench:dict key:__rand_int__ $VALUE"
	"dict.get|dict.get|hget bench:dict key:__rand_int__"
	"dict.incr|dict.incr|hincrby bench:counters key:__rand_int__ 1"
	"queue.put|queue.put|lpush bench:queue $VALUE"
	"queue.get|queue.get|rpop bench:queue"
)
REDIS_OF=([0]="PING_MBULK" [1]="HSET" [2]="HGET" [3]="HINCRBY" [4]="LPUSH"
    [5]="RPOP")

# csv_fields: the last CSV line of stdin as "rps p50 p99".
csv_fields() {
	tail -n 1 | tr -d '"' |
	    awk -F, 'NF == 8 && $2 + 0 > 0 { print $2, $5, $7 }'
}

# gone SIDE PID: the server died under the load: say how, and stop.
gone() {
	local rc log
	wait "$2"
	rc=$?
	if [ "$1" = mpmgrd ]; then
		log=$(dirname "$MP_SOCK")/mpmgrd.log
	else
		log=$(dirname "$R_SOCK")/redis.log
	fi
	say "$1 (pid $2) exited with status $rc during the run; its log ends:"
	tail -n 20 "$log" >&2
	exit 1
}

# measure SIDE PID N PIN CMD...: runs CMD (a load generator) with PIN as
# its prefix and prints "rps p50 p99 server_us client_us": the CPU time
# (user + system) of the server and of the load generator per operation.
# On 2 CPUs a load generator that needs more CPU leaves less to the server.
TIMEFORMAT='%3U %3S'
measure() {
	local side=$1 pid=$2 n=$3 pin=$4 t0 t1 out u s
	shift 4
	t0=$(cpu_ticks "$pid")
	{ time $pin "$@" >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/time"
	t1=$(cpu_ticks "$pid") || gone "$side" "$pid"
	out=$(csv_fields <"$tmp/out")
	if [ -z "$out" ]; then
		say "$side failed: $* ($(cat "$tmp/err"))"
		echo "0 0 0 0 0"
		FAILED=1
		return
	fi
	read -r u s <"$tmp/time"
	echo "$out $(awk -v d=$((t1 - t0)) -v n="$n" -v t="$TCK" -v u="$u" \
	    -v s="$s" 'BEGIN { printf "%.2f %.2f", d * 1e6 / t / n,
	    (u + s) * 1e6 / n }')"
}

FAILED=0
RES=$tmp/results
mkdir -p "$RES"

# run_config LABEL C P N PINNED
run_config() {
	local label=$1 c=$2 P=$3 n=$4 pinned=$5 pin='' i r name test rargs
	if [ "$pinned" = 1 ]; then
		pin="taskset -c 0"
		taskset -apc 0 "$MP_PID" >/dev/null
		taskset -apc 0 "$R_PID" >/dev/null
	fi
	for i in "${!PAIRS[@]}"; do
		IFS='|' read -r name test rargs <<<"${PAIRS[$i]}"
		say "$label: $name vs ${REDIS_OF[$i]} ($ROUNDS rounds of $n)"
		for ((r = 1; r <= ROUNDS; r++)); do
			measure mpmgrd "$MP_PID" "$n" "$pin" "$MPBENCH" \
			    -s "$MP_SOCK" -c "$c" -P "$P" -n "$n" \
			    -r "$KEYSPACE" -t "$test" --csv -q \
			    >>"$RES/$label.$i.mp"
			# shellcheck disable=SC2086 # rargs is several words
			measure redis "$R_PID" "$n" "$pin" redis-benchmark \
			    -s "$R_SOCK" -c "$c" -P "$P" -n "$n" \
			    -r "$KEYSPACE" --csv -q $rargs >>"$RES/$label.$i.redis"
		done
	done
	if [ "$pinned" = 1 ]; then
		taskset -apc "$ALLCPUS" "$MP_PID" >/dev/null
		taskset -apc "$ALLCPUS" "$R_PID" >/dev/null
	fi
}

# col FILE K: the median of column K of FILE.
col() {
	awk -v k="$2" '{ print $k }' "$1" | median
}

# --- the race ----------------------------------------------------------------

start_mpmgrd "$tmp/mp"
start_redis "$tmp/redis"
say "mpmgrd pid $MP_PID, redis-server pid $R_PID, $NCPU CPUs$(
    [ "$QUICK" = 1 ] && echo ", QUICK")"

# Every key of the keyspace in the dict and the hash before the race, so
# that each dict.get and HGET finds its key whatever ran before it (a miss
# is NOKEY, an error, against HGET's nil: not the same work).
say "filling bench:dict and the hash with $KEYSPACE keys"
"$MPBENCH" -s "$MP_SOCK" -c 1 -P 64 -n "$KEYSPACE" -r "$KEYSPACE" --seq \
    -t dict.set -q >/dev/null || die "mpbench could not fill bench:dict"
awk -v n="$KEYSPACE" -v v="$VALUE" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "*4\r\n$4\r\nHSET\r\n$10\r\nbench:dict\r\n" \
		    "$16\r\nkey:%012d\r\n$%d\r\n%s\r\n", i, length(v), v
}' | redis-cli -s "$R_SOCK" --pipe >/dev/null ||
    die "redis-cli could not fill the hash"
if [ "$("$MPCTL" -s "$MP_SOCK" dict len -n bench:dict)" != "$KEYSPACE" ] ||
    [ "$(redis-cli -s "$R_SOCK" hlen bench:dict)" != "$KEYSPACE" ]; then
	die "bench:dict or the hash does not hold $KEYSPACE keys"
fi

CONFIGS=(
	"c=1 P=1|1|1|$N_C1|0"
	"c=1 P=1 same CPU|1|1|$N_PIN|1"
	"c=50 P=1|50|1|$N_C50|0"
	"c=50 P=16|50|16|$N_P16|0"
)
start_s=$(date +%s)
if want race; then
for cfg in "${CONFIGS[@]}"; do
	IFS='|' read -r label c P n pinned <<<"$cfg"
	run_config "$label" "$c" "$P" "$n" "$pinned"
done

say "floor: $ROUNDS rounds of $FLOOR_N, unpinned and on CPU 0"
for ((r = 1; r <= ROUNDS; r++)); do
	"$FLOOR" -n "$FLOOR_N" --csv | csv_fields >>"$RES/floor"
	taskset -c 0 "$FLOOR" -n "$FLOOR_N" --csv | csv_fields \
	    >>"$RES/floor.pin"
done

echo
echo "mpmgrd vs Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'):" \
    "medians of $ROUNDS alternating rounds; rates in operations/s," \
    "latencies in ms; CPU in us per operation of each server (srv) and"
echo "of each load generator (cli: mpbench, redis-benchmark)"
echo
printf '%-17s %-19s %9s %6s %6s %9s %6s %6s %5s %5s %5s %5s %5s\n' config \
    "op (mpmgrd~Redis)" mpmgrd/s p50 p99 Redis/s p50 p99 ratio \
    srv:mp redis cli:mp redis
for cfg in "${CONFIGS[@]}"; do
	IFS='|' read -r label c P n pinned <<<"$cfg"
	for i in "${!PAIRS[@]}"; do
		IFS='|' read -r name test rargs <<<"${PAIRS[$i]}"
		a=$RES/$label.$i.mp
		b=$RES/$label.$i.redis
		ra=$(col "$a" 1)
		rb=$(col "$b" 1)
		printf '%-17s %-19s %9.0f %6.3f %6.3f %9.0f %6.3f %6.3f %5.2f %6.2f %5.2f %6.2f %5.2f\n' \
		    "$label" "$name~${REDIS_OF[$i]}" "$ra" "$(col "$a" 2)" \
		    "$(col "$a" 3)" "$rb" "$(col "$b" 2)" "$(col "$b" 3)" \
		    "$(awk -v a="$ra" -v b="$rb" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
		    "$(col "$a" 4)" "$(col "$b" 4)" "$(col "$a" 5)" "$(col "$b" 5)"
	done
done
fl=$(col "$RES/floor" 1)
flp=$(col "$RES/floor.pin" 1)
echo
printf 'floor (32-byte AF_UNIX ping-pong): %.0f/s p50 %.3f p99 %.3f; same CPU %.0f/s p50 %.3f p99 %.3f\n' \
    "$fl" "$(col "$RES/floor" 2)" "$(col "$RES/floor" 3)" \
    "$flp" "$(col "$RES/floor.pin" 2)" "$(col "$RES/floor.pin" 3)"
echo "c=1 same CPU as a fraction of the floor (target >= 0.77, i.e." \
    "within 1.3x):"
for i in "${!PAIRS[@]}"; do
	IFS='|' read -r name test rargs <<<"${PAIRS[$i]}"
	printf '  %-10s mpmgrd %.2f  Redis %.2f\n' "$name" \
	    "$(awk -v a="$(col "$RES/c=1 P=1 same CPU.$i.mp" 1)" -v f="$flp" \
	    'BEGIN { print a / f }')" \
	    "$(awk -v a="$(col "$RES/c=1 P=1 same CPU.$i.redis" 1)" \
	    -v f="$flp" 'BEGIN { print a / f }')"
done
say "race done in $(($(date +%s) - start_s)) s"

# --- the verbs Redis has no twin for -----------------------------------------

echo
echo "mpmgrd alone (one run each; lock = acquire + release):"
for P in 1 16; do
	n=$([ "$P" = 1 ] && echo "$N_C50" || echo "$N_P16")
	printf '  c=50 P=%-3s' "$P"
	"$MPBENCH" -s "$MP_SOCK" -c 50 -P "$P" -n "$n" \
	    -t list.append,lock,value.get --csv -q 2>"$tmp/err" | tail -n +2 |
	    tr -d '"' | awk -F, '{ printf "  %s %.0f/s p99 %.3f", $1, $2, $7 }'
	[ -s "$tmp/err" ] && { cat "$tmp/err" >&2; FAILED=1; }
	echo
done
fi # race

# --- pipes -------------------------------------------------------------------

if want pipe; then
# pipe_rate FILE NAME: the median rate of the NAME lines of FILE.
pipe_rate() {
	awk -v k="$2" '$1 == k { print $2 }' "$1" | median
}

say "pipes: mpmgr, socketpair, multiprocessing.Pipe; $ROUNDS rounds of" \
    "$N_PIPE messages, unpinned and on CPU 0"
for ((r = 1; r <= ROUNDS; r++)); do
	for place in free cpu0; do
		pin=''
		if [ "$place" = cpu0 ]; then
			pin="taskset -c 0"
			taskset -apc 0 "$MP_PID" >/dev/null
		fi
		$pin "$PIPEBENCH" mpmgr -s "$MP_SOCK" -n "$N_PIPE" \
		    >>"$RES/pipe.mpmgr.$place" || FAILED=1
		$pin "$PIPEBENCH" raw -n "$N_PIPE" >>"$RES/pipe.raw.$place" ||
		    FAILED=1
		if [ -x "$PYTHON" ]; then
			$pin "$PYTHON" "$(dirname "$0")/pipe.py" -n "$N_PIPE" \
			    >>"$RES/pipe.py.$place" || FAILED=1
		fi
		[ "$place" = cpu0 ] &&
		    taskset -apc "$ALLCPUS" "$MP_PID" >/dev/null
	done
done
echo
echo "pipes, 32-byte messages between two processes (medians of $ROUNDS" \
    "rounds; messages/s one way, round trips/s ping-pong):"
printf '  %-5s %-18s %9s %11s %9s %10s %10s\n' where measure mpmgr \
    socketpair "Pipe()" mpmgr/sock mpmgr/Pipe
for place in free cpu0; do
	for m in oneway pingpong pingpong-pipelined; do
		a=$(pipe_rate "$RES/pipe.mpmgr.$place" "$m")
		b=$(pipe_rate "$RES/pipe.raw.$place" "${m%-pipelined}")
		c=$([ -s "$RES/pipe.py.$place" ] &&
		    pipe_rate "$RES/pipe.py.$place" "${m%-pipelined}")
		printf '  %-5s %-18s %9.0f %11.0f %9.0f %10.2f %10.2f\n' \
		    "$place" "$m" "${a:-0}" "${b:-0}" "${c:-0}" \
		    "$(awk -v a="${a:-0}" -v b="${b:-0}" \
		    'BEGIN { print (b > 0 ? a / b : 0) }')" \
		    "$(awk -v a="${a:-0}" -v c="${c:-0}" \
		    'BEGIN { print (c > 0 ? a / c : 0) }')"
	done
done

fi # pipe

# --- one command from a shell ------------------------------------------------

if want shell && command -v hyperfine >/dev/null; then
	say "one command: mpctl ping vs redis-cli ping"
	hyperfine -N --warmup 10 --runs "$([ "$QUICK" = 1 ] && echo 50 ||
	    echo 300)" --style none --export-csv "$tmp/cli.csv" \
	    "$MPCTL -s $MP_SOCK ping" "redis-cli -s $R_SOCK ping" \
	    >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; FAILED=1; }
	echo
	echo "one command from a shell (process start, connect, handshake," \
	    "one op; hyperfine median):"
	awk -F, 'NR > 1 { split($1, w, " "); n = split(w[1], p, "/")
		printf "  %-10s %.2f ms (user %.2f, system %.2f)\n", p[n],
		    $4 * 1000, $5 * 1000, $6 * 1000 }' "$tmp/cli.csv"
fi

# --- many commands from a shell -------------------------------------------------
#
# $N_SHELL dict.set~HSET (key kI, value I), five ways: a process per
# command (mpctl, redis-cli), and one process for all (mpctl batch,
# redis-cli reading stdin, which waits for each reply before the next,
# and redis-cli --pipe, which does not). Wall time of each, alternating,
# the median of $ROUNDS rounds for the one-process ways, one round for
# the others.

# shell_run NAME: way NAME, once.
shell_run() {
	local i
	case $1 in
	mpctl_calls)
		for ((i = 0; i < N_SHELL; i++)); do
			"$MPCTL" -s "$MP_SOCK" dict set -n shell "k$i" "$i" ||
			    return 1
		done ;;
	mpctl_batch)
		"$MPCTL" -s "$MP_SOCK" batch <"$tmp/shell.mpctl" >/dev/null ;;
	redis_calls)
		for ((i = 0; i < N_SHELL; i++)); do
			redis-cli -s "$R_SOCK" hset shell "k$i" "$i" \
			    >/dev/null || return 1
		done ;;
	redis_stdin)
		redis-cli -s "$R_SOCK" <"$tmp/shell.redis" >/dev/null ;;
	redis_pipe)
		redis-cli -s "$R_SOCK" --pipe <"$tmp/shell.redis" >/dev/null ;;
	esac
}

# shell_way NAME: one run of way NAME; its wall seconds on stdout, or
# status 1 when it failed (its messages in $tmp/shell.err).
shell_way() {
	local rc
	TIMEFORMAT=%R
	{ time shell_run "$1" 2>>"$tmp/shell.err"; } 2>"$tmp/shell.time"
	rc=$?
	TIMEFORMAT='%3U %3S'
	[ $rc -eq 0 ] && cat "$tmp/shell.time"
}

if want shell; then
	say "shell: $N_SHELL commands, five ways, $ROUNDS rounds"
	for ((i = 0; i < N_SHELL; i++)); do
		echo "dict set -n shell k$i $i" >&3
		echo "HSET shell k$i $i" >&4
	done 3>"$tmp/shell.mpctl" 4>"$tmp/shell.redis"
	WAYS=(mpctl_calls mpctl_batch redis_calls redis_stdin redis_pipe)
	declare -A WAY_NAME=([mpctl_calls]="$N_SHELL mpctl processes"
	    [mpctl_batch]="mpctl batch < commands"
	    [redis_calls]="$N_SHELL redis-cli processes"
	    [redis_stdin]="redis-cli < commands"
	    [redis_pipe]="redis-cli --pipe < commands")
	for ((r = 1; r <= ROUNDS; r++)); do
		for w in "${WAYS[@]}"; do
			# A process a command takes minutes: once is enough
			# for a ratio of hundreds.
			[ "$r" -gt 1 ] && [[ $w == *_calls ]] && continue
			shell_way "$w" >>"$RES/shell.$w" || {
				say "shell: $w failed: $(tail -n 3 \
				    "$tmp/shell.err")"
				FAILED=1
			}
		done
	done
	mplen=$("$MPCTL" -s "$MP_SOCK" dict len -n shell)
	rlen=$(redis-cli -s "$R_SOCK" hlen shell)
	[ "$mplen" = "$N_SHELL" ] && [ "$rlen" = "$N_SHELL" ] ||
	    { say "shell: $mplen and $rlen entries, not $N_SHELL"; FAILED=1; }
	echo
	echo "$N_SHELL commands from a shell (dict.set~HSET; wall time, one" \
	    "process a command once, one process for all: median of $ROUNDS):"
	base=$(col "$RES/shell.mpctl_calls" 1)
	batch=$(col "$RES/shell.mpctl_batch" 1)
	for w in "${WAYS[@]}"; do
		t=$(col "$RES/shell.$w" 1)
		printf '  %-32s %8.3f s %9.0f/s  %7.1fx the mpctl processes\n' \
		    "${WAY_NAME[$w]}" "$t" \
		    "$(awk -v t="$t" -v n="$N_SHELL" 'BEGIN { print n / t }')" \
		    "$(awk -v a="$base" -v t="$t" 'BEGIN { print a / t }')"
	done
	printf '  mpctl batch: %.2fx redis-cli < commands, %.2fx redis-cli --pipe\n' \
	    "$(awk -v a="$(col "$RES/shell.redis_stdin" 1)" -v b="$batch" \
	    'BEGIN { print a / b }')" \
	    "$(awk -v a="$(col "$RES/shell.redis_pipe" 1)" -v b="$batch" \
	    'BEGIN { print a / b }')"
fi

want idle || want memory || want perf || {
	[ "$FAILED" = 0 ] || die "some measurements failed (see above)"
	exit 0
}

# --- idle connections ----------------------------------------------------------

# p99s of 50 clients doing ping and dict.set~HSET, medians of $ROUNDS
# runs: "ping_p99 set_p99".
p99s() {
	local side=$1 r
	: >"$tmp/p99"
	for ((r = 1; r <= ROUNDS; r++)); do
		if [ "$side" = mpmgrd ]; then
			"$MPBENCH" -s "$MP_SOCK" -c 50 -n "$N_C50" \
			    -r "$KEYSPACE" -t ping,dict.set --csv -q
		else
			redis-benchmark -s "$R_SOCK" -c 50 -n "$N_C50" \
			    -r "$KEYSPACE" -t ping_mbulk,hset --csv -q
		fi | tr -d '"' | awk -F, 'NR > 1 { printf "%s ", $7 }
		    END { print "" }' >>"$tmp/p99"
	done
	echo "$(col "$tmp/p99" 1) $(col "$tmp/p99" 2)"
}

# The number of clients a server has (the asking one included).
nclients() {
	if [ "$1" = mpmgrd ]; then
		"$MPCTL" -s "$MP_SOCK" stats | awk -F': ' '$1 == "clients" { print $2 }'
	else
		redis-cli -s "$R_SOCK" info clients |
		    awk -F: '/^connected_clients:/ { print $2 + 0 }'
	fi
}
idle_gone() {
	[ "$(nclients "$1")" -le 1 ]
}

# On fresh servers, so that memory freed by the race is not what the
# connections reuse.
if want idle; then
stop "$MP_PID"
stop "$R_PID"
start_mpmgrd "$tmp/idle-mp"
start_redis "$tmp/idle-redis"
echo
echo "$IDLE idle authenticated connections (RSS per connection; p99 in ms" \
    "of 50 other clients, ping and dict.set~HSET, without -> with):"
for side in mpmgrd redis; do
	say "idle: $side"
	if [ "$side" = mpmgrd ]; then
		pid=$MP_PID
	else
		pid=$R_PID
	fi
	before=$(p99s $side)
	rss0=$(rss_kb "$pid")
	if [ "$side" = mpmgrd ]; then
		"$MPBENCH" -s "$MP_SOCK" -c "$IDLE" -I >"$tmp/idle.out" \
		    2>"$tmp/idle.err" &
		ipid=$!
		ready() { grep -q 'idle connections open' "$tmp/idle.out"; }
	else
		redis-benchmark -s "$R_SOCK" -c "$IDLE" -I >"$tmp/idle.out" \
		    2>"$tmp/idle.err" &
		ipid=$!
		ready() { [ "$(nclients redis)" -gt "$IDLE" ]; }
	fi
	pids+=("$ipid")
	if ! wait_until 120 ready; then
		say "$side: $IDLE idle connections not open: $(cat "$tmp/idle.err")"
		FAILED=1
		stop "$ipid"
		continue
	fi
	rss1=$(rss_kb "$pid")
	after=$(p99s $side)
	stop "$ipid"
	# The server is still closing them: let it finish before measuring more.
	wait_until 60 idle_gone $side || say "$side: idle clients not gone"
	read -r pb sb <<<"$before"
	read -r pa sa <<<"$after"
	printf '  %-7s RSS +%d KiB = %d bytes per connection; p99 ping %s -> %s, set %s -> %s\n' \
	    "$side" $((rss1 - rss0)) $(((rss1 - rss0) * 1024 / IDLE)) \
	    "$pb" "$pa" "$sb" "$sa"
done
fi # idle

# --- memory --------------------------------------------------------------------

if want memory || want perf; then
stop "$MP_PID"
stop "$R_PID"
say "memory: $MEM_ENTRIES entries on fresh servers"
start_mpmgrd "$tmp/mem-mp"
start_redis "$tmp/mem-redis"
mp0=$(rss_kb "$MP_PID")
"$MPBENCH" -s "$MP_SOCK" -c 1 -P 64 -n "$MEM_ENTRIES" -r "$MEM_ENTRIES" \
    --seq -t dict.incr -q >/dev/null || FAILED=1
mp1=$(rss_kb "$MP_PID")
mplen=$("$MPCTL" -s "$MP_SOCK" dict len -n bench:counters 2>/dev/null)
mpused=$("$MPCTL" -s "$MP_SOCK" stats 2>/dev/null |
    awk -F': ' '$1 == "memory_used" { print $2 }')
r0=$(rss_kb "$R_PID")
awk -v n="$MEM_ENTRIES" 'BEGIN {
	for (i = 0; i < n; i++)
		printf "*4\r\n$4\r\nHSET\r\n$14\r\nbench:counters\r\n" \
		    "$16\r\nkey:%012d\r\n$1\r\n1\r\n", i
}' | redis-cli -s "$R_SOCK" --pipe >/dev/null || FAILED=1
r1=$(rss_kb "$R_PID")
rlen=$(redis-cli -s "$R_SOCK" hlen bench:counters)
rused=$(redis-cli -s "$R_SOCK" info memory |
    awk -F: '/^used_memory:/ { print $2 + 0 }')
echo
echo "memory: $MEM_ENTRIES dict entries key:NNNNNNNNNNNN -> 1 (RSS growth):"
printf '  mpmgrd %8d KiB  %5.1f bytes/entry  (%s entries; memory_used %s)\n' \
    $((mp1 - mp0)) \
    "$(awk -v d=$((mp1 - mp0)) -v n="$MEM_ENTRIES" 'BEGIN { print d * 1024 / n }')" \
    "${mplen:-?}" "${mpused:-?}"
printf '  Redis  %8d KiB  %5.1f bytes/entry  (%s entries; used_memory %s)\n' \
    $((r1 - r0)) \
    "$(awk -v d=$((r1 - r0)) -v n="$MEM_ENTRIES" 'BEGIN { print d * 1024 / n }')" \
    "$rlen" "$rused"
printf '  ratio mpmgrd/Redis %.2f (target <= 1.00)\n' \
    "$(awk -v a=$((mp1 - mp0)) -v b=$((r1 - r0)) 'BEGIN { print (b > 0 ? a / b : 0) }')"
fi # memory

# --- stalls --------------------------------------------------------------------

if want stall; then
stop "$MP_PID"
stop "$R_PID"
say "stalls: a ping while another client floods"
start_mpmgrd "$tmp/stall-mp"
echo
echo "stalls: one client's ping while another pipelines heavy requests" \
    "(each connection runs at most 64 requests or one coarse-clock tick" \
    "per loop turn):"
"$STALL" "$MP_SOCK" 1000000 100 || FAILED=1
fi # stall

# --- profile -------------------------------------------------------------------

if [ "$PERF" = 1 ] && ! command -v perf >/dev/null; then
	say "PERF=1: perf missing (apt-get install linux-perf)"
elif [ "$PERF" = 1 ]; then
	say "perf: mpmgrd under dict.set c=50 P=16"
	# Virtual machines often have no hardware counters: sample the clock.
	ev=cycles
	perf stat -e cycles true 2>&1 | grep -q 'not supported' &&
	    ev=cpu-clock
	# With -p, the command only sets how long mpmgrd is sampled.
	perf record -e "$ev" -F 4999 -p "$MP_PID" -o "$tmp/perf.data" -- \
	    "$MPBENCH" -s "$MP_SOCK" -c 50 -P 16 -n "$N_P16" -r "$KEYSPACE" \
	    -t dict.set -q >/dev/null 2>"$tmp/perf.err" ||
	    { cat "$tmp/perf.err" >&2; FAILED=1; }
	echo
	echo "perf ($ev) of mpmgrd under dict.set c=50 P=16, self time:"
	perf report -i "$tmp/perf.data" --stdio --no-children \
	    --sort symbol -g none --percent-limit 1 2>/dev/null |
	    awk '/^ +[0-9.]+%/ { printf "  %7s %s %s\n", $1, $2, $3 }' |
	    head -25
fi

[ "$FAILED" = 0 ] || die "some measurements failed (see above)"
