#!/bin/sh
# run-system-asan.sh - the system tests again, against the AddressSanitizer
# and UBSan build (build/asan), with every program's and daemon's
# sanitizer reports written to a directory that must stay empty: a report
# from any process fails the run, with the reports printed.
set -eu
build=${1:-build/asan}
logs=$(mktemp -d /tmp/postern-asan.XXXXXX)
chmod 1777 "$logs"
trap 'rm -rf "$logs"' EXIT
status=0
POSTERN_BUILD=$build ASAN_OPTIONS=log_path=$logs/asan \
	UBSAN_OPTIONS=log_path=$logs/ubsan:print_stacktrace=1 \
	"$(dirname "$0")/run-system.sh" || status=$?
if [ -n "$(ls -A "$logs")" ]; then
	echo "system-asan: sanitizer reports:" >&2
	cat "$logs"/* >&2
	status=1
fi
echo "system-asan: $( [ $status = 0 ] && echo clean || echo FAILED )"
exit $status
