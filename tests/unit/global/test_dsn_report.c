/*
 * test_dsn_report.c - unit tests for the text of delivery status notices.
 *
 * The expected reports are whole, byte for byte: header lines, MIME
 * structure and field names as Postfix 3.7 writes them (From: line,
 * subjects, Content-Description values, X-Postfix-* fields, date format
 * "Sun, 22 Nov 2026 18:05:34 +0000 (UTC)" with TZ=UTC), and our own
 * wording in the text part.
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

#include "global/dsn_report.h"
#include "global/rec_type.h"
#include "util/strbuf.h"

#define ARRIVAL 1795370734 /* Sun Nov 22 18:05:34 2026 UTC */
#define NOW 1795374334     /* one hour later */

static int
setup_tz(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* Collect lines; a continued piece is followed by "\\" instead of "\n". */
static int
collect(const struct dsn_line *line, void *ctx, struct err *err)
{
	struct strbuf *out = ctx;

	(void)err;
	(void)strbuf_append(out, line->data, line->len);
	(void)strbuf_append_str(out, line->is_continued ? "\\" : "\n");
	return 0;
}

#define LINE(text, more)                                                       \
	{                                                                      \
		text, sizeof(text) - 1, more                                   \
	}
static const struct dsn_line content[] = {
	LINE("Subject: hello", false),
	LINE("Message-ID: <m1@example.org>", false),
	LINE("", false),
	LINE("body line one", false),
	LINE("long ", true),
	LINE("line", false),
};
#define CONTENT_COUNT (sizeof(content) / sizeof(content[0]))

static const struct msg_log_entry two_failed[] = {
	{ .recipient = "bob@example.net",
	  .orig_rcpt = "",
	  .offset = 100,
	  .dsn_orcpt = "",
	  .notify_flags = 0,
	  .status = "5.1.1",
	  .action = "failed",
	  .reason = "unknown user: \"bob\"",
	  .relay = "local",
	  .dsn_mta = "",
	  .diag_text = "",
	  .when = NOW },
	{ .recipient = "carol@example.com",
	  .orig_rcpt = "list@example.net",
	  .offset = 200,
	  .dsn_orcpt = "rfc822;list@example.net",
	  .notify_flags = REC_DSN_NOTIFY_FAILURE,
	  .status = "5.7.1",
	  .action = "failed",
	  .reason = "host mx.example.com[192.0.2.1] said: 550 5.7.1 no "
		    "thanks (in reply to RCPT TO command)",
	  .relay = "mx.example.com[192.0.2.1]:25",
	  .dsn_mta = "dns; mx.example.com",
	  .diag_text = "smtp; 550 5.7.1 no thanks",
	  .when = NOW },
};

static const char failure_full[] =
	"From: MAILER-DAEMON@mail.example.org (Mail Delivery System)\n"
	"Subject: Undelivered Mail Returned to Sender\n"
	"To: alice@example.org\n"
	"References: <m1@example.org>\n"
	"In-Reply-To: <m1@example.org>\n"
	"Auto-Submitted: auto-replied\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status;\n"
	"\tboundary=\"4ADC3B2C5E.1795374334/mail.example.org\"\n"
	"Content-Transfer-Encoding: 7bit\n"
	"\n"
	"This is a MIME-encapsulated message.\n"
	"\n"
	"--4ADC3B2C5E.1795374334/mail.example.org\n"
	"Content-Description: Notification\n"
	"Content-Type: text/plain; charset=us-ascii\n"
	"\n"
	"This report comes from the mail system at host mail.example.org.\n"
	"\n"
	"Your message could not be delivered to one or more of its "
	"recipients.\n"
	"A copy of it is attached below.\n"
	"\n"
	"If you need help, write to postmaster and include this report; you "
	"may\n"
	"remove your own text from the attached message.\n"
	"\n"
	"                   The mail system\n"
	"\n"
	"<bob@example.net>: unknown user: \"bob\"\n"
	"\n"
	"<carol@example.com> (expanded from <list@example.net>): host\n"
	"    mx.example.com[192.0.2.1] said: 550 5.7.1 no thanks (in reply "
	"to RCPT TO\n"
	"    command)\n"
	"\n"
	"--4ADC3B2C5E.1795374334/mail.example.org\n"
	"Content-Description: Delivery report\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mail.example.org\n"
	"Original-Envelope-Id: env-1\n"
	"X-Postfix-Queue-ID: 4ADC3B2C5E\n"
	"X-Postfix-Sender: rfc822; alice@example.org\n"
	"Arrival-Date: Sun, 22 Nov 2026 18:05:34 +0000 (UTC)\n"
	"\n"
	"Final-Recipient: rfc822; bob@example.net\n"
	"Original-Recipient: rfc822; bob@example.net\n"
	"Action: failed\n"
	"Status: 5.1.1\n"
	"Diagnostic-Code: X-Postfix; unknown user: \"bob\"\n"
	"\n"
	"Final-Recipient: rfc822; carol@example.com\n"
	"Original-Recipient: rfc822;list@example.net\n"
	"Action: failed\n"
	"Status: 5.7.1\n"
	"Remote-MTA: dns; mx.example.com\n"
	"Diagnostic-Code: smtp; 550 5.7.1 no thanks\n"
	"\n"
	"--4ADC3B2C5E.1795374334/mail.example.org\n"
	"Content-Description: Undelivered Message\n"
	"Content-Type: message/rfc822\n"
	"Content-Transfer-Encoding: 7bit\n"
	"\n"
	"Subject: hello\n"
	"Message-ID: <m1@example.org>\n"
	"\n"
	"body line one\n"
	"long \\line\n"
	"\n"
	"--4ADC3B2C5E.1795374334/mail.example.org--\n";

static struct dsn_report_info
base_info(enum dsn_report_kind kind)
{
	struct dsn_report_info info = {
		.kind = kind,
		.myhostname = "mail.example.org",
		.mail_name = "Postfix",
		.queue_id = "4ADC3B2C5E",
		.sender = "alice@example.org",
		.to = "alice@example.org",
		.envid = "env-1",
		.message_id = "<m1@example.org>",
		.arrival = ARRIVAL,
		.now = NOW,
		.delay_warning_time = 4 * 3600,
		.maximal_queue_lifetime = 5 * 86400,
		.content_length = 80,
		.bounce_size_limit = 50000,
	};

	return info;
}

static char *
build(const struct dsn_report_info *info, const struct msg_log_entry *e,
      size_t count, const char *force_action)
{
	struct strbuf out;
	struct err err;

	strbuf_init(&out, STRBUF_UNLIMITED);
	assert_int_equal(dsn_report_build(info, e, count, force_action, content,
					  CONTENT_COUNT, collect, &out, &err),
			 0);
	return out.data;
}

static void
test_failure_full(void **state)
{
	struct dsn_report_info info = base_info(DSN_REPORT_FAILURE);
	char *text = build(&info, two_failed, 2, NULL);

	(void)state;
	assert_string_equal(text, failure_full);
	free(text);
}

/* The text of the last part, from its Content-Description on. */
static const char *
last_part(const char *text)
{
	const char *last = NULL;

	for (const char *cp = text;
	     (cp = strstr(cp, "Content-Description: ")) != NULL; cp++)
		last = cp;
	assert_non_null(last);
	return last;
}

static void
test_original_part(void **state)
{
	static const struct {
		enum dsn_report_kind kind;
		bool want_headers_only;
		int ret;
		long long length;
		bool is_8bit;
		const char *expect;
	} cases[] = {
		/* RET=HDRS: headers only, as text/rfc822-headers. */
		{ DSN_REPORT_FAILURE, false, REC_DSN_RET_HDRS, 80, false,
		  "Content-Description: Undelivered Message Headers\n"
		  "Content-Type: text/rfc822-headers\n"
		  "Content-Transfer-Encoding: 7bit\n"
		  "\n"
		  "Subject: hello\n"
		  "Message-ID: <m1@example.org>\n"
		  "\n"
		  "--4ADC3B2C5E.1795374334/mail.example.org--\n" },
		/* Longer than bounce_size_limit: headers only. */
		{ DSN_REPORT_FAILURE, false, REC_DSN_RET_FULL, 50001, true,
		  "Content-Description: Undelivered Message Headers\n"
		  "Content-Type: text/rfc822-headers\n"
		  "Content-Transfer-Encoding: 8bit\n"
		  "\n"
		  "Subject: hello\n"
		  "Message-ID: <m1@example.org>\n"
		  "\n"
		  "--4ADC3B2C5E.1795374334/mail.example.org--\n" },
		/* Exactly at the limit: full, 8bit. */
		{ DSN_REPORT_FAILURE, false, REC_DSN_RET_FULL, 50000, true,
		  "Content-Description: Undelivered Message\n"
		  "Content-Type: message/rfc822\n"
		  "Content-Transfer-Encoding: 8bit\n"
		  "\n"
		  "Subject: hello\n"
		  "Message-ID: <m1@example.org>\n"
		  "\n"
		  "body line one\n"
		  "long \\line\n"
		  "\n"
		  "--4ADC3B2C5E.1795374334/mail.example.org--\n" },
		/* Postmaster copies return headers whatever RET says. */
		{ DSN_REPORT_FAILURE, true, 0, 80, false,
		  "Content-Description: Undelivered Message Headers\n"
		  "Content-Type: text/rfc822-headers\n"
		  "Content-Transfer-Encoding: 7bit\n"
		  "\n"
		  "Subject: hello\n"
		  "Message-ID: <m1@example.org>\n"
		  "\n"
		  "--4ADC3B2C5E.1795374334/mail.example.org--\n" },
		/* Success reports: "Message Headers". */
		{ DSN_REPORT_SUCCESS, true, REC_DSN_RET_FULL, 80, false,
		  "Content-Description: Message Headers\n"
		  "Content-Type: text/rfc822-headers\n"
		  "Content-Transfer-Encoding: 7bit\n"
		  "\n"
		  "Subject: hello\n"
		  "Message-ID: <m1@example.org>\n"
		  "\n"
		  "--4ADC3B2C5E.1795374334/mail.example.org--\n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dsn_report_info info = base_info(cases[i].kind);
		char *text;

		info.want_headers_only = cases[i].want_headers_only;
		info.ret = cases[i].ret;
		info.content_length = cases[i].length;
		info.is_8bit = cases[i].is_8bit;
		text = build(&info, two_failed, 1, NULL);
		assert_string_equal(last_part(text), cases[i].expect);
		assert_int_equal(dsn_report_is_full(&info),
				 strstr(cases[i].expect, "message/rfc822") !=
					 NULL);
		free(text);
	}
}

static const struct msg_log_entry one_delayed[] = {
	{ .recipient = "bob@example.net",
	  .offset = -1,
	  .status = "4.4.1",
	  .action = "delayed",
	  .reason = "connect to mx.example.net[192.0.2.9]:25: Connection "
		    "refused",
	  .relay = "none",
	  .when = NOW },
};

/* sendmail -bv: the relay an agent named prefixes the reason. */
static void
test_trace_relay(void **state)
{
	static const struct msg_log_entry probe[] = {
		{ .recipient = "bob@example.net",
		  .orig_rcpt = "team@example.net",
		  .offset = -1,
		  .status = "2.0.0",
		  .action = "deliverable",
		  .reason = "delivers to maildir",
		  .relay = "local",
		  .when = NOW },
	};
	struct dsn_report_info info = base_info(DSN_REPORT_TRACE);
	char *text = build(&info, probe, 1, NULL);

	(void)state;
	assert_non_null(strstr(text, "\n<bob@example.net> (expanded from "
				     "<team@example.net>): delivery via local:\n"
				     "    delivers to maildir\n"));
	assert_non_null(strstr(text, "\nAction: deliverable\nStatus: 2.0.0\n"
				     "Diagnostic-Code: X-Postfix; delivery via "
				     "local: delivers to maildir\n"));
	free(text);
}

static const char delay_report[] =
	"From: MAILER-DAEMON@mail.example.org (Mail Delivery System)\n"
	"Subject: Delayed Mail (still being retried)\n"
	"To: alice@example.org\n"
	"Auto-Submitted: auto-replied\n"
	"MIME-Version: 1.0\n"
	"Content-Type: multipart/report; report-type=delivery-status;\n"
	"\tboundary=\"4ADC3B2C5E.1795374334/mail.example.org\"\n"
	"Content-Transfer-Encoding: 7bit\n"
	"\n"
	"This is a MIME-encapsulated message.\n"
	"\n"
	"--4ADC3B2C5E.1795374334/mail.example.org\n"
	"Content-Description: Notification\n"
	"Content-Type: text/plain; charset=us-ascii\n"
	"\n"
	"This report comes from the mail system at host mail.example.org.\n"
	"\n"
	"This is a warning only: there is no need to send your message "
	"again.\n"
	"\n"
	"Your message has waited for delivery for more than 4 hour(s).\n"
	"The mail system will keep trying until it is 5 day(s) old.\n"
	"\n"
	"If you need help, write to postmaster.\n"
	"\n"
	"                   The mail system\n"
	"\n"
	"<bob@example.net>: connect to mx.example.net[192.0.2.9]:25: "
	"Connection refused\n"
	"\n"
	"--4ADC3B2C5E.1795374334/mail.example.org\n"
	"Content-Description: Delivery report\n"
	"Content-Type: message/delivery-status\n"
	"\n"
	"Reporting-MTA: dns; mail.example.org\n"
	"X-Postfix-Queue-ID: 4ADC3B2C5E\n"
	"X-Postfix-Sender: rfc822; alice@example.org\n"
	"Arrival-Date: Sun, 22 Nov 2026 18:05:34 +0000 (UTC)\n"
	"\n"
	"Final-Recipient: rfc822; bob@example.net\n"
	"Original-Recipient: rfc822; bob@example.net\n"
	"Action: delayed\n"
	"Status: 4.4.1\n"
	"Diagnostic-Code: X-Postfix; connect to mx.example.net[192.0.2.9]:25: "
	"Connection refused\n"
	"Will-Retry-Until: Fri, 27 Nov 2026 18:05:34 +0000 (UTC)\n"
	"\n"
	"--4ADC3B2C5E.1795374334/mail.example.org\n"
	"Content-Description: Undelivered Message Headers\n"
	"Content-Type: text/rfc822-headers\n"
	"Content-Transfer-Encoding: 7bit\n"
	"\n"
	"Subject: hello\n"
	"Message-ID: <m1@example.org>\n"
	"\n"
	"--4ADC3B2C5E.1795374334/mail.example.org--\n";

static void
test_delay(void **state)
{
	struct dsn_report_info info = base_info(DSN_REPORT_DELAY);
	char *text;

	(void)state;
	info.want_headers_only = true;
	info.envid = NULL;
	info.message_id = NULL;
	info.retry_until = ARRIVAL + 5 * 86400;
	text = build(&info, one_delayed, 1, NULL);
	assert_string_equal(text, delay_report);
	free(text);
}

static void
test_headers_and_fields(void **state)
{
	static const struct {
		enum dsn_report_kind kind;
		bool is_postmaster_copy;
		const char *force_action;
		const char *expect[5];
	} cases[] = {
		{ DSN_REPORT_FAILURE,
		  true,
		  NULL,
		  { "\nSubject: Postmaster Copy: Undelivered Mail\n",
		    "\nAuto-Submitted: auto-generated\n", "\nAction: delayed\n",
		    NULL } },
		{ DSN_REPORT_FAILURE,
		  false,
		  "failed",
		  { "\nSubject: Undelivered Mail Returned to Sender\n",
		    "\nAction: failed\nStatus: 4.4.1\n",
		    "\nAuto-Submitted: auto-replied\n", NULL } },
		{ DSN_REPORT_DELAY,
		  true,
		  NULL,
		  { "\nSubject: Postmaster Warning: Delayed Mail\n", NULL } },
		{ DSN_REPORT_SUCCESS,
		  false,
		  NULL,
		  { "\nSubject: Successful Mail Delivery Report\n",
		    "\n<bob@example.net>: delivery via none: connect to",
		    NULL } },
		/* A status report names no relay "none". */
		{ DSN_REPORT_TRACE,
		  false,
		  NULL,
		  { "\nSubject: Mail Delivery Status Report\n",
		    "\n<bob@example.net>: connect to mx.example.net",
		    "\nDiagnostic-Code: X-Postfix; connect to mx.example.net",
		    "\nContent-Description: Message Headers\n", NULL } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dsn_report_info info = base_info(cases[i].kind);
		char *text;

		info.is_postmaster_copy = cases[i].is_postmaster_copy;
		text = build(&info, one_delayed, 1, cases[i].force_action);
		for (size_t j = 0; cases[i].expect[j] != NULL; j++)
			if (strstr(text, cases[i].expect[j]) == NULL)
				fail_msg("case %zu: no \"%s\" in:\n%s", i,
					 cases[i].expect[j], text);
		free(text);
	}
}

static void
test_null_sender_and_no_envid(void **state)
{
	struct dsn_report_info info = base_info(DSN_REPORT_FAILURE);
	char *text;

	(void)state;
	info.sender = "";
	info.to = "postmaster";
	info.envid = "";
	text = build(&info, two_failed, 1, NULL);
	assert_non_null(strstr(text, "\nX-Postfix-Sender: rfc822; \n"));
	assert_non_null(strstr(text, "\nTo: postmaster\n"));
	assert_null(strstr(text, "Original-Envelope-Id"));
	free(text);
}

/* The output callback's failure stops the report and is returned. */
static int
fail_after(const struct dsn_line *line, void *ctx, struct err *err)
{
	int *left = ctx;

	(void)line;
	if ((*left)-- > 0)
		return 0;
	err_set(err, "write: broken pipe");
	return -1;
}

static void
test_output_error(void **state)
{
	struct dsn_report_info info = base_info(DSN_REPORT_FAILURE);
	struct err err;
	int left = 5;

	(void)state;
	assert_int_equal(dsn_report_build(&info, two_failed, 2, NULL, content,
					  CONTENT_COUNT, fail_after, &left,
					  &err),
			 -1);
	assert_string_equal(err.text, "write: broken pipe");
	assert_int_equal(left, -1);
}

static void
test_duration(void **state)
{
	static const struct {
		long long seconds;
		const char *expect;
	} cases[] = {
		{ 5 * 86400, "5 day(s)" },   { 4 * 3600, "4 hour(s)" },
		{ 90 * 60, "90 minute(s)" }, { 30, "30 second(s)" },
		{ 0, "0 second(s)" },        { 86400 + 1, "86401 second(s)" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf out;

		strbuf_init(&out, STRBUF_UNLIMITED);
		dsn_report_duration(cases[i].seconds, &out);
		assert_string_equal(out.data, cases[i].expect);
		strbuf_deinit(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failure_full),
		cmocka_unit_test(test_original_part),
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_headers_and_fields),
		cmocka_unit_test(test_null_sender_and_no_envid),
		cmocka_unit_test(test_trace_relay),
		cmocka_unit_test(test_output_error),
		cmocka_unit_test(test_duration),
	};

	return cmocka_run_group_tests(tests, setup_tz, NULL);
}
