#!/bin/sh
# it_mpctl.sh: mpctl against a real mpmgrd, the way a shell user runs it.
#
# Starts its own daemon ($MPMGRD, default build/mpmgrd) on a socket in a
# temporary directory with a fresh key, then checks every dict, value and
# server verb of mpctl ($MPCTL, default build/mpctl): stdout byte for byte,
# the exit status exactly, stderr empty on success and "mpctl:"-prefixed
# otherwise. Ends with `mpctl shutdown`, after which the daemon must exit 0.
# The last line is "it_mpctl: N passed, N failed"; the exit status is 0
# only when nothing failed. The daemon and the directory never outlive it.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpctl
daemon_start

# --- server verbs, on a fresh daemon ----------------------------------------

t 0 'pong' ping
t 0 '"pong"' ping --json
t 0 'NAME  TYPE  SIZE' ls
t 0 '[]' ls --json
t 0 '' dict update -n a_long_one a 1 b 2 c 3
t 0 'NAME        TYPE  SIZE
a_long_one  dict  3' ls
t 0 '[["a_long_one","dict",3]]' ls --json
t 0 'NAME        TYPE  SIZE
a_long_one  dict  3' ls dict
t 0 'NAME  TYPE  SIZE' ls value
t 0 '' rm a_long_one
t 0 'NAME  TYPE  SIZE' ls

# --- dict -------------------------------------------------------------------

# The examples of the design.
t 0 '' dict set num 100
t 0 '100' dict get num
t 0 '90' dict incr num -10
t 0 '90' dict get num
t 0 '91' dict incr num
t 0 '91.5' dict incr num 0.5
t 0 '91.0' dict incr num -.5
te 1 'mpctl: NOKEY: *' dict get missing
t 0 'fallback' dict get missing --default fallback
t 0 '{"a":1}' dict get --default '{"a":1}' missing
t 0 'null' dict get missing --default null
t 0 '' dict set greeting hello
t 0 'hello' dict get greeting
t 0 '"hello"' dict get --json greeting
t 0 '' dict set cfg '{"a":[1,2.5,null]}'
t 0 '{"a":[1,2.5,null]}' dict get cfg

# Operands: JSON when JSON, else strings; --string forces strings.
t 0 '' dict set --string x 5
t 0 '5' dict get x
t 0 '"5"' dict get --json x
t 0 '' dict set y 5
t 0 '5' dict get --json y
t 0 '' dict set q '"5"'
t 0 '"5"' dict get --json q
t 0 '' dict set order '{"z":1,"a":2,"m":[true,false]}'
t 0 '{"z":1,"a":2,"m":[true,false]}' dict get order
t 0 '' dict set nil null
t 0 'null' dict get nil
t 0 'null' dict get --json nil
t 0 '' dict set f 0.1
t 0 '0.1' dict get f
t 0 '' dict set f2 2.0
t 0 '2.0' dict get f2
t 0 '' dict set f3 1e3
t 0 '1000.0' dict get f3
t 0 '' dict set f4 -1.5e-7
t 0 '-1.5e-07' dict get f4
t 0 '' dict set big 18446744073709551615
t 0 '18446744073709551615' dict get big
t 0 '' dict set small -9223372036854775808
t 0 '-9223372036854775808' dict get small
te 2 'mpctl: integer out of range*' dict set big 18446744073709551616
te 2 'mpctl: number out of range*' dict set big '[1e400]'
t 0 '' dict set esc '"a\"b\\c\nd"'
t 0 '"a\"b\\c\nd"' dict get --json esc
t 0 'a"b\c
d' dict get esc
t 0 '' dict set ctl '"\u0001\t\u007f"'
t 0 '"\u0001\t\u007f"' dict get --json ctl
t 0 '' dict set uni '"\u00e9t\u00e9"'
t 0 'été' dict get uni
t 0 '"été"' dict get --json uni
t 0 '' dict set notjson '{oops'
t 0 '{oops' dict get notjson
t 0 '' dict set empty ''
t 0 '""' dict get --json empty
t 0 '' dict set bin '{"$bin":"aGVsbG8="}'
t 0 '{"$bin":"aGVsbG8="}' dict get bin
t 0 '' dict set ext '{"$ext":[5,"AQI="]}'
t 0 '{"$ext":[5,"AQI="]}' dict get ext
te 2 'mpctl: *base64*' dict set bin '{"$bin":"not base64"}'

# Number-like tokens are operands, never options; -- ends options.
t 0 '' dict set -n neg -1 minus_one
t 0 'minus_one' dict get -n neg -1
t 0 '' dict set -n neg -.5 minus_half
t 0 '' dict set -n neg -1e3 minus_thousand
t 0 '[-1,-0.5,-1000.0]' dict keys -n neg
t 0 '' dict set -n neg -- --dashes dashed
t 0 'dashed' dict get -n neg -- --dashes
t 0 '' dict set -n neg -- -x ex
t 0 'ex' dict get -n neg -- -x

# Keys that are not strings print as their JSON text.
t 0 '' dict set -n nk 1 one
t 0 '' dict set -n nk '"1"' strone
t 0 '' dict set -n nk '[1,2]' pair
t 0 '[1,"1",[1,2]]' dict keys -n nk
t 0 '{"1":"one","1":"strone","[1,2]":"pair"}' dict copy -n nk
t 0 'pair' dict get -n nk '[1,2]'
te 4 'mpctl: BADTYPE: *' dict set -n nk '{"a":1}' map_key

# -n NAME in each spelling; the default names never collide.
t 0 '' dict set -n other num 1
t 0 '' dict set --name other two 2
t 0 '' dict set --name=other three 3
t 0 '' dict set -nother four 4
t 0 '["num","two","three","four"]' dict keys -n other
t 0 '91.0' dict get num
t 0 '' value set 5
t 0 '5' value get
t 0 '' dict set value 6
t 0 '5' value get
t 0 '6' dict get value
te 4 'mpctl: WRONGTYPE: *' dict get -n value x
te 4 'mpctl: WRONGTYPE: *' value get -n dict

# The rest of dict's verbs, on a dict of their own.
t 0 '' dict set -n d a 1
t 0 '' dict set -n d b '"two"'
t 0 '2' dict len -n d
t 0 '["a","b"]' dict keys -n d
t 0 '[1,"two"]' dict values -n d
t 0 '[["a",1],["b","two"]]' dict items -n d
t 0 '{"a":1,"b":"two"}' dict copy -n d
t 0 'true' dict contains -n d a
t 1 'false' dict contains -n d nope
t 0 'true' dict has -n d b
t 0 '7' dict setdefault -n d sd --default 7
t 0 '7' dict setdefault -n d sd --default 8
t 0 'null' dict setdefault -n d sd2
t 0 '7' dict pop -n d sd
te 1 'mpctl: NOKEY: *' dict pop -n d sd
t 0 'gone' dict pop -n d sd --default gone
t 0 '' dict delete -n d sd2
te 1 'mpctl: NOKEY: *' dict delete -n d sd2
t 0 '' dict del -n d b
t 0 '["a"]' dict keys -n d
t 0 '' dict set -n d b '"two"'
t 0 '["b","two"]' dict popitem -n d
t 0 '1' dict len -n d
t 0 '' dict update -n d '{"c":3,"d":[4]}'
t 0 '' dict update -n d '[["e",5.5]]'
t 0 '' dict update -n d f 6 g '"7"'
t 0 '' dict update -n d --string h 8
t 0 '{"a":1,"c":3,"d":[4],"e":5.5,"f":6,"g":"7","h":"8"}' dict copy -n d
te 2 'mpctl: dict update: *' dict update -n d a 1 b
te 2 'mpctl: dict update: *' dict update -n d --string '{"a":1}'
t 0 '[0,[["a",1],["c",3],["d",[4]],["e",5.5],["f",6],["g","7"],["h","8"]]]' \
    dict scan -n d
t 0 '[0,[["a",1],["c",3],["d",[4]],["e",5.5],["f",6],["g","7"],["h","8"]]]' \
    dict scan -n d 0 100
t 0 '' dict clear -n d
t 0 '0' dict len -n d
t 0 '[]' dict keys -n d
t 0 '[0,[]]' dict scan -n d
t 1 'false' dict contains -n d a
t 0 '[true,1]' dict cas -n d ck null 1
t 1 '[false,1]' dict cas -n d ck 5 2
t 0 '[true,2]' dict cas -n d ck 1 2
t 0 '' dict set --string -n d s 5
t 0 '[true,"6"]' dict cas --string -n d s 5 6
t 0 '3' dict incr -n d --string n 3
t 0 '' dict set -n d word hello
te 4 'mpctl: BADTYPE: *' dict incr -n d word
t 0 '' dict set -n d big 18446744073709551615
te 4 'mpctl: RANGE: *' dict incr -n d big
t 0 '' dict create -n dc
t 0 '' dict create -n dc
t 0 '0' dict len -n dc

# --- value ------------------------------------------------------------------

t 0 'null' value get -n fresh
t 0 '6' value incr
t 0 '-4' value incr -10
t 0 '-2.5' value incr 1.5
t 0 '[true,"hi"]' value cas -2.5 hi
t 0 'hi' value get
t 1 '[false,"hi"]' value cas nope x
t 0 '' value set --string 5
t 0 '"5"' value get --json
t 0 '' value set '{"deep":[[1],[2,[3]]]}'
t 0 '{"deep":[[1],[2,[3]]]}' value get
t 0 '' value create -n vc 7
t 0 '7' value get -n vc
t 0 '' value create -n vc 7
te 4 'mpctl: EXISTS: *' value create -n vc 8
t 0 '' value create -n vnone
t 0 'null' value get -n vnone

# --- server verbs -------------------------------------------------------------

t 0 '' rm dc vc vnone
t 0 '' dict update -n a_long_one a 1 b 2 c 3
"$MPCTL" ls dict >"$tmp/out" 2>"$tmp/err"
rc=$?
# Rows come in the registry's order: check the header and each row.
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] &&
    [ "$(head -n 1 "$tmp/out")" = "NAME        TYPE  SIZE" ] &&
    grep -qx 'a_long_one  dict  3' "$tmp/out" &&
    grep -qx 'dict        dict  [0-9]*' "$tmp/out" &&
    grep -qx 'nk          dict  3' "$tmp/out" &&
    ! grep -q 'value' "$tmp/out"; then
	pass
else
	fail "mpctl ls dict (exit $rc)"
	show
fi
t 0 'NAME   TYPE   SIZE
value  value  1' ls value
tm 0 '*\["a_long_one","dict",3\]*' ls --json dict
tm 0 '*"explicit":false*' info a_long_one
tm 0 '{"name":"a_long_one","type":"dict","size":3,*' info a_long_one
tm 0 '*"type":"value"*' info value
te 4 'mpctl: NOOBJ: *' info no_such_object
t 0 '' rm a_long_one
te 4 'mpctl: NOOBJ: *' rm a_long_one
t 0 '' dict set -n gone1 a 1
te 4 'mpctl: NOOBJ: *' rm gone1 no_such_object
te 4 'mpctl: NOOBJ: *' info gone1
tm 0 'version: *
pid: '"$daemon_pid"'
*' stats
tm 0 '{"version":*"pid":'"$daemon_pid"',*}' stats --json

# An object created implicitly goes away when empty again.
t 0 '' dict set -n transient a 1
t 0 '' dict delete -n transient a
te 4 'mpctl: NOOBJ: *' info transient

# --- usage, help and connection errors ---------------------------------------

te 2 "mpctl: dict: unknown verb 'gte'; did you mean 'get'?*" dict gte x
te 2 "mpctl: unknown type or command 'dcit'; did you mean 'dict'?*" dcit get x
te 2 "mpctl: *'--strng'; did you mean '--string'?*" dict get --strng x
te 2 'mpctl: dict get: wants KEY*' dict get
te 2 'mpctl: dict set: wants KEY VALUE*' dict set a b c
te 2 'mpctl: ping: wants no operands*' ping x
te 2 'mpctl: *' dict
te 2 'mpctl: *' dict get -n
te 2 'mpctl: *' ls --string
te 2 'mpctl: *' --bogus ping
te 2 'mpctl: *'
tm 0 'usage: mpctl *Types*dict*value*Server verbs*' --help
tm 0 'usage: mpctl dict VERB*get KEY *cas KEY EXPECTED NEW*' \
    dict --help
tm 0 'usage: mpctl dict get *[--default VALUE] KEY*' dict get --help
tm 0 'usage: mpctl value cas *EXPECTED NEW*' value cas -h
tm 0 'usage: mpctl ls *' ls --help
tm 0 'mpctl *' --version
t 0 '' dict set -n spelled task_done 1
t 0 'true' dict contains -n spelled task_done
te 3 'mpctl: *' -s "$tmp/no.sock" ping
te 3 'mpctl: *' -k "$tmp/no.key" ping
(umask 077 && printf 'not the key\n' >"$tmp/wrong.key")
te 3 'mpctl: *' -k "$tmp/wrong.key" ping
MPMGR_AUTHKEY_FILE=$tmp/wrong.key te 3 'mpctl: *' ping
MPMGR_SOCKET=$tmp/no.sock te 3 'mpctl: *' ping
t 0 'pong' -s "$sock" -k "$key" ping
t 0 'pong' --socket="$sock" --authkey-file "$key" ping

# --- shutdown -----------------------------------------------------------------

t 0 '' shutdown
daemon_exits "mpctl shutdown"
te 3 'mpctl: *' ping

finish
