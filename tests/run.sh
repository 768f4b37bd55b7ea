#!/bin/sh
# run.sh: runs each test program or script given, prints its output, and
# ends with one summary line "tests: N passed, N failed". Exits 1 if any
# failed. Check binaries report their own case counts; a script passes when
# it exits 0. Each runs at most $TEST_TIMEOUT seconds (default 1800; the
# slowest, it_python.sh under ASan on a busy machine, takes minutes): past
# it, it and every process it started (its process group) are killed, and
# it counts as failed: a hang fails `make check` instead of stalling it.
# A test's output is kept in a file and printed when it ends (a process a
# test leaves behind holding its output cannot stall the run).
# At the end, just above the summary, the failure lines of each failed test
# are printed again (at most 12 each): a log that keeps only its last lines,
# as CI's does, still says what failed.
# Tests read no terminal: stdin is /dev/null (timeout runs them in a
# process group of their own, which a terminal would stop on a read).
TEST_TIMEOUT=${TEST_TIMEOUT:-1800}
passed=0
failed=0
failed_names=
logs=$(mktemp -d) || exit 1
trap 'rm -rf "$logs"' EXIT
i=0
for t in "$@"; do
	echo "=== $t"
	i=$((i + 1))
	log=$logs/$(printf %03d $i)
	case "$t" in
	*.sh) timeout -k 10 "$TEST_TIMEOUT" sh "$t" </dev/null >"$log" 2>&1 ;;
	*) timeout -k 10 "$TEST_TIMEOUT" "$t" </dev/null >"$log" 2>&1 ;;
	esac
	rc=$?
	cat "$log"
	[ $rc -eq 124 ] && echo "=== $t: killed after $TEST_TIMEOUT s" | tee -a "$log"
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
	else
		echo "=== FAILED: $t (exit $rc)"
		failed=$((failed + 1))
		failed_names="$failed_names $t"
		# Check's "file:line:F:", lib.sh's and unittest's "FAIL:",
		# pytest's "FAILED"/"ERROR", the sanitizers' reports, the Python
		# tests' watchdog (faulthandler's "Timeout (h:mm:ss)!" and the
		# test function in the stacks it dumps)
		grep -E '^(FAIL|FAILED|ERROR)[: ]|:[0-9]+:[FE]:|runtime error|Sanitizer|^=== .*: killed after|^Timeout \(|File ".*/test_[^/]*\.py", line [0-9]+ in test_' \
			"$log" | tail -n 12 >"$log.failures"
	fi
done
for f in "$logs"/*.failures; do
	[ -f "$f" ] || continue
	sed 's/^/  | /' "$f"
done
[ -n "$failed_names" ] && echo "failed:$failed_names"
echo "tests: $passed passed, $failed failed"
[ $failed -eq 0 ]
