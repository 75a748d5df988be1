/*
 * master_wake.c - wakeup timers: poke a service every N seconds.
 *
 * The wake-up is an ordinary trigger request ("W") sent to the service's
 * own endpoint, so it goes through the same path as any client and starts
 * a process if none is running. Services marked "N?" in master.cf are only
 * woken once something else has used them.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "master/master.h"
#include "util/log.h"
#include "util/sockets.h"

#define WAKEUP_CONNECT_TIMEOUT_MS 1000

static void
send_trigger(const struct master_serv *serv)
{
	static const char request[] = { MASTER_TRIGGER_WAKEUP };
	struct err err;
	int fd;

	if (serv->type_code == MASTER_TYPE_FIFO)
		fd = open(serv->endpoint, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	else
		fd = sock_connect_unix(serv->endpoint,
				       WAKEUP_CONNECT_TIMEOUT_MS, &err);
	if (fd < 0) {
		log_warning("wakeup %s: %s", serv->endpoint, strerror(errno));
		return;
	}
	if (write(fd, request, sizeof(request)) < 0 && errno != EAGAIN)
		log_warning("wakeup %s: %s", serv->endpoint, strerror(errno));
	close(fd);
}

static void
wakeup_due(struct event_loop *loop, void *ctx)
{
	struct master_serv *serv = ctx;

	if (!serv->wakeup_if_used || serv->has_been_used)
		send_trigger(serv);
	serv->wakeup_timer = event_timer_add(loop, serv->wakeup * 1000,
					     wakeup_due, serv);
}

void
master_wakeup_start(struct master_serv *serv)
{
	if (serv->wakeup <= 0)
		return;
	if (serv->type_code == MASTER_TYPE_INET ||
	    serv->type_code == MASTER_TYPE_UNIX_DGRAM) {
		log_warning("service %s/%s: wakeup is not supported for this "
			    "service type; ignoring it",
			    serv->name, serv->type);
		return;
	}
	/* The first wake-up comes at once, so that qmgr and pickup look at
	 * the queue as soon as the system starts or is reloaded. */
	serv->wakeup_timer = event_timer_add(serv->master->loop, 0, wakeup_due,
					     serv);
}

void
master_wakeup_stop(struct master_serv *serv)
{
	if (serv->wakeup_timer != 0)
		event_timer_cancel(serv->master->loop, serv->wakeup_timer);
	serv->wakeup_timer = 0;
}
