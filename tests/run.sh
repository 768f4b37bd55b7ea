#!/bin/sh
# run.sh: runs each test program or script given, prints its output, and
# ends with one summary line "tests: N passed, N failed". Exits 1 if any
# failed. Check binaries report their own case counts; a script passes when
# it exits 0. Each runs at most $TEST_TIMEOUT seconds (default 1800; the
# slowest, it_python.sh under ASan on a busy machine, takes minutes): past
# it, it and every process it started (its process group) are killed, and
# it counts as failed: a hang fails `make check` instead of stalling it.
# Tests read no terminal: stdin is /dev/null (timeout runs them in a
# process group of their own, which a terminal would stop on a read).
TEST_TIMEOUT=${TEST_TIMEOUT:-1800}
passed=0
failed=0
failed_names=
for t in "$@"; do
	echo "=== $t"
	case "$t" in
	*.sh) timeout -k 10 "$TEST_TIMEOUT" sh "$t" </dev/null ;;
	*) timeout -k 10 "$TEST_TIMEOUT" "$t" </dev/null ;;
	esac
	rc=$?
	[ $rc -eq 124 ] && echo "=== $t: killed after $TEST_TIMEOUT s"
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
	else
		echo "=== FAILED: $t (exit $rc)"
		failed=$((failed + 1))
		failed_names="$failed_names $t"
	fi
done
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
