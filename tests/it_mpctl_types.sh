#!/bin/sh
# it_mpctl_types.sh: mpctl's list, queue, lock, rlock, semaphore, event,
# condition, barrier and array verbs against a real mpmgrd, and the shell
# verbs (exec, wait, get) across real processes.
#
# Starts its own daemon ($MPMGRD, default build/mpmgrd) on a socket in a
# temporary directory with a fresh key, then checks every verb of those
# types through mpctl ($MPCTL, default build/mpctl): stdout byte for byte,
# the exit status exactly, stderr empty on success and "mpctl:"-prefixed
# otherwise. Processes that block are started in the background and the
# test polls, with a deadline, for the daemon to show them parked before
# it wakes them; nothing sleeps to "let something happen". The last line
# is "it_mpctl_types: N passed, N failed"; the exit status is 0 only when
# nothing failed. The daemon, the helpers and the directory never outlive
# it.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpctl_types

# bg_is OUT PID STATUS STDOUT: the background process PID (output OUT)
# exited STATUS having printed STDOUT (a line, or nothing when empty).
bg_is() {
	reap "$2"
	if [ -n "$4" ]; then
		printf '%s\n' "$4" >"$tmp/want"
	else
		: >"$tmp/want"
	fi
	if [ "$reaped" -eq "$3" ] && cmp -s "$tmp/$1.out" "$tmp/want"; then
		pass
	else
		fail "background $1 (exit $reaped, wanted $3; wanted stdout:" \
		    "$4)"
		indent "$tmp/$1.out" "$tmp/$1.err"
	fi
}

# unlocked NAME: the lock NAME is free.
unlocked() {
	! "$MPCTL" lock locked -n "$1" >/dev/null 2>&1
}

daemon_start

# --- exec on a fresh daemon: nothing is left behind --------------------------

t 0 'ran' lock exec -n "job$$" -- echo ran
t 0 'ran' rlock exec -n "rjob$$" -- echo ran
t 0 'ran' sem exec -n "sjob$$" -- echo ran
t 0 '' semaphore exec -n "sjob$$" -t 1 -- true
t 0 'NAME  TYPE  SIZE' ls

# --- list ---------------------------------------------------------------------

t 0 '' list append 3
t 0 '' list extend 1 2
t 0 '' list extend '[5,4]'
t 0 '' list extend --string '[6]'
t 0 '[3,1,2,5,4,"[6]"]' list copy
t 0 '"[6]"' list get --json -1
t 0 '[6]' list pop
te 4 'mpctl: NOINDEX: *' list get 5
t 0 '' list sort
t 0 '[1,2,3,4,5]' list copy
t 0 '' list sort --reverse
t 0 '[5,4,3,2,1]' list copy
t 0 '' list reverse
t 0 '[1,2,3,4,5]' list copy
t 0 '5' list len
t 0 '1' list pop 0
t 0 '5' list pop -1
t 0 '' list insert 0 x
t 0 '' list insert -1 y
t 0 '' list insert 100 z
t 0 '["x",2,3,"y",4,"z"]' list copy
t 0 '3' list index y
t 0 '3' list index y 1 4
te 4 'mpctl: NOTFOUND: *' list index y 0 3
te 4 'mpctl: NOTFOUND: *' list index nope
t 0 '1' list count x
t 0 '0' list count nope
t 0 'true' list contains z
t 1 'false' list contains nope
t 0 'true' list has 2
t 0 '' list remove y
te 4 'mpctl: NOTFOUND: *' list remove y
t 0 '' list set 0 '"w"'
t 0 '' list set -1 6
t 0 'w' list get 0
te 4 'mpctl: NOINDEX: *' list set 10 0
t 0 '' list delete 0
t 0 '' list del -1
te 4 'mpctl: NOINDEX: *' list delete 9
t 0 '[2,3,4]' list copy
t 0 '[2,4]' list slice 0 null 2
t 0 '[4,3,2]' list slice null null -1
t 0 '[3]' list slice 1 -1
t 0 '[]' list slice 5 9
te 4 'mpctl: BADARG: *' list slice 0 3 0
t 0 '' list append a
te 4 'mpctl: BADTYPE: *' list sort
t 0 '[2,3,4,"a"]' list copy
t 0 '' list clear
t 0 '0' list len
t 0 '[]' list copy
te 4 'mpctl: NOINDEX: *' list pop
te 4 'mpctl: NOOBJ: *' info list
t 0 '' list create -n kept
t 0 '' list create -n kept
tm 0 '*"explicit":true*' info kept
t 0 '' list extend -n kept -- -1 -2
t 0 '[-1,-2]' list copy -n kept
t 0 '' dict set -n d k v
te 4 'mpctl: WRONGTYPE: *' list len -n d

# --- queue --------------------------------------------------------------------

t 0 '' queue put a
t 0 '' queue put '{"job":1}'
t 0 '' queue put_many b c
t 0 '' queue put_many '[[1],[2]]'
t 0 '6' queue qsize
t 1 'false' queue empty
t 1 'false' queue full
t 0 'a' queue get
t 0 '{"job":1}' queue get -t 0
t 0 '["b","c"]' queue get_many 2
t 0 '[[1],[2]]' queue get_many -t 1 5
t 0 'true' queue empty
te 1 'mpctl: EMPTY: *' queue get -t 0
te 1 'mpctl: EMPTY: *' queue get -t 0.05
te 1 'mpctl: EMPTY: *' queue get_many -t 0 3
t 1 'false' queue join -t 0
t 1 'false' queue join -t 0.05
for i in 1 2 3 4 5 6; do
	t 0 '' queue task_done
done
te 4 'mpctl: BADARG: *' queue task_done
t 0 'true' queue join -t 0
t 0 'true' queue join
te 4 'mpctl: NOOBJ: *' info queue
te 1 'mpctl: EMPTY: *' queue get -n never -t 0
te 4 'mpctl: NOOBJ: *' info never

# Bounded, from the design's example; options before or after MAXSIZE.
t 0 '' queue create -n jobs 2 --ack
t 0 '' queue create -n jobs --ack 2
te 4 'mpctl: EXISTS: *' queue create -n jobs 3
tm 0 '*"options":{"maxsize":2,"ack":true}*' info jobs
t 0 '' queue create -n qf 2
t 0 '' queue put -n qf a
t 1 'false' queue full -n qf
te 4 'mpctl: BADARG: *' queue put_many -n qf b c d
te 1 'mpctl: FULL: *' queue put_many -n qf -t 0 b c
t 0 '' queue put -n qf b
t 0 'true' queue full -n qf
te 1 'mpctl: FULL: *' queue put -n qf -t 0 c
te 1 'mpctl: FULL: *' queue put -n qf --timeout=0.05 c
te 1 'mpctl: FULL: *' queue put -n qf c -t 0
te 2 'mpctl: queue put: -t wants seconds*' queue put -n qf -t -1 c
te 2 'mpctl: queue put: -t wants seconds*' queue put -n qf -t soon c
t 0 '["a","b"]' queue get_many -n qf 5

# A blocked put waits for room; a blocked get for an item.
t 0 '' queue put_many -n qf x y
bg put "$MPCTL" queue put -n qf -t 10 late
pid=$last
check "queue put parks while full" poll waiters qf 1
t 0 'x' queue get -n qf
bg_is put "$pid" 0 ''
t 0 '["y","late"]' queue get_many -n qf 2
bg get "$MPCTL" queue get -n qb -t 10
pid=$last
check "queue get parks while empty" poll waiters qb 1
t 0 '' queue put -n qb '"hello"'
bg_is get "$pid" 0 'hello'
bg join "$MPCTL" queue join -n qb -t 10
pid=$last
check "queue join parks" poll waiters qb 1
t 0 '' queue task_done -n qb
bg_is join "$pid" 0 'true'

# An ack queue: mpctl marks what it printed done, so join returns.
t 0 '' queue put_many -n jobs j1 j2
t 0 'j1' queue get -n jobs
t 0 '["j2"]' queue get_many -n jobs 9
t 0 'true' queue join -n jobs -t 0
te 4 'mpctl: BADARG: *' queue task_done -n jobs
t 0 '0' queue qsize -n jobs

# --- lock ---------------------------------------------------------------------

t 1 'false' lock locked
te 2 "mpctl: lock acquire: refused: *'mpctl lock exec -n lock -- CMD...'" \
    lock acquire
te 2 'mpctl: lock release: refused: *' lock release
t 0 '' lock create -n kl --no-release-on-disconnect
t 0 '' lock create -n kl --no-release-on-disconnect
te 4 'mpctl: EXISTS: *' lock create -n kl
tm 0 '*"options":{"release_on_disconnect":false}*' info kl
t 0 'true' lock acquire -n kl
t 0 'true' lock locked -n kl
t 1 'false' lock acquire -n kl -t 0
t 1 'false' lock acquire -n kl -t 0.05
te 7 "mpctl: TIMEOUT: lock exec: 'kl' not acquired within 0 s; touch not run" \
    lock exec -n kl -t 0 -E 7 -- touch "$tmp/ran"
check "lock exec -t 0 ran nothing" test ! -e "$tmp/ran"
te 1 'mpctl: TIMEOUT: *' lock exec -n kl -t 0.05 -- touch "$tmp/ran"
check "lock exec -t 0.05 ran nothing" test ! -e "$tmp/ran"
t 0 '' lock release -n kl
te 4 'mpctl: NOTHELD: *' lock release -n kl
t 1 'false' lock locked -n kl
t 0 '' lock create -n plain
te 2 'mpctl: lock acquire: refused: *' lock acquire -n plain
te 4 'mpctl: WRONGTYPE: *' lock acquire -n d
te 4 'mpctl: WRONGTYPE: *' lock exec -n d -- touch "$tmp/ran"
check "lock exec on a dict ran nothing" test ! -e "$tmp/ran"

# exec: status, signals, the inherited connection, usage.
t 0 '' lock exec -n ex -- true
t 3 '' lock exec -n ex -- sh -c 'exit 3'
t 137 '' lock exec -n ex -- sh -c 'kill -9 $$'
t 0 'true' lock exec -n ex -- "$MPCTL" lock locked -n ex
t 0 'socket' lock exec -n ex -- sh -c \
    '[ -S "/proc/$$/fd/$MPMGR_HELD_FD" ] && echo socket'
t 0 '--x' lock exec -n ex -- printf '%s\n' --x
t 0 '-x' lock exec -n ex printf '%s\n' -x
te 127 'mpctl: lock exec: /nonexistent/cmd: *' lock exec -n ex \
    /nonexistent/cmd
te 126 'mpctl: lock exec: *' lock exec -n ex -- "$tmp"
te 2 'mpctl: lock exec: wants *CMD*' lock exec -n ex
te 2 'mpctl: lock exec: -E wants *' lock exec -n ex -E 256 true
te 2 'mpctl: lock exec: *' lock exec -n ex --string true
te 4 'mpctl: NOOBJ: *' info ex

# Two, then three concurrent holders: each logs start and end, and holds
# until another waits behind it (or all others are done): no interleaving.
cat >"$tmp/mx.sh" <<'EOF'
id=$1 n=$2 f=$3 i=0
echo "start $id" >>"$f"
while [ "$(grep -c '^end' "$f")" -lt $((n - 1)) ] &&
    ! "$MPCTL" info mx | grep -q '"waiters":[1-9]'; do
	i=$((i + 1))
	if [ $i -ge 1000 ]; then
		echo "stuck $id" >>"$f"
		break
	fi
	sleep 0.01
done
echo "end $id" >>"$f"
EOF
for n in 2 3; do
	: >"$tmp/mx.log"
	pids=
	for id in $(seq 1 $n); do
		bg "mx$id" "$MPCTL" lock exec -n mx -- sh "$tmp/mx.sh" "$id" \
		    "$n" "$tmp/mx.log"
		pids="$pids $last"
	done
	ok=1
	for p in $pids; do
		reap "$p"
		[ "$reaped" -eq 0 ] || ok=0
	done
	if [ $ok -eq 1 ] && [ "$(wc -l <"$tmp/mx.log")" -eq $((2 * n)) ] &&
	    awk 'NR % 2 == 1 { if ($1 != "start") exit 1; id = $2 }
		NR % 2 == 0 { if ($1 != "end" || $2 != id) exit 1 }' \
	    "$tmp/mx.log"; then
		pass
	else
		fail "lock exec: $n holders interleaved or failed"
		indent "$tmp/mx.log"
	fi
done
te 4 'mpctl: NOOBJ: *' info mx

# kill -9 of mpctl alone: CMD still holds the connection, so the lock.
cat >"$tmp/hold.sh" <<'EOF'
echo $$ >"$1.pid"
i=0
until [ -e "$1.go" ] || [ $i -ge 2000 ]; do
	i=$((i + 1))
	sleep 0.01
done
EOF
bg k9 "$MPCTL" lock exec -n k9 -- sh "$tmp/hold.sh" "$tmp/k9"
pid=$last
check "lock exec k9: CMD started" poll test -s "$tmp/k9.pid"
cmd=$(cat "$tmp/k9.pid")
kill -9 "$pid"
reap "$pid"
check "mpctl killed (status 137)" test "$reaped" -eq 137
check "CMD survives mpctl" alive "$cmd"
t 0 'true' lock locked -n k9
te 1 'mpctl: TIMEOUT: *' lock exec -n k9 -t 0 -- touch "$tmp/ran"
check "lock exec k9 -t 0 ran nothing" test ! -e "$tmp/ran"
touch "$tmp/k9.go"
check "CMD's end releases k9" poll unlocked k9
check "k9 leaves nothing behind" poll noobj k9
check "CMD ended" poll gone "$cmd"

# kill -9 of both: the daemon releases it; a waiter gets it.
bg kb "$MPCTL" lock exec -n kb -- sh "$tmp/hold.sh" "$tmp/kb"
pid=$last
check "lock exec kb: CMD started" poll test -s "$tmp/kb.pid"
cmd=$(cat "$tmp/kb.pid")
bg kbw "$MPCTL" lock exec -n kb -t 10 -- echo next
wpid=$last
check "a second lock exec waits for kb" poll waiters kb 1
kill -9 "$pid" "$cmd"
reap "$pid"
bg_is kbw "$wpid" 0 'next'
check "kb released" poll noobj kb

# A signal sent to mpctl reaches CMD; the lock is held until CMD ends.
cat >"$tmp/trap.sh" <<'EOF'
trap 'echo "got TERM"; exit 5' TERM
: >"$1.ready"
i=0
while [ $i -lt 2000 ]; do
	i=$((i + 1))
	sleep 0.01
done
EOF
bg sig "$MPCTL" lock exec -n sig -- sh "$tmp/trap.sh" "$tmp/sig"
pid=$last
check "lock exec sig: CMD started" poll test -e "$tmp/sig.ready"
kill -TERM "$pid"
bg_is sig "$pid" 5 'got TERM'
te 4 'mpctl: NOOBJ: *' info sig

# --- rlock --------------------------------------------------------------------

t 1 'false' rlock locked
te 2 'mpctl: rlock acquire: refused: *' rlock acquire
te 2 'mpctl: rlock release: refused: *' rlock release
t 0 '' rlock create -n rk --no-release-on-disconnect
t 0 'true' rlock acquire -n rk
t 0 'true' rlock locked -n rk
t 1 'false' rlock acquire -n rk -t 0
te 4 'mpctl: NOTOWNER: *' rlock release -n rk
t 0 '' rm rk
t 4 '' rlock exec -n rx -- sh -c 'exit 4'
t 0 'inner' rlock exec -n rx -- "$MPCTL" rlock exec -n rx2 -- echo inner
# Re-entrant across the nested mpctl: it shares the connection that owns rx.
t 0 '' rlock exec -n rx -t 0 -- "$MPCTL" rlock exec -n rx -t 0 -- \
    touch "$tmp/ran"
check "nested rlock exec ran its command" test -e "$tmp/ran"
rm -f "$tmp/ran"
t 0 'NAME  TYPE  SIZE' ls rlock

# --- semaphore ----------------------------------------------------------------

t 0 '1' sem value -n ktv
t 0 '' sem create -n ktv 4 --bounded
t 0 '' semaphore create -n ktv --bounded 4
te 4 'mpctl: EXISTS: *' sem create -n ktv 4
tm 0 '*"options":{"value":4,"bounded":true,"release_on_disconnect":true}*' \
    info ktv
t 0 '4' semaphore value -n ktv
te 2 "mpctl: semaphore acquire: refused: *'mpctl semaphore exec -n ktv*" \
    sem acquire -n ktv
te 2 'mpctl: semaphore release: refused: *' sem release -n ktv
t 0 '3' sem exec -n ktv -- "$MPCTL" sem value -n ktv
t 0 '4' sem value -n ktv

# Ten holders of four permits: occupancy counted in a dict; each holds
# until the count has reached 4 once, so the peak is exactly 4.
cat >"$tmp/ktv.sh" <<'EOF'
n=$("$MPCTL" dict incr -n occ cur)
echo "$n" >>"$1/occ"
[ "$n" -ge 4 ] && : >"$1/peak"
i=0
until [ -e "$1/peak" ] || [ $i -ge 1000 ]; do
	i=$((i + 1))
	sleep 0.01
done
"$MPCTL" dict incr -n occ cur -1 >/dev/null
EOF
mkdir "$tmp/ktv"
pids=
for id in 1 2 3 4 5 6 7 8 9 10; do
	bg "ktv$id" "$MPCTL" sem exec -n ktv -- sh "$tmp/ktv.sh" "$tmp/ktv"
	pids="$pids $last"
done
ok=1
for p in $pids; do
	reap "$p"
	[ "$reaped" -eq 0 ] || ok=0
done
peak=$(sort -n "$tmp/ktv/occ" | tail -n 1)
if [ $ok -eq 1 ] && [ "$(wc -l <"$tmp/ktv/occ")" -eq 10 ] &&
    [ "$peak" = 4 ]; then
	pass
else
	fail "sem exec: 10 holders of 4 permits (peak $peak)"
	indent "$tmp/ktv/occ"
fi
t 0 '4' sem value -n ktv
t 0 '0' dict get -n occ cur

t 0 '' sem create -n sig0 0 --no-release-on-disconnect
t 1 'false' sem acquire -n sig0 -t 0
bg sacq "$MPCTL" sem acquire -n sig0 -t 10
pid=$last
check "sem acquire parks at 0" poll waiters sig0 1
t 0 '' sem release -n sig0
bg_is sacq "$pid" 0 'true'
t 0 '0' sem value -n sig0
t 0 '' sem release -n sig0 3
t 0 '3' sem value -n sig0
t 0 '' sem create -n bnd 1 --bounded --no-release-on-disconnect
te 4 'mpctl: RANGE: *' sem release -n bnd
t 0 'true' sem acquire -n bnd
t 0 '' sem release -n bnd
t 0 '1' sem value -n bnd

# --- event --------------------------------------------------------------------

t 1 'false' event is_set
t 1 'false' event wait -t 0
t 1 'false' event wait -t 0.05
t 0 '' event clear
te 4 'mpctl: NOOBJ: *' info event
bg ev "$MPCTL" event wait -n ev -t 10
pid=$last
bg ev2 "$MPCTL" event wait -n ev
pid2=$last
check "event wait parks" poll waiters ev 2
t 0 '' event set -n ev
bg_is ev "$pid" 0 'true'
bg_is ev2 "$pid2" 0 'true'
t 0 'true' event is_set -n ev
t 0 'true' event wait -n ev -t 0
t 0 '' event clear -n ev
t 1 'false' event is_set -n ev
te 4 'mpctl: NOOBJ: *' info ev
t 0 '' event create -n evk
tm 0 '*"explicit":true*' info evk

# --- condition ----------------------------------------------------------------

t 1 'false' condition wait -t 0
t 1 'false' condition wait -t 0.05
t 0 '' condition notify
t 0 '' condition notify 3
t 0 '' condition notify_all
te 2 'mpctl: condition acquire: refused: *' condition acquire
te 2 'mpctl: condition release: refused: *' condition release
te 4 'mpctl: NOOBJ: *' info condition
bg cw "$MPCTL" condition wait -n cv -t 10
pid=$last
check "condition wait parks" poll waiters cv 1
t 0 '' condition notify -n cv
bg_is cw "$pid" 0 'true'
bg cw1 "$MPCTL" condition wait -n cv
pid1=$last
bg cw2 "$MPCTL" condition wait -n cv -t 10
pid2=$last
check "two condition waits park" poll waiters cv 2
t 0 '' condition notify_all -n cv
bg_is cw1 "$pid1" 0 'true'
bg_is cw2 "$pid2" 0 'true'

# On a named lock: a lock exec holding it keeps notify out until it ends.
t 0 '' lock create -n cl
t 0 '' condition create -n cn --lock cl
t 0 '' condition create -n cn --lock=cl
te 4 'mpctl: EXISTS: *' condition create -n cn
tm 0 '*"options":{"lock":"cl"}*' info cn
te 2 'mpctl: condition acquire: refused: *' condition acquire -n cn
bg cnh "$MPCTL" lock exec -n cl -- sh "$tmp/hold.sh" "$tmp/cnh"
pid=$last
check "lock exec cl: CMD started" poll test -s "$tmp/cnh.pid"
te 1 'mpctl: TIMEOUT: condition notify: *' condition notify -n cn -t 0
t 1 'false' condition wait -n cn -t 0.05
touch "$tmp/cnh.go"
bg_is cnh "$pid" 0 ''
t 0 '' condition notify -n cn

# Kept on disconnect: plain acquire and release work on a plain lock.
t 0 '' lock create -n ckl --no-release-on-disconnect
t 0 '' condition create -n ck --lock ckl
t 0 'true' condition acquire -n ck
t 0 'true' lock locked -n ckl
t 1 'false' condition wait -n ck -t 0
t 0 '' condition release -n ck
t 1 'false' lock locked -n ckl
te 4 'mpctl: NOTHELD: *' condition release -n ck
t 0 '' condition create -n cown --no-release-on-disconnect
tm 0 '*"options":{"release_on_disconnect":false}*' info cown
te 4 'mpctl: NOTHELD: *' condition release -n cown

# --- barrier ------------------------------------------------------------------

te 4 'mpctl: NOOBJ: *' barrier wait -n nob -t 0
te 4 'mpctl: NOOBJ: *' barrier parties -n nob
te 2 'mpctl: barrier create: wants PARTIES*' barrier create -n b3
t 0 '' barrier create -n b3 3
t 0 '' barrier create -n b3 3
te 4 'mpctl: EXISTS: *' barrier create -n b3 4
te 4 'mpctl: BADARG: *' barrier create -n b0 0
t 0 '3' barrier parties -n b3
t 0 '0' barrier n_waiting -n b3
t 1 'false' barrier broken -n b3
pids=
for i in 1 2 3; do
	bg "b3w$i" "$MPCTL" barrier wait -n b3 -t 10
	pids="$pids $last"
done
ok=1
for p in $pids; do
	reap "$p"
	[ "$reaped" -eq 0 ] || ok=0
done
if [ $ok -eq 1 ] && [ "$(cat "$tmp"/b3w*.out | sort | tr '\n' ' ')" = \
    '0 1 2 ' ]; then
	pass
else
	fail "barrier wait of 3: indexes 0 1 2"
	cat "$tmp"/b3w*.out "$tmp"/b3w*.err | indent
fi
bg bw "$MPCTL" barrier wait -n b3 -t 10
pid=$last
check "barrier wait parks" poll waiters b3 1
t 0 '1' barrier n_waiting -n b3
te 1 'mpctl: TIMEOUT: *' barrier wait -n b3 -t 0
reap "$pid"
check "a timeout breaks the others (BROKEN, exit 4)" test "$reaped" -eq 4
check "BROKEN on stderr" grep -q '^mpctl: BROKEN: ' "$tmp/bw.err"
t 0 'true' barrier broken -n b3
te 4 'mpctl: BROKEN: *' barrier wait -n b3 -t 0
t 0 '' barrier reset -n b3
t 1 'false' barrier broken -n b3
bg bw "$MPCTL" barrier wait -n b3
pid=$last
check "barrier wait parks again" poll waiters b3 1
t 0 '' barrier abort -n b3
reap "$pid"
check "abort: BROKEN (exit 4)" test "$reaped" -eq 4
t 0 'true' barrier broken -n b3
t 0 '' barrier create -n b1 1
t 0 '0' barrier wait -n b1

# --- array --------------------------------------------------------------------

te 4 'mpctl: NOOBJ: *' array get -n noa
te 4 'mpctl: NOOBJ: *' array len -n noa
te 2 'mpctl: array create: wants TYPECODE*' array create -n a d
t 0 '' array create -n a d 3
t 0 '' array create -n a d 3
te 4 'mpctl: EXISTS: *' array create -n a d 4
te 4 'mpctl: BADARG: *' array create -n az z 3
t 0 '[0.0,0.0,0.0]' array get -n a
t 0 '3' array len -n a
t 0 '' array set -n a 1 2.5
t 0 '' array set -n a -1 -7
t 0 '2.5' array get -n a 1
t 0 '[0.0,2.5,-7.0]' array get -n a
te 4 'mpctl: NOINDEX: *' array get -n a 3
te 4 'mpctl: NOINDEX: *' array set -n a -4 1
te 4 'mpctl: BADTYPE: *' array set -n a 0 x
t 0 '' array create -n ai i '[1, 2, 3]'
tm 0 '*"options":{"typecode":"i","items":\[1,2,3\]}*' info ai
t 0 '[1,2,3]' array get -n ai
te 4 'mpctl: RANGE: *' array set -n ai 0 4294967296
te 4 'mpctl: BADTYPE: *' array set -n ai 0 1.5
t 0 '' array create -n ab B 2
t 0 '' array set -n ab 0 255
te 4 'mpctl: RANGE: *' array set -n ab 1 -1
t 0 '[255,0]' array get -n ab

# --- help and usage -----------------------------------------------------------

tm 0 'usage: mpctl *exec -n NAME*list*queue*lock*rlock*semaphore*(also: sem)*'\
'event*condition*barrier*array*' --help
tm 0 'usage: mpctl lock VERB*exec*--no-release-on-disconnect*' lock --help
tm 0 'usage: mpctl semaphore VERB*' sem --help
tm 0 'usage: mpctl lock exec *-t SECS*-E CODE*CMD*MPMGR_HELD_FD*' \
    lock exec --help
tm 0 'usage: mpctl queue create *--ack*(anywhere before --)*' \
    queue create --help
tm 0 'usage: mpctl queue task_done*' queue task-done --help
tm 0 'usage: mpctl condition wait *' condition wait -h
te 2 "mpctl: list: unknown verb 'apend'; did you mean 'append'?*" list apend x
te 2 "mpctl: unknown type or command 'semaphor'; did you mean*" semaphor value
te 2 "mpctl: list sort: unknown option '--reverze'*" list sort --reverze
te 2 "mpctl: event set: option '--reverse' does not apply*" event set \
    --reverse
te 2 'mpctl: barrier wait: -t wants seconds*' barrier wait -n b3 -t 1x
te 3 'mpctl: *' -s "$tmp/no.sock" lock exec -n x -- touch "$tmp/ran"
check "lock exec without a daemon ran nothing" test ! -e "$tmp/ran"

# --- done ---------------------------------------------------------------------

t 0 '' shutdown
daemon_exits "mpctl shutdown"

finish
