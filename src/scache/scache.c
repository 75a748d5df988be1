/*
 * scache.c - the connection cache daemon: keeps open SMTP/LMTP
 * connections for a few seconds so that any smtp or lmtp process can
 * reuse them (the protocol is in global/scache_clnt.h, the store in
 * scache_store.c).
 *
 * Skeleton: SKEL_MULTI, one process for all clients. master.cf:
 * "scache unix - - n - 1 scache". Descriptors arrive and leave with the
 * message bytes (util/unix_fd.h). A connection is kept for the time to
 * live its client asked for, at most connection_cache_ttl_limit, and
 * closed by the store when it expires; the store holds at most
 * SCACHE_MAX_CONNS connections (fewer when the descriptor limit is low),
 * dropping the oldest when full. Every client's unfinished request or
 * unsent reply must move within connection_cache_protocol_timeout, and
 * requests are bounded (SCACHE_MSG_MAX). Statistics are logged in
 * Postfix's words every connection_cache_status_update_time, and when
 * the daemon exits (max_idle, max_use, master gone).
 * Touches: only its clients' sockets and the descriptors they hand over;
 * nothing privileged at all.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "global/mail_server.h"
#include "global/scache_clnt.h"
#include "scache/scache.h"
#include "util/attr.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/sockets.h"
#include "util/strbuf.h"
#include "util/unix_fd.h"

/* Connections kept at most, whatever the descriptor limit allows. */
#define SCACHE_MAX_CONNS 1000
/* Descriptors kept free for the skeleton, logging and the like. */
#define SCACHE_FD_RESERVE 32
#define CLIENT_READ_CHUNK 4096

struct scache_daemon {
	struct server *server;
	struct scache_store *store;
	int64_t ttl_limit_ms;	   /* connection_cache_ttl_limit */
	int protocol_timeout_ms;   /* connection_cache_protocol_timeout */
	int status_interval_ms;	   /* connection_cache_status_update_time */
	time_t interval_start;
	uint64_t expire_timer; /* 0: none */
	int64_t expire_at;
	size_t max_clients;
};

struct client {
	struct scache_daemon *d;
	int fd;
	struct strbuf in;  /* an unfinished request */
	struct strbuf out; /* an unsent reply */
	int in_fd;	   /* descriptor that came with the request, or -1 */
	int out_fd;	   /* descriptor to send with the reply, or -1 */
	bool is_reading;
	uint64_t timer; /* protocol timeout, 0: none */
};

/* ------------------------------------------------------------------ */
/* Statistics and expiry.                                               */

static unsigned long
success_percent(unsigned long hits, unsigned long misses)
{
	return hits + misses == 0 ? 0 : hits * 100 / (hits + misses);
}

/* Did anything happen in the interval? */
static bool
status_has_news(const struct scache_stats *s)
{
	return s->dest_hits + s->dest_misses + s->endp_hits + s->endp_misses >
		       0 ||
	       s->max_conns > 0 || s->max_dests > 0;
}

/* Log the interval's statistics, if anything happened, and start anew. */
static void
status_log(struct scache_daemon *d)
{
	const struct scache_stats *s = scache_store_stats(d->store);
	char when[32];

	if (!status_has_news(s)) {
		scache_store_stats_reset(d->store);
		d->interval_start = time(NULL);
		return;
	}
	if (ctime_r(&d->interval_start, when) == NULL)
		snprintf(when, sizeof(when), "??? (unknown)  ");
	log_info("statistics: start interval %.15s", when + 4);
	log_info("statistics: domain lookup hits=%lu miss=%lu success=%lu%%",
		 s->dest_hits, s->dest_misses,
		 success_percent(s->dest_hits, s->dest_misses));
	log_info("statistics: address lookup hits=%lu miss=%lu success=%lu%%",
		 s->endp_hits, s->endp_misses,
		 success_percent(s->endp_hits, s->endp_misses));
	log_info("statistics: max simultaneous domains=%zu addresses=%zu "
		 "connection=%zu",
		 s->max_dests, s->max_endps, s->max_conns);
	scache_store_stats_reset(d->store);
	d->interval_start = time(NULL);
}

static void
status_fired(struct event_loop *loop, void *ctx)
{
	struct scache_daemon *d = ctx;

	status_log(d);
	(void)event_timer_add(loop, d->status_interval_ms, status_fired, d);
}

static void expiry_fired(struct event_loop *loop, void *ctx);

/* Close what expired; keep a timer for the next expiry. */
static void
expiry_schedule(struct scache_daemon *d)
{
	int64_t now = event_time_ms();
	int64_t next = scache_store_expire(d->store, now);

	if (d->expire_timer != 0 && (next < 0 || next < d->expire_at)) {
		(void)event_timer_cancel(d->server->loop, d->expire_timer);
		d->expire_timer = 0;
	}
	if (next < 0 || d->expire_timer != 0)
		return;
	d->expire_at = next;
	d->expire_timer = event_timer_add(d->server->loop, (int)(next - now),
					  expiry_fired, d);
}

static void
expiry_fired(struct event_loop *loop, void *ctx)
{
	struct scache_daemon *d = ctx;

	(void)loop;
	d->expire_timer = 0;
	expiry_schedule(d);
}

/* ------------------------------------------------------------------ */
/* Requests.                                                            */

static int64_t
ttl_ms(const struct scache_daemon *d, long long ttl)
{
	int64_t ms = (int64_t)ttl * 1000;

	return ms < d->ttl_limit_ms ? ms : d->ttl_limit_ms;
}

/* The store's answer to a find, encoded into c->out with its fd. */
static int
client_find(struct client *c, const struct scache_request *req,
	    struct err *err)
{
	struct scache_store *st = c->d->store;
	int64_t now = event_time_ms();
	char *prop = NULL, *endp_prop = NULL;
	int fd, ret;

	if (req->op == SCACHE_OP_FIND_ENDP)
		fd = scache_store_find_endp(st, now, req->label, &prop);
	else
		fd = scache_store_find_dest(st, now, req->label, &prop,
					    &endp_prop);
	ret = scache_reply_encode(&c->out,
				  fd >= 0 ? SCACHE_STAT_OK
					  : SCACHE_STAT_NOTFOUND,
				  prop, endp_prop, err);
	free(prop);
	free(endp_prop);
	c->out_fd = fd;
	return ret;
}

/* Answer one decoded request into c->out; -1 with err drops c. */
static int
client_answer(struct client *c, const struct scache_request *req,
	      struct err *err)
{
	struct scache_daemon *d = c->d;
	bool is_save_endp = req->op == SCACHE_OP_SAVE_ENDP;
	int ret;

	if (is_save_endp != (c->in_fd >= 0)) {
		err_set(err, is_save_endp
				     ? "save_endp request without a descriptor"
				     : "descriptor with a request other than "
				       "save_endp");
		return -1;
	}
	if (is_save_endp) {
		scache_store_save_endp(d->store, event_time_ms(),
				       ttl_ms(d, req->ttl), req->label,
				       req->prop, c->in_fd);
		c->in_fd = -1;
	} else if (req->op == SCACHE_OP_SAVE_DEST) {
		scache_store_save_dest(d->store, event_time_ms(),
				       ttl_ms(d, req->ttl), req->label,
				       req->prop, req->endp_label);
	}
	if (req->op == SCACHE_OP_FIND_ENDP || req->op == SCACHE_OP_FIND_DEST)
		ret = client_find(c, req, err);
	else
		ret = scache_reply_encode(&c->out, SCACHE_STAT_OK, NULL, NULL,
					  err);
	expiry_schedule(d);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Clients.                                                             */

static void client_readable(struct event_loop *loop, int fd, void *ctx);
static void client_writable(struct event_loop *loop, int fd, void *ctx);
static void client_timed_out(struct event_loop *loop, void *ctx);

static void
client_close(struct client *c)
{
	struct server *server = c->d->server;

	event_remove(server->loop, c->fd);
	if (c->timer != 0)
		(void)event_timer_cancel(server->loop, c->timer);
	(void)close(c->fd);
	if (c->in_fd >= 0)
		(void)close(c->in_fd);
	if (c->out_fd >= 0)
		(void)close(c->out_fd);
	strbuf_deinit(&c->in);
	strbuf_deinit(&c->out);
	free(c);
	server_client_done(server);
}

static void
client_drop(struct client *c, const char *reason)
{
	log_warning("%s: bad request: %s; closing connection",
		    c->d->server->service_name, reason);
	client_close(c);
}

/* A timer while a request is unfinished or a reply unsent. */
static void
client_timer_update(struct client *c)
{
	struct event_loop *loop = c->d->server->loop;
	bool is_busy = c->in.len > 0 || c->out.len > 0 || c->in_fd >= 0;

	if (is_busy && c->timer == 0)
		c->timer = event_timer_add(loop, c->d->protocol_timeout_ms,
					   client_timed_out, c);
	else if (!is_busy && c->timer != 0) {
		(void)event_timer_cancel(loop, c->timer);
		c->timer = 0;
	}
}

static void
client_timed_out(struct event_loop *loop, void *ctx)
{
	struct client *c = ctx;

	(void)loop;
	c->timer = 0;
	log_warning("%s: timeout after %d ms on a client connection; "
		    "closing it",
		    c->d->server->service_name, c->d->protocol_timeout_ms);
	client_close(c);
}

/*
 * Send what the socket takes. While a reply is unsent the client is not
 * read (one request at a time, so one descriptor in each direction).
 */
static int
client_flush(struct client *c)
{
	struct event_loop *loop = c->d->server->loop;

	while (c->out.len > 0) {
		ssize_t n = unix_fd_send_some(c->fd, c->out.data, c->out.len,
					      c->out_fd);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0)
			return -1;
		if (c->out_fd >= 0)
			(void)close(c->out_fd); /* the client has its copy */
		c->out_fd = -1;
		memmove(c->out.data, c->out.data + n, c->out.len - (size_t)n);
		strbuf_truncate(&c->out, c->out.len - (size_t)n);
	}
	if (c->out.len > 0) {
		event_remove_read(loop, c->fd);
		c->is_reading = false;
		event_add_write(loop, c->fd, client_writable, c);
	} else {
		event_remove_write(loop, c->fd);
		if (!c->is_reading)
			event_add_read(loop, c->fd, client_readable, c);
		c->is_reading = true;
	}
	client_timer_update(c);
	return 0;
}

/* Answer the complete requests in c->in, one reply at a time; -1 with
 * err drops c. */
static int
client_process(struct client *c, struct err *err)
{
	while (c->out.len == 0 && c->in.len > 0) {
		struct attr_list *list = NULL;
		struct scache_request req;
		size_t consumed = 0;
		int got = attr_decode((const uint8_t *)c->in.data, c->in.len,
				      &scache_limits, &list, &consumed, err);
		int ret;

		if (got == 0)
			break;
		if (got < 0)
			return -1;
		ret = scache_request_decode(list, &req, err) < 0 ||
				      client_answer(c, &req, err) < 0
			      ? -1
			      : 0;
		attr_list_destroy(&list);
		if (ret < 0)
			return -1;
		memmove(c->in.data, c->in.data + consumed,
			c->in.len - consumed);
		strbuf_truncate(&c->in, c->in.len - consumed);
		if (client_flush(c) < 0) {
			err_set(err, "write reply: %s", strerror(errno));
			return -1;
		}
	}
	client_timer_update(c);
	return 0;
}

static void
client_writable(struct event_loop *loop, int fd, void *ctx)
{
	struct client *c = ctx;
	struct err err;

	(void)loop;
	(void)fd;
	if (client_flush(c) < 0) {
		client_close(c);
		return;
	}
	if (client_process(c, &err) < 0)
		client_drop(c, err.text);
}

/* Take one read's bytes and descriptor; -1 with err drops c. */
static int
client_take(struct client *c, const char *buf, size_t len, int got_fd,
	    struct err *err)
{
	if (got_fd >= 0 && c->in_fd >= 0) {
		(void)close(got_fd);
		err_set(err, "more than one descriptor for one request");
		return -1;
	}
	if (got_fd >= 0)
		c->in_fd = got_fd;
	if (strbuf_append(&c->in, buf, len) < 0) {
		err_set(err, "request longer than %d bytes", SCACHE_MSG_MAX);
		return -1;
	}
	return 0;
}

static void
client_readable(struct event_loop *loop, int fd, void *ctx)
{
	struct client *c = ctx;
	char buf[CLIENT_READ_CHUNK];
	struct err err;
	int got_fd;
	ssize_t n = unix_fd_recv(fd, buf, sizeof(buf), &got_fd);

	(void)loop;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n < 0 && errno == EBADMSG) {
		client_drop(c, "more than one descriptor, or ancillary data "
			       "cut short");
		return;
	}
	if (n <= 0) {
		if (got_fd >= 0)
			(void)close(got_fd);
		client_close(c);
		return;
	}
	if (client_take(c, buf, (size_t)n, got_fd, &err) < 0 ||
	    client_process(c, &err) < 0)
		client_drop(c, err.text);
}

static void
scache_accept(struct server *server, int fd)
{
	struct scache_daemon *d = server->ctx;
	struct client *c;
	struct err err;

	if ((size_t)server->client_count > d->max_clients) {
		log_warning("%s: too many clients (%zu); closing a new one",
			    server->service_name, d->max_clients);
		(void)close(fd);
		server_client_done(server);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->d = d;
	c->fd = fd;
	c->in_fd = c->out_fd = -1;
	strbuf_init(&c->in, SCACHE_MSG_MAX);
	strbuf_init(&c->out, SCACHE_MSG_MAX);
	if (sock_set_nonblock(fd, true) < 0) {
		log_warning("%s: client setup: %s", server->service_name,
			    strerror(errno));
		client_close(c);
		return;
	}
	if (attr_put_str(&c->out, "protocol", SCACHE_PROTOCOL, &err) < 0 ||
	    attr_put_int(&c->out, "version", SCACHE_VERSION, &err) < 0 ||
	    attr_put_end(&c->out, &err) < 0)
		log_panic("greeting: %s", err.text);
	if (client_flush(c) < 0)
		client_close(c);
}

/* ------------------------------------------------------------------ */
/* Set-up and exit.                                                     */

static int
time_ms(struct mail_conf *conf, const char *name)
{
	long long s = mail_conf_time(conf, name);

	return s > 2000000 ? 2000000000 : (int)(s * 1000);
}

/* Connections and clients fit in the descriptor limit, with room. */
static void
limits_init(struct scache_daemon *d, size_t *max_conns_out)
{
	struct rlimit rl;
	size_t fds = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		fds = (size_t)rl.rlim_cur;
	if (fds < 4 * SCACHE_FD_RESERVE)
		fds = 4 * SCACHE_FD_RESERVE;
	fds -= SCACHE_FD_RESERVE;
	*max_conns_out = fds / 2 < SCACHE_MAX_CONNS ? fds / 2 : SCACHE_MAX_CONNS;
	d->max_clients = fds - *max_conns_out;
}

static void
scache_init(struct server *server)
{
	struct scache_daemon *d = xcalloc(1, sizeof(*d));
	size_t max_conns;

	d->server = server;
	d->ttl_limit_ms = time_ms(server->conf, "connection_cache_ttl_limit");
	d->protocol_timeout_ms =
		time_ms(server->conf, "connection_cache_protocol_timeout");
	d->status_interval_ms =
		time_ms(server->conf, "connection_cache_status_update_time");
	limits_init(d, &max_conns);
	d->store = scache_store_create(max_conns, 2 * max_conns);
	d->interval_start = time(NULL);
	(void)event_timer_add(server->loop, d->status_interval_ms,
			      status_fired, d);
	server->ctx = d;
}

static void
scache_exit(struct server *server)
{
	struct scache_daemon *d = server->ctx;

	status_log(d);
	scache_store_destroy(&d->store);
	free(d);
	server->ctx = NULL;
}

static const struct service_def scache_service = {
	.name = "scache",
	.kind = SKEL_MULTI,
	.post_init = scache_init,
	.on_accept = scache_accept,
	.on_exit = scache_exit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &scache_service);
}
