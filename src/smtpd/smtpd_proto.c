/*
 * smtpd_proto.c - the SMTP server's command loop and session commands.
 *
 * Reads one command at a time (replies are flushed only when the client's
 * pipelined input is used up), parses it with global/smtp_cmd, applies
 * the session state (HELO required, transaction in progress) and the
 * error accounting (smtpd_soft_error_limit, smtpd_hard_error_limit,
 * smtpd_junk_command_limit), and logs the session in Postfix's words:
 * "connect from", "lost connection after X", "timeout after X", "too
 * many errors after X" and "disconnect from ... commands=N".
 * The mail transaction lives in smtpd_mail.c, the policy in smtpd_check.c.
 * Security: every line is untrusted and bounded by line_length_limit.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/log.h"
#include "util/mymalloc.h"

#include "global/mail_addr.h"

#include "smtpd/smtpd.h"
#include "smtpd/smtpd_check.h"

/* Names of the counters, in the order of Postfix's disconnect line. */
static const char *const counter_names[SMTPD_CNT_COUNT] = {
	[SMTPD_CNT_HELO] = "helo", [SMTPD_CNT_EHLO] = "ehlo",
	[SMTPD_CNT_MAIL] = "mail", [SMTPD_CNT_RCPT] = "rcpt",
	[SMTPD_CNT_DATA] = "data", [SMTPD_CNT_BDAT] = "bdat",
	[SMTPD_CNT_RSET] = "rset", [SMTPD_CNT_NOOP] = "noop",
	[SMTPD_CNT_VRFY] = "vrfy", [SMTPD_CNT_ETRN] = "etrn",
	[SMTPD_CNT_QUIT] = "quit", [SMTPD_CNT_UNKNOWN] = "unknown",
};

static void
sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void
smtpd_reply(struct smtpd_session *sess, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&sess->reply);
	va_start(ap, fmt);
	(void)strbuf_vprintf(&sess->reply, fmt, ap);
	va_end(ap);
	if ((sess->reply.data[0] == '4' || sess->reply.data[0] == '5') &&
	    strncmp(sess->reply.data, "421", 3) != 0) {
		sess->error_count++;
		if (sess->error_count > sess->conf->soft_error_limit)
			sleep_ms(sess->conf->error_sleep_ms);
	}
	(void)stream_write(sess->stream, sess->reply.data, sess->reply.len);
	(void)stream_puts(sess->stream, "\r\n");
}

const char *
smtpd_queue_label(const struct smtpd_session *sess)
{
	return sess->queue_id != NULL ? sess->queue_id : "NOQUEUE";
}

/* " (N bytes)" while in DATA, as Postfix adds to lost/timeout lines. */
static void
where_text(const struct smtpd_session *sess, char *buf, size_t len)
{
	if (strcmp(sess->where, "DATA") == 0 && sess->data_bytes > 0)
		snprintf(buf, len, "DATA (%llu bytes)",
			 (unsigned long long)sess->data_bytes);
	else
		snprintf(buf, len, "%s", sess->where);
}

int
smtpd_read_line(struct smtpd_session *sess, enum stream_line_end *end)
{
	char where[64];
	int ret = stream_read_line(sess->stream, &sess->line, end);

	if (ret > 0)
		return 1;
	where_text(sess, where, sizeof(where));
	if (ret < 0 && stream_is_timeout(sess->stream)) {
		stream_clear_error(sess->stream);
		smtpd_reply(sess, "421 4.4.2 %s Error: timeout exceeded",
			    sess->conf->myhostname);
		(void)stream_flush(sess->stream);
		log_info("timeout after %s from %s", where, sess->namaddr);
		sess->end = SMTPD_END_TIMEOUT;
	} else {
		log_info("lost connection after %s from %s", where,
			 sess->namaddr);
		sess->end = SMTPD_END_LOST;
	}
	return 0;
}

static void
count(struct smtpd_session *sess, enum smtpd_counter counter, bool is_ok)
{
	sess->total_count[counter]++;
	if (is_ok)
		sess->ok_count[counter]++;
}

static void
log_disconnect(const struct smtpd_session *sess)
{
	struct strbuf line;
	unsigned ok = 0, total = 0;

	strbuf_init(&line, STRBUF_UNLIMITED);
	for (int i = 0; i < SMTPD_CNT_COUNT; i++) {
		if (sess->total_count[i] == 0)
			continue;
		ok += sess->ok_count[i];
		total += sess->total_count[i];
		(void)strbuf_printf(&line, " %s=%u", counter_names[i],
				    sess->ok_count[i]);
		if (sess->ok_count[i] != sess->total_count[i])
			(void)strbuf_printf(&line, "/%u", sess->total_count[i]);
	}
	(void)strbuf_printf(&line, " commands=%u", ok);
	if (ok != total)
		(void)strbuf_printf(&line, "/%u", total);
	log_info("disconnect from %s%s", sess->namaddr, line.data);
	strbuf_deinit(&line);
}

/* HELO and EHLO: a new session state; the transaction is forgotten. */
static void
helo_cmd(struct smtpd_session *sess, const struct smtp_cmd *cmd)
{
	const struct smtpd_conf *conf = sess->conf;
	bool is_ehlo = cmd->verb == SMTP_VERB_EHLO;
	const char *kw[] = {
		"PIPELINING",          "SIZE",     "VRFY", "ETRN",
		"ENHANCEDSTATUSCODES", "8BITMIME", "DSN",  "SMTPUTF8"
	};
	const char *want[sizeof(kw) / sizeof(kw[0])];
	size_t n = 0;

	smtpd_mail_reset(sess);
	free(sess->helo_name);
	sess->helo_name = xstrdup(cmd->arg);
	sess->protocol = is_ehlo ? "ESMTP" : "SMTP";
	/* smtpd_helo_restrictions here only with smtpd_delay_reject = no */
	if (smtpd_mail_policy(sess, is_ehlo ? "EHLO" : "HELO",
			      smtpd_check_helo, NULL) < 0) {
		free(sess->helo_name);
		sess->helo_name = NULL;
		count(sess, is_ehlo ? SMTPD_CNT_EHLO : SMTPD_CNT_HELO, false);
		return;
	}
	count(sess, is_ehlo ? SMTPD_CNT_EHLO : SMTPD_CNT_HELO, true);
	if (!is_ehlo) {
		smtpd_reply(sess, "250 %s", conf->myhostname);
		return;
	}
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
		bool is_discarded = false;

		for (size_t j = 0; j < conf->discard_ehlo->count; j++)
			if (strcasecmp(conf->discard_ehlo->items[j], kw[i]) ==
			    0)
				is_discarded = true;
		if ((strcmp(kw[i], "VRFY") == 0 && conf->is_vrfy_disabled) ||
		    (strcmp(kw[i], "SMTPUTF8") == 0 &&
		     !conf->is_smtputf8_enabled) ||
		    is_discarded)
			continue;
		want[n++] = kw[i];
	}
	stream_printf(sess->stream, "250%c%s\r\n", n > 0 ? '-' : ' ',
		      conf->myhostname);
	for (size_t i = 0; i < n; i++) {
		char sep = i + 1 < n ? '-' : ' ';

		if (strcmp(want[i], "SIZE") == 0 &&
		    conf->message_size_limit > 0)
			stream_printf(sess->stream, "250%cSIZE %lld\r\n", sep,
				      conf->message_size_limit);
		else
			stream_printf(sess->stream, "250%c%s\r\n", sep,
				      want[i]);
	}
}

static void
etrn_cmd(struct smtpd_session *sess, const struct smtp_cmd *cmd)
{
	const char *domain = cmd->arg;

	if (sess->conf->is_helo_required && sess->helo_name == NULL) {
		count(sess, SMTPD_CNT_ETRN, false);
		smtpd_reply(sess, "503 Error: send HELO/EHLO first");
		return;
	}
	if (sess->sender != NULL) {
		count(sess, SMTPD_CNT_ETRN, false);
		smtpd_reply(sess, "503 Error: MAIL transaction in progress");
		return;
	}
	if (*domain == '@' || *domain == '#')
		domain++;
	count(sess, SMTPD_CNT_ETRN, false);
	if (!mail_addr_domain_is_valid(domain, strlen(domain), false)) {
		smtpd_reply(sess, "501 Error: invalid parameter syntax");
		return;
	}
	/* No fast flush service yet: Postfix's answer for a domain that is
	 * not in fast_flush_domains (empty by default). */
	smtpd_reply(sess, "459 <%s>: service unavailable", domain);
}

static enum smtpd_counter
counter_of(enum smtp_verb verb)
{
	switch (verb) {
	case SMTP_VERB_HELO:
		return SMTPD_CNT_HELO;
	case SMTP_VERB_EHLO:
		return SMTPD_CNT_EHLO;
	case SMTP_VERB_MAIL:
		return SMTPD_CNT_MAIL;
	case SMTP_VERB_RCPT:
		return SMTPD_CNT_RCPT;
	case SMTP_VERB_DATA:
		return SMTPD_CNT_DATA;
	case SMTP_VERB_BDAT:
		return SMTPD_CNT_BDAT;
	case SMTP_VERB_RSET:
		return SMTPD_CNT_RSET;
	case SMTP_VERB_NOOP:
		return SMTPD_CNT_NOOP;
	case SMTP_VERB_VRFY:
		return SMTPD_CNT_VRFY;
	case SMTP_VERB_ETRN:
		return SMTPD_CNT_ETRN;
	case SMTP_VERB_QUIT:
		return SMTPD_CNT_QUIT;
	default:
		return SMTPD_CNT_UNKNOWN;
	}
}

/* Commands Postfix knows but we do not offer (no TLS, SASL, XCLIENT). */
static void
unoffered_cmd(struct smtpd_session *sess, const struct smtp_cmd *cmd)
{
	count(sess, SMTPD_CNT_UNKNOWN, false);
	switch (cmd->verb) {
	case SMTP_VERB_AUTH:
		smtpd_reply(sess,
			    "503 5.5.1 Error: authentication not enabled");
		break;
	case SMTP_VERB_XCLIENT:
	case SMTP_VERB_XFORWARD:
		smtpd_reply(sess,
			    "550 5.7.0 Error: insufficient authorization");
		break;
	default: /* STARTTLS, BDAT (no CHUNKING advertised) */
		smtpd_reply(sess, "502 5.5.1 Error: command not implemented");
		break;
	}
}

static bool
is_junk(enum smtp_verb verb)
{
	return verb == SMTP_VERB_NOOP || verb == SMTP_VERB_VRFY ||
	       verb == SMTP_VERB_ETRN || verb == SMTP_VERB_RSET;
}

static void
dispatch(struct smtpd_session *sess, const struct smtp_cmd *cmd)
{
	sess->where = smtp_verb_name(cmd->verb);
	if (is_junk(cmd->verb) &&
	    ++sess->junk_count > sess->conf->junk_command_limit)
		sess->error_count++;
	switch (cmd->verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
		helo_cmd(sess, cmd);
		break;
	case SMTP_VERB_MAIL:
		smtpd_mail_cmd(sess, cmd);
		break;
	case SMTP_VERB_RCPT:
		smtpd_rcpt_cmd(sess, cmd);
		break;
	case SMTP_VERB_DATA:
		smtpd_data_cmd(sess, cmd);
		break;
	case SMTP_VERB_RSET:
		smtpd_mail_reset(sess);
		count(sess, SMTPD_CNT_RSET, true);
		smtpd_reply(sess, "250 2.0.0 Ok");
		break;
	case SMTP_VERB_NOOP:
		count(sess, SMTPD_CNT_NOOP, true);
		smtpd_reply(sess, "250 2.0.0 Ok");
		break;
	case SMTP_VERB_QUIT:
		count(sess, SMTPD_CNT_QUIT, true);
		smtpd_reply(sess, "221 2.0.0 Bye");
		sess->end = SMTPD_END_QUIT;
		break;
	case SMTP_VERB_VRFY:
		smtpd_vrfy_cmd(sess, cmd);
		break;
	case SMTP_VERB_ETRN:
		etrn_cmd(sess, cmd);
		break;
	case SMTP_VERB_EXPN:
	case SMTP_VERB_HELP:
	case SMTP_VERB_UNKNOWN:
		count(sess, SMTPD_CNT_UNKNOWN, false);
		smtpd_reply(sess, "500 5.5.2 Error: command not recognized");
		break;
	default:
		unoffered_cmd(sess, cmd);
		break;
	}
}

/* Skip the rest of a line cut at line_length_limit. */
static int
discard_rest(struct smtpd_session *sess, enum stream_line_end end)
{
	while (end == STREAM_END_CUT)
		if (smtpd_read_line(sess, &end) == 0)
			return 0;
	return 1;
}

/* A line smtp_cmd_parse refused. Returns 0 when the session must end. */
static int
bad_command(struct smtpd_session *sess, enum smtp_cmd_status status,
	    const struct smtp_cmd *cmd, enum stream_line_end end)
{
	const char *reply = smtp_cmd_reply(status, cmd->verb);

	if (status == SMTP_CMD_ERR_EOF) {
		log_info("lost connection after %s from %s", sess->where,
			 sess->namaddr);
		sess->end = SMTPD_END_LOST;
		return 0;
	}
	if (status == SMTP_CMD_ERR_TOO_LONG && discard_rest(sess, end) == 0)
		return 0;
	count(sess,
	      status == SMTP_CMD_ERR_SYNTAX ? counter_of(cmd->verb)
					    : SMTPD_CNT_UNKNOWN,
	      false);
	if (status == SMTP_CMD_ERR_BARE_LF) {
		struct strbuf text;

		strbuf_init(&text, STRBUF_UNLIMITED);
		smtp_bare_lf_reply(&text, sess->conf->bare_lf_code,
				   sess->conf->myhostname);
		smtpd_reply(sess, "%s", text.data);
		strbuf_deinit(&text);
		log_info("disconnect: bare <LF> received from %s",
			 sess->namaddr);
	} else {
		smtpd_reply(sess, "%s", reply);
	}
	if (smtp_cmd_must_close(status, cmd->verb)) {
		sess->end = SMTPD_END_QUIT;
		return 0;
	}
	return 1;
}

/* State checks Postfix makes before a command's own syntax. */
static bool
state_allows(struct smtpd_session *sess, const struct smtp_cmd *cmd)
{
	bool is_mail_verb = cmd->verb == SMTP_VERB_MAIL ||
			    cmd->verb == SMTP_VERB_RCPT ||
			    cmd->verb == SMTP_VERB_DATA;

	if (!is_mail_verb)
		return true;
	sess->where = smtp_verb_name(cmd->verb);
	if (sess->conf->is_helo_required && sess->helo_name == NULL) {
		count(sess, counter_of(cmd->verb), false);
		smtpd_reply(sess, "503 5.5.1 Error: send HELO/EHLO first");
		return false;
	}
	if (cmd->verb == SMTP_VERB_MAIL && sess->sender != NULL) {
		count(sess, SMTPD_CNT_MAIL, false);
		smtpd_reply(sess, "503 5.5.1 Error: nested MAIL command");
		return false;
	}
	if (cmd->verb != SMTP_VERB_MAIL && sess->sender == NULL) {
		count(sess, counter_of(cmd->verb), false);
		smtpd_reply(sess, "503 5.5.1 Error: need MAIL command");
		return false;
	}
	if (cmd->verb == SMTP_VERB_DATA && sess->rcpt_count == 0) {
		count(sess, SMTPD_CNT_DATA, false);
		smtpd_reply(sess, "503 5.5.1 Error: need RCPT command");
		return false;
	}
	return true;
}

/* Commands after which RFC 2920 makes a client wait for the reply. */
static bool
is_group_end(enum smtp_verb verb)
{
	return verb == SMTP_VERB_HELO || verb == SMTP_VERB_EHLO ||
	       verb == SMTP_VERB_DATA || verb == SMTP_VERB_NOOP ||
	       verb == SMTP_VERB_VRFY || verb == SMTP_VERB_EXPN ||
	       verb == SMTP_VERB_STARTTLS;
}

/* Untrusted input for a log line: controls escaped, at most 100 bytes. */
static void
escape_input(struct strbuf *out, const char *data, size_t len)
{
	for (size_t i = 0; i < len && i < 100; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\r')
			(void)strbuf_append_str(out, "\\r");
		else if (c == '\n')
			(void)strbuf_append_str(out, "\\n");
		else if (c < 0x20 || c >= 0x7f || c == '\\')
			(void)strbuf_printf(out, "\\%03o", c);
		else
			(void)strbuf_append_char(out, c);
	}
}

/*
 * Input the client sent before it could have seen our reply: before the
 * greeting, after a command that ends a group (EHLO, DATA, ...), or any
 * pipelining without EHLO. Logged once; with
 * smtpd_forbid_unauth_pipelining the session ends with 554. Returns
 * false when it did.
 */
static bool
pipelining_ok(struct smtpd_session *sess, const struct smtp_cmd *cmd)
{
	size_t pending = stream_read_pending(sess->stream);
	const char *after = smtp_verb_name(cmd->verb);
	struct strbuf input;

	if (sess->is_stand_alone || sess->is_ill_pipelining)
		return true;
	/* Unknown commands cost errors already (smtpd_hard_error_limit). */
	if (!sess->is_early_talker &&
	    (pending == 0 || cmd->verb == SMTP_VERB_UNKNOWN ||
	     (strcmp(sess->protocol, "ESMTP") == 0 &&
	      !is_group_end(cmd->verb))))
		return true;
	strbuf_init(&input, STRBUF_UNLIMITED);
	if (sess->is_early_talker) {
		after = "CONNECT";
		escape_input(&input, sess->line.data, sess->line.len);
		(void)strbuf_append_str(&input, "\\r\\n");
	}
	escape_input(&input, stream_read_peek(sess->stream), pending);
	log_info("improper command pipelining after %s from %s: %s", after,
		 sess->namaddr, input.data);
	strbuf_deinit(&input);
	sess->is_early_talker = false;
	sess->is_ill_pipelining = true;
	if (!sess->conf->is_unauth_pipe_forbidden)
		return true;
	smtpd_reply(sess, "554 5.5.0 Error: SMTP protocol synchronization");
	sess->end = SMTPD_END_QUIT;
	return false;
}

static void
one_command(struct smtpd_session *sess)
{
	enum stream_line_end end;
	struct smtp_cmd cmd = { 0 };
	enum smtp_cmd_status status;
	int flags = sess->conf->is_smtputf8_enabled ? SMTP_CMD_FLAG_UTF8 : 0;

	if (smtpd_read_line(sess, &end) == 0)
		return;
	status = smtp_cmd_parse(sess->line.data, sess->line.len, end,
				sess->conf->bare_lf, flags, &cmd);
	if (status != SMTP_CMD_ERR_EOF)
		sess->where = smtp_verb_name(cmd.verb);
	/* The rest of an overlong line is not pipelined input. */
	if (status != SMTP_CMD_ERR_EOF && status != SMTP_CMD_ERR_TOO_LONG &&
	    !pipelining_ok(sess, &cmd)) {
		smtp_cmd_free(&cmd);
		return;
	}
	/* Postfix checks the state before a command's argument syntax. */
	if (status == SMTP_CMD_OK ||
	    (status == SMTP_CMD_ERR_SYNTAX && cmd.verb != SMTP_VERB_RCPT &&
	     cmd.verb != SMTP_VERB_MAIL)) {
		if (!state_allows(sess, &cmd)) {
			smtp_cmd_free(&cmd);
			return;
		}
	}
	if (status == SMTP_CMD_OK)
		dispatch(sess, &cmd);
	else
		(void)bad_command(sess, status, &cmd, end);
	smtp_cmd_free(&cmd);
}

static void
session_init(struct smtpd_session *sess, const struct smtpd_conf *conf,
	     struct stream *stream)
{
	struct strbuf namaddr;

	sess->conf = conf;
	sess->stream = stream;
	if (sock_peer_addr(stream_fd(stream), &sess->peer) < 0) {
		/* Not a socket (sendmail -bs): named as Postfix names it. */
		sess->name = xstrdup("localhost");
		sess->reverse_name = xstrdup("localhost");
		sess->name_status = sess->reverse_status = SMTPD_PEER_OK;
		strcpy(sess->peer.addr, "127.0.0.1");
		strcpy(sess->peer.port, "0");
		sess->is_stand_alone = true;
	} else {
		smtpd_peer_lookup(sess, conf->want_peername ? conf->dns : NULL);
	}
	if (sock_local_addr(stream_fd(stream), &sess->local) < 0)
		strcpy(sess->local.addr, "unknown");
	strbuf_init(&namaddr, STRBUF_UNLIMITED);
	(void)strbuf_printf(&namaddr, "%s[%s]", sess->name, sess->peer.addr);
	sess->namaddr = xstrdup(namaddr.data);
	strbuf_deinit(&namaddr);
	sess->where = "CONNECT";
	sess->protocol = "SMTP";
	strbuf_init(&sess->line, (size_t)conf->line_length_limit);
	strbuf_init(&sess->reply, STRBUF_UNLIMITED);
	stream_set_timeout(stream, conf->timeout_ms);
}

static void
session_deinit(struct smtpd_session *sess)
{
	smtpd_mail_reset(sess);
	free(sess->namaddr);
	free(sess->name);
	free(sess->reverse_name);
	free(sess->helo_name);
	strbuf_deinit(&sess->line);
	strbuf_deinit(&sess->reply);
}

/* Did the client talk before our greeting? */
static bool
has_early_input(const struct smtpd_session *sess)
{
	struct pollfd pfd = { .fd = stream_fd(sess->stream), .events = POLLIN };

	if (sess->is_stand_alone)
		return false;
	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) != 0;
}

void
smtpd_session_run(const struct smtpd_conf *conf, struct stream *stream)
{
	struct smtpd_session sess = { 0 };

	session_init(&sess, conf, stream);
	log_info("connect from %s", sess.namaddr);
	sess.is_early_talker = has_early_input(&sess);
	smtpd_reply(&sess, "220 %s", conf->banner);
	while (sess.end == SMTPD_END_NONE) {
		if (sess.error_count >= conf->hard_error_limit) {
			smtpd_reply(&sess,
				    "421 4.7.0 %s Error: too many errors",
				    conf->myhostname);
			log_info("too many errors after %s from %s", sess.where,
				 sess.namaddr);
			break;
		}
		one_command(&sess);
		if (stream_is_error(stream) && sess.end == SMTPD_END_NONE) {
			log_info("lost connection after %s from %s", sess.where,
				 sess.namaddr);
			sess.end = SMTPD_END_LOST;
		}
	}
	(void)stream_flush(stream);
	log_disconnect(&sess);
	session_deinit(&sess);
}
