/*
 * qmgr.c - the queue manager: skeleton, wake-ups and queue scans.
 *
 * Skeleton: SKEL_TRIGGER, long-lived. master.cf: "qmgr unix n - n 300 1
 * qmgr" (Postfix 3.7's line). It moves complete files from incoming/ and
 * due files from deferred/ into active/ (up to qmgr_message_active_limit
 * messages in memory), and on start-up takes back every file left in
 * active/ by its predecessor. Wake-ups (qmgr_trigger.h): cleanup's 'I'
 * after every new message, master's 'W' timer, postqueue's 'A' (deferred
 * mail now, ignoring back-off) and 'F' (forget dead destinations).
 * Several wake-ups in one event-loop round cause one scan. deferred/ is
 * also scanned every queue_run_delay. A deferred file's mtime is the time
 * of its next attempt.
 * Touches: the queue directories, as mail_owner; the agents' sockets in
 * private/ and the bounce service.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/mail_queue.h"
#include "global/mail_server.h"
#include "global/qmgr_trigger.h"
#include "global/queue_id.h"
#include "global/queue_scan.h"
#include "qmgr/qmgr.h"
#include "util/argv.h"
#include "util/log.h"
#include "util/mymalloc.h"

/*
 * How soon a locked file in active/ is tried again: an agent of our
 * predecessor is still at work on it, or its writer has not yet closed
 * it after marking it complete.
 */
#define QMGR_ACTIVE_RETRY_MS 1000
#define QMGR_BUSY_RETRY_MS 5
#define QMGR_BUSY_ROUNDS 100
/* Incoming files moved per scan round; then events (triggers, agents'
 * replies) are served before the scan goes on. */
#define QMGR_SCAN_BUDGET 100

static int
conf_int(struct mail_conf *conf, const char *name)
{
	return (int)mail_conf_int(conf, name);
}

static void
qmgr_read_params(struct qmgr *q, struct mail_conf *conf)
{
	q->active_limit = conf_int(conf, "qmgr_message_active_limit");
	q->initial_concurrency = conf_int(conf,
					  "initial_destination_concurrency");
	q->default_concurrency_limit =
		conf_int(conf, "default_destination_concurrency_limit");
	q->default_recipient_limit =
		conf_int(conf, "default_destination_recipient_limit");
	q->failed_cohort_limit = conf_int(
		conf, "default_destination_concurrency_failed_cohort_limit");
	q->process_limit = conf_int(conf, "default_process_limit");
	q->default_rate_delay_ms =
		mail_conf_time(conf, "default_destination_rate_delay") * 1000;
	q->min_backoff = mail_conf_time(conf, "minimal_backoff_time");
	q->max_backoff = mail_conf_time(conf, "maximal_backoff_time");
	q->max_lifetime = mail_conf_time(conf, "maximal_queue_lifetime");
	q->bounce_lifetime = mail_conf_time(conf, "bounce_queue_lifetime");
	q->queue_run_delay = mail_conf_time(conf, "queue_run_delay");
	q->transport_retry = mail_conf_time(conf, "transport_retry_time");
	q->ipc_timeout_ms = mail_conf_time(conf, "qmgr_ipc_timeout") * 1000;
	q->defer_transports = xstrdup(mail_conf_str(conf, "defer_transports"));
	if (q->max_backoff < q->min_backoff)
		q->max_backoff = q->min_backoff;
}

/* ------------------------------------------------------------------ */
/* Scans.                                                               */

static bool
is_full(struct qmgr *q)
{
	if (q->message_count < q->active_limit)
		return false;
	q->is_clogged = true;
	return true;
}

static void
retry_active(struct event_loop *loop, void *ctx)
{
	struct qmgr *q = ctx;

	(void)loop;
	q->active_retry_timer = 0;
	q->want_active = true;
	qmgr_request_scan(q);
}

/* A file in active/ could not be loaded yet: look again soon. */
static void
retry_active_later(struct qmgr *q)
{
	if (q->active_retry_timer == 0)
		q->active_retry_timer = event_timer_add(
			q->loop, QMGR_ACTIVE_RETRY_MS, retry_active, q);
}

/*
 * Load the busy files again. A writer holds its lock only until the
 * fsync of its commit is done, so this is soon over; files still locked
 * after QMGR_BUSY_ROUNDS tries wait for the slower active/ rescan.
 */
static void
retry_busy(struct event_loop *loop, void *ctx)
{
	struct qmgr *q = ctx;
	struct argv *ids = q->busy_ids;

	(void)loop;
	q->busy_timer = 0;
	q->busy_ids = argv_create();
	for (size_t i = 0; i < ids->count; i++)
		if (qmgr_message_load(q, ids->items[i]) > 0)
			argv_add(q->busy_ids, ids->items[i]);
	argv_destroy(&ids);
	if (q->busy_ids->count == 0) {
		q->busy_rounds = 0;
	} else if (++q->busy_rounds >= QMGR_BUSY_ROUNDS) {
		argv_clear(q->busy_ids);
		q->busy_rounds = 0;
		retry_active_later(q);
	} else {
		q->busy_timer = event_timer_add(q->loop, QMGR_BUSY_RETRY_MS,
						retry_busy, q);
	}
	qmgr_sched_run(q);
}

/* Move one file into active/ and load it. */
static int
activate(struct qmgr *q, const char *from, const char *id)
{
	struct err err;

	if (queue_file_move(q->ql, from, MAIL_QUEUE_ACTIVE, id, &err) < 0) {
		if (errno != ENOENT)
			log_warning("%s: %s", id, err.text);
		return 0;
	}
	if (qmgr_message_load(q, id) > 0) {
		argv_add(q->busy_ids, id);
		if (q->busy_timer == 0)
			q->busy_timer = event_timer_add(
				q->loop, QMGR_BUSY_RETRY_MS, retry_busy, q);
	}
	return 0;
}

/* An incomplete file whose writer died is never deliverable. */
static void
remove_abandoned(const char *path, const char *id)
{
	if (unlink(path) < 0 && errno != ENOENT)
		log_warning("remove %s: %s", path, strerror(errno));
	else
		log_warning("%s: removed incomplete queue file left by a writer "
			    "that died", id);
}

static int
scan_incoming_file(const char *id, void *ctx)
{
	struct qmgr *q = ctx;
	struct strbuf path;
	struct stat st;
	int ret;

	if (is_full(q))
		return 1;
	if (q->scan_budget-- <= 0) {
		q->want_incoming = true; /* the rest after a look at events */
		return 1;
	}
	strbuf_init(&path, 4096);
	ret = queue_file_fullpath(q->ql, MAIL_QUEUE_INCOMING, id, &path);
	if (ret == 0 && lstat(strbuf_text(&path), &st) == 0 &&
	    S_ISREG(st.st_mode)) {
		if (queue_file_is_marked(&st))
			(void)activate(q, MAIL_QUEUE_INCOMING, id);
		else if (queue_file_is_abandoned(strbuf_text(&path)))
			remove_abandoned(strbuf_text(&path), id);
	}
	strbuf_deinit(&path);
	return 0;
}

struct deferred_scan {
	struct qmgr *qmgr;
	time_t now;
	bool want_all;
};

static int
scan_deferred_file(const char *id, void *ctx)
{
	struct deferred_scan *scan = ctx;
	struct qmgr *q = scan->qmgr;
	struct strbuf path;
	struct stat st;

	if (is_full(q))
		return 1;
	strbuf_init(&path, 4096);
	if (queue_file_fullpath(q->ql, MAIL_QUEUE_DEFERRED, id, &path) == 0 &&
	    lstat(strbuf_text(&path), &st) == 0 && S_ISREG(st.st_mode) &&
	    (scan->want_all || st.st_mtime <= scan->now))
		(void)activate(q, MAIL_QUEUE_DEFERRED, id);
	strbuf_deinit(&path);
	return 0;
}

/* Files left in active/: load those not yet in memory. */
static int
scan_active_file(const char *id, void *ctx)
{
	struct qmgr *q = ctx;

	if (htable_find(q->message_ids, id) != NULL)
		return 0;
	if (qmgr_message_load(q, id) > 0)
		retry_active_later(q);
	return 0;
}

static void
scan_queue(struct qmgr *q, const char *queue_name, queue_scan_fn *fn,
	   void *ctx)
{
	struct err err;

	if (queue_scan(q->ql, queue_name, fn, ctx, &err) < 0)
		log_warning("scan %s: %s", queue_name, err.text);
}


static void
run_scans(struct event_loop *loop, void *ctx)
{
	struct qmgr *q = ctx;

	(void)loop;
	q->scan_timer = 0;
	if (q->want_active) {
		q->want_active = false;
		scan_queue(q, MAIL_QUEUE_ACTIVE, scan_active_file, q);
	}
	if (q->want_incoming) {
		q->want_incoming = false;
		q->scan_budget = QMGR_SCAN_BUDGET;
		scan_queue(q, MAIL_QUEUE_INCOMING, scan_incoming_file, q);
	}
	if (q->want_deferred || q->want_all_deferred) {
		struct deferred_scan scan = { q, time(NULL),
					      q->want_all_deferred };

		q->want_deferred = q->want_all_deferred = false;
		scan_queue(q, MAIL_QUEUE_DEFERRED, scan_deferred_file, &scan);
	}
	qmgr_sched_run(q);
	if (q->want_incoming)
		qmgr_request_scan(q);
}

void
qmgr_request_scan(struct qmgr *q)
{
	if (q->scan_timer == 0)
		q->scan_timer = event_timer_add(q->loop, 0, run_scans, q);
}

static void
periodic_deferred_scan(struct event_loop *loop, void *ctx)
{
	struct qmgr *q = ctx;

	q->want_deferred = true;
	qmgr_request_scan(q);
	(void)event_timer_add(loop, (int)(q->queue_run_delay * 1000),
			      periodic_deferred_scan, q);
}

/* ------------------------------------------------------------------ */
/* Skeleton callbacks.                                                  */

static void
qmgr_trigger(struct server *server, const uint8_t *buf, size_t len)
{
	struct qmgr *q = server->ctx;

	for (size_t i = 0; i < len; i++) {
		switch (buf[i]) {
		case QMGR_REQ_SCAN_INCOMING:
			q->want_incoming = true;
			break;
		case QMGR_REQ_SCAN_DEFERRED:
			q->want_deferred = true;
			break;
		case QMGR_REQ_SCAN_ALL:
			q->want_all_deferred = true;
			break;
		case QMGR_REQ_FLUSH_DEAD:
			qmgr_sched_forget_dead(q);
			break;
		case QMGR_REQ_WAKEUP:
			q->want_incoming = q->want_deferred = true;
			break;
		default:
			break; /* unknown requests are ignored, as in Postfix */
		}
	}
	qmgr_request_scan(q);
}

/* Tables are opened with the privileges they may need. */
static void
qmgr_pre_init(struct server *server)
{
	struct qmgr *q = xcalloc(1, sizeof(*q));

	q->resolve = resolve_create(server->conf);
	server->ctx = q;
}

static void
qmgr_post_init(struct server *server)
{
	struct qmgr *q = server->ctx;
	struct err err;

	q->conf = server->conf;
	q->loop = server->loop;
	q->ql = queue_layout_for_daemon(server->conf, &err);
	if (q->ql == NULL)
		log_fatal("%s", err.text);
	q->transports = htable_create(16);
	q->message_ids = htable_create(1024);
	q->busy_ids = argv_create();
	qmgr_read_params(q, server->conf);
	q->bounce_path = xstrdup("private/bounce");
	/* A predecessor's active/ first, then new and due mail. */
	q->want_active = q->want_incoming = q->want_deferred = true;
	qmgr_request_scan(q);
	(void)event_timer_add(q->loop, (int)(q->queue_run_delay * 1000),
			      periodic_deferred_scan, q);
}

static const struct service_def qmgr_service = {
	.name = "qmgr",
	.kind = SKEL_TRIGGER,
	.is_long_lived = true,
	.pre_init = qmgr_pre_init,
	.post_init = qmgr_post_init,
	.on_trigger = qmgr_trigger,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &qmgr_service);
}
