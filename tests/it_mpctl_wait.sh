#!/bin/sh
# it_mpctl_wait.sh: mpctl -w SECS against a daemon that is away and comes
# back on the same socket: mpctl waits for it (up to SECS, no longer), and
# an exec --ttl whose daemon restarts under it loses its lease and ends
# its command.
#
# The last line is "it_mpctl_wait: N passed, N failed"; the exit status
# is 0 only when nothing failed. The daemon and the directory never
# outlive it.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpctl_wait
daemon_start

# relaunch: a daemon again on $sock with the same $key (daemon_start made
# them), once it answers.
relaunch() {
	"$MPMGRD" 2>>"$tmp/daemon.log" &
	daemon_pid=$!
	check "mpmgrd answers again" poll "$MPCTL" ping
}

t 0 '' dict set -n w k 1
te 2 'mpctl: ping: -w wants seconds*' -w x ping
te 2 'mpctl: ping: -w wants seconds*' -w -1 ping
t 0 'pong' -w 0 ping
te 2 'mpctl: batch: -w wants seconds*' -w x batch
check "batch takes -w" sh -c 'echo ping | "$MPCTL" -w 0 batch | grep -qx pong'
echo 'dict get -w 1 k' >"$tmp/cmds"
check "a batch line does not take -w" sh -c '"$MPCTL" batch <"$1" |
    grep -q "does not apply in batch mode"' sh "$tmp/cmds"
daemon_stop

# Away: without -w, or with -w 0, mpctl gives up at once.
te 3 'mpctl: ECONNECT: *' ping
te 3 'mpctl: ECONNECT: *' -w 0 ping
start=$(now)
te 3 'mpctl: ECONNECT: *' -w 1 ping
check "-w 1 gave up in time" test $(($(now) - start)) -le "$wait_secs"

# Back while mpctl waits: it goes through.
bg w "$MPCTL" -w 30 dict get -n w k --default fallback
check "mpctl -w waits while the daemon is away" alive "$last"
relaunch
exits "$last" 0 "mpctl -w once the daemon was back"
check "it printed the answer of the new daemon" grep -qx fallback \
    "$tmp/w.out"
check "and nothing on stderr" test ! -s "$tmp/w.err"

# A batch waits the same way.
daemon_stop
printf 'dict set -n w k 2\ndict get -n w k\n' >"$tmp/cmds"
bg wb sh -c '"$MPCTL" -w 30 batch <"$1"' sh "$tmp/cmds"
check "mpctl -w batch waits while the daemon is away" alive "$last"
relaunch
exits "$last" 0 "mpctl -w batch once the daemon was back"
check "its lines ran on the new daemon" test "$(cat "$tmp/wb.out")" = \
    "$(printf '\n2')"

# A restart under exec --ttl: the lease is gone with the old daemon.
cat >"$tmp/term.sh" <<'EOF'
trap 'echo term >"$1"; exit 0' TERM
echo $$ >"$1.pid.tmp" && mv "$1.pid.tmp" "$1.pid"
while :; do sleep 0.05; done
EOF
for w in '' '-w 10'; do
	rm -f "$tmp/r" "$tmp/r.pid"
	# shellcheck disable=SC2086 # $w is an option or nothing
	bg r "$MPCTL" $w lock exec -n r --ttl 0.5 -- sh "$tmp/term.sh" \
	    "$tmp/r"
	check "exec --ttl ${w:-without -w}: CMD started" poll test -s \
	    "$tmp/r.pid"
	kill -9 "$daemon_pid"
	wait "$daemon_pid" 2>/dev/null
	relaunch
	exits "$last" 4 "exec --ttl ${w:-without -w} after a restart"
	check "its CMD got SIGTERM" grep -qx term "$tmp/r"
	check "exec said the lease is lost" grep -q \
	    "the lease on 'r' is lost" "$tmp/r.err"
done

"$MPCTL" shutdown >/dev/null 2>&1
daemon_exits "mpctl shutdown"
finish
