#!/bin/sh
# it_mpctl_grammar.sh: mpctl's grammar and messages as a new user meets
# them (issue 14's list), and what scripts need, against a real mpmgrd.
#
# - Options anywhere before --, number-like tokens and - as operands,
#   exec's CMD, an option's argument that looks like an option.
# - --default instead of a positional default, and the hint for one
#   operand too many.
# - Messages in mpctl's words: no daemon, the key, NOOBJ, ls's TYPE, a
#   missing verb; mpmgrd's missing key file.
# - -t bounds the whole command: a stopped daemon is exit 3 soon after -t,
#   not a 10 s handshake and exit 4.
# - A nested rlock exec is re-entrant; incr's sum is exact and an answer
#   when it fits int64 or uint64; dict update changes nothing when a pair
#   is bad; versions agree.
# - -q, -x/--stdin, --file, queue put --lines, ls --names.
#
# Starts its own daemon on a socket in a temporary directory with a fresh
# key; stdout byte for byte, the exit status exactly, stderr empty on
# success and "mpctl:"-prefixed otherwise. The last line is
# "it_mpctl_grammar: N passed, N failed"; the exit status is 0 only when
# nothing failed. The daemon and the directory never outlive it.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpctl_grammar
daemon_start

# --- 1. options anywhere before --; operands never taken for options ------

t 0 '' dict set k '"v"'
te 1 "mpctl: NOKEY: no such key in 'dict'" dict get nokey --json
t 0 '"v"' dict get k --json
t 0 '"v"' --json dict get k
t 0 '"v"' dict --json get k
t 0 '"v"' dict get --json -- k
tm 0 'usage: mpctl dict set *KEY VALUE*' dict set k --help
t 0 'v' dict get k
t 0 '' dict update a 1 -n other
t 0 '["a"]' dict keys -n other
t 0 '' dict update -n other b 2 --string
t 0 '"2"' dict get -n other b --json
t 0 '' rm other
# Number-like tokens and - are operands wherever they stand.
t 0 '' dict set num 100
t 0 '90' dict incr num -10
t 0 '89.5' dict incr num -n dict -.5
t 0 '' list extend -n l 1 2 3
t 0 '3' list pop -1 -n l
t 0 '' dict set dash -
t 0 '-' dict get dash
t 0 '' dict set -- -x minus_x
t 0 'minus_x' dict get -- -x
# An option's argument that looks like an option is refused; = says it is.
te 2 "mpctl: lock exec: option -n needs NAME, not '--' (flock's -n, *" \
    lock exec -n -- echo hi
te 2 "mpctl: dict get: option --name needs NAME, not the option '-x'*" \
    dict get -n -x k
t 0 '' dict set --name=-x k 1
t 0 '1' dict get --name=-x k
t 0 '' rm -- -x
# An option the verb does not take is refused, wherever it stood.
te 2 "mpctl: dict get: option '--ack' does not apply*" dict get k --ack
te 2 "mpctl: dict get: option '--ack' does not apply*" --ack dict get k
te 2 "mpctl: dict get: unknown option '--jsn'; did you mean '--json'?*" \
    dict get k --jsn
# exec: CMD begins at its first operand; its options stay its own.
t 0 '-n x' lock exec -n e printf '%s %s\n' -n x
t 0 'ran -t 5' lock exec echo ran -t 5
t 0 '' lock exec -n e -t 5 -q true
# Global options after the verb.
t 0 'pong' ping -s "$sock"
t 0 'pong' ping --authkey-file "$key" -t 5

# --- 4. the default is an option; one operand too many ------------------------

te 2 "mpctl: dict get: wants KEY, got 2 operands: the object's name goes in -n NAME (mpctl dict get -n users alice); a default goes in --default VALUE (see mpctl dict get --help)" \
    dict get users alice
te 2 "mpctl: dict set: wants KEY VALUE, got 3 operands: the object's name goes in -n NAME (mpctl dict set -n users alice)*" \
    dict set users alice 1
t 0 'nobody' dict get alice --default nobody
t 0 '{"a":1}' dict pop alice --default '{"a":1}'
t 0 '7' dict setdefault -n sd k --default 7
t 0 '7' dict setdefault -n sd k --default 8
t 0 '' rm sd

# --- 2, 5. messages in mpctl's words --------------------------------------------

te 3 "mpctl: ECONNECT: no mpmgrd at $tmp/nope/mpmgr.sock (start one with \`mpmgrd\` or \`make run\`; or set -s / MPMGR_SOCKET)" \
    -s "$tmp/nope/mpmgr.sock" ping
# A stale socket: nothing listens there.
/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$tmp/stale.sock"
te 3 "mpctl: ECONNECT: no mpmgrd at $tmp/stale.sock (start one with *" \
    -s "$tmp/stale.sock" ping
(umask 077 && printf 'not the key\n' >"$tmp/wrong.key")
te 3 "mpctl: AUTH: *(socket $sock, key file $tmp/wrong.key)" \
    -k "$tmp/wrong.key" ping
te 3 "mpctl: EKEY: cannot open authkey $tmp/none.key: *(socket $sock, key file $tmp/none.key)" \
    -k "$tmp/none.key" ping
if "$MPMGRD" -s "$tmp/other.sock" -k "$tmp/x/key" >"$tmp/out" \
    2>"$tmp/err"; then
	fail "mpmgrd with a missing -k key file started"
elif grep -q "make one with: mpmgrd --genkey $tmp/x/key" "$tmp/err"; then
	pass "mpmgrd's missing key file: the message names --genkey"
else
	fail "mpmgrd's missing key file: $(cat "$tmp/err")"
fi
te 4 "mpctl: NOOBJ: no barrier 'nob': create it first with \`mpctl barrier create -n nob PARTIES\`" \
    barrier wait -n nob
te 4 "mpctl: NOOBJ: no array 'noa': create it first with \`mpctl array create -n noa TYPECODE {LENGTH | ITEMS}\`" \
    array len -n noa
t 0 '' sem create -n s1 2
t 0 'NAME  TYPE       SIZE
s1    semaphore  2' ls sem
t 0 's1' ls --names semaphore
te 2 "mpctl: ls: unknown type 'dcit'; did you mean 'dict'? (see mpctl --help)" \
    ls dcit
te 2 "mpctl: list: missing VERB (see mpctl list --help); to list the objects: mpctl ls" \
    list
te 2 "mpctl: unknown type or command 'bach'; did you mean 'batch'?*" bach
t 0 '' rm s1

# --- 3. -t bounds the whole command -------------------------------------------

# took SECS CMD...: CMD's status in $rc, and it took at most SECS seconds
# (whole ones, by a 1 s clock): -t, the 2 s mpctl gives a reply past it,
# and room for a loaded machine, far below the 10 s handshake limit that
# used to decide.
took() {
	limit=$1
	shift
	start=$(now)
	"$MPCTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	took_s=$(($(now) - start))
	[ "$took_s" -le "$limit" ]
}

kill -STOP "$daemon_pid"
if took 6 queue get -t 0.5 && [ "$rc" -eq 3 ] &&
    grep -q "^mpctl: no answer from mpmgrd at $sock within -t 0.5 s" \
    "$tmp/err"; then
	pass "queue get -t 0.5 against a stopped daemon: exit 3 in ${took_s} s"
else
	fail "queue get -t 0.5 against a stopped daemon: exit $rc in ${took_s} s"
	show
fi
if took 6 lock exec -n st -t 0 -- touch "$tmp/ran" && [ "$rc" -eq 3 ] &&
    [ ! -e "$tmp/ran" ]; then
	pass "lock exec -t 0 against a stopped daemon: exit 3, nothing ran"
else
	fail "lock exec -t 0 against a stopped daemon: exit $rc in ${took_s} s"
	show
fi
if took 6 ping -t 0 && [ "$rc" -eq 3 ]; then
	pass "ping -t 0 against a stopped daemon: exit 3"
else
	fail "ping -t 0 against a stopped daemon: exit $rc in ${took_s} s"
fi
kill -CONT "$daemon_pid"
# A live daemon answers a wait that ends at -t: that is the verb's answer.
te 1 "mpctl: EMPTY: *" queue get -n nothing -t 0.2
t 1 'false' event wait -n never -t 0.1
# A lock exec's -t is the wait for the lock, not CMD's time.
t 0 'done' lock exec -n slow -t 0.1 -- sh -c 'sleep 1.5; echo done'

# --- 6. rlock exec nested under the connection that owns it ----------------------

gone() {
	! alive "$1"
}

t 0 'inner' rlock exec -n r -- "$MPCTL" rlock exec -n r -t 0 -- echo inner
# The inner exec gave back its level, not the outer one's.
cat >"$tmp/nest.sh" <<'EOF'
"$MPCTL" rlock exec -n r -t 0 -- "$MPCTL" rlock exec -n r -t 0 -- true ||
	exit 10
"$MPCTL" rlock locked -n r >/dev/null || exit 11
# Another connection (no inherited one) does not get it.
MPMGR_HELD_FD= "$MPCTL" rlock exec -n r -t 0 -q -- true && exit 12
exit 0
EOF
t 0 '' rlock exec -n r -- sh "$tmp/nest.sh"
t 1 'false' rlock locked -n r
# An rlock the inherited connection does not own is waited for on a
# connection of the nested mpctl's own: killed while it waits, it leaves
# nothing parked on the outer one, whose release still goes through.
"$MPCTL" rlock exec -n busy -- sh -c "touch '$tmp/busy.ready'
	while [ ! -e '$tmp/busy.stop' ]; do sleep 0.05; done" &
busy=$!
bg_pids="$bg_pids $busy"
check "rlock exec busy: CMD started" poll test -e "$tmp/busy.ready"
cat >"$tmp/nest2.sh" <<'EOF'
"$MPCTL" rlock exec -n busy -- true &
echo $! >"$1"
wait
EOF
"$MPCTL" rlock exec -n outer -- sh "$tmp/nest2.sh" "$tmp/nest2.pid" &
outer=$!
bg_pids="$bg_pids $outer"
waiting() {
	"$MPCTL" info busy 2>/dev/null | grep -q '"waiters":1[,}]'
}
check "the nested rlock exec waits for busy" poll waiting
kill "$(cat "$tmp/nest2.pid")"
if poll gone "$outer"; then
	pass "the outer rlock exec ends once its nested one is killed"
else
	fail "the outer rlock exec hangs after its nested one was killed"
fi
wait "$outer" 2>/dev/null
t 1 'false' rlock locked -n outer
touch "$tmp/busy.stop"
wait "$busy"
# A descriptor that is not a connection to this daemon is not used.
MPMGR_HELD_FD=0
export MPMGR_HELD_FD
t 0 'x' rlock exec -n r2 -- echo x </dev/null
unset MPMGR_HELD_FD
t 0 'y' rlock exec -n r -- env MPMGR_HELD_FD=99 "$MPCTL" rlock exec -n r3 \
    -- echo y

# --- 8. dict update: all or nothing ------------------------------------------

t 0 '' dict update -n up '{"a":1}'
te 4 'mpctl: BADARG: *' dict update -n up '[["b",2],["c"]]'
te 4 'mpctl: BADTYPE: *' dict update -n up '[["b",2],[{"m":1},3]]'
te 4 'mpctl: BADTYPE: *' dict update -n up b 2 '{"m":1}' 3
t 0 '{"a":1}' dict copy -n up
t 0 '' rm up

# --- 7. incr: the exact sum, when it fits int64 or uint64 -----------------------

t 0 '' dict set -n n u 9223372036854775808
t 0 '9223372036854775807' dict incr -n n u -1
t 0 '' dict set -n n k -2
t 0 '9223372036854775806' dict incr -n n k 9223372036854775808
t 0 '' dict set -n n m 18446744073709551615
t 0 '9223372036854775807' dict incr -n n m -9223372036854775808
t 0 '9223372036854775808' dict incr -n n m
te 4 "mpctl: RANGE: dict.incr: the sum is beyond both int64 and uint64" \
    dict incr -n n m 9223372036854775808
t 0 '9223372036854775808' dict get -n n m
t 0 '' value set -n nv -9223372036854775808
te 4 'mpctl: RANGE: *' value incr -n nv -1
t 0 '9223372036854775807' value incr -n nv 18446744073709551615
t 0 '' rm n nv

# --- 9. versions from one place -------------------------------------------------

hdr=$top/proto/mpmgr_proto.h
v=$(sed -n 's/^#define MPMGR_VERSION_MAJOR \([0-9]*\)$/\1/p' "$hdr").$(
    sed -n 's/^#define MPMGR_VERSION_MINOR \([0-9]*\)$/\1/p' "$hdr").$(
    sed -n 's/^#define MPMGR_VERSION_PATCH \([0-9]*\)$/\1/p' "$hdr")
p=$(sed -n 's/^#define MPMGR_PROTO_VERSION \([0-9]*\)$/\1/p' "$hdr")
t 0 "mpctl $v (protocol $p)" -V
t 0 "mpctl $v (protocol $p)" --version
for opt in -V --version; do
	out=$("$MPMGRD" $opt 2>&1)
	if [ "$out" = "mpmgrd $v (protocol $p)" ]; then
		pass "mpmgrd $opt: $out"
	else
		fail "mpmgrd $opt: '$out', wanted 'mpmgrd $v (protocol $p)'"
	fi
done
t 0 "client: $v
server: $v
protocol: $p" version
t 0 "{\"client\":\"$v\",\"server\":\"$v\",\"protocol\":$p}" version --json
majmin=$(sed -n 's/^#define MPMGR_VERSION_\(MAJOR\|MINOR\) \([0-9]*\)$/\2/p' \
    "$top/client/mpmgr.h" | tr '\n' . | sed 's/\.$//')
if [ "$majmin" = "${v%.*}" ]; then
	pass "mpmgr.h's MAJOR.MINOR is $majmin"
else
	fail "mpmgr.h's MAJOR.MINOR is $majmin, the release $v"
fi

# --- -q: the status says it ---------------------------------------------------

t 1 '' dict contains -q nope
t 0 '' dict contains k -q
te 1 '' dict get -q nope
t 1 '' event is_set -n never --quiet
t 1 '' lock exec -n held -- env MPMGR_HELD_FD= "$MPCTL" lock exec -n held \
    -q -t 0 -- true
te 4 'mpctl: WRONGTYPE: *' value get -n dict -q

# --- values from stdin and files ------------------------------------------------

# (Input from files: a pipe into t would count in a subshell.)
printf x >"$tmp/in"
t 0 '' dict set -n in k -x <"$tmp/in"
t 0 'x' dict get -n in k
printf '[1, "two"]' >"$tmp/in"
t 0 '' dict set -n in arr --stdin <"$tmp/in"
t 0 '[1,"two"]' dict get -n in arr
printf '5' >"$tmp/in"
t 0 '' dict set -n in five -x --string <"$tmp/in"
t 0 '"5"' dict get -n in five --json
printf 'hello' >"$tmp/val"
t 0 '' queue put -n inq --file "$tmp/val"
t 0 'hello' queue get -n inq
# 200 KB, beyond what argv takes in one word on some systems.
/usr/bin/python3 -c 'import sys; sys.stdout.write("ab" * 100000)' \
    >"$tmp/big"
t 0 '' dict set -n in big --file "$tmp/big"
"$MPCTL" dict get -n in big >"$tmp/got"
printf '\n' >>"$tmp/big"
check "a 200 KB value from --file reads back" cmp -s "$tmp/big" "$tmp/got"
# Bytes that are not UTF-8 text go as binary.
printf 'a\377\000b' >"$tmp/bin"
t 0 '' dict set -n in bin --file "$tmp/bin"
t 0 '{"$bin":"Yf8AYg=="}' dict get -n in bin
te 2 "mpctl: dict set: --file $tmp/absent: *" dict set -n in k --file \
    "$tmp/absent"
te 2 'mpctl: dict set: wants KEY VALUE, got 2 operands and -x*' \
    dict set -n in k v -x </dev/null
te 2 'mpctl: dict set: -x and --file both give the last operand*' \
    dict set -n in k -x --file "$tmp/val" </dev/null
te 2 "mpctl: dict len: option '-x' does not apply*" dict len -n in -x
t 0 '' rm in

printf 'a\n{"b":1}\n3\n\nlast' >"$tmp/in"
t 0 '' queue put -n ql --lines <"$tmp/in"
t 0 '5' queue qsize -n ql
t 0 '["a",{"b":1},3,"","last"]' queue get_many -n ql 10
printf '1\n2\n' >"$tmp/in"
t 0 '' queue put -n ql --lines --string <"$tmp/in"
t 0 '["1","2"]' queue get_many -n ql 10 --json
te 2 'mpctl: queue put: --lines takes the items from stdin*' queue put \
    -n ql --lines x </dev/null
t 0 '' queue create -n qb 1
te 1 'mpctl: FULL: *' queue put -n qb --lines -t 0.1 <"$tmp/in"
t 0 '1' queue qsize -n qb
t 0 '' rm qb

# --- ls --names ----------------------------------------------------------------

t 0 '' dict set -n n1 a 1
t 0 '' dict set -n n2 a 1
t 0 '' lock create -n n3
"$MPCTL" ls --names dict >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ] && grep -qx n1 "$tmp/out" && grep -qx n2 "$tmp/out" &&
    ! grep -qx n3 "$tmp/out" && [ ! -s "$tmp/err" ]; then
	pass "ls --names dict: the dicts' names alone"
else
	fail "ls --names dict"
	show
fi
t 0 '["n3"]' ls --names lock --json
t 0 '' rm n1 n2 n3

t 0 '' shutdown
daemon_exits "mpctl shutdown"
finish
