# tests/lib.sh: what the shell tests share. Sourced, never run:
#
#	. "$(dirname "$0")/lib.sh"
#	test_begin it_NAME
#
# Gives a scratch directory that never outlives the test, counts of checks
# passed and failed ending in one summary line "it_NAME: N passed, N failed"
# (the exit status is 0 only when nothing failed), a real mpmgrd on a socket
# in that directory with a fresh key, and the checks of mpctl's output.
# Waiting is polling a condition against a deadline, never a sleep standing
# in for one.
#
# Paths: $B (default build) is the build directory under the tree holding
# this file; $MPMGRD and $MPCTL default to the binaries built there, so a
# test runs alone (`sh tests/it_NAME.sh`) as well as from tests/run.sh.
#
# POSIX sh. Every function and variable here is the tests' to use; the
# names they set are listed with each.

top=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build}
MPMGRD=${MPMGRD:-$top/$B/mpmgrd}
MPCTL=${MPCTL:-$top/$B/mpctl}
export MPCTL

# The longest any wait here lasts (seconds): a sanitized daemon on a busy
# 2-core VM.
wait_secs=15

# --- counting and reporting -------------------------------------------------

# test_begin NAME: the test's name (for the summary line), its counts
# ($passed, $failed), and a fresh directory $tmp. On any exit, whatever the
# test started is ended: the background processes in $bg_pids (SIGKILL) and
# the daemon in $daemon_pid (SIGCONT, SIGTERM, reaped), and $tmp goes.
test_begin() {
	test_name=$1
	passed=0
	failed=0
	daemon_pid=
	bg_pids=
	show_on_fail=
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$test_name.XXXXXX") || exit 1
	trap cleanup EXIT
	trap 'exit 130' HUP INT TERM
}

# cleanup: the EXIT trap of test_begin.
cleanup() {
	for p in $bg_pids; do
		kill -9 "$p" 2>/dev/null
	done
	if [ -n "$daemon_pid" ]; then
		# A test may have stopped it (SIGSTOP): TERM waits for CONT.
		kill -CONT "$daemon_pid" 2>/dev/null
		kill "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}

# pass [WHAT]: count a passed check, and say "ok: WHAT" when given.
pass() {
	passed=$((passed + 1))
	if [ $# -gt 0 ]; then
		echo "ok: $*"
	fi
}

# fail WHAT...: count a failed check and say "FAIL: WHAT". With
# $show_on_fail set, also show what the last command printed (show).
fail() {
	failed=$((failed + 1))
	echo "FAIL: $*"
	if [ -n "$show_on_fail" ]; then
		show
	fi
}

# check WHAT CMD...: pass if CMD succeeds, else fail WHAT.
check() {
	what=$1
	shift
	if "$@"; then
		pass
	else
		fail "$what"
	fi
}

# indent FILE...: the files' lines, indented, as a failure's evidence.
indent() {
	sed 's/^/    |/' "$@"
}

# show: what the last checked command printed, kept in $tmp/out (stdout)
# and $tmp/err (stderr).
show() {
	echo "  stdout:"
	[ -f "$tmp/out" ] && indent "$tmp/out"
	echo "  stderr:"
	[ -f "$tmp/err" ] && indent "$tmp/err"
}

# finish: the daemon's log when something failed, the summary line, and
# exit: 0 when nothing failed, else 1.
finish() {
	if [ "$failed" -gt 0 ] && [ -s "$tmp/daemon.log" ]; then
		echo "mpmgrd's log:"
		indent "$tmp/daemon.log"
	fi
	echo "$test_name: $passed passed, $failed failed"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

# --- processes and deadlines ------------------------------------------------

# now: seconds, for deadlines.
now() {
	date +%s
}

# alive PID: the process exists and is not a zombie.
alive() {
	case $(ps -o stat= -p "$1" 2>/dev/null) in
	'' | Z*) return 1 ;;
	esac
	return 0
}

# gone PID: the process has exited (or is a zombie).
gone() {
	! alive "$1"
}

# bg OUT CMD...: start CMD in the background, its stdout and stderr in
# $tmp/OUT.out and $tmp/OUT.err; its pid in $last (and in $bg_pids, for
# cleanup).
bg() {
	out=$1
	shift
	"$@" >"$tmp/$out.out" 2>"$tmp/$out.err" &
	last=$!
	bg_pids="$bg_pids $last"
}

# reap PID: wait for it; its exit status in $reaped (the shell's notice
# of a killed job is not wanted).
reap() {
	wait "$1" 2>/dev/null
	reaped=$?
}

# exits PID STATUS WHAT: the background PID ends with STATUS (the
# stderr of the test's background commands shown if not).
exits() {
	reap "$1"
	if [ "$reaped" -eq "$2" ]; then
		pass
	else
		fail "$3: exit $reaped, wanted $2"
		indent "$tmp"/*.err 2>/dev/null
	fi
}

# poll CMD...: run CMD (output dropped) every 10 ms until it succeeds (0)
# or $wait_secs pass (1).
poll() {
	poll_deadline=$(($(now) + wait_secs))
	until "$@" >/dev/null 2>&1; do
		if [ "$(now)" -gt "$poll_deadline" ]; then
			return 1
		fi
		sleep 0.01
	done
	return 0
}

# --- the daemon -------------------------------------------------------------

# daemon_start [MPMGRD [MPCTL]]: a daemon (default $MPMGRD) on the socket
# $sock with the fresh key $key, both in $tmp, its stderr in
# $tmp/daemon.log, its pid in $daemon_pid. It is started the way a user
# with the environment set runs it: MPMGR_SOCKET and MPMGR_AUTHKEY_FILE name
# $sock and $key, exported for every client the test runs. Returns once the
# daemon answers `MPCTL ping` (default $MPCTL); if it dies or stays silent
# for $wait_secs, the test fails and finishes there.
daemon_start() {
	daemon_bin=${1:-$MPMGRD}
	daemon_ctl=${2:-$MPCTL}
	sock=$tmp/mpmgr.sock
	key=$tmp/authkey
	MPMGR_SOCKET=$sock
	MPMGR_AUTHKEY_FILE=$key
	export MPMGR_SOCKET MPMGR_AUTHKEY_FILE
	if ! "$daemon_bin" --genkey "$key" >"$tmp/genkey.log" 2>&1; then
		fail "$daemon_bin --genkey $key"
		indent "$tmp/genkey.log"
		finish
	fi
	"$daemon_bin" 2>"$tmp/daemon.log" &
	daemon_pid=$!
	start_deadline=$(($(now) + wait_secs))
	until "$daemon_ctl" ping >/dev/null 2>&1; do
		if ! alive "$daemon_pid" || [ "$(now)" -gt "$start_deadline" ]
		then
			fail "mpmgrd did not answer ping"
			finish
		fi
		sleep 0.05
	done
}

# daemon_exits WHY: the daemon, told to stop (WHY: "mpctl shutdown",
# "SIGTERM"), must exit 0 by itself within $wait_secs. Passes or fails;
# either way the daemon is reaped and $daemon_pid empty.
daemon_exits() {
	stop_deadline=$(($(now) + wait_secs))
	while alive "$daemon_pid" && [ "$(now)" -le "$stop_deadline" ]; do
		sleep 0.05
	done
	if alive "$daemon_pid"; then
		kill -9 "$daemon_pid"
		wait "$daemon_pid"
		daemon_pid=
		fail "mpmgrd still runs $wait_secs s after $1"
		return
	fi
	wait "$daemon_pid"
	rc=$?
	daemon_pid=
	if [ "$rc" -eq 0 ]; then
		pass "mpmgrd exits 0 after $1"
	else
		fail "mpmgrd exited $rc after $1, wanted 0"
	fi
}

# daemon_stop: SIGTERM, then daemon_exits.
daemon_stop() {
	kill "$daemon_pid"
	daemon_exits SIGTERM
}

# waiters NAME N: the daemon shows N requests parked on NAME.
waiters() {
	"$MPCTL" info "$1" 2>/dev/null | grep -q "\"waiters\":$2[,}]"
}

# noobj NAME: no object NAME.
noobj() {
	! "$MPCTL" info "$1" >/dev/null 2>&1
}

# --- mpctl's output ---------------------------------------------------------
#
# Each runs `$MPCTL ARGS`, keeping its stdout in $tmp/out and stderr in
# $tmp/err, its exit status in $rc, and passes or fails (showing both).

# err_prefixed: every line of $tmp/err starts with "mpctl:".
err_prefixed() {
	! grep -v '^mpctl:' "$tmp/err" >/dev/null
}

# matches FILE PATTERN: the whole of FILE matches the glob PATTERN.
matches() {
	# shellcheck disable=SC2254
	case $(cat "$1") in
	$2) return 0 ;;
	esac
	return 1
}

# t STATUS STDOUT ARGS...: `mpctl ARGS` exits STATUS, prints STDOUT and a
# newline (nothing at all when STDOUT is empty) and nothing on stderr.
t() {
	want_rc=$1
	want_out=$2
	shift 2
	"$MPCTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ -n "$want_out" ]; then
		printf '%s\n' "$want_out" >"$tmp/want"
	else
		: >"$tmp/want"
	fi
	if [ "$rc" -eq "$want_rc" ] && cmp -s "$tmp/out" "$tmp/want" &&
	    [ ! -s "$tmp/err" ]; then
		pass
	else
		fail "mpctl $* (exit $rc, wanted $want_rc; wanted stdout:" \
		    "$want_out)"
		show
	fi
}

# te STATUS PATTERN ARGS...: `mpctl ARGS` exits STATUS, prints nothing on
# stdout, and its stderr is "mpctl:" lines matching the glob PATTERN.
te() {
	want_rc=$1
	pattern=$2
	shift 2
	"$MPCTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want_rc" ] && [ ! -s "$tmp/out" ] &&
	    matches "$tmp/err" "$pattern" && err_prefixed; then
		pass
	else
		fail "mpctl $* (exit $rc, wanted $want_rc; stderr wanted:" \
		    "$pattern)"
		show
	fi
}

# tm STATUS PATTERN ARGS...: exits STATUS, stdout matches the glob PATTERN,
# stderr empty (for output that holds numbers only the daemon knows).
tm() {
	want_rc=$1
	pattern=$2
	shift 2
	"$MPCTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want_rc" ] && matches "$tmp/out" "$pattern" &&
	    [ ! -s "$tmp/err" ]; then
		pass
	else
		fail "mpctl $* (exit $rc, wanted $want_rc; stdout wanted:" \
		    "$pattern)"
		show
	fi
}
