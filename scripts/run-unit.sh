#!/bin/sh
# run-unit.sh - run every cmocka unit-test binary under BUILD/tests/unit.
#
# Prints each binary's own cmocka output, then one closing summary line
# counting test cases ("unit: N passed, N failed"), and fails if any test
# case or binary failed (a crash counts as a failed binary).
set -u
build=${1:-build}
label=${2:-unit}
passed=0
failed=0
broken=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in $(find "$build/tests/unit" -type f -name 'test_*' -perm -u+x | sort); do
	# A hung test fails after a while instead of stalling the run.
	timeout 300 "$t" >"$log" 2>&1
	status=$?
	cat "$log"
	ok=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log")
	bad=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log")
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${bad:-0}))
	if [ "$status" -ne 0 ] && [ -z "$bad" ]; then
		failed=$((failed + 1))
		broken="$broken $t"
	fi
done
[ -n "$broken" ] && echo "crashed or failed outside a test:$broken"
echo "$label: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
