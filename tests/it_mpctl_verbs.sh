#!/bin/sh
# it_mpctl_verbs.sh: mpctl's verbs against the method catalogue, both ways.
#
# - Every verb that `mpctl --help` and `mpctl TYPE --help` list sends a
#   method of proto/mpmgr_methods.h (its `mpctl [TYPE] VERB --help` says
#   "Method: TYPE.VERB."), of its own type (obj or sys for a server verb),
#   under the method's verb name or one of the CLI's spellings below.
# - Every method of the catalogue is sent by some verb, or is one of the
#   few mpctl does not expose, listed below with the reason (and no verb
#   sends those).
#
# The daemon's side of the cross-check (catalogue, dispatch tables,
# docs/PROTOCOL.md, man pages) is another test's. No daemon runs here: the
# help texts say it all. The last line is "it_mpctl_verbs: N passed, N
# failed"; the exit status is 0 only when nothing failed.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpctl_verbs

# Methods without a verb, and why (client/mpctl_verbs.c and mpctl(1) say
# the same). mpctl connects, does one thing and exits:
#   rlock.owned  asks whether the asking connection owns the rlock, and a
#                fresh connection owns nothing
#   sys.cancel   takes back a request parked on the asking connection;
#                mpctl's one blocking request ends with its -t or with it
#   obj.scan     `ls` pages through it
#   process.exited  only a record's supervisor reports, on the connection
#                that registered it (`process start` does)
#   lock.extend, rlock.extend, semaphore.extend
#                only the connection holding a lease can extend it, and
#                `exec --ttl` does
#   pool.done, pool.fail  only the connection a job is leased to reports
#                it (`pool worker` does)
unexposed="rlock.owned sys.cancel obj.scan process.exited pool.done pool.fail"
unexposed="$unexposed lock.extend rlock.extend semaphore.extend"
# Verbs spelled otherwise than their method's verb, as VERB=METHOD-VERB:
# exec holds while CMD runs, cat and write hold a pipe's end while they
# stream, start registers the process it runs, worker takes the jobs it
# runs, wait reads results, map submits.
spellings="exec=acquire ls=list rm=delete cat=open write=open start=register \
worker=take wait=result map=submit version=stats"

sed -n 's/^[[:space:]]*M(\([a-z_]*\), \([a-z_]*\),.*/\1.\2/p' \
	"$top/proto/mpmgr_methods.h" >"$tmp/catalogue"
n=$(wc -l <"$tmp/catalogue")
if [ "$n" -gt 50 ]; then
	pass "the catalogue lists $n methods"
else
	fail "only $n methods read from proto/mpmgr_methods.h"
	finish
fi
for m in $unexposed; do
	check "$m (not exposed) is a method of the catalogue" \
		grep -qx "$m" "$tmp/catalogue"
done

# in_list WORD LIST: WORD is one of the words of LIST.
in_list() {
	case " $2 " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# verb_checks TYPE VERB...: for `mpctl TYPE VERB --help` ("" TYPE: the
# server verbs), the method it names is the catalogue's, of the right type
# and verb; it goes to $tmp/reached.
verb_checks() {
	vt=$1
	shift
	for v in "$@"; do
		# shellcheck disable=SC2086 # no TYPE for a server verb
		m=$("$MPCTL" $vt "$v" --help |
			sed -n 's/^Method: \(.*\)\.$/\1/p')
		who="mpctl${vt:+ $vt} $v"
		if ! grep -qx "$m" "$tmp/catalogue"; then
			fail "$who sends '$m', not a method of the catalogue"
			continue
		fi
		echo "$m" >>"$tmp/reached"
		mt=${m%%.*}
		mv=${m#*.}
		if [ -n "$vt" ] && [ "$mt" != "$vt" ]; then
			fail "$who sends $m, a method of another type"
		elif [ -z "$vt" ] && [ "$mt" != obj ] && [ "$mt" != sys ]; then
			fail "$who (a server verb) sends $m"
		elif [ "$v" != "$mv" ] && ! in_list "$v=$mv" "$spellings"; then
			fail "$who sends $m: not its verb, nor a spelling" \
			    "listed here"
		else
			pass
		fi
	done
}

# The verbs a help text lists, one a line ("  verb USAGE  summary").
listed() {
	sed -n "/^$1/,/^\$/p" | awk 'NR > 1 && /^  [a-z]/ { print $1 }'
}

: >"$tmp/reached"
"$MPCTL" --help >"$tmp/top"
types=$(sed -n '/^Types/,/^$/p' "$tmp/top" |
	awk 'NR > 1 && NF > 0 { print $1 }')
for t in $types; do
	# shellcheck disable=SC2046 # verb names are words
	verb_checks "$t" $("$MPCTL" "$t" --help | listed 'Verbs:')
done
# shellcheck disable=SC2046
verb_checks "" $(listed 'Server verbs:' <"$tmp/top")
echo "ok: $(wc -l <"$tmp/reached") verbs send methods of the catalogue"

missing=
while read -r m; do
	if grep -qx "$m" "$tmp/reached"; then
		if in_list "$m" "$unexposed"; then
			fail "$m is listed as not exposed, but a verb sends it"
		fi
	elif ! in_list "$m" "$unexposed"; then
		missing="$missing $m"
	fi
done <"$tmp/catalogue"
if [ -z "$missing" ]; then
	pass "every method of the catalogue has a verb, but $unexposed"
else
	fail "methods no verb of mpctl sends:$missing"
fi

finish
