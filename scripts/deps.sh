#!/bin/sh
# deps.sh - install the Debian packages Postern's build and tests need.
#
# Quick no-op when everything is present. Called by `make`; when something is
# missing and we are not root, print the apt-get line and fail.
set -eu

PACKAGES="gcc make libc6-dev libcmocka-dev liblmdb-dev libpcre2-dev libssl-dev
pkg-config lmdb-utils python3 python3-pytest python3-pytest-timeout python3-aiosmtpd swaks clang
libclang-rt-14-dev pflogsumm dovecot-lmtpd
procps dnsmasq-base"

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing Debian packages:$missing" >&2
	echo "deps.sh: run as root: apt-get install -y$missing" >&2
	exit 1
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq $missing
