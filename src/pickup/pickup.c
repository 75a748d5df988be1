/*
 * pickup.c - the pickup daemon: hands maildrop/ files to cleanup.
 *
 * Skeleton: SKEL_TRIGGER. master.cf: "pickup unix n - y 60 1 pickup"
 * (Postfix 3.7's line; the wakeup of 60 seconds makes it rescan even
 * without a trigger). On every trigger it scans maildrop/ until a pass
 * removes nothing. A file is taken only if its name is a queue ID and it
 * is a regular file marked complete (owner rwx); others are left alone,
 * as files still being written are. Each file is checked record by record
 * (queue_file_walk) while it is copied to cleanup (public/cleanup, rewrite
 * context local), which gives the message its new queue ID; pickup adds a
 * Received: header naming the submitter's user ID, as Postfix does:
 *     Received: by HOST (Postfix, from userid 1000)
 *             id QUEUEID; DATE
 * and logs "QUEUEID: uid=1000 from=<sender>". The maildrop file is removed
 * only after cleanup said the message is queued, or when it can never be
 * queued (malformed: "warning: uid=N: ...", or cleanup refused it as bad
 * or without recipients); after any other trouble it stays for the next
 * scan.
 * Touches: maildrop/ (read and remove) and the cleanup socket, as
 * mail_owner. No pre_init: it needs no privilege.
 * Security: maildrop files come from any local user and are untrusted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/cleanup_clnt.h"
#include "global/header_fix.h"
#include "global/mail_queue.h"
#include "global/mail_server.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "global/rec_type.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

/* Parameters, read once in post_init. */
struct pickup_ctx {
	struct queue_layout *layout;
	char *cleanup_path;
	const char *myhostname;
	const char *mail_name;
	int timeout_ms;
};

enum pickup_outcome {
	PICKUP_REMOVE, /* queued, or never queueable */
	PICKUP_KEEP,   /* try again at the next scan */
	PICKUP_STOP,   /* cleanup is unreachable: end this scan */
};

/* One file on its way to cleanup. */
struct pickup_file {
	const struct pickup_ctx *ctx;
	const char *path;
	struct stat st;
	struct cleanup_clnt *cc;
	bool is_cleanup_error; /* the walk stopped on a cleanup write */
	bool has_content;      /* a content line was sent */
	char *sender;
	char *orcpt, *dsn_orcpt;
	int notify;
};

static int
hold(char **slot, const char *data)
{
	free(*slot);
	*slot = xstrdup(data);
	return 0;
}

/* The Received: header, as the first two content lines. */
static int
send_received(struct pickup_file *pf, struct err *err)
{
	struct strbuf line;
	int ret;

	strbuf_init(&line, STRBUF_UNLIMITED);
	(void)strbuf_printf(&line, "Received: by %s (%s, from userid %ld)",
			    pf->ctx->myhostname, pf->ctx->mail_name,
			    (long)pf->st.st_uid);
	ret = cleanup_content_line(pf->cc, line.data, line.len, false, err);
	strbuf_reset(&line);
	(void)strbuf_printf(&line, "\tid %s; ", cleanup_queue_id(pf->cc));
	header_fix_date(pf->st.st_mtime, &line);
	if (ret == 0)
		ret = cleanup_content_line(pf->cc, line.data, line.len, false,
					   err);
	strbuf_deinit(&line);
	return ret;
}

static int
start_content(struct pickup_file *pf, struct err *err)
{
	log_info("%s: uid=%ld from=<%s>", cleanup_queue_id(pf->cc),
		 (long)pf->st.st_uid, pf->sender ? pf->sender : "");
	return send_received(pf, err);
}

static int
send_line(struct pickup_file *pf, const struct queue_record *rec,
	  struct err *err)
{
	/* A first line starting with white space would continue our
	 * Received: header; an empty line keeps it apart, as in Postfix. */
	if (!pf->has_content && rec->len > 0 &&
	    (rec->data[0] == ' ' || rec->data[0] == '\t') &&
	    cleanup_content_line(pf->cc, "", 0, false, err) < 0)
		return -1;
	pf->has_content = true;
	return cleanup_content_line(pf->cc, rec->data, rec->len,
				    rec->type == REC_TYPE_CONT, err);
}

static int
send_recipient(struct pickup_file *pf, const char *rcpt, struct err *err)
{
	int ret = cleanup_recipient(pf->cc, rcpt, pf->orcpt, pf->dsn_orcpt,
				    pf->notify, err);

	free(pf->orcpt);
	free(pf->dsn_orcpt);
	pf->orcpt = pf->dsn_orcpt = NULL;
	pf->notify = 0;
	return ret;
}

static int
send_time(struct pickup_file *pf, const char *data, struct err *err)
{
	struct timespec when = { 0 };
	long long sec;
	long usec;

	if (queue_file_parse_time(data, &sec, &usec) < 0)
		return 0; /* the walk has refused it already */
	when.tv_sec = (time_t)sec;
	when.tv_nsec = usec * 1000;
	return cleanup_arrival(pf->cc, &when, err);
}

/* sendmail's report request; postdrop lets no other attribute through. */
static int
send_trace_flags(struct pickup_file *pf, const char *data, struct err *err)
{
	char value[16];
	int flags;

	if (rec_attr_trace_flags(data, &flags) <= 0) {
		log_warning("uid=%ld: ignoring attribute record: %.200s",
			    (long)pf->st.st_uid, data);
		return 0;
	}
	snprintf(value, sizeof(value), "%d", flags);
	return cleanup_attr(pf->cc, REC_ATTR_TRACE_FLAGS, value, err);
}

/* Forward one record; a write error to cleanup is marked as such. */
static int
forward(const struct queue_record *rec, void *ctx, struct err *err)
{
	struct pickup_file *pf = ctx;
	int ret = 0;

	switch (rec->type) {
	case REC_TYPE_TIME:
		ret = send_time(pf, rec->data, err);
		break;
	case REC_TYPE_FULL:
		ret = cleanup_fullname(pf->cc, rec->data, err);
		break;
	case REC_TYPE_FROM:
		(void)hold(&pf->sender, rec->data);
		ret = cleanup_sender(pf->cc, rec->data, err);
		break;
	case REC_TYPE_DSN_ENVID:
		ret = cleanup_dsn_envid(pf->cc, rec->data, err);
		break;
	case REC_TYPE_ORCP:
		return hold(&pf->orcpt, rec->data);
	case REC_TYPE_DSN_ORCPT:
		return hold(&pf->dsn_orcpt, rec->data);
	case REC_TYPE_DSN_NOTIFY:
		pf->notify = atoi(rec->data);
		return 0;
	case REC_TYPE_RCPT:
		ret = send_recipient(pf, rec->data, err);
		break;
	case REC_TYPE_MESG:
		ret = start_content(pf, err);
		break;
	case REC_TYPE_NORM:
	case REC_TYPE_CONT:
		ret = send_line(pf, rec, err);
		break;
	case REC_TYPE_ATTR:
		ret = send_trace_flags(pf, rec->data, err);
		break;
	default:
		return 0; /* C, X, E */
	}
	if (ret < 0)
		pf->is_cleanup_error = true;
	return ret;
}

static enum pickup_outcome
verdict(struct pickup_file *pf)
{
	struct cleanup_result res;
	struct err err;
	char id[QUEUE_ID_SIZE];

	snprintf(id, sizeof(id), "%s", cleanup_queue_id(pf->cc));
	if (cleanup_finish(&pf->cc, &res, &err) == 0)
		return PICKUP_REMOVE;
	log_warning("%s: error writing %s: %s", pf->path, id, res.reason);
	return (res.status & (CLEANUP_STAT_BAD | CLEANUP_STAT_RCPT))
		       ? PICKUP_REMOVE
		       : PICKUP_KEEP;
}

static enum pickup_outcome
copy_file(struct pickup_file *pf, int fd)
{
	struct cleanup_result res;
	struct err err;

	pf->cc = cleanup_open(pf->ctx->cleanup_path, CLEANUP_FLAG_LOCAL,
			      pf->ctx->timeout_ms, &res, &err);
	if (pf->cc == NULL) {
		log_warning("%s", err.text);
		return PICKUP_STOP;
	}
	if (queue_file_walk(fd, pf->path, 0, forward, pf, NULL, &err) < 0) {
		cleanup_abort(&pf->cc);
		if (pf->is_cleanup_error) {
			log_warning("%s", err.text);
			return PICKUP_KEEP;
		}
		log_warning("uid=%ld: %s", (long)pf->st.st_uid, err.text);
		return PICKUP_REMOVE;
	}
	return verdict(pf);
}

static enum pickup_outcome
pickup_file(const struct pickup_ctx *ctx, const char *id, const char *path)
{
	struct pickup_file pf = { .ctx = ctx, .path = path };
	enum pickup_outcome outcome;
	struct err err;
	int fd = queue_file_open(ctx->layout, MAIL_QUEUE_MAILDROP, id,
				 O_RDONLY | O_NONBLOCK, &err);

	if (fd < 0) {
		if (errno != ENOENT)
			log_warning("%s", err.text);
		return errno == EACCES || errno == ENOENT ? PICKUP_KEEP
							  : PICKUP_REMOVE;
	}
	if (fstat(fd, &pf.st) < 0 || !queue_file_is_marked(&pf.st)) {
		close(fd); /* still being written */
		return PICKUP_KEEP;
	}
	outcome = copy_file(&pf, fd);
	close(fd);
	free(pf.sender);
	free(pf.orcpt);
	free(pf.dsn_orcpt);
	return outcome;
}

/* True for a maildrop entry worth opening. */
static bool
is_candidate(const char *name, const char *path)
{
	struct stat st;

	if (!is_valid_queue_id(name) || lstat(path, &st) < 0)
		return false;
	return S_ISREG(st.st_mode) && queue_file_is_marked(&st);
}

/* One pass over maildrop/; returns how many files were removed, or -1
 * when cleanup could not be reached. */
static int
scan_once(const struct pickup_ctx *ctx)
{
	DIR *dir = opendir(MAIL_QUEUE_MAILDROP);
	struct dirent *de;
	struct strbuf path;
	int removed = 0;

	if (dir == NULL) {
		log_warning("open directory %s: %s", MAIL_QUEUE_MAILDROP,
			    strerror(errno));
		return -1;
	}
	strbuf_init(&path, STRBUF_UNLIMITED);
	while (removed >= 0 && (de = readdir(dir)) != NULL) {
		strbuf_reset(&path);
		(void)strbuf_printf(&path, "%s/%s", MAIL_QUEUE_MAILDROP,
				    de->d_name);
		if (!is_candidate(de->d_name, path.data))
			continue;
		switch (pickup_file(ctx, de->d_name, path.data)) {
		case PICKUP_REMOVE:
			if (unlink(path.data) < 0 && errno != ENOENT)
				log_warning("remove %s: %s", path.data,
					    strerror(errno));
			removed++;
			break;
		case PICKUP_KEEP:
			break;
		case PICKUP_STOP:
			removed = -1;
			break;
		}
	}
	strbuf_deinit(&path);
	closedir(dir);
	return removed;
}

static void
pickup_scan(struct server *server, const uint8_t *buf, size_t len)
{
	(void)buf;
	(void)len;
	while (scan_once(server->ctx) > 0)
		;
}

static void
pickup_init(struct server *server)
{
	struct err layout_err;
	struct mail_conf *conf = server->conf;
	struct pickup_ctx *ctx = xcalloc(1, sizeof(*ctx));
	struct strbuf path;

	if (server->args != NULL && server->args->count > 0)
		log_fatal("unexpected command-line argument: %s",
			  server->args->items[0]);
	ctx->layout = queue_layout_for_daemon(conf, &layout_err);
	if (ctx->layout == NULL)
		log_fatal("%s", layout_err.text);
	strbuf_init(&path, STRBUF_UNLIMITED);
	(void)strbuf_printf(&path, "public/%s",
			    mail_conf_str(conf, "cleanup_service_name"));
	ctx->cleanup_path = xstrdup(path.data);
	strbuf_deinit(&path);
	ctx->myhostname = mail_conf_str(conf, "myhostname");
	ctx->mail_name = mail_conf_str(conf, "mail_name");
	ctx->timeout_ms = (int)mail_conf_time(conf, "ipc_timeout") * 1000;
	server->ctx = ctx;
	pickup_scan(server, NULL, 0);
}

static void
pickup_deinit(struct server *server)
{
	struct pickup_ctx *ctx = server->ctx;

	if (ctx == NULL)
		return;
	queue_layout_destroy(&ctx->layout);
	free(ctx->cleanup_path);
	free(ctx);
	server->ctx = NULL;
}

static const struct service_def pickup_service = {
	.name = "pickup",
	.kind = SKEL_TRIGGER,
	.post_init = pickup_init,
	.on_trigger = pickup_scan,
	.on_exit = pickup_deinit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &pickup_service);
}
