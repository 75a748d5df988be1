/*
 * scache_clnt.c - the connection cache protocol's codec and client stub.
 *
 * See scache_clnt.h for the exchange. The decoder is pure (no I/O) so
 * the daemon and the tests share it. The stub keeps one connection,
 * opens it again once when the server went away between requests (scache
 * exits when idle, or is restarted), and turns every failure into "not
 * saved" / "not found" with one warning: the cache is an optimisation,
 * never a reason for a delivery to fail.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/scache_clnt.h"
#include "global/svc_clnt.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/stream.h"
#include "util/unix_fd.h"

/* The most requests one exchange sends (save_endp with save_dest). */
#define SCACHE_EXCHANGE_MAX 2

const struct attr_limits scache_limits = {
	.max_count = 16,
	.max_value = SCACHE_PROP_MAX,
	.max_depth = 1,
	.max_message = SCACHE_MSG_MAX,
};

/* ------------------------------------------------------------------ */
/* Codec.                                                               */

static int
get_text(const struct attr_list *list, const char *name, size_t max,
	 bool may_be_empty, const char **out, struct err *err)
{
	if (attr_get_str(list, name, out, err) < 0)
		return -1;
	if (!may_be_empty && **out == 0) {
		err_set(err, "empty %s", name);
		return -1;
	}
	if (strlen(*out) > max) {
		err_set(err, "%s longer than %zu bytes", name, max);
		return -1;
	}
	return 0;
}

static int
get_ttl(const struct attr_list *list, long long *out, struct err *err)
{
	if (attr_get_int(list, SCACHE_ATTR_TTL, out, err) < 0)
		return -1;
	if (*out < 1 || *out > SCACHE_TTL_MAX) {
		err_set(err, "ttl %lld out of range", *out);
		return -1;
	}
	return 0;
}

static int
decode_op(const char *request, enum scache_op *op_out, struct err *err)
{
	static const struct {
		const char *name;
		enum scache_op op;
	} ops[] = {
		{ SCACHE_REQ_SAVE_ENDP, SCACHE_OP_SAVE_ENDP },
		{ SCACHE_REQ_FIND_ENDP, SCACHE_OP_FIND_ENDP },
		{ SCACHE_REQ_SAVE_DEST, SCACHE_OP_SAVE_DEST },
		{ SCACHE_REQ_FIND_DEST, SCACHE_OP_FIND_DEST },
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(request, ops[i].name) == 0) {
			*op_out = ops[i].op;
			return 0;
		}
	}
	err_set(err, "unknown request \"%.100s\"", request);
	return -1;
}

int
scache_request_decode(const struct attr_list *list,
		      struct scache_request *req_out, struct err *err)
{
	const char *request;
	bool is_save;

	memset(req_out, 0, sizeof(*req_out));
	if (attr_get_str(list, SCACHE_ATTR_REQUEST, &request, err) < 0 ||
	    decode_op(request, &req_out->op, err) < 0)
		return -1;
	is_save = req_out->op == SCACHE_OP_SAVE_ENDP ||
		  req_out->op == SCACHE_OP_SAVE_DEST;
	if (get_text(list, SCACHE_ATTR_LABEL, SCACHE_LABEL_MAX, false,
		     &req_out->label, err) < 0)
		return -1;
	if (!is_save)
		return 0;
	if (get_ttl(list, &req_out->ttl, err) < 0 ||
	    get_text(list, SCACHE_ATTR_PROP, SCACHE_PROP_MAX, true,
		     &req_out->prop, err) < 0)
		return -1;
	if (req_out->op == SCACHE_OP_SAVE_DEST &&
	    get_text(list, SCACHE_ATTR_ENDP_LABEL, SCACHE_LABEL_MAX, false,
		     &req_out->endp_label, err) < 0)
		return -1;
	return 0;
}

static const char *
op_name(enum scache_op op)
{
	switch (op) {
	case SCACHE_OP_SAVE_ENDP:
		return SCACHE_REQ_SAVE_ENDP;
	case SCACHE_OP_FIND_ENDP:
		return SCACHE_REQ_FIND_ENDP;
	case SCACHE_OP_SAVE_DEST:
		return SCACHE_REQ_SAVE_DEST;
	default:
		return SCACHE_REQ_FIND_DEST;
	}
}

int
scache_request_encode(struct strbuf *out, const struct scache_request *req,
		      struct err *err)
{
	bool is_save = req->op == SCACHE_OP_SAVE_ENDP ||
		       req->op == SCACHE_OP_SAVE_DEST;

	if (attr_put_str(out, SCACHE_ATTR_REQUEST, op_name(req->op), err) < 0 ||
	    (is_save && attr_put_int(out, SCACHE_ATTR_TTL, req->ttl, err) < 0) ||
	    attr_put_str(out, SCACHE_ATTR_LABEL, req->label, err) < 0 ||
	    (is_save && attr_put_str(out, SCACHE_ATTR_PROP, req->prop, err) < 0))
		return -1;
	if (req->op == SCACHE_OP_SAVE_DEST &&
	    attr_put_str(out, SCACHE_ATTR_ENDP_LABEL, req->endp_label, err) < 0)
		return -1;
	return attr_put_end(out, err);
}

int
scache_reply_encode(struct strbuf *out, int status, const char *prop,
		    const char *endp_prop, struct err *err)
{
	if (attr_put_int(out, SCACHE_ATTR_STATUS, status, err) < 0 ||
	    (prop != NULL && attr_put_str(out, SCACHE_ATTR_PROP, prop, err) < 0) ||
	    (endp_prop != NULL &&
	     attr_put_str(out, SCACHE_ATTR_ENDP_PROP, endp_prop, err) < 0))
		return -1;
	return attr_put_end(out, err);
}

/* ------------------------------------------------------------------ */
/* The client stub.                                                     */

struct scache_clnt {
	char *path;
	int timeout_ms;
	int retry_ms;
	int sock;	  /* -1 when not connected */
	bool is_fresh;	  /* connected for the request now under way */
	bool has_warned;  /* a failure was logged since the last success */
	int64_t retry_at; /* monotonic ms: no new try before this */
	struct strbuf pending; /* read past a reply: the next reply's start */
};

/* What one exchange brought back. */
struct scache_answer {
	struct attr_list *reply;
	int fd; /* -1: none */
};

static int
time_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - clock_ms();
	return left < 0 ? 0 : left > INT32_MAX ? INT32_MAX : (int)left;
}

struct scache_clnt *
scache_clnt_create(const char *path, int timeout_ms, int retry_ms)
{
	struct scache_clnt *sc = xcalloc(1, sizeof(*sc));

	sc->path = xstrdup(path);
	sc->timeout_ms = timeout_ms;
	sc->retry_ms = retry_ms;
	sc->sock = -1;
	/* Room for the replies to the requests one exchange may send. */
	strbuf_init(&sc->pending, SCACHE_EXCHANGE_MAX * SCACHE_MSG_MAX);
	return sc;
}

static void
clnt_disconnect(struct scache_clnt *sc)
{
	if (sc->sock >= 0)
		(void)close(sc->sock);
	sc->sock = -1;
	strbuf_reset(&sc->pending);
}

void
scache_clnt_destroy(struct scache_clnt **scp)
{
	struct scache_clnt *sc = *scp;

	if (sc == NULL)
		return;
	*scp = NULL;
	clnt_disconnect(sc);
	strbuf_deinit(&sc->pending);
	free(sc->path);
	free(sc);
}

static int
clnt_connect(struct scache_clnt *sc, struct err *err)
{
	struct stream *s = svc_connect(sc->path, SCACHE_PROTOCOL,
				       SCACHE_VERSION, sc->timeout_ms, err);

	if (s == NULL)
		return -1;
	/* attr_read took the greeting and no byte more: nothing is lost. */
	sc->sock = stream_detach(&s);
	sc->is_fresh = true;
	return 0;
}

/*
 * Read one reply message and the descriptor that came with it, starting
 * with what an earlier read brought past its reply; bytes past this one
 * stay in sc->pending. 0, -2 when the server closed the connection before
 * the first byte, -1 with err otherwise.
 */
static int
read_reply(struct scache_clnt *sc, int64_t deadline, struct scache_answer *a,
	   struct err *err)
{
	struct strbuf *in = &sc->pending;
	uint8_t buf[1024];
	size_t used = 0;
	int ret = in->len == 0
			  ? 0
			  : attr_decode((const uint8_t *)in->data, in->len,
					&scache_limits, &a->reply, &used, err);

	while (ret == 0) {
		int fd;
		ssize_t n = unix_fd_recv_wait(sc->sock, buf, sizeof(buf), &fd,
					      time_left(deadline));

		if (n == 0) {
			err_set(err, "lost connection");
			ret = in->len == 0 ? -2 : -1;
		} else if (n < 0) {
			err_set(err, "read reply: %s", strerror(errno));
			ret = errno == ECONNRESET && in->len == 0 ? -2 : -1;
		} else if (fd >= 0 && a->fd >= 0) {
			(void)close(fd);
			err_set(err, "more than one descriptor in a reply");
			ret = -1;
		} else if (fd >= 0) {
			a->fd = fd;
		}
		if (ret == 0 && strbuf_append(in, buf, (size_t)n) < 0) {
			err_set(err, "reply longer than %d bytes",
				SCACHE_MSG_MAX);
			ret = -1;
		}
		if (ret == 0)
			ret = attr_decode((const uint8_t *)in->data, in->len,
					  &scache_limits, &a->reply, &used, err);
	}
	if (ret == 1) {
		memmove(in->data, in->data + used, in->len - used);
		strbuf_truncate(in, in->len - used);
	}
	return ret == 1 ? 0 : ret;
}

static void
answer_clear(struct scache_answer *a)
{
	attr_list_destroy(&a->reply);
	if (a->fd >= 0)
		(void)close(a->fd);
	a->fd = -1;
}

static void
answers_clear(struct scache_answer *a, size_t count)
{
	for (size_t i = 0; i < count; i++)
		answer_clear(&a[i]);
}

/*
 * Send msg (count requests, with send_fd if not negative) and read the
 * count replies: 0 with a[] filled, 1 when a connection that had served
 * earlier requests turned out closed before any reply (worth one retry),
 * -1 with err otherwise.
 */
static int
exchange_once(struct scache_clnt *sc, const struct strbuf *msg, int send_fd,
	      struct scache_answer *a, size_t count, struct err *err)
{
	int64_t deadline =
		sc->timeout_ms < 0 ? -1 : clock_ms() + sc->timeout_ms;
	bool was_fresh;

	if (sc->sock < 0 && clnt_connect(sc, err) < 0)
		return -1;
	was_fresh = sc->is_fresh;
	sc->is_fresh = false;
	if (unix_fd_send(sc->sock, msg->data, msg->len, send_fd,
			 time_left(deadline)) < 0) {
		int cause = errno;

		err_set(err, "write request: %s", strerror(cause));
		return !was_fresh && (cause == EPIPE || cause == ECONNRESET)
			       ? 1
			       : -1;
	}
	for (size_t i = 0; i < count; i++) {
		int ret = read_reply(sc, deadline, &a[i], err);

		if (ret != 0) {
			answers_clear(a, i + 1);
			return !was_fresh && ret == -2 && i == 0 ? 1 : -1;
		}
	}
	if (sc->pending.len > 0) {
		err_set(err, "unexpected data after the reply");
		answers_clear(a, count);
		return -1;
	}
	return 0;
}

static void
clnt_failed(struct scache_clnt *sc, const struct err *err)
{
	clnt_disconnect(sc);
	sc->retry_at = clock_ms() + sc->retry_ms;
	if (!sc->has_warned)
		log_warning("connection cache %s: %s; not caching connections "
			    "for now",
			    sc->path, err->text);
	sc->has_warned = true;
}

/*
 * count requests, sent together, and their replies, retried once on a
 * fresh connection when the server had gone away. 0 with a[] (the caller
 * clears them, and checks them: reply_bad, or has_warned = false for good
 * ones), or -1 after the failure was handled (clnt_failed).
 */
static int
exchange(struct scache_clnt *sc, const struct scache_request *reqs,
	 size_t count, int send_fd, struct scache_answer *a)
{
	struct strbuf msg;
	struct err err;
	int ret = 0;

	for (size_t i = 0; i < count; i++)
		a[i] = (struct scache_answer){ .reply = NULL, .fd = -1 };
	if (sc->sock < 0 && clock_ms() < sc->retry_at)
		return -1;
	strbuf_init(&msg, SCACHE_EXCHANGE_MAX * SCACHE_MSG_MAX);
	for (size_t i = 0; i < count && ret == 0; i++)
		ret = scache_request_encode(&msg, &reqs[i], &err);
	if (ret == 0) {
		ret = exchange_once(sc, &msg, send_fd, a, count, &err);
		if (ret == 1) {
			clnt_disconnect(sc);
			ret = exchange_once(sc, &msg, send_fd, a, count, &err);
		}
	}
	strbuf_deinit(&msg);
	if (ret == 0)
		return 0;
	clnt_failed(sc, &err);
	return -1;
}

/* The reply's status: 0/1, or -1 with err for anything else. */
static int
reply_status(const struct scache_answer *a, bool has_fd_when_found,
	     struct err *err)
{
	long long status;

	if (attr_get_int(a->reply, SCACHE_ATTR_STATUS, &status, err) < 0)
		return -1;
	if (status != SCACHE_STAT_OK && status != SCACHE_STAT_NOTFOUND) {
		err_set(err, "unexpected status %lld", status);
		return -1;
	}
	if (status == SCACHE_STAT_OK && has_fd_when_found && a->fd < 0) {
		err_set(err, "reply without a descriptor");
		return -1;
	}
	if ((status != SCACHE_STAT_OK || !has_fd_when_found) && a->fd >= 0) {
		err_set(err, "unexpected descriptor in a reply");
		return -1;
	}
	return (int)status;
}

/* A reply that made no sense: the connection is out of step. */
static void
reply_bad(struct scache_clnt *sc, struct scache_answer *a, struct err *err)
{
	err_prefix(err, "bad reply");
	answer_clear(a);
	clnt_failed(sc, err);
}

/* count save requests in one exchange: 0 when every one was taken. */
static int
save(struct scache_clnt *sc, const struct scache_request *reqs, size_t count,
     int fd)
{
	struct scache_answer a[SCACHE_EXCHANGE_MAX];
	struct err err;
	bool is_ok = true;

	if (exchange(sc, reqs, count, fd, a) < 0)
		return -1;
	for (size_t i = 0; i < count; i++) {
		int status = reply_status(&a[i], false, &err);

		if (status < 0) {
			answers_clear(a, count);
			reply_bad(sc, &a[i], &err);
			return -1;
		}
		is_ok = is_ok && status == SCACHE_STAT_OK;
	}
	sc->has_warned = false;
	answers_clear(a, count);
	return is_ok ? 0 : -1;
}

int
scache_clnt_save_endp(struct scache_clnt *sc, int ttl, const char *endp_label,
		      const char *endp_prop, int fd)
{
	struct scache_request req = { .op = SCACHE_OP_SAVE_ENDP,
				      .ttl = ttl,
				      .label = endp_label,
				      .prop = endp_prop };
	int ret = save(sc, &req, 1, fd);

	(void)close(fd);
	return ret;
}

int
scache_clnt_save_dest(struct scache_clnt *sc, int ttl, const char *dest_label,
		      const char *dest_prop, const char *endp_label)
{
	struct scache_request req = { .op = SCACHE_OP_SAVE_DEST,
				      .ttl = ttl,
				      .label = dest_label,
				      .prop = dest_prop,
				      .endp_label = endp_label };

	return save(sc, &req, 1, -1);
}

int
scache_clnt_save_endp_dest(struct scache_clnt *sc, int ttl,
			   const char *endp_label, const char *endp_prop,
			   int fd, const char *dest_label,
			   const char *dest_prop)
{
	struct scache_request reqs[2] = {
		{ .op = SCACHE_OP_SAVE_ENDP,
		  .ttl = ttl,
		  .label = endp_label,
		  .prop = endp_prop },
		{ .op = SCACHE_OP_SAVE_DEST,
		  .ttl = ttl,
		  .label = dest_label,
		  .prop = dest_prop,
		  .endp_label = endp_label },
	};
	int ret = save(sc, reqs, 2, fd);

	(void)close(fd);
	return ret;
}

/* A find: the descriptor with the named properties copied, or -1. */
static int
find(struct scache_clnt *sc, const struct scache_request *req,
     const char *name1, char **out1, const char *name2, char **out2)
{
	struct scache_answer a;
	const char *v1 = NULL, *v2 = NULL;
	struct err err;
	int status, fd;

	*out1 = NULL;
	if (out2 != NULL)
		*out2 = NULL;
	if (exchange(sc, req, 1, -1, &a) < 0)
		return -1;
	status = reply_status(&a, true, &err);
	if (status == SCACHE_STAT_OK &&
	    (attr_get_str(a.reply, name1, &v1, &err) < 0 ||
	     (name2 != NULL && attr_get_str(a.reply, name2, &v2, &err) < 0)))
		status = -1;
	if (status < 0) {
		reply_bad(sc, &a, &err);
		return -1;
	}
	sc->has_warned = false;
	if (status != SCACHE_STAT_OK) {
		answer_clear(&a);
		return -1;
	}
	*out1 = xstrdup(v1);
	if (out2 != NULL)
		*out2 = xstrdup(v2);
	fd = a.fd;
	a.fd = -1;
	answer_clear(&a);
	return fd;
}

int
scache_clnt_find_endp(struct scache_clnt *sc, const char *endp_label,
		      char **endp_prop_out)
{
	struct scache_request req = { .op = SCACHE_OP_FIND_ENDP,
				      .label = endp_label };

	return find(sc, &req, SCACHE_ATTR_PROP, endp_prop_out, NULL, NULL);
}

int
scache_clnt_find_dest(struct scache_clnt *sc, const char *dest_label,
		      char **dest_prop_out, char **endp_prop_out)
{
	struct scache_request req = { .op = SCACHE_OP_FIND_DEST,
				      .label = dest_label };

	return find(sc, &req, SCACHE_ATTR_PROP, dest_prop_out,
		    SCACHE_ATTR_ENDP_PROP, endp_prop_out);
}
