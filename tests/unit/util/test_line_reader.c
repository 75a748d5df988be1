/*
 * test_line_reader.c - unit tests for logical lines of configuration files.
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

#include "util/line_reader.h"

/* Read all logical lines of text; returns the joined "line|line|" form, or
 * "ERR:message" when the reader fails. */
static char *
read_all(const char *text, bool keep_comments)
{
	static char result[4096];
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	struct line_reader *lr = line_reader_from_stream(fp, "test.cf");
	struct strbuf line;
	struct err err;
	int ret;

	if (keep_comments)
		line_reader_keep_comments(lr);
	strbuf_init(&line, LINE_READER_MAX_LOGICAL);
	result[0] = 0;
	while ((ret = line_reader_next(lr, &line, &err)) > 0) {
		char item[64];

		snprintf(item, sizeof(item), "%d:%s|", line_reader_lineno(lr),
			 strbuf_text(&line));
		strcat(result, item);
	}
	if (ret < 0)
		snprintf(result, sizeof(result), "ERR:%s", err.text);
	strbuf_deinit(&line);
	line_reader_close(&lr);
	fclose(fp);
	return result;
}

struct reader_case {
	const char *input;
	bool keep_comments;
	const char *expect;
};

static void
test_logical_lines(void **state)
{
	static const struct reader_case cases[] = {
		{ "a = b\nc = d\n", false, "1:a = b|2:c = d|" },
		{ "a = b\n  c\n\td\ne\n", false, "1:a = b c d|4:e|" },
		{ "# comment\n\n   \na\n", false, "4:a|" },
		{ "a\n# inside\n  b\n", false, "1:a b|" },
		{ "a\n\n  b\n", false, "1:a b|" },
		{ "no newline at end", false, "1:no newline at end|" },
		{ "trailing   \n", false, "1:trailing|" },
		{ "crlf\r\n", false, "1:crlf|" },
		{ "", false, "" },
		{ " leading\n", false, "ERR:test.cf, line 1: logical line "
				       "must not start with white space" },
		{ "# c\na\n  b\n# d\n", true, "1:# c|2:a b|4:# d|" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(read_all(cases[i].input,
					     cases[i].keep_comments),
				    cases[i].expect);
}

static void
test_too_long_and_nul(void **state)
{
	char *big = malloc(LINE_READER_MAX_LINE + 10);
	char nul[] = "a\0b\n";
	FILE *fp;
	struct line_reader *lr;
	struct strbuf line;
	struct err err;

	(void)state;
	memset(big, 'x', LINE_READER_MAX_LINE + 9);
	big[LINE_READER_MAX_LINE + 9] = 0;
	assert_string_equal(read_all(big, false),
			    "ERR:test.cf, line 1: line longer than 65536 bytes");
	free(big);

	fp = fmemopen(nul, sizeof(nul) - 1, "r");
	lr = line_reader_from_stream(fp, "nul.cf");
	strbuf_init(&line, 100);
	assert_int_equal(line_reader_next(lr, &line, &err), -1);
	assert_string_equal(err.text, "nul.cf, line 1: NUL byte in text");
	strbuf_deinit(&line);
	line_reader_close(&lr);
	fclose(fp);
}

/* Warnings handed to the skip callback, joined by '|'. */
static void
collect_warning(void *ctx, const char *warning)
{
	strcat(ctx, warning);
	strcat(ctx, "|");
}

/* A stream that hands out one byte per read. */
struct bytewise {
	const char *text;
	size_t len;
	size_t pos;
};

static ssize_t
bytewise_read(void *cookie, char *buf, size_t size)
{
	struct bytewise *bw = cookie;

	if (bw->pos == bw->len || size == 0)
		return 0;
	buf[0] = bw->text[bw->pos++];
	return 1;
}

/* Lines as read_all shows them, then "W:" and the skip warnings. */
static char *
read_skipping(const char *text, bool want_fn, bool is_bytewise)
{
	static char result[4096];
	char warnings[2048] = "";
	struct bytewise bw = {text, strlen(text), 0};
	cookie_io_functions_t io = {.read = bytewise_read};
	FILE *fp = is_bytewise ? fopencookie(&bw, "r", io)
			       : fmemopen((void *)text, strlen(text), "r");
	struct line_reader *lr = line_reader_from_stream(fp, "x.cf");
	struct strbuf line;
	struct err err;
	int ret;

	assert_non_null(fp);
	line_reader_skip_leading_space(lr, want_fn ? collect_warning : NULL,
				       warnings);
	strbuf_init(&line, LINE_READER_MAX_LOGICAL);
	result[0] = 0;
	while ((ret = line_reader_next(lr, &line, &err)) > 0) {
		char item[128];

		snprintf(item, sizeof(item), "%d:%s|", line_reader_lineno(lr),
			 strbuf_text(&line));
		strcat(result, item);
	}
	if (ret < 0)
		snprintf(result, sizeof(result), "ERR:%s", err.text);
	strcat(result, "W:");
	strcat(result, warnings);
	strbuf_deinit(&line);
	line_reader_close(&lr);
	fclose(fp);
	return result;
}

static void
test_skip_leading_space(void **state)
{
	static const struct {
		const char *input;
		const char *expect;
	} cases[] = {
		{ "a\n", "1:a|W:" },
		{ " a = b\n", "W:x.cf: logical line must not start with "
			      "whitespace: \" a = b\"|" },
		/* Continuations are joined with only the newline gone. */
		{ "  a = 1\n  2\n# c\n\n  3  \nb = 4\n  5\n",
		  "6:b = 4 5|W:x.cf: logical line must not start with "
		  "whitespace: \"  a = 1  2  3  \"|" },
		/* The first 30 bytes, then "..." if there is more. */
		{ " 23456789012345678901234567890\n",
		  "W:x.cf: logical line must not start with whitespace: "
		  "\" 23456789012345678901234567890\"|" },
		{ " 234567890123456789012345678901\n",
		  "W:x.cf: logical line must not start with whitespace: "
		  "\" 23456789012345678901234567890...\"|" },
		{ "# c\n\t\tx", "W:x.cf: logical line must not start with "
				"whitespace: \"\t\tx\"|" },
	};
	char nul[] = " a\n b\0c\nd\n";
	FILE *fp;
	struct line_reader *lr;
	struct strbuf line;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int bytewise = 0; bytewise <= 1; bytewise++)
			assert_string_equal(read_skipping(cases[i].input, true,
							  bytewise),
					    cases[i].expect);
	}
	/* Without a callback the line goes silently. */
	assert_string_equal(read_skipping(" a\n b\nc\n", false, false),
			    "3:c|W:");
	/* Readers that did not ask stay strict. */
	assert_string_equal(read_all(" a\n", false),
			    "ERR:test.cf, line 1: logical line must not start "
			    "with white space");
	/* Errors inside the skipped line are still errors. */
	fp = fmemopen(nul, sizeof(nul) - 1, "r");
	lr = line_reader_from_stream(fp, "nul.cf");
	line_reader_skip_leading_space(lr, NULL, NULL);
	strbuf_init(&line, 100);
	assert_int_equal(line_reader_next(lr, &line, &err), -1);
	assert_string_equal(err.text, "nul.cf, line 2: NUL byte in text");
	strbuf_deinit(&line);
	line_reader_close(&lr);
	fclose(fp);
}

static void
test_open_missing(void **state)
{
	struct err err;

	(void)state;
	assert_null(line_reader_open("/nonexistent/main.cf", &err));
	assert_string_equal(err.text, "open /nonexistent/main.cf: No such "
				      "file or directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logical_lines),
		cmocka_unit_test(test_too_long_and_nul),
		cmocka_unit_test(test_skip_leading_space),
		cmocka_unit_test(test_open_missing),
	};

	return cmocka_run_group_tests_name("line_reader", tests, NULL, NULL);
}
