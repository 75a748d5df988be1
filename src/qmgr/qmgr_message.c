/*
 * qmgr_message.c - a message in the active queue: loading its envelope,
 * and deciding its fate when every recipient has had its attempt.
 *
 * The fate follows from the queue file and the per-message logs, never
 * from memory alone, so a restarted qmgr decides the same way: a bounce
 * log means a non-delivery notice is due (the file stays until bounce has
 * queued it); a defer log, or recipients still to do, means deferred/ with
 * back-off, or a final notice once the message has expired; nothing left
 * means the file is removed ("ID: removed").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/bounce_clnt.h"
#include "global/mail_addr.h"
#include "global/mail_queue.h"
#include "global/msg_log.h"
#include "global/rec_type.h"
#include "qmgr/qmgr.h"
#include "util/log.h"
#include "util/mymalloc.h"

/* After the spare pool was full: retire without trying it for this long. */
#define QMGR_SPARE_BACKOFF_MS 10

/* What the walk collects. */
struct load_state {
	struct qmgr_message *msg;
	size_t rcpt_cap;
	char *orcpt, *dsn_orcpt;
	int notify;
};

static void
take_attr(struct qmgr_message *msg, const char *data)
{
	struct deliver_request *t = &msg->tmpl;
	const char *eq = strchr(data, '=');
	int trace_flags;
	const struct {
		const char *name;
		char **slot;
	} attrs[] = {
		{ REC_ATTR_LOG_CLIENT_NAME, &t->client_name },
		{ REC_ATTR_LOG_CLIENT_ADDRESS, &t->client_addr },
		{ REC_ATTR_LOG_PROTOCOL_NAME, &t->client_proto },
		{ REC_ATTR_LOG_HELO_NAME, &t->client_helo },
		{ REC_ATTR_SASL_USERNAME, &t->sasl_username },
		{ REC_ATTR_REWRITE_CONTEXT, &t->rewrite_context },
		{ REC_ATTR_ENCODING, &t->encoding },
		{ REC_ATTR_REDIRECT_TO, &msg->redirect_to },
		{ REC_ATTR_CONTENT_FILTER, &msg->content_filter },
	};

	if (eq == NULL)
		return;
	if (rec_attr_trace_flags(data, &trace_flags) > 0) {
		if (trace_flags & REC_TRACE_FLAG_VERIFY)
			t->flags |= DELIVER_FLAG_VERIFY;
		if (trace_flags & REC_TRACE_FLAG_RECORD)
			t->flags |= DELIVER_FLAG_RECORD;
		return;
	}
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (strlen(attrs[i].name) == (size_t)(eq - data) &&
		    strncmp(data, attrs[i].name, (size_t)(eq - data)) == 0) {
			free(*attrs[i].slot);
			*attrs[i].slot = xstrdup(eq + 1);
		}
	}
}

static void
add_rcpt(struct load_state *ls, const struct queue_record *rec)
{
	struct qmgr_message *msg = ls->msg;
	struct qmgr_rcpt *r;

	if (msg->rcpt_count == ls->rcpt_cap) {
		ls->rcpt_cap = ls->rcpt_cap ? 2 * ls->rcpt_cap : 8;
		msg->rcpts = xrealloc(msg->rcpts, ls->rcpt_cap * sizeof(*r));
	}
	r = &msg->rcpts[msg->rcpt_count++];
	r->offset = rec->offset;
	r->address = xstrdup(rec->data);
	r->orig_rcpt = ls->orcpt ? ls->orcpt : xstrdup(rec->data);
	r->dsn_orcpt = ls->dsn_orcpt ? ls->dsn_orcpt : xstrdup("");
	r->dsn_notify = ls->notify;
	ls->orcpt = ls->dsn_orcpt = NULL;
	ls->notify = 0;
}

static void
set_str(char **slot, const char *data)
{
	free(*slot);
	*slot = xstrdup(data);
}

static int
load_record(const struct queue_record *rec, void *ctx, struct err *err)
{
	struct load_state *ls = ctx;
	struct deliver_request *t = &ls->msg->tmpl;
	long long sec;
	long usec;

	(void)err;
	switch (rec->type) {
	case REC_TYPE_TIME:
		if (queue_file_parse_time(rec->data, &sec, &usec) == 0) {
			t->arrival.tv_sec = (time_t)sec;
			t->arrival.tv_nsec = usec * 1000;
		}
		break;
	case REC_TYPE_FROM:
		set_str(&t->sender, rec->data);
		break;
	case REC_TYPE_ATTR:
		take_attr(ls->msg, rec->data);
		break;
	case REC_TYPE_DSN_ENVID:
		set_str(&t->dsn_envid, rec->data);
		break;
	case REC_TYPE_DSN_RET:
		t->dsn_ret = atoi(rec->data);
		break;
	case REC_TYPE_WARN:
		if (queue_file_parse_warn(rec->data, rec->len,
					  &ls->msg->warn_time) == 0)
			ls->msg->warn_offset = rec->offset;
		break;
	case REC_TYPE_ORCP:
		set_str(&ls->orcpt, rec->data);
		break;
	case REC_TYPE_DSN_ORCPT:
		set_str(&ls->dsn_orcpt, rec->data);
		break;
	case REC_TYPE_DSN_NOTIFY:
		ls->notify = atoi(rec->data);
		break;
	case REC_TYPE_RCPT:
		add_rcpt(ls, rec);
		break;
	case REC_TYPE_DONE:
	case REC_TYPE_DRCP:
		free(ls->orcpt);
		free(ls->dsn_orcpt);
		ls->orcpt = ls->dsn_orcpt = NULL;
		ls->notify = 0;
		break;
	default:
		break;
	}
	return 0;
}

static struct qmgr_message *
message_create(struct qmgr *q, const char *id)
{
	struct qmgr_message *msg = xcalloc(1, sizeof(*msg));
	struct deliver_request *t = &msg->tmpl;

	msg->qmgr = q;
	msg->id = xstrdup(id);
	msg->warn_offset = -1;
	t->queue_name = xstrdup(MAIL_QUEUE_ACTIVE);
	t->queue_id = xstrdup(id);
	t->queue_fd = -1;
	char **strings[] = { &t->nexthop,	&t->encoding,	 &t->sender,
			     &t->dsn_envid,	&t->client_name, &t->client_addr,
			     &t->client_proto,	&t->client_helo, &t->sasl_username,
			     &t->rewrite_context };
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		*strings[i] = xstrdup("");
	return msg;
}

void
qmgr_message_free(struct qmgr_message *msg)
{
	for (size_t i = 0; i < msg->rcpt_count; i++) {
		free(msg->rcpts[i].address);
		free(msg->rcpts[i].orig_rcpt);
		free(msg->rcpts[i].dsn_orcpt);
	}
	free(msg->rcpts);
	free(msg->redirect_to);
	free(msg->content_filter);
	msg->tmpl.rcpts = NULL;
	msg->tmpl.rcpt_count = 0;
	struct deliver_request *t = xmalloc(sizeof(*t));
	*t = msg->tmpl;
	deliver_request_free(&t);
	free(msg->id);
	free(msg);
}

/* A file that cannot be read as a queue file goes to corrupt/. */
static void
save_corrupt(struct qmgr *q, const char *id, const char *reason)
{
	struct err err;

	log_warning("%s: %s", id, reason);
	if (queue_file_move(q->ql, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_CORRUPT, id,
			    &err) < 0)
		log_warning("%s", err.text);
	else
		log_warning("saving corrupt file \"%s\" from queue \"%s\" to queue \"%s\"",
			    id, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_CORRUPT);
}

/*
 * Read the file. 0 with the message filled in; 1 when an agent still
 * holds it (a predecessor's delivery in progress); -1 when it is gone or
 * damaged (then handled here).
 */
static int
message_read(struct qmgr *q, struct qmgr_message *msg,
	     struct queue_file_info *info)
{
	struct load_state ls = { .msg = msg };
	struct err err;
	int fd = queue_file_open(q->ql, MAIL_QUEUE_ACTIVE, msg->id, O_RDONLY,
				 &err);
	int ret = 0;

	if (fd < 0) {
		if (errno != ENOENT)
			log_warning("%s", err.text);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		(void)close(fd);
		return 1;
	}
	if (queue_file_walk(fd, msg->id, QUEUE_WALK_SKIP_CONTENT, load_record,
			    &ls, info, &err) < 0) {
		save_corrupt(q, msg->id, err.text);
		ret = -1;
	}
	free(ls.orcpt);
	free(ls.dsn_orcpt);
	(void)close(fd);
	return ret;
}

int
qmgr_message_load(struct qmgr *q, const char *id)
{
	struct qmgr_message *msg = message_create(q, id);
	struct queue_file_info info;
	struct err err;
	char *sender;
	int ret = message_read(q, msg, &info);

	if (ret != 0) {
		qmgr_message_free(msg);
		return ret;
	}
	msg->tmpl.data_offset = (off_t)info.content_offset;
	msg->tmpl.data_size = info.content_length;
	msg->tmpl.smtputf8 = (int)info.smtputf8;
	(void)clock_gettime(CLOCK_REALTIME, &msg->tmpl.active);
	/* A new attempt: the reasons of the last one no longer apply. */
	if (msg_log_remove(q->ql, MSG_LOG_DEFER, id, &err) < 0)
		log_warning("%s: %s", id, err.text);
	sender = mail_addr_quote(msg->tmpl.sender);
	log_info("%s: from=<%s>, size=%lld, nrcpt=%zu (queue active)", id,
		 sender, info.content_length, msg->rcpt_count);
	free(sender);
	(void)htable_insert(q->message_ids, msg->id, msg);
	msg->next = q->messages;
	if (q->messages)
		q->messages->prev = msg;
	q->messages = msg;
	q->message_count++;
	msg->refcount = 1; /* held while the entries are made */
	qmgr_sched_add_message(q, msg);
	qmgr_message_entry_done(msg);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The message's fate.                                                  */

static void
unlink_message(struct qmgr *q, struct qmgr_message *msg)
{
	if (msg->prev)
		msg->prev->next = msg->next;
	else
		q->messages = msg->next;
	if (msg->next)
		msg->next->prev = msg->prev;
	(void)htable_remove(q->message_ids, msg->id, NULL);
	q->message_count--;
}

static int
bounce(struct qmgr *q, struct qmgr_message *msg, const char *op)
{
	struct err err;

	if (bounce_request(q->bounce_path, op, MAIL_QUEUE_ACTIVE, msg->id,
			   (int)q->ipc_timeout_ms, &err) < 0) {
		log_warning("%s: %s notice: %s", msg->id, op, err.text);
		return -1;
	}
	return 0;
}

static void
remove_file(struct qmgr *q, struct qmgr_message *msg, bool may_have_logs)
{
	int64_t now = event_time_ms();
	bool try_spare = now >= q->spare_retry_ms;
	bool is_pool_full = false;
	struct err err;

	if (queue_file_retire(q->ql, MAIL_QUEUE_ACTIVE, msg->id, try_spare,
			      &is_pool_full, &err) < 0 &&
	    errno != ENOENT) {
		log_warning("%s", err.text);
		return;
	}
	/* Every slot tried was taken: unlink without trying for a while,
	 * instead of failing renames on each file while the pool is full. */
	if (is_pool_full)
		q->spare_retry_ms = now + QMGR_SPARE_BACKOFF_MS;
	log_info("%s: removed", msg->id);
	if (may_have_logs) {
		(void)msg_log_remove(q->ql, MSG_LOG_DEFER, msg->id, &err);
		(void)msg_log_remove(q->ql, MSG_LOG_TRACE, msg->id, &err);
	}
}

/* Postfix's back-off: the message's age, within the two limits. */
static long long
backoff(const struct qmgr *q, const struct qmgr_message *msg, time_t now)
{
	long long age = (long long)(now - msg->tmpl.arrival.tv_sec);

	if (age > q->max_backoff)
		age = q->max_backoff;
	if (age < q->min_backoff)
		age = q->min_backoff;
	return age;
}

static void
defer_file(struct qmgr *q, struct qmgr_message *msg)
{
	struct strbuf path;
	struct err err;
	time_t now = time(NULL);
	struct timespec when[2];

	if (queue_file_move(q->ql, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_DEFERRED,
			    msg->id, &err) < 0) {
		log_warning("%s: %s", msg->id, err.text);
		return;
	}
	when[0].tv_sec = when[1].tv_sec = now + backoff(q, msg, now);
	when[0].tv_nsec = when[1].tv_nsec = 0;
	strbuf_init(&path, 4096);
	(void)queue_file_fullpath(q->ql, MAIL_QUEUE_DEFERRED, msg->id, &path);
	if (utimensat(AT_FDCWD, strbuf_text(&path), when, 0) < 0)
		log_warning("set retry time of %s: %s", strbuf_text(&path),
			    strerror(errno));
	strbuf_deinit(&path);
}

/* The delay warning, once, when delay_warning_time has passed. */
static void
maybe_warn(struct qmgr *q, struct qmgr_message *msg)
{
	char zero[REC_WARN_LEN + 1];
	struct err err;
	int fd;

	if (msg->warn_offset < 0 || msg->warn_time <= 0 ||
	    time(NULL) < msg->warn_time || bounce(q, msg, BOUNCE_OP_WARN) < 0)
		return;
	snprintf(zero, sizeof(zero), REC_WARN_FORMAT, 0LL);
	fd = queue_file_open(q->ql, MAIL_QUEUE_ACTIVE, msg->id, O_RDWR, &err);
	if (fd < 0 || queue_file_rewrite(fd, msg->id, msg->warn_offset,
					 REC_TYPE_WARN, zero, REC_WARN_LEN,
					 &err) < 0)
		log_warning("%s: %s", msg->id, err.text);
	if (fd >= 0)
		(void)close(fd);
}

static bool
is_expired(const struct qmgr *q, const struct qmgr_message *msg)
{
	long long lifetime = msg->tmpl.sender[0] == 0 ? q->bounce_lifetime
						      : q->max_lifetime;

	return (long long)(time(NULL) - msg->tmpl.arrival.tv_sec) >= lifetime;
}

static void
message_decide(struct qmgr *q, struct qmgr_message *msg)
{
	bool is_deferred = msg->has_deferred ||
			   msg_log_exists(q->ql, MSG_LOG_DEFER, msg->id);

	bool has_trace;

	if (msg_log_exists(q->ql, MSG_LOG_BOUNCE, msg->id) &&
	    bounce(q, msg, BOUNCE_OP_FLUSH) < 0) {
		defer_file(q, msg); /* the notice is retried with the file */
		return;
	}
	has_trace = msg_log_exists(q->ql, MSG_LOG_TRACE, msg->id);

	if (has_trace)
		(void)bounce(q, msg, BOUNCE_OP_TRACE);
	if (!is_deferred) {
		remove_file(q, msg, has_trace);
	} else if (is_expired(q, msg)) {
		if (bounce(q, msg, BOUNCE_OP_EXPIRE) == 0)
			remove_file(q, msg, true);
		else
			defer_file(q, msg);
	} else {
		maybe_warn(q, msg);
		defer_file(q, msg);
	}
}

void
qmgr_message_entry_done(struct qmgr_message *msg)
{
	struct qmgr *q = msg->qmgr;

	if (--msg->refcount > 0)
		return;
	unlink_message(q, msg);
	message_decide(q, msg);
	qmgr_message_free(msg);
	if (q->is_clogged) { /* room again in the active queue */
		q->is_clogged = false;
		q->want_incoming = q->want_deferred = true;
		qmgr_request_scan(q);
	}
}
