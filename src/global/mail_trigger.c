/*
 * mail_trigger.c - wake a trigger service up.
 *
 * A FIFO is opened non-blocking, so a service that is not running (no
 * reader) gives ENXIO at once instead of a hang; a socket is connected,
 * written and closed.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/mail_trigger.h"
#include "util/sockets.h"

static int
write_all(int fd, const char *path, const void *req, size_t len,
	  struct err *err)
{
	ssize_t n = write(fd, req, len);
	int saved;

	if (n == (ssize_t)len)
		return 0;
	saved = n < 0 ? errno : EIO;
	err_set(err, "write %s: %s", path, strerror(saved));
	errno = saved;
	return -1;
}

int
mail_trigger(const char *path, const void *req, size_t len, int timeout_ms,
	     struct err *err)
{
	struct stat st;
	int fd;
	int ret;
	int saved;

	if (stat(path, &st) < 0) {
		saved = errno;
		err_set(err, "unable to look up %s: %s", path, strerror(saved));
		errno = saved;
		return -1;
	}
	if (S_ISFIFO(st.st_mode)) {
		fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			saved = errno;
			err_set(err, "open %s: %s", path, strerror(saved));
			errno = saved;
			return -1;
		}
	} else if (S_ISSOCK(st.st_mode)) {
		fd = sock_connect_unix(path, timeout_ms, err);
		if (fd < 0)
			return -1;
	} else {
		err_set(err, "%s: not a FIFO or socket", path);
		errno = EINVAL;
		return -1;
	}
	ret = write_all(fd, path, req, len, err);
	saved = errno;
	(void)close(fd);
	errno = saved;
	return ret;
}
