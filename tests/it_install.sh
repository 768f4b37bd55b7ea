#!/bin/sh
# it_install.sh: what `make install` gives a user, checked the way a user
# would use it, and `make uninstall` taking it all back.
#
# - The man pages pass `mandoc -Tlint`, and name what they document: every
#   function mpmgr.h declares is in libmpmgr(3), every verb `mpctl TYPE
#   --help` lists is in its type's subsection of mpctl(1).
# - `make install DESTDIR=tmp PREFIX=/usr` (on the tree in $B, built by
#   `make tests`) puts every file in place: both programs in bin, the
#   library with its .so symlinks and soname, the header, libmpmgr.pc
#   naming /usr and the release's version, the man pages, the bash
#   completion, the system and user units with ExecStart=/usr/bin/mpmgrd
#   and their journals (/var/lib/mpmgr, StateDirectory=; the user's
#   ~/.local/state/mpmgr), the sysusers.d and tmpfiles.d files, the
#   Python package in Debian's dist-packages (its extension exporting only
#   PyInit__mpmgr), which Debian's python3 imports and runs on the staged
#   mpmgrd; it runs no ldconfig into DESTDIR.
# - The README's C example, compiled as printed with the printed command,
#   runs against the staged daemon.
# - A small C program built with `pkg-config --cflags --libs libmpmgr`
#   against the staged tree, run on the staged libmpmgr.so, talks to the
#   staged mpmgrd on a temporary socket.
# - libmpmgr.a and libmpmgr.so export only mpmgr_* symbols (nm), and a
#   program with functions of proto/'s names (buf_init...) links statically
#   with libmpmgr.a and runs.
# - `make uninstall` with the same variables leaves no file behind, and
#   removes the directories install created, not one that was there.
# - `make install` without DESTDIR (PREFIX in the scratch directory, a
#   stand-in LDCONFIG) runs ldconfig when root, and says why not otherwise.
#
# The last line is "it_install: N passed, N failed"; the exit status is 0
# only when nothing failed. The daemon and the directory never outlive it.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_install
stage=$tmp/stage

# --- the man pages ----------------------------------------------------

if ! command -v mandoc >/dev/null 2>&1; then
	fail "mandoc not found (make deps installs it)"
else
	# Cross-references are looked up among the manuals installed on this
	# machine, which holds ours only once installed: that lookup, and
	# the host's stale mandoc.db, are not findings about these files.
	mandoc -Tlint "$top"/man/* 2>&1 |
		grep -v -e 'referenced manual not found: Xr mpctl 1' \
		-e 'referenced manual not found: Xr libmpmgr 3' \
		-e 'referenced manual not found: Xr mpmgrd 8' \
		-e 'outdated mandoc.db' >"$tmp/lint"
	if [ ! -s "$tmp/lint" ]; then
		pass "mandoc -Tlint man/*: clean"
	else
		fail "mandoc -Tlint man/*"
		indent "$tmp/lint"
	fi
fi

# Every function of the header is documented.
missing=
for fn in $(grep -o '\bmpmgr_[a-z0-9_]*(' "$top/client/mpmgr.h" |
	tr -d '(' | sort -u); do
	grep -q "^\.Fn $fn\b" "$top/man/libmpmgr.3" || missing="$missing $fn"
done
if [ -z "$missing" ]; then
	pass "libmpmgr(3) documents every function of mpmgr.h"
else
	fail "libmpmgr(3) lacks:$missing"
fi

# Every verb of mpctl, in its type's subsection (".Ss TYPE" up to the next
# .Ss or .Sh), as ".It Cm VERB" (or in a ".It Cm a , b" list).
mpctl_bin=${MPCTL:-$top/$B/mpctl}
types=$("$mpctl_bin" --help | sed -n '/^Types/,/^$/p' |
	awk 'NR > 1 && NF > 0 { print $1 }')
missing=
for t in $types; do
	sed -n "/^\.Ss $t\$/,/^\.S[sh] /p" "$top/man/mpctl.1" >"$tmp/section"
	if [ ! -s "$tmp/section" ]; then
		missing="$missing $t"
		continue
	fi
	for v in $("$mpctl_bin" "$t" --help | sed -n '/^Verbs:/,/^$/p' |
		awk 'NR > 1 && /^  [a-z]/ { print $1 }'); do
		grep -Eq "^\.It Cm (.* )?$v( |$)" "$tmp/section" ||
			missing="$missing $t.$v"
	done
done
server_verbs=$("$mpctl_bin" --help | sed -n '/^Server verbs:/,/^$/p' |
	awk 'NR > 1 && NF > 0 { print $1 }')
sed -n '/^\.Ss Server verbs$/,/^\.S[sh] /p' "$top/man/mpctl.1" >"$tmp/section"
for v in $server_verbs; do
	grep -Eq "^\.It Cm $v( |$)" "$tmp/section" || missing="$missing $v"
done
if [ -n "$types" ] && [ -n "$server_verbs" ] && [ -z "$missing" ]; then
	pass "mpctl(1) documents every type and verb of mpctl --help"
else
	fail "mpctl(1) lacks:$missing (types: $(echo $types))"
fi

# --- make install ------------------------------------------------------

# A directory that was there before install: uninstall must leave it.
mkdir -p "$stage/usr/share/man/man1"
if make -C "$top" --no-print-directory install DESTDIR="$stage" \
	PREFIX=/usr B="$B" >"$tmp/make.log" 2>&1; then
	pass "make install DESTDIR=... PREFIX=/usr"
else
	fail "make install DESTDIR=... PREFIX=/usr"
	indent "$tmp/make.log"
	finish
fi

S=$stage/usr
# want TEST PATH: test(1) TEST holds for the staged PATH.
want() {
	if [ "$1" "$S/$2" ]; then
		pass "$1 /usr/$2"
	else
		fail "not $1 /usr/$2"
	fi
}
want -x bin/mpmgrd
want -x bin/mpctl
want -f share/bash-completion/completions/mpctl
want -f lib/libmpmgr.so.0.1.0
want -L lib/libmpmgr.so.0
want -L lib/libmpmgr.so
want -f lib/libmpmgr.a
want -f include/mpmgr.h
want -f lib/pkgconfig/libmpmgr.pc
want -f share/man/man1/mpctl.1
want -f share/man/man3/libmpmgr.3
want -f share/man/man8/mpmgrd.8
want -f lib/systemd/system/mpmgrd.service
want -f lib/systemd/system/mpmgrd.socket
want -f lib/systemd/user/mpmgrd.service
want -f lib/systemd/user/mpmgrd.socket
want -f lib/sysusers.d/mpmgr.conf
want -f lib/tmpfiles.d/mpmgr.conf

if [ "$(readlink "$S/lib/libmpmgr.so")" = libmpmgr.so.0 ] &&
	[ "$(readlink "$S/lib/libmpmgr.so.0")" = libmpmgr.so.0.1.0 ]; then
	pass "libmpmgr.so -> libmpmgr.so.0 -> libmpmgr.so.0.1.0"
else
	fail "the .so symlinks: $(ls -l "$S/lib" | grep libmpmgr.so)"
fi
if readelf -d "$S/lib/libmpmgr.so.0.1.0" 2>/dev/null |
	grep -q 'SONAME.*\[libmpmgr\.so\.0\]'; then
	pass "soname libmpmgr.so.0"
else
	fail "libmpmgr.so.0.1.0 lacks the soname libmpmgr.so.0"
fi
if grep -q ldconfig "$tmp/make.log"; then
	fail "make install DESTDIR=... ran ldconfig"
else
	pass "make install DESTDIR=... runs no ldconfig"
fi
hdr=$top/proto/mpmgr_proto.h
release=$(sed -n 's/^#define MPMGR_VERSION_MAJOR \([0-9]*\)$/\1/p' "$hdr").$(
    sed -n 's/^#define MPMGR_VERSION_MINOR \([0-9]*\)$/\1/p' "$hdr").$(
    sed -n 's/^#define MPMGR_VERSION_PATCH \([0-9]*\)$/\1/p' "$hdr")
if grep -qx "Version: $release" "$S/lib/pkgconfig/libmpmgr.pc" &&
	[ -f "$S/lib/libmpmgr.so.$release" ]; then
	pass "libmpmgr.pc and libmpmgr.so.$release: the release of the header"
else
	fail "libmpmgr.pc's version or the .so's name is not $release"
fi
modes=$(cd "$S" && stat -c '%a %n' share/man/man*/* lib/systemd/*/* \
	share/bash-completion/completions/* share/mpmgr/* \
	lib/sysusers.d/* lib/tmpfiles.d/* include/mpmgr.h lib/pkgconfig/* |
	grep -v '^644 ')
if [ -z "$modes" ]; then
	pass "data files are 0644"
else
	fail "data files not 0644: $modes"
fi

for kind in system user; do
	f=$S/lib/systemd/$kind/mpmgrd.service
	if [ $kind = system ]; then
		want='ExecStart=/usr/bin/mpmgrd --data-dir /var/lib/mpmgr'
	else
		want='ExecStart=/usr/bin/mpmgrd --data-dir %h/.local/state/mpmgr'
	fi
	if grep -qxF "$want" "$f" && ! grep -q '@[A-Z_]*@' "$f" &&
		{ [ $kind = user ] || grep -qx 'StateDirectory=mpmgr' "$f"; }
	then
		pass "$kind/mpmgrd.service: $want"
	else
		fail "$kind/mpmgrd.service: $(grep -e ExecStart -e @ "$f")"
	fi
done
if grep -qx 'prefix=/usr' "$S/lib/pkgconfig/libmpmgr.pc" &&
	grep -qx 'libdir=/usr/lib' "$S/lib/pkgconfig/libmpmgr.pc" &&
	! grep -q '@[A-Z_]*@' "$S/lib/pkgconfig/libmpmgr.pc"; then
	pass "libmpmgr.pc names PREFIX=/usr"
else
	fail "libmpmgr.pc:"
	indent "$S/lib/pkgconfig/libmpmgr.pc"
fi

# --- a program built against the staged tree ---------------------------

cat >"$tmp/hello.c" <<'EOF'
#include <stdio.h>

#include <mpmgr.h>

/* Default socket and key: $MPMGR_SOCKET and $MPMGR_AUTHKEY_FILE. */
int
main(void)
{
	const char *s;
	size_t len;
	int64_t n;
	mpmgr *h;

	if (mpmgr_connect(&h, NULL, NULL) != 0 ||
	    mpmgr_dict_set_str(h, "staged", "greeting", "hello") != 0 ||
	    mpmgr_dict_incr(h, "staged", "n", 41, NULL) != 0 ||
	    mpmgr_dict_incr(h, "staged", "n", 1, &n) != 0 ||
	    mpmgr_dict_get_str(h, "staged", "greeting", &s, &len) != 0) {
		fprintf(stderr, "hello: %s\n", mpmgr_errmsg(h));
		mpmgr_free(h);
		return 1;
	}
	printf("%.*s %lld (libmpmgr %d.%d)\n", (int)len, s, (long long)n,
	    MPMGR_VERSION_MAJOR, MPMGR_VERSION_MINOR);
	mpmgr_free(h);
	return 0;
}
EOF

flags=$(PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$S/lib/pkgconfig \
	pkg-config --cflags --libs libmpmgr 2>"$tmp/pc.err")
case " $flags " in
*" -I$S/include "*"-L$S/lib "*"-lmpmgr "*)
	pass "pkg-config --cflags --libs libmpmgr: $flags" ;;
*)
	fail "pkg-config --cflags --libs libmpmgr: '$flags'"
	indent "$tmp/pc.err" ;;
esac
# A sanitized tree's library needs the sanitizer runtimes in the program.
san=
if readelf -d "$S/lib/libmpmgr.so.0.1.0" | grep -q 'libasan'; then
	san="-fsanitize=address,undefined"
fi
# shellcheck disable=SC2086 # flags are words
if ${CC:-cc} -std=c11 -Wall -Werror $san -o "$tmp/hello" "$tmp/hello.c" \
	$flags >"$tmp/cc.log" 2>&1; then
	pass "cc hello.c \$(pkg-config --cflags --libs libmpmgr)"
else
	fail "cc hello.c against the staged tree"
	indent "$tmp/cc.log"
fi
if LD_LIBRARY_PATH=$S/lib ldd "$tmp/hello" 2>/dev/null |
	grep -q "libmpmgr\.so\.0 => $S/lib/libmpmgr\.so\.0 "; then
	pass "hello loads the staged libmpmgr.so.0"
else
	fail "hello does not load $S/lib/libmpmgr.so.0:"
	LD_LIBRARY_PATH=$S/lib ldd "$tmp/hello" 2>&1 | sed 's/^/    |/'
fi

# --- what the libraries export -------------------------------------------
#
# Only mpmgr_* (and the .so's version node MPMGR_0): the proto/ code inside
# libmpmgr stays inside, so a program statically linked with it may name
# its own functions buf_init, scan_frame or msg_parse.

nm -g --defined-only "$S/lib/libmpmgr.a" | awk 'NF == 3 { print $3 }' |
	sort -u >"$tmp/syms.a"
nm -D --defined-only "$S/lib/libmpmgr.so.0.1.0" |
	awk '!($2 == "A" && $3 == "MPMGR_0") { sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$tmp/syms.so"
for lib in a so; do
	others=$(grep -v '^mpmgr_' "$tmp/syms.$lib" | tr '\n' ' ')
	n=$(wc -l <"$tmp/syms.$lib")
	if [ "$n" -gt 0 ] && [ -z "$others" ]; then
		pass "libmpmgr.$lib: $n global symbols, all mpmgr_*"
	else
		fail "libmpmgr.$lib exports more than mpmgr_*: $others"
	fi
done
if cmp -s "$tmp/syms.a" "$tmp/syms.so"; then
	pass "libmpmgr.a and libmpmgr.so export the same symbols"
else
	fail "libmpmgr.a and libmpmgr.so export different symbols:"
	diff "$tmp/syms.a" "$tmp/syms.so" | indent
fi

cat >"$tmp/static.c" <<'EOF'
#include <stdio.h>

#include <mpmgr.h>

/* Names that proto/ has inside libmpmgr, for this program's own use. */
int buf_init(void);
int scan_frame(void);
int msg_parse(void);

int
buf_init(void)
{
	return 1;
}

int
scan_frame(void)
{
	return 2;
}

int
msg_parse(void)
{
	return 3;
}

int
main(void)
{
	int64_t n;
	mpmgr *h;

	if (mpmgr_connect(&h, NULL, NULL) != 0 ||
	    mpmgr_dict_get_int(h, "staged", "n", &n) != 0) {
		fprintf(stderr, "static: %s\n", mpmgr_errmsg(h));
		mpmgr_free(h);
		return 1;
	}
	printf("%d%d%d %lld\n", buf_init(), scan_frame(), msg_parse(),
	    (long long)n);
	mpmgr_free(h);
	return 0;
}
EOF
static_flags=$(PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$S/lib/pkgconfig \
	pkg-config --static --libs libmpmgr 2>>"$tmp/pc.err" |
	sed "s|-L[^ ]* ||; s|-lmpmgr|$S/lib/libmpmgr.a|")
# shellcheck disable=SC2086 # flags are words
if ${CC:-cc} -std=c11 -Wall -Werror $san -I"$S/include" -o "$tmp/static" \
	"$tmp/static.c" $static_flags >"$tmp/cc.log" 2>&1; then
	pass "cc static.c libmpmgr.a: its own buf_init, scan_frame, msg_parse"
else
	fail "cc static.c with its own buf_init... against libmpmgr.a"
	indent "$tmp/cc.log"
fi

# The staged daemon on a socket of its own.
daemon_start "$S/bin/mpmgrd" "$S/bin/mpctl"
pass "the staged mpmgrd answers the staged mpctl"

# The README's C example, as printed, built with the printed command.
sed -n '/^```c$/,/^```$/p' "$top/README.md" | sed '1d;$d' >"$tmp/prog.c"
build=$(sed -n 's/^    \(cc prog\.c .*\)$/\1/p' "$top/README.md")
if [ -s "$tmp/prog.c" ] && [ -n "$build" ] && (cd "$tmp" &&
	export PKG_CONFIG_SYSROOT_DIR="$stage" \
	    PKG_CONFIG_PATH="$S/lib/pkgconfig" && eval "$build $san") \
	>"$tmp/cc.log" 2>&1; then
	pass "the README's example builds with: $build"
else
	fail "the README's example does not build with '$build'"
	indent "$tmp/cc.log"
fi
out=$(cd "$tmp" && LD_LIBRARY_PATH=$S/lib ./prog 2>&1)
want_out=$(sed -n '/^    \.\/prog$/{n;s/^    //p;}' "$top/README.md")
if [ -n "$want_out" ] && [ "$out" = "$want_out" ]; then
	pass "the README's example prints what the README says: $out"
else
	fail "the README's example printed '$out', the README says" \
	    "'$want_out'"
fi

out=$(LD_LIBRARY_PATH=$S/lib "$tmp/hello" 2>&1)
if [ "$out" = "hello 42 (libmpmgr 0.1)" ]; then
	pass "hello: $out"
else
	fail "hello printed '$out', wanted 'hello 42 (libmpmgr 0.1)'"
fi
out=$("$S/bin/mpctl" dict get -n staged n 2>&1)
if [ "$out" = 42 ]; then
	pass "mpctl sees what hello stored"
else
	fail "mpctl dict get -n staged n: '$out'"
fi
out=$("$tmp/static" 2>&1)
if [ "$out" = "123 42" ]; then
	pass "the static program runs its own functions and libmpmgr's"
else
	fail "static printed '$out', wanted '123 42'"
fi

# --- the Python package -----------------------------------------------
#
# In Debian's dist-packages, exporting only its module init, importable
# by Debian's python3: a private Manager() on the staged mpmgrd, and
# Manager(address=None) on the daemon above ($MPMGR_SOCKET).

pydir=$S/lib/python3/dist-packages
want -f lib/python3/dist-packages/mpmgr/__init__.py
want -f lib/python3/dist-packages/mpmgr/proxies.py
ext=$(ls "$pydir"/mpmgr/_mpmgr*.so 2>/dev/null | head -n 1)
if [ -n "$ext" ] && [ "$(nm -D --defined-only "$ext" |
	awk '{ print $3 }')" = PyInit__mpmgr ]; then
	pass "the extension exports PyInit__mpmgr only"
else
	fail "the extension: '$ext' exports: $(nm -D --defined-only "$ext" |
		awk '{ print $3 }' | tr '\n' ' ')"
fi
out=$(PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$pydir MPMGRD=$S/bin/mpmgrd /usr/bin/python3 -c '
import mpmgr
with mpmgr.Manager() as m:
    d = m.dict(t=(1, 2))
    private = d["t"]
with mpmgr.Manager(address=None) as m:
    print(private, m.named.dict("staged")["n"])
' 2>&1)
if [ "$out" = "(1, 2) 42" ]; then
	pass "python3 imports the staged mpmgr: a private and the shared daemon"
else
	fail "the staged Python package printed: $out"
fi

daemon_stop

# --- make uninstall ----------------------------------------------------

if make -C "$top" --no-print-directory uninstall DESTDIR="$stage" \
	PREFIX=/usr B="$B" >"$tmp/make.log" 2>&1; then
	pass "make uninstall DESTDIR=... PREFIX=/usr"
else
	fail "make uninstall DESTDIR=... PREFIX=/usr"
	indent "$tmp/make.log"
fi
left=$(find "$stage" ! -type d)
if [ -z "$left" ]; then
	pass "make uninstall leaves no file behind"
else
	fail "make uninstall left: $left"
fi
left=$(cd "$stage" && find . -mindepth 1 | sort | tr '\n' ' ')
if [ "$left" = "./usr ./usr/share ./usr/share/man ./usr/share/man/man1 " ]
then
	pass "make uninstall removes the directories it made, and only those"
else
	fail "after make uninstall: $left(wanted the man1 made before it)"
fi

# --- make install on the live system --------------------------------------
#
# No DESTDIR: ldconfig must run (here a stand-in, into a PREFIX of ours).

printf '#!/bin/sh\ntouch "%s/ldconfig.ran"\n' "$tmp" >"$tmp/ldconfig"
chmod 755 "$tmp/ldconfig"
live=$tmp/live
if make -C "$top" --no-print-directory install PREFIX="$live" B="$B" \
	LDCONFIG="$tmp/ldconfig" >"$tmp/make.log" 2>&1; then
	pass "make install PREFIX=... (no DESTDIR)"
else
	fail "make install PREFIX=... (no DESTDIR)"
	indent "$tmp/make.log"
fi
if [ "$(id -u)" = 0 ]; then
	check "make install without DESTDIR runs ldconfig as root" \
		test -e "$tmp/ldconfig.ran"
else
	check "make install without DESTDIR says why it ran no ldconfig" \
		grep -q 'not root, so ldconfig was not run' "$tmp/make.log"
fi
make -C "$top" --no-print-directory uninstall PREFIX="$live" B="$B" \
	>"$tmp/make.log" 2>&1
if [ ! -e "$live" ]; then
	pass "make uninstall removes the PREFIX it made"
else
	fail "make uninstall left: $(find "$live" | tr '\n' ' ')"
fi

finish
