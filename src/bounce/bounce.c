/*
 * bounce.c - the bounce daemon: delivery status notifications.
 *
 * Skeleton: SKEL_SINGLE. master.cf: "bounce unix - - n - 0 bounce".
 * Speaks the protocol of global/bounce_clnt.h: qmgr names a message and
 * an operation (flush, expire, warn, trace); this daemon decides who is
 * told (the sender, per DSN NOTIFY; the postmaster, per notify_classes;
 * never a bounce for a bounce), submits each notice through cleanup and
 * only then removes the log it used and replies status=0. On any failure
 * it replies status=1 and leaves the logs as they were.
 * Touches: reads the queue file and the bounce/defer/trace logs, removes
 * those logs, connects to public/cleanup; as mail_owner. Nothing runs
 * privileged.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bounce.h"
#include "global/bounce_clnt.h"
#include "global/svc_clnt.h"
#include "global/mail_queue.h"
#include "global/mail_server.h"
#include "global/queue_id.h"
#include "global/rec_type.h"
#include "util/attr_io.h"
#include "util/log.h"
#include "util/mymalloc.h"

/* Which notice a request asks for. */
struct bounce_request {
	const char *op;
	const char *queue_name;
	const char *queue_id;
};

static bool
is_double_bounce(const struct bounce_params *p, const char *sender)
{
	return strcasecmp(sender, p->double_bounce) == 0;
}

/* Keep the entries whose DSN NOTIFY asks for this kind of notice. */
static void
entries_filter(const struct bounce_entries *all, enum dsn_report_kind kind,
	       struct bounce_entries *out)
{
	for (size_t i = 0; i < all->count; i++) {
		int f = all->items[i].notify_flags;
		bool want;

		if (kind == DSN_REPORT_TRACE)
			want = true; /* asked for by the sender himself */
		else if (kind == DSN_REPORT_SUCCESS)
			want = (f & REC_DSN_NOTIFY_SUCCESS) != 0;
		else if (f & REC_DSN_NOTIFY_NEVER)
			want = false;
		else if (kind == DSN_REPORT_DELAY)
			want = f == 0 || (f & REC_DSN_NOTIFY_DELAY) != 0;
		else
			want = f == 0 || (f & REC_DSN_NOTIFY_FAILURE) != 0;
		if (want)
			bounce_entries_add(out, &all->items[i]);
	}
}

/* Send one notice and log "ID: WHO KIND notification: NEWID". */
static int
notice(const struct bounce_params *p, const struct bounce_request *req,
       const struct bounce_message *msg, struct dsn_report_info *info,
       const char *sender, const char *rcpt, const struct bounce_entries *list,
       const char *force_action, const char *what, struct err *err)
{
	struct strbuf new_id;
	int ret;

	strbuf_init(&new_id, STRBUF_UNLIMITED);
	ret = bounce_notice_send(p, info, req->queue_id, msg, sender, rcpt,
				 list, force_action, &new_id, err);
	if (ret == 0)
		log_info("%s: %s notification: %s", req->queue_id, what,
			 new_id.data);
	strbuf_deinit(&new_id);
	return ret;
}

/* A message from the null sender failed: only the postmaster may hear. */
static int
failure_of_bounce(const struct bounce_params *p,
		  const struct bounce_request *req,
		  const struct bounce_message *msg,
		  const struct bounce_entries *all, const char *force_action,
		  struct err *err)
{
	struct dsn_report_info info = {
		.kind = DSN_REPORT_FAILURE,
		.is_postmaster_copy = true,
	};

	if ((p->notify_classes & BOUNCE_NOTIFY_2BOUNCE) == 0) {
		log_info("%s: undeliverable bounce discarded (notify_classes "
			 "excludes 2bounce)",
			 req->queue_id);
		return 0;
	}
	return notice(p, req, msg, &info, p->double_bounce,
		      p->twobounce_notice_recipient, all, force_action,
		      "postmaster non-delivery", err);
}

/* flush and expire: a non-delivery report. */
static int
failure_report(const struct bounce_params *p, const struct bounce_request *req,
	       const struct bounce_message *msg,
	       const struct bounce_entries *all, const char *force_action,
	       struct err *err)
{
	struct dsn_report_info info = { .kind = DSN_REPORT_FAILURE };
	struct dsn_report_info copy = {
		.kind = DSN_REPORT_FAILURE,
		.is_postmaster_copy = true,
		.want_headers_only = true,
	};
	struct bounce_entries wanted = { 0 };
	struct err copy_err;
	int ret = 0;

	if (is_double_bounce(p, msg->sender)) {
		log_warning("%s: undeliverable postmaster notification "
			    "discarded",
			    req->queue_id);
		return 0;
	}
	if (*msg->sender == 0)
		return failure_of_bounce(p, req, msg, all, force_action, err);
	entries_filter(all, DSN_REPORT_FAILURE, &wanted);
	if (wanted.count > 0)
		ret = notice(p, req, msg, &info, "", msg->sender, &wanted,
			     force_action, "sender non-delivery", err);
	bounce_entries_free(&wanted);
	if (ret == 0 && (p->notify_classes & BOUNCE_NOTIFY_BOUNCE) &&
	    notice(p, req, msg, &copy, p->double_bounce,
		   p->bounce_notice_recipient, all, force_action,
		   "postmaster non-delivery", &copy_err) < 0)
		log_warning("%s: postmaster notice failed while bouncing to "
			    "%s: %s",
			    req->queue_id, msg->sender, copy_err.text);
	return ret;
}

/* warn: a delay notice; the defer log stays. */
static int
delay_report(const struct bounce_params *p, const struct bounce_request *req,
	     const struct bounce_message *msg, const struct bounce_entries *all,
	     struct err *err)
{
	struct dsn_report_info info = {
		.kind = DSN_REPORT_DELAY,
		.want_headers_only = true,
	};
	struct dsn_report_info copy = {
		.kind = DSN_REPORT_DELAY,
		.is_postmaster_copy = true,
		.want_headers_only = true,
	};
	struct bounce_entries wanted = { 0 };
	struct err copy_err;
	int ret = 0;

	if (is_double_bounce(p, msg->sender))
		return 0;
	if (*msg->sender == 0) {
		if ((p->notify_classes & BOUNCE_NOTIFY_2BOUNCE) == 0)
			return 0;
		return notice(p, req, msg, &copy, p->double_bounce,
			      p->twobounce_notice_recipient, all, NULL,
			      "postmaster delay", err);
	}
	entries_filter(all, DSN_REPORT_DELAY, &wanted);
	if (wanted.count > 0)
		ret = notice(p, req, msg, &info, "", msg->sender, &wanted, NULL,
			     "sender delay", err);
	bounce_entries_free(&wanted);
	if (ret == 0 && (p->notify_classes & BOUNCE_NOTIFY_DELAY) &&
	    notice(p, req, msg, &copy, p->double_bounce,
		   p->delay_notice_recipient, all, NULL, "postmaster delay",
		   &copy_err) < 0)
		log_warning("%s: postmaster notice failed while warning %s: %s",
			    req->queue_id, msg->sender, copy_err.text);
	return ret;
}

/*
 * trace: the status report sendmail -v or -bv asked for, else success
 * notices for NOTIFY=SUCCESS recipients.
 */
static int
success_report(const struct bounce_params *p, const struct bounce_request *req,
	       const struct bounce_message *msg,
	       const struct bounce_entries *all, struct err *err)
{
	struct dsn_report_info info = {
		.kind = msg->trace_flags != 0 ? DSN_REPORT_TRACE
					      : DSN_REPORT_SUCCESS,
		.want_headers_only = true,
	};
	struct bounce_entries wanted = { 0 };
	int ret = 0;

	if (is_double_bounce(p, msg->sender)) {
		log_info("%s: not sending trace/success notification for "
			 "double-bounce message",
			 req->queue_id);
		return 0;
	}
	if (*msg->sender == 0) {
		log_info("%s: not sending trace/success notification for "
			 "single-bounce message",
			 req->queue_id);
		return 0;
	}
	entries_filter(all, info.kind, &wanted);
	if (wanted.count > 0)
		ret = notice(p, req, msg, &info, "", msg->sender, &wanted, NULL,
			     "sender delivery status", err);
	bounce_entries_free(&wanted);
	return ret;
}

/* The logs an operation reads, NULL-terminated; the first is required. */
static const char *const *
op_logs(const char *op)
{
	static const char *const flush[] = { MSG_LOG_BOUNCE, NULL };
	static const char *const expire[] = { MSG_LOG_BOUNCE, MSG_LOG_DEFER,
					      NULL };
	static const char *const warn[] = { MSG_LOG_DEFER, NULL };
	static const char *const trace[] = { MSG_LOG_TRACE, NULL };

	if (strcmp(op, BOUNCE_OP_FLUSH) == 0)
		return flush;
	if (strcmp(op, BOUNCE_OP_EXPIRE) == 0)
		return expire;
	if (strcmp(op, BOUNCE_OP_WARN) == 0)
		return warn;
	if (strcmp(op, BOUNCE_OP_TRACE) == 0)
		return trace;
	return NULL;
}

static int
report_dispatch(const struct bounce_params *p, const struct bounce_request *req,
		const struct bounce_message *msg,
		const struct bounce_entries *all, struct err *err)
{
	if (strcmp(req->op, BOUNCE_OP_FLUSH) == 0)
		return failure_report(p, req, msg, all, NULL, err);
	if (strcmp(req->op, BOUNCE_OP_EXPIRE) == 0)
		return failure_report(p, req, msg, all, "failed", err);
	if (strcmp(req->op, BOUNCE_OP_WARN) == 0)
		return delay_report(p, req, msg, all, err);
	return success_report(p, req, msg, all, err);
}

/* Remove the logs a finished notice used (warn keeps its defer log). */
static void
logs_remove(const struct bounce_params *p, const struct bounce_request *req,
	    const char *const *logs)
{
	struct err err;

	if (strcmp(req->op, BOUNCE_OP_WARN) == 0)
		return;
	for (; *logs != NULL; logs++)
		if (msg_log_remove(p->ql, *logs, req->queue_id, &err) < 0)
			log_warning("%s: %s", req->queue_id, err.text);
}

/* Carry out one request: 0 when done (or nothing was due). */
static int
bounce_handle(const struct bounce_params *p, const struct bounce_request *req,
	      struct err *err)
{
	const char *const *logs = op_logs(req->op);
	struct bounce_message msg = { 0 };
	struct bounce_entries all = { 0 };
	int ret = 0;

	for (const char *const *l = logs; *l != NULL && ret == 0; l++)
		if (bounce_entries_read(p, *l, req->queue_id, &all, err) < 0)
			ret = -1;
	if (ret == 0 && all.count == 0) {
		if (strcmp(req->op, BOUNCE_OP_TRACE) == 0)
			log_info("%s: no trace file -- not sending a "
				 "notification",
				 req->queue_id);
	} else if (ret == 0) {
		ret = bounce_message_read(p, req->queue_name, req->queue_id,
					  &msg, err);
		if (ret == 0)
			ret = report_dispatch(p, req, &msg, &all, err);
		if (ret == 0 && strcmp(req->op, BOUNCE_OP_EXPIRE) == 0)
			log_info("%s: from=<%s>, status=expired, returned to "
				 "sender",
				 req->queue_id, msg.sender);
		if (ret == 0)
			logs_remove(p, req, logs);
	}
	bounce_entries_free(&all);
	bounce_message_free(&msg);
	return ret;
}

/* Check a request's values; -1 with err on nonsense. */
static int
request_check(const struct attr_list *list, struct bounce_request *req,
	      struct err *err)
{
	static const char *const queues[] = {
		MAIL_QUEUE_INCOMING,
		MAIL_QUEUE_ACTIVE,
		MAIL_QUEUE_DEFERRED,
		MAIL_QUEUE_HOLD,
		NULL,
	};
	bool is_queue = false;

	if (attr_get_str(list, "op", &req->op, err) < 0 ||
	    attr_get_str(list, "queue_name", &req->queue_name, err) < 0 ||
	    attr_get_str(list, "queue_id", &req->queue_id, err) < 0)
		return -1;
	for (size_t i = 0; queues[i] != NULL; i++)
		if (strcmp(req->queue_name, queues[i]) == 0)
			is_queue = true;
	if (op_logs(req->op) == NULL) {
		err_set(err, "unknown op \"%s\"", req->op);
		return -1;
	}
	if (!is_queue) {
		err_set(err, "bad queue name \"%s\"", req->queue_name);
		return -1;
	}
	if (!is_valid_queue_id(req->queue_id)) {
		err_set(err, "bad queue ID \"%s\"", req->queue_id);
		return -1;
	}
	return 0;
}

static void
reply_send(struct stream *client, int status, const char *reason)
{
	struct strbuf msg;
	struct err err;

	strbuf_init(&msg, ATTR_IO_MESSAGE_MAX);
	(void)attr_put_int(&msg, "status", status, NULL);
	if (status != 0)
		(void)attr_put_str(&msg, "reason", reason, NULL);
	(void)attr_put_end(&msg, NULL);
	if (attr_write(client, &msg, &err) < 0)
		log_warning("bounce reply: %s", err.text);
	strbuf_deinit(&msg);
}

static void
bounce_serve(struct server *server, struct stream *client)
{
	const struct bounce_params *p = server->ctx;
	struct bounce_request req;
	struct attr_list *list = NULL;
	struct err err;
	int ret;

	stream_set_timeout(client, p->timeout_ms);
	ret = svc_greet(client, BOUNCE_PROTOCOL, BOUNCE_VERSION, &err) < 0
		      ? -1
		      : attr_read(client, ATTR_IO_MESSAGE_MAX, &list, &err);
	if (ret <= 0) {
		if (ret < 0)
			log_warning("bounce request: %s", err.text);
		return;
	}
	if (request_check(list, &req, &err) < 0) {
		log_warning("bounce request: %s", err.text);
		reply_send(client, 1, err.text);
	} else if (bounce_handle(p, &req, &err) < 0) {
		log_warning("%s: %s notice failed: %s", req.queue_id, req.op,
			    err.text);
		reply_send(client, 1, err.text);
	} else {
		reply_send(client, 0, NULL);
	}
	attr_list_destroy(&list);
}

static int
notify_classes_parse(struct mail_conf *conf)
{
	struct argv *list = mail_conf_list(conf, "notify_classes");
	int mask = 0;

	for (size_t i = 0; i < list->count; i++) {
		const char *c = list->items[i];

		if (strcasecmp(c, "bounce") == 0)
			mask |= BOUNCE_NOTIFY_BOUNCE | BOUNCE_NOTIFY_2BOUNCE;
		else if (strcasecmp(c, "2bounce") == 0)
			mask |= BOUNCE_NOTIFY_2BOUNCE;
		else if (strcasecmp(c, "delay") == 0)
			mask |= BOUNCE_NOTIFY_DELAY;
	}
	argv_destroy(&list);
	return mask;
}

static void
bounce_init(struct server *server)
{
	struct err layout_err;
	struct mail_conf *conf = server->conf;
	struct bounce_params *p = xcalloc(1, sizeof(*p));

	if (server->args != NULL && server->args->count > 0)
		log_fatal("unexpected command-line argument: %s",
			  server->args->items[0]);
	p->ql = queue_layout_for_daemon(conf, &layout_err);
	if (p->ql == NULL)
		log_fatal("%s", layout_err.text);
	p->cleanup_path = xasprintf(
		"public/%s", mail_conf_str(conf, "cleanup_service_name"));
	p->myhostname = mail_conf_str(conf, "myhostname");
	p->mail_name = mail_conf_str(conf, "mail_name");
	p->double_bounce =
		xasprintf("%s@%s", mail_conf_str(conf, "double_bounce_sender"),
			  p->myhostname);
	p->bounce_notice_recipient =
		mail_conf_str(conf, "bounce_notice_recipient");
	p->twobounce_notice_recipient =
		mail_conf_str(conf, "2bounce_notice_recipient");
	p->delay_notice_recipient =
		mail_conf_str(conf, "delay_notice_recipient");
	p->notify_classes = notify_classes_parse(conf);
	p->timeout_ms = (int)mail_conf_time(conf, "ipc_timeout") * 1000;
	p->bounce_size_limit = mail_conf_int(conf, "bounce_size_limit");
	p->delay_warning_time = mail_conf_time(conf, "delay_warning_time");
	p->maximal_queue_lifetime =
		mail_conf_time(conf, "maximal_queue_lifetime");
	p->bounce_queue_lifetime =
		mail_conf_time(conf, "bounce_queue_lifetime");
	server->ctx = p;
}

static void
bounce_deinit(struct server *server)
{
	struct bounce_params *p = server->ctx;

	if (p == NULL)
		return;
	queue_layout_destroy(&p->ql);
	free(p->cleanup_path);
	free(p->double_bounce);
	free(p);
	server->ctx = NULL;
}

static const struct service_def bounce_service = {
	.name = "bounce",
	.kind = SKEL_SINGLE,
	.post_init = bounce_init,
	.on_client = bounce_serve,
	.on_exit = bounce_deinit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &bounce_service);
}
