#!/bin/sh
# it_lease.sh: `mpctl TYPE exec` with fencing tokens and leases, against a
# real mpmgrd, the way a shell user runs it.
#
# - exec hands CMD the grant's fencing token in $MPMGR_FENCE, and tokens
#   only grow, from one exec to the next and across objects and types.
# - exec --ttl keeps its lease extended while CMD runs longer than the
#   ttl, does not pass its connection on, and ends CMD when the lease is
#   lost: an extend refused (the lock deleted under it), no extend
#   answered in time (the daemon stopped with SIGSTOP), SIGKILL after the
#   grace for a CMD that ignores SIGTERM; mpctl killed, CMD goes with it.
#   A nested exec --ttl of the rlock its parent exec holds is refused.
# - with --data-dir, tokens keep growing across a kill -9, a compaction
#   (mpctl save) and a clean restart.
#
# The last line is "it_lease: N passed, N failed"; the exit status is 0
# only when nothing failed. The daemon and the directory never outlive it.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_lease
daemon_start

# increasing FILE: its lines are integers, each larger than the last.
increasing() {
	awk 'NR > 1 && $1 <= last { bad = 1 } { last = $1 }
	    END { exit bad || NR < 2 }' "$1"
}

# --- fencing tokens ------------------------------------------------------

: >"$tmp/fences"
for i in 1 2 3; do
	for t in lock rlock sem; do
		"$MPCTL" "$t" exec -n "f$t" -- sh -c 'echo "$MPMGR_FENCE"' \
		    >>"$tmp/fences" 2>"$tmp/err"
	done
	"$MPCTL" lock exec -n "fother$i" -- sh -c 'echo "$MPMGR_FENCE"' \
	    >>"$tmp/fences" 2>>"$tmp/err"
done
check "12 execs gave 12 tokens" test "$(wc -l <"$tmp/fences")" -eq 12
check "fencing tokens strictly increase: $(tr '\n' ' ' <"$tmp/fences")" \
    increasing "$tmp/fences"
check "no message from exec" test ! -s "$tmp/err"
t 0 'NAME  TYPE  SIZE' ls

# --- leases ----------------------------------------------------------------

te 2 'mpctl: lock exec: --ttl wants *' lock exec -n l --ttl 0 -- true
te 2 'mpctl: lock exec: --ttl wants *' lock exec -n l --ttl x -- true
t 0 '' lock create -n keep --no-release-on-disconnect
te 4 'mpctl: BADARG: *release_on_disconnect false*' \
    lock exec -n keep --ttl 5 -- touch "$tmp/ran"
check "exec --ttl on a kept lock ran nothing" test ! -e "$tmp/ran"
t 0 '' rm keep

# A nested exec --ttl of the rlock its exec holds is refused at once (it
# would wait for its parent for ever); of another rlock it leases as usual.
te 2 "mpctl: rlock exec: 'nest' is held by the exec this runs under*" \
    rlock exec -n nest -- "$MPCTL" rlock exec -n nest -t 5 --ttl 5 -- \
    touch "$tmp/nested"
check "a nested exec --ttl ran nothing" test ! -e "$tmp/nested"
t 0 'ok' rlock exec -n nest -- "$MPCTL" rlock exec -n nest2 --ttl 5 -- \
    echo ok
t 0 'nested' rlock exec -n nest -- "$MPCTL" rlock exec -n nest -- \
    echo nested

# CMD outlives three ttls: the lease is extended meanwhile, the lock stays
# held, and the connection is not CMD's.
t 0 'held=' lock exec -n ext --ttl 0.2 -- sh -c \
    'sleep 1; "$MPCTL" lock locked -n ext >/dev/null &&
     echo "held=${MPMGR_HELD_FD:-}"'
t 0 'NAME  TYPE  SIZE' ls
t 0 'ok' sem exec -n sext --ttl 0.2 -- sh -c 'sleep 0.8; echo ok'
t 0 'ok' rlock exec -n rext --ttl 0.2 -- sh -c 'sleep 0.8; echo ok'

# term.sh FILE: write its pid to FILE.pid, then wait; on SIGTERM write
# "term" to FILE and exit 0.
cat >"$tmp/term.sh" <<'EOF'
trap 'echo term >"$1"; exit 0' TERM
echo $$ >"$1.pid.tmp" && mv "$1.pid.tmp" "$1.pid"
while :; do sleep 0.05; done
EOF

# An extend refused: the lock deleted under CMD.
bg del "$MPCTL" lock exec -n del --ttl 0.3 -- sh "$tmp/term.sh" "$tmp/del"
check "exec --ttl del: CMD started" poll test -s "$tmp/del.pid"
t 0 '' rm del
reap "$last"
check "exec --ttl exits 4 once the lease is lost (got $reaped)" \
    test "$reaped" -eq 4
check "CMD got SIGTERM when the extend was refused" grep -qx term "$tmp/del"
check "exec says the lease is lost and why" grep -q \
    "^mpctl: lock exec: the lease on 'del' is lost (NOTHELD: .*): sending SIGTERM to sh" \
    "$tmp/del.err"

# No extend answered: the daemon stopped. CMD is ended before the daemon
# could give the lock to anyone, and the lock is free once it runs again.
bg stop "$MPCTL" lock exec -n stop --ttl 0.3 -- sh "$tmp/term.sh" \
    "$tmp/stop"
check "exec --ttl stop: CMD started" poll test -s "$tmp/stop.pid"
kill -STOP "$daemon_pid"
check "CMD got SIGTERM while the daemon was stopped" \
    poll grep -qx term "$tmp/stop"
kill -CONT "$daemon_pid"
reap "$last"
check "exec --ttl exits 4 when no extend is answered (got $reaped)" \
    test "$reaped" -eq 4
check "exec says no extend was answered" grep -q \
    "the lease on 'stop' is lost (no extend was answered within its ttl" \
    "$tmp/stop.err"
t 1 'false' lock locked -n stop

# A CMD that ignores SIGTERM gets SIGKILL after the grace (5 s).
cat >"$tmp/stubborn.sh" <<'EOF'
trap '' TERM
echo $$ >"$1.pid.tmp" && mv "$1.pid.tmp" "$1.pid"
while :; do sleep 0.05; done
EOF
bg kill "$MPCTL" lock exec -n stub --ttl 0.3 -- sh "$tmp/stubborn.sh" \
    "$tmp/stub"
check "exec --ttl stub: CMD started" poll test -s "$tmp/stub.pid"
t 0 '' rm stub
reap "$last"
check "exec --ttl exits 4 after SIGKILL (got $reaped)" test "$reaped" -eq 4
check "exec says it sent SIGKILL" grep -q \
    "sh still runs 5 s after SIGTERM: SIGKILL" "$tmp/kill.err"
check "exec says CMD ended killed" grep -q "sh ended (status 137)" \
    "$tmp/kill.err"
check "the stubborn CMD is gone" sh -c "! kill -0 $(cat "$tmp/stub.pid") 2>/dev/null"

# mpctl killed: nobody extends any more, and CMD goes with it at once.
bg gone "$MPCTL" lock exec -n gone --ttl 30 -- sh "$tmp/term.sh" \
    "$tmp/gone"
check "exec --ttl gone: CMD started" poll test -s "$tmp/gone.pid"
kill -9 "$last"
reap "$last"
check "CMD got SIGTERM when mpctl was killed" poll grep -qx term \
    "$tmp/gone"
check "the lock of a killed exec --ttl is free" poll sh -c \
    '! "$MPCTL" lock locked -n gone'

t 0 'NAME  TYPE  SIZE' ls
"$MPCTL" shutdown >/dev/null 2>&1
daemon_exits "mpctl shutdown"

# --- fencing tokens across restarts, with a journal -------------------------

# journaled: a daemon on the same socket and key, keeping $tmp/data.
journaled() {
	"$MPMGRD" --data-dir "$tmp/data" --fsync always \
	    2>>"$tmp/daemon.log" &
	daemon_pid=$!
	check "mpmgrd --data-dir answers" poll "$MPCTL" ping
}

# fence TYPE NAME: the token exec hands CMD, appended to $tmp/jfences.
fence() {
	"$MPCTL" "$1" exec -n "$2" -- sh -c 'echo "$MPMGR_FENCE"' \
	    >>"$tmp/jfences" 2>>"$tmp/jerr"
}

: >"$tmp/jfences"
journaled
fence lock j1
fence sem j2
# A crash: the ceiling recorded before the first token is on disk.
kill -9 "$daemon_pid"
wait "$daemon_pid" 2>/dev/null
journaled
fence lock j1
fence rlock j3
# A compaction: the snapshot carries the ceiling, then a clean stop.
t 0 '' save
daemon_stop
journaled
fence lock j1
fence sem j2
check "6 execs across restarts gave 6 tokens" \
    test "$(wc -l <"$tmp/jfences")" -eq 6
check "tokens strictly increase across restarts: $(tr '\n' ' ' \
    <"$tmp/jfences")" increasing "$tmp/jfences"
check "no message from exec" test ! -s "$tmp/jerr"
"$MPCTL" shutdown >/dev/null 2>&1
daemon_exits "mpctl shutdown (with a journal)"
finish
