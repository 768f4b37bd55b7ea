#!/bin/sh
# it_layering.sh: the daemon's modules call in one direction (DESIGN.md,
# Layering inside the daemon). From the symbols each object file of
# $B/daemon defines and uses (nm), a module depends on every other module
# whose functions or data it uses; those dependencies, less the one allowed
# upcall from waiters to connections (waiter -> conn: conn_wake,
# conn_peer_gone, conn_push, conn_kill), must have no cycle (tsort finds
# none). And that upcall
# comes from waiter.c alone. Last line "it_layering: N passed, N failed";
# exits 1 on any failure.

set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_layering
objs=$top/$B/daemon

if ! command -v nm >/dev/null 2>&1 || ! command -v tsort >/dev/null 2>&1; then
	fail "nm and tsort are needed (binutils, coreutils)"
	finish
fi
set -- "$objs"/*.o
if [ ! -f "$1" ]; then
	fail "no object files in $objs: build first"
	finish
fi

# "symbol module" for what each module defines, and for what it uses.
for o in "$@"; do
	m=$(basename "$o" .o)
	nm --defined-only -g "$o" | awk -v m="$m" 'NF == 3 { print $3, m }'
done | sort -k1,1 >"$tmp/defs"
for o in "$@"; do
	m=$(basename "$o" .o)
	nm -u "$o" | awk -v m="$m" '{ print $NF, m }'
done | sort -k1,1 >"$tmp/uses"
# "user definer" once per pair of modules.
join "$tmp/uses" "$tmp/defs" | awk '$2 != $3 { print $2, $3 }' | sort -u \
	>"$tmp/edges"

if [ -s "$tmp/edges" ]; then
	pass "$(wc -l <"$tmp/edges") dependencies between modules"
else
	fail "no dependency between modules found in $objs"
fi

grep -v '^waiter conn$' "$tmp/edges" >"$tmp/order"
if tsort "$tmp/order" >/dev/null 2>"$tmp/err"; then
	pass "no cycle but waiter -> conn"
else
	fail "a cycle between daemon modules:"
	indent "$tmp/err"
fi

upcalls=$(awk '$2 == "conn" && $1 != "main" && $1 != "waiter"' "$tmp/edges")
if [ -z "$upcalls" ]; then
	pass "only main.c and waiter.c call conn.c"
else
	fail "calls into conn.c from below it: $upcalls"
fi

finish
