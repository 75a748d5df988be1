/*
 * fuzz_dict_pcre.c - fuzz the pcre: table parser and its lookups.
 *
 * The input is a whole table file (or an inline "{ {rule}, ... }" name);
 * see dict_fuzz.h.
 */
#include <stddef.h>
#include <stdint.h>

#include "dict_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"",
		"a",
		"A",
		"user@example.com",
		"Subject: make money fast",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab",
		"a\nb",
		NULL,
	};

	return dict_fuzz_run("pcre", keys, data, size);
}
