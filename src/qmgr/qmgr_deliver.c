/*
 * qmgr_deliver.c - one delivery request on its way to an agent and back.
 *
 * The request goes to private/TRANSPORT at once (the agent reads it as
 * soon as master hands it the connection); the greeting and the reply are
 * read on the event loop, so many deliveries are in flight together. An
 * agent that cannot be reached, or that dies before its reply, makes the
 * transport dead for transport_retry_time; recipients it did not finish
 * (their record is not marked done in the queue file) are deferred with
 * "unknown mail transport error", as Postfix says.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "global/rec_type.h"
#include "global/svc_clnt.h"
#include "qmgr/qmgr.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/sockets.h"

/* Largest reply: the fixed attributes and one result byte a recipient. */
#define REPLY_MAX(n) (ATTR_REPLY_BASE + (n))
#define ATTR_REPLY_BASE 8192

struct qmgr_delivery {
	struct qmgr *qmgr;
	struct qmgr_entry *entry;
	int fd;
	struct strbuf in;
	bool has_greeting;
	char *failure; /* set when the request never got to an agent */
};

static const char *
transport_name(const struct qmgr_delivery *d)
{
	return d->entry->queue->transport->name;
}

/* The request for an entry: the message's envelope and its recipients. */
static void
request_build(const struct qmgr_entry *entry, struct deliver_request *req)
{
	const struct qmgr_message *msg = entry->msg;

	*req = msg->tmpl;
	req->nexthop = entry->queue->nexthop;
	/* The destination has a backlog (entries waiting, or deliveries
	 * besides this one under way): ask the agent to keep the connection
	 * for the next one (smtp_connection_cache_on_demand). */
	if (entry->queue->pending > 0 || entry->queue->busy > 1)
		req->flags |= DELIVER_FLAG_CONN_STORE;
	req->rcpt_count = entry->rcpt_count;
	req->rcpts = xcalloc(entry->rcpt_count, sizeof(*req->rcpts));
	for (size_t i = 0; i < entry->rcpt_count; i++) {
		const struct qmgr_rcpt *r = &msg->rcpts[entry->rcpt_index[i]];

		req->rcpts[i] = (struct deliver_rcpt){
			.offset = r->offset,
			.address = msg->redirect_to ? msg->redirect_to
						    : r->address,
			.orig_rcpt = r->orig_rcpt,
			.dsn_orcpt = r->dsn_orcpt,
			.dsn_notify = r->dsn_notify,
		};
	}
}

/*
 * Write all of buf to the non-blocking fd. A request bigger than the
 * socket buffer waits for the agent to read it, blocking, never for longer
 * than timeout_ms; the fd is non-blocking again after. -1 with errno.
 */
static int
write_request(int fd, const char *buf, size_t len, long long timeout_ms)
{
	bool is_blocking = false;
	int ret = 0;

	while (len > 0 && ret == 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN && !is_blocking) {
			struct timeval tv = {
				.tv_sec = (time_t)(timeout_ms / 1000),
				.tv_usec = (suseconds_t)(timeout_ms % 1000) *
					   1000
			};

			if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
				       sizeof(tv)) < 0 ||
			    sock_set_nonblock(fd, false) < 0)
				ret = -1;
			is_blocking = true;
			continue;
		}
		if (n <= 0) {
			ret = -1;
			break;
		}
		buf += n;
		len -= (size_t)n;
	}
	if (is_blocking && sock_set_nonblock(fd, true) < 0)
		ret = -1;
	return ret;
}

/* Connect and send the request; -1 with err. */
static int
request_send(struct qmgr_delivery *d, struct err *err)
{
	struct deliver_request req;
	struct strbuf msg;
	char path[300];
	int ret = -1;

	snprintf(path, sizeof(path), "private/%s", transport_name(d));
	d->fd = sock_connect_unix_nonblock(path, (int)d->qmgr->ipc_timeout_ms,
					   err);
	if (d->fd < 0)
		return -1;
	request_build(d->entry, &req);
	strbuf_init(&msg, DELIVER_REQUEST_MAX);
	if (deliver_request_encode(&req, &msg, err) < 0)
		err_prefix(err, "%s", path);
	else if (write_request(d->fd, strbuf_text(&msg), strbuf_len(&msg),
			       d->qmgr->ipc_timeout_ms) < 0)
		err_set(err, "%s: write: %s", path, strerror(errno));
	else
		ret = 0;
	strbuf_deinit(&msg);
	free(req.rcpts);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Finishing.                                                           */

/* True if the recipient's record says done (an agent finished it). */
static bool
rcpt_is_marked_done(const struct qmgr_message *msg, size_t index)
{
	struct err err;
	char type = 0;
	int fd = queue_file_open(msg->qmgr->ql, msg->tmpl.queue_name, msg->id,
				 O_RDONLY, &err);

	if (fd >= 0) {
		if (pread(fd, &type, 1, msg->rcpts[index].offset) != 1)
			type = 0;
		(void)close(fd);
	}
	return type == REC_TYPE_DONE;
}

/* Defer what the agent did not finish, for a reason of our own. */
static void
entry_fail(struct qmgr_entry *entry, const char *reason)
{
	struct qmgr_message *msg = entry->msg;
	size_t kept = 0;

	for (size_t i = 0; i < entry->rcpt_count; i++)
		if (!rcpt_is_marked_done(msg, entry->rcpt_index[i]))
			entry->rcpt_index[kept++] = entry->rcpt_index[i];
	entry->rcpt_count = kept;
	qmgr_entry_defer(entry, "none", "4.3.0", reason);
}

static void
delivery_free(struct qmgr_delivery *d)
{
	if (d->fd >= 0) {
		event_remove(d->qmgr->loop, d->fd);
		(void)close(d->fd);
	}
	strbuf_deinit(&d->in);
	free(d->failure);
	free(d);
}

/*
 * The end of a delivery: reply is the agent's reply, or NULL when there
 * is none (then failure says why).
 */
static void
delivery_finish(struct qmgr_delivery *d, const struct attr_list *reply,
		const char *failure)
{
	struct qmgr *q = d->qmgr;
	struct qmgr_entry *entry = d->entry;
	struct qmgr_message *msg = entry->msg;
	struct qmgr_queue *queue = entry->queue;
	struct qmgr_transport *t = queue->transport;
	long long status = DELIVER_STAT_DEFER;
	const char *dsn = "4.3.0", *reason = "", *results = "";
	size_t len = 0;

	queue->busy--;
	t->busy--;
	if (reply == NULL) {
		qmgr_sched_transport_dead(t, failure);
		entry_fail(entry, d->fd < 0 || d->failure != NULL
					  ? "mail transport unavailable"
					  : "unknown mail transport error");
	} else {
		(void)attr_get_int(reply, "status", &status, NULL);
		(void)attr_get_str(reply, "dsn", &dsn, NULL);
		(void)attr_get_str(reply, "reason", &reason, NULL);
		(void)attr_get_bytes(reply, "results",
				     (const uint8_t **)&results, &len, NULL);
		for (size_t i = 0; i < entry->rcpt_count; i++)
			if (i >= len || (results[i] != DELIVER_RESULT_SENT &&
					 results[i] != DELIVER_RESULT_BOUNCED))
				msg->has_deferred = true;
		qmgr_sched_feedback(queue, status == DELIVER_STAT_OK, dsn,
				    reason);
		qmgr_entry_free(entry);
		qmgr_message_entry_done(msg);
	}
	delivery_free(d);
	qmgr_sched_run(q);
}

/* ------------------------------------------------------------------ */
/* Reading the greeting and the reply.                                  */

/*
 * Decode what has arrived: 1 when the reply is complete (*reply_out),
 * 0 to wait for more, -1 with err on a protocol error.
 */
static int
reply_parse(struct qmgr_delivery *d, struct attr_list **reply_out,
	    struct err *err)
{
	struct attr_list *msg = NULL;
	size_t used;
	int ret = attr_decode((const uint8_t *)strbuf_text(&d->in),
			      strbuf_len(&d->in), &attr_default_limits, &msg,
			      &used, err);
	const char *proto = "";

	if (ret <= 0)
		return ret;
	if (d->has_greeting) {
		*reply_out = msg;
		return 1;
	}
	(void)attr_get_str(msg, SVC_ATTR_PROTOCOL, &proto, NULL);
	ret = strcmp(proto, DELIVER_PROTOCOL) == 0 ? 0 : -1;
	if (ret < 0)
		err_set(err, "unexpected protocol \"%s\"", proto);
	attr_list_destroy(&msg);
	d->has_greeting = true;
	/* Keep what follows the greeting. */
	memmove(d->in.data, d->in.data + used,
		strbuf_len(&d->in) - used);
	strbuf_truncate(&d->in, strbuf_len(&d->in) - used);
	return ret < 0 ? -1 : reply_parse(d, reply_out, err);
}

static void
delivery_read(struct event_loop *loop, int fd, void *ctx)
{
	struct qmgr_delivery *d = ctx;
	struct attr_list *reply = NULL;
	char buf[8192];
	struct err err;
	ssize_t n = read(fd, buf, sizeof(buf));
	int ret;

	(void)loop;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		snprintf(err.text, sizeof(err.text), "private/%s: %s",
			 transport_name(d),
			 n == 0 ? "lost connection (agent died?)"
				: strerror(errno));
		delivery_finish(d, NULL, err.text);
		return;
	}
	if (strbuf_append(&d->in, buf, (size_t)n) < 0) {
		snprintf(err.text, sizeof(err.text),
			 "private/%s: reply too long", transport_name(d));
		delivery_finish(d, NULL, err.text);
		return;
	}
	ret = reply_parse(d, &reply, &err);
	if (ret < 0) {
		err_prefix(&err, "private/%s", transport_name(d));
		delivery_finish(d, NULL, err.text);
	} else if (ret > 0) {
		delivery_finish(d, reply, NULL);
		attr_list_destroy(&reply);
	}
}

/* A request that never reached an agent, reported from the event loop. */
static void
delivery_unreachable(struct event_loop *loop, void *ctx)
{
	struct qmgr_delivery *d = ctx;

	(void)loop;
	delivery_finish(d, NULL, d->failure);
}

void
qmgr_deliver_start(struct qmgr *q, struct qmgr_entry *entry)
{
	struct qmgr_delivery *d = xcalloc(1, sizeof(*d));
	struct err err;

	d->qmgr = q;
	d->entry = entry;
	d->fd = -1;
	strbuf_init(&d->in, REPLY_MAX(entry->rcpt_count));
	entry->queue->busy++;
	entry->queue->transport->busy++;
	if (request_send(d, &err) < 0 ||
	    event_add_read(q->loop, d->fd, delivery_read, d) < 0) {
		d->failure = xstrdup(err.text);
		(void)event_timer_add(q->loop, 0, delivery_unreachable, d);
	}
}
