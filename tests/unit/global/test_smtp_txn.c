/*
 * test_smtp_txn.c - unit tests for the body type in one SMTP transaction
 * (smtp_txn.c): the BODY= parameter of MAIL, and the 8-bit to 7-bit
 * conversion for a server without 8BITMIME (mime_downgrade.h), as Postfix
 * 3.7's smtp client does them: BODY=8BITMIME or BODY=7BIT only when the
 * server offers 8BITMIME; without it, content not known to be 7bit is
 * converted unless disable_mime_output_conversion; a structure nested too
 * deep bounces (5.6.0) and the message is not finished. The peer is
 * scripted over a socketpair (../smtp_peer.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../smtp_peer.h"

#include "global/smtp_session.h"

#define EHLO_8BIT "220 mx\r\n250-mx\r\n250 8BITMIME\r\n"
#define EHLO_7BIT "220 mx\r\n250-mx\r\n250 SIZE\r\n"
#define TXN_OK "250 ok\r\n250 ok\r\n354 go\r\n250 sent\r\n"

static void
run_open(struct run *r, const char *replies, bool want_downgrade)
{
	run_conf(r);
	r->conf.want_mime_downgrade = want_downgrade;
	r->conf.mime_limits.nesting_limit = 1;
	r->conf.mime_limits.boundary_limit = 2048;
	r->conf.mime_limits.header_limit = 102400;
	run_start(r, replies);
}

static const char *const message_8bit[] = {
	"Content-Transfer-Encoding: 8bit", "Subject: x", "", ".caf\351 ", NULL,
};

#define SENT_8BIT                                                              \
	"Content-Transfer-Encoding: 8bit\r\nSubject: x\r\n\r\n"                \
	"..caf\351 \r\n.\r\n"
#define SENT_QP                                                                \
	"Subject: x\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"    \
	"..caf=E9=20\r\n.\r\n"

static const char *const message_deep[] = {
	"Content-Type: multipart/mixed; boundary=a; boundary=b; boundary=c; "
	"boundary=d",
	"",
	"--d",
	"Content-Transfer-Encoding: 8bit",
	"",
	"deep \351",
	"--d--",
	NULL,
};

struct body_case {
	const char *name;
	const char *ehlo;
	bool want_downgrade;
	const char *encoding; /* "8bit", "7bit" or "" */
	const char *mail;     /* the MAIL command the server gets */
	const char *content;  /* what follows DATA */
};

static const struct body_case body_cases[] = {
	{ "8BITMIME offered, 8bit", EHLO_8BIT, true, "8bit",
	  "MAIL FROM:<a@example.org> BODY=8BITMIME\r\n", SENT_8BIT },
	{ "8BITMIME offered, 7bit", EHLO_8BIT, true, "7bit",
	  "MAIL FROM:<a@example.org> BODY=7BIT\r\n", SENT_8BIT },
	{ "8BITMIME offered, unknown", EHLO_8BIT, true, "",
	  "MAIL FROM:<a@example.org>\r\n", SENT_8BIT },
	{ "no 8BITMIME, 8bit: converted", EHLO_7BIT, true, "8bit",
	  "MAIL FROM:<a@example.org>\r\n", SENT_QP },
	{ "no 8BITMIME, unknown: converted", EHLO_7BIT, true, "",
	  "MAIL FROM:<a@example.org>\r\n", SENT_QP },
	{ "no 8BITMIME, 7bit: sent as it is", EHLO_7BIT, true, "7bit",
	  "MAIL FROM:<a@example.org>\r\n", SENT_8BIT },
	{ "no 8BITMIME, conversion disabled", EHLO_7BIT, false, "8bit",
	  "MAIL FROM:<a@example.org>\r\n", SENT_8BIT },
};

static void
txn_init(struct smtp_txn *txn, struct smtp_txn_rcpt *rcpt, const char *encoding,
	 const char *const *lines)
{
	memset(txn, 0, sizeof(*txn));
	memset(rcpt, 0, sizeof(*rcpt));
	rcpt->address = "b@x";
	rcpt->dsn_orcpt = "";
	txn->sender = "a@example.org";
	txn->dsn_envid = "";
	txn->rcpts = rcpt;
	txn->rcpt_count = 1;
	txn->is_8bit = strcmp(encoding, "8bit") == 0;
	txn->is_7bit = strcmp(encoding, "7bit") == 0;
	txn->content = content_lines;
	txn->content_source = (void *)lines;
}

static void
test_body_type(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]);
	     i++) {
		const struct body_case *c = &body_cases[i];
		struct smtp_txn_rcpt rcpt;
		struct smtp_txn txn;
		struct smtp_outcome o = { 0 };
		struct run r;
		char want[1024];
		char *sent;

		run_open(&r,
			 strcmp(c->ehlo, EHLO_8BIT) == 0 ? EHLO_8BIT TXN_OK
							 : EHLO_7BIT TXN_OK,
			 c->want_downgrade);
		assert_int_equal(smtp_session_start(r.s, &o), 0);
		txn_init(&txn, &rcpt, c->encoding, message_8bit);
		assert_int_equal(smtp_session_send(r.s, &txn, NULL), 0);
		assert_int_equal(rcpt.state, SMTP_RCPT_SENT);
		sent = run_close(&r);
		snprintf(want, sizeof(want),
			 "EHLO client.test\r\n%sRCPT TO:<b@x>\r\nDATA\r\n%s",
			 c->mail, c->content);
		if (strcmp(sent, want) != 0)
			print_error("case %s\n", c->name);
		assert_string_equal(sent, want);
		free(sent);
		smtp_outcome_clear(&rcpt.outcome);
	}
}

/* Postfix: "dsn=5.6.0, status=bounced (MIME nesting exceeds safety
 * limit)", no server reply in it, and no final dot. */
static void
test_nesting_bounces(void **state)
{
	struct smtp_txn_rcpt rcpt;
	struct smtp_txn txn;
	struct smtp_outcome o = { 0 };
	struct err err;
	struct run r;
	char *sent;

	(void)state;
	run_open(&r, EHLO_7BIT TXN_OK, true);
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	txn_init(&txn, &rcpt, "8bit", message_deep);
	assert_int_equal(smtp_session_send(r.s, &txn, &err), -1);
	assert_string_equal(err.text, "MIME nesting exceeds safety limit");
	assert_int_equal(rcpt.state, SMTP_RCPT_BOUNCE);
	assert_string_equal(rcpt.outcome.dsn, "5.6.0");
	assert_string_equal(rcpt.outcome.reason,
			    "MIME nesting exceeds safety limit");
	assert_int_equal(rcpt.outcome.code, 0);
	assert_null(rcpt.outcome.diag);
	assert_false(txn.is_mail_failed);
	assert_false(smtp_session_is_usable(r.s));
	sent = run_close(&r);
	assert_string_equal(sent, "EHLO client.test\r\n"
				  "MAIL FROM:<a@example.org>\r\n"
				  "RCPT TO:<b@x>\r\nDATA\r\n");
	free(sent);
	smtp_outcome_clear(&rcpt.outcome);
}

/* A content source failure is still our own trouble (4.3.0), and a
 * server with 8BITMIME gets the deep message unchecked. */
static int
content_fails(void *source, smtp_piece_fn *out, void *ctx, struct err *err)
{
	(void)source;
	if (out("Subject: x", 10, true, ctx, err) < 0)
		return -1;
	err_set(err, "queue file: offset 9: bad record");
	return -1;
}

static void
test_other_failures(void **state)
{
	struct smtp_txn_rcpt rcpt;
	struct smtp_txn txn;
	struct smtp_outcome o = { 0 };
	struct err err;
	struct run r;
	char *sent;

	(void)state;
	run_open(&r, EHLO_7BIT TXN_OK, true);
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	txn_init(&txn, &rcpt, "8bit", message_8bit);
	txn.content = content_fails;
	assert_int_equal(smtp_session_send(r.s, &txn, &err), -1);
	assert_int_equal(rcpt.state, SMTP_RCPT_SOFT);
	assert_string_equal(rcpt.outcome.dsn, "4.3.0");
	assert_string_equal(rcpt.outcome.reason,
			    "queue file: offset 9: bad record");
	free(run_close(&r));
	smtp_outcome_clear(&rcpt.outcome);

	run_open(&r, EHLO_8BIT TXN_OK, true);
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	txn_init(&txn, &rcpt, "8bit", message_deep);
	assert_int_equal(smtp_session_send(r.s, &txn, &err), 0);
	assert_int_equal(rcpt.state, SMTP_RCPT_SENT);
	sent = run_close(&r);
	assert_non_null(strstr(sent, "\r\ndeep \351\r\n--d--\r\n.\r\n"));
	free(sent);
	smtp_outcome_clear(&rcpt.outcome);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_type),
		cmocka_unit_test(test_nesting_bounces),
		cmocka_unit_test(test_other_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
