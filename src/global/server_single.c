/*
 * server_single.c - the skeleton's loop for one client at a time.
 *
 * Waits in epoll on the inherited listening sockets and on the status
 * channel (which reports an error once master has gone), accepts, tells
 * master it is busy, serves the client, and tells master it is available
 * again. All processes of a service share the listeners, each watched
 * with EPOLLEXCLUSIVE: a new connection wakes one idle process, not every
 * one of them (with poll, 20 idle smtp processes all woke for each
 * delivery and all but one found nothing to accept). A process that still
 * loses the race for a connection gets EAGAIN and waits again.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "global/server_priv.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/sockets.h"

/* Tag of the status channel in epoll events; listeners are 0, 1, ... */
#define WATCH_STATUS MASTER_MAX_LISTEN_FDS

/*
 * An idle process looks at its listeners this often without a wake-up: a
 * connection whose wake-up went to a process that died before it could
 * accept would otherwise wait for the next connection to arrive.
 */
#define WATCH_RECHECK_MS 5000

static void
watch_add(int ep, int fd, uint32_t events, uint32_t tag)
{
	struct epoll_event ev = { .events = events, .data.u32 = tag };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0)
		return;
	/* Kernels before 4.5 have no EPOLLEXCLUSIVE: wake all, as poll. */
	ev.events &= ~(uint32_t)EPOLLEXCLUSIVE;
	if (errno != EINVAL || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		log_fatal("epoll_ctl: %s", strerror(errno));
}

/* The epoll instance this process waits in for clients. */
static int
watch_create(const struct skel *skel)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		log_fatal("epoll_create1: %s", strerror(errno));
	for (int i = 0; i < skel->listen_count; i++)
		watch_add(ep, skel->listen_fds[i], EPOLLIN | EPOLLEXCLUSIVE,
			  (uint32_t)i);
	/* No events asked: an error (master gone) is reported anyway. */
	if (skel->has_master)
		watch_add(ep, MASTER_STATUS_FD, 0, WATCH_STATUS);
	return ep;
}

/* A connection waiting on one of the listeners, or -1. */
static int
accept_any(const struct skel *skel)
{
	for (int i = 0; i < skel->listen_count; i++) {
		int fd = sock_accept(skel->listen_fds[i], NULL);

		if (fd >= 0)
			return fd;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warning("accept connection: %s", strerror(errno));
	}
	return -1;
}

/* How long the next wait may be: until the recheck, or the idle limit. */
static int
wait_timeout(const struct skel *skel, int64_t idle_deadline)
{
	int64_t left;

	if (skel->max_idle_ms <= 0)
		return WATCH_RECHECK_MS;
	left = idle_deadline - clock_ms();
	return left < 0 ? 0 : left < WATCH_RECHECK_MS ? (int)left
						       : WATCH_RECHECK_MS;
}

/* Wait for a connection; returns its fd, or exits when idle or orphaned. */
static int
wait_for_client(struct skel *skel, int ep)
{
	struct epoll_event events[MASTER_MAX_LISTEN_FDS + 1];
	int64_t idle_deadline = clock_ms() + skel->max_idle_ms;

	for (;;) {
		int ready = epoll_wait(ep, events, MASTER_MAX_LISTEN_FDS + 1,
				       wait_timeout(skel, idle_deadline));
		int fd;

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			log_fatal("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < ready; i++)
			if (events[i].data.u32 == WATCH_STATUS)
				skel_exit(skel, "master went away");
		if ((fd = accept_any(skel)) >= 0)
			return fd;
		if (ready == 0 && skel->max_idle_ms > 0 &&
		    clock_ms() >= idle_deadline)
			skel_exit(skel, "idle timeout");
	}
}

void
skel_run_single(struct skel *skel)
{
	int ep;

	if (skel->listen_count == 0)
		log_fatal("no listening socket: start me from master");
	ep = watch_create(skel);
	while (skel->max_use == 0 || skel->server.use_count < skel->max_use) {
		int fd = wait_for_client(skel, ep);
		struct stream *client = stream_open(fd, skel->def->stream_flags);

		skel_notify(skel, MASTER_STAT_TAKEN);
		alarm((unsigned)skel->daemon_timeout_s);
		skel->def->on_client(&skel->server, client);
		alarm(0);
		stream_close(&client);
		skel->server.use_count++;
		skel_notify(skel, MASTER_STAT_AVAIL);
	}
	skel_exit(skel, "max_use reached");
}

/* -S: stdin and stdout are the client (sendmail -bs runs smtpd so). */
static ssize_t
read_stdin(int fd, void *buf, size_t len, void *ctx)
{
	(void)fd;
	(void)ctx;
	return read(STDIN_FILENO, buf, len);
}

static ssize_t
write_stdout(int fd, const void *buf, size_t len, void *ctx)
{
	(void)fd;
	(void)ctx;
	return write(STDOUT_FILENO, buf, len);
}

static const struct stream_io stdio_io = {
	.read = read_stdin,
	.write = write_stdout,
};

void
skel_run_standalone(struct skel *skel)
{
	struct stream *client = stream_open(dup(STDIN_FILENO),
					    skel->def->stream_flags);

	stream_set_io(client, &stdio_io, NULL);
	alarm((unsigned)skel->daemon_timeout_s);
	skel->def->on_client(&skel->server, client);
	alarm(0);
	stream_close(&client);
	skel_exit(skel, "stand-alone client done");
}
