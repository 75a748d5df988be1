/*
 * showq.c - the showq daemon: the queue listing for postqueue -p/-j,
 * mailq and sendmail -bp.
 *
 * Skeleton: SKEL_SINGLE (a listing is short work; postqueue also runs
 * "showq -S" on a pipe when the service is down). master.cf: "showq unix
 * n - n - - showq", which puts the socket in public/. For each client it
 * walks maildrop, active, incoming, deferred and hold (Postfix's order)
 * and sends one message per queue file (global/showq_clnt.h): sender,
 * arrival time, size (of the content; for maildrop files the file size,
 * as Postfix shows them) and the recipients not yet done, those with an
 * entry in the message's defer log first, in log order, with its reason,
 * then the others, as Postfix lists them. Files in maildrop and incoming
 * may still be being written: those without the completion mark that do
 * not read as whole queue files are skipped quietly. Other unreadable
 * or damaged files are skipped with a warning.
 * Touches: reads the queue and defer/ as mail_owner; writes nothing.
 * Security: queue files and defer logs are read through the bounded
 * readers; the client only receives.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/mail_queue.h"
#include "global/mail_server.h"
#include "global/msg_log.h"
#include "global/queue_file.h"
#include "global/queue_scan.h"
#include "global/rec_type.h"
#include "global/showq_clnt.h"
#include "util/argv.h"
#include "util/attr_io.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mymalloc.h"

struct showq_ctx {
	struct queue_layout *layout;
};

/* Queues in the order Postfix lists them. */
static const char *const showq_queues[] = {
	MAIL_QUEUE_MAILDROP, MAIL_QUEUE_ACTIVE, MAIL_QUEUE_INCOMING,
	MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,   NULL,
};

/* One queue file being listed. */
struct showq_file {
	const char *queue_name;
	const char *id;
	char *sender;
	struct argv *rcpts;     /* recipients not yet done */
	char **reasons;         /* per recipient, NULL for none */
	size_t *order;          /* listing order (indexes into rcpts) */
	size_t ordered;         /* entries in order */
	bool *is_listed;        /* already in order */
	struct htable *by_addr; /* address -> first index + 1 */
};

/* The state of one client. */
struct showq_session {
	const struct showq_ctx *ctx;
	struct stream *client;
	const char *queue_name; /* the queue being walked */
	struct strbuf msg;
	bool is_broken; /* the client went away */
};

static void
file_free(struct showq_file *sf)
{
	size_t count = sf->rcpts ? sf->rcpts->count : 0;

	for (size_t i = 0; sf->reasons != NULL && i < count; i++)
		free(sf->reasons[i]);
	free(sf->reasons);
	free(sf->order);
	free(sf->is_listed);
	free(sf->sender);
	argv_destroy(&sf->rcpts);
	htable_destroy(&sf->by_addr, NULL);
}

/* Record callback: the sender and the recipients still to deliver. */
static int
collect(const struct queue_record *rec, void *ctx, struct err *err)
{
	struct showq_file *sf = ctx;

	(void)err;
	if (rec->type == REC_TYPE_FROM) {
		free(sf->sender);
		sf->sender = xstrdup(rec->data);
	} else if (rec->type == REC_TYPE_RCPT) {
		argv_add(sf->rcpts, rec->data);
	}
	return 0;
}

static bool
may_be_unfinished(const char *queue_name)
{
	return strcmp(queue_name, MAIL_QUEUE_MAILDROP) == 0 ||
	       strcmp(queue_name, MAIL_QUEUE_INCOMING) == 0;
}

/* Read the envelope; -1 if the file is to be left out of the listing. */
static int
file_read(const struct showq_ctx *ctx, struct showq_file *sf,
	  struct showq_entry *entry)
{
	struct queue_file_info info;
	struct stat st = { 0 };
	struct err err;
	int flags = QUEUE_WALK_SKIP_CONTENT;
	int fd = queue_file_open(ctx->layout, sf->queue_name, sf->id,
				 O_RDONLY | O_NONBLOCK, &err);
	int ret;

	if (fd < 0) {
		if (errno != ENOENT) /* ENOENT: delivered or moved meanwhile */
			log_warning("%s; skipping this file", err.text);
		return -1;
	}
	if (may_be_unfinished(sf->queue_name))
		flags |= QUEUE_WALK_ANY_MODE;
	ret = fstat(fd, &st);
	if (ret == 0)
		ret = queue_file_walk(fd, sf->id, flags, collect, sf, &info,
				      &err);
	else
		err_set(&err, "%s: fstat: %s", sf->id, strerror(errno));
	(void)close(fd);
	if (ret < 0) {
		if (!(may_be_unfinished(sf->queue_name) &&
		      !queue_file_is_marked(&st)))
			log_warning("%s: %s; skipping this file",
				    sf->queue_name, err.text);
		return -1;
	}
	memset(entry, 0, sizeof(*entry));
	entry->queue_name = sf->queue_name;
	entry->queue_id = sf->id;
	entry->arrival_time =
		info.arrival_sec ? info.arrival_sec : (long long)st.st_mtime;
	entry->message_size = strcmp(sf->queue_name, MAIL_QUEUE_MAILDROP) == 0
				      ? (long long)st.st_size
				      : info.content_size;
	entry->sender = sf->sender ? sf->sender : "";
	return 0;
}

/* Put recipient i next in the listing, with reason (may be NULL). */
static void
list_rcpt(struct showq_file *sf, size_t i, const char *reason)
{
	sf->is_listed[i] = true;
	sf->order[sf->ordered++] = i;
	if (reason != NULL && *reason)
		sf->reasons[i] = xstrdup(reason);
}

/* Defer log callback: the first unlisted recipient of that address. */
static int
take_reason(const struct msg_log_entry *entry, void *ctx, struct err *err)
{
	struct showq_file *sf = ctx;
	uintptr_t first = (uintptr_t)htable_find(sf->by_addr, entry->recipient);

	(void)err;
	if (first == 0)
		return 0;
	for (size_t i = first - 1; i < sf->rcpts->count; i++) {
		if (!sf->is_listed[i] &&
		    strcmp(sf->rcpts->items[i], entry->recipient) == 0) {
			list_rcpt(sf, i, entry->reason);
			break;
		}
	}
	return 0;
}

static void
order_rcpts(const struct showq_ctx *ctx, struct showq_file *sf)
{
	size_t count = sf->rcpts->count;
	struct err err;

	sf->reasons = xcalloc(count + 1, sizeof(*sf->reasons));
	sf->order = xcalloc(count + 1, sizeof(*sf->order));
	sf->is_listed = xcalloc(count + 1, sizeof(*sf->is_listed));
	if (strcmp(sf->queue_name, MAIL_QUEUE_MAILDROP) != 0) {
		sf->by_addr = htable_create(count);
		for (size_t i = count; i > 0; i--)
			htable_set(sf->by_addr, sf->rcpts->items[i - 1],
				   (void *)(uintptr_t)i, NULL);
		if (msg_log_read(ctx->layout, MSG_LOG_DEFER, sf->id,
				 take_reason, sf, &err) < 0)
			log_warning("%s: %s; not showing delay reasons", sf->id,
				    err.text);
	}
	for (size_t i = 0; i < count; i++)
		if (!sf->is_listed[i])
			list_rcpt(sf, i, NULL);
}

static void
session_send(struct showq_session *ss)
{
	struct err err;

	if (!ss->is_broken && attr_write(ss->client, &ss->msg, &err) < 0) {
		log_warning("showq client: %s", err.text);
		ss->is_broken = true;
	}
}

static void
encode_failed(struct showq_session *ss, const char *id, struct err *err)
{
	log_warning("%s: %s; listing stopped", id, err->text);
	ss->is_broken = true;
}

/* Send the entry and its recipients in chunks. */
static void
file_send(struct showq_session *ss, struct showq_file *sf,
	  const struct showq_entry *entry)
{
	size_t count = sf->ordered;
	struct showq_rcpt *rcpts = xcalloc(count + 1, sizeof(*rcpts));
	size_t start = 0;
	struct err err;

	for (size_t k = 0; k < count; k++) {
		rcpts[k].address = sf->rcpts->items[sf->order[k]];
		rcpts[k].delay_reason = sf->reasons[sf->order[k]];
	}
	do {
		size_t end = start;
		size_t bytes = 0;
		int ret;

		while (end < count && end - start < SHOWQ_RCPT_CHUNK &&
		       bytes < SHOWQ_CHUNK_BYTES) {
			bytes += strlen(rcpts[end].address) +
				 (rcpts[end].delay_reason
					  ? strlen(rcpts[end].delay_reason)
					  : 0);
			end++;
		}
		ret = start == 0
			      ? showq_put_entry(&ss->msg, entry, rcpts, end,
						end < count, &err)
			      : showq_put_more(&ss->msg, rcpts + start,
					       end - start, end < count, &err);
		if (ret < 0)
			encode_failed(ss, entry->queue_id, &err);
		session_send(ss);
		start = end;
	} while (start < count && !ss->is_broken);
	free(rcpts);
}

static int
show_file(const char *id, void *ctx)
{
	struct showq_session *ss = ctx;
	struct showq_file sf = { .queue_name = ss->queue_name, .id = id };
	struct showq_entry entry;

	sf.rcpts = argv_create();
	if (file_read(ss->ctx, &sf, &entry) == 0) {
		order_rcpts(ss->ctx, &sf);
		file_send(ss, &sf, &entry);
	}
	file_free(&sf);
	return ss->is_broken ? 1 : 0;
}

static void
showq_serve(struct server *server, struct stream *client)
{
	struct showq_session ss = { .ctx = server->ctx, .client = client };
	struct err err;

	strbuf_init(&ss.msg, SHOWQ_MESSAGE_MAX);
	if (showq_put_greeting(&ss.msg, &err) == 0)
		session_send(&ss);
	for (int i = 0; showq_queues[i] != NULL && !ss.is_broken; i++) {
		ss.queue_name = showq_queues[i];
		if (queue_scan(ss.ctx->layout, ss.queue_name, show_file, &ss,
			       &err) < 0 &&
		    errno != ENOENT)
			log_warning("%s", err.text);
	}
	if (!ss.is_broken && showq_put_end(&ss.msg, &err) == 0)
		session_send(&ss);
	strbuf_deinit(&ss.msg);
}

static void
showq_init(struct server *server)
{
	struct err layout_err;
	struct mail_conf *conf = server->conf;
	struct showq_ctx *ctx = xcalloc(1, sizeof(*ctx));

	if (server->args != NULL && server->args->count > 0)
		log_fatal("unexpected command-line argument: %s",
			  server->args->items[0]);
	/* The skeleton has changed to queue_directory (maybe a chroot). */
	ctx->layout = queue_layout_for_daemon(conf, &layout_err);
	if (ctx->layout == NULL)
		log_fatal("%s", layout_err.text);
	server->ctx = ctx;
}

static void
showq_deinit(struct server *server)
{
	struct showq_ctx *ctx = server->ctx;

	if (ctx == NULL)
		return;
	queue_layout_destroy(&ctx->layout);
	free(ctx);
	server->ctx = NULL;
}

static const struct service_def showq_service = {
	.name = "showq",
	.kind = SKEL_SINGLE,
	.post_init = showq_init,
	.on_client = showq_serve,
	.on_exit = showq_deinit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &showq_service);
}
