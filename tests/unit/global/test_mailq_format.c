/*
 * test_mailq_format.c - unit tests for the postqueue -p and -j output.
 * The golden lines were recorded from Debian's Postfix 3.7 postqueue
 * (queue IDs, sizes and reasons of its own queue; times shown in UTC).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "global/mailq_format.h"

#define T0 1795376118LL /* Sun Nov 22 19:35:18 2026 UTC */

struct rcpt_case {
	const char *address;
	const char *reason;
};

struct entry_case {
	const char *queue_name;
	const char *queue_id;
	long long size;
	const char *sender;
	bool is_forced_expire;
	struct rcpt_case rcpts[5];
};

/* Format a whole listing of entries (terminated by a NULL queue_id). */
static char *
format(enum mailq_style style, bool want_long, const struct entry_case *cases)
{
	struct mailq_format *mf = mailq_format_create(style, want_long);
	struct strbuf out;
	char *text;

	strbuf_init(&out, STRBUF_UNLIMITED);
	for (const struct entry_case *ec = cases; ec->queue_id; ec++) {
		struct showq_entry entry = {
			.queue_name = ec->queue_name,
			.queue_id = ec->queue_id,
			.arrival_time = T0,
			.message_size = ec->size,
			.is_forced_expire = ec->is_forced_expire,
			.sender = ec->sender,
		};

		mailq_format_entry(mf, &entry, &out);
		for (const struct rcpt_case *rc = ec->rcpts; rc->address;
		     rc++) {
			struct showq_rcpt rcpt = { rc->address, rc->reason };

			mailq_format_rcpt(mf, &rcpt, &out);
		}
		mailq_format_entry_end(mf, &out);
	}
	mailq_format_finish(mf, &out);
	mailq_format_destroy(&mf);
	assert_null(mf);
	text = strdup(out.data);
	strbuf_deinit(&out);
	return text;
}

static void
check(enum mailq_style style, bool want_long, const struct entry_case *cases,
      const char *expect)
{
	char *text = format(style, want_long, cases);

	assert_string_equal(text, expect);
	free(text);
}

static const struct entry_case postfix_queue[] = {
	{ "active",
	  "ED0D1A7C27D",
	  271,
	  "s1@example.test",
	  false,
	  { { "r1@example.org", "" } } },
	{ "incoming",
	  "35A22A7C139",
	  10100267,
	  "huge@example.test",
	  false,
	  { { "h1@example.org", NULL } } },
	{ "deferred",
	  "33C58A7C136",
	  272,
	  "three@example.test",
	  false,
	  { { "t1@example.org", "same reason" },
	    { "t3@example.org",
	      "host mx.example.org[192.0.2.7] said: 450 4.2.0 word00 word01 "
	      "word02 word03 word04 word05" },
	    { "t2@example.org", "same reason" },
	    { "t4@example.org", "" } } },
	{ "deferred",
	  "EFA17A7C289",
	  271,
	  "s4@example.test",
	  false,
	  { { "r4@example.org",
	      "connect to example.org[192.0.2.1]:25: Connection refused" } } },
	{ "deferred",
	  "F04B0A7C28A",
	  261,
	  "",
	  false,
	  { { "rcpt3@example.org", "" } } },
	{ "hold",
	  "EF0E7A7C27E",
	  271,
	  "s2@example.test",
	  false,
	  { { "r2@example.org", "" } } },
	{ NULL, NULL, 0, NULL, false, { { NULL, NULL } } },
};

static void
test_sendmail_short_ids(void **state)
{
	(void)state;
	check(MAILQ_STYLE_SENDMAIL, false, postfix_queue,
	      "-Queue ID-  --Size-- ----Arrival Time---- "
	      "-Sender/Recipient-------\n"
	      "ED0D1A7C27D*     271 Sun Nov 22 19:35:18  s1@example.test\n"
	      "                                         r1@example.org\n"
	      "\n"
	      "35A22A7C139 10100267 Sun Nov 22 19:35:18  huge@example.test\n"
	      "                                         h1@example.org\n"
	      "\n"
	      "33C58A7C136     272 Sun Nov 22 19:35:18  three@example.test\n"
	      "                                                              "
	      "   (same reason)\n"
	      "                                         t1@example.org\n"
	      "(host mx.example.org[192.0.2.7] said: 450 4.2.0 word00 word01 "
	      "word02 word03 word04 word05)\n"
	      "                                         t3@example.org\n"
	      "                                                              "
	      "   (same reason)\n"
	      "                                         t2@example.org\n"
	      "                                                          "
	      "(reason unavailable)\n"
	      "                                         t4@example.org\n"
	      "\n"
	      "EFA17A7C289     271 Sun Nov 22 19:35:18  s4@example.test\n"
	      "                    (connect to example.org[192.0.2.1]:25: "
	      "Connection refused)\n"
	      "                                         r4@example.org\n"
	      "\n"
	      "F04B0A7C28A     261 Sun Nov 22 19:35:18  MAILER-DAEMON\n"
	      "                                         rcpt3@example.org\n"
	      "\n"
	      "EF0E7A7C27E!     271 Sun Nov 22 19:35:18  s2@example.test\n"
	      "                                         r2@example.org\n"
	      "\n"
	      "-- 9864 Kbytes in 6 Requests.\n");
}

static void
test_sendmail_long_ids(void **state)
{
	static const struct entry_case cases[] = {
		{ "maildrop",
		  "ABCDE12345",
		  105,
		  "md@example.test",
		  false,
		  { { "md@example.org", "" } } },
		{ "hold",
		  "4jXbdg6Fn5z1bcjX",
		  271,
		  "s2@example.test",
		  false,
		  { { "r2@example.org", "" } } },
		{ "active",
		  "4jXbdg6Fn5z1bcjX",
		  10100267,
		  "huge@example.test",
		  false,
		  { { NULL, NULL } } },
		{ "active",
		  "4jXbdg6Fn5z1bcjXYZ",
		  271,
		  "s3@example.test",
		  false,
		  { { NULL, NULL } } },
		{ "hold",
		  "35A22A7C139",
		  10100267,
		  "huge@example.test",
		  false,
		  { { NULL, NULL } } },
		{ NULL, NULL, 0, NULL, false, { { NULL, NULL } } },
	};

	(void)state;
	check(MAILQ_STYLE_SENDMAIL, true, cases,
	      "----Queue ID----- --Size-- ---Arrival Time---- "
	      "--Sender/Recipient------\n"
	      "ABCDE12345             105 Sun Nov 22 19:35:18 md@example.test\n"
	      "                                               md@example.org\n"
	      "\n"
	      "4jXbdg6Fn5z1bcjX!      271 Sun Nov 22 19:35:18 s2@example.test\n"
	      "                                               r2@example.org\n"
	      "\n"
	      "4jXbdg6Fn5z1bcjX* 10100267 Sun Nov 22 19:35:18 "
	      "huge@example.test\n"
	      "\n"
	      "4jXbdg6Fn5z1bcjXYZ*      271 Sun Nov 22 19:35:18 "
	      "s3@example.test\n"
	      "\n"
	      "35A22A7C139!      10100267 Sun Nov 22 19:35:18 "
	      "huge@example.test\n"
	      "\n"
	      "-- 19727 Kbytes in 5 Requests.\n");
}

static void
test_sendmail_short_names_and_one_request(void **state)
{
	static const struct entry_case cases[] = {
		{ "active",
		  "ABCDE12",
		  105,
		  "md@example.test",
		  false,
		  { { "md@example.org", "" } } },
		{ NULL, NULL, 0, NULL, false, { { NULL, NULL } } },
	};
	static const struct entry_case expired[] = {
		{ "active",
		  "ABCDE12",
		  2048,
		  "md@example.test",
		  true,
		  { { NULL, NULL } } },
		{ NULL, NULL, 0, NULL, false, { { NULL, NULL } } },
	};

	(void)state;
	/* Postfix 3.7: "ABCDE12*        105" and "-- 0 Kbytes in 1 Request." */
	check(MAILQ_STYLE_SENDMAIL, false, cases,
	      "-Queue ID-  --Size-- ----Arrival Time---- "
	      "-Sender/Recipient-------\n"
	      "ABCDE12*        105 Sun Nov 22 19:35:18  md@example.test\n"
	      "                                         md@example.org\n"
	      "\n"
	      "-- 0 Kbytes in 1 Request.\n");
	check(MAILQ_STYLE_SENDMAIL, false, expired,
	      "-Queue ID-  --Size-- ----Arrival Time---- "
	      "-Sender/Recipient-------\n"
	      "ABCDE12#       2048 Sun Nov 22 19:35:18  md@example.test\n"
	      "\n"
	      "-- 2 Kbytes in 1 Request.\n");
}

static void
test_empty(void **state)
{
	static const struct entry_case none[] = {
		{ NULL, NULL, 0, NULL, false, { { NULL, NULL } } },
	};

	(void)state;
	check(MAILQ_STYLE_SENDMAIL, false, none, "Mail queue is empty\n");
	check(MAILQ_STYLE_SENDMAIL, true, none, "Mail queue is empty\n");
	check(MAILQ_STYLE_JSON, false, none, "");
}

static void
test_json(void **state)
{
	static const struct entry_case cases[] = {
		{ "deferred",
		  "EFA17A7C289",
		  271,
		  "s4@example.test",
		  false,
		  { { "r4@example.org",
		      "connect to example.org[192.0.2.1]:25: Connection "
		      "refused" },
		    { "t4@example.org", "" } } },
		{ "incoming",
		  "103BFA7C2BA",
		  276,
		  "\"we\\\"ird man\"@example.test",
		  false,
		  { { "backslash@example.org", NULL } } },
		{ "hold", "F04B0A7C28A", 261, "", true, { { NULL, NULL } } },
		{ NULL, NULL, 0, NULL, false, { { NULL, NULL } } },
	};

	(void)state;
	check(MAILQ_STYLE_JSON, false, cases,
	      "{\"queue_name\": \"deferred\", \"queue_id\": \"EFA17A7C289\", "
	      "\"arrival_time\": 1795376118, \"message_size\": 271, "
	      "\"forced_expire\": false, \"sender\": \"s4@example.test\", "
	      "\"recipients\": [{\"address\": \"r4@example.org\", "
	      "\"delay_reason\": \"connect to example.org[192.0.2.1]:25: "
	      "Connection refused\"}, {\"address\": \"t4@example.org\"}]}\n"
	      "{\"queue_name\": \"incoming\", \"queue_id\": \"103BFA7C2BA\", "
	      "\"arrival_time\": 1795376118, \"message_size\": 276, "
	      "\"forced_expire\": false, \"sender\": "
	      "\"\\\"we\\\\\\\"ird man\\\"@example.test\", \"recipients\": "
	      "[{\"address\": \"backslash@example.org\"}]}\n"
	      "{\"queue_name\": \"hold\", \"queue_id\": \"F04B0A7C28A\", "
	      "\"arrival_time\": 1795376118, \"message_size\": 261, "
	      "\"forced_expire\": true, \"sender\": \"MAILER-DAEMON\", "
	      "\"recipients\": []}\n");
}

static void
test_json_quote(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "", "" },
		{ "plain@example.org", "plain@example.org" },
		{ "a\"b\\c", "a\\\"b\\\\c" },
		{ "\b\f\n\r\t", "\\b\\f\\n\\r\\t" },
		{ "\x01\x1f\x7f", "\\u0001\\u001F\\u007F" },
		{ "j\xc3\xb6rg", "j\xc3\xb6rg" },
		{ "/slash", "/slash" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf out;

		strbuf_init(&out, STRBUF_UNLIMITED);
		mailq_json_quote(cases[i].in, &out);
		assert_string_equal(out.data, cases[i].out);
		strbuf_deinit(&out);
	}
}

static int
set_utc(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sendmail_short_ids),
		cmocka_unit_test(test_sendmail_long_ids),
		cmocka_unit_test(test_sendmail_short_names_and_one_request),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_quote),
	};

	return cmocka_run_group_tests(tests, set_utc, NULL);
}
