#!/bin/sh
# it_mpbench.sh: mpbench against a real mpmgrd, a smoke run (speed is never
# asserted here; `make bench` measures it).
#
# Starts its own daemon ($MPMGRD) on a socket in a temporary directory with
# a fresh key and checks that mpbench ($MPBENCH, default beside $MPCTL)
# prints redis-benchmark's CSV header and one sane line per test, issues
# exactly -n operations whatever -c and -P (counted through the daemon's
# state with $MPCTL), and exits 2 on usage errors and 3 when it cannot
# connect. The last line is "it_mpbench: N passed, N failed".
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpbench
MPBENCH=${MPBENCH:-$(dirname "$MPCTL")/mpbench}
# Every failure shows what mpbench printed.
show_on_fail=1

# bench STATUS ARGS...: mpbench ARGS exits STATUS (output in out and err).
bench() {
	want=$1
	shift
	"$MPBENCH" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		return 0
	fi
	fail "mpbench $* exited $rc, wanted $want"
	return 1
}

# The CSV lines after the header are for the tests named, in order, each
# with 8 fields, a positive rate and min <= p50 <= p95 <= p99 <= max.
csv_ok() {
	tail -n +2 "$tmp/out" | tr -d '"' | awk -F, -v want="$1" '
		{ names = names (NR > 1 ? "," : "") $1 }
		NF != 8 || $2 <= 0 || $4 > $5 || $5 > $6 || $6 > $7 ||
		    $7 > $8 { bad = 1 }
		END { exit bad || names != want }'
}

header='"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"'

daemon_start

# --- CSV ------------------------------------------------------------------

if bench 0 -n 1000 -q --csv -t ping,dict.set; then
	if [ "$(head -n 1 "$tmp/out")" = "$header" ] &&
	    [ "$(wc -l <"$tmp/out")" -eq 3 ] && csv_ok ping,dict.set &&
	    [ ! -s "$tmp/err" ]; then
		pass
	else
		fail "mpbench --csv: header or lines wrong"
	fi
fi

# Every test, through the socket given with -s rather than the variable.
MPMGR_SOCKET=$tmp/nowhere
if bench 0 -s "$sock" -c 3 -n 200 --csv; then
	if csv_ok ping,dict.set,dict.get,dict.incr,queue.put,queue.get,list.append,lock,value.get
	then
		pass
	else
		fail "mpbench --csv of every test: lines wrong"
	fi
fi
MPMGR_SOCKET=$sock

# The human table: a heading, then one row per test.
if bench 0 -n 100 -t ping; then
	if [ "$(sed -n 2p "$tmp/out" | awk '{ print $1 }')" = test ] &&
	    [ "$(sed -n 3p "$tmp/out" | awk '{ print $1 }')" = ping ]; then
		pass
	else
		fail "mpbench's table: no heading or no ping row"
	fi
fi

# --- exactly -n operations, however they are spread -------------------------

# One key: the probe's incr plus 1000 more, over 7 clients of 3 in flight.
"$MPCTL" rm bench:counters >/dev/null 2>&1
if bench 0 -c 7 -P 3 -n 1000 -q -t dict.incr; then
	v=$("$MPCTL" dict get -n bench:counters key:000000000000 2>&1)
	if [ "$v" = 1001 ]; then
		pass
	else
		fail "dict.incr -n 1000: the counter is $v, wanted 1001"
	fi
fi

# As many gets as puts leave the queue empty (so gone).
if bench 0 -c 5 -P 16 -n 999 -q -t queue.put,queue.get,lock; then
	v=$("$MPCTL" queue qsize -n bench:queue 2>&1)
	if [ "$v" = 0 ] && "$MPCTL" lock locked -n bench:lock >/dev/null 2>&1
	then
		fail "the lock is still held after the lock test"
	elif [ "$v" = 0 ]; then
		pass
	else
		fail "queue.put then queue.get of 999: qsize $v, wanted 0"
	fi
fi

# --- errors -----------------------------------------------------------------

if bench 2 -t ping,nosuchtest; then
	if grep -q '^mpbench: no test nosuchtest' "$tmp/err"; then
		pass
	else
		fail "an unknown test is not named on stderr"
	fi
fi
bench 2 -c 0 && pass
bench 2 -P x && pass

if bench 3 -s "$tmp/nowhere" -n 10 -t ping; then
	if grep -q '^mpbench: connection 1 of 50: ECONNECT' "$tmp/err"; then
		pass
	else
		fail "a missing socket is not reported as ECONNECT"
	fi
fi

finish
