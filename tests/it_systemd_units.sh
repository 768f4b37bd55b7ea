#!/bin/sh
# it_systemd_units.sh: checks systemd/ the way systemd reads it, without
# systemd as PID 1. The units are staged in a temporary directory with
# ExecStart= pointing at the built $MPMGRD, then must pass
# `systemd-analyze verify --recursive-errors=yes` (system and --user), the
# system service must score an overall exposure of 2.0 or lower in
# `systemd-analyze security --offline=yes`, the sysusers.d file must create
# the user and groups the units name, and the tmpfiles.d file must give
# /etc/mpmgr and the key their modes. Missing systemd tools are a failure,
# not a skip: `make deps` installs them. Last line:
# "it_systemd_units: N passed, N failed"; exits 1 on any failure.
#
# The --user units are not scored: the offline analyzer rates every unit as
# if a root system manager ran it (a user manager cannot drop capabilities
# or set up namespaces), so its number says nothing about them.

set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_systemd_units
src=$top/systemd
max_exposure=2.0

# has FILE LINE: FILE holds exactly LINE as a whole line.
has() {
	if grep -qxF -- "$2" "$1"; then
		pass "$(basename "$(dirname "$1")")/$(basename "$1"): $2"
	else
		fail "$(basename "$(dirname "$1")")/$(basename "$1") lacks '$2'"
	fi
}

# setting FILE KEY: the value of the last KEY= line in FILE.
setting() {
	sed -n "s/^$2=//p" "$1" | tail -n 1
}

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		fail "$tool not found (make deps installs the systemd package)"
		finish
	fi
done
case "${MPMGRD:-}" in
/*) ;;
*)
	fail "MPMGRD must be the built daemon's absolute path (got '${MPMGRD:-}')"
	finish
	;;
esac
if [ ! -x "$MPMGRD" ]; then
	fail "MPMGRD=$MPMGRD is not an executable file"
	finish
fi

mkdir -p "$tmp/system" "$tmp/user" "$tmp/bad" "$tmp/xdg" "$tmp/root/etc"
chmod 700 "$tmp/xdg"

# stage IN OUT: OUT is IN with ExecStart= on the built daemon, as `make
# install` would write it with BINDIR set.
exe_sed=$(printf '%s\n' "$MPMGRD" | sed 's/[\\|&]/\\&/g')
stage() {
	sed "s|@BINDIR@/mpmgrd|$exe_sed|g" "$1" >"$2"
}
stage "$src/mpmgrd.service.in" "$tmp/system/mpmgrd.service"
cp "$src/mpmgrd.socket" "$tmp/system/mpmgrd.socket"
stage "$src/user/mpmgrd.service.in" "$tmp/user/mpmgrd.service"
cp "$src/user/mpmgrd.socket" "$tmp/user/mpmgrd.socket"

left=$(grep -l '@[A-Z_]*@' "$tmp"/system/* "$tmp"/user/*)
if [ -z "$left" ]; then
	pass "every @PLACEHOLDER@ is substituted"
else
	fail "placeholders left after substitution in: $left"
fi

# What the issue fixes about the units, as written.
sys=$tmp/system
usr=$tmp/user
has "$sys/mpmgrd.socket" "ListenStream=/run/mpmgr/mpmgr.sock"
has "$sys/mpmgrd.socket" "SocketGroup=mpmgr"
has "$sys/mpmgrd.socket" "SocketMode=0660"
has "$sys/mpmgrd.socket" "RemoveOnStop=yes"
has "$sys/mpmgrd.service" "Type=notify"
has "$sys/mpmgrd.service" "NotifyAccess=main"
has "$sys/mpmgrd.service" "Restart=on-failure"
has "$sys/mpmgrd.service" "LoadCredential=authkey:/etc/mpmgr/authkey"
has "$sys/mpmgrd.service" "StandardError=journal"
has "$sys/mpmgrd.service" "SyslogLevelPrefix=yes"
has "$usr/mpmgrd.socket" "ListenStream=%t/mpmgr/mpmgr.sock"
has "$usr/mpmgrd.socket" "SocketMode=0600"
has "$usr/mpmgrd.service" "Type=notify"
for kind in system user; do
	f=$tmp/$kind/mpmgrd.service
	if [ -n "$(setting "$f" WatchdogSec)" ]; then
		pass "$kind/mpmgrd.service: WatchdogSec=$(setting "$f" WatchdogSec)"
	else
		fail "$kind/mpmgrd.service: no WatchdogSec="
	fi
	if grep -qE '^(RuntimeDirectory|DynamicUser)=' "$f"; then
		fail "$kind/mpmgrd.service: RuntimeDirectory= or DynamicUser= (the socket unit owns the directory, the user is static)"
	else
		pass "$kind/mpmgrd.service: no RuntimeDirectory=, no DynamicUser="
	fi
done

if out=$(systemd-analyze verify --recursive-errors=yes --man=no \
	"$sys/mpmgrd.socket" "$sys/mpmgrd.service" 2>&1); then
	pass "systemd-analyze verify: system units"
else
	fail "systemd-analyze verify: system units"
	printf '%s\n' "$out"
fi

if out=$(XDG_RUNTIME_DIR=$tmp/xdg systemd-analyze --user verify \
	--recursive-errors=yes --man=no \
	"$usr/mpmgrd.socket" "$usr/mpmgrd.service" 2>&1); then
	pass "systemd-analyze --user verify: user units"
else
	fail "systemd-analyze --user verify: user units"
	printf '%s\n' "$out"
fi

# The verify above must be able to fail: the same units with a binary that
# is not there are refused.
sed "s|^ExecStart=.*|ExecStart=$tmp/absent/mpmgrd|" "$sys/mpmgrd.service" \
	>"$tmp/bad/mpmgrd.service"
cp "$sys/mpmgrd.socket" "$tmp/bad/mpmgrd.socket"
if systemd-analyze verify --recursive-errors=yes --man=no \
	"$tmp/bad/mpmgrd.socket" "$tmp/bad/mpmgrd.service" >/dev/null 2>&1; then
	fail "systemd-analyze verify accepts an ExecStart= that does not exist"
else
	pass "systemd-analyze verify refuses an ExecStart= that does not exist"
fi

# --threshold= counts tenths: 20 is an exposure of 2.0. The printed level is
# parsed as well so that the failure message says how far off it is.
threshold=$(echo "$max_exposure" | awk '{ printf "%d", $1 * 10 }')
out=$(systemd-analyze security --offline=yes --threshold="$threshold" \
	"$sys/mpmgrd.service" 2>&1)
rc=$?
level=$(printf '%s\n' "$out" |
	sed -n 's/.*Overall exposure level for mpmgrd\.service: \([0-9][0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
	fail "systemd-analyze security printed no overall exposure level"
	printf '%s\n' "$out"
elif [ "$rc" -eq 0 ] &&
	awk -v l="$level" -v m="$max_exposure" 'BEGIN { exit !(l + 0 <= m + 0) }'; then
	pass "systemd-analyze security: exposure $level <= $max_exposure"
else
	fail "systemd-analyze security: exposure $level > $max_exposure (exit $rc)"
	printf '%s\n' "$out" | grep -v '✓'
fi

# The sysusers.d file, applied to an empty root, must create what the units
# name: the service's User= and Group= and the socket's SocketGroup=.
if out=$(systemd-sysusers --root="$tmp/root" "$src/mpmgr.sysusers" 2>&1); then
	pass "systemd-sysusers applies mpmgr.sysusers"
else
	fail "systemd-sysusers rejects mpmgr.sysusers"
	printf '%s\n' "$out"
fi
user=$(setting "$sys/mpmgrd.service" User)
group=$(setting "$sys/mpmgrd.service" Group)
sockgroup=$(setting "$sys/mpmgrd.socket" SocketGroup)
pwent=$(grep "^$user:" "$tmp/root/etc/passwd" 2>/dev/null)
case "$pwent" in
*:/usr/sbin/nologin | *:/sbin/nologin)
	pass "sysusers creates User=$user, without a login shell" ;;
*)
	fail "sysusers does not create User=$user with a nologin shell: '$pwent'" ;;
esac
for g in "$group" "$sockgroup"; do
	if grep -q "^$g:" "$tmp/root/etc/group" 2>/dev/null; then
		pass "sysusers creates group $g"
	else
		fail "sysusers does not create group '$g'"
	fi
done

# The tmpfiles.d file: /etc/mpmgr root:mpmgr 0750, and an existing key
# brought to root:mpmgr 0640. Giving files to mpmgr takes root.
if [ "$(id -u)" -ne 0 ]; then
	echo "skip: tmpfiles ownership check needs root"
else
	mpmgr_gid=$(grep "^$sockgroup:" "$tmp/root/etc/group" | cut -d: -f3)
	if out=$(systemd-tmpfiles --root="$tmp/root" --create \
		"$src/mpmgr.tmpfiles" 2>&1); then
		pass "systemd-tmpfiles applies mpmgr.tmpfiles"
	else
		fail "systemd-tmpfiles rejects mpmgr.tmpfiles"
		printf '%s\n' "$out"
	fi
	got=$(stat -c '%a %u %g' "$tmp/root/etc/mpmgr" 2>&1)
	if [ "$got" = "750 0 $mpmgr_gid" ]; then
		pass "/etc/mpmgr is 0750 root:mpmgr"
	else
		fail "/etc/mpmgr: want '750 0 $mpmgr_gid', got '$got'"
	fi
	(umask 077 && : >"$tmp/root/etc/mpmgr/authkey") 2>/dev/null
	systemd-tmpfiles --root="$tmp/root" --create "$src/mpmgr.tmpfiles" \
		>/dev/null 2>&1
	got=$(stat -c '%a %u %g' "$tmp/root/etc/mpmgr/authkey" 2>&1)
	if [ "$got" = "640 0 $mpmgr_gid" ]; then
		pass "an existing /etc/mpmgr/authkey becomes 0640 root:mpmgr"
	else
		fail "/etc/mpmgr/authkey: want '640 0 $mpmgr_gid', got '$got'"
	fi
fi

finish
