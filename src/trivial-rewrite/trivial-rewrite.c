/*
 * trivial-rewrite.c - the address rewriting and resolving service.
 *
 * Skeleton: SKEL_MULTI. master.cf: "rewrite unix - - n - - trivial-rewrite".
 * Serves the protocol of global/rewrite_clnt.h to many clients at once on
 * the event loop: each client gets the greeting, then any number of
 * requests, each answered by resolve_rewrite or resolve_addr (which
 * caches). Input and output are bounded per client (REWRITE_MSG_MAX
 * bytes of an unfinished request, CLIENT_OUT_MAX bytes of unsent
 * replies: past that we stop reading until the client catches up). A
 * malformed request drops that client with a warning; the others go on.
 * Touches only its clients, main.cf and the lookup tables it names, which
 * it opens in pre_init (privileged); nothing privileged after that.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/mail_server.h"
#include "global/resolve.h"
#include "global/rewrite_clnt.h"
#include "util/attr.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define CLIENT_READ_CHUNK 4096
#define CLIENT_OUT_MAX (16 * REWRITE_MSG_MAX)

struct client {
	struct server *server;
	int fd;
	struct strbuf in;
	struct strbuf out;
	bool is_reading;
};

static void client_readable(struct event_loop *loop, int fd, void *ctx);

static void
client_close(struct client *c)
{
	event_remove(c->server->loop, c->fd);
	close(c->fd);
	strbuf_deinit(&c->in);
	strbuf_deinit(&c->out);
	server_client_done(c->server);
	free(c);
}

static void
client_drop(struct client *c, const char *reason)
{
	log_warning("%s: bad request: %s; closing connection",
		    c->server->service_name, reason);
	client_close(c);
}

/* Answer one decoded request into c->out. */
static int
client_answer(struct client *c, const struct rewrite_request *req,
	      struct err *err)
{
	struct resolve *r = c->server->ctx;
	struct resolve_reply reply;
	char *addr;
	int ret;

	if (req->op == REWRITE_OP_REWRITE) {
		addr = resolve_rewrite(r, req->rule, req->address);
		ret = rewrite_reply_encode_rewrite(&c->out, addr, err);
		free(addr);
		return ret;
	}
	(void)resolve_addr(r, req->address, &reply);
	ret = rewrite_reply_encode_resolve(&c->out, &reply, err);
	resolve_reply_free(&reply);
	return ret;
}

/* Decode and answer the complete requests in c->in; -1 drops c. */
static int
client_process(struct client *c, struct err *err)
{
	size_t used = 0;
	int ret = 0;

	while (ret == 0 && used < c->in.len) {
		struct attr_list *list = NULL;
		struct rewrite_request req;
		size_t consumed = 0;
		int got = attr_decode((const uint8_t *)c->in.data + used,
				      c->in.len - used, &rewrite_limits, &list,
				      &consumed, err);

		if (got == 0)
			break;
		if (got < 0)
			return -1;
		used += consumed;
		ret = rewrite_request_decode(list, &req, err) < 0 ||
				      client_answer(c, &req, err) < 0
			      ? -1
			      : 0;
		attr_list_destroy(&list);
	}
	memmove(c->in.data, c->in.data + used, c->in.len - used);
	strbuf_truncate(&c->in, c->in.len - used);
	return ret;
}

static void client_writable(struct event_loop *loop, int fd, void *ctx);

/* Send what the socket takes; watch for writability or input as fits. */
static int
client_flush(struct client *c)
{
	while (c->out.len > 0) {
		ssize_t n = write(c->fd, c->out.data, c->out.len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0)
			return -1;
		memmove(c->out.data, c->out.data + n, c->out.len - (size_t)n);
		strbuf_truncate(&c->out, c->out.len - (size_t)n);
	}
	if (c->out.len > 0)
		event_add_write(c->server->loop, c->fd, client_writable, c);
	else
		event_remove_write(c->server->loop, c->fd);
	/* Backpressure: a client that does not read its replies waits. */
	if (c->out.len >= CLIENT_OUT_MAX && c->is_reading) {
		event_remove_read(c->server->loop, c->fd);
		c->is_reading = false;
	} else if (c->out.len < CLIENT_OUT_MAX && !c->is_reading) {
		event_add_read(c->server->loop, c->fd, client_readable, c);
		c->is_reading = true;
	}
	return 0;
}

static void
client_writable(struct event_loop *loop, int fd, void *ctx)
{
	struct client *c = ctx;

	(void)loop;
	(void)fd;
	if (client_flush(c) < 0)
		client_close(c);
}

static void
client_readable(struct event_loop *loop, int fd, void *ctx)
{
	struct client *c = ctx;
	char buf[CLIENT_READ_CHUNK];
	ssize_t n = read(fd, buf, sizeof(buf));
	struct err err;

	(void)loop;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	if (strbuf_append(&c->in, buf, (size_t)n) < 0) {
		client_drop(c, "request longer than the limit");
		return;
	}
	if (client_process(c, &err) < 0) {
		client_drop(c, err.text);
		return;
	}
	if (client_flush(c) < 0)
		client_close(c);
}

static int
client_greet(struct client *c)
{
	struct err err;

	if (attr_put_str(&c->out, REWRITE_ATTR_PROTOCOL, REWRITE_PROTOCOL,
			 &err) < 0 ||
	    attr_put_int(&c->out, REWRITE_ATTR_VERSION, REWRITE_VERSION, &err) <
		    0 ||
	    attr_put_end(&c->out, &err) < 0)
		log_panic("greeting: %s", err.text);
	return client_flush(c);
}

static void
rewrite_accept(struct server *server, int fd)
{
	struct client *c = xcalloc(1, sizeof(*c));
	int fl = fcntl(fd, F_GETFL);

	c->server = server;
	c->fd = fd;
	strbuf_init(&c->in, REWRITE_MSG_MAX);
	strbuf_init(&c->out, STRBUF_UNLIMITED);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    client_greet(c) < 0) {
		log_warning("%s: client setup: %s", server->service_name,
			    strerror(errno));
		client_close(c);
	}
}

/* Privileged, as in Postfix: tables open before the drop to mail_owner
 * (they may be readable by root only, or outside a chroot). */
static void
rewrite_init(struct server *server)
{
	server->ctx = resolve_create(server->conf);
}

static void
rewrite_exit(struct server *server)
{
	struct resolve *r = server->ctx;

	resolve_destroy(&r);
	server->ctx = NULL;
}

static const struct service_def rewrite_service = {
	.name = "trivial-rewrite",
	.kind = SKEL_MULTI,
	.pre_init = rewrite_init,
	.on_accept = rewrite_accept,
	.on_exit = rewrite_exit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &rewrite_service);
}
