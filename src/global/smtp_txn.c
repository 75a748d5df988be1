/*
 * smtp_txn.c - one SMTP/LMTP mail transaction (see smtp_session.h):
 * MAIL, RCPT and DATA (pipelined when the server offers it), the content
 * with dot-stuffing and CRLF line ends (converted to 7-bit MIME first
 * for a server without 8BITMIME, see mime_downgrade.h), the final dot and
 * its reply or, for LMTP, one reply per accepted recipient.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "global/mail_addr.h"
#include "global/mime_downgrade.h"
#include "global/rec_type.h"
#include "global/smtp_session_priv.h"
#include "global/xtext.h"
#include "util/mymalloc.h"

/* Commands written before their replies are read, at most. */
#define PIPELINE_WINDOW 100

/* What one transaction has learned so far. */
struct txn_state {
	struct smtp_session *s;
	struct smtp_txn *txn;
	size_t pending[PIPELINE_WINDOW]; /* rcpt index, or a marker */
	enum smtp_stage pending_stage[PIPELINE_WINDOW];
	size_t pending_count;
	bool is_mail_refused;
	bool is_mail_answered;
	bool is_data_ok; /* DATA got 354 */
	bool is_data_refused;
	size_t accepted;
	struct smtp_outcome failure; /* the whole transaction's, if any */
};

static bool
is_todo(const struct smtp_txn_rcpt *r)
{
	return r->state == SMTP_RCPT_TODO;
}

/* Give outcome o to every recipient still without a final outcome. */
static void
txn_fail_all(struct smtp_txn *txn, const struct smtp_outcome *o,
	     bool only_accepted)
{
	for (size_t i = 0; i < txn->rcpt_count; i++) {
		struct smtp_txn_rcpt *r = &txn->rcpts[i];

		if (!is_todo(r) || (only_accepted && !r->is_accepted))
			continue;
		smtp_outcome_clear(&r->outcome);
		r->outcome.code = o->code;
		memcpy(r->outcome.dsn, o->dsn, sizeof(o->dsn));
		r->outcome.reason = xstrdup(o->reason ? o->reason : "");
		r->outcome.diag = o->diag ? xstrdup(o->diag) : NULL;
		r->state = o->code / 100 == 5 ? SMTP_RCPT_BOUNCE
						 : SMTP_RCPT_SOFT;
	}
}

/* ------------------------------------------------------------------ */
/* Commands.                                                            */

static char *
mail_command(const struct smtp_session *s, const struct smtp_txn *txn)
{
	struct strbuf sb;
	char *quoted = mail_addr_quote(txn->sender);
	char *cmd;

	strbuf_init(&sb, STRBUF_UNLIMITED);
	(void)strbuf_printf(&sb, "MAIL FROM:<%s>", quoted);
	free(quoted);
	if ((s->features & SMTP_FEATURE_SIZE) && txn->size > 0)
		(void)strbuf_printf(&sb, " SIZE=%lld", txn->size);
	if ((s->features & SMTP_FEATURE_8BITMIME) && txn->is_8bit)
		(void)strbuf_append_str(&sb, " BODY=8BITMIME");
	else if ((s->features & SMTP_FEATURE_8BITMIME) && txn->is_7bit)
		(void)strbuf_append_str(&sb, " BODY=7BIT");
	if ((s->features & SMTP_FEATURE_SMTPUTF8) && txn->is_smtputf8)
		(void)strbuf_append_str(&sb, " SMTPUTF8");
	if (s->features & SMTP_FEATURE_DSN) {
		if (txn->dsn_ret == REC_DSN_RET_FULL)
			(void)strbuf_append_str(&sb, " RET=FULL");
		else if (txn->dsn_ret == REC_DSN_RET_HDRS)
			(void)strbuf_append_str(&sb, " RET=HDRS");
		if (txn->dsn_envid[0] != 0) {
			(void)strbuf_append_str(&sb, " ENVID=");
			(void)xtext_encode(txn->dsn_envid,
					   strlen(txn->dsn_envid), &sb);
		}
	}
	cmd = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
	return cmd;
}

static void
append_notify(struct strbuf *sb, int notify)
{
	static const struct {
		int bit;
		const char *word;
	} words[] = {
		{ REC_DSN_NOTIFY_SUCCESS, "SUCCESS" },
		{ REC_DSN_NOTIFY_FAILURE, "FAILURE" },
		{ REC_DSN_NOTIFY_DELAY, "DELAY" },
	};
	const char *sep = " NOTIFY=";

	if (notify & REC_DSN_NOTIFY_NEVER) {
		(void)strbuf_append_str(sb, " NOTIFY=NEVER");
		return;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (notify & words[i].bit) {
			(void)strbuf_append_str(sb, sep);
			(void)strbuf_append_str(sb, words[i].word);
			sep = ",";
		}
	}
}

static char *
rcpt_command(const struct smtp_session *s, const struct smtp_txn_rcpt *r)
{
	struct strbuf sb;
	char *quoted = mail_addr_quote(r->address);
	const char *orcpt = r->dsn_orcpt;
	const char *semi;
	char *cmd;

	strbuf_init(&sb, STRBUF_UNLIMITED);
	(void)strbuf_printf(&sb, "RCPT TO:<%s>", quoted);
	free(quoted);
	if (s->features & SMTP_FEATURE_DSN) {
		append_notify(&sb, r->dsn_notify);
		if (orcpt[0] != 0 && (semi = strchr(orcpt, ';')) != NULL) {
			(void)strbuf_append_str(&sb, " ORCPT=");
			(void)strbuf_append(&sb, orcpt, (size_t)(semi - orcpt + 1));
			(void)xtext_encode(semi + 1, strlen(semi + 1), &sb);
		}
	}
	cmd = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
	return cmd;
}

/* ------------------------------------------------------------------ */
/* Pipelined replies.                                                   */

static void
reply_to_mail(struct txn_state *t)
{
	struct smtp_session *s = t->s;

	if (s->reply.code / 100 == 2)
		return;
	t->is_mail_refused = true;
	session_reply_outcome(s, &t->failure, REPLY_SAID, "MAIL FROM");
}

static void
reply_to_rcpt(struct txn_state *t, size_t index)
{
	struct smtp_session *s = t->s;
	struct smtp_txn_rcpt *r = &t->txn->rcpts[index];

	if (t->is_mail_refused)
		return; /* the MAIL reply decides */
	if (s->reply.code / 100 == 2 && t->txn->is_verify) {
		session_reply_outcome(s, &r->outcome, REPLY_PLAIN, NULL);
		r->state = SMTP_RCPT_SENT; /* "deliverable (250 ...)" */
		return;
	}
	if (s->reply.code / 100 == 2) {
		r->is_accepted = true;
		t->accepted++;
		return;
	}
	session_reply_outcome(s, &r->outcome, REPLY_SAID, "RCPT TO");
	r->state = s->reply.code / 100 == 5 ? SMTP_RCPT_BOUNCE : SMTP_RCPT_SOFT;
}

static void
reply_to_data(struct txn_state *t)
{
	struct smtp_session *s = t->s;

	if (s->reply.code == 354) {
		t->is_data_ok = true;
		return;
	}
	t->is_data_refused = true;
	if (!t->is_mail_refused)
		session_reply_outcome(s, &t->failure, REPLY_SAID, "DATA");
}

/* Read the replies to every command written so far. */
static int
txn_drain(struct txn_state *t)
{
	struct smtp_session *s = t->s;

	if (t->pending_count > 0 &&
	    session_flush(s, t->pending_stage[0], &t->failure) < 0)
		return -1;
	for (size_t i = 0; i < t->pending_count; i++) {
		enum smtp_stage stage = t->pending_stage[i];

		if (session_read_reply(s, stage, &t->failure) < 0)
			return -1;
		if (stage == SMTP_STAGE_MAIL) {
			t->is_mail_answered = true;
			reply_to_mail(t);
		} else if (stage == SMTP_STAGE_RCPT)
			reply_to_rcpt(t, t->pending[i]);
		else
			reply_to_data(t);
	}
	t->pending_count = 0;
	return 0;
}

/* Write a command; read the replies when the window is full. */
static int
txn_command(struct txn_state *t, enum smtp_stage stage, const char *cmd,
	    size_t index)
{
	bool is_pipelining = t->s->features & SMTP_FEATURE_PIPELINING;

	if (session_write_command(t->s, stage, cmd, &t->failure) < 0)
		return -1;
	t->pending[t->pending_count] = index;
	t->pending_stage[t->pending_count] = stage;
	t->pending_count++;
	if (!is_pipelining || t->pending_count == PIPELINE_WINDOW)
		return txn_drain(t);
	return 0;
}

/* MAIL, RCPT..., DATA: 0 when the server waits for content or refused
 * everything in step, -1 when the connection broke. */
static int
txn_envelope(struct txn_state *t)
{
	struct smtp_txn *txn = t->txn;
	char *cmd = mail_command(t->s, txn);
	int ret = txn_command(t, SMTP_STAGE_MAIL, cmd, 0);

	free(cmd);
	for (size_t i = 0; ret == 0 && i < txn->rcpt_count; i++) {
		if (t->is_mail_refused)
			break;
		if (!is_todo(&txn->rcpts[i]))
			continue;
		cmd = rcpt_command(t->s, &txn->rcpts[i]);
		ret = txn_command(t, SMTP_STAGE_RCPT, cmd, i);
		free(cmd);
	}
	if (ret < 0)
		return -1;
	/* Without pipelining, DATA only when some recipient was accepted;
	 * a probe (sendmail -bv) ends with the RCPT replies. */
	if (!txn->is_verify &&
	    ((t->s->features & SMTP_FEATURE_PIPELINING) ||
	     (!t->is_mail_refused && t->accepted > 0)))
		ret = txn_command(t, SMTP_STAGE_DATA, "DATA", 0);
	if (ret == 0)
		ret = txn_drain(t);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Content.                                                             */

struct body_writer {
	struct smtp_session *s;
	bool is_line_start;
	size_t column;
};

static int
body_put(struct body_writer *w, const void *data, size_t len)
{
	return stream_write(w->s->stream, data, len);
}

static int
body_piece(const char *data, size_t len, bool is_line_end, void *ctx,
	   struct err *err)
{
	struct body_writer *w = ctx;
	size_t limit = w->s->conf->line_length_limit;

	(void)err;
	if (w->is_line_start && len > 0 && data[0] == '.' &&
	    body_put(w, ".", 1) < 0)
		return -2;
	while (limit > 0 && w->column + len > limit) {
		size_t room = limit - w->column;

		/* Break an over-long line as Postfix does: CRLF SPACE. */
		if (body_put(w, data, room) < 0 || body_put(w, "\r\n ", 3) < 0)
			return -2;
		data += room;
		len -= room;
		w->column = 1;
	}
	if (body_put(w, data, len) < 0)
		return -2;
	w->column += len;
	w->is_line_start = is_line_end || (w->is_line_start && len == 0);
	if (is_line_end) {
		w->column = 0;
		if (body_put(w, "\r\n", 2) < 0)
			return -2;
	}
	return 0;
}

/* Content pieces through the 8-bit to 7-bit converter. */
static int
downgrade_piece(const char *data, size_t len, bool is_line_end, void *ctx,
		struct err *err)
{
	return mime_downgrade_feed(ctx, data, len, is_line_end, err);
}

/* As Postfix: the server lacks 8BITMIME, the message is not 7bit. */
static bool
want_downgrade(const struct smtp_session *s, const struct smtp_txn *txn)
{
	return s->conf->want_mime_downgrade &&
	       !(s->features & SMTP_FEATURE_8BITMIME) && !txn->is_7bit;
}

/* The content, as it is or converted: 0, or < 0 with *is_mime_error_out
 * true when the converter refused the MIME structure (not a write or a
 * queue file failure). */
static int
body_content(struct txn_state *t, struct body_writer *w,
	     bool *is_mime_error_out, struct err *err)
{
	struct smtp_txn *txn = t->txn;
	struct mime_downgrade *md;
	int ret;

	*is_mime_error_out = false;
	if (!want_downgrade(t->s, txn))
		return txn->content(txn->content_source, body_piece, w, err);
	md = mime_downgrade_create(&t->s->conf->mime_limits, body_piece, w);
	ret = txn->content(txn->content_source, downgrade_piece, md, err);
	if (ret == 0)
		ret = mime_downgrade_finish(md, err);
	*is_mime_error_out = ret < 0 && mime_downgrade_is_mime_error(md);
	mime_downgrade_destroy(&md);
	return ret;
}

/* The converter refused the content: every recipient still waiting
 * bounces, without a server reply (as txn_precheck's refusals). */
static void
txn_mime_bounce(struct txn_state *t, const char *text)
{
	struct smtp_txn *txn = t->txn;

	for (size_t i = 0; i < txn->rcpt_count; i++) {
		struct smtp_txn_rcpt *r = &txn->rcpts[i];

		if (!is_todo(r))
			continue;
		smtp_outcome_clear(&r->outcome);
		smtp_outcome_set(&r->outcome, "5.6.0", "%s", text);
		r->state = SMTP_RCPT_BOUNCE;
	}
	smtp_outcome_set(&t->failure, "5.6.0", "%s", text);
}

/* The content, then the final dot. 0, or -1 (t->failure set). */
static int
txn_body(struct txn_state *t, struct err *err)
{
	struct body_writer w = { .s = t->s, .is_line_start = true };
	struct smtp_session *s = t->s;
	bool is_mime_error;
	int ret;

	stream_set_timeout(s->stream, s->conf->timeout_ms[SMTP_STAGE_BODY]);
	ret = body_content(t, &w, &is_mime_error, err);
	if (ret < 0 && is_mime_error) {
		/* Never send the dot for a message we could not convert. */
		s->is_broken = true;
		txn_mime_bounce(t, err->text);
		return -1;
	}
	if (ret < 0 && stream_is_error(s->stream)) {
		session_broken(s, SMTP_STAGE_BODY, stream_errno(s->stream),
			       &t->failure);
		return -1;
	}
	if (ret < 0) {
		/* Our own trouble: never send the dot for a partial message. */
		s->is_broken = true;
		smtp_outcome_set(&t->failure, "4.3.0", "%s", err->text);
		return -1;
	}
	if (!w.is_line_start && body_put(&w, "\r\n", 2) < 0) {
		session_broken(s, SMTP_STAGE_BODY, stream_errno(s->stream),
			       &t->failure);
		return -1;
	}
	if (session_write_command(s, SMTP_STAGE_DOT, ".", &t->failure) < 0 ||
	    session_flush(s, SMTP_STAGE_DOT, &t->failure) < 0)
		return -1;
	return 0;
}

/* One reply to the final dot decides for rcpt (LMTP) or for all. */
static void
dot_outcome(struct txn_state *t, struct smtp_txn_rcpt *r)
{
	struct smtp_session *s = t->s;

	if (s->reply.code / 100 == 2) {
		session_reply_outcome(s, &r->outcome, REPLY_PLAIN, NULL);
		r->state = SMTP_RCPT_SENT;
		return;
	}
	session_reply_outcome(s, &r->outcome, REPLY_SAID, "end of DATA");
	r->state = s->reply.code / 100 == 5 ? SMTP_RCPT_BOUNCE : SMTP_RCPT_SOFT;
}

static int
txn_dot_replies(struct txn_state *t)
{
	struct smtp_txn *txn = t->txn;
	struct smtp_session *s = t->s;
	bool is_read = false;

	for (size_t i = 0; i < txn->rcpt_count; i++) {
		struct smtp_txn_rcpt *r = &txn->rcpts[i];

		if (!is_todo(r) || !r->is_accepted)
			continue;
		if ((s->conf->is_lmtp || !is_read) &&
		    session_read_reply(s, SMTP_STAGE_DOT, &t->failure) < 0)
			return -1;
		is_read = true;
		dot_outcome(t, r);
	}
	return 0;
}

/* ------------------------------------------------------------------ */

/* Refuse the transaction before it starts: every recipient, one reason. */
static bool
txn_precheck(struct smtp_session *s, struct smtp_txn *txn)
{
	struct smtp_outcome o = { 0 };

	if (s->size_limit > 0 && txn->size > s->size_limit)
		smtp_outcome_set(&o, "5.3.4",
				 "message size %lld exceeds size limit %lld of server %s",
				 txn->size, s->size_limit, s->namaddr);
	else if (txn->is_smtputf8_required &&
		 !(s->features & SMTP_FEATURE_SMTPUTF8))
		smtp_outcome_set(&o, "5.6.7",
				 "SMTPUTF8 is required, but was not offered by host %s",
				 s->namaddr);
	else
		return true;
	o.code = 554; /* a permanent refusal, for txn_fail_all */
	txn_fail_all(txn, &o, false);
	for (size_t i = 0; i < txn->rcpt_count; i++)
		txn->rcpts[i].outcome.code = 0;
	smtp_outcome_clear(&o);
	return false;
}

int
smtp_session_send(struct smtp_session *s, struct smtp_txn *txn,
		  struct err *err)
{
	struct txn_state t = { .s = s, .txn = txn };
	struct err scratch;
	int ret = 0;

	if (err == NULL)
		err = &scratch;
	err_clear(err);
	txn->is_mail_failed = s->is_broken;
	if (s->is_broken || !txn_precheck(s, txn))
		return s->is_broken ? -1 : 0;
	if (txn_envelope(&t) < 0) {
		ret = -1;
	} else if (t.is_mail_refused || t.is_data_refused) {
		txn_fail_all(txn, &t.failure, t.is_data_refused &&
						       !t.is_mail_refused);
		/* A 354 after all: do not send the message; hang up. */
		ret = t.is_data_ok ? -1 : 0;
	} else if (t.accepted == 0) {
		ret = t.is_data_ok ? -1 : 0;
	} else if (txn_body(&t, err) < 0 || txn_dot_replies(&t) < 0) {
		ret = -1;
	}
	txn->is_mail_failed = t.is_mail_refused ||
			      (ret < 0 && !t.is_mail_answered);
	if (ret < 0 && t.failure.reason != NULL)
		txn_fail_all(txn, &t.failure, false);
	if (ret < 0 && err->text[0] == 0)
		snprintf(err->text, sizeof(err->text), "%s",
			 t.failure.reason ? t.failure.reason : "session broken");
	if (ret < 0)
		s->is_broken = true;
	smtp_outcome_clear(&t.failure);
	return ret;
}
