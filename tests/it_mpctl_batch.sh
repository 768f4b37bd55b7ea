#!/bin/sh
# it_mpctl_batch.sh: `mpctl batch` (and `mpctl -`) against a real mpmgrd:
# one command a line on one connection, one output line each.
#
# - Results as mpctl prints them, an empty line for a verb that prints
#   nothing, "(error) CODE: message" for a failure, "(error) USAGE: ..."
#   for a line that does not parse or a verb that is not for batch mode;
#   blank lines and comments print nothing; words split as a shell does.
# - The exit status is the worst of the commands'; no daemon is 3.
# - 10,000 lines make 10,000 output lines over one connection (the daemon
#   counts one more connection, not 10,000).
# - Typed commands answer before stdin ends: a reply is printed while the
#   batch still waits for more input (a FIFO held open).
#
# The last line is "it_mpctl_batch: N passed, N failed"; the exit status
# is 0 only when nothing failed. The daemon and the directory never
# outlive it.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpctl_batch
daemon_start

# batch STATUS FILE ARGS...: `mpctl ARGS < FILE` exits STATUS and prints
# $tmp/want exactly, nothing on stderr.
batch() {
	want_rc=$1
	input=$2
	shift 2
	"$MPCTL" "$@" <"$input" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -eq "$want_rc" ] && cmp -s "$tmp/out" "$tmp/want" &&
	    [ ! -s "$tmp/err" ]; then
		pass
	else
		fail "mpctl $* < $input (exit $rc, wanted $want_rc)"
		echo "  wanted stdout:"
		indent "$tmp/want"
		show
	fi
}

cat >"$tmp/in" <<'EOF'
# a comment, then a blank line: neither prints

ping
dict set a 1
dict get a
dict get nokey
dict get nokey --default '{"x": "y z"}'
dict set s "tab\there \"q\" \x41" 
dict get s --json
dict set 'two words' 'it'\''s'
dict keys
dict contains nope
dict incr a -10
queue put -n q 'hello world'
queue get -n q
lock exec -n x -- true
dict bogus
barrier wait -n nob
value get -n dict
dict get "unterminated
stats -q
EOF
cat >"$tmp/want" <<'EOF'
pong

1
(error) NOKEY: no such key in 'dict'
{"x":"y z"}

"tab\there \"q\" A"

["a","s","two words"]
false
-9

hello world
(error) USAGE: lock exec: not in batch mode (see mpctl batch --help)
(error) USAGE: dict: unknown verb 'bogus' (see mpctl dict --help)
(error) NOOBJ: no barrier 'nob': create it first with `mpctl barrier create -n nob PARTIES`
(error) WRONGTYPE: 'dict' is a dict, not a value
(error) USAGE: unterminated "
(error) USAGE: stats: option '--quiet' does not apply in batch mode (see mpctl stats --help)
EOF
batch 4 "$tmp/in" batch
t 0 "it's" dict get 'two words'

# --json on the batch: every result as JSON; - is batch too.
printf 'dict get a\ndict get s\nping\n' >"$tmp/in"
printf '%s\n' -9 '"tab\there \"q\" A"' '"pong"' >"$tmp/want"
batch 0 "$tmp/in" - --json
printf 'dict get a\ndict contains nope\n' >"$tmp/in"
printf '%s\n' -9 false >"$tmp/want"
batch 1 "$tmp/in" batch
# A last line without its newline still runs.
printf 'ping\nping' >"$tmp/in"
printf 'pong\npong\n' >"$tmp/want"
batch 0 "$tmp/in" batch
: >"$tmp/in"
: >"$tmp/want"
batch 0 "$tmp/in" batch
te 2 'mpctl: batch: takes no operands*' batch ping
te 2 "mpctl: batch: option '-n' does not apply*" batch -n x
tm 0 'usage: mpctl *batch*' batch --help
te 3 'mpctl: ECONNECT: no mpmgrd at *' -s "$tmp/nope.sock" batch

# --- 10,000 commands, one connection -----------------------------------------

conns() {
	"$MPCTL" stats | sed -n 's/^conns_total: //p'
}
i=0
while [ $i -lt 10000 ]; do
	echo "dict set -n many k$i $i"
	i=$((i + 1))
done >"$tmp/many"
before=$(conns)
"$MPCTL" batch <"$tmp/many" >"$tmp/out" 2>"$tmp/err"
rc=$?
after=$(conns)
lines=$(wc -l <"$tmp/out")
if [ $rc -eq 0 ] && [ "$lines" -eq 10000 ] && [ ! -s "$tmp/err" ] &&
    ! grep -q . "$tmp/out"; then
	pass "10,000 sets: 10,000 empty lines, exit 0"
else
	fail "10,000 sets: exit $rc, $lines lines"
	head -n 5 "$tmp/out" "$tmp/err" | indent
fi
# The batch and the first stats: two connections between the counts.
if [ $((after - before)) -eq 2 ]; then
	pass "10,000 commands over one connection"
else
	fail "10,000 commands took $((after - before - 1)) connections"
fi
t 0 '10000' dict len -n many
t 0 '9999' dict get -n many k9999
t 0 '' rm many

# --- typed commands answer before stdin ends ----------------------------------

mkfifo "$tmp/fifo"
"$MPCTL" batch <"$tmp/fifo" >"$tmp/live" 2>&1 &
bpid=$!
bg_pids="$bg_pids $bpid"
exec 3>"$tmp/fifo"
echo ping >&3
echo 'dict get a' >&3
if poll grep -qx -- -9 "$tmp/live"; then
	pass "a reply prints while the batch waits for more input"
else
	fail "no reply before stdin ended: $(cat "$tmp/live")"
fi
echo 'queue put -n live end' >&3
exec 3>&-
wait "$bpid"
rc=$?
printf 'pong\n-9\n\n' >"$tmp/want"
if [ $rc -eq 0 ] && cmp -s "$tmp/live" "$tmp/want"; then
	pass "the live batch ends with its input"
else
	fail "the live batch: exit $rc"
	indent "$tmp/live"
fi
t 0 'end' queue get -n live

t 0 '' shutdown
daemon_exits "mpctl shutdown"
finish
