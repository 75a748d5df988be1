/*
 * test_attr.c - unit tests for the named-attribute codec.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/attr.h"

static struct strbuf *
sample_message(void)
{
	struct strbuf *out = strbuf_create(STRBUF_UNLIMITED);
	struct err err;
	static const uint8_t blob[] = { 0, 1, '.', 0xff, '\n' };

	assert_int_equal(attr_put_str(out, "protocol", "cleanup", &err), 0);
	assert_int_equal(attr_put_int(out, "version", 1, &err), 0);
	assert_int_equal(attr_put_int(out, "neg", LLONG_MIN, &err), 0);
	assert_int_equal(attr_put_int(out, "big", LLONG_MAX, &err), 0);
	assert_int_equal(attr_put_bytes(out, "blob", blob, sizeof(blob), &err),
			 0);
	assert_int_equal(attr_put_list(out, "rcpt", &err), 0);
	assert_int_equal(attr_put_str(out, "addr", "a@example.com", &err), 0);
	assert_int_equal(attr_put_str(out, "empty", "", &err), 0);
	assert_int_equal(attr_put_end(out, &err), 0);
	assert_int_equal(attr_put_end(out, &err), 0);
	return out;
}

static void
check_sample(const struct attr_list *list)
{
	const struct attr_list *rcpt;
	const uint8_t *data;
	const char *text;
	long long num;
	size_t len;
	struct err err;

	assert_int_equal(attr_get_str(list, "protocol", &text, &err), 0);
	assert_string_equal(text, "cleanup");
	assert_int_equal(attr_get_int(list, "version", &num, &err), 0);
	assert_int_equal(num, 1);
	assert_int_equal(attr_get_int(list, "neg", &num, &err), 0);
	assert_true(num == LLONG_MIN);
	assert_int_equal(attr_get_int(list, "big", &num, &err), 0);
	assert_true(num == LLONG_MAX);
	assert_int_equal(attr_get_bytes(list, "blob", &data, &len, &err), 0);
	assert_int_equal(len, 5);
	assert_int_equal(data[3], 0xff);
	assert_int_equal(attr_get_list(list, "rcpt", &rcpt, &err), 0);
	assert_int_equal(attr_get_str(rcpt, "addr", &text, &err), 0);
	assert_string_equal(text, "a@example.com");
	assert_int_equal(attr_get_str(rcpt, "empty", &text, &err), 0);
	assert_string_equal(text, "");
	assert_int_equal(attr_get_str(list, "nosuch", &text, &err), -1);
	assert_string_equal(err.text, "missing attribute nosuch");
	assert_int_equal(attr_get_str(list, "version", &text, &err), -1);
	assert_string_equal(err.text, "attribute version: wrong type");
}

static void
test_round_trip(void **state)
{
	struct strbuf *msg = sample_message();
	struct attr_list *list;
	size_t used;
	struct err err;

	(void)state;
	assert_int_equal(attr_decode((const uint8_t *)msg->data, msg->len,
				     &attr_default_limits, &list, &used, &err),
			 1);
	assert_int_equal(used, msg->len);
	check_sample(list);
	attr_list_destroy(&list);
	assert_null(list);
	strbuf_destroy(&msg);
}

/* Every proper prefix is "incomplete", never an error or a message. */
static void
test_every_prefix_is_incomplete(void **state)
{
	struct strbuf *msg = sample_message();
	struct attr_list *list;
	size_t used;
	struct err err;

	(void)state;
	for (size_t n = 0; n < msg->len; n++)
		assert_int_equal(attr_decode((const uint8_t *)msg->data, n,
					     &attr_default_limits, &list,
					     &used, &err),
				 0);
	strbuf_destroy(&msg);
}

static void
test_two_messages_back_to_back(void **state)
{
	struct strbuf *msg = sample_message();
	struct attr_list *list;
	size_t used;
	size_t first_len = msg->len;
	struct err err;

	(void)state;
	{
		struct strbuf *copy = sample_message();

		strbuf_append(msg, copy->data, copy->len);
		strbuf_destroy(&copy);
	}
	assert_int_equal(attr_decode((const uint8_t *)msg->data, msg->len,
				     &attr_default_limits, &list, &used, &err),
			 1);
	assert_int_equal(used, first_len);
	attr_list_destroy(&list);
	assert_int_equal(attr_decode((const uint8_t *)msg->data + used,
				     msg->len - used, &attr_default_limits,
				     &list, &used, &err),
			 1);
	check_sample(list);
	attr_list_destroy(&list);
	strbuf_destroy(&msg);
}

struct bad_case {
	const char *bytes;
	size_t len;
	const char *error;
};

#define BAD(lit, msg) { lit, sizeof(lit) - 1, msg }

static void
test_malformed(void **state)
{
	static const struct bad_case cases[] = {
		BAD("x\x01" "a.", "unknown attribute type 0x78"),
		BAD("i\x00.", "invalid attribute name"),
		BAD("i\x41" "a", "attribute name longer than 64 bytes"),
		BAD("i\x01" "A\x00.", "invalid attribute name"),
		BAD("s\x01" "a\x03" "a\0b.", "attribute a: NUL in text"),
		BAD("i\x01" "a\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f.",
		    "integer too large"),
		BAD("s\x01" "a\xff\xff\xff\xff\x7f", "value longer than 65536 "
						      "bytes"),
		BAD("l\x01" "al\x01" "b.", "lists nested deeper than 2"),
		BAD("i\x01" "a\x01i\x01" "b\x01i\x01" "c\x01.",
		    "more than 2 attributes"),
	};
	static const struct attr_limits tight = {
		.max_count = 2,
		.max_value = 65536,
		.max_depth = 2,
		.max_message = 1024,
	};
	struct attr_list *list;
	size_t used;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err.text[0] = 0;
		assert_int_equal(attr_decode((const uint8_t *)cases[i].bytes,
					     cases[i].len, &tight, &list, &used,
					     &err),
				 -1);
		assert_null(list);
		assert_string_equal(err.text, cases[i].error);
	}
}

static void
test_message_limit(void **state)
{
	static const struct attr_limits small = {
		.max_count = 100,
		.max_value = 100,
		.max_depth = 2,
		.max_message = 8,
	};
	struct strbuf *out = strbuf_create(STRBUF_UNLIMITED);
	struct attr_list *list;
	size_t used;
	struct err err;

	(void)state;
	attr_put_str(out, "abc", "0123456789", &err);
	attr_put_end(out, &err);
	assert_int_equal(attr_decode((const uint8_t *)out->data, out->len,
				     &small, &list, &used, &err),
			 -1);
	assert_string_equal(err.text, "message longer than 8 bytes");
	strbuf_destroy(&out);
}

static void
test_encoder_rejects(void **state)
{
	struct strbuf *out = strbuf_create(10);
	struct err err;

	(void)state;
	assert_int_equal(attr_put_int(out, "Bad-Name", 1, &err), -1);
	assert_string_equal(err.text, "invalid attribute name \"Bad-Name\"");
	assert_int_equal(attr_put_str(out, "name", "far too long", &err), -1);
	assert_string_equal(err.text, "attribute name: message too large");
	strbuf_destroy(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_prefix_is_incomplete),
		cmocka_unit_test(test_two_messages_back_to_back),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_message_limit),
		cmocka_unit_test(test_encoder_rejects),
	};

	return cmocka_run_group_tests_name("attr", tests, NULL, NULL);
}
