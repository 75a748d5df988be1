/*
 * server_event.c - the skeleton's event-loop kinds: MULTI and TRIGGER.
 *
 * Both watch the listening sockets and the status channel on one event
 * loop that the service may also use for its own descriptors and timers.
 * MULTI hands each accepted descriptor to the service and counts open
 * clients; master sees the process busy while any client is open. TRIGGER
 * reads one short request per connection (or per read on a FIFO) and
 * passes its bytes to the service.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "global/server_priv.h"
#include "util/log.h"
#include "util/sockets.h"

static void
idle_expired(struct event_loop *loop, void *ctx)
{
	(void)loop;
	skel_exit(ctx, "idle timeout");
}

/* (Re)start the idle clock; a MULTI process with clients is never idle. */
static void
arm_idle_timer(struct skel *skel)
{
	if (skel->idle_timer != 0)
		event_timer_cancel(skel->server.loop, skel->idle_timer);
	skel->idle_timer = 0;
	if (skel->max_idle_ms > 0 && skel->server.client_count == 0)
		skel->idle_timer = event_timer_add(skel->server.loop,
						   (int)skel->max_idle_ms,
						   idle_expired, skel);
}

static void
check_max_use(struct skel *skel)
{
	if (skel->max_use > 0 && skel->server.use_count >= skel->max_use &&
	    skel->server.client_count == 0)
		skel_exit(skel, "max_use reached");
}

static void
master_gone(struct event_loop *loop, int fd, void *ctx)
{
	(void)loop;
	(void)fd;
	skel_exit(ctx, "master went away");
}

static void
accept_client(struct event_loop *loop, int listen_fd, void *ctx)
{
	struct skel *skel = ctx;
	int fd;

	(void)loop;
	if ((fd = sock_accept(listen_fd, NULL)) < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warning("accept connection: %s", strerror(errno));
		return;
	}
	if (skel->server.client_count++ == 0)
		skel_notify(skel, MASTER_STAT_TAKEN);
	skel->server.use_count++;
	arm_idle_timer(skel);
	skel->def->on_accept(&skel->server, fd);
}

void
server_client_done(struct server *server)
{
	struct skel *skel = (struct skel *)server;

	ASSERT(server->client_count > 0);
	if (--server->client_count == 0) {
		skel_notify(skel, MASTER_STAT_AVAIL);
		arm_idle_timer(skel);
		check_max_use(skel);
	}
}

static void
run_trigger(struct skel *skel, const uint8_t *buf, size_t len)
{
	skel_notify(skel, MASTER_STAT_TAKEN);
	skel->def->on_trigger(&skel->server, buf, len);
	skel->server.use_count++;
	skel_notify(skel, MASTER_STAT_AVAIL);
	arm_idle_timer(skel);
	check_max_use(skel);
}

/* A trigger arrived on a FIFO: its bytes are the request. */
static void
read_fifo_trigger(struct event_loop *loop, int fd, void *ctx)
{
	uint8_t buf[SERVER_TRIGGER_MAX];
	ssize_t n = read(fd, buf, sizeof(buf));

	(void)loop;
	if (n > 0)
		run_trigger(ctx, buf, (size_t)n);
}

/* A trigger client connected: read its request (bounded, with a
 * deadline), then act on it. */
static bool
has_waiting_client(int listen_fd)
{
	struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };

	return poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) != 0;
}

/*
 * Take every trigger that is waiting (up to a batch): a writer whose
 * connection finds the backlog full must retry, so a busy service that
 * took one per wake-up would make its writers wait.
 */
static void
accept_trigger(struct event_loop *loop, int listen_fd, void *ctx)
{
	struct skel *skel = ctx;
	uint8_t buf[SERVER_TRIGGER_MAX];

	(void)loop;
	for (int i = 0; i < SERVER_TRIGGER_BATCH; i++) {
		struct stream *client;
		ssize_t n;
		int fd;

		if ((i > 0 && !has_waiting_client(listen_fd)) ||
		    (fd = sock_accept(listen_fd, NULL)) < 0)
			return;
		client = stream_open(fd, 0);
		stream_set_timeout(client, (int)skel->ipc_timeout_ms);
		n = stream_read_some(client, buf, sizeof(buf));
		stream_close(&client);
		if (n > 0)
			run_trigger(skel, buf, (size_t)n);
	}
}

static event_fd_fn *
listener_callback(struct skel *skel)
{
	if (skel->def->kind == SKEL_MULTI)
		return accept_client;
	if (strcmp(skel->server.service_type, "fifo") == 0)
		return read_fifo_trigger;
	return accept_trigger;
}

void
skel_run_event(struct skel *skel)
{
	event_fd_fn *on_ready = listener_callback(skel);

	if (skel->server.loop == NULL)
		skel->server.loop = event_loop_create();
	if (skel->has_master &&
	    event_add_read(skel->server.loop, MASTER_STATUS_FD, master_gone,
			   skel) < 0)
		log_fatal("watch status channel: %s", strerror(errno));
	for (int i = 0; i < skel->listen_count; i++)
		if (event_add_read(skel->server.loop, skel->listen_fds[i],
				   on_ready, skel) < 0)
			log_fatal("watch listening socket: %s",
				  strerror(errno));
	arm_idle_timer(skel);
	for (;;)
		if (event_loop_run_once(skel->server.loop, -1) < 0 &&
		    errno != EINTR)
			log_fatal("event loop: %s", strerror(errno));
}
