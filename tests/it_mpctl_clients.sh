#!/bin/sh
# it_mpctl_clients.sh: who holds and who waits, against a real mpmgrd.
#
# - `mpctl info NAME` lists a lock's holder and its waiter with the pid
#   and command of the mpctl that connected, what it holds ("held", "1
#   permit") and the method it waits in, and says why the object stays
#   ("1 holder", "1 waiter"; a queue's unfinished tasks; an explicit
#   object until rm).
# - `mpctl clients` prints one line a connection: the holder's with
#   holds=lock(L: held), the waiter's with waits=lock.acquire(L, ...s);
#   --json is the daemon's reply.
# - `mpctl kill ID` of the holder gives the lock to the waiter at once,
#   while the holder's command still runs; the holder's mpctl learns it
#   at its release (and still exits with its command's status). A client that is not there is NOTFOUND (exit 4); a
#   connection cannot kill itself (BADARG).
# - `mpctl monitor` prints a line for each request of another mpctl
#   (TIME CLIENT PID METHOD NAME ARGS), `--json` a JSON object; `-t`
#   ends it with exit 0; `mpctl kill --pid PID` closes every connection
#   of PID, and a monitor whose connection is closed exits 5. kill --pid
#   of a process without connections exits 4; kill with neither CLIENT
#   nor --pid, or with both, is a usage error.
#
# The last line is "it_mpctl_clients: N passed, N failed"; the exit
# status is 0 only when nothing failed. The daemon and the directory never
# outlive it.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpctl_clients
daemon_start

# has FILE STRING...: FILE holds every STRING (fixed strings).
has() {
	f=$1
	shift
	for s in "$@"; do
		grep -qF -- "$s" "$f" || return 1
	done
}

# info_has NAME STRING...: `mpctl info NAME` holds every STRING.
info_has() {
	n=$1
	shift
	"$MPCTL" info "$n" >"$tmp/info" 2>&1 && has "$tmp/info" "$@"
}

# A holder whose command waits for $tmp/go, and a waiter behind it.
bg holder "$MPCTL" lock exec -n L -- sh -c \
    'touch "$1/held"; while [ ! -e "$1/go" ]; do sleep 0.02; done' sh "$tmp"
holder=$last
check "the holder's command runs" poll test -e "$tmp/held"
bg waiter "$MPCTL" lock exec -n L -- echo got
waiter=$last
check "the waiter parks" poll waiters L 1
bg sem "$MPCTL" sem exec -n S -- sh -c \
    'touch "$1/sem"; while [ ! -e "$1/go" ]; do sleep 0.02; done' sh "$tmp"
sem=$last
check "the semaphore's holder runs" poll test -e "$tmp/sem"

if info_has L "\"holders\":[{\"client\":" "\"pid\":$holder," \
    '"command":"mpctl","holds":"held","held_sec":' \
    "\"waiting\":[{\"client\":" "\"pid\":$waiter," \
    '"command":"mpctl","method":"lock.acquire","wait_sec":' \
    '"stays":["1 holder","1 waiter"]'; then
	pass "info L: the holder (pid $holder) and the waiter (pid $waiter)"
else
	fail "info L lacks the holder $holder or the waiter $waiter"
	indent "$tmp/info"
fi
if info_has S "\"pid\":$sem," '"holds":"1 permit"' '"waiting":[]' \
    '"stays":["1 holder"]'; then
	pass "info S: one permit held by pid $sem"
else
	fail "info S"
	indent "$tmp/info"
fi

# Why an object stays.
"$MPCTL" queue put -n tq x >/dev/null 2>&1
"$MPCTL" queue get -n tq >/dev/null 2>&1
if info_has tq '"holders":[]' \
    '"stays":["0 items, 1 unfinished task (task_done)"]'; then
	pass "info of an implicit queue names its unfinished task"
else
	fail "info tq"
	indent "$tmp/info"
fi
"$MPCTL" dict create -n cfg >/dev/null 2>&1
if info_has cfg '"stays":["created explicitly: it stays until obj.delete"]'
then
	pass "info of an explicit dict"
else
	fail "info cfg"
	indent "$tmp/info"
fi

# clients: one line a connection.
"$MPCTL" clients >"$tmp/out" 2>"$tmp/err"
rc=$?
hline=$(grep " pid=$holder " "$tmp/out")
wline=$(grep " pid=$waiter " "$tmp/out")
case $hline in
client=[0-9]*" uid=$(id -u) command=mpctl gid="*" holds=lock(L: held)")
	pass "clients: the holder's line" ;;
*)
	fail "clients: no holder line for pid $holder"
	show ;;
esac
case $wline in
*" waits=lock.acquire(L, "*"s) holds=-")
	pass "clients: the waiter's line" ;;
*)
	fail "clients: no waiter line for pid $waiter"
	show ;;
esac
check "clients exits 0, nothing on stderr" \
    test "$rc" -eq 0 -a ! -s "$tmp/err"
tm 0 '[[]{"client":*"holds":[[][[]"L","lock","held"[]][]]*' clients --json

# kill: the waiter gets the lock while the holder's command still runs.
id=${hline#client=}
id=${id%% *}
t 0 "" kill "$id"
exits "$waiter" 0 "the waiter, once the holder's connection was killed"
check "the waiter ran its command" has "$tmp/waiter.out" got
check "the holder's command still runs" alive "$holder"
if "$MPCTL" clients | grep -q "^client=$id "; then
	fail "client $id is still listed"
else
	pass "client $id is gone from clients"
fi
te 4 "mpctl: NOTFOUND: no client $id" kill "$id"
te 4 "mpctl: NOTFOUND: no client 999999" kill 999999
touch "$tmp/go"
reap "$holder"
if [ "$reaped" -eq 0 ] && has "$tmp/holder.err" "release of 'L'"; then
	pass "the killed holder's mpctl says its release failed, exits" \
	    "with its command's status"
else
	fail "the killed holder's mpctl: exit $reaped"
	indent "$tmp/holder.err"
fi
exits "$sem" 0 "the semaphore's holder"

# A connection cannot kill itself: the batch's is the next one accepted.
total=$("$MPCTL" stats | sed -n 's/^conns_total: //p')
printf 'kill %s\nping\n' $((total + 1)) >"$tmp/in"
"$MPCTL" batch <"$tmp/in" >"$tmp/out" 2>"$tmp/err"
case $(cat "$tmp/out") in
"(error) BADARG: sys.kill: client $((total + 1)) is the asking connection
pong")
	pass "kill of the asking connection is BADARG" ;;
*)
	fail "kill of the asking connection"
	show ;;
esac

# monitor, and kill --pid.
watching() {
	"$MPCTL" stats | grep -q "^monitors: $1\$"
}
bg mon "$MPCTL" monitor
mon=$last
check "monitor watches" poll watching 1
bg monj "$MPCTL" monitor --json
monj=$last
check "monitor --json watches" poll watching 2
bg set "$MPCTL" dict set -n mon k '"v"'
set=$last
exits "$set" 0 "dict set"
check "monitor prints the dict set of pid $set" poll grep -q \
    "^[0-9]*\.[0-9]\{6\} [0-9]* $set dict\.set mon \"k\" \"v\"\$" \
    "$tmp/mon.out"
bg ping "$MPCTL" ping
ping=$last
exits "$ping" 0 "ping"
check "monitor prints the ping of pid $ping, name -" poll grep -q \
    "^[0-9]*\.[0-9]\{6\} [0-9]* $ping sys\.ping -\$" "$tmp/mon.out"
check "monitor --json prints the ping as JSON" poll grep -q \
    "^{\"time\":[0-9]*\.[0-9]\{6\},\"client\":[0-9]*,\"pid\":$ping,\"method\":\"sys\.ping\",\"name\":null,\"args\":\"\",\"lost\":0}\$" \
    "$tmp/monj.out"
check "monitor --json's lines are JSON" sh -c \
    "/usr/bin/python3 -c 'import json, sys; [json.loads(l) for l in sys.stdin]' <'$tmp/monj.out'"
t 0 "" kill --pid "$mon"
exits "$mon" 5 "monitor, its connection killed"
check "monitor says the daemon closed it" \
    grep -q "^mpctl: monitor: the daemon closed the connection\$" \
    "$tmp/mon.err"
te 4 "mpctl: kill: no connection of pid $mon" kill --pid "$mon"
t 0 "" kill --pid "$monj"
exits "$monj" 5 "monitor --json, its connection killed"
te 2 "mpctl: kill: give CLIENT (an id from mpctl clients) or --pid PID" kill
te 2 "mpctl: kill: CLIENT or --pid PID, not both" kill 3 --pid 4
te 2 "mpctl: kill: --pid wants a process id, not 'x'" kill --pid x
t 0 "" monitor -t 0.2

daemon_stop
finish
