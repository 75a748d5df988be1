/*
 * bounce_clnt.c - the client stub of the bounce protocol (bounce_clnt.h).
 *
 * One connection, one request: check the greeting, send op, queue_name
 * and queue_id, and read the status reply.
 */
#include <string.h>

#include "global/bounce_clnt.h"
#include "util/attr_io.h"
#include "util/sockets.h"
#include "util/stream.h"

static int
greeting_check(struct stream *s, const char *path, struct err *err)
{
	struct attr_list *list = NULL;
	const char *proto = "";
	long long version = -1;
	int ret = attr_read(s, ATTR_IO_MESSAGE_MAX, &list, err);

	if (ret <= 0) {
		if (ret == 0)
			err_set(err, "connection closed");
		err_prefix(err, "%s: greeting", path);
		return -1;
	}
	(void)attr_get_str(list, "protocol", &proto, NULL);
	(void)attr_get_int(list, "version", &version, NULL);
	ret = strcmp(proto, BOUNCE_PROTOCOL) == 0 && version == BOUNCE_VERSION
		      ? 0
		      : -1;
	if (ret < 0)
		err_set(err, "%s: unexpected protocol \"%s\" version %lld",
			path, proto, version);
	attr_list_destroy(&list);
	return ret;
}

static int
request_send(struct stream *s, const char *path, const char *op,
	     const char *queue_name, const char *queue_id, struct err *err)
{
	struct strbuf msg;
	int ret;

	strbuf_init(&msg, ATTR_IO_MESSAGE_MAX);
	ret = attr_put_str(&msg, "op", op, err) < 0 ||
			      attr_put_str(&msg, "queue_name", queue_name,
					   err) < 0 ||
			      attr_put_str(&msg, "queue_id", queue_id, err) <
				      0 ||
			      attr_put_end(&msg, err) < 0 ||
			      attr_write(s, &msg, err) < 0
		      ? -1
		      : 0;
	strbuf_deinit(&msg);
	if (ret < 0)
		err_prefix(err, "%s", path);
	return ret;
}

static int
reply_read(struct stream *s, const char *path, struct err *err)
{
	struct attr_list *list = NULL;
	long long status = -1;
	const char *reason = "no reason given";
	int ret = attr_read(s, ATTR_IO_MESSAGE_MAX, &list, err);

	if (ret <= 0) {
		if (ret == 0)
			err_set(err, "connection closed");
		err_prefix(err, "%s: reply", path);
		return -1;
	}
	if (attr_get_int(list, "status", &status, err) < 0) {
		err_prefix(err, "%s: reply", path);
		attr_list_destroy(&list);
		return -1;
	}
	if (status != 0) {
		(void)attr_get_str(list, "reason", &reason, NULL);
		err_set(err, "%s", reason);
	}
	attr_list_destroy(&list);
	return status == 0 ? 0 : -1;
}

int
bounce_request(const char *path, const char *op, const char *queue_name,
	       const char *queue_id, int timeout_ms, struct err *err)
{
	struct stream *s;
	int fd = sock_connect_unix(path, timeout_ms, err);
	int ret;

	if (fd < 0)
		return -1;
	s = stream_open(fd, 0);
	stream_set_timeout(s, timeout_ms < 0 ? STREAM_NO_TIMEOUT : timeout_ms);
	ret = greeting_check(s, path, err) == 0 &&
			      request_send(s, path, op, queue_name, queue_id,
					   err) == 0 &&
			      reply_read(s, path, err) == 0
		      ? 0
		      : -1;
	(void)stream_close(&s);
	return ret;
}
