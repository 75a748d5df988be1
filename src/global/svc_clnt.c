/*
 * svc_clnt.c - greeting, connect and call for internal services.
 */
#include <string.h>

#include "global/svc_clnt.h"
#include "util/attr_io.h"
#include "util/sockets.h"

int
svc_greet(struct stream *s, const char *protocol, int version,
	  struct err *err)
{
	struct strbuf msg;
	int ret;

	strbuf_init(&msg, ATTR_IO_MESSAGE_MAX);
	ret = attr_put_str(&msg, SVC_ATTR_PROTOCOL, protocol, err) < 0 ||
			      attr_put_int(&msg, SVC_ATTR_VERSION, version,
					   err) < 0 ||
			      attr_put_end(&msg, err) < 0 ||
			      attr_write(s, &msg, err) < 0
		      ? -1
		      : 0;
	strbuf_deinit(&msg);
	return ret;
}

static int
greeting_check(struct stream *s, const char *path, const char *protocol,
	       int version, struct err *err)
{
	struct attr_list *list = NULL;
	const char *got = "";
	long long got_version = -1;
	int ret = attr_read(s, ATTR_IO_MESSAGE_MAX, &list, err);

	if (ret <= 0) {
		if (ret == 0)
			err_set(err, "connection closed");
		err_prefix(err, "%s: greeting", path);
		return -1;
	}
	(void)attr_get_str(list, SVC_ATTR_PROTOCOL, &got, NULL);
	(void)attr_get_int(list, SVC_ATTR_VERSION, &got_version, NULL);
	ret = strcmp(got, protocol) == 0 && got_version == version ? 0 : -1;
	if (ret < 0)
		err_set(err, "%s: unexpected protocol \"%s\" version %lld",
			path, got, got_version);
	attr_list_destroy(&list);
	return ret;
}

struct stream *
svc_connect(const char *path, const char *protocol, int version,
	    int timeout_ms, struct err *err)
{
	int fd = sock_connect_unix(path, timeout_ms, err);
	struct stream *s;

	if (fd < 0)
		return NULL;
	s = stream_open(fd, 0);
	stream_set_timeout(s, timeout_ms < 0 ? STREAM_NO_TIMEOUT : timeout_ms);
	if (greeting_check(s, path, protocol, version, err) < 0) {
		(void)stream_close(&s);
		return NULL;
	}
	return s;
}

int
svc_call(struct stream *s, const struct strbuf *request, size_t max_reply,
	 struct attr_list **reply_out, struct err *err)
{
	int ret;

	if (attr_write(s, request, err) < 0)
		return -1;
	ret = attr_read(s, max_reply, reply_out, err);
	if (ret == 0)
		err_set(err, "lost connection");
	return ret == 1 ? 1 : -1;
}
