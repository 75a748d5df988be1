#!/bin/sh
# run-system.sh - run the pytest system tests against build/.
#
# Uses Debian's python3 (where python3-pytest and python3-aiosmtpd live),
# whatever python3 comes first on PATH.
set -eu
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" -m pytest -q -p no:cacheprovider tests/system "$@"
