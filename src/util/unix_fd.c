/*
 * unix_fd.c - passing one open descriptor with the bytes of a message
 * over a UNIX-domain stream socket (see unix_fd.h).
 *
 * The ancillary buffer has room for several descriptors, so that a peer
 * that sends more than one is detected and each extra copy closed rather
 * than leaked into this process.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/unix_fd.h"

/* Wait for events on sock until deadline (-1: none). 0, or -1 with errno
 * ETIMEDOUT or poll's error. */
static int
wait_for(int sock, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = sock, .events = events };

	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - clock_ms();
		int ret;

		if (deadline >= 0 && left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ret = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (ret > 0)
			return 0;
		if (ret < 0 && errno != EINTR)
			return -1;
	}
}

ssize_t
unix_fd_send_some(int sock, const void *buf, size_t len, int pass_fd)
{
	union {
		char space[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (pass_fd >= 0) {
		struct cmsghdr *cmsg;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.space;
		msg.msg_controllen = sizeof(control.space);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n;
}

int
unix_fd_send(int sock, const void *buf, size_t len, int pass_fd,
	     int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : clock_ms() + timeout_ms;
	const char *p = buf;

	while (len > 0) {
		ssize_t n = unix_fd_send_some(sock, p, len, pass_fd);

		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (n < 0) {
			if (wait_for(sock, POLLOUT, deadline) < 0)
				return -1;
			continue;
		}
		pass_fd = -1; /* it went with the first bytes */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Collect the descriptors of one recvmsg: 0 with *fd_out (-1 if none),
 * or -1 (EBADMSG) after closing all of them. */
static int
take_fds(struct msghdr *msg, int *fd_out)
{
	int fds[UNIX_FD_RECV_MAX];
	size_t count = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL;
	     c = CMSG_NXTHDR(msg, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n && count < UNIX_FD_RECV_MAX; i++)
			memcpy(&fds[count++],
			       CMSG_DATA(c) + i * sizeof(int), sizeof(int));
	}
	if (count <= 1 && !(msg->msg_flags & MSG_CTRUNC)) {
		*fd_out = count == 1 ? fds[0] : -1;
		return 0;
	}
	for (size_t i = 0; i < count; i++)
		(void)close(fds[i]);
	errno = EBADMSG;
	return -1;
}

ssize_t
unix_fd_recv(int sock, void *buf, size_t len, int *fd_out)
{
	union {
		char space[CMSG_SPACE(UNIX_FD_RECV_MAX * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control.space,
			      .msg_controllen = sizeof(control.space) };
	ssize_t n;

	*fd_out = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (take_fds(&msg, fd_out) < 0)
		return -1;
	return n;
}

ssize_t
unix_fd_recv_wait(int sock, void *buf, size_t len, int *fd_out,
		  int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : clock_ms() + timeout_ms;

	*fd_out = -1;
	if (wait_for(sock, POLLIN, deadline) < 0)
		return -1;
	return unix_fd_recv(sock, buf, len, fd_out);
}
