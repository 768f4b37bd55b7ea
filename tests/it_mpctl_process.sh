#!/bin/sh
# it_mpctl_process.sh: process records through mpctl against a real
# mpmgrd, with real processes: `process start` (its supervisor in the
# background, or in the foreground with --wait), join from an unrelated
# process, terminate and kill through the supervisor, kill -9 of the
# command and of the supervisor (lost: exit 6), a signal sent to the
# supervisor passed on, --daemon (the command goes when the process that
# ran mpctl exits), a command that cannot run, EXISTS, info and ls.
#
# Waiting is polling the daemon or a process with a deadline. The pids of
# the commands are read from files, not through $(...): a command keeps
# mpctl's standard output, and a substitution would wait for it to exit.
# Last line "it_mpctl_process: N passed, N failed".
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpctl_process

# field NAME KEY: KEY of `process info NAME`, as printed in its JSON.
field() {
	"$MPCTL" process info -n "$1" | sed -n "s/.*\"$2\":\\([^,}]*\\).*/\\1/p"
}

# state NAME STATE: the record's state is STATE.
state() {
	[ "$(field "$1" state)" = "\"$2\"" ]
}

# start NAME [OPTION...] -- CMD...: start it; its pid in $pid.
start() {
	n=$1
	shift
	if "$MPCTL" process start -n "$n" "$@" >"$tmp/pid" 2>"$tmp/err"; then
		pid=$(cat "$tmp/pid")
		pass
	else
		pid=
		fail "mpctl process start -n $n $*"
		indent "$tmp/err"
	fi
}

# joiner OUT NAME: `process join` in the background, an unrelated
# process; its pid in $last.
joiner() {
	"$MPCTL" process join -n "$2" >"$tmp/$1.out" 2>"$tmp/$1.err" &
	last=$!
	bg_pids="$bg_pids $last"
}


daemon_start

# --- start, join from another process, terminate -----------------------------

start p1 -- sleep 300
bg_pids="$bg_pids $pid"
check "start printed a live pid" alive "$pid"
t 0 true process is_alive -n p1
check "the record is running" state p1 running
check "the record has the pid" [ "$(field p1 pid)" = "$pid" ]
check "the record has argv" [ "$(field p1 argv)" = '["sleep"' ]
tm 0 'NAME*p1*process*1' ls process
joiner j1 p1
j1=$last
check "the joiner waits" poll waiters p1 1
t 0 '' process terminate -n p1
exits "$j1" 143 "join of a terminated process (128 + SIGTERM)"
check "the process is gone" poll gone "$pid"
check "the record says exited" state p1 exited
check "its exitcode is -15" [ "$(field p1 exitcode)" = -15 ]
t 1 false process is_alive -n p1
t 0 '' process terminate -n p1
# A join that comes late still finds the exit code.
t 143 '' process join -n p1
te 4 "mpctl: EXISTS: process 'p1' exists (exited)" process start -n p1 -- true
t 0 '' rm p1
te 4 "mpctl: NOOBJ: no process 'p1'" process join -n p1

# --- kill -9 of the command; kill -----------------------------------------

start p2 -- sleep 300
joiner j2 p2
j2=$last
check "the joiner waits" poll waiters p2 1
kill -9 "$pid"
exits "$j2" 137 "join of a process killed with SIGKILL"
check "its exitcode is -9" [ "$(field p2 exitcode)" = -9 ]

start p3 -- sleep 300
t 0 '' process kill -n p3
t 137 '' process join -n p3
check "the process is gone" poll gone "$pid"

# --- kill -9 of the supervisor: lost ---------------------------------------

start p4 -- sleep 300
cmd=$pid
bg_pids="$bg_pids $cmd"
sup=$(field p4 supervisor)
check "the supervisor is another process" [ "$sup" != "$cmd" ]
joiner j4 p4
j4=$last
check "the joiner waits" poll waiters p4 1
kill -9 "$sup"
exits "$j4" 6 "join when the supervisor was killed (LOST)"
check "the joiner said LOST" grep -q '^mpctl: LOST: ' "$tmp/j4.err"
check "the record says lost" state p4 lost
check "it still has the pid" [ "$(field p4 pid)" = "$cmd" ]
check "the command runs on" alive "$cmd"
te 6 'mpctl: LOST: *' process terminate -n p4
te 6 'mpctl: LOST: *' process join -n p4
kill "$cmd"

# --- a signal to the supervisor goes to the command -------------------------

start p5 -- sleep 300
sup=$(field p5 supervisor)
kill -TERM "$sup"
t 143 '' process join -n p5
check "the supervisor reported and went" poll gone "$sup"

# --- --wait ------------------------------------------------------------------

t 7 '' process start -n p6 --wait -- sh -c 'exit 7'
t 7 '' process join -n p6
t 143 '' process start -n p7 --wait -- sh -c 'kill -TERM $$'
check "its exitcode is -15" [ "$(field p7 exitcode)" = -15 ]
t 0 'out' process start -n p8 --wait -- echo out

# --- --daemon: the command goes with the process that started it -------------

sh -c '"$MPCTL" process start -n p9 --daemon -- sleep 300 >"$1"' sh \
	"$tmp/pid9"
t 143 '' process join -n p9
check "the record says daemon" [ "$(field p9 daemon)" = true ]
# Without --daemon it stays.
sh -c '"$MPCTL" process start -n p10 -- sleep 300 >"$1"' sh "$tmp/pid10"
bg_pids="$bg_pids $(cat "$tmp/pid10")"
t 0 true process is_alive -n p10
t 0 '' process terminate -n p10
t 143 '' process join -n p10

# --- a command that cannot run --------------------------------------------

te 127 "mpctl: process start: /nonexistent/cmd: No such file or directory" \
	process start -n p11 -- /nonexistent/cmd
t 127 '' process join -n p11
te 2 'mpctl: process start: wants *' process start -n p12
t 0 '' rm p2 p3 p4 p5 p6 p7 p8 p9 p10 p11
t 0 'NAME  TYPE  SIZE' ls process

daemon_stop
finish
