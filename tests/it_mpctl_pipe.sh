#!/bin/sh
# it_mpctl_pipe.sh: mpctl's pipe verbs and queue shutdown against a real
# mpmgrd, across real processes.
#
# Pipes: the one-shot verbs and their exit statuses (EOF is 5); two
# unrelated shell processes streaming through `pipe write` and `pipe cat`,
# the reader ending cleanly when the writer ends or is killed with
# SIGKILL, the writer ending (5) when the reader is; a hand-off that
# nobody claims and one that `--token` claims; the seed's Pipe program in
# shell. Queue shutdown: parked getters, putters and joiners, --immediate,
# and a `while item=$(mpctl queue get)` loop that ends on it (5).
#
# Background processes are awaited by polling the daemon (obj.info
# "waiters") or their output, with a deadline; nothing sleeps to "let
# something happen". Last line "it_mpctl_pipe: N passed, N failed".
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpctl_pipe

# lines FILE N: FILE has N lines.
lines() {
	[ "$(wc -l <"$1")" -eq "$2" ]
}

daemon_start

# --- one-shot verbs ----------------------------------------------------------

t 0 '' pipe send -n p1 hello
t 0 '' pipe send -n p1 '[1,2]'
t 0 true pipe poll -n p1
t 0 hello pipe recv -n p1
t 0 '[1,2]' pipe recv -n p1
te 1 'mpctl: TIMEOUT: no message at end 1 of pipe *p1*' pipe recv -n p1 -t 0
t 1 false pipe poll -n p1 -t 0
t 0 '' pipe send -n p1 --end 1 back
t 0 back pipe recv -n p1 --end 0
# Nobody holds end 0: close closes it, and the reader finds EOF (exit 5).
t 0 '' pipe send -n p1 last
t 0 '' pipe close -n p1 --end 0
t 0 last pipe recv -n p1
te 5 "mpctl: EOF: end 0 of pipe 'p1' is closed" pipe recv -n p1
t 0 true pipe poll -n p1
te 5 'mpctl: EOF: *' pipe send -n p1 x
t 0 '' pipe close -n p1 --end 0
t 0 '' pipe close -n p1 --end 1
check "a pipe whose ends are both closed goes" noobj p1
te 2 'mpctl: pipe close: which end? --end 0 or --end 1' pipe close -n p1
te 2 "mpctl: pipe send: --end is 0 or 1, not '2'" pipe send -n p1 --end 2 x
check "nothing was made" noobj p1
# One-way (Pipe(duplex=False)): end 0 sends, end 1 receives.
t 0 '' pipe create -n p2 --no-duplex
te 4 'mpctl: BADARG: *one-way*' pipe send -n p2 --end 1 x
te 4 'mpctl: BADARG: *one-way*' pipe recv -n p2 --end 0
# Bounded.
t 0 '' pipe create -n p3 1
t 0 '' pipe send -n p3 a
te 1 "mpctl: FULL: end 1 of pipe 'p3' is full" pipe send -n p3 -t 0 b
t 0 '' rm p2 p3

# --- streaming between two unrelated processes ------------------------------

seq 1 2000 >"$tmp/seq"
bg cat1 "$MPCTL" pipe cat -n s1
check "cat waits for the writer" poll waiters s1 1
t 0 '' pipe write -n s1 <"$tmp/seq"
exits "$last" 0 "cat after the writer's end"
check "cat printed every line, in order" cmp -s "$tmp/cat1.out" "$tmp/seq"
check "s1 is gone" noobj s1

# The writer killed with SIGKILL: cat ends cleanly with what was sent.
# (The test holds the fifo open read-write on fd 3, so that opening it
# blocks nobody; the writer's input stays open until the test closes 3.)
mkfifo "$tmp/in2"
exec 3<>"$tmp/in2"
bg cat2 "$MPCTL" pipe cat -n s2
c2=$last
"$MPCTL" pipe write -n s2 <"$tmp/in2" >"$tmp/write2.out" \
	2>"$tmp/write2.err" 3>&- &
w2=$!
bg_pids="$bg_pids $w2"
printf '1\n2\n3\n' >&3
check "cat got the first lines" poll lines "$tmp/cat2.out" 3
kill -9 "$w2"
reap "$w2"
exec 3>&-
exits "$c2" 0 "cat after kill -9 of the writer"
printf '1\n2\n3\n' >"$tmp/lines"
check "cat printed what was sent" cmp -s "$tmp/cat2.out" "$tmp/lines"

# The reader killed: the writer's next send is EOF, and it exits 5.
mkfifo "$tmp/in3"
exec 3<>"$tmp/in3"
bg cat3 "$MPCTL" pipe cat -n s3
c3=$last
check "the reader holds its end" poll waiters s3 1
"$MPCTL" pipe write -n s3 <"$tmp/in3" >"$tmp/write3.out" \
	2>"$tmp/write3.err" 3>&- &
w3=$!
bg_pids="$bg_pids $w3"
echo one >&3
check "the reader got it" poll lines "$tmp/cat3.out" 1
kill -9 "$c3"
reap "$c3"
# Lines until the writer notices: its sends answer EOF once the daemon
# has seen the reader's hang-up (a line every 10 ms, for at most
# $wait_secs).
n=0
while alive "$w3" && [ $n -lt $((wait_secs * 100)) ]; do
	echo more >&3
	n=$((n + 1))
	sleep 0.01
done
exec 3>&-
exits "$w3" 5 "write after kill -9 of the reader"
check "the writer said EOF" grep -q '^mpctl: EOF: ' "$tmp/write3.err"

# --- hand-offs ---------------------------------------------------------------

# Never claimed: end 0 closes at the deadline, and cat ends.
tm 0 '[0-9]*' pipe handoff -n s4 --end 0 -t 0.5
bg cat4 "$MPCTL" pipe cat -n s4
exits "$last" 0 "cat after an unclaimed hand-off"
check "s4 is gone" noobj s4

# Claimed by the writer's open.
"$MPCTL" pipe handoff -n s5 --end 0 >"$tmp/tok" 2>"$tmp/err"
bg cat5 "$MPCTL" pipe cat -n s5
c5=$last
check "cat waits" poll waiters s5 1
t 0 '' pipe write -n s5 --token "$(cat "$tmp/tok")" <"$tmp/lines"
exits "$c5" 0 "cat after the claimed hand-off's writer"
check "cat printed what was written" cmp -s "$tmp/cat5.out" "$tmp/lines"
te 2 "mpctl: pipe cat: --token wants *" pipe cat -n s5 --token x

# --- the seed's Pipe program, in shell ---------------------------------------
#
#   parent, son = Pipe(); p = Process(target=f, args=(son,)); p.start()
#   son.close(); parent.send(1); parent.send('hi'); parent.close(); p.join()
#
# The parent hands son on (a token), the child reads until EOF; the
# parent's own end is its `write`, closed when its input ends.
tok=$("$MPCTL" pipe handoff -n seed --end 1)
bg child "$MPCTL" pipe cat -n seed --token "$tok"
child=$last
printf '1\nhi\n' | "$MPCTL" pipe write -n seed
exits "$child" 0 "the seed's child"
printf '1\nhi\n' >"$tmp/want"
check "the child printed 1 and hi" cmp -s "$tmp/child.out" "$tmp/want"

# --- queue shutdown ----------------------------------------------------------

t 0 '' queue create -n qs1 1
t 0 '' queue put -n qs1 x
bg putter "$MPCTL" queue put -n qs1 y
putter=$last
bg joiner "$MPCTL" queue join -n qs1
joiner=$last
bg getter "$MPCTL" queue get -n qs2
getter=$last
check "a putter and a joiner wait on qs1" poll waiters qs1 2
check "a getter waits on qs2" poll waiters qs2 1
t 0 '' queue shutdown -n qs2
exits "$getter" 5 "a parked get when its queue is shut down"
check "it said SHUTDOWN" grep -q '^mpctl: SHUTDOWN: ' "$tmp/getter.err"
t 0 '' queue shutdown -n qs1
exits "$putter" 5 "a parked put when its queue is shut down"
te 5 "mpctl: SHUTDOWN: queue 'qs1' is shut down" queue put -n qs1 z
# Gets drain, then are refused; the joiner waits for the task done.
t 0 x queue get -n qs1
te 5 'mpctl: SHUTDOWN: *' queue get -n qs1
check "the joiner still waits" alive "$joiner"
t 0 '' queue task_done -n qs1
exits "$joiner" 0 "join after the last task_done"

# --immediate: the queue is emptied, its joiners released.
t 0 '' queue put_many -n qs3 a b c
bg joiner3 "$MPCTL" queue join -n qs3
j3=$last
check "a joiner waits on qs3" poll waiters qs3 1
t 0 '' queue shutdown -n qs3 --immediate
exits "$j3" 0 "join after an immediate shutdown"
t 0 0 queue qsize -n qs3

# A shell's loop of gets ends on the shutdown.
t 0 '' queue put_many -n jobs build test
bg loop sh -c 'while :; do
	item=$("$MPCTL" queue get -n jobs) || { echo "status $?"; break; }
	echo "got $item"; done'
loop=$last
check "the loop has taken both and waits" poll waiters jobs 1
t 0 '' queue shutdown -n jobs
exits "$loop" 0 "the loop"
printf 'got build\ngot test\nstatus 5\n' >"$tmp/want"
check "the loop ended on SHUTDOWN (5)" cmp -s "$tmp/loop.out" "$tmp/want"

daemon_stop
finish
