/*
 * test_mime_downgrade.c - unit tests for the 8-bit to 7-bit MIME converter.
 *
 * The golden rows (mime_downgrade_golden.h) are what Postfix 3.7 sent to
 * a server without 8BITMIME; the nesting cases below are its limits as
 * measured (a message with more than mime_nesting_limit + 2 multipart
 * levels open at once bounces). Every case is fed whole, one byte at a
 * time and in random splits (lines in pieces, as queue records cut at
 * line_length_limit come); the output, pieces joined and each line end
 * written as '\n', must not change. The header_size_limit cases are
 * Postern's own: Postfix's cleanup never queues a longer header.
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

#include "global/mail_conf.h"
#include "global/mime_downgrade.h"
#include "util/strbuf.h"

#include "mime_downgrade_golden.h"

#define NESTING_TEXT "MIME nesting exceeds safety limit"

static const struct mime_downgrade_limits default_limits = {
	.nesting_limit = 100,
	.boundary_limit = 2048,
	.header_limit = 102400,
};

/* ------------------------------------------------------------------ */
/* Running the converter.                                               */

struct collector {
	struct strbuf out;
	int pieces;
	int fail_at; /* fail the Nth piece (1-based); 0: never */
};

static int
collect(const char *data, size_t len, bool is_line_end, void *ctx,
	struct err *err)
{
	struct collector *c = ctx;

	if (++c->pieces == c->fail_at) {
		err_set(err, "write failed at piece %d", c->pieces);
		return -2;
	}
	assert_true(len > 0 || is_line_end); /* no empty partial pieces */
	assert_null(memchr(data, '\n', len));
	(void)strbuf_append(&c->out, data, len);
	if (is_line_end)
		(void)strbuf_append_char(&c->out, '\n');
	return 0;
}

enum split_mode { SPLIT_WHOLE, SPLIT_BYTES, SPLIT_RANDOM, SPLIT_COUNT };

struct run {
	int ret;
	bool is_mime_error;
	char err[ERR_TEXT_MAX];
	char *out;
};

/* Feed one line (without its '\n') in pieces as the mode says. */
static int
feed_line(struct mime_downgrade *md, const char *line, size_t len, bool is_end,
	  enum split_mode mode, struct err *err)
{
	size_t done = 0, piece;
	int ret;

	if (mode == SPLIT_WHOLE || len == 0)
		return mime_downgrade_feed(md, line, len, is_end, err);
	while (done < len) {
		piece = mode == SPLIT_BYTES ? 1 : 1 + (size_t)rand() % 9;
		if (piece > len - done)
			piece = len - done;
		ret = mime_downgrade_feed(md, line + done, piece,
					  is_end && done + piece == len, err);
		if (ret < 0)
			return ret;
		done += piece;
	}
	return 0;
}

/* Convert input (lines ended by '\n'; a last line without one is left
 * unfinished), fail_at as in struct collector. */
static struct run
run_input(const struct mime_downgrade_limits *lim, const char *input,
	  enum split_mode mode, int fail_at)
{
	struct collector c = { .fail_at = fail_at };
	struct mime_downgrade *md = mime_downgrade_create(lim, collect, &c);
	struct run r = { 0 };
	struct err err = { { 0 } };
	const char *cp = input, *nl;

	strbuf_init(&c.out, STRBUF_UNLIMITED);
	while (r.ret == 0 && (nl = strchr(cp, '\n')) != NULL) {
		r.ret = feed_line(md, cp, (size_t)(nl - cp), true, mode, &err);
		cp = nl + 1;
	}
	if (r.ret == 0 && *cp)
		r.ret = feed_line(md, cp, strlen(cp), false, mode, &err);
	if (r.ret == 0)
		r.ret = mime_downgrade_finish(md, &err);
	r.is_mime_error = mime_downgrade_is_mime_error(md);
	snprintf(r.err, sizeof(r.err), "%s", err.text);
	mime_downgrade_destroy(&md);
	assert_null(md);
	r.out = strdup(c.out.data);
	strbuf_deinit(&c.out);
	return r;
}

/* Every split mode must give expect. */
static void
check_case(const struct mime_downgrade_limits *lim, const char *name,
	   const char *input, const char *expect)
{
	for (int mode = 0; mode < SPLIT_COUNT; mode++) {
		for (int round = 0; round < (mode == SPLIT_RANDOM ? 8 : 1);
		     round++) {
			struct run r = run_input(lim, input, mode, 0);

			if (r.ret != 0 || strcmp(r.out, expect) != 0)
				print_error("case %s, split mode %d:\n%s\n"
					    "---- expected:\n%s\n",
					    name, mode, r.out, expect);
			assert_int_equal(r.ret, 0);
			assert_string_equal(r.out, expect);
			free(r.out);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Postfix's behaviour.                                                 */

static void
test_postfix_golden(void **state)
{
	struct mime_downgrade_limits b4 = default_limits;

	(void)state;
	srand(7);
	for (size_t i = 0;
	     i < sizeof(golden_default) / sizeof(golden_default[0]); i++)
		check_case(&default_limits, golden_default[i].name,
			   golden_default[i].input, golden_default[i].expect);
	b4.boundary_limit = 4;
	for (size_t i = 0;
	     i < sizeof(golden_boundary_4) / sizeof(golden_boundary_4[0]); i++)
		check_case(&b4, golden_boundary_4[i].name,
			   golden_boundary_4[i].input,
			   golden_boundary_4[i].expect);
}

/* A message of levels multipart levels around an 8-bit text part. */
static char *
nested_multipart(int levels)
{
	struct strbuf sb;
	char *text;

	strbuf_init(&sb, STRBUF_UNLIMITED);
	(void)strbuf_append_str(&sb, "Subject: deep\nMIME-Version: 1.0\n");
	for (int i = levels; i > 0; i--)
		(void)strbuf_printf(&sb,
				    "Content-Type: multipart/mixed; "
				    "boundary=L%d\n\n--L%d\n",
				    i, i);
	(void)strbuf_append_str(&sb, "Content-Type: text/plain\n"
				     "Content-Transfer-Encoding: 8bit\n\n"
				     "deep \351\n");
	for (int i = 1; i <= levels; i++)
		(void)strbuf_printf(&sb, "--L%d--\n", i);
	text = strdup(sb.data);
	strbuf_deinit(&sb);
	return text;
}

static void
check_nesting(size_t limit, const char *input, bool want_error)
{
	struct mime_downgrade_limits lim = default_limits;

	lim.nesting_limit = limit;
	for (int mode = 0; mode < SPLIT_COUNT; mode++) {
		struct run r = run_input(&lim, input, mode, 0);

		if (want_error) {
			assert_int_equal(r.ret, -1);
			assert_true(r.is_mime_error);
			assert_string_equal(r.err, NESTING_TEXT);
		} else {
			assert_int_equal(r.ret, 0);
			assert_false(r.is_mime_error);
			assert_non_null(strstr(r.out, "\ndeep =E9\n"));
		}
		free(r.out);
	}
}

/* Measured with Postfix 3.7: limit L takes L + 2 open levels, not more. */
static void
test_nesting_limit(void **state)
{
	static const struct {
		size_t limit;
		int levels;
		bool want_error;
	} cases[] = {
		{ 1, 3, false },     { 1, 4, true },     { 2, 4, false },
		{ 2, 5, true },      { 3, 5, false },    { 3, 6, true },
		{ 100, 102, false }, { 100, 103, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *input = nested_multipart(cases[i].levels);

		check_nesting(cases[i].limit, input, cases[i].want_error);
		free(input);
	}
}

/* Also measured: every boundary parameter opens a level; message/rfc822
 * levels do not count; closed or abandoned levels no longer count. */
static void
test_nesting_what_counts(void **state)
{
	static const char four_params[] =
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; "
		"boundary=a; boundary=b; boundary=c; boundary=d\n\n"
		"--d\nContent-Transfer-Encoding: 8bit\n\ndeep \351\n--d--\n";
	static const char three_params[] =
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; "
		"boundary=a; boundary=b; boundary=c\n\n"
		"--c\nContent-Transfer-Encoding: 8bit\n\ndeep \351\n--c--\n";
	static const char rfc822_deep[] =
		"Content-Type: message/rfc822\n\nSubject: 1\n"
		"Content-Type: message/rfc822\n\nSubject: 2\n"
		"Content-Type: message/rfc822\n\nSubject: 3\n"
		"Content-Type: message/rfc822\n\nSubject: 4\n"
		"Content-Type: message/rfc822\n\nSubject: 5\n"
		"Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\n\n"
		"deep \351\n";
	static const char siblings[] =
		"Content-Type: multipart/mixed; boundary=T\n\n"
		"--T\nContent-Type: multipart/mixed; boundary=S1\n\n"
		"--S1\nContent-Type: multipart/mixed; boundary=R1\n\n--R1--\n"
		"--S1--\n"
		"--T\nContent-Type: multipart/mixed; boundary=S2\n\n"
		"--S2\nContent-Type: multipart/mixed; boundary=R2\n\n"
		"--R2\nContent-Transfer-Encoding: 8bit\n\ndeep \351\n"
		"--T--\n";
	static const char with_rfc822[] =
		"Content-Type: multipart/mixed; boundary=A\n\n--A\n"
		"Content-Type: multipart/mixed; boundary=B\n\n--B\n"
		"Content-Type: message/rfc822\n\nSubject: in\n"
		"Content-Type: multipart/mixed; boundary=C\n\n--C\n"
		"Content-Type: multipart/mixed; boundary=D\n\n--D\n"
		"Content-Transfer-Encoding: 8bit\n\ndeep \351\n";

	(void)state;
	check_nesting(1, four_params, true);
	check_nesting(1, three_params, false);
	check_nesting(1, rfc822_deep, false);
	check_nesting(1, siblings, false);
	check_nesting(1, with_rfc822, true);
	check_nesting(2, with_rfc822, false);
}

/* A line longer than a queue record: encoded as one line, soft breaks
 * every 25 "=E9" (as Postfix: 120 lines, then the final space). */
static void
test_long_line_in_pieces(void **state)
{
	struct strbuf in, want;

	(void)state;
	strbuf_init(&in, STRBUF_UNLIMITED);
	strbuf_init(&want, STRBUF_UNLIMITED);
	(void)strbuf_append_str(&in, "Content-Transfer-Encoding: 8bit\n\n");
	(void)strbuf_append_str(&want,
				"Content-Transfer-Encoding: quoted-printable\n"
				"\n");
	for (int i = 0; i < 3000; i++)
		(void)strbuf_append_char(&in, 0xe9);
	(void)strbuf_append_str(&in, " \n");
	for (int line = 0; line < 120; line++) {
		for (int i = 0; i < 25; i++)
			(void)strbuf_append_str(&want, "=E9");
		(void)strbuf_append_str(&want, "=\n");
	}
	(void)strbuf_append_str(&want, "=20\n");
	check_case(&default_limits, "long line", in.data, want.data);
	strbuf_deinit(&in);
	strbuf_deinit(&want);
}

/* ------------------------------------------------------------------ */
/* Postern's own: ends of input, limits, failures.                      */

static void
test_unfinished_last_line(void **state)
{
	static const struct {
		const char *input;
		const char *expect;
	} cases[] = {
		/* An open quoted-printable line counts as finished. */
		{ "Content-Transfer-Encoding: 8bit\n\nab \351 ",
		  "Content-Transfer-Encoding: quoted-printable\n\nab "
		  "=E9=20\n" },
		/* An open header too, then its block ends. */
		{ "Subject: x\nContent-Transfer-Encoding: 8bit",
		  "Subject: x\nContent-Transfer-Encoding: quoted-printable\n" },
		/* A body line held for the boundary test. */
		{ "Content-Type: multipart/mixed; boundary=BOUNDARY\n\n--BOU",
		  "Content-Type: multipart/mixed; "
		  "boundary=BOUNDARY\n\n--BOU\n" },
		{ "", "" },
		{ "\n", "\n" },
		/* A delimiter as the last line: an empty part. */
		{ "Content-Type: multipart/mixed; boundary=B\n\n--B\n",
		  "Content-Type: multipart/mixed; boundary=B\n\n--B\n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&default_limits, cases[i].input, cases[i].input,
			   cases[i].expect);
}

/* Headers longer than header_limit go out as they came, uninterpreted. */
static void
test_header_limit(void **state)
{
	static const struct {
		const char *name;
		const char *input;
		const char *expect;
	} cases[] = {
		{ "folded CTE past the limit",
		  "Content-Transfer-Encoding:\n 8bit\n (a very long comment)\n"
		  "\n\351\n",
		  "Content-Transfer-Encoding:\n 8bit\n (a very long comment)\n"
		  "\n\351\n" },
		{ "one long line",
		  "X-Long: 0123456789012345678901234567890123456789\n"
		  " folded\nContent-Transfer-Encoding: 8bit\n\n\351\n",
		  "X-Long: 0123456789012345678901234567890123456789\n"
		  " folded\nContent-Transfer-Encoding: quoted-printable\n\n"
		  "=E9\n" },
		{ "long folded line after a CTE",
		  "Content-Transfer-Encoding: 8bit\n"
		  " 0123456789012345678901234567890123456789xyz\n\n\351\n",
		  "Content-Transfer-Encoding: 8bit\n"
		  " 0123456789012345678901234567890123456789xyz\n\n\351\n" },
		{ "long body line ends the header block",
		  "Content-Transfer-Encoding: 8bit\n"
		  "this is not a header but a very long body line \351\n",
		  "Content-Transfer-Encoding: quoted-printable\n"
		  "this is not a header but a very long body line =E9\n" },
		{ "long boundary line in a part header",
		  "Content-Type: multipart/a; boundary=B\n\n--B\n"
		  "Content-Transfer-Encoding: 8bit\n"
		  "--B and then a lot of text that is ignored\n"
		  "Content-Transfer-Encoding: 8bit\n\n\351\n",
		  "Content-Type: multipart/a; boundary=B\n\n--B\n"
		  "Content-Transfer-Encoding: quoted-printable\n"
		  "--B and then a lot of text that is ignored\n"
		  "Content-Transfer-Encoding: quoted-printable\n\n=E9\n" },
		{ "long line after a message/rfc822 part header",
		  "Content-Type: message/rfc822\n"
		  "Content-Transfer-Encoding: 8bit\n"
		  "not a header, and far too long for any header \351\n",
		  "Content-Type: message/rfc822\n"
		  "Content-Transfer-Encoding: 7bit\n"
		  "not a header, and far too long for any header \351\n" },
	};
	struct mime_downgrade_limits lim = default_limits;

	(void)state;
	lim.header_limit = 40;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&lim, cases[i].name, cases[i].input,
			   cases[i].expect);
}

/* The output callback's failure comes back as it is, and sticks. */
static void
test_output_failure(void **state)
{
	const char *input = golden_default[7].input; /* multipart_parts */

	(void)state;
	assert_string_equal(golden_default[7].name, "multipart_parts");
	for (int fail_at = 1; fail_at < 40; fail_at++) {
		for (int mode = 0; mode < SPLIT_COUNT; mode++) {
			struct run r = run_input(&default_limits, input, mode,
						 fail_at);
			char want[64];

			snprintf(want, sizeof(want), "write failed at piece %d",
				 fail_at);
			if (r.ret == 0) { /* fewer pieces than fail_at */
				free(r.out);
				continue;
			}
			assert_int_equal(r.ret, -2);
			assert_false(r.is_mime_error);
			assert_string_equal(r.err, want);
			free(r.out);
		}
	}
}

static void
test_failure_sticks(void **state)
{
	struct collector c = { .fail_at = 0 };
	struct mime_downgrade_limits lim = default_limits;
	struct mime_downgrade *md;
	struct err err;
	char *input = nested_multipart(4);
	const char *cp = input, *nl;
	int ret = 0;

	(void)state;
	lim.nesting_limit = 1;
	strbuf_init(&c.out, STRBUF_UNLIMITED);
	md = mime_downgrade_create(&lim, collect, &c);
	while (ret == 0 && (nl = strchr(cp, '\n')) != NULL) {
		ret = mime_downgrade_feed(md, cp, (size_t)(nl - cp), true,
					  &err);
		cp = nl + 1;
	}
	assert_int_equal(ret, -1);
	err_clear(&err);
	assert_int_equal(mime_downgrade_feed(md, "x", 1, true, &err), -1);
	assert_string_equal(err.text, NESTING_TEXT);
	err_clear(&err);
	assert_int_equal(mime_downgrade_finish(md, &err), -1);
	assert_string_equal(err.text, NESTING_TEXT);
	assert_int_equal(mime_downgrade_feed(md, "x", 1, true, NULL), -1);
	assert_true(mime_downgrade_is_mime_error(md));
	/* Nothing of the deepest level went out. */
	assert_null(strstr(c.out.data, "\ndeep "));
	mime_downgrade_destroy(&md);
	mime_downgrade_destroy(&md);
	strbuf_deinit(&c.out);
	free(input);
}

/* The parameters and their defaults. */
static void
test_limits_read(void **state)
{
	struct mail_conf *conf = mail_conf_create("/nonexistent");
	struct mime_downgrade_limits lim;

	(void)state;
	mime_downgrade_limits_read(conf, &lim);
	assert_int_equal(lim.nesting_limit, 100);
	assert_int_equal(lim.boundary_limit, 2048);
	assert_int_equal(lim.header_limit, 102400);
	mail_conf_set(conf, "mime_nesting_limit", "3");
	mail_conf_set(conf, "mime_boundary_length_limit", "70");
	mail_conf_set(conf, "header_size_limit", "1000");
	mime_downgrade_limits_read(conf, &lim);
	assert_int_equal(lim.nesting_limit, 3);
	assert_int_equal(lim.boundary_limit, 70);
	assert_int_equal(lim.header_limit, 1000);
	mail_conf_destroy(&conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_postfix_golden),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_nesting_what_counts),
		cmocka_unit_test(test_long_line_in_pieces),
		cmocka_unit_test(test_unfinished_last_line),
		cmocka_unit_test(test_header_limit),
		cmocka_unit_test(test_output_failure),
		cmocka_unit_test(test_failure_sticks),
		cmocka_unit_test(test_limits_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
