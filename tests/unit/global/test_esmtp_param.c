/*
 * test_esmtp_param.c - unit tests for MAIL/RCPT ESMTP parameters and the
 * xtext codec.
 *
 * Accept/reject decisions and reply texts were observed on Debian's
 * Postfix 3.7.11 smtpd; "ours" marks deliberate differences.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "global/esmtp_param.h"
#include "global/xtext.h"

#define M ESMTP_MAIL
#define R ESMTP_RCPT
#define ALL (ESMTP_FLAG_SMTPUTF8 | ESMTP_FLAG_DSN)

struct param_case {
	const char *text;
	enum esmtp_cmd cmd;
	int flags;
	enum esmtp_status status;
	const char *bad; /* expected out->bad for errors, NULL: any */
};

static const struct param_case status_cases[] = {
	{ "", M, ALL, ESMTP_OK, NULL },
	{ "   ", M, ALL, ESMTP_OK, NULL },
	{ "SIZE=123 BODY=8BITMIME", M, ALL, ESMTP_OK, NULL },
	{ " \tSIZE=5 \v BODY=7BIT\t", M, ALL, ESMTP_OK, NULL },
	{ "size=123", M, ALL, ESMTP_OK, NULL },
	{ "Body=8bitmime", M, ALL, ESMTP_OK, NULL },
	{ "SIZE=abc", M, ALL, ESMTP_ERR_SIZE, "SIZE=abc" },
	{ "SIZE=", M, ALL, ESMTP_ERR_SIZE, "SIZE=" },
	{ "SIZE=-1", M, ALL, ESMTP_ERR_SIZE, NULL },
	{ "SIZE=+5", M, ALL, ESMTP_ERR_SIZE, NULL },
	{ "SIZE= 12", M, ALL, ESMTP_ERR_SIZE, "SIZE=" },
	{ "SIZE=1 2", M, ALL, ESMTP_ERR_UNSUPPORTED, "2" },
	{ "SIZE", M, ALL, ESMTP_ERR_UNSUPPORTED, "SIZE" },
	{ "SIZE=12 x", M, ALL, ESMTP_ERR_UNSUPPORTED, "x" },
	{ "SIZE=1 SIZE=2", M, ALL, ESMTP_OK, NULL },
	{ "BODY=BINARYMIME", M, ALL, ESMTP_ERR_UNSUPPORTED, "BODY=BINARYMIME" },
	{ "BODY=BINARYMIME", M, ALL | ESMTP_FLAG_BINARYMIME, ESMTP_OK, NULL },
	{ "BODY=FOO", M, ALL, ESMTP_ERR_UNSUPPORTED, "BODY=FOO" },
	{ "BODY=", M, ALL, ESMTP_ERR_UNSUPPORTED, "BODY=" },
	{ "BODY", M, ALL, ESMTP_ERR_UNSUPPORTED, "BODY" },
	{ "BODY=7BIT BODY=8BITMIME", M, ALL, ESMTP_OK, NULL },
	{ "FOO=BAR", M, ALL, ESMTP_ERR_UNSUPPORTED, "FOO=BAR" },
	{ "FOO", M, ALL, ESMTP_ERR_UNSUPPORTED, "FOO" },
	{ "=x", M, ALL, ESMTP_ERR_UNSUPPORTED, "=x" },
	{ "XYZ=", M, ALL, ESMTP_ERR_UNSUPPORTED, "XYZ=" },
	{ "(comment)", M, ALL, ESMTP_ERR_UNSUPPORTED, "(comment)" },
	{ "<c@d.org>", M, ALL, ESMTP_ERR_UNSUPPORTED, "<c@d.org>" },
	{ "<", M, ALL, ESMTP_ERR_UNSUPPORTED, "<" },
	{ "SMTPUTF8", M, ALL, ESMTP_OK, NULL },
	{ "smtputf8 SMTPUTF8", M, ALL, ESMTP_OK, NULL },
	{ "SMTPUTF8=yes", M, ALL, ESMTP_ERR_UNSUPPORTED, "SMTPUTF8=yes" },
	{ "SMTPUTF8", M, ESMTP_FLAG_DSN, ESMTP_ERR_UNSUPPORTED, "SMTPUTF8" },
	{ "RET=FULL", M, ALL, ESMTP_OK, NULL },
	{ "RET=hdrs", M, ALL, ESMTP_OK, NULL },
	{ "RET=X", M, ALL, ESMTP_ERR_RET, NULL },
	{ "RET=", M, ALL, ESMTP_ERR_RET, NULL },
	{ "RET=FULL RET=HDRS", M, ALL, ESMTP_ERR_RET, "RET=HDRS" },
	{ "RET=FULL RET=FULL", M, ALL, ESMTP_ERR_RET, NULL },
	{ "RET", M, ALL, ESMTP_ERR_UNSUPPORTED, "RET" },
	{ "RET=FULL", M, ESMTP_FLAG_SMTPUTF8, ESMTP_ERR_UNSUPPORTED,
	  "RET=FULL" },
	{ "ENVID=abc+2Bdef", M, ALL, ESMTP_OK, NULL },
	{ "ENVID=abc+2", M, ALL, ESMTP_ERR_ENVID, NULL },
	{ "ENVID=abc+ZZ", M, ALL, ESMTP_ERR_ENVID, NULL },
	{ "ENVID=abc+", M, ALL, ESMTP_ERR_ENVID, NULL },
	{ "ENVID=a=b", M, ALL, ESMTP_OK, NULL },
	{ "ENVID=", M, ALL, ESMTP_ERR_ENVID, NULL },
	{ "ENVID=x ENVID=y", M, ALL, ESMTP_ERR_ENVID, "ENVID=y" },
	{ "ENVID=\x01", M, ALL, ESMTP_ERR_ENVID, "ENVID=?" },
	{ "ENVID=a\x7f"
	  "b",
	  M, ALL, ESMTP_ERR_ENVID, "ENVID=a?b" },
	{ "ENVID=a\xc3\xa9", M, ALL, ESMTP_ERR_ENVID, "ENVID=a??" },
	{ "ENVID=+0A", M, ALL, ESMTP_ERR_ENVID, NULL },
	{ "ENVID=+00", M, ALL, ESMTP_ERR_ENVID, NULL },
	{ "ENVID=+7F", M, ALL, ESMTP_ERR_ENVID, NULL },
	{ "ENVID=+80", M, ALL, ESMTP_ERR_ENVID, NULL },
	{ "ENVID=+FF", M, ALL, ESMTP_ERR_ENVID, NULL },
	{ "ENVID=+C3+A9", M, ALL, ESMTP_ERR_ENVID, NULL },
	{ "AUTH=<>", M, ALL, ESMTP_OK, NULL },
	{ "AUTH=", M, ALL, ESMTP_OK, NULL },
	{ "AUTH=+zz", M, ALL, ESMTP_OK, NULL },
	{ "AUTH", M, ALL, ESMTP_ERR_UNSUPPORTED, "AUTH" },
	{ "NOTIFY=NEVER", M, ALL, ESMTP_ERR_UNSUPPORTED, "NOTIFY=NEVER" },
	{ "ORCPT=rfc822;a@b", M, ALL, ESMTP_ERR_UNSUPPORTED,
	  "ORCPT=rfc822;a@b" },
	/* RCPT */
	{ "", R, ALL, ESMTP_OK, NULL },
	{ "NOTIFY=NEVER", R, ALL, ESMTP_OK, NULL },
	{ "NOTIFY=SUCCESS,DELAY,FAILURE", R, ALL, ESMTP_OK, NULL },
	{ "NOTIFY=success", R, ALL, ESMTP_OK, NULL },
	{ "NOTIFY=NEVER,SUCCESS", R, ALL, ESMTP_ERR_NOTIFY, NULL },
	{ "NOTIFY=SUCCESS,SUCCESS", R, ALL, ESMTP_OK, NULL },
	{ "NOTIFY=NEVER,NEVER", R, ALL, ESMTP_OK, NULL },
	{ "NOTIFY=", R, ALL, ESMTP_ERR_NOTIFY, NULL },
	{ "NOTIFY=,", R, ALL, ESMTP_ERR_NOTIFY, NULL },
	{ "NOTIFY=FOO", R, ALL, ESMTP_ERR_NOTIFY, NULL },
	{ "NOTIFY=SUCCESSX", R, ALL, ESMTP_ERR_NOTIFY, NULL },
	{ "NOTIFY=SUCCESS NOTIFY=DELAY", R, ALL, ESMTP_ERR_NOTIFY,
	  "NOTIFY=DELAY" },
	{ "NOTIFY=SUCCESS,", R, ALL, ESMTP_OK, NULL },
	{ "NOTIFY=,SUCCESS", R, ALL, ESMTP_OK, NULL },
	{ "NOTIFY=DELAY,,FAILURE", R, ALL, ESMTP_OK, NULL },
	{ "NOTIFY=SUCCESS DELAY", R, ALL, ESMTP_ERR_UNSUPPORTED, "DELAY" },
	{ "NOTIFY", R, ALL, ESMTP_ERR_UNSUPPORTED, "NOTIFY" },
	{ "NOTIFY=NEVER", R, ESMTP_FLAG_SMTPUTF8, ESMTP_ERR_UNSUPPORTED, NULL },
	{ "ORCPT=rfc822;a@b.org", R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=RFC822;a+2Bb@b.org", R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=rfc822;a+2@b.org", R, ALL, ESMTP_ERR_ORCPT, NULL },
	{ "ORCPT=rfc822;", R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=rfc822", R, ALL, ESMTP_ERR_ORCPT, NULL },
	{ "ORCPT=", R, ALL, ESMTP_ERR_ORCPT, NULL },
	{ "ORCPT=x-foo;bar", R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=utf-8;a\\x{E9}@b.org", R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=;a@b.org", R, ALL, ESMTP_ERR_ORCPT, NULL },
	{ "ORCPT=rfc822;a@b.org ORCPT=rfc822;c@d.org", R, ALL, ESMTP_ERR_ORCPT,
	  "ORCPT=rfc822;c@d.org" },
	{ "ORCPT=rfc822;<a@b.org>", R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=rfc822;a@b@c", R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=rfc822;a+20b", R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=rfc822;a=b", R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=rfc822;a;b", R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=rfc+2B822;ab", R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=rfc822;a\xc3\xa9"
	  "b",
	  R, ALL, ESMTP_OK, NULL },
	{ "ORCPT=rfc822;a+00b", R, ALL, ESMTP_ERR_ORCPT, NULL }, /* ours */
	{ "ORCPT=rfc822;a+0Ab", R, ALL, ESMTP_ERR_ORCPT, NULL }, /* ours */
	{ "ORCPT=rfc822;a+80b", R, ALL, ESMTP_ERR_ORCPT, NULL }, /* ours */
	{ "ORCPT=rfc822;a\x7f"
	  "b",
	  R, ALL, ESMTP_ERR_ORCPT, NULL }, /* ours */
	{ "ORCPT=rfc822;a\xe9"
	  "b",
	  R, ALL, ESMTP_ERR_ORCPT, NULL },                       /* ours */
	{ "ORCPT=r\xc3\xa9;ab", R, ALL, ESMTP_ERR_ORCPT, NULL }, /* ours */
	{ "ORCPT=\x01;x", R, ALL, ESMTP_ERR_ORCPT, NULL },       /* ours */
	{ "SIZE=10", R, ALL, ESMTP_ERR_UNSUPPORTED, "SIZE=10" },
	{ "BODY=8BITMIME", R, ALL, ESMTP_ERR_UNSUPPORTED, NULL },
	{ "RET=FULL", R, ALL, ESMTP_ERR_UNSUPPORTED, NULL },
	{ "ENVID=x", R, ALL, ESMTP_ERR_UNSUPPORTED, NULL },
	{ "SMTPUTF8", R, ALL, ESMTP_ERR_UNSUPPORTED, NULL },
	{ "AUTH=<>", R, ALL, ESMTP_ERR_UNSUPPORTED, NULL },
	{ "orcpt=rfc822;x notify=never", R, ALL, ESMTP_OK, NULL },
	{ "FOO\x01X", R, ALL, ESMTP_ERR_UNSUPPORTED, "FOO?X" },
	{ "F\x7fOO", R, ALL, ESMTP_ERR_UNSUPPORTED, "F?OO" },
	{ "FOO\xc3\xa9", R, ALL, ESMTP_ERR_UNSUPPORTED, "FOO??" },
};

static void
test_status_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(status_cases) / sizeof(status_cases[0]);
	     i++) {
		const struct param_case *c = &status_cases[i];
		struct esmtp_params p;
		enum esmtp_status st =
			esmtp_param_parse(c->text, c->cmd, c->flags, &p);

		if (st != c->status)
			fail_msg("case %zu '%s': status %d, want %d", i,
				 c->text, st, c->status);
		if (st == ESMTP_OK)
			assert_null(p.bad);
		else
			assert_non_null(p.bad);
		if (c->bad)
			assert_string_equal(p.bad, c->bad);
		esmtp_param_free(&p);
		assert_null(p.bad);
	}
}

static void
test_values(void **state)
{
	struct esmtp_params p;

	(void)state;
	assert_int_equal(esmtp_param_parse("SIZE=00012 BODY=8bitmime SMTPUTF8 "
					   "RET=hdrs ENVID=a+2Bb+3Dc+20d "
					   "AUTH=x+2By",
					   M, ALL, &p),
			 ESMTP_OK);
	assert_true(p.has_size);
	assert_int_equal(p.size, 12);
	assert_int_equal(p.body, ESMTP_BODY_8BITMIME);
	assert_true(p.smtputf8);
	assert_int_equal(p.ret, ESMTP_RET_HDRS);
	assert_string_equal(p.envid, "a+b=c d");
	assert_string_equal(p.auth, "x+2By");
	assert_null(p.orcpt_type);
	assert_int_equal(p.notify, 0);
	esmtp_param_free(&p);

	assert_int_equal(esmtp_param_parse("", M, ALL, &p), ESMTP_OK);
	assert_false(p.has_size);
	assert_int_equal(p.body, ESMTP_BODY_NONE);
	assert_int_equal(p.ret, ESMTP_RET_NONE);
	assert_null(p.envid);
	assert_null(p.auth);
	esmtp_param_free(&p);

	assert_int_equal(esmtp_param_parse("SIZE=0", M, 0, &p), ESMTP_OK);
	assert_true(p.has_size);
	assert_int_equal(p.size, 0);
	esmtp_param_free(&p);
	assert_int_equal(
		esmtp_param_parse("SIZE=18446744073709551615", M, 0, &p),
		ESMTP_OK);
	assert_true(p.size == UINT64_MAX);
	esmtp_param_free(&p);
	assert_int_equal(
		esmtp_param_parse("SIZE=18446744073709551614", M, 0, &p),
		ESMTP_OK);
	assert_true(p.size == UINT64_MAX - 1);
	esmtp_param_free(&p);
	/* Postfix answers "552 5.3.4 Message size exceeds ..." for these. */
	assert_int_equal(
		esmtp_param_parse("SIZE=99999999999999999999999", M, 0, &p),
		ESMTP_OK);
	assert_true(p.size == UINT64_MAX);
	esmtp_param_free(&p);
	assert_int_equal(esmtp_param_parse("SIZE=1 SIZE=2 BODY=7BIT "
					   "BODY=8BITMIME AUTH=a AUTH=<>",
					   M, 0, &p),
			 ESMTP_OK);
	assert_int_equal(p.size, 2);
	assert_int_equal(p.body, ESMTP_BODY_8BITMIME);
	assert_string_equal(p.auth, "<>");
	esmtp_param_free(&p);
	assert_int_equal(esmtp_param_parse("BODY=binarymime", M,
					   ESMTP_FLAG_BINARYMIME, &p),
			 ESMTP_OK);
	assert_int_equal(p.body, ESMTP_BODY_BINARYMIME);
	esmtp_param_free(&p);
	assert_int_equal(esmtp_param_parse("RET=FULL ENVID=+41+42", M, ALL, &p),
			 ESMTP_OK);
	assert_int_equal(p.ret, ESMTP_RET_FULL);
	assert_string_equal(p.envid, "AB");
	esmtp_param_free(&p);
}

static void
test_rcpt_values(void **state)
{
	struct esmtp_params p;

	(void)state;
	assert_int_equal(esmtp_param_parse("NOTIFY=success,Failure "
					   "ORCPT=RFC822;a+2Bb@b.org",
					   R, ALL, &p),
			 ESMTP_OK);
	assert_int_equal(p.notify, ESMTP_NOTIFY_SUCCESS | ESMTP_NOTIFY_FAILURE);
	assert_string_equal(p.orcpt_type, "RFC822");
	assert_string_equal(p.orcpt_addr, "a+b@b.org");
	esmtp_param_free(&p);
	assert_int_equal(
		esmtp_param_parse("NOTIFY=NEVER ORCPT=rfc822;", R, ALL, &p),
		ESMTP_OK);
	assert_int_equal(p.notify, ESMTP_NOTIFY_NEVER);
	assert_string_equal(p.orcpt_addr, "");
	esmtp_param_free(&p);
	assert_int_equal(esmtp_param_parse("NOTIFY=DELAY,,DELAY", R, ALL, &p),
			 ESMTP_OK);
	assert_int_equal(p.notify, ESMTP_NOTIFY_DELAY);
	esmtp_param_free(&p);
	assert_int_equal(
		esmtp_param_parse("ORCPT=utf-8;J+C3+A9r+C3+B4me@x", R, ALL, &p),
		ESMTP_OK);
	assert_string_equal(p.orcpt_type, "utf-8");
	assert_string_equal(p.orcpt_addr, "J\xc3\xa9r\xc3\xb4me@x");
	esmtp_param_free(&p);
}

static void
test_bad_is_bounded(void **state)
{
	char text[1000];
	struct esmtp_params p;

	(void)state;
	memset(text, 'X', sizeof(text) - 1);
	text[sizeof(text) - 1] = 0;
	assert_int_equal(esmtp_param_parse(text, M, ALL, &p),
			 ESMTP_ERR_UNSUPPORTED);
	assert_int_equal(strlen(p.bad), ESMTP_BAD_MAX);
	esmtp_param_free(&p);
}

struct reply_case {
	const char *text;
	enum esmtp_cmd cmd;
	const char *reply;
};

/* Reply texts exactly as Postfix 3.7 sends them. */
static const struct reply_case reply_cases[] = {
	{ "FOO=BAR", M, "555 5.5.4 Unsupported option: FOO=BAR" },
	{ "x", R, "555 5.5.4 Unsupported option: x" },
	{ "SIZE=abc", M, "501 5.5.4 Bad message size syntax" },
	{ "RET=X", M, "501 5.5.4 Bad RET parameter syntax" },
	{ "ENVID=", M, "501 5.5.4 Bad ENVID parameter syntax" },
	{ "NOTIFY=FOO", R, "501 5.5.4 Error: Bad NOTIFY parameter syntax" },
	{ "ORCPT=rfc822", R, "501 5.5.4 Error: Bad ORCPT parameter syntax" },
};

static void
test_replies(void **state)
{
	struct strbuf *out = strbuf_create(1024);

	(void)state;
	for (size_t i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]);
	     i++) {
		struct esmtp_params p;
		enum esmtp_status st = esmtp_param_parse(
			reply_cases[i].text, reply_cases[i].cmd, ALL, &p);

		strbuf_append_str(out, "old junk");
		esmtp_param_reply(out, st, &p);
		assert_string_equal(strbuf_text(out), reply_cases[i].reply);
		esmtp_param_free(&p);
	}
	strbuf_destroy(&out);
}

struct xtext_case {
	const char *in;
	int flags;
	int rc;
	const char *out;
};

static const struct xtext_case decode_cases[] = {
	{ "", 0, 0, "" },
	{ "abc", 0, 0, "abc" },
	{ "a+2Bb", 0, 0, "a+b" },
	{ "a+2bb", 0, 0, "a+b" }, /* lowercase hex: Postfix accepts */
	{ "a=b", 0, 0, "a=b" },   /* raw '=': Postfix accepts */
	{ "+41+42+43", 0, 0, "ABC" },
	{ "+0A", 0, 0, "\n" },
	{ "+FF", 0, 0, "\xff" },
	{ "+00", 0, -1, NULL },
	{ "+", 0, -1, NULL },
	{ "+4", 0, -1, NULL },
	{ "+4G", 0, -1, NULL },
	{ "+G4", 0, -1, NULL },
	{ "a b", 0, -1, NULL },
	{ "a\x7f", 0, -1, NULL },
	{ "a\x01", 0, -1, NULL },
	{ "\xc3\xa9", 0, -1, NULL },
	{ "\xc3\xa9", XTEXT_FLAG_UTF8, 0, "\xc3\xa9" },
	{ "~!", 0, 0, "~!" },
};

static void
test_xtext_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]);
	     i++) {
		struct strbuf *out = strbuf_create(100);
		int rc = xtext_decode(decode_cases[i].in, decode_cases[i].flags,
				      out);

		assert_int_equal(rc, decode_cases[i].rc);
		if (rc == 0)
			assert_string_equal(strbuf_text(out),
					    decode_cases[i].out);
		strbuf_destroy(&out);
	}
}

static void
test_xtext_encode(void **state)
{
	struct strbuf *out = strbuf_create(100);
	struct strbuf *back = strbuf_create(100);
	const char raw[] = "a+b=c d\x01\xc3\xa9~!";
	struct strbuf *small = strbuf_create(4);

	(void)state;
	assert_int_equal(xtext_encode(raw, strlen(raw), out), 0);
	assert_string_equal(strbuf_text(out), "a+2Bb+3Dc+20d+01+C3+A9~!");
	assert_int_equal(xtext_decode(strbuf_text(out), 0, back), 0);
	assert_string_equal(strbuf_text(back), raw);
	/* Limits are honoured on both sides. */
	assert_int_equal(xtext_encode("abcdef", 6, small), -1);
	strbuf_reset(small);
	assert_int_equal(xtext_decode("abcdef", 0, small), -1);
	strbuf_destroy(&small);
	strbuf_destroy(&back);
	strbuf_destroy(&out);
}

/* Every byte value survives encode then decode (NUL aside). */
static void
test_xtext_roundtrip_all_bytes(void **state)
{
	char raw[255];
	struct strbuf *enc = strbuf_create(1000);
	struct strbuf *dec = strbuf_create(1000);

	(void)state;
	for (int i = 0; i < 255; i++)
		raw[i] = (char)(i + 1);
	assert_int_equal(xtext_encode(raw, sizeof(raw), enc), 0);
	for (size_t i = 0; i < strbuf_len(enc); i++)
		assert_true(enc->data[i] >= '!' && enc->data[i] <= '~' &&
			    enc->data[i] != '=');
	assert_int_equal(xtext_decode(strbuf_text(enc), 0, dec), 0);
	assert_int_equal(strbuf_len(dec), sizeof(raw));
	assert_memory_equal(dec->data, raw, sizeof(raw));
	strbuf_destroy(&dec);
	strbuf_destroy(&enc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_table),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_rcpt_values),
		cmocka_unit_test(test_bad_is_bounded),
		cmocka_unit_test(test_replies),
		cmocka_unit_test(test_xtext_decode),
		cmocka_unit_test(test_xtext_encode),
		cmocka_unit_test(test_xtext_roundtrip_all_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
