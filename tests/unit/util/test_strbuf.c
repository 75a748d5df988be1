/*
 * test_strbuf.c - unit tests for growable, limited byte strings.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/strbuf.h"

static void
test_append_within_limit(void **state)
{
	struct strbuf *sb = strbuf_create(10);

	(void)state;
	assert_int_equal(strbuf_append_str(sb, "hello"), 0);
	assert_int_equal(strbuf_append_str(sb, "world"), 0);
	assert_string_equal(strbuf_text(sb), "helloworld");
	assert_int_equal(strbuf_len(sb), 10);
	strbuf_destroy(&sb);
	assert_null(sb);
}

static void
test_append_past_limit_changes_nothing(void **state)
{
	struct strbuf *sb = strbuf_create(8);

	(void)state;
	assert_int_equal(strbuf_append_str(sb, "12345"), 0);
	errno = 0;
	assert_int_equal(strbuf_append_str(sb, "6789"), -1);
	assert_int_equal(errno, E2BIG);
	assert_string_equal(strbuf_text(sb), "12345");
	assert_int_equal(strbuf_printf(sb, "%d", 1234), -1);
	assert_int_equal(strbuf_printf(sb, "%d", 123), 0);
	assert_string_equal(strbuf_text(sb), "12345123");
	strbuf_destroy(&sb);
}

static void
test_binary_bytes_and_growth(void **state)
{
	struct strbuf *sb = strbuf_create(STRBUF_UNLIMITED);
	char block[1000];

	(void)state;
	memset(block, 0, sizeof(block));
	block[999] = 'x';
	for (int i = 0; i < 100; i++)
		assert_int_equal(strbuf_append(sb, block, sizeof(block)), 0);
	assert_int_equal(strbuf_len(sb), 100000);
	assert_int_equal(sb->data[99999], 'x');
	assert_int_equal(sb->data[100000], 0);
	strbuf_truncate(sb, 3);
	assert_int_equal(strbuf_len(sb), 3);
	strbuf_truncate(sb, 50);
	assert_int_equal(strbuf_len(sb), 3);
	strbuf_reset(sb);
	assert_string_equal(strbuf_text(sb), "");
	strbuf_destroy(&sb);
	strbuf_destroy(&sb);
}

static void
test_set_replaces(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb, 4);
	assert_int_equal(strbuf_set(&sb, "abc"), 0);
	assert_int_equal(strbuf_set(&sb, "de"), 0);
	assert_string_equal(strbuf_text(&sb), "de");
	assert_int_equal(strbuf_set(&sb, "toolong"), -1);
	assert_string_equal(strbuf_text(&sb), "");
	strbuf_deinit(&sb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_within_limit),
		cmocka_unit_test(test_append_past_limit_changes_nothing),
		cmocka_unit_test(test_binary_bytes_and_growth),
		cmocka_unit_test(test_set_replaces),
	};

	return cmocka_run_group_tests_name("strbuf", tests, NULL, NULL);
}
