#!/bin/sh
# build-fuzz.sh - build every libFuzzer target in fuzz/ into build/fuzz/.
#
# Each fuzz/fuzz_NAME.c defines LLVMFuzzerTestOneInput and is linked with
# clang's -fsanitize=fuzzer,address,undefined against all of src/util and
# src/global. Run one with: build/fuzz/fuzz_NAME -max_total_time=60 CORPUS
# (a seed corpus, if any, is in fuzz/corpus/NAME/). Not part of make check.
set -eu
cd "$(dirname "$0")/.."
out=build/fuzz
mkdir -p "$out"
flags="-g -O1 -std=c11 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined"
libsrc="$(ls src/util/*.c src/global/*.c)"
for target in fuzz/fuzz_*.c; do
	[ -e "$target" ] || continue
	name=$(basename "$target" .c)
	echo "  FUZZ    $out/$name"
	# shellcheck disable=SC2086
	clang $flags -o "$out/$name" "$target" $libsrc -llmdb -lpcre2-8
done
