/*
 * smtp_session.c - the SMTP/LMTP client protocol over one connection
 * (see smtp_session.h): greeting and EHLO here, the mail transaction in
 * smtp_txn.c.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/smtp_session_priv.h"
#include "util/log.h"
#include "util/mymalloc.h"

/* ------------------------------------------------------------------ */
/* Outcomes.                                                            */

void
smtp_outcome_clear(struct smtp_outcome *o)
{
	free(o->reason);
	free(o->diag);
	memset(o, 0, sizeof(*o));
}

void
smtp_outcome_move(struct smtp_outcome *dst, struct smtp_outcome *src)
{
	smtp_outcome_clear(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

void
smtp_outcome_set(struct smtp_outcome *o, const char *dsn, const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	smtp_outcome_clear(o);
	snprintf(o->dsn, sizeof(o->dsn), "%s", dsn);
	strbuf_init(&sb, ERR_TEXT_MAX);
	va_start(ap, fmt);
	(void)strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	o->reason = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
}

/* An outcome from the server's current reply. */
void
session_reply_outcome(struct smtp_session *s, struct smtp_outcome *o,
		      enum reply_wording wording, const char *command)
{
	const char *text;

	smtp_reply_oneline(&s->reply, &s->oneline);
	text = strbuf_text(&s->oneline);
	smtp_outcome_clear(o);
	o->code = s->reply.code;
	snprintf(o->dsn, sizeof(o->dsn), "%s", s->reply.dsn);
	if (wording == REPLY_SAID)
		o->reason = xasprintf("host %s said: %s (in reply to %s command)",
				      s->namaddr, text, command);
	else if (wording == REPLY_REFUSED)
		o->reason = xasprintf("host %s refused to talk to me: %s",
				      s->namaddr, text);
	else
		o->reason = xstrdup(text);
	o->diag = xasprintf("smtp; %s", text);
}

/* ------------------------------------------------------------------ */
/* Stages.                                                              */

static const char *
stage_activity(const struct smtp_session *s, enum smtp_stage stage)
{
	switch (stage) {
	case SMTP_STAGE_GREETING:
		return "receiving the initial server greeting";
	case SMTP_STAGE_HELO:
		return s->conf->is_lmtp ? "performing the LHLO handshake"
		       : s->is_helo	 ? "performing the HELO handshake"
					 : "performing the EHLO handshake";
	case SMTP_STAGE_MAIL:
		return "sending MAIL FROM";
	case SMTP_STAGE_RCPT:
		return "sending RCPT TO";
	case SMTP_STAGE_DATA:
		return "sending DATA command";
	case SMTP_STAGE_BODY:
		return "sending message body";
	case SMTP_STAGE_DOT:
		return "sending end of data -- message may be sent more than once";
	case SMTP_STAGE_RSET:
		return "sending RSET";
	default:
		return "sending QUIT";
	}
}

/* The connection failed at stage (errno-style cause): lost or timed out. */
void
session_broken(struct smtp_session *s, enum smtp_stage stage, int cause,
	       struct smtp_outcome *o)
{
	s->is_broken = true;
	if (cause == ETIMEDOUT)
		smtp_outcome_set(o, "4.4.2",
				 "conversation with %s timed out while %s",
				 s->namaddr, stage_activity(s, stage));
	else
		smtp_outcome_set(o, "4.4.2", "lost connection with %s while %s",
				 s->namaddr, stage_activity(s, stage));
}

/* The server's reply made no sense: the session is out of step. */
static void
session_protocol_error(struct smtp_session *s, enum smtp_stage stage,
		       const char *why, struct smtp_outcome *o)
{
	s->is_broken = true;
	smtp_outcome_set(o, "4.5.0", "protocol error with %s while %s: %s",
			 s->namaddr, stage_activity(s, stage), why);
}

/* ------------------------------------------------------------------ */
/* Reading and writing.                                                 */

int
session_read_reply(struct smtp_session *s, enum smtp_stage stage,
		   struct smtp_outcome *o)
{
	enum stream_line_end end;
	struct err err;
	int ret;

	smtp_reply_reset(&s->reply);
	stream_set_timeout(s->stream, s->conf->timeout_ms[stage]);
	do {
		ret = stream_read_line(s->stream, &s->line, &end);
		if (ret < 0 || ret == 0 || end == STREAM_END_EOF) {
			session_broken(s, stage,
				       ret < 0 ? stream_errno(s->stream) : EPIPE,
				       o);
			return -1;
		}
		ret = smtp_reply_feed(&s->reply, strbuf_text(&s->line),
				      strbuf_len(&s->line), end, &err);
		if (ret < 0) {
			session_protocol_error(s, stage, err.text, o);
			return -1;
		}
	} while (ret == 0);
	if (log_verbose() > 0) {
		smtp_reply_oneline(&s->reply, &s->oneline);
		log_debug("< %s: %s", s->namaddr, strbuf_text(&s->oneline));
	}
	return 0;
}

/* Queue one command line (CRLF added); sent at the next flush. */
int
session_write_command(struct smtp_session *s, enum smtp_stage stage,
		      const char *cmd, struct smtp_outcome *o)
{
	if (log_verbose() > 0)
		log_debug("> %s: %s", s->namaddr, cmd);
	stream_set_timeout(s->stream, s->conf->timeout_ms[stage]);
	if (stream_puts(s->stream, cmd) < 0 ||
	    stream_puts(s->stream, "\r\n") < 0) {
		session_broken(s, stage, stream_errno(s->stream), o);
		return -1;
	}
	return 0;
}

int
session_flush(struct smtp_session *s, enum smtp_stage stage,
	      struct smtp_outcome *o)
{
	stream_set_timeout(s->stream, s->conf->timeout_ms[stage]);
	if (stream_flush(s->stream) < 0) {
		session_broken(s, stage, stream_errno(s->stream), o);
		return -1;
	}
	return 0;
}

/* Send one command and read its reply. */
static int
session_command_reply(struct smtp_session *s, enum smtp_stage stage,
		      const char *cmd, struct smtp_outcome *o)
{
	if (session_write_command(s, stage, cmd, o) < 0 ||
	    session_flush(s, stage, o) < 0)
		return -1;
	return session_read_reply(s, stage, o);
}

/* ------------------------------------------------------------------ */
/* Life cycle and handshake.                                            */

struct smtp_session *
smtp_session_create(int fd, const char *host, const char *addr,
		    const struct smtp_session_conf *conf)
{
	struct smtp_session *s = xmalloc(sizeof(*s));

	s->stream = stream_open(fd, 0);
	s->conf = conf;
	s->namaddr = xasprintf("%s[%s]", host, addr);
	smtp_reply_init(&s->reply);
	strbuf_init(&s->line, conf->reply_line_limit > 0 ? conf->reply_line_limit
							  : 2048);
	strbuf_init(&s->oneline, ERR_TEXT_MAX - 200);
	return s;
}

void
smtp_session_destroy(struct smtp_session **sp)
{
	struct smtp_session *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	if (s->stream != NULL) { /* NULL after smtp_session_detach */
		stream_set_timeout(s->stream, 0);
		(void)stream_close(&s->stream);
	}
	smtp_reply_deinit(&s->reply);
	strbuf_deinit(&s->line);
	strbuf_deinit(&s->oneline);
	free(s->namaddr);
	free(s);
}

const char *
smtp_session_namaddr(const struct smtp_session *s)
{
	return s->namaddr;
}

unsigned
smtp_session_features(const struct smtp_session *s)
{
	return s->features;
}

long long
smtp_session_size_limit(const struct smtp_session *s)
{
	return s->size_limit;
}

/* "SIZE 10240000": a missing or bad number means no announced limit. */
static long long
parse_size(const char *arg, size_t len)
{
	long long n = 0;

	while (len > 0 && *arg == ' ')
		arg++, len--;
	for (size_t i = 0; i < len && isdigit((unsigned char)arg[i]); i++) {
		if (n > (LLONG_MAX - 9) / 10)
			return 0;
		n = n * 10 + (arg[i] - '0');
	}
	return n;
}

static bool
keyword_is(const char *text, size_t len, const char *word, size_t *rest_out)
{
	size_t n = strlen(word);

	if (len < n || strncasecmp(text, word, n) != 0)
		return false;
	if (len > n && text[n] != ' ' && text[n] != '=')
		return false;
	*rest_out = n;
	return true;
}

/* The EHLO/LHLO reply: one extension per line after the first. */
static void
session_parse_features(struct smtp_session *s)
{
	const char *text;
	size_t len, rest;

	s->features = SMTP_FEATURE_ESMTP;
	for (size_t i = 1; smtp_reply_line(&s->reply, i, &text, &len); i++) {
		if (keyword_is(text, len, "SIZE", &rest)) {
			s->features |= SMTP_FEATURE_SIZE;
			s->size_limit = parse_size(text + rest, len - rest);
		} else if (keyword_is(text, len, "PIPELINING", &rest)) {
			s->features |= SMTP_FEATURE_PIPELINING;
		} else if (keyword_is(text, len, "8BITMIME", &rest)) {
			s->features |= SMTP_FEATURE_8BITMIME;
		} else if (keyword_is(text, len, "DSN", &rest)) {
			s->features |= SMTP_FEATURE_DSN;
		} else if (keyword_is(text, len, "SMTPUTF8", &rest)) {
			s->features |= SMTP_FEATURE_SMTPUTF8;
		}
	}
}

static int
session_helo(struct smtp_session *s, struct smtp_outcome *o)
{
	char *cmd;
	int ret;

	s->is_helo = true;
	cmd = xasprintf("HELO %s", s->conf->helo_name);
	ret = session_command_reply(s, SMTP_STAGE_HELO, cmd, o);
	free(cmd);
	if (ret < 0)
		return -1;
	if (s->reply.code / 100 != 2) {
		session_reply_outcome(s, o, REPLY_SAID, "HELO");
		return -1;
	}
	return 0;
}

static int
session_ehlo(struct smtp_session *s, struct smtp_outcome *o)
{
	const char *verb = s->conf->is_lmtp ? "LHLO" : "EHLO";
	char *cmd = xasprintf("%s %s", verb, s->conf->helo_name);
	int ret = session_command_reply(s, SMTP_STAGE_HELO, cmd, o);

	free(cmd);
	if (ret < 0)
		return -1;
	if (s->reply.code / 100 == 2) {
		session_parse_features(s);
		return 0;
	}
	/* A server that does not know EHLO says 5xx: try HELO. */
	if (s->conf->is_lmtp || s->reply.code / 100 != 5) {
		session_reply_outcome(s, o, REPLY_SAID, verb);
		return -1;
	}
	return session_helo(s, o);
}

int
smtp_session_start(struct smtp_session *s, struct smtp_outcome *out)
{
	if (session_read_reply(s, SMTP_STAGE_GREETING, out) < 0)
		return -1;
	if (s->reply.code / 100 != 2) {
		session_reply_outcome(s, out, REPLY_REFUSED, NULL);
		return -1;
	}
	if (s->conf->never_send_ehlo && !s->conf->is_lmtp)
		return session_helo(s, out);
	return session_ehlo(s, out);
}

void
smtp_session_quit(struct smtp_session *s)
{
	struct smtp_outcome o = { 0 };

	if (s->is_broken)
		return;
	if (session_write_command(s, SMTP_STAGE_QUIT, "QUIT", &o) == 0)
		(void)session_flush(s, SMTP_STAGE_QUIT, &o);
	smtp_outcome_clear(&o);
}

int
smtp_session_rset(struct smtp_session *s, struct smtp_outcome *out)
{
	if (s->is_broken) {
		smtp_outcome_set(out, "4.4.2",
				 "lost connection with %s while sending RSET",
				 s->namaddr);
		return -1;
	}
	if (session_command_reply(s, SMTP_STAGE_RSET, "RSET", out) < 0)
		return -1;
	if (s->reply.code / 100 != 2) {
		session_reply_outcome(s, out, REPLY_SAID, "RSET");
		return -1;
	}
	return 0;
}

bool
smtp_session_is_usable(const struct smtp_session *s)
{
	return !s->is_broken;
}

int
smtp_session_detach(struct smtp_session **sp,
		    struct smtp_session_state *state_out)
{
	struct smtp_session *s = *sp;
	int fd;

	if (s->is_broken || stream_read_pending(s->stream) > 0 ||
	    stream_write_pending(s->stream) > 0)
		return -1;
	state_out->features = s->features;
	state_out->size_limit = s->size_limit;
	state_out->is_helo = s->is_helo;
	fd = stream_detach(&s->stream);
	smtp_session_destroy(sp);
	return fd;
}

struct smtp_session *
smtp_session_resume(int fd, const char *host, const char *addr,
		    const struct smtp_session_conf *conf,
		    const struct smtp_session_state *state)
{
	struct smtp_session *s = smtp_session_create(fd, host, addr, conf);

	s->features = state->features;
	s->size_limit = state->size_limit;
	s->is_helo = state->is_helo;
	return s;
}
