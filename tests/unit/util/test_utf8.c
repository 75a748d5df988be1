/*
 * test_utf8.c - unit tests for the well-formed UTF-8 checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/utf8.h"

struct utf8_case {
	const char *bytes;
	size_t len; /* 0: strlen */
	bool valid;
};

static const struct utf8_case cases[] = {
	{ "", 0, true },
	{ "plain ASCII \x01\x7f", 0, true },
	{ "\0", 1, true },
	{ "\xc3\xa9", 0, true },         /* U+00E9 */
	{ "\xc2\x80", 0, true },         /* U+0080, smallest 2-byte */
	{ "\xdf\xbf", 0, true },         /* U+07FF */
	{ "\xe0\xa0\x80", 0, true },     /* U+0800 */
	{ "\xef\xbf\xbf", 0, true },     /* U+FFFF */
	{ "\xed\x9f\xbf", 0, true },     /* U+D7FF */
	{ "\xee\x80\x80", 0, true },     /* U+E000 */
	{ "\xf0\x90\x80\x80", 0, true }, /* U+10000 */
	{ "\xf0\x9f\x98\x80", 0, true }, /* U+1F600 */
	{ "\xf4\x8f\xbf\xbf", 0, true }, /* U+10FFFF */
	{ "\x80", 0, false },            /* lone continuation */
	{ "\xbf", 0, false },
	{ "\xc0\xaf", 0, false },         /* overlong '/' */
	{ "\xc1\xbf", 0, false },         /* overlong */
	{ "\xe0\x80\x80", 0, false },     /* overlong NUL */
	{ "\xe0\x9f\xbf", 0, false },     /* overlong U+07FF */
	{ "\xed\xa0\x80", 0, false },     /* surrogate U+D800 */
	{ "\xed\xbf\xbf", 0, false },     /* surrogate U+DFFF */
	{ "\xf0\x80\x80\x80", 0, false }, /* overlong */
	{ "\xf0\x8f\xbf\xbf", 0, false }, /* overlong U+FFFF */
	{ "\xf4\x90\x80\x80", 0, false }, /* U+110000 */
	{ "\xf5\x80\x80\x80", 0, false },
	{ "\xff", 0, false },
	{ "\xfe", 0, false },
	{ "\xc2", 0, false }, /* truncated */
	{ "\xe0\xa0", 0, false },
	{ "\xf0\x90\x80", 0, false },
	{ "\xc2\x20", 0, false }, /* bad continuation */
	{ "\xe0\xa0\x20", 0, false },
	{ "\xf0\x90\x80\xc0", 0, false },
	{ "a\xc3\xa9z\xe9", 0, false }, /* good then bad */
};

static void
test_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len =
			cases[i].len ? cases[i].len : strlen(cases[i].bytes);

		if (utf8_is_valid(cases[i].bytes, len) != cases[i].valid)
			fail_msg("case %zu: want %d", i, cases[i].valid);
	}
}

/* A valid sequence cut anywhere inside is invalid; len is honoured. */
static void
test_truncation(void **state)
{
	const char s[] = "\xf0\x9f\x98\x80";

	(void)state;
	for (size_t len = 1; len < 4; len++)
		assert_false(utf8_is_valid(s, len));
	assert_true(utf8_is_valid(s, 4));
	assert_true(utf8_is_valid(s, 0));
}

static void
test_has_8bit(void **state)
{
	(void)state;
	assert_false(utf8_has_8bit("abc\x7f", 4));
	assert_true(utf8_has_8bit("ab\x80", 3));
	assert_false(utf8_has_8bit("ab\x80", 2));
	assert_false(utf8_has_8bit("", 0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_has_8bit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
