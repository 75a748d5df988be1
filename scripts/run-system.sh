#!/bin/sh
# run-system.sh - run the pytest system tests against build/.
#
# Uses Debian's python3 (where python3-pytest and python3-aiosmtpd live),
# whatever python3 comes first on PATH. A test that hangs fails after
# five minutes instead of stalling the whole run.
set -eu
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" -m pytest -q -p no:cacheprovider --timeout=300 tests/system "$@"
