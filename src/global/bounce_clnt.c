/*
 * bounce_clnt.c - the client stub of the bounce protocol (bounce_clnt.h).
 *
 * One connection, one request: check the greeting, send op, queue_name
 * and queue_id, and read the status reply.
 */
#include "global/bounce_clnt.h"
#include "global/svc_clnt.h"
#include "util/attr_io.h"
#include "util/stream.h"

static int
request_encode(struct strbuf *msg, const char *op, const char *queue_name,
	       const char *queue_id, struct err *err)
{
	return attr_put_str(msg, "op", op, err) < 0 ||
			       attr_put_str(msg, "queue_name", queue_name, err) <
				       0 ||
			       attr_put_str(msg, "queue_id", queue_id, err) < 0 ||
			       attr_put_end(msg, err) < 0
		       ? -1
		       : 0;
}

static int
reply_check(const struct attr_list *list, const char *path, struct err *err)
{
	long long status = -1;
	const char *reason = "no reason given";

	if (attr_get_int(list, "status", &status, err) < 0) {
		err_prefix(err, "%s: reply", path);
		return -1;
	}
	if (status != 0) {
		(void)attr_get_str(list, "reason", &reason, NULL);
		err_set(err, "%s", reason);
		return -1;
	}
	return 0;
}

int
bounce_request(const char *path, const char *op, const char *queue_name,
	       const char *queue_id, int timeout_ms, struct err *err)
{
	struct attr_list *reply = NULL;
	struct strbuf msg;
	struct stream *s;
	int ret = -1;

	s = svc_connect(path, BOUNCE_PROTOCOL, BOUNCE_VERSION, timeout_ms, err);
	if (s == NULL)
		return -1;
	strbuf_init(&msg, ATTR_IO_MESSAGE_MAX);
	if (request_encode(&msg, op, queue_name, queue_id, err) < 0 ||
	    svc_call(s, &msg, ATTR_IO_MESSAGE_MAX, &reply, err) < 0)
		err_prefix(err, "%s", path);
	else
		ret = reply_check(reply, path, err);
	attr_list_destroy(&reply);
	strbuf_deinit(&msg);
	(void)stream_close(&s);
	return ret;
}
