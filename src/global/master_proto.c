/*
 * master_proto.c - the child's side of the master status protocol.
 */
#include <errno.h>
#include <unistd.h>

#include "global/master_proto.h"

int
master_notify(enum master_status_code status)
{
	struct master_status record = {
		.pid = (int32_t)getpid(),
		.status = (int32_t)status,
	};
	ssize_t n;

	do
		n = write(MASTER_STATUS_FD, &record, sizeof(record));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != sizeof(record)) {
		errno = EIO;
		return -1;
	}
	return 0;
}
