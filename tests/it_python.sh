#!/bin/sh
# it_python.sh: the mpmgr Python package against real daemons.
#
# - pytest on tests/python: one file per type (every proxy method), the
#   encoding of values, managers (private daemon, attach, named and
#   anonymous objects), the differential test against CPython's Manager,
#   the seed programs, kill -9 of children and of the parent, Ctrl-C, the
#   three start methods, Pool workers, raw fork and threads;
# - CPython's own manager tests (test._test_multiprocessing, Debian's
#   libpython3.11-testsuite) on mpmgr.Manager, for fork, spawn and
#   forkserver (tests/python/cpython_suite.py lists what is excluded);
# - `pip install ./client/python` (into a directory of the test's, with
#   Debian's pip and setuptools): the package it builds runs a Manager.
#
# The package is the one `make` laid out in $B/python, run by $PY (default
# Debian's /usr/bin/python3). Under make check SANITIZE=1 the daemon and
# mpctl are sanitized but the extension is not (the Makefile says why);
# should an instrumented one be given, ASan's runtime is loaded first
# (LD_PRELOAD), without leak reports (the interpreter's own at exit).
# The last line is "it_python: N passed, N failed" (N counts the two
# runners); the exit status is 0 only when nothing failed.
set -u

# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
test_begin it_python

PY=${PY:-/usr/bin/python3}
MPMGRD=$(cd "$(dirname "$MPMGRD")" && pwd)/$(basename "$MPMGRD")
MPCTL=$(cd "$(dirname "$MPCTL")" && pwd)/$(basename "$MPCTL")
PYTHONPATH=$top/$B/python
export MPMGRD MPCTL PYTHONPATH B
ext=$(ls "$PYTHONPATH"/mpmgr/_mpmgr*.so 2>/dev/null | head -n 1)
if [ -z "$ext" ]; then
	fail "no extension in $PYTHONPATH/mpmgr (make python)"
	finish
fi
if ldd "$ext" | grep -q libasan; then
	LD_PRELOAD=$(${CC:-cc} -print-file-name=libasan.so)
	ASAN_OPTIONS=detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}
	export LD_PRELOAD ASAN_OPTIONS
fi
# the tests write nothing into the tree
PYTHONDONTWRITEBYTECODE=1
export PYTHONDONTWRITEBYTECODE

cd "$top/tests/python" || exit 1
if "$PY" -m pytest -q -p no:cacheprovider .; then
	pass "pytest tests/python"
else
	fail "pytest tests/python"
fi
if "$PY" -m unittest cpython_fork cpython_spawn cpython_forkserver; then
	pass "CPython's manager tests on mpmgr.Manager (fork, spawn, forkserver)"
else
	fail "CPython's manager tests on mpmgr.Manager"
fi

# pip builds where the sources are: give it a copy (setup.py takes client/
# and proto/ from around client/python), so that the tree stays clean
mkdir -p "$tmp/src"
cp -R "$top/client" "$top/proto" "$tmp/src/"
rm -rf "$tmp/src/client/python/build" "$tmp/src/client/python/"*.egg-info
if PIP_NO_WARN_SCRIPT_LOCATION=1 "$PY" -m pip install -q --no-build-isolation \
	--no-cache-dir --target "$tmp/pip" "$tmp/src/client/python" \
	>"$tmp/pip.log" 2>&1; then
	out=$(cd "$tmp" && PYTHONPATH=$tmp/pip "$PY" -c '
import mpmgr
with mpmgr.Manager() as m:
    print(m.dict(t=(1, 2))["t"], mpmgr.__file__)
' 2>&1)
	case $out in
	*"(1, 2) $tmp/pip/mpmgr/__init__.py") pass "pip install ./client/python" ;;
	*) fail "the package pip built printed: $out" ;;
	esac
else
	fail "pip install ./client/python"
	indent "$tmp/pip.log"
fi
finish
