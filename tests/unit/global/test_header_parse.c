/*
 * test_header_parse.c - unit tests for the streaming header parser.
 *
 * Each case is a message (lines ended by '\n') and the events the parser
 * should report, written as one string: "H[text]" for a header ("H![..]"
 * if it was cut), "D1"/"D0" for the end of the headers with or without a
 * separator, "B[line]" for a body line (its pieces joined). Every case is
 * fed whole, one byte at a time, and in random splits; the events must
 * not change. The truncation cases follow what Postfix 3.7 does with a
 * header past header_size_limit: folded lines that no longer fit are
 * dropped, with the rest of that header.
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

#include "global/header_parse.h"
#include "util/strbuf.h"

struct recorder {
	struct strbuf events;
	struct strbuf body_line;
	int fail_on_header; /* return -1 from the Nth header (1-based) */
	int headers;
};

static int
rec_header(const char *text, size_t len, bool is_truncated, void *ctx)
{
	struct recorder *r = ctx;

	(void)strbuf_printf(&r->events, "H%s[%.*s]", is_truncated ? "!" : "",
			    (int)len, text);
	return ++r->headers == r->fail_on_header ? -1 : 0;
}

static int
rec_done(bool want_separator, void *ctx)
{
	struct recorder *r = ctx;

	(void)strbuf_printf(&r->events, "D%d", want_separator ? 1 : 0);
	return 0;
}

static int
rec_body(const char *data, size_t len, bool is_continued, void *ctx)
{
	struct recorder *r = ctx;

	(void)strbuf_append(&r->body_line, data, len);
	if (!is_continued) {
		(void)strbuf_printf(&r->events, "B[%s]", r->body_line.data);
		strbuf_reset(&r->body_line);
	}
	return 0;
}

static const struct header_parse_ops rec_ops = {
	.on_header = rec_header,
	.on_done = rec_done,
	.on_body = rec_body,
};

enum split_mode { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM };

/* Feed one line in pieces as the mode says. */
static int
feed_line(struct header_parser *hp, const char *line, size_t len,
	  enum split_mode mode)
{
	size_t done = 0;
	size_t piece;

	if (len == 0 || mode == SPLIT_WHOLE)
		return header_parser_feed(hp, line, len, false);
	while (done < len) {
		piece = mode == SPLIT_BYTES ? 1 : 1 + (size_t)rand() % 7;
		if (piece > len - done)
			piece = len - done;
		if (header_parser_feed(hp, line + done, piece,
				       done + piece < len) < 0)
			return -1;
		done += piece;
	}
	return 0;
}

static char *
run_parser(const char *message, size_t limit, enum split_mode mode,
	   int fail_on_header, int *ret_out)
{
	struct recorder r = { .fail_on_header = fail_on_header };
	struct header_parser *hp = header_parser_create(limit, &rec_ops, &r);
	const char *cp = message;
	const char *nl;
	int ret = 0;
	char *result;

	strbuf_init(&r.events, STRBUF_UNLIMITED);
	strbuf_init(&r.body_line, STRBUF_UNLIMITED);
	while (ret == 0 && (nl = strchr(cp, '\n')) != NULL) {
		ret = feed_line(hp, cp, (size_t)(nl - cp), mode);
		cp = nl + 1;
	}
	if (ret == 0 && *cp)
		ret = feed_line(hp, cp, strlen(cp), mode);
	if (ret == 0)
		ret = header_parser_finish(hp);
	header_parser_destroy(&hp);
	assert_null(hp);
	result = strdup(r.events.data);
	strbuf_deinit(&r.events);
	strbuf_deinit(&r.body_line);
	*ret_out = ret;
	return result;
}

struct parse_case {
	const char *message;
	size_t limit;
	const char *expect;
};

static const struct parse_case parse_cases[] = {
	{ "Subject: a\n\nbody\n", 1000, "H[Subject: a]D1B[body]" },
	{ "A: 1\n 2\n\tthree\nB: x\n\nb\n", 1000,
	  "H[A: 1\n 2\n\tthree]H[B: x]D1B[b]" },
	{ "A: 1\nbody\n", 1000, "H[A: 1]D1B[body]" },
	{ "A: 1\n", 1000, "H[A: 1]D0" },
	{ "A: 1\n\n", 1000, "H[A: 1]D1" },
	{ " x\nA: 1\n", 1000, "D1B[ x]B[A: 1]" },
	{ "Subject : x\n\n", 1000, "H[Subject : x]D1" },
	{ "Subject\t: x\n\n", 1000, "H[Subject\t: x]D1" },
	{ "From me@x Mon\nA: 1\n", 1000, "D1B[From me@x Mon]B[A: 1]" },
	{ ": x\n", 1000, "D1B[: x]" },
	{ "", 1000, "D0" },
	{ "\nbody\n", 1000, "D1B[body]" },
	{ "\n\n\n", 1000, "D1B[]B[]" },
	{ "A:\n\n", 1000, "H[A:]D1" },
	{ "A: 1\nB: 2\n \nC: 3\n\nx\n\ny\n", 1000,
	  "H[A: 1]H[B: 2\n ]H[C: 3]D1B[x]B[]B[y]" },
	/* Body lines are never limited by header_size_limit. */
	{ "A: 1\n\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", 10,
	  "H[A: 1]D1B[xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]" },
	{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nA: 1\n", 10,
	  "D1B[xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx]B[A: 1]" },
	/* Truncation. */
	{ "A: 0123456789\n 0123\n 01234567\nB: 1\n\n", 20,
	  "H![A: 0123456789\n 0123]H[B: 1]D1" },
	{ "A: 0123456789\n 0123\n 01234567\n 1\nB: 1\n\n", 20,
	  "H![A: 0123456789\n 0123]H[B: 1]D1" },
	{ "A: 0123456789abc\n 1\n\nb\n", 10, "H![A: 0123456]D1B[b]" },
	{ "A: 0123456\n\n", 10, "H[A: 0123456]D1" },
	{ "A: 01234567\n\n", 10, "H![A: 0123456]D1" },
};

static void
test_parse_cases(void **state)
{
	static const enum split_mode modes[] = { SPLIT_WHOLE, SPLIT_BYTES,
						 SPLIT_RANDOM };
	(void)state;
	srand(7);
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		for (size_t m = 0; m < 3; m++) {
			for (int round = 0; round < (m == 2 ? 20 : 1);
			     round++) {
				int ret;
				char *got = run_parser(parse_cases[i].message,
						       parse_cases[i].limit,
						       modes[m], 0, &ret);

				if (strcmp(got, parse_cases[i].expect) != 0)
					fail_msg("case %zu mode %zu: got "
						 "\"%s\"",
						 i, m, got);
				assert_int_equal(ret, 0);
				free(got);
			}
		}
	}
}

static void
test_callback_failure_stops(void **state)
{
	int ret;
	char *got;

	(void)state;
	got = run_parser("A: 1\nB: 2\n\nbody\n", 100, SPLIT_WHOLE, 1, &ret);
	assert_int_equal(ret, -1);
	assert_string_equal(got, "H[A: 1]");
	free(got);
	got = run_parser("A: 1\n", 100, SPLIT_WHOLE, 1, &ret);
	assert_int_equal(ret, -1);
	free(got);
}

struct name_case {
	const char *text;
	size_t name_len;
	const char *value;
};

static void
test_names_and_values(void **state)
{
	static const struct name_case cases[] = {
		{ "Subject: hi", 7, "hi" },
		{ "Subject:hi", 7, "hi" },
		{ "Subject \t: hi ", 7, "hi " },
		{ "Message-ID:\n <a@b>", 10, "<a@b>" },
		{ "X:", 1, "" },
		{ ": x", 0, NULL },
		{ " X: x", 0, NULL },
		{ "No colon", 0, NULL },
		{ "Bad name: x", 0, NULL },
		{ "", 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *text = cases[i].text;
		size_t vlen;
		const char *value;

		assert_int_equal(header_name_len(text, strlen(text)),
				 cases[i].name_len);
		if (cases[i].value == NULL)
			continue;
		value = header_value(text, strlen(text), &vlen);
		assert_int_equal(vlen, strlen(cases[i].value));
		assert_memory_equal(value, cases[i].value, vlen);
	}
	assert_true(header_is_named("message-id: x", 13, "Message-ID"));
	assert_false(header_is_named("Message-IDs: x", 14, "Message-ID"));
	assert_false(header_is_named("Message: x", 10, "Message-ID"));
	assert_false(header_is_named("no header", 9, "no"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_cases),
		cmocka_unit_test(test_callback_failure_stops),
		cmocka_unit_test(test_names_and_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
