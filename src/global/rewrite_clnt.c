/*
 * rewrite_clnt.c - the trivial-rewrite protocol's codec and client stub.
 *
 * See rewrite_clnt.h for the exchange. The decoder is pure (no I/O) so
 * the daemon and fuzz/fuzz_resolve_request.c share it. The client keeps
 * one connection and opens it again once when the server went away
 * between requests (trivial-rewrite exits at max_idle / max_use).
 */
#include <stdlib.h>
#include <string.h>

#include "global/rewrite_clnt.h"
#include "util/attr_io.h"
#include "util/mymalloc.h"
#include "util/sockets.h"
#include "util/stream.h"

const struct attr_limits rewrite_limits = {
	.max_count = 16,
	.max_value = REWRITE_ADDR_MAX * 2,
	.max_depth = 1,
	.max_message = REWRITE_MSG_MAX,
};

static int
get_address(const struct attr_list *list, const char *name, const char **out,
	    struct err *err)
{
	if (attr_get_str(list, name, out, err) < 0)
		return -1;
	if (strlen(*out) > REWRITE_ADDR_MAX) {
		err_set(err, "%s longer than %d bytes", name, REWRITE_ADDR_MAX);
		return -1;
	}
	return 0;
}

int
rewrite_request_decode(const struct attr_list *list,
		       struct rewrite_request *req_out, struct err *err)
{
	const char *request;

	memset(req_out, 0, sizeof(*req_out));
	if (attr_get_str(list, REWRITE_ATTR_REQUEST, &request, err) < 0)
		return -1;
	if (strcmp(request, REWRITE_REQ_REWRITE) == 0) {
		req_out->op = REWRITE_OP_REWRITE;
		if (attr_get_str(list, REWRITE_ATTR_RULE, &req_out->rule, err) <
		    0)
			return -1;
		if (strcmp(req_out->rule, "local") != 0 &&
		    strcmp(req_out->rule, "remote") != 0) {
			err_set(err, "unknown rewrite rule \"%.100s\"",
				req_out->rule);
			return -1;
		}
	} else if (strcmp(request, REWRITE_REQ_RESOLVE) == 0) {
		req_out->op = REWRITE_OP_RESOLVE;
		req_out->sender = "";
		if (attr_find(list, REWRITE_ATTR_SENDER) != NULL &&
		    get_address(list, REWRITE_ATTR_SENDER, &req_out->sender,
				err) < 0)
			return -1;
	} else {
		err_set(err, "unknown request \"%.100s\"", request);
		return -1;
	}
	return get_address(list, REWRITE_ATTR_ADDRESS, &req_out->address, err);
}

int
rewrite_request_encode(struct strbuf *out, const struct rewrite_request *req,
		       struct err *err)
{
	bool is_rewrite = req->op == REWRITE_OP_REWRITE;

	if (attr_put_str(out, REWRITE_ATTR_REQUEST,
			 is_rewrite ? REWRITE_REQ_REWRITE : REWRITE_REQ_RESOLVE,
			 err) < 0)
		return -1;
	if (is_rewrite &&
	    attr_put_str(out, REWRITE_ATTR_RULE, req->rule, err) < 0)
		return -1;
	if (!is_rewrite && req->sender != NULL &&
	    attr_put_str(out, REWRITE_ATTR_SENDER, req->sender, err) < 0)
		return -1;
	if (attr_put_str(out, REWRITE_ATTR_ADDRESS, req->address, err) < 0)
		return -1;
	return attr_put_end(out, err);
}

int
rewrite_reply_encode_rewrite(struct strbuf *out, const char *address,
			     struct err *err)
{
	if (attr_put_int(out, REWRITE_ATTR_STATUS, 0, err) < 0 ||
	    attr_put_int(out, REWRITE_ATTR_FLAGS, 0, err) < 0 ||
	    attr_put_str(out, REWRITE_ATTR_ADDRESS, address, err) < 0)
		return -1;
	return attr_put_end(out, err);
}

int
rewrite_reply_encode_resolve(struct strbuf *out,
			     const struct resolve_reply *reply, struct err *err)
{
	if (attr_put_int(out, REWRITE_ATTR_STATUS, 0, err) < 0 ||
	    attr_put_int(out, REWRITE_ATTR_FLAGS, reply->flags, err) < 0 ||
	    attr_put_str(out, REWRITE_ATTR_TRANSPORT, reply->transport, err) <
		    0 ||
	    attr_put_str(out, REWRITE_ATTR_NEXTHOP, reply->nexthop, err) < 0 ||
	    attr_put_str(out, REWRITE_ATTR_RECIPIENT, reply->recipient, err) <
		    0)
		return -1;
	return attr_put_end(out, err);
}

/* The client stub. */

struct rewrite_clnt {
	char *path;
	int timeout_ms;
	struct stream *stream;
};

static int
greeting_check(const char *path, const struct attr_list *list, struct err *err)
{
	const char *proto = "";
	long long version = -1;

	(void)attr_get_str(list, REWRITE_ATTR_PROTOCOL, &proto, NULL);
	(void)attr_get_int(list, REWRITE_ATTR_VERSION, &version, NULL);
	if (strcmp(proto, REWRITE_PROTOCOL) == 0 && version == REWRITE_VERSION)
		return 0;
	err_set(err, "%s: unexpected protocol \"%s\" version %lld", path, proto,
		version);
	return -1;
}

static int
clnt_connect(struct rewrite_clnt *rc, struct err *err)
{
	struct attr_list *list = NULL;
	int fd = sock_connect_unix(rc->path, rc->timeout_ms, err);
	int ret;

	if (fd < 0)
		return -1;
	rc->stream = stream_open(fd, 0);
	stream_set_timeout(rc->stream, rc->timeout_ms < 0 ? STREAM_NO_TIMEOUT
							  : rc->timeout_ms);
	ret = attr_read(rc->stream, REWRITE_MSG_MAX, &list, err);
	if (ret <= 0) {
		if (ret == 0)
			err_set(err, "connection closed");
		err_prefix(err, "%s: greeting", rc->path);
		ret = -1;
	} else {
		ret = greeting_check(rc->path, list, err);
	}
	attr_list_destroy(&list);
	if (ret < 0)
		stream_close(&rc->stream);
	return ret;
}

struct rewrite_clnt *
rewrite_clnt_open(const char *path, int timeout_ms, struct err *err)
{
	struct rewrite_clnt *rc = xcalloc(1, sizeof(*rc));

	rc->path = xstrdup(path);
	rc->timeout_ms = timeout_ms;
	if (clnt_connect(rc, err) < 0)
		rewrite_clnt_close(&rc);
	return rc;
}

void
rewrite_clnt_close(struct rewrite_clnt **rcp)
{
	struct rewrite_clnt *rc = *rcp;

	if (rc == NULL)
		return;
	stream_close(&rc->stream);
	free(rc->path);
	free(rc);
	*rcp = NULL;
}

/* Send one request and read its reply: 1, 0 (the server had closed), -1. */
static int
exchange_once(struct rewrite_clnt *rc, const struct strbuf *msg,
	      struct attr_list **reply_out, struct err *err)
{
	int ret;

	if (rc->stream == NULL && clnt_connect(rc, err) < 0)
		return -1;
	if (attr_write(rc->stream, msg, err) < 0)
		return 0;
	ret = attr_read(rc->stream, REWRITE_MSG_MAX, reply_out, err);
	if (ret == 0)
		err_set(err, "connection closed");
	return ret;
}

static struct attr_list *
exchange(struct rewrite_clnt *rc, const struct rewrite_request *req,
	 struct err *err)
{
	struct attr_list *reply = NULL;
	struct strbuf msg;
	int ret;

	strbuf_init(&msg, REWRITE_MSG_MAX);
	if (rewrite_request_encode(&msg, req, err) < 0) {
		strbuf_deinit(&msg);
		return NULL;
	}
	ret = exchange_once(rc, &msg, &reply, err);
	if (ret == 0) {
		/* The server went away between requests: once more. */
		stream_close(&rc->stream);
		ret = exchange_once(rc, &msg, &reply, err);
	}
	strbuf_deinit(&msg);
	if (ret <= 0) {
		stream_close(&rc->stream);
		err_prefix(err, "%s", rc->path);
		return NULL;
	}
	return reply;
}

static char *
take_str(const struct attr_list *list, const char *name, bool *is_ok,
	 struct err *err)
{
	const char *value = "";

	if (*is_ok && attr_get_str(list, name, &value, err) < 0)
		*is_ok = false;
	return xstrdup(value);
}

char *
rewrite_clnt_rewrite(struct rewrite_clnt *rc, const char *rule,
		     const char *addr, struct err *err)
{
	struct rewrite_request req = { .op = REWRITE_OP_REWRITE,
				       .rule = rule,
				       .address = addr };
	struct attr_list *reply = exchange(rc, &req, err);
	bool is_ok = true;
	char *result;

	if (reply == NULL)
		return NULL;
	result = take_str(reply, REWRITE_ATTR_ADDRESS, &is_ok, err);
	attr_list_destroy(&reply);
	if (is_ok)
		return result;
	free(result);
	err_prefix(err, "%s: reply", rc->path);
	return NULL;
}

int
rewrite_clnt_resolve(struct rewrite_clnt *rc, const char *sender,
		     const char *addr, struct resolve_reply *reply_out,
		     struct err *err)
{
	struct rewrite_request req = { .op = REWRITE_OP_RESOLVE,
				       .sender = sender,
				       .address = addr };
	struct attr_list *reply = exchange(rc, &req, err);
	long long flags = 0;
	bool is_ok = true;

	memset(reply_out, 0, sizeof(*reply_out));
	if (reply == NULL)
		return -1;
	if (attr_get_int(reply, REWRITE_ATTR_FLAGS, &flags, err) < 0)
		is_ok = false;
	reply_out->flags = (int)flags;
	reply_out->transport =
		take_str(reply, REWRITE_ATTR_TRANSPORT, &is_ok, err);
	reply_out->nexthop = take_str(reply, REWRITE_ATTR_NEXTHOP, &is_ok, err);
	reply_out->recipient =
		take_str(reply, REWRITE_ATTR_RECIPIENT, &is_ok, err);
	attr_list_destroy(&reply);
	if (is_ok)
		return 0;
	resolve_reply_free(reply_out);
	err_prefix(err, "%s: reply", rc->path);
	return -1;
}
