#!/bin/sh
# build-fuzz.sh - build every libFuzzer target in fuzz/ (or only those named).
#
# Usage: scripts/build-fuzz.sh [NAME...]   (NAME: fuzz_main_cf, ...)
# Each fuzz/fuzz_NAME.c defines LLVMFuzzerTestOneInput and is linked with
# clang's -fsanitize=fuzzer,address,undefined against all of src/util and
# src/global, into $FUZZ_OUT (default build/fuzz). Run one on a scratch
# copy of its seeds, since libFuzzer adds files to its first directory:
#     cp -r fuzz/corpus/main_cf /tmp/c && build/fuzz/fuzz_main_cf -max_total_time=60 /tmp/c
# Not part of make check.
set -eu
cd "$(dirname "$0")/.."
out=${FUZZ_OUT:-build/fuzz}
mkdir -p "$out"
flags="-g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined"
libsrc="$(ls src/util/*.c src/global/*.c)"
if [ $# -gt 0 ]; then
	targets=$(for n in "$@"; do echo "fuzz/$n.c"; done)
else
	targets=$(ls fuzz/fuzz_*.c)
fi
for target in $targets; do
	name=$(basename "$target" .c)
	echo "  FUZZ    $out/$name"
	# shellcheck disable=SC2086
	clang $flags -o "$out/$name" "$target" $libsrc -llmdb -lpcre2-8 -lm
done
