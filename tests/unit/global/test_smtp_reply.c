/*
 * test_smtp_reply.c - unit tests for the SMTP reply parser: multi-line
 * replies, enhanced status codes, malformed lines, mixed codes, over-long
 * lines and a missing line end, fed whole and through a real stream with
 * every small line limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/stream.h"
#include "util/strbuf.h"

#include "global/smtp_reply.h"

struct reply_case {
	const char *input; /* raw bytes from the server */
	int code;	   /* 0: an error is expected */
	const char *dsn;
	bool has_dsn;
	const char *oneline; /* or the error text */
};

static const struct reply_case cases[] = {
	{ "250 Ok\r\n", 250, "2.0.0", false, "250 Ok" },
	{ "250 2.1.5 Ok\r\n", 250, "2.1.5", true, "250 2.1.5 Ok" },
	{ "550 5.1.1 <a@b>: User unknown\r\n", 550, "5.1.1", true,
	  "550 5.1.1 <a@b>: User unknown" },
	{ "550 4.1.1 class mismatch\r\n", 550, "5.0.0", false,
	  "550 4.1.1 class mismatch" },
	{ "451 4.3.0\r\n", 451, "4.3.0", true, "451 4.3.0" },
	{ "250 2.1.5000 too long\r\n", 250, "2.0.0", false,
	  "250 2.1.5000 too long" },
	{ "250 2.123.456 Ok\r\n", 250, "2.123.456", true, "250 2.123.456 Ok" },
	{ "220\r\n", 220, "2.0.0", false, "220" },
	{ "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 250,
	  "2.0.0", false, "250-mx.example 250-PIPELINING 250 SIZE 100" },
	{ "250 bare LF\n", 250, "2.0.0", false, "250 bare LF" },
	{ "hello\r\n", 0, NULL, false, "malformed reply line: \"hello\"" },
	{ "25 short\r\n", 0, NULL, false, "malformed reply line: \"25 short\"" },
	{ "250x\r\n", 0, NULL, false, "malformed reply line: \"250x\"" },
	{ "150 one\r\n", 0, NULL, false, "malformed reply line: \"150 one\"" },
	{ "650 six\r\n", 0, NULL, false, "malformed reply line: \"650 six\"" },
	{ "250-a\r\n550 b\r\n", 0, NULL, false, "mixed reply codes 250 and 550" },
	{ "250-a\r\nxyz\r\n", 0, NULL, false, "malformed reply line: \"xyz\"" },
	{ "250 no line end", 0, NULL, false,
	  "missing line end before end of input" },
};

/* Parse input through a socketpair stream with the given line limit. */
static int
parse_stream(const char *input, size_t limit, struct smtp_reply *reply,
	     struct err *err)
{
	int sv[2];
	struct stream *s;
	struct strbuf line;
	enum stream_line_end end;
	int ret = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[0], input, strlen(input)),
			 (ssize_t)strlen(input));
	close(sv[0]);
	s = stream_open(sv[1], 0);
	strbuf_init(&line, limit);
	while (ret == 0) {
		int n = stream_read_line(s, &line, &end);

		if (n <= 0) {
			err_set(err, "end of input");
			ret = -1;
			break;
		}
		ret = smtp_reply_feed(reply, strbuf_text(&line),
				      strbuf_len(&line), end, err);
	}
	strbuf_deinit(&line);
	stream_close(&s);
	return ret;
}

static void
check_case(const struct reply_case *c, size_t limit)
{
	struct smtp_reply reply;
	struct strbuf one;
	struct err err;
	int ret;

	smtp_reply_init(&reply);
	strbuf_init(&one, 1000);
	ret = parse_stream(c->input, limit, &reply, &err);
	if (c->code == 0) {
		assert_int_equal(ret, -1);
		if (limit >= 100)
			assert_string_equal(err.text, c->oneline);
	} else {
		assert_int_equal(ret, 1);
		assert_int_equal(reply.code, c->code);
		assert_true(reply.is_complete);
		if (limit >= 100) {
			assert_string_equal(reply.dsn, c->dsn);
			assert_int_equal(reply.has_dsn, c->has_dsn);
			smtp_reply_oneline(&reply, &one);
			assert_string_equal(strbuf_text(&one), c->oneline);
		}
	}
	strbuf_deinit(&one);
	smtp_reply_deinit(&reply);
}

static void
test_cases_whole(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i], 2048);
}

/* Short line limits cut lines: codes still parse, the rest is dropped. */
static void
test_cases_small_limits(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* A short limit may cut a line before its bad part. */
		if (cases[i].code == 0)
			continue;
		for (size_t limit = 4; limit < 30; limit++)
			check_case(&cases[i], limit);
	}
}

static void
test_long_line_is_truncated(void **state)
{
	struct smtp_reply reply;
	struct strbuf one;
	struct err err;

	(void)state;
	smtp_reply_init(&reply);
	strbuf_init(&one, 1000);
	assert_int_equal(parse_stream("250-first line is long\r\n"
				      "250 second line is long\r\n",
				      10, &reply, &err),
			 1);
	smtp_reply_oneline(&reply, &one);
	assert_string_equal(strbuf_text(&one), "250-first  250 second");
	assert_int_equal(reply.line_count, 2);
	strbuf_deinit(&one);
	smtp_reply_deinit(&reply);
}

static void
test_lines_and_reset(void **state)
{
	struct smtp_reply reply;
	const char *text;
	size_t len;
	struct err err;

	(void)state;
	smtp_reply_init(&reply);
	assert_int_equal(smtp_reply_feed(&reply, "250-mx", 6, STREAM_END_CRLF,
					 &err),
			 0);
	assert_int_equal(smtp_reply_feed(&reply, "250-SIZE 10", 11,
					 STREAM_END_CRLF, &err),
			 0);
	assert_int_equal(smtp_reply_feed(&reply, "250 DSN", 7, STREAM_END_LF,
					 &err),
			 1);
	assert_true(smtp_reply_line(&reply, 1, &text, &len));
	assert_int_equal(len, 7);
	assert_memory_equal(text, "SIZE 10", 7);
	assert_true(smtp_reply_line(&reply, 2, &text, &len));
	assert_memory_equal(text, "DSN", 3);
	assert_false(smtp_reply_line(&reply, 3, &text, &len));
	smtp_reply_reset(&reply);
	assert_int_equal(reply.code, 0);
	assert_int_equal(smtp_reply_feed(&reply, "354", 3, STREAM_END_CRLF,
					 &err),
			 1);
	assert_true(smtp_reply_line(&reply, 0, &text, &len));
	assert_int_equal(len, 0);
	smtp_reply_deinit(&reply);
}

/* A NUL in a line is kept as '?', so the text stays a C string. */
static void
test_nul_byte(void **state)
{
	struct smtp_reply reply;
	struct err err;

	(void)state;
	smtp_reply_init(&reply);
	assert_int_equal(smtp_reply_feed(&reply, "250 a\0b", 7,
					 STREAM_END_CRLF, &err),
			 1);
	assert_string_equal(strbuf_text(&reply.text), "250 a?b");
	smtp_reply_deinit(&reply);
}

/* The stored text is bounded however many lines come. */
static void
test_text_bounded(void **state)
{
	struct smtp_reply reply;
	struct err err;
	char line[200];

	(void)state;
	smtp_reply_init(&reply);
	memset(line, 'x', sizeof(line));
	memcpy(line, "250-", 4);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(smtp_reply_feed(&reply, line, sizeof(line),
						 STREAM_END_CRLF, &err),
				 0);
	assert_int_equal(smtp_reply_feed(&reply, "250 end", 7,
					 STREAM_END_CRLF, &err),
			 1);
	assert_true(reply.text.len <= SMTP_REPLY_TEXT_MAX);
	smtp_reply_deinit(&reply);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases_whole),
		cmocka_unit_test(test_cases_small_limits),
		cmocka_unit_test(test_long_line_is_truncated),
		cmocka_unit_test(test_lines_and_reset),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_text_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
