/*
 * master_proto.h - what master and its children agree on.
 *
 * master starts each service process with:
 *     fd MASTER_STATUS_FD       write end of the service's status pipe
 *     fd MASTER_LISTEN_FD...    the service's listening descriptors
 *     argv: COMMAND -n NAME -t TYPE -s COUNT [-u] [-c] [-o P=V]... [ARGS]
 *     env:  MAIL_CONFIG=DIR
 * A child tells master "I am busy" before serving a client and "I am
 * available" afterwards, so master knows when every process is busy and a
 * new one is needed. Each status record is one write of a few bytes, far
 * below PIPE_BUF, so records from many children never interleave. When the
 * service is removed (or master dies) master's end of the pipe closes and
 * the children see an error on their end: they finish their client and exit.
 */
#ifndef POSTERN_GLOBAL_MASTER_PROTO_H
#define POSTERN_GLOBAL_MASTER_PROTO_H

#include <stdint.h>
#include <sys/types.h>

#define MASTER_STATUS_FD 5
#define MASTER_LISTEN_FD 6

/* Most listening descriptors one service may have (inet on v4 and v6...). */
#define MASTER_MAX_LISTEN_FDS 16

enum master_status_code {
	MASTER_STAT_TAKEN = 0, /* serving a client */
	MASTER_STAT_AVAIL = 1, /* waiting for a client */
};

struct master_status {
	int32_t pid;
	int32_t status; /* enum master_status_code */
};

/*
 * Report status on MASTER_STATUS_FD. Returns 0, or -1 with errno when master
 * went away (EPIPE) or the descriptor is not there (EBADF: run without
 * master, e.g. with -S or -z).
 */
int master_notify(enum master_status_code status);

/* The trigger request master sends to wake a service up. */
#define MASTER_TRIGGER_WAKEUP 'W'

#endif
