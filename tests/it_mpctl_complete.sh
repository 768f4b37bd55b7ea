#!/bin/sh
# it_mpctl_complete.sh: mpctl's bash completion, driven the way bash
# drives it, against a real mpmgrd for the object names.
#
# - Sourcing client/mpctl.bash registers it: `complete -p mpctl` names
#   _mpctl, falling back to bash's own completion.
# - _mpctl, with COMP_WORDS and COMP_CWORD set as bash sets them, offers
#   (in COMPREPLY, as compgen -W would filter them): types and server
#   verbs, a type's verbs from the method catalogue, the options a verb
#   takes, the types after ls, and names from the daemon: of the
#   command's type after -n, locks and rlocks after --lock, any after
#   info and rm. Nothing where bash's own completion fits (exec's CMD).
# - Every verb `mpctl TYPE --help` lists is offered after TYPE.
#
# The last line is "it_mpctl_complete: N passed, N failed"; the exit
# status is 0 only when nothing failed. The daemon and the directory never
# outlive it.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_mpctl_complete

if ! command -v bash >/dev/null 2>&1; then
	fail "bash not found"
	finish
fi
daemon_start
t 0 '' dict set -n cfg a 1
t 0 '' dict set -n cache a 1
t 0 '' lock create -n build
t 0 '' rlock create -n brick
t 0 '' queue create -n jobs

# The driver: sources the script, then for each "CWORD WORD..." line on
# stdin runs _mpctl as bash would and prints COMPREPLY, sorted, on one
# line.
cat >"$tmp/drive.bash" <<'EOF'
source "$1"
complete -p mpctl
while read -r -a line; do
	COMP_CWORD=${line[0]}
	COMP_WORDS=("$MPCTL" "${line[@]:1}")
	# an empty word being completed: read -a drops it
	[ "$COMP_CWORD" -ge "${#COMP_WORDS[@]}" ] && COMP_WORDS+=("")
	COMPREPLY=()
	_mpctl
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
	echo
done
EOF

# complete CWORD WORDS... => the line of candidates in $got.
complete_line() {
	echo "$*" | bash "$tmp/drive.bash" "$top/client/mpctl.bash" \
		2>"$tmp/err" | sed -n 2p
}

# c WANT CWORD WORDS...: the candidates are WANT.
c() {
	want=$1
	shift
	got=$(complete_line "$@")
	if [ "$got" = "$want" ]; then
		pass
	else
		fail "completing '$*': got '$got', wanted '$want'"
		indent "$tmp/err"
	fi
}

reg=$(echo | bash "$tmp/drive.bash" "$top/client/mpctl.bash" 2>&1 | head -n 1)
if [ "$reg" = "complete -o bashdefault -o default -F _mpctl mpctl" ]; then
	pass "complete -p mpctl: $reg"
else
	fail "complete -p mpctl: '$reg'"
fi

c 'dict' 1 di
c 'save sem semaphore shutdown stats' 1 s
c 'barrier batch' 1 ba
c 'get' 2 dict g
c 'del delete' 2 dict de
c 'task_done' 2 queue task
c 'exec' 2 sem ex
c '--default' 3 dict get --def
c '--names' 2 ls --nam
c '--reverse' 3 list sort --rev
c 'monitor' 1 mon
c '--pid' 2 kill --p
c '' 3 dict get --ack
c 'cache cfg' 4 dict get -n c
c 'jobs' 4 queue put -n ''
c 'build' 4 lock exec -n b
c 'brick' 4 rlock exec --name b
c 'brick build' 4 condition create --lock b
c 'cache cfg' 2 info c
c 'brick build' 3 rm cfg b
c 'semaphore' 2 ls se
c '' 6 lock exec -n build -- ec
exec_opts='--authkey-file --conflict-exit-code --help --name --quiet --socket'
c "$exec_opts --timeout --ttl --wait-daemon" 5 lock exec -n build --
c 'dump' 1 du
c 'restore' 1 rest
c '--replace' 2 restore --rep
c '--wait-daemon' 1 --wait-d
c '--ttl' 5 sem exec -n build --tt
c '' 5 lock exec -n build ech x
c 'cfg' 6 -s "$sock" dict get -n cf
c '' 6 -s "$tmp/nope.sock" dict get -n c

# Every verb of every type is offered after it.
missing=
for ty in $("$MPCTL" --help | sed -n '/^Types/,/^$/p' |
    awk 'NR > 1 && NF > 0 { print $1 }'); do
	offered=" $(complete_line 2 "$ty" '') "
	for v in $("$MPCTL" "$ty" --help | sed -n '/^Verbs:/,/^$/p' |
	    awk 'NR > 1 && /^  [a-z]/ { print $1 }'); do
		case $offered in
		*" $v "*) ;;
		*) missing="$missing $ty.$v" ;;
		esac
	done
done
if [ -z "$missing" ]; then
	pass "every verb of mpctl TYPE --help is offered after TYPE"
else
	fail "verbs not offered:$missing"
fi

t 0 '' shutdown
daemon_exits "mpctl shutdown"
finish
