#!/bin/sh
# it_dump.sh: mpctl dump and restore against real daemons: every type
# dumped from one daemon and restored into another gives the same lines
# back (values JSON cannot hold exactly included: bin, ext, NaN and the
# infinities, integers past int64, maps with keys that are not strings,
# a key twice, a lone "$" key), the objects behave as before, and every
# way a restore is refused.
#
# The last line is "it_dump: N passed, N failed"; the exit status is 0
# only when nothing failed. The daemons and the directory never outlive
# it.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_dump
daemon_start

# A second daemon on $sock2, with the same key.
sock2=$tmp/second.sock
"$MPMGRD" --socket "$sock2" 2>"$tmp/second.log" &
second_pid=$!
bg_pids="$bg_pids $second_pid"
check "the second daemon answers" poll "$MPCTL" -s "$sock2" ping

# B ARGS...: mpctl against the second daemon.
B() {
	"$MPCTL" -s "$sock2" "$@"
}

# --- state of every type on the first daemon --------------------------------

t 0 '' dict set -n d k '{"a":[1,2.5,null,true]}'
t 0 '' dict set -n d 1 '{"$bin":"AAH/"}'
t 0 '' dict set -n d '[1,"t"]' '{"$ext":[5,"aGk="]}'
t 0 '' dict set -n d nan '{"$float":"NaN"}'
t 0 '' dict set -n d inf '{"$float":"-Infinity"}'
t 0 '' dict set -n d big 18446744073709551615
t 0 '' dict set -n d ints '{"$map":[[1,"one"],[2.5,"two and a half"]]}'
t 0 '' dict set -n d twice '{"$map":[["a",1],["a",2]]}'
t 0 '' dict set -n d dollar '{"$map":[["$bin","not bin"]]}'
t 0 '' dict set -n d neg -0.0
t 0 '' list extend -n l '[3,"three",[3],{"x":-3}]'
t 0 '' value create -n v 10
t 0 '15' value incr -n v 5
t 0 '' array create -n ad d '[1,2.5]'
t 0 '' array set -n ad 0 7
t 0 '' array create -n ab b 3
t 0 '' array set -n ab 2 -128
t 0 '' queue create -n q 2 --ack
t 0 '' queue put -n q x
t 0 '' queue put -n q '{"y":1}'
t 0 '' event set -n e
t 0 '' sem create -n s 3 --bounded
t 0 '' lock create -n k --no-release-on-disconnect
t 0 'true' lock acquire -n k
t 0 '' rlock create -n r
t 0 '' condition create -n c --lock k
t 0 '' barrier create -n b 3

"$MPCTL" dump >"$tmp/a.jsonl" 2>"$tmp/err"
rc=$?
check "dump exits 0 (got $rc)" test "$rc" -eq 0
check "dump says nothing on stderr" test ! -s "$tmp/err"
check "dump wrote one line per object" test "$(wc -l <"$tmp/a.jsonl")" -eq 12

# line NAME: the line of NAME in $tmp/a.jsonl.
line() {
	grep "^{\"name\":\"$1\"," "$tmp/a.jsonl"
}
check "a dict's record" test "$(line d)" = '{"name":"d","type":"dict","explicit":false,"options":{},"contents":[["k",{"a":[1,2.5,null,true]}],[1,{"$bin":"AAH/"}],[[1,"t"],{"$ext":[5,"aGk="]}],["nan",{"$float":"NaN"}],["inf",{"$float":"-Infinity"}],["big",{"$uint":"18446744073709551615"}],["ints",{"$map":[[1,"one"],[2.5,"two and a half"]]}],["twice",{"$map":[["a",1],["a",2]]}],["dollar",{"$map":[["$bin","not bin"]]}],["neg",-0.0]]}'
check "a value's record" test "$(line v)" = \
    '{"name":"v","type":"value","explicit":true,"options":{"value":10},"contents":15}'
check "a kept lock's record: held" test "$(line k)" = \
    '{"name":"k","type":"lock","explicit":true,"options":{"release_on_disconnect":false},"contents":1}'
check "a barrier's record: options only" test "$(line b)" = \
    '{"name":"b","type":"barrier","explicit":true,"options":{"parties":3},"contents":null}'

# --- into the second daemon: the same lines, the same behaviour -------------

B restore "$tmp/a.jsonl" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "restore exits 0 (got $rc)" test "$rc" -eq 0
check "restore says nothing" test ! -s "$tmp/out" -a ! -s "$tmp/err"
B dump >"$tmp/b.jsonl" 2>"$tmp/err"
sort "$tmp/a.jsonl" >"$tmp/a.sorted"
sort "$tmp/b.jsonl" >"$tmp/b.sorted"
check "the second daemon dumps the same lines" cmp -s "$tmp/a.sorted" \
    "$tmp/b.sorted"
[ "$failed" -eq 0 ] || diff "$tmp/a.sorted" "$tmp/b.sorted"

t 0 '{"$bin":"AAH/"}' -s "$sock2" dict get -n d 1
t 0 'NaN' -s "$sock2" dict get -n d nan
t 0 '18446744073709551615' -s "$sock2" dict get -n d big
t 0 '{"1":"one","2.5":"two and a half"}' -s "$sock2" dict get -n d ints
t 0 '[3,"three",[3],{"x":-3}]' -s "$sock2" list copy -n l
t 0 '15' -s "$sock2" value get -n v
t 0 '[7.0,2.5]' -s "$sock2" array get -n ad
t 0 'x' -s "$sock2" queue get -n q
t 0 '1' -s "$sock2" queue qsize -n q
t 1 'false' -s "$sock2" lock acquire -n k -t 0
t 0 '' -s "$sock2" lock release -n k
t 0 'true' -s "$sock2" event is-set -n e
t 0 '3' -s "$sock2" sem value -n s
t 0 '3' -s "$sock2" barrier parties -n b

# --- restore's refusals -------------------------------------------------------

line v >"$tmp/v.jsonl"
te 4 "mpctl: restore: $tmp/v.jsonl:1 'v': EXISTS: *" restore "$tmp/v.jsonl"
t 0 '' value set -n v 99
t 0 '' restore --replace "$tmp/v.jsonl"
t 0 '15' value get -n v
t 0 '' restore "$tmp/v.jsonl" --replace
# A replaced object of another type; stdin as "-".
t 0 '' dict set -n other a 1
sed 's/"name":"v"/"name":"other"/' "$tmp/v.jsonl" >"$tmp/other.jsonl"
"$MPCTL" restore --replace - <"$tmp/other.jsonl" >"$tmp/out" 2>"$tmp/err"
check "restore --replace - took stdin (exit $?)" test ! -s "$tmp/err"
t 0 '15' value get -n other

printf '%s\n' '' '# a comment' 'not json' '[1]' '{"name":"z"}' \
    '{"name":"z2","type":"dict","contents":[[1,1]]}' \
    '{"name":"eph","type":"dict","ephemeral":true,"contents":[]}' \
    >"$tmp/mixed.jsonl"
"$MPCTL" restore "$tmp/mixed.jsonl" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "a restore with bad lines and a refused record exits 4 (got $rc)" \
    test "$rc" -eq 4
check "a line that is not JSON is named" grep -q \
    "^mpctl: restore: $tmp/mixed.jsonl:3: not JSON" "$tmp/err"
check "a line that is not a record is named" grep -q \
    "^mpctl: restore: $tmp/mixed.jsonl:4: not a record" "$tmp/err"
check "a record without a type is refused by the daemon" grep -q \
    "^mpctl: restore: $tmp/mixed.jsonl:5 'z': BADARG: .*no type" "$tmp/err"
check "ephemeral records are skipped, and said so" grep -q \
    "^mpctl: restore: skipped 1 ephemeral object" "$tmp/err"
check "every message is mpctl's" err_prefixed
t 0 '1' dict get -n z2 1
# A refusal early in a long restore stops nothing after it.
{
	echo '{"name":"z2","type":"dict","contents":[[1,1]]}'
	i=0
	while [ $i -lt 100 ]; do
		echo "{\"name\":\"many$i\",\"type\":\"value\",\"contents\":$i}"
		i=$((i + 1))
	done
} >"$tmp/many.jsonl"
te 4 "mpctl: restore: $tmp/many.jsonl:1 'z2': EXISTS: *" restore \
    "$tmp/many.jsonl"
t 0 '99' value get -n many99
printf '%s\n' 'not json' >"$tmp/bad.jsonl"
te 2 "mpctl: restore: $tmp/bad.jsonl:1: not JSON*" restore "$tmp/bad.jsonl"
te 4 "mpctl: NOOBJ: *" dump nothing
# Pipes and pools: refused by name, and in a dump of everything the others
# still come out.
t 0 '' pipe create -n dp
t 0 '' pool create -n dpo
te 4 "mpctl: BADTYPE: obj.dump: a pipe cannot be dumped or restored: *" \
    dump dp
te 4 "mpctl: BADTYPE: obj.dump: a pool cannot be dumped or restored: *" \
    dump dpo
"$MPCTL" dump >"$tmp/withpipe.jsonl" 2>"$tmp/withpipe.err"
check "dump of everything with a pipe and a pool exits 4" test $? -eq 4
check "both said why" test "$(grep -c BADTYPE "$tmp/withpipe.err")" -eq 2
check "the other objects are dumped" grep -q '"name":"many99"' \
    "$tmp/withpipe.jsonl"
echo '{"name":"dp2","type":"pipe","options":{},"contents":null}' \
    >"$tmp/pipe.jsonl"
te 4 "mpctl: restore: $tmp/pipe.jsonl:1 'dp2': BADTYPE: *" restore \
    "$tmp/pipe.jsonl"
t 0 '' rm dp dpo
te 4 "mpctl: restore: $tmp/none: *" restore "$tmp/none"

# A restore into a daemon with a journal survives a crash: the same dump
# after kill -9 and a restart.
sock3=$tmp/third.sock
third() {
	"$MPMGRD" --socket "$sock3" --data-dir "$tmp/data" --fsync always \
	    2>>"$tmp/third.log" &
	third_pid=$!
	check "the journaled daemon answers" poll "$MPCTL" -s "$sock3" ping
}
third
"$MPCTL" -s "$sock3" restore "$tmp/a.jsonl" >/dev/null 2>&1
"$MPCTL" -s "$sock3" dump | sort >"$tmp/c.sorted"
kill -9 "$third_pid"
wait "$third_pid" 2>/dev/null
third
"$MPCTL" -s "$sock3" dump | sort >"$tmp/d.sorted"
check "restored objects come back after kill -9 (one per line)" \
    test "$(wc -l <"$tmp/d.sorted")" -ge 10
check "and equal to what was restored" cmp -s "$tmp/c.sorted" \
    "$tmp/d.sorted"
"$MPCTL" -s "$sock3" shutdown >/dev/null 2>&1
wait "$third_pid"

"$MPCTL" -s "$sock2" shutdown >/dev/null 2>&1
wait "$second_pid"
rc=$?
check "the second daemon exits 0 (got $rc)" test "$rc" -eq 0
"$MPCTL" shutdown >/dev/null 2>&1
daemon_exits "mpctl shutdown"
finish
