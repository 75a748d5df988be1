/*
 * fuzz_dict_cidr.c - fuzz the cidr: table parser and its lookups.
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
		"1.2.3.4",
		"10.0.0.1",
		"::1",
		"2001:db8::1",
		"::ffff:1.2.3.4",
		"255.255.255.255",
		"0.0.0.0",
		"foo",
		"",
		NULL,
	};

	return dict_fuzz_run("cidr", keys, data, size);
}
