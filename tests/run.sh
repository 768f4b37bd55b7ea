#!/bin/sh
# run.sh: runs each test program or script given, prints its output, and
# ends with one summary line "tests: N passed, N failed". Exits 1 if any
# failed. Check binaries report their own case counts; a script passes when
# it exits 0.
passed=0
failed=0
failed_names=
for t in "$@"; do
	echo "=== $t"
	case "$t" in
	*.sh) sh "$t" ;;
	*) "$t" ;;
	esac
	rc=$?
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
