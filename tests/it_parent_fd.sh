#!/bin/sh
# it_parent_fd.sh: mpmgrd --parent-fd, the private daemon that the Python
# package starts for Manager() and that must not outlive its parent.
#
# The "parent" here is a process holding the write end of a FIFO whose read
# end is the daemon's --parent-fd. Bytes written there are ignored; when the
# holder is killed with SIGKILL the daemon must stop by itself and exit 0.
# A --parent-fd that is not open is a usage error (exit 2).
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_parent_fd

"$MPMGRD" --parent-fd 9 -s "$tmp/bad.sock" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'parent-fd 9: not an open file' "$tmp/err"
then
	pass "--parent-fd of a closed descriptor is a usage error"
else
	fail "--parent-fd 9 (closed): exit $rc, wanted 2"
	show
fi

sock=$tmp/mpmgr.sock
key=$tmp/authkey
MPMGR_SOCKET=$sock
MPMGR_AUTHKEY_FILE=$key
export MPMGR_SOCKET MPMGR_AUTHKEY_FILE
"$MPMGRD" --genkey "$key" >/dev/null 2>&1 || fail "mpmgrd --genkey"
mkfifo "$tmp/parent" || fail "mkfifo"

# The writer writes a few bytes (to be ignored) and then only holds the
# pipe open; its open() and the daemon's meet at the FIFO.
sh -c 'printf "noise"; exec sleep 600' >"$tmp/parent" &
holder=$!
bg_pids=$holder
"$MPMGRD" --parent-fd 3 3<"$tmp/parent" 2>"$tmp/daemon.log" &
daemon_pid=$!

if poll "$MPCTL" ping; then
	pass "mpmgrd --parent-fd answers while its parent lives"
else
	fail "mpmgrd --parent-fd did not answer ping"
	finish
fi
check "bytes written to the parent's pipe are ignored" \
    poll "$MPCTL" dict set -n alive k 1
check "the daemon still serves after them" alive "$daemon_pid"

kill -9 "$holder"
daemon_exits "its parent was killed (SIGKILL)"
if grep -q "stopping: the parent's pipe closed" "$tmp/daemon.log"; then
	pass "the log says why it stopped"
else
	fail "no 'stopping: the parent's pipe closed' in the log"
fi
[ -e "$sock" ] && fail "the socket is left behind after the stop"

finish
