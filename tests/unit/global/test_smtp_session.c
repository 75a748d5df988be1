/*
 * test_smtp_session.c - unit tests for the SMTP/LMTP client session over a
 * socketpair: the scripted peer's replies are written before the session
 * runs (the client reads them in order, pipelined or not), and what the
 * client wrote is compared afterwards, along with each recipient's state
 * and Postfix-worded reason.
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

#include "util/stream.h"

#include "global/rec_type.h"
#include "global/smtp_session.h"

#define NAMADDR "mx.test[192.0.2.1]"

static void
run_open(struct run *r, const char *replies, bool is_lmtp)
{
	run_conf(r);
	r->conf.is_lmtp = is_lmtp;
	run_start(r, replies);
}

static const char *const message[] = {
	"Subject: x", "", ".dot", "body", NULL,
};

static void
txn_init(struct smtp_txn *txn, struct smtp_txn_rcpt *rcpts, size_t count,
	 const char *const *addrs)
{
	memset(txn, 0, sizeof(*txn));
	memset(rcpts, 0, count * sizeof(*rcpts));
	for (size_t i = 0; i < count; i++) {
		rcpts[i].address = addrs[i];
		rcpts[i].dsn_orcpt = "";
	}
	txn->sender = "a@example.org";
	txn->size = 100;
	txn->dsn_envid = "";
	txn->rcpts = rcpts;
	txn->rcpt_count = count;
	txn->content = content_lines;
	txn->content_source = (void *)message;
}

static void
txn_deinit(struct smtp_txn *txn)
{
	for (size_t i = 0; i < txn->rcpt_count; i++)
		smtp_outcome_clear(&txn->rcpts[i].outcome);
}

static void
test_pipelined_mixed(void **state)
{
	static const char *const addrs[] = { "b@x", "c@x", "d@x" };
	struct smtp_txn_rcpt rcpts[3];
	struct smtp_txn txn;
	struct smtp_outcome o = { 0 };
	struct run r;
	char *sent;

	(void)state;
	run_open(&r, "220 mx ESMTP\r\n"
		     "250-mx\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
		     "250-DSN\r\n250 8BITMIME\r\n"
		     "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
		     "550 5.1.1 <c@x>: unknown\r\n451 4.3.0 later\r\n"
		     "354 go\r\n250 2.0.0 Ok: queued as Q1\r\n",
		 false);
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	assert_int_equal(smtp_session_features(r.s),
			 SMTP_FEATURE_ESMTP | SMTP_FEATURE_PIPELINING |
				 SMTP_FEATURE_SIZE | SMTP_FEATURE_DSN |
				 SMTP_FEATURE_8BITMIME);
	assert_int_equal(smtp_session_size_limit(r.s), 1000);
	txn_init(&txn, rcpts, 3, addrs);
	txn.dsn_ret = REC_DSN_RET_HDRS;
	txn.dsn_envid = "id+1";
	rcpts[0].dsn_notify = REC_DSN_NOTIFY_SUCCESS | REC_DSN_NOTIFY_FAILURE;
	rcpts[0].dsn_orcpt = "rfc822;b@x";
	assert_int_equal(smtp_session_send(r.s, &txn, NULL), 0);
	smtp_session_quit(r.s);
	assert_int_equal(rcpts[0].state, SMTP_RCPT_SENT);
	assert_string_equal(rcpts[0].outcome.reason,
			    "250 2.0.0 Ok: queued as Q1");
	assert_string_equal(rcpts[0].outcome.dsn, "2.0.0");
	assert_int_equal(rcpts[1].state, SMTP_RCPT_BOUNCE);
	assert_string_equal(rcpts[1].outcome.reason,
			    "host " NAMADDR " said: 550 5.1.1 <c@x>: unknown "
			    "(in reply to RCPT TO command)");
	assert_string_equal(rcpts[1].outcome.diag,
			    "smtp; 550 5.1.1 <c@x>: unknown");
	assert_int_equal(rcpts[2].state, SMTP_RCPT_SOFT);
	assert_string_equal(rcpts[2].outcome.dsn, "4.3.0");
	sent = run_close(&r);
	assert_string_equal(sent,
			    "EHLO client.test\r\n"
			    "MAIL FROM:<a@example.org> SIZE=100 RET=HDRS "
			    "ENVID=id+2B1\r\n"
			    "RCPT TO:<b@x> NOTIFY=SUCCESS,FAILURE "
			    "ORCPT=rfc822;b@x\r\n"
			    "RCPT TO:<c@x>\r\nRCPT TO:<d@x>\r\nDATA\r\n"
			    "Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\nQUIT\r\n");
	free(sent);
	txn_deinit(&txn);
}

static void
test_mail_refused_without_pipelining(void **state)
{
	static const char *const addrs[] = { "b@x", "c@x" };
	struct smtp_txn_rcpt rcpts[2];
	struct smtp_txn txn;
	struct smtp_outcome o = { 0 };
	struct run r;
	char *sent;

	(void)state;
	run_open(&r, "220 mx\r\n250 mx\r\n553 5.7.1 sender refused\r\n", false);
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	txn_init(&txn, rcpts, 2, addrs);
	assert_int_equal(smtp_session_send(r.s, &txn, NULL), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(rcpts[i].state, SMTP_RCPT_BOUNCE);
		assert_string_equal(rcpts[i].outcome.reason,
				    "host " NAMADDR " said: 553 5.7.1 sender "
				    "refused (in reply to MAIL FROM command)");
	}
	sent = run_close(&r);
	assert_string_equal(sent, "EHLO client.test\r\nMAIL FROM:<a@example.org>\r\n");
	free(sent);
	txn_deinit(&txn);
}

static void
test_helo_fallback_and_data_refused(void **state)
{
	static const char *const addrs[] = { "b@x" };
	struct smtp_txn_rcpt rcpts[1];
	struct smtp_txn txn;
	struct smtp_outcome o = { 0 };
	struct run r;
	char *sent;

	(void)state;
	run_open(&r, "220 mx\r\n502 what\r\n250 mx\r\n250 ok\r\n250 ok\r\n"
		     "451 4.3.0 no data now\r\n",
		 false);
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	assert_int_equal(smtp_session_features(r.s), 0);
	txn_init(&txn, rcpts, 1, addrs);
	assert_int_equal(smtp_session_send(r.s, &txn, NULL), 0);
	assert_int_equal(rcpts[0].state, SMTP_RCPT_SOFT);
	assert_string_equal(rcpts[0].outcome.reason,
			    "host " NAMADDR " said: 451 4.3.0 no data now "
			    "(in reply to DATA command)");
	sent = run_close(&r);
	assert_string_equal(sent, "EHLO client.test\r\nHELO client.test\r\n"
				  "MAIL FROM:<a@example.org>\r\n"
				  "RCPT TO:<b@x>\r\nDATA\r\n");
	free(sent);
	txn_deinit(&txn);
}

struct start_case {
	const char *replies;
	bool is_lmtp;
	int code;
	const char *reason;
};

static const struct start_case start_cases[] = {
	{ "421 4.3.2 busy\r\n", false, 421,
	  "host " NAMADDR " refused to talk to me: 421 4.3.2 busy" },
	{ "554 go away\r\n", false, 554,
	  "host " NAMADDR " refused to talk to me: 554 go away" },
	{ "220 mx\r\n502 no\r\n501 bad name\r\n", false, 501,
	  "host " NAMADDR " said: 501 bad name (in reply to HELO command)" },
	{ "220 mx\r\n421 bye\r\n", false, 421,
	  "host " NAMADDR " said: 421 bye (in reply to EHLO command)" },
	{ "220 mx\r\n500 no\r\n", true, 500,
	  "host " NAMADDR " said: 500 no (in reply to LHLO command)" },
	{ "", false, 0,
	  "lost connection with " NAMADDR
	  " while receiving the initial server greeting" },
	{ "220 no line end", false, 0,
	  "lost connection with " NAMADDR
	  " while receiving the initial server greeting" },
	{ "220 mx\r\n", false, 0,
	  "lost connection with " NAMADDR
	  " while performing the EHLO handshake" },
	{ "220 mx\r\n", true, 0,
	  "lost connection with " NAMADDR
	  " while performing the LHLO handshake" },
	{ "220 mx\r\ngarbage\r\n", false, 0,
	  "protocol error with " NAMADDR " while performing the EHLO "
	  "handshake: malformed reply line: \"garbage\"" },
	{ "220-mx\r\n250 mx\r\n", false, 0,
	  "protocol error with " NAMADDR " while receiving the initial "
	  "server greeting: mixed reply codes 220 and 250" },
};

static void
test_start_failures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(start_cases) / sizeof(start_cases[0]);
	     i++) {
		const struct start_case *c = &start_cases[i];
		struct smtp_outcome o = { 0 };
		struct run r;

		run_open(&r, c->replies, c->is_lmtp);
		shutdown(r.peer, SHUT_WR);
		assert_int_equal(smtp_session_start(r.s, &o), -1);
		assert_int_equal(o.code, c->code);
		assert_string_equal(o.reason, c->reason);
		smtp_outcome_clear(&o);
		free(run_close(&r));
	}
}

static void
test_timeout_and_lost(void **state)
{
	static const char *const addrs[] = { "b@x" };
	struct smtp_txn_rcpt rcpts[1];
	struct smtp_txn txn;
	struct smtp_outcome o = { 0 };
	struct run r;
	struct err err;

	(void)state;
	/* The server never answers MAIL. */
	run_open(&r, "220 mx\r\n250 mx\r\n", false);
	r.conf.timeout_ms[SMTP_STAGE_MAIL] = 100;
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	txn_init(&txn, rcpts, 1, addrs);
	assert_int_equal(smtp_session_send(r.s, &txn, &err), -1);
	assert_int_equal(rcpts[0].state, SMTP_RCPT_SOFT);
	assert_string_equal(rcpts[0].outcome.dsn, "4.4.2");
	assert_string_equal(rcpts[0].outcome.reason,
			    "conversation with " NAMADDR
			    " timed out while sending MAIL FROM");
	assert_string_equal(err.text, rcpts[0].outcome.reason);
	txn_deinit(&txn);
	free(run_close(&r));

	/* The server hangs up after accepting the recipient. */
	run_open(&r, "220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n", false);
	shutdown(r.peer, SHUT_WR);
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	txn_init(&txn, rcpts, 1, addrs);
	assert_int_equal(smtp_session_send(r.s, &txn, NULL), -1);
	assert_string_equal(rcpts[0].outcome.reason,
			    "lost connection with " NAMADDR
			    " while sending DATA command");
	txn_deinit(&txn);
	free(run_close(&r));
}

/* A kept connection: RSET, then the next transaction. */
struct reuse_case {
	const char *replies; /* after the greeting and EHLO */
	int rset_ret;
	const char *rset_reason; /* NULL when RSET succeeds */
	int send_ret;
	bool is_mail_failed;
	bool is_usable;
	const char *sent; /* after EHLO */
};

static const struct reuse_case reuse_cases[] = {
	{ "250 2.0.0 Ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n", 0,
	  NULL, 0, false, true,
	  "RSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@x>\r\nDATA\r\n"
	  "Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\n" },
	{ "421 4.7.0 closing\r\n", -1,
	  "host " NAMADDR " said: 421 4.7.0 closing (in reply to RSET "
	  "command)",
	  0, false, true, "RSET\r\n" },
	{ "", -1, "lost connection with " NAMADDR " while sending RSET", -1,
	  true, false, "RSET\r\n" },
	{ "250 ok\r\n", 0, NULL, -1, true, false,
	  "RSET\r\nMAIL FROM:<a@example.org>\r\n" },
	{ "250 ok\r\n452 4.3.1 full\r\n", 0, NULL, 0, true, true,
	  "RSET\r\nMAIL FROM:<a@example.org>\r\n" },
	{ "250 ok\r\n250 ok\r\n", 0, NULL, -1, false, false,
	  "RSET\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@x>\r\n" },
};

static void
test_rset_and_mail_failure(void **state)
{
	static const char *const addrs[] = { "b@x" };

	(void)state;
	for (size_t i = 0; i < sizeof(reuse_cases) / sizeof(reuse_cases[0]);
	     i++) {
		const struct reuse_case *c = &reuse_cases[i];
		struct smtp_txn_rcpt rcpts[1];
		struct smtp_txn txn;
		struct smtp_outcome o = { 0 };
		struct run r;
		char replies[512];
		char *sent;
		int ret;

		snprintf(replies, sizeof(replies), "220 mx\r\n250 mx\r\n%s",
			 c->replies);
		run_open(&r, replies, false);
		shutdown(r.peer, SHUT_WR);
		assert_int_equal(smtp_session_start(r.s, &o), 0);
		ret = smtp_session_rset(r.s, &o);
		assert_int_equal(ret, c->rset_ret);
		if (c->rset_reason != NULL)
			assert_string_equal(o.reason, c->rset_reason);
		smtp_outcome_clear(&o);
		txn_init(&txn, rcpts, 1, addrs);
		if (ret == 0 || !smtp_session_is_usable(r.s)) {
			assert_int_equal(smtp_session_send(r.s, &txn, NULL),
					 c->send_ret);
			assert_int_equal(txn.is_mail_failed, c->is_mail_failed);
		}
		assert_int_equal(smtp_session_is_usable(r.s), c->is_usable);
		sent = run_close(&r);
		assert_string_equal(sent + strlen("EHLO client.test\r\n"),
				    c->sent);
		free(sent);
		txn_deinit(&txn);
	}
}

static void
test_lmtp_per_recipient(void **state)
{
	static const char *const addrs[] = { "b@x", "c@x", "d@x" };
	struct smtp_txn_rcpt rcpts[3];
	struct smtp_txn txn;
	struct smtp_outcome o = { 0 };
	struct run r;
	char *sent;

	(void)state;
	run_open(&r, "220 lmtp\r\n250-lmtp\r\n250 PIPELINING\r\n"
		     "250 ok\r\n250 ok\r\n550 5.1.1 no c\r\n250 ok\r\n354 go\r\n"
		     "250 2.0.0 <b@x> saved\r\n452 4.2.2 <d@x> full\r\n",
		 true);
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	txn_init(&txn, rcpts, 3, addrs);
	assert_int_equal(smtp_session_send(r.s, &txn, NULL), 0);
	assert_int_equal(rcpts[0].state, SMTP_RCPT_SENT);
	assert_string_equal(rcpts[0].outcome.reason, "250 2.0.0 <b@x> saved");
	assert_int_equal(rcpts[1].state, SMTP_RCPT_BOUNCE);
	assert_int_equal(rcpts[2].state, SMTP_RCPT_SOFT);
	assert_string_equal(rcpts[2].outcome.reason,
			    "host " NAMADDR " said: 452 4.2.2 <d@x> full "
			    "(in reply to end of DATA command)");
	sent = run_close(&r);
	assert_non_null(strstr(sent, "LHLO client.test\r\n"));
	free(sent);
	txn_deinit(&txn);
}

static void
test_size_limit_and_smtputf8(void **state)
{
	static const char *const addrs[] = { "b@x" };
	struct smtp_txn_rcpt rcpts[1];
	struct smtp_txn txn;
	struct smtp_outcome o = { 0 };
	struct run r;
	char *sent;

	(void)state;
	run_open(&r, "220 mx\r\n250-mx\r\n250 SIZE 50\r\n", false);
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	txn_init(&txn, rcpts, 1, addrs);
	assert_int_equal(smtp_session_send(r.s, &txn, NULL), 0);
	assert_int_equal(rcpts[0].state, SMTP_RCPT_BOUNCE);
	assert_string_equal(rcpts[0].outcome.dsn, "5.3.4");
	assert_string_equal(rcpts[0].outcome.reason,
			    "message size 100 exceeds size limit 50 of server "
			    NAMADDR);
	txn_deinit(&txn);
	txn_init(&txn, rcpts, 1, addrs);
	txn.size = 10;
	txn.is_smtputf8 = txn.is_smtputf8_required = true;
	assert_int_equal(smtp_session_send(r.s, &txn, NULL), 0);
	assert_int_equal(rcpts[0].state, SMTP_RCPT_BOUNCE);
	assert_string_equal(rcpts[0].outcome.dsn, "5.6.7");
	assert_string_equal(rcpts[0].outcome.reason,
			    "SMTPUTF8 is required, but was not offered by "
			    "host " NAMADDR);
	sent = run_close(&r);
	assert_string_equal(sent, "EHLO client.test\r\n");
	free(sent);
	txn_deinit(&txn);
}

static const char *const long_message[] = { "abcdefghijklmnop", ".", NULL };

static void
test_long_lines_broken(void **state)
{
	static const char *const addrs[] = { "b@x" };
	struct smtp_txn_rcpt rcpts[1];
	struct smtp_txn txn;
	struct smtp_outcome o = { 0 };
	struct run r;
	char *sent;

	(void)state;
	run_open(&r, "220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n"
		     "250 done\r\n",
		 false);
	r.conf.line_length_limit = 6;
	r.conf.never_send_ehlo = true;
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	txn_init(&txn, rcpts, 1, addrs);
	txn.content_source = (void *)long_message;
	assert_int_equal(smtp_session_send(r.s, &txn, NULL), 0);
	assert_int_equal(rcpts[0].state, SMTP_RCPT_SENT);
	sent = run_close(&r);
	assert_non_null(strstr(sent, "HELO client.test\r\n"));
	assert_non_null(strstr(sent, "DATA\r\nabcdef\r\n ghijk\r\n lmnop\r\n"
				     "..\r\n.\r\n"));
	free(sent);
	txn_deinit(&txn);
}

/* A connection handed on: detached with its EHLO state, resumed (no
 * greeting, no EHLO) for an RSET and the next transaction. */
static void
test_detach_and_resume(void **state)
{
	static const char *const addrs[] = { "b@x" };
	static const char second[] = "250 reset\r\n250 ok\r\n250 ok\r\n"
				     "354 go\r\n250 sent 2\r\n";
	struct smtp_txn_rcpt rcpts[1];
	struct smtp_session_state st = { 0 };
	struct smtp_txn txn;
	struct smtp_outcome o = { 0 };
	struct run r;
	char *sent;
	int fd;

	(void)state;
	run_open(&r, "220 mx\r\n250-mx\r\n250-PIPELINING\r\n250 SIZE 500\r\n"
		     "250 ok\r\n250 ok\r\n354 go\r\n250 sent 1\r\n",
		 false);
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	txn_init(&txn, rcpts, 1, addrs);
	assert_int_equal(smtp_session_send(r.s, &txn, NULL), 0);
	txn_deinit(&txn);
	fd = smtp_session_detach(&r.s, &st);
	assert_true(fd >= 0);
	assert_null(r.s);
	assert_int_equal(st.features, SMTP_FEATURE_ESMTP |
					      SMTP_FEATURE_PIPELINING |
					      SMTP_FEATURE_SIZE);
	assert_int_equal(st.size_limit, 500);
	assert_false(st.is_helo);
	assert_int_equal(write(r.peer, second, strlen(second)),
			 (ssize_t)strlen(second));
	r.s = smtp_session_resume(fd, "mx.test", "192.0.2.1", &r.conf, &st);
	assert_int_equal(smtp_session_features(r.s), st.features);
	assert_int_equal(smtp_session_size_limit(r.s), 500);
	assert_int_equal(smtp_session_rset(r.s, &o), 0);
	txn_init(&txn, rcpts, 1, addrs);
	assert_int_equal(smtp_session_send(r.s, &txn, NULL), 0);
	assert_int_equal(rcpts[0].state, SMTP_RCPT_SENT);
	assert_string_equal(rcpts[0].outcome.reason, "250 sent 2");
	txn_deinit(&txn);
	sent = run_close(&r);
	assert_string_equal(sent,
			    "EHLO client.test\r\n"
			    "MAIL FROM:<a@example.org> SIZE=100\r\n"
			    "RCPT TO:<b@x>\r\nDATA\r\n"
			    "Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\n"
			    "RSET\r\n"
			    "MAIL FROM:<a@example.org> SIZE=100\r\n"
			    "RCPT TO:<b@x>\r\nDATA\r\n"
			    "Subject: x\r\n\r\n..dot\r\nbody\r\n.\r\n");
	free(sent);
}

/* Not handed on: bytes nobody asked for, or a broken session. */
static void
test_detach_refused(void **state)
{
	struct smtp_session_state st;
	struct smtp_outcome o = { 0 };
	struct run r;
	char *sent;

	(void)state;
	run_open(&r, "220 mx\r\n250 mx\r\n250 surprise\r\n", false);
	assert_int_equal(smtp_session_start(r.s, &o), 0);
	assert_int_equal(smtp_session_detach(&r.s, &st), -1);
	assert_non_null(r.s);
	free(run_close(&r));
	run_open(&r, "220 mx\r\n", false);
	shutdown(r.peer, SHUT_WR);
	assert_int_equal(smtp_session_start(r.s, &o), -1);
	smtp_outcome_clear(&o);
	assert_false(smtp_session_is_usable(r.s));
	assert_int_equal(smtp_session_detach(&r.s, &st), -1);
	assert_non_null(r.s);
	sent = run_close(&r);
	free(sent);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined_mixed),
		cmocka_unit_test(test_mail_refused_without_pipelining),
		cmocka_unit_test(test_helo_fallback_and_data_refused),
		cmocka_unit_test(test_start_failures),
		cmocka_unit_test(test_timeout_and_lost),
		cmocka_unit_test(test_rset_and_mail_failure),
		cmocka_unit_test(test_lmtp_per_recipient),
		cmocka_unit_test(test_size_limit_and_smtputf8),
		cmocka_unit_test(test_long_lines_broken),
		cmocka_unit_test(test_detach_and_resume),
		cmocka_unit_test(test_detach_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
