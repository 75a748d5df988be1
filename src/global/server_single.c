/*
 * server_single.c - the skeleton's loop for one client at a time.
 *
 * Waits in poll() on the inherited listening sockets and on the status
 * channel (which reports an error once master has gone), accepts, tells
 * master it is busy, serves the client, and tells master it is available
 * again. All processes of a service share the listeners; a process that
 * loses the race for a connection gets EAGAIN and waits again.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "global/server_priv.h"
#include "util/log.h"
#include "util/sockets.h"

/* Wait for a connection; returns its fd, or exits when idle or orphaned. */
static int
wait_for_client(struct skel *skel)
{
	struct pollfd fds[MASTER_MAX_LISTEN_FDS + 1];
	int nfds = 0;
	int timeout = skel->max_idle_ms > 0 ? (int)skel->max_idle_ms : -1;

	for (int i = 0; i < skel->listen_count; i++)
		fds[nfds++] = (struct pollfd){ .fd = skel->listen_fds[i],
					       .events = POLLIN };
	if (skel->has_master)
		fds[nfds++] = (struct pollfd){ .fd = MASTER_STATUS_FD };
	for (;;) {
		int ready = poll(fds, (nfds_t)nfds, timeout);

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			log_fatal("poll: %s", strerror(errno));
		if (ready == 0)
			skel_exit(skel, "idle timeout");
		if (skel->has_master && fds[nfds - 1].revents != 0)
			skel_exit(skel, "master went away");
		for (int i = 0; i < skel->listen_count; i++) {
			int fd;

			if (!(fds[i].revents & POLLIN))
				continue;
			if ((fd = sock_accept(fds[i].fd, NULL)) >= 0)
				return fd;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warning("accept connection: %s",
					    strerror(errno));
		}
	}
}

void
skel_run_single(struct skel *skel)
{
	if (skel->listen_count == 0)
		log_fatal("no listening socket: start me from master");
	while (skel->max_use == 0 || skel->server.use_count < skel->max_use) {
		int fd = wait_for_client(skel);
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
