/*
 * test_header_fix.c - unit tests for the headers cleanup notes and adds.
 *
 * Golden values were recorded from Debian's Postfix 3.7 (sendmail and
 * smtpd into cleanup, then postcat), with TZ=UTC:
 *     Message-Id: <20261122180535.51BE7A7C10C@mail.example.test>
 *     Date: Sun, 22 Nov 2026 18:05:34 +0000 (UTC)
 *     From: "Joe Q. User" <joe@example.org>     (sendmail -F 'Joe Q. User')
 *     From: root <joe@example.org>              (full name "root")
 *     From: joe@example.org                     (smtpd: no full name)
 *     From: MAILER-DAEMON                       (null sender)
 * Postfix writes the day of the month space-padded ("Mon,  2 Nov").
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

#include "global/header_fix.h"

#define ARRIVAL 1795370734 /* Sun Nov 22 18:05:34 2026 UTC */
#define CREATED 1795370735

static int
setup_tz(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void
test_kinds(void **state)
{
	static const struct {
		const char *text;
		enum header_kind kind;
		bool is_dropped;
	} cases[] = {
		{ "From: a", HDR_FROM, false },
		{ "from : a", HDR_FROM, false },
		{ "TO: a", HDR_TO, false },
		{ "Cc: a", HDR_CC, false },
		{ "Bcc: a", HDR_BCC, true },
		{ "Date: x", HDR_DATE, false },
		{ "Message-ID: <x>", HDR_MESSAGE_ID, false },
		{ "Resent-From: a", HDR_RESENT_FROM, false },
		{ "Resent-To: a", HDR_RESENT_TO, false },
		{ "Resent-Cc: a", HDR_RESENT_CC, false },
		{ "Resent-Bcc: a", HDR_RESENT_BCC, true },
		{ "Resent-Date: a", HDR_RESENT_DATE, false },
		{ "Resent-Message-Id: a", HDR_RESENT_MESSAGE_ID, false },
		{ "Resent-Sender: a", HDR_RESENT_OTHER, false },
		{ "Resent-Reply-To: a", HDR_RESENT_OTHER, false },
		{ "Received: from x", HDR_RECEIVED, false },
		{ "Return-Path: <a>", HDR_RETURN_PATH, true },
		{ "Content-Length: 5", HDR_CONTENT_LENGTH, true },
		{ "Resent-Foo: a", HDR_OTHER, false },
		{ "Subject: Bcc: a", HDR_OTHER, false },
		{ "Fromage: a", HDR_OTHER, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum header_kind kind =
			header_fix_kind(cases[i].text, strlen(cases[i].text));

		if (kind != cases[i].kind)
			fail_msg("%s: kind %d", cases[i].text, (int)kind);
		assert_int_equal(header_fix_is_dropped(kind),
				 cases[i].is_dropped);
	}
}

static void
test_note(void **state)
{
	struct header_seen seen = { 0 };

	(void)state;
	header_fix_note(&seen, HDR_RECEIVED);
	header_fix_note(&seen, HDR_RECEIVED);
	header_fix_note(&seen, HDR_FROM);
	assert_int_equal(seen.hop_count, 2);
	assert_false(seen.has_resent);
	header_fix_note(&seen, HDR_RESENT_OTHER);
	assert_true(seen.has_resent);
}

struct missing_case {
	const char *headers[4]; /* seen before the end of headers */
	const char *queue_id;
	const char *sender;
	const char *fullname;
	const char *from_format;
	const char *undisclosed;
	const char *expect[5];
	const char *message_id;
};

static const struct missing_case missing_cases[] = {
	{ { NULL },
	  "51BE7A7C10C",
	  "joe@example.org",
	  "Joe Q. User",
	  "standard",
	  "",
	  { "Message-Id: <20261122180535.51BE7A7C10C@mail.example.test>",
	    "Date: Sun, 22 Nov 2026 18:05:34 +0000 (UTC)",
	    "From: \"Joe Q. User\" <joe@example.org>", NULL },
	  "20261122180535.51BE7A7C10C@mail.example.test" },
	{ { "Subject: x", NULL },
	  "51BE7A7C10C",
	  "joe@example.org",
	  "root",
	  "standard",
	  "",
	  { "Message-Id: <20261122180535.51BE7A7C10C@mail.example.test>",
	    "Date: Sun, 22 Nov 2026 18:05:34 +0000 (UTC)",
	    "From: root <joe@example.org>", NULL },
	  "20261122180535.51BE7A7C10C@mail.example.test" },
	{ { "Message-Id: <a@b>", "Date: x", NULL },
	  "51BE7A7C10C",
	  "joe@example.org",
	  NULL,
	  "standard",
	  "",
	  { "From: joe@example.org", NULL },
	  "" },
	{ { "Message-Id: <a@b>", "Date: x", NULL },
	  "51BE7A7C10C",
	  "",
	  "root",
	  "standard",
	  "",
	  { "From: MAILER-DAEMON", NULL },
	  "" },
	{ { "Message-Id: <a@b>", "Date: x", NULL },
	  "51BE7A7C10C",
	  "joe@example.org",
	  "Joe (J) User",
	  "obsolete",
	  "",
	  { "From: joe@example.org (Joe \\(J\\) User)", NULL },
	  "" },
	{ { "Message-Id: <a@b>", "Date: x", NULL },
	  "51BE7A7C10C",
	  "a b@example.org",
	  "J \"Q\" User",
	  "standard",
	  "",
	  { "From: \"J \\\"Q\\\" User\" <\"a b\"@example.org>", NULL },
	  "" },
	{ { "Message-Id: <a@b>", "Date: x", "From: y", NULL },
	  "51BE7A7C10C",
	  "a@b",
	  NULL,
	  "standard",
	  "To: undisclosed-recipients:;",
	  { "To: undisclosed-recipients:;", NULL },
	  "" },
	{ { "Message-Id: <a@b>", "Date: x", "Bcc: y", "From: z" },
	  "51BE7A7C10C",
	  "a@b",
	  NULL,
	  "standard",
	  "To: undisclosed-recipients:;",
	  { NULL },
	  "" },
	/* A Resent- header switches to the Resent- forms. */
	{ { "Resent-To: a", "Message-Id: <a@b>", "Date: x", "From: z" },
	  "51BE7A7C10C",
	  "a@b",
	  NULL,
	  "standard",
	  "To: undisclosed-recipients:;",
	  { "Resent-Message-Id: "
	    "<20261122180535.51BE7A7C10C@mail.example.test>",
	    "Resent-Date: Sun, 22 Nov 2026 18:05:34 +0000 (UTC)",
	    "Resent-From: a@b", NULL },
	  "20261122180535.51BE7A7C10C@mail.example.test" },
	/* Long queue IDs make the whole message ID. */
	{ { "Date: x", "From: z", "To: y", NULL },
	  "4jXbdg6Fn5z1bcjX",
	  "a@b",
	  NULL,
	  "standard",
	  "",
	  { "Message-Id: <4jXbdg6Fn5z1bcjX@mail.example.test>", NULL },
	  "4jXbdg6Fn5z1bcjX@mail.example.test" },
};

static void
test_missing(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(missing_cases) / sizeof(missing_cases[0]);
	     i++) {
		const struct missing_case *c = &missing_cases[i];
		struct header_seen seen = { 0 };
		struct header_fix_input in = {
			.queue_id = c->queue_id,
			.create_time = CREATED,
			.arrival_time = ARRIVAL,
			.sender = c->sender,
			.fullname = c->fullname,
			.myhostname = "mail.example.test",
			.header_from_format = c->from_format,
			.undisclosed_recipients_header = c->undisclosed,
		};
		struct argv *out = argv_create();
		struct strbuf id;
		size_t n;

		strbuf_init(&id, 1000);
		for (n = 0; n < 4 && c->headers[n] != NULL; n++)
			header_fix_note(&seen,
					header_fix_kind(c->headers[n],
							strlen(c->headers[n])));
		header_fix_missing(&seen, &in, out, &id);
		for (n = 0; c->expect[n] != NULL; n++) {
			if (n >= out->count)
				fail_msg("case %zu: missing \"%s\"", i,
					 c->expect[n]);
			if (strcmp(out->items[n], c->expect[n]) != 0)
				fail_msg("case %zu: got \"%s\"", i,
					 out->items[n]);
		}
		assert_int_equal(out->count, n);
		assert_string_equal(id.data, c->message_id);
		argv_destroy(&out);
		strbuf_deinit(&id);
	}
}

static void
test_date(void **state)
{
	struct strbuf out;

	(void)state;
	strbuf_init(&out, 100);
	header_fix_date(ARRIVAL, &out);
	assert_string_equal(out.data, "Sun, 22 Nov 2026 18:05:34 +0000 (UTC)");
	strbuf_reset(&out);
	header_fix_date(1793610304, &out);
	assert_string_equal(out.data, "Mon,  2 Nov 2026 09:05:04 +0000 (UTC)");
	strbuf_deinit(&out);
}

static void
test_phrase(void **state)
{
	static const struct {
		const char *name;
		const char *expect;
	} cases[] = {
		{ "root", "root" },
		{ "Joe User", "Joe User" },
		{ "Joe Q. User", "\"Joe Q. User\"" },
		{ "a\"b", "\"a\\\"b\"" },
		{ "a\\b", "\"a\\\\b\"" },
		{ "Doe, John", "\"Doe, John\"" },
		{ "", "" },
	};
	struct strbuf out;

	(void)state;
	strbuf_init(&out, 100);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strbuf_reset(&out);
		header_fix_phrase(cases[i].name, &out);
		assert_string_equal(out.data, cases[i].expect);
	}
	strbuf_deinit(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),   cmocka_unit_test(test_note),
		cmocka_unit_test(test_missing), cmocka_unit_test(test_date),
		cmocka_unit_test(test_phrase),
	};

	return cmocka_run_group_tests(tests, setup_tz, NULL);
}
