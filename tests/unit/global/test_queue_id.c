/*
 * test_queue_id.c - unit tests for queue IDs: both shapes, validation and
 * hashing. The golden IDs come from Debian's Postfix 3.7 (file creation
 * time and inode number read back from its queue).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "global/queue_id.h"

struct format_case {
	bool want_long;
	long long sec;
	long usec;
	unsigned long long ino;
	const char *expect;
};

static void
test_format(void **state)
{
	static const struct format_case cases[] = {
		/* Postfix 3.7: short IDs, microseconds then inode in hex. */
		{ false, 1795368480, 0x872B5, 10963606, "872B5A74A96" },
		{ false, 1795369435, 0xC486B, 0xA740BC, "C486BA740BC" },
		{ false, 0, 0, 0, "000000" },
		{ false, 0, 999999, 0xFFFFFFFFFFFFFFFFULL,
		  "F423FFFFFFFFFFFFFFFFF" },
		/* Postfix 3.7: long IDs. */
		{ true, 1795368519, 880937, 10962529, "4jXbdg6Fn5z1bcjX" },
		{ true, 1795368520, 882623, 10962609, "4jXbdh6GPWz1bcl6" },
		{ true, 1795368518, 869937, 10962481, "4jXbdf69jYz1bchb" },
		{ true, 0, 0, 0, "0000000000z0" },
		{ true, 0, 51, 50, "000000000zzy" },
		{ true, 19770609664LL, 999999, 0xFFFFFFFFFFFFFFFFULL,
		  "100000075plz31wvQ2DWVjm0" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char id[QUEUE_ID_SIZE];

		queue_id_format(id, cases[i].want_long, cases[i].sec,
				cases[i].usec, cases[i].ino);
		assert_string_equal(id, cases[i].expect);
		assert_true(is_valid_queue_id(id));
		assert_int_equal(queue_id_is_long(id), cases[i].want_long);
	}
}

struct valid_case {
	const char *text;
	bool is_valid;
	bool is_long;
};

static void
test_validate(void **state)
{
	static const struct valid_case cases[] = {
		{ "872B5A74A96", true, false },
		{ "000001", true, false },
		{ "F423F0", true, false },  /* 999999 microseconds */
		{ "F42400", false, false }, /* 1000000 microseconds */
		{ "FFFFF1", false, false },
		{ "ABCDE", false, false },       /* no inode */
		{ "872b5a74a96", false, false }, /* lower case */
		{ "872B5A74A9G", false, false },
		{ "0123456789ABCDEF01234", true, false }, /* 21 chars */
		{ "0123456789ABCDEF012345", false, false },
		{ "4jXbdg6Fn5z1bcjX", true, true },
		{ "000000000zzy", true, true }, /* 'z' as a digit too */
		{ "4jXbdg000zz1bcjX", true, true },
		{ "4jXbdg6Fn5zzzzz", false, false }, /* empty inode part */
		{ "4jXbdg6Fn5z", false, false },
		{ "4jXbd6Fn5z1bcjX", false, false },    /* 5 second digits */
		{ "4jXbdgzzzzz1bcjX", false, false },   /* usec over 999999 */
		{ "4jXbdg6Fn5z1bcjXAB", false, false }, /* vowel 'A' */
		{ "4jXbdg6Fn5z1bcjE", false, false },
		{ "4jXbdg6Fn5z1bcja", false, false },
		{ "4jXbdg6Fn5z123456789bcdf", false, false }, /* 13 inode */
		{ "4jXbdg6Fn5z123456789bcd", true, true },    /* 12 inode */
		{ "123456789BCD6Fn5z1", false, false }, /* 16 prefix chars */
		{ "123456789BC6Fn5z1", true, true },    /* 15 prefix chars */
		{ "z1bcjX", false, false },
		{ "", false, false },
		{ "../x", false, false },
		{ "..", false, false },
		{ "/etc/passwd", false, false },
		{ "872B5/A74A96", false, false },
		{ "872B5.A74A96", false, false },
		{ "tmp.123.ab", false, false },
		{ "872B5A74A96 ", false, false },
		{ " 872B5A74A96", false, false },
		{ "872B5A74A96\n", false, false },
		{ "4jXbdg6Fn5z1bcj-", false, false },
		{ "4jXbdg6Fn5z1bc_X", false, false },
	};
	char long_text[4096];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(is_valid_queue_id(cases[i].text),
				 cases[i].is_valid);
		assert_int_equal(queue_id_is_long(cases[i].text),
				 cases[i].is_long);
	}
	memset(long_text, 'A', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = 0;
	assert_false(is_valid_queue_id(long_text));
	assert_false(queue_id_is_long(long_text));
	memset(long_text, '1', sizeof(long_text) - 1);
	long_text[100] = 'z';
	assert_false(is_valid_queue_id(long_text));
	long_text[QUEUE_ID_SIZE - 1] = 0;
	assert_false(is_valid_queue_id(long_text)); /* 31 digits */
}

struct hash_case {
	const char *id;
	int depth;
	const char *expect;
};

static void
test_hash(void **state)
{
	static const struct hash_case cases[] = {
		/* As Postfix 3.7 hashed them (incoming/8/7/..., D/7/...). */
		{ "872B5A74A96", 1, "8/" },
		{ "872B5A74A96", 2, "8/7/" },
		{ "4jXbdg6Fn5z1bcjX", 2, "D/7/" },
		{ "4jXbdf69jYz1bchb", 2, "D/4/" },
		{ "4jXbdg6Fn5z1bcjX", 1, "D/" },
		{ "4jXbdg6Fn5z1bcjX", 7, "D/7/1/2/9/_/_/" },
		{ "000000000zzy", 5, "0/0/0/3/3/" },
		{ "000001", 7, "0/0/0/0/0/1/_/" },
		{ "C486BA740BC", 3, "C/4/8/" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf out;

		strbuf_init(&out, STRBUF_UNLIMITED);
		strbuf_append_str(&out, "q/");
		assert_int_equal(
			queue_id_hash(cases[i].id, cases[i].depth, &out), 0);
		assert_string_equal(out.data + 2, cases[i].expect);
		strbuf_deinit(&out);
	}
}

/* Both shapes of one file (same time, same inode) hash alike. */
static void
test_hash_agrees(void **state)
{
	(void)state;
	for (long usec = 0; usec < 1000000; usec += 4099) {
		char short_id[QUEUE_ID_SIZE];
		char long_id[QUEUE_ID_SIZE];
		struct strbuf a;
		struct strbuf b;

		queue_id_format(short_id, false, 1795368519, usec, 12345);
		queue_id_format(long_id, true, 1795368519, usec, 12345);
		strbuf_init(&a, STRBUF_UNLIMITED);
		strbuf_init(&b, STRBUF_UNLIMITED);
		queue_id_hash(short_id, 5, &a);
		queue_id_hash(long_id, 5, &b);
		assert_string_equal(a.data, b.data);
		strbuf_deinit(&a);
		strbuf_deinit(&b);
	}
}

static void
test_hash_limit(void **state)
{
	struct strbuf out;

	(void)state;
	strbuf_init(&out, 3);
	assert_int_equal(queue_id_hash("872B5A74A96", 2, &out), -1);
	strbuf_deinit(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_hash_agrees),
		cmocka_unit_test(test_hash_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
