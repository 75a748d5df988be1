/*
 * cleanup.c - the cleanup daemon: turns a submitted message into a queue
 * file.
 *
 * Skeleton: SKEL_SINGLE. master.cf: "cleanup unix n - n - 0 cleanup".
 * Speaks the protocol of global/cleanup_clnt.h: creates the queue file in
 * incoming/ on connect, checks and writes what the client sends, commits
 * (fsync) and only then replies status 0; on any failure the file is
 * removed before the reply. After a commit it triggers qmgr (public/qmgr;
 * nothing happens when qmgr is not there).
 * Touches: incoming/ and the public/qmgr trigger, as mail_owner. pre_init
 * opens the lookup tables (as Postfix does, before the privilege drop, so
 * root-only tables work); nothing else runs privileged.
 * Security: everything the client sends is untrusted and bounded
 * (line_length_limit per record, header_size_limit per header,
 * message_size_limit for the whole file, envelope included).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "cleanup_checks.h"
#include "cleanup_rewrite.h"
#include "global/cleanup_clnt.h"
#include "global/mail_queue.h"
#include "global/mail_server.h"
#include "global/mail_trigger.h"
#include "global/rec_type.h"
#include "global/record.h"
#include "util/attr_io.h"
#include "util/log.h"
#include "util/mymalloc.h"

/* How long the qmgr trigger may take to connect. */
#define CLEANUP_TRIGGER_TIMEOUT_MS 1000

void
cleanup_out(struct cleanup_state *st, int type, const void *data, size_t len)
{
	struct err err;
	long long limit = st->params->message_size_limit;

	if (st->errs != 0 || st->qf == NULL)
		return;
	if (queue_file_put(st->qf, type, data, len, &err) < 0) {
		st->write_errno = errno;
		log_warning("%s: %s", st->queue_id, err.text);
		st->errs |= CLEANUP_STAT_WRITE;
		return;
	}
	if (limit > 0 && queue_file_tell(st->qf) > limit) {
		log_warning("%s: queue file size limit exceeded", st->queue_id);
		st->errs |= CLEANUP_STAT_SIZE;
	}
}

void
cleanup_out_line(struct cleanup_state *st, const char *data, size_t len)
{
	size_t piece;

	while (len > QUEUE_FILE_LINE_PIECE) {
		piece = QUEUE_FILE_LINE_PIECE;
		cleanup_out(st, REC_TYPE_CONT, data, piece);
		data += piece;
		len -= piece;
	}
	cleanup_out(st, REC_TYPE_NORM, data, len);
}

/* Send the greeting or the final reply. */
static int
send_reply(struct stream *client, const struct cleanup_state *st,
	   bool is_greeting)
{
	struct cleanup_result res;
	struct strbuf msg;
	struct err err;
	int ret;

	cleanup_result_set(&res, st->errs, st->write_errno);
	cleanup_checks_reply(st, &res);
	strbuf_init(&msg, ATTR_IO_MESSAGE_MAX);
	if (is_greeting) {
		(void)attr_put_str(&msg, CLEANUP_ATTR_PROTOCOL,
				   CLEANUP_PROTOCOL, NULL);
		(void)attr_put_int(&msg, CLEANUP_ATTR_VERSION, CLEANUP_VERSION,
				   NULL);
	}
	(void)attr_put_int(&msg, CLEANUP_ATTR_STATUS, st->errs, NULL);
	if (is_greeting && st->errs == 0) {
		(void)attr_put_str(&msg, CLEANUP_ATTR_QUEUE_ID, st->queue_id,
				   NULL);
		(void)attr_put_int(&msg, CLEANUP_ATTR_LINE_LIMIT,
				   st->params->line_length_limit, NULL);
	} else {
		(void)attr_put_int(&msg, CLEANUP_ATTR_CODE, res.code, NULL);
		(void)attr_put_str(&msg, CLEANUP_ATTR_DSN, res.dsn, NULL);
		(void)attr_put_str(&msg, CLEANUP_ATTR_REASON, res.reason, NULL);
	}
	(void)attr_put_end(&msg, NULL);
	ret = attr_write(client, &msg, &err);
	strbuf_deinit(&msg);
	return ret;
}

/* Read the flags request; -1 on a protocol error or a lost client. */
static int
read_flags(struct stream *client, struct cleanup_state *st, struct err *err)
{
	struct attr_list *list = NULL;
	long long flags;
	int ret = attr_read(client, ATTR_IO_MESSAGE_MAX, &list, err);

	if (ret <= 0) {
		if (ret == 0)
			err_set(err, "lost connection");
		return -1;
	}
	ret = attr_get_int(list, CLEANUP_ATTR_FLAGS, &flags, err);
	attr_list_destroy(&list);
	if (ret < 0)
		return -1;
	if (flags < 0 || (flags & ~(long long)CLEANUP_FLAG_MASK) != 0) {
		err_set(err, "bad request flags %lld", flags);
		return -1;
	}
	st->flags = (int)flags;
	return 0;
}

/* Dispatch one client record by phase. */
static int
take_record(struct cleanup_state *st, int type, const char *data, size_t len,
	    bool *is_end_out, struct err *err)
{
	switch (st->phase) {
	case PHASE_START:
	case PHASE_ENVELOPE:
		cleanup_checks_note(st, type, data, len);
		return cleanup_envelope(st, type, data, len, err);
	case PHASE_CONTENT:
		if (type == REC_TYPE_XTRA)
			return cleanup_message_end(st, err);
		return cleanup_message_record(st, type, data, len, err);
	case PHASE_EXTRA:
		if (type != REC_TYPE_END) {
			err_set(err,
				"unexpected record type '%c' after the "
				"content",
				type);
			return -1;
		}
		*is_end_out = true;
		return 0;
	}
	return -1;
}

/*
 * Read records up to E. Returns 1 at E, 0 when the client went away, -1
 * with err for a protocol error.
 */
static int
read_records(struct stream *client, struct cleanup_state *st, struct err *err)
{
	struct record_reader rr;
	struct strbuf data;
	bool is_end = false;
	int type;
	int ret = 1;

	record_reader_init(&rr, client, "client", 0);
	strbuf_init(&data, (size_t)st->params->line_length_limit);
	while (!is_end && ret > 0) {
		ret = record_read(&rr, &type, &data, err);
		if (ret < 0 &&
		    (stream_is_eof(client) || stream_is_error(client)))
			ret = 0; /* the client went away */
		if (ret > 0 && take_record(st, type, data.data, data.len,
					   &is_end, err) < 0)
			ret = -1;
	}
	strbuf_deinit(&data);
	return ret;
}

static void
trigger_qmgr(const struct cleanup_state *st)
{
	char req = MAIL_TRIGGER_ARRIVED;
	struct err err;

	if (mail_trigger(MAIL_TRIGGER_QMGR, &req, 1, CLEANUP_TRIGGER_TIMEOUT_MS,
			 &err) < 0 &&
	    errno != ENOENT)
		log_warning("%s: %s", st->queue_id, err.text);
}

static void
commit(struct cleanup_state *st)
{
	struct err err;

	if (st->errs != 0 || cleanup_checks_is_discarded(st)) {
		queue_file_abort(&st->qf);
		return;
	}
	if (queue_file_commit(&st->qf, &err) < 0) {
		st->write_errno = errno;
		log_warning("%s: %s", st->queue_id, err.text);
		st->errs |= CLEANUP_STAT_WRITE;
	}
	cleanup_checks_committed(st);
}

/* Create the queue file; on failure the greeting reports it. */
static int
open_file(struct cleanup_state *st)
{
	struct err err;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	st->arrival = now;
	st->create_time = now.tv_sec;
	st->qf = queue_file_create(st->params->layout, MAIL_QUEUE_INCOMING,
				   0600, &err);
	if (st->qf == NULL) {
		st->write_errno = errno;
		log_warning("%s", err.text);
		st->errs = CLEANUP_STAT_WRITE;
		return -1;
	}
	snprintf(st->queue_id, sizeof(st->queue_id), "%s",
		 queue_file_id(st->qf));
	return 0;
}

static void
cleanup_serve(struct server *server, struct stream *client)
{
	struct cleanup_state st = { .params = server->ctx };
	struct err err;
	int ret;

	stream_set_timeout(client,
			   (int)mail_conf_time(server->conf, "ipc_timeout") *
				   1000);
	st.dups = htable_create(16);
	if (open_file(&st) < 0 || send_reply(client, &st, true) < 0 ||
	    read_flags(client, &st, &err) < 0) {
		queue_file_abort(&st.qf);
		cleanup_state_clear(&st);
		return;
	}
	ret = read_records(client, &st, &err);
	if (ret == 0) {
		/* The client gave up: so does the message, without a word. */
		queue_file_abort(&st.qf);
		cleanup_state_clear(&st);
		return;
	}
	if (ret < 0) {
		log_warning("%s: %s", st.queue_id, err.text);
		st.errs |= CLEANUP_STAT_BAD;
	}
	commit(&st);
	(void)send_reply(client, &st, false);
	if (st.errs == 0)
		trigger_qmgr(&st);
	cleanup_state_clear(&st);
}

/* Privileged: open the tables only. */
static void
cleanup_pre_init(struct server *server)
{
	struct cleanup_params *p = xcalloc(1, sizeof(*p));

	p->rewrite = cleanup_rewrite_create(server->conf);
	p->checks = cleanup_checks_create(server->conf);
	server->ctx = p;
}

static void
cleanup_init(struct server *server)
{
	struct err layout_err;
	struct mail_conf *conf = server->conf;
	struct cleanup_params *p = server->ctx;

	p->layout = queue_layout_for_daemon(conf, &layout_err);
	if (p->layout == NULL)
		log_fatal("%s", layout_err.text);
	p->message_size_limit = mail_conf_size(conf, "message_size_limit");
	p->header_size_limit = mail_conf_int(conf, "header_size_limit");
	p->hopcount_limit = mail_conf_int(conf, "hopcount_limit");
	p->detect_8bit_encoding_header =
		mail_conf_bool(conf, "detect_8bit_encoding_header");
	p->delay_warning_time = mail_conf_time(conf, "delay_warning_time");
	p->line_length_limit = mail_conf_int(conf, "line_length_limit");
	p->duplicate_filter_limit =
		mail_conf_int(conf, "duplicate_filter_limit");
	p->always_add_missing_headers =
		mail_conf_bool(conf, "always_add_missing_headers");
	p->myhostname = mail_conf_str(conf, "myhostname");
	p->header_from_format = mail_conf_str(conf, "header_from_format");
	p->undisclosed_recipients_header =
		mail_conf_str(conf, "undisclosed_recipients_header");
}

static void
cleanup_deinit(struct server *server)
{
	struct cleanup_params *p = server->ctx;

	if (p == NULL)
		return;
	queue_layout_destroy(&p->layout);
	cleanup_rewrite_destroy(&p->rewrite);
	cleanup_checks_destroy(&p->checks);
	free(p);
	server->ctx = NULL;
}

static const struct service_def cleanup_service = {
	.name = "cleanup",
	.kind = SKEL_SINGLE,
	.pre_init = cleanup_pre_init,
	.post_init = cleanup_init,
	.on_client = cleanup_serve,
	.on_exit = cleanup_deinit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &cleanup_service);
}
