/*
 * mail_trigger.h - wake a trigger service (qmgr, pickup) up.
 *
 * A trigger is a few bytes ("A": new mail arrived; "W": wake up) written
 * to a service's FIFO or UNIX-domain socket, typically public/qmgr under
 * queue_directory. The writer never waits for the service to read it.
 */
#ifndef POSTERN_GLOBAL_MAIL_TRIGGER_H
#define POSTERN_GLOBAL_MAIL_TRIGGER_H

#include <stddef.h>

#include "util/err.h"

/* What cleanup sends qmgr after a new message is queued: scan incoming/
 * (QMGR_REQ_SCAN_INCOMING in qmgr_trigger.h). */
#define MAIL_TRIGGER_ARRIVED 'I'

/* Where qmgr listens, relative to queue_directory. */
#define MAIL_TRIGGER_QMGR "public/qmgr"

/*
 * Send req to the FIFO or socket at path, waiting at most timeout_ms to
 * connect. Returns 0, or -1 with errno and err: "unable to look up PATH:
 * REASON" (ENOENT when there is no such service), "PATH: not a FIFO or
 * socket", "open PATH: REASON", "connect to PATH: REASON" or
 * "write PATH: REASON".
 */
int mail_trigger(const char *path, const void *req, size_t len, int timeout_ms,
		 struct err *err);

#endif
