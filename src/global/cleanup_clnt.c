/*
 * cleanup_clnt.c - the client stub of the cleanup protocol.
 *
 * See cleanup_clnt.h for the exchange. Records are buffered by the
 * stream and sent in large writes; nothing waits for the server until
 * cleanup_finish.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/cleanup_clnt.h"
#include "global/rec_type.h"
#include "global/record.h"
#include "util/attr_io.h"
#include "util/mymalloc.h"
#include "util/sockets.h"
#include "util/stream.h"

struct cleanup_clnt {
	struct stream *stream;
	char *path;
	char *queue_id;
	size_t line_limit;
	bool in_content;
};

static const struct {
	int status;
	int code;
	const char *dsn;
	const char *reason;
} cleanup_errors[] = {
	{ CLEANUP_STAT_BAD, 451, "4.3.0", "internal protocol error" },
	{ CLEANUP_STAT_HOPS, 554, "5.4.0", "too many hops" },
	{ CLEANUP_STAT_RCPT, 550, "5.1.0", "no recipients specified" },
	{ CLEANUP_STAT_CONT, 550, "5.7.1", "message content rejected" },
	{ CLEANUP_STAT_SIZE, 552, "5.3.4", "message file too big" },
	{ CLEANUP_STAT_WRITE, 451, "4.3.0", "queue file write error" },
};

void
cleanup_result_set(struct cleanup_result *result, int status, int write_errno)
{
	result->status = status;
	result->code = 250;
	snprintf(result->dsn, sizeof(result->dsn), "2.0.0");
	snprintf(result->reason, sizeof(result->reason), "queued");
	for (size_t i = 0;
	     i < sizeof(cleanup_errors) / sizeof(cleanup_errors[0]); i++) {
		if ((status & cleanup_errors[i].status) == 0)
			continue;
		result->code = cleanup_errors[i].code;
		snprintf(result->dsn, sizeof(result->dsn), "%s",
			 cleanup_errors[i].dsn);
		snprintf(result->reason, sizeof(result->reason), "%s",
			 cleanup_errors[i].reason);
		break;
	}
	if (status == CLEANUP_STAT_WRITE &&
	    (write_errno == ENOSPC || write_errno == EDQUOT)) {
		result->code = 452;
		snprintf(result->dsn, sizeof(result->dsn), "4.3.1");
		snprintf(result->reason, sizeof(result->reason),
			 "insufficient system storage");
	}
}

/* Read the reply attributes of a greeting or final reply. */
static void
reply_read(const struct attr_list *list, struct cleanup_result *result)
{
	long long status = CLEANUP_STAT_BAD;
	long long code = 451;
	const char *dsn = "4.3.0";
	const char *reason = "internal protocol error";

	(void)attr_get_int(list, CLEANUP_ATTR_STATUS, &status, NULL);
	cleanup_result_set(result, (int)status, 0);
	if (attr_get_int(list, CLEANUP_ATTR_CODE, &code, NULL) == 0)
		result->code = (int)code;
	if (attr_get_str(list, CLEANUP_ATTR_DSN, &dsn, NULL) == 0)
		snprintf(result->dsn, sizeof(result->dsn), "%s", dsn);
	if (attr_get_str(list, CLEANUP_ATTR_REASON, &reason, NULL) == 0)
		snprintf(result->reason, sizeof(result->reason), "%s", reason);
}

/* Check the greeting; 0 with the queue ID and line limit taken. */
static int
greeting_check(struct cleanup_clnt *cc, const struct attr_list *list,
	       struct cleanup_result *result, struct err *err)
{
	const char *proto = "";
	const char *id;
	long long version = -1;
	long long status = CLEANUP_STAT_BAD;
	long long limit = 0;

	(void)attr_get_str(list, CLEANUP_ATTR_PROTOCOL, &proto, NULL);
	(void)attr_get_int(list, CLEANUP_ATTR_VERSION, &version, NULL);
	if (strcmp(proto, CLEANUP_PROTOCOL) != 0 ||
	    version != CLEANUP_VERSION) {
		err_set(err, "%s: unexpected protocol \"%s\" version %lld",
			cc->path, proto, version);
		return -1;
	}
	if (attr_get_int(list, CLEANUP_ATTR_STATUS, &status, err) < 0 ||
	    status != 0) {
		reply_read(list, result);
		err_set(err, "%s: %d %s %s", cc->path, result->code,
			result->dsn, result->reason);
		return -1;
	}
	if (attr_get_str(list, CLEANUP_ATTR_QUEUE_ID, &id, err) < 0 ||
	    attr_get_int(list, CLEANUP_ATTR_LINE_LIMIT, &limit, err) < 0) {
		err_prefix(err, "%s: greeting", cc->path);
		return -1;
	}
	if (limit < 1 || limit > (long long)RECORD_LEN_MAX) {
		err_set(err, "%s: bad line_length_limit %lld", cc->path, limit);
		return -1;
	}
	cc->queue_id = xstrdup(id);
	cc->line_limit = (size_t)limit;
	return 0;
}

static int
send_flags(struct cleanup_clnt *cc, int flags, struct err *err)
{
	struct strbuf msg;
	int ret;

	strbuf_init(&msg, ATTR_IO_MESSAGE_MAX);
	ret = attr_put_int(&msg, CLEANUP_ATTR_FLAGS, flags, err) < 0 ||
			      attr_put_end(&msg, err) < 0 ||
			      attr_write(cc->stream, &msg, err) < 0
		      ? -1
		      : 0;
	strbuf_deinit(&msg);
	if (ret < 0)
		err_prefix(err, "%s", cc->path);
	return ret;
}

struct cleanup_clnt *
cleanup_open(const char *path, int flags, int timeout_ms,
	     struct cleanup_result *result_out, struct err *err)
{
	struct cleanup_result scratch;
	struct cleanup_clnt *cc;
	struct attr_list *list = NULL;
	int fd = sock_connect_unix(path, timeout_ms, err);
	int ret;

	if (result_out == NULL)
		result_out = &scratch;
	cleanup_result_set(result_out, CLEANUP_STAT_WRITE, 0);
	if (fd < 0)
		return NULL;
	cc = xcalloc(1, sizeof(*cc));
	cc->stream = stream_open(fd, 0);
	cc->path = xstrdup(path);
	stream_set_timeout(cc->stream,
			   timeout_ms < 0 ? STREAM_NO_TIMEOUT : timeout_ms);
	ret = attr_read(cc->stream, ATTR_IO_MESSAGE_MAX, &list, err);
	if (ret <= 0) {
		if (ret == 0)
			err_set(err, "connection closed");
		err_prefix(err, "%s: greeting", path);
	} else if (greeting_check(cc, list, result_out, err) == 0 &&
		   send_flags(cc, flags, err) == 0) {
		attr_list_destroy(&list);
		return cc;
	}
	attr_list_destroy(&list);
	cleanup_abort(&cc);
	return NULL;
}

const char *
cleanup_queue_id(const struct cleanup_clnt *cc)
{
	return cc->queue_id;
}

static int
put(struct cleanup_clnt *cc, int type, const void *data, size_t len,
    struct err *err)
{
	if (record_write(cc->stream, type, data, len) < 0) {
		err_set(err, "%s: write: %s", cc->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
put_str(struct cleanup_clnt *cc, int type, const char *text, struct err *err)
{
	return put(cc, type, text, strlen(text), err);
}

int
cleanup_arrival(struct cleanup_clnt *cc, const struct timespec *when,
		struct err *err)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%lld %ld", (long long)when->tv_sec,
		 when->tv_nsec / 1000);
	return put_str(cc, REC_TYPE_TIME, buf, err);
}

int
cleanup_fullname(struct cleanup_clnt *cc, const char *name, struct err *err)
{
	return put_str(cc, REC_TYPE_FULL, name, err);
}

int
cleanup_sender(struct cleanup_clnt *cc, const char *sender, struct err *err)
{
	return put_str(cc, REC_TYPE_FROM, sender, err);
}

int
cleanup_attr(struct cleanup_clnt *cc, const char *name, const char *value,
	     struct err *err)
{
	struct strbuf buf;
	int ret;

	strbuf_init(&buf, STRBUF_UNLIMITED);
	(void)strbuf_printf(&buf, "%s=%s", name, value);
	ret = put(cc, REC_TYPE_ATTR, buf.data, buf.len, err);
	strbuf_deinit(&buf);
	return ret;
}

int
cleanup_dsn_envid(struct cleanup_clnt *cc, const char *envid, struct err *err)
{
	return put_str(cc, REC_TYPE_DSN_ENVID, envid, err);
}

int
cleanup_recipient(struct cleanup_clnt *cc, const char *rcpt, const char *orcpt,
		  const char *dsn_orcpt, int notify, struct err *err)
{
	char buf[32];

	if (orcpt != NULL && put_str(cc, REC_TYPE_ORCP, orcpt, err) < 0)
		return -1;
	if (notify != 0) {
		snprintf(buf, sizeof(buf), "%d", notify);
		if (put_str(cc, REC_TYPE_DSN_NOTIFY, buf, err) < 0)
			return -1;
	}
	if (dsn_orcpt != NULL &&
	    put_str(cc, REC_TYPE_DSN_ORCPT, dsn_orcpt, err) < 0)
		return -1;
	return put_str(cc, REC_TYPE_RCPT, rcpt, err);
}

int
cleanup_content_line(struct cleanup_clnt *cc, const void *data, size_t len,
		     bool is_continued, struct err *err)
{
	const char *cp = data;

	if (!cc->in_content) {
		if (put(cc, REC_TYPE_MESG, "", 0, err) < 0)
			return -1;
		cc->in_content = true;
	}
	while (len > cc->line_limit) {
		if (put(cc, REC_TYPE_CONT, cp, cc->line_limit, err) < 0)
			return -1;
		cp += cc->line_limit;
		len -= cc->line_limit;
	}
	return put(cc, is_continued ? REC_TYPE_CONT : REC_TYPE_NORM, cp, len,
		   err);
}

static int
finish_send(struct cleanup_clnt *cc, struct err *err)
{
	if (!cc->in_content && put(cc, REC_TYPE_MESG, "", 0, err) < 0)
		return -1;
	if (put(cc, REC_TYPE_XTRA, "", 0, err) < 0 ||
	    put(cc, REC_TYPE_END, "", 0, err) < 0)
		return -1;
	if (stream_flush(cc->stream) < 0) {
		err_set(err, "%s: write: %s", cc->path, strerror(errno));
		return -1;
	}
	return 0;
}

int
cleanup_finish(struct cleanup_clnt **ccp, struct cleanup_result *result_out,
	       struct err *err)
{
	struct cleanup_clnt *cc = *ccp;
	struct attr_list *list = NULL;
	int ret = -1;

	cleanup_result_set(result_out, CLEANUP_STAT_WRITE, 0);
	/* A server that gave up early has replied: read that reply. */
	(void)finish_send(cc, err);
	ret = attr_read(cc->stream, ATTR_IO_MESSAGE_MAX, &list, err);
	if (ret <= 0) {
		if (ret == 0)
			err_set(err, "connection closed");
		err_prefix(err, "%s: reading the reply", cc->path);
		ret = -1;
	} else {
		reply_read(list, result_out);
		ret = result_out->status == 0 ? 0 : -1;
		if (ret < 0)
			err_set(err, "%d %s %s", result_out->code,
				result_out->dsn, result_out->reason);
	}
	attr_list_destroy(&list);
	cleanup_abort(ccp);
	return ret;
}

void
cleanup_abort(struct cleanup_clnt **ccp)
{
	struct cleanup_clnt *cc = *ccp;

	if (cc == NULL)
		return;
	/* Unsent output is dropped, not flushed: the message is given up. */
	if (cc->stream != NULL)
		(void)close(stream_detach(&cc->stream));
	free(cc->path);
	free(cc->queue_id);
	free(cc);
	*ccp = NULL;
}
