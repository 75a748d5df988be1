/*
 * smtpd_mail.c - the SMTP mail transaction: MAIL, RCPT, VRFY and DATA.
 *
 * The cleanup connection is opened at the first accepted recipient, as
 * Postfix does with smtpd_delay_open_until_valid_rcpt = yes: a session
 * that never names a valid recipient costs no queue file, and the queue
 * ID appears in the log ("QUEUEID: client=...") at the same point as in
 * Postfix. Sender, client attributes and each accepted recipient are
 * streamed to cleanup as they come; DATA adds our Received: header and
 * the unstuffed content. The client hears "250 ... queued as" only when
 * cleanup_finish says the file is complete and on disk.
 * Security: addresses and content are untrusted; addresses go through
 * mail_addr, content through smtp_data (smuggling-proof end of data),
 * sizes are bounded by message_size_limit.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/statvfs.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/log.h"
#include "util/mymalloc.h"

#include "global/header_fix.h"
#include "global/mail_addr.h"
#include "global/smtp_data.h"

#include "global/rec_type.h"
#include "smtpd/smtpd.h"
#include "smtpd/smtpd_check.h"

#define REPLY_WRITE_ERROR "451 4.3.0 Error: queue file write error"
#define REPLY_TOO_BIG "552 5.3.4 Message size exceeds fixed limit"
#define REPLY_NO_SPACE "452 4.3.1 Insufficient system storage"

void
smtpd_mail_reset(struct smtpd_session *sess)
{
	free(sess->sender);
	sess->sender = NULL;
	esmtp_param_free(&sess->mail);
	free(sess->first_rcpt);
	sess->first_rcpt = NULL;
	sess->rcpt_count = 0;
	cleanup_abort(&sess->cleanup);
	free(sess->queue_id);
	sess->queue_id = NULL;
	sess->is_queue_broken = false;
	sess->data_bytes = 0;
	sess->act_hold = sess->act_discard = false;
	free(sess->act_filter);
	free(sess->act_redirect);
	sess->act_filter = sess->act_redirect = NULL;
	argv_destroy(&sess->act_bcc);
	argv_destroy(&sess->act_prepend);
}

/* Keep an action event ("=hold", "=bcc" ARG, ...) for DATA. */
static void
action_take(struct smtpd_session *sess, const char *name, const char *arg)
{
	struct argv **list = NULL;

	if (strcmp(name, "=hold") == 0) {
		sess->act_hold = true;
	} else if (strcmp(name, "=discard") == 0) {
		sess->act_discard = true;
	} else if (strcmp(name, "=filter") == 0) {
		free(sess->act_filter);
		sess->act_filter = xstrdup(arg);
	} else if (strcmp(name, "=redirect") == 0) {
		free(sess->act_redirect);
		sess->act_redirect = xstrdup(arg);
	} else {
		list = strcmp(name, "=bcc") == 0 ? &sess->act_bcc
						 : &sess->act_prepend;
		if (*list == NULL)
			*list = argv_create();
		argv_add(*list, arg);
	}
}

/*
 * Hand the actions to cleanup, before the content: HOLD and DISCARD as
 * CLEANUP_ATTR_SMTPD_ACTION, FILTER and REDIRECT as the attributes qmgr
 * honours, BCC as recipients that ask for no notices.
 */
static int
actions_send(struct smtpd_session *sess, struct err *err)
{
	struct argv *bcc = sess->act_bcc;

	if ((sess->act_hold &&
	     cleanup_attr(sess->cleanup, CLEANUP_ATTR_SMTPD_ACTION, "hold",
			  err) < 0) ||
	    (sess->act_discard &&
	     cleanup_attr(sess->cleanup, CLEANUP_ATTR_SMTPD_ACTION, "discard",
			  err) < 0) ||
	    (sess->act_filter &&
	     cleanup_attr(sess->cleanup, REC_ATTR_CONTENT_FILTER,
			  sess->act_filter, err) < 0) ||
	    (sess->act_redirect &&
	     cleanup_attr(sess->cleanup, REC_ATTR_REDIRECT_TO,
			  sess->act_redirect, err) < 0))
		return -1;
	for (size_t i = 0; bcc != NULL && i < bcc->count; i++)
		if (cleanup_recipient(sess->cleanup, bcc->items[i],
				      bcc->items[i], NULL, REC_DSN_NOTIFY_NEVER,
				      err) < 0)
			return -1;
	return 0;
}

/* PREPEND headers go first, before our Received: header. */
static int
prepend_send(struct smtpd_session *sess, struct err *err)
{
	struct argv *headers = sess->act_prepend;

	for (size_t i = 0; headers != NULL && i < headers->count; i++)
		if (cleanup_content_line(sess->cleanup, headers->items[i],
					 strlen(headers->items[i]), false,
					 err) < 0)
			return -1;
	return 0;
}

/* "QUEUEID: reject: RCPT from NAME[ADDR]: REPLY; from=<> to=<> ..." */
static void
log_event(const struct smtpd_session *sess, const char *event,
	  const char *verb, const char *reply, const char *rcpt)
{
	struct strbuf line;

	strbuf_init(&line, STRBUF_UNLIMITED);
	(void)strbuf_printf(&line, "%s: %s: %s from %s: %s;",
			    smtpd_queue_label(sess), event, verb,
			    sess->namaddr, reply);
	if (sess->sender != NULL)
		(void)strbuf_printf(&line, " from=<%s>", sess->sender);
	if (rcpt != NULL)
		(void)strbuf_printf(&line, " to=<%s>", rcpt);
	(void)strbuf_printf(&line, " proto=%s", sess->protocol);
	if (sess->helo_name != NULL)
		(void)strbuf_printf(&line, " helo=<%s>", sess->helo_name);
	log_info("%s", line.data);
	strbuf_deinit(&line);
}

static void
log_reject(const struct smtpd_session *sess, const char *verb,
	   const char *reply, const char *rcpt)
{
	log_event(sess, "reject", verb, reply, rcpt);
}

static void
count(struct smtpd_session *sess, enum smtpd_counter counter, bool is_ok)
{
	sess->total_count[counter]++;
	if (is_ok)
		sess->ok_count[counter]++;
}

static int
addr_flags(const struct smtpd_session *sess, bool is_smtputf8)
{
	int flags = 0;

	if (sess->conf->is_strict_rfc821)
		flags |= MAIL_ADDR_FLAG_STRICT_RFC821;
	if (sess->conf->is_strict_smtputf8)
		flags |= MAIL_ADDR_FLAG_STRICT_SMTPUTF8;
	if (is_smtputf8)
		flags |= MAIL_ADDR_FLAG_SMTPUTF8;
	return flags;
}

static int
esmtp_flags(const struct smtpd_session *sess)
{
	return ESMTP_FLAG_DSN |
	       (sess->conf->is_smtputf8_enabled ? ESMTP_FLAG_SMTPUTF8 : 0);
}

/* Path and parameters of MAIL/RCPT; replies and returns -1 on error. */
static int
parse_path(struct smtpd_session *sess, const char *text,
	   enum mail_addr_role role, struct mail_addr_path *path,
	   struct esmtp_params *params)
{
	enum esmtp_cmd ecmd =
		role == MAIL_ADDR_SENDER ? ESMTP_MAIL : ESMTP_RCPT;
	enum mail_addr_status st;
	enum esmtp_status est;

	st = mail_addr_parse_path(text, role, addr_flags(sess, false), path,
				  NULL);
	if (st != MAIL_ADDR_OK) {
		smtpd_reply(sess, "%s", mail_addr_reply(st, role));
		return -1;
	}
	est = esmtp_param_parse(path->params, ecmd, esmtp_flags(sess), params);
	if (est != ESMTP_OK) {
		struct strbuf reply;

		strbuf_init(&reply, STRBUF_UNLIMITED);
		esmtp_param_reply(&reply, est, params);
		smtpd_reply(sess, "%s", reply.data);
		strbuf_deinit(&reply);
		return -1;
	}
	return 0;
}

/*
 * Postfix's space rule: the queue file system must keep
 * max(queue_minfree, 1.5 x message_size_limit) bytes free, plus the
 * client's SIZE= when it gave one. The daemon's working directory is the
 * queue (or its chroot). A failed statvfs is not held against the client
 * (cleanup still fails cleanly on a full disk).
 */
static bool
has_queue_space(const struct smtpd_conf *conf, uint64_t size)
{
	struct statvfs fs;
	unsigned long long avail, need = (unsigned long long)conf->queue_minfree;
	unsigned long long limit_need = conf->message_size_limit > 0
		? (unsigned long long)conf->message_size_limit / 2 * 3
		: 0;

	if (statvfs(".", &fs) < 0) {
		log_warning("statvfs queue directory: %s", strerror(errno));
		return true;
	}
	avail = (unsigned long long)fs.f_bavail * fs.f_frsize;
	if (limit_need > need)
		need = limit_need;
	if (avail < need) {
		log_warning("not enough free space in mail queue: %llu bytes "
			    "< %llu (queue_minfree or 1.5*message_size_limit)",
			    avail, need);
		return false;
	}
	return avail - need >= size;
}

void
smtpd_mail_cmd(struct smtpd_session *sess, const struct smtp_cmd *cmd)
{
	const struct smtpd_conf *conf = sess->conf;
	struct mail_addr_path path = { 0 };
	struct esmtp_params params = { 0 };
	enum mail_addr_status st8 = MAIL_ADDR_OK;

	if (parse_path(sess, cmd->arg, MAIL_ADDR_SENDER, &path, &params) < 0)
		goto refused;
	st8 = mail_addr_check_8bit(path.addr, addr_flags(sess, params.smtputf8),
				   NULL);
	if (st8 == MAIL_ADDR_ERR_SYNTAX) {
		smtpd_reply(sess, "%s", mail_addr_reply(st8, MAIL_ADDR_SENDER));
		goto refused;
	}
	if (conf->message_size_limit > 0 && params.has_size &&
	    params.size > (uint64_t)conf->message_size_limit) {
		sess->sender = path.addr; /* for the log line only */
		log_reject(sess, "MAIL", REPLY_TOO_BIG, NULL);
		sess->sender = NULL;
		smtpd_reply(sess, REPLY_TOO_BIG);
		goto refused;
	}
	if (st8 != MAIL_ADDR_OK) {
		smtpd_reply(sess, "%s", mail_addr_reply(st8, MAIL_ADDR_SENDER));
		goto refused;
	}
	if (!has_queue_space(conf, params.has_size ? params.size : 0)) {
		sess->sender = path.addr; /* for the log line only */
		log_reject(sess, "MAIL", REPLY_NO_SPACE, NULL);
		sess->sender = NULL;
		smtpd_reply(sess, REPLY_NO_SPACE);
		goto refused;
	}
	sess->sender = path.addr;
	path.addr = NULL;
	if (smtpd_mail_policy(sess, "MAIL", smtpd_check_mail, NULL) < 0) {
		free(sess->sender);
		sess->sender = NULL;
		goto refused;
	}
	sess->mail = params;
	mail_addr_path_free(&path);
	count(sess, SMTPD_CNT_MAIL, true);
	smtpd_reply(sess, "250 2.1.0 Ok");
	return;
refused:
	count(sess, SMTPD_CNT_MAIL, false);
	mail_addr_path_free(&path);
	esmtp_param_free(&params);
}

static void
request_of(const struct smtpd_session *sess, struct smtpd_request *req,
	   const char *verb, const char *rcpt, struct argv *events)
{
	req->is_pipelining_improper =
		!sess->is_stand_alone &&
		stream_read_pending(sess->stream) > 0 &&
		(strcmp(sess->protocol, "ESMTP") != 0 ||
		 (verb != NULL && strcmp(verb, "DATA") == 0));
	req->namaddr = sess->namaddr;
	req->name = sess->name;
	req->reverse_name = sess->reverse_name;
	req->is_name_tempfail = sess->name_status == SMTPD_PEER_TEMP;
	req->is_name_unknown = sess->name_status != SMTPD_PEER_OK;
	req->is_reverse_tempfail = sess->reverse_status == SMTPD_PEER_TEMP;
	req->is_reverse_unknown = sess->reverse_status != SMTPD_PEER_OK;
	req->addr = sess->peer.addr;
	req->is_sasl_authenticated = false;
	req->helo = sess->helo_name;
	req->sender = sess->sender;
	req->rcpt = rcpt;
	req->events_out = events;
}

/*
 * The events a check asked for: log lines ("reject_warning", "warn",
 * "info", "hold", ...) and message actions ("=hold", "=filter" ...).
 */
static void
take_events(struct smtpd_session *sess, const char *verb,
	    const struct argv *events, const char *rcpt)
{
	for (size_t i = 0; i + 1 < events->count; i += 2) {
		if (events->items[i][0] == '=')
			action_take(sess, events->items[i],
				    events->items[i + 1]);
		else
			log_event(sess, events->items[i], verb,
				  events->items[i + 1], rcpt);
	}
}

/*
 * Ask the policy (one of the smtpd_check_* stages); on refusal log the
 * NOQUEUE line and reply. Returns 0 to go on, -1 after a reply.
 */
int
smtpd_mail_policy(struct smtpd_session *sess, const char *verb,
		  smtpd_check_fn *stage, const char *rcpt)
{
	struct smtpd_request req;
	struct argv *events = argv_create();
	struct strbuf reply;
	int ret;

	request_of(sess, &req, verb, rcpt, events);
	strbuf_init(&reply, STRBUF_UNLIMITED);
	ret = stage(sess->conf->check, &req, &reply);
	take_events(sess, verb, events, rcpt);
	if (ret < 0) {
		log_reject(sess, verb, reply.data, rcpt);
		smtpd_reply(sess, "%s", reply.data);
	}
	strbuf_deinit(&reply);
	argv_destroy(&events);
	return ret;
}

/* The named attributes Postfix's smtpd gives cleanup. */
static int
send_attrs(struct smtpd_session *sess, struct err *err)
{
	const char *helo = sess->helo_name != NULL ? sess->helo_name : "";
	const char *type = strchr(sess->peer.addr, ':') ? "10" : "2";
	const char *attrs[][2] = {
		{ "log_client_name", sess->name },
		{ "log_client_address", sess->peer.addr },
		{ "log_client_port", sess->peer.port },
		{ "log_message_origin", sess->namaddr },
		{ "log_helo_name", helo },
		{ "log_protocol_name", sess->protocol },
		{ "client_name", sess->name },
		{ "reverse_client_name", sess->reverse_name },
		{ "client_address", sess->peer.addr },
		{ "client_port", sess->peer.port },
		{ "server_address", sess->local.addr },
		{ "server_port", sess->local.port },
		{ "helo_name", helo },
		{ "protocol_name", sess->protocol },
		{ "client_address_type", type },
	};

	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (strcmp(attrs[i][0], "helo_name") == 0 && *helo == 0)
			continue;
		if (strcmp(attrs[i][0], "log_helo_name") == 0 && *helo == 0)
			continue;
		if (cleanup_attr(sess->cleanup, attrs[i][0], attrs[i][1], err) <
		    0)
			return -1;
	}
	return 0;
}

/* BODY=8BITMIME or BODY=7BIT, for the smtp client (Postfix's record). */
static int
send_encoding(struct smtpd_session *sess, struct err *err)
{
	const char *value = sess->mail.body == ESMTP_BODY_8BITMIME
				    ? REC_ATTR_ENC_8BIT
			    : sess->mail.body == ESMTP_BODY_7BIT
				    ? REC_ATTR_ENC_7BIT
				    : NULL;

	if (value == NULL)
		return 0;
	return cleanup_attr(sess->cleanup, REC_ATTR_ENCODING, value, err);
}

static int
send_envelope(struct smtpd_session *sess, struct err *err)
{
	if (cleanup_sender(sess->cleanup, sess->sender, err) < 0 ||
	    send_encoding(sess, err) < 0 || send_attrs(sess, err) < 0)
		return -1;
	if (sess->mail.envid != NULL &&
	    cleanup_attr(sess->cleanup, "envelope_id", sess->mail.envid, err) <
		    0)
		return -1;
	if (sess->mail.ret != ESMTP_RET_NONE &&
	    cleanup_attr(sess->cleanup, "dsn_ret",
			 sess->mail.ret == ESMTP_RET_FULL ? "1" : "2", err) < 0)
		return -1;
	return 0;
}

/*
 * Does the client match local_header_rewrite_clients? Then cleanup works
 * in the local rewrite context: it qualifies bare addresses in headers
 * and adds missing Message-Id:, Date: and From:, as for local mail.
 */
static bool
is_local_header_client(const struct smtpd_session *sess)
{
	const struct smtpd_conf *conf = sess->conf;
	const struct argv *words = conf->local_header_clients;

	for (size_t i = 0; words != NULL && i < words->count; i++) {
		const char *word = words->items[i];

		if (strcmp(word, "permit_inet_interfaces") == 0 &&
		    resolve_is_our_address(conf->resolve, sess->peer.addr))
			return true;
		if (strcmp(word, "permit_mynetworks") == 0 &&
		    smtpd_check_is_mynetworks(conf->check, sess->peer.addr))
			return true;
	}
	return false;
}

/* Open the cleanup submission at the first good recipient. */
static int
queue_open(struct smtpd_session *sess)
{
	struct cleanup_result result;
	struct err err;
	int flags = is_local_header_client(sess) ? CLEANUP_FLAG_LOCAL : 0;

	sess->cleanup = cleanup_open(sess->conf->cleanup_path, flags,
				     sess->conf->ipc_timeout_ms, &result, &err);
	if (sess->cleanup == NULL) {
		log_warning("%s: %s", sess->namaddr, err.text);
		return -1;
	}
	sess->queue_id = xstrdup(cleanup_queue_id(sess->cleanup));
	log_info("%s: client=%s", sess->queue_id, sess->namaddr);
	if (send_envelope(sess, &err) < 0) {
		log_warning("%s: %s", sess->queue_id, err.text);
		cleanup_abort(&sess->cleanup);
		return -1;
	}
	return 0;
}

static int
queue_recipient(struct smtpd_session *sess, const char *rcpt,
		const struct esmtp_params *params)
{
	struct strbuf dsn_orcpt;
	struct err err;
	int ret;

	if (sess->is_queue_broken)
		return -1;
	if (sess->cleanup == NULL && queue_open(sess) < 0) {
		sess->is_queue_broken = true;
		return -1;
	}
	strbuf_init(&dsn_orcpt, STRBUF_UNLIMITED);
	if (params->orcpt_type != NULL)
		(void)strbuf_printf(&dsn_orcpt, "%s;%s", params->orcpt_type,
				    params->orcpt_addr);
	else
		(void)strbuf_printf(&dsn_orcpt, "rfc822;%s", rcpt);
	ret = cleanup_recipient(sess->cleanup, rcpt, rcpt, dsn_orcpt.data,
				params->notify, &err);
	strbuf_deinit(&dsn_orcpt);
	if (ret < 0) {
		log_warning("%s: %s", sess->queue_id, err.text);
		cleanup_abort(&sess->cleanup);
		sess->is_queue_broken = true;
	}
	return ret;
}

/* RCPT and VRFY share the path checks; -1 after a reply. */
static int
rcpt_parse(struct smtpd_session *sess, const char *text,
	   struct mail_addr_path *path, struct esmtp_params *params)
{
	enum mail_addr_status st8;

	if (parse_path(sess, text, MAIL_ADDR_RECIPIENT, path, params) < 0)
		return -1;
	st8 = mail_addr_check_8bit(path->addr,
				   addr_flags(sess, sess->mail.smtputf8), NULL);
	if (st8 != MAIL_ADDR_OK) {
		smtpd_reply(sess, "%s",
			    mail_addr_reply(st8, MAIL_ADDR_RECIPIENT));
		return -1;
	}
	return 0;
}

static int
rcpt_policy(struct smtpd_session *sess, const char *verb, const char *rcpt)
{
	return smtpd_mail_policy(sess, verb, smtpd_check_rcpt, rcpt);
}

void
smtpd_rcpt_cmd(struct smtpd_session *sess, const struct smtp_cmd *cmd)
{
	struct mail_addr_path path = { 0 };
	struct esmtp_params params = { 0 };
	bool is_ok = false;

	if (sess->rcpt_count >= sess->conf->recipient_limit)
		smtpd_reply(sess, "452 4.5.3 Error: too many recipients");
	else if (rcpt_parse(sess, cmd->arg, &path, &params) < 0 ||
		 rcpt_policy(sess, "RCPT", path.addr) < 0)
		; /* replied */
	else if (queue_recipient(sess, path.addr, &params) < 0)
		smtpd_reply(sess, REPLY_WRITE_ERROR);
	else
		is_ok = true;
	if (is_ok) {
		if (sess->rcpt_count++ == 0)
			sess->first_rcpt = xstrdup(path.addr);
		smtpd_reply(sess, "250 2.1.5 Ok");
	}
	count(sess, SMTPD_CNT_RCPT, is_ok);
	mail_addr_path_free(&path);
	esmtp_param_free(&params);
}

void
smtpd_vrfy_cmd(struct smtpd_session *sess, const struct smtp_cmd *cmd)
{
	struct mail_addr_path path = { 0 };
	struct esmtp_params params = { 0 };
	bool is_ok = false;

	if (sess->conf->is_vrfy_disabled)
		smtpd_reply(sess, "502 5.5.1 VRFY command is disabled");
	else if (rcpt_parse(sess, cmd->arg, &path, &params) < 0 ||
		 rcpt_policy(sess, "VRFY", path.addr) < 0)
		; /* replied */
	else
		is_ok = true;
	/* Like Postfix: no recipient validation yet, so "cannot verify". */
	if (is_ok)
		smtpd_reply(sess, "252 2.0.0 %s", cmd->arg);
	count(sess, SMTPD_CNT_VRFY, is_ok);
	mail_addr_path_free(&path);
	esmtp_param_free(&params);
}

/* Our Received: header, in Postfix's layout, as three content lines. */
static int
send_received(struct smtpd_session *sess, struct err *err)
{
	const char *helo = sess->helo_name ? sess->helo_name : sess->name;
	const char *proto = sess->protocol;
	struct strbuf line;
	char *rcpt = NULL;
	int ret;

	if (sess->mail.smtputf8 && strcmp(proto, "ESMTP") == 0)
		proto = "UTF8SMTP";
	strbuf_init(&line, STRBUF_UNLIMITED);
	(void)strbuf_printf(&line, "Received: from %s (%s [%s])", helo,
			    sess->name, sess->peer.addr);
	ret = cleanup_content_line(sess->cleanup, line.data, line.len, false,
				   err);
	strbuf_reset(&line);
	(void)strbuf_printf(&line, "\tby %s (%s) with %s id %s%s",
			    sess->conf->myhostname, sess->conf->mail_name,
			    proto, sess->queue_id,
			    sess->rcpt_count == 1 ? "" : ";");
	if (ret == 0)
		ret = cleanup_content_line(sess->cleanup, line.data, line.len,
					   false, err);
	strbuf_reset(&line);
	if (sess->rcpt_count == 1) {
		rcpt = mail_addr_quote(sess->first_rcpt);
		(void)strbuf_printf(&line, "\tfor <%s>; ", rcpt);
	} else {
		(void)strbuf_append_str(&line, "\t");
	}
	header_fix_date(time(NULL), &line);
	if (ret == 0)
		ret = cleanup_content_line(sess->cleanup, line.data, line.len,
					   false, err);
	free(rcpt);
	strbuf_deinit(&line);
	return ret;
}

/* The state of one DATA phase. */
struct data_run {
	struct smtp_data sm;
	uint64_t size; /* content bytes as the queue file counts them */
	bool is_too_big;
	bool is_write_error;
};

static void
data_store(struct smtpd_session *sess, struct data_run *run, const char *data,
	   size_t len, bool is_continued)
{
	struct err err;
	long long limit = sess->conf->message_size_limit;

	run->size += len + (is_continued ? 0 : 1);
	if (limit > 0 && run->size > (uint64_t)limit)
		run->is_too_big = true;
	if (run->is_too_big || run->is_write_error)
		return;
	if (cleanup_content_line(sess->cleanup, data, len, is_continued, &err) <
	    0) {
		log_warning("%s: %s", sess->queue_id, err.text);
		run->is_write_error = true;
	}
}

static size_t
line_end_bytes(enum stream_line_end end)
{
	return end == STREAM_END_CRLF ? 2 : end == STREAM_END_LF ? 1 : 0;
}

/* Read the content up to the end of data; 0 when the session ended. */
static int
data_receive(struct smtpd_session *sess, struct data_run *run)
{
	enum stream_line_end end;
	enum smtp_data_action action;
	const char *data;
	size_t len;

	do {
		if (smtpd_read_line(sess, &end) == 0)
			return 0;
		sess->data_bytes += sess->line.len + line_end_bytes(end);
		action = smtp_data_feed(&run->sm, sess->line.data,
					sess->line.len, end, &data, &len);
		if (action == SMTP_DATA_LINE || action == SMTP_DATA_PARTIAL)
			data_store(sess, run, data, len,
				   action == SMTP_DATA_PARTIAL);
	} while (action != SMTP_DATA_END && action != SMTP_DATA_LOST);
	if (action == SMTP_DATA_LOST) {
		log_info("lost connection after DATA (%llu bytes) from %s",
			 (unsigned long long)sess->data_bytes, sess->namaddr);
		sess->end = SMTPD_END_LOST;
		return 0;
	}
	return 1;
}

/* Postfix's replies for what cleanup reports. */
static void
cleanup_reply(const struct cleanup_result *result, struct strbuf *reply)
{
	strbuf_reset(reply);
	if (result->status & CLEANUP_STAT_SIZE)
		strbuf_set(reply, REPLY_TOO_BIG);
	else if (result->status & CLEANUP_STAT_HOPS)
		strbuf_set(reply, "554 5.4.0 Error: too many hops");
	else if (result->status & CLEANUP_STAT_WRITE && result->code == 452)
		strbuf_set(reply, REPLY_NO_SPACE);
	else if (result->status & CLEANUP_STAT_WRITE)
		strbuf_set(reply, REPLY_WRITE_ERROR);
	else if (result->status & CLEANUP_STAT_CONT) /* header/body checks */
		(void)strbuf_printf(reply, "%d %s %s", result->code,
				    result->dsn, result->reason);
	else
		(void)strbuf_printf(reply, "%d %s Error: %s", result->code,
				    result->dsn, result->reason);
}

/* smtpd_end_of_data_restrictions; -1 after the reply. */
static int
eod_policy(struct smtpd_session *sess, struct strbuf *scratch)
{
	(void)scratch;
	return smtpd_mail_policy(sess, "END-OF-MESSAGE", smtpd_check_eod,
				 sess->first_rcpt);
}

/* After the end of data: commit or refuse, and reply. */
static void
data_finish(struct smtpd_session *sess, struct data_run *run)
{
	struct cleanup_result result;
	struct err err;
	struct strbuf text;

	strbuf_init(&text, STRBUF_UNLIMITED);

	if (!run->is_too_big && !run->is_write_error &&
	    !smtp_data_must_reject(&run->sm) &&
	    eod_policy(sess, &text) < 0) {
		cleanup_abort(&sess->cleanup);
		count(sess, SMTPD_CNT_DATA, false);
		strbuf_deinit(&text);
		return;
	}
	if (run->is_too_big || run->is_write_error ||
	    smtp_data_must_reject(&run->sm)) {
		cleanup_abort(&sess->cleanup);
		if (run->is_too_big)
			strbuf_set(&text, REPLY_TOO_BIG);
		else if (run->is_write_error)
			strbuf_set(&text, REPLY_WRITE_ERROR);
		else
			smtp_bare_lf_reply(&text, sess->conf->bare_lf_code,
					   sess->conf->myhostname);
	} else if (cleanup_finish(&sess->cleanup, &result, &err) == 0) {
		count(sess, SMTPD_CNT_DATA, true);
		smtpd_reply(sess, "250 2.0.0 Ok: queued as %s", sess->queue_id);
		strbuf_deinit(&text);
		return;
	} else {
		log_warning("%s: %s", sess->queue_id, err.text);
		cleanup_reply(&result, &text);
	}
	count(sess, SMTPD_CNT_DATA, false);
	log_reject(sess, "END-OF-MESSAGE", text.data, sess->first_rcpt);
	smtpd_reply(sess, "%s", text.data);
	strbuf_deinit(&text);
}

void
smtpd_data_cmd(struct smtpd_session *sess, const struct smtp_cmd *cmd)
{
	struct data_run run = { 0 };
	struct err err;

	(void)cmd;
	if (smtpd_mail_policy(sess, "DATA", smtpd_check_data,
			      sess->first_rcpt) < 0) {
		count(sess, SMTPD_CNT_DATA, false);
		return;
	}
	if (sess->cleanup == NULL || sess->is_queue_broken) {
		count(sess, SMTPD_CNT_DATA, false);
		smtpd_reply(sess, REPLY_WRITE_ERROR);
		return;
	}
	smtpd_reply(sess, "354 End data with <CR><LF>.<CR><LF>");
	smtp_data_init(&run.sm, sess->conf->bare_lf);
	if (actions_send(sess, &err) < 0 || prepend_send(sess, &err) < 0 ||
	    send_received(sess, &err) < 0) {
		log_warning("%s: %s", sess->queue_id, err.text);
		run.is_write_error = true;
	}
	if (data_receive(sess, &run) == 0) {
		count(sess, SMTPD_CNT_DATA, false);
		cleanup_abort(&sess->cleanup);
		return;
	}
	data_finish(sess, &run);
	smtpd_mail_reset(sess);
}
