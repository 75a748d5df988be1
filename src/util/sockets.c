/*
 * sockets.c - listening, connecting and accepting.
 *
 * Thin layers over the socket calls that add what every caller would
 * otherwise repeat: per-family options, stale UNIX-domain sockets, timed
 * connects, and messages that name the address involved. Address syntax,
 * resolution and formatting live in sock_addr.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/mymalloc.h"
#include "util/sockets.h"

/* How often to retry connecting to a UNIX-domain socket whose backlog is
 * full (the kernel offers no way to wait for room). */
#define UNIX_RETRY_MS 10

/* Close fd keeping errno, for error paths. */
static void
close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

/*
 * Printable addr for messages ("bind ADDR port PORT"). Keeps errno, which
 * getnameinfo might change, for the message being built.
 */
static void
addr_context(const struct sock_addr *addr, struct sock_addr_text *text)
{
	int saved = errno;

	if (sock_addr_format((const struct sockaddr *)&addr->storage, addr->len,
	                     text) < 0) {
		snprintf(text->addr, sizeof(text->addr), "(unknown)");
		text->port[0] = 0;
	}
	errno = saved;
}

int
sock_listen_addr(const struct sock_addr *addr, int backlog, struct err *err)
{
	int family = addr->storage.ss_family;
	struct sock_addr_text text;
	const char *step = "bind";
	int on = 1;
	int fd;

	addr_context(addr, &text);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(err, "socket %s port %s: %s", text.addr, text.port,
		        strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0)
		step = "setsockopt SO_REUSEADDR";
	else if (family == AF_INET6 &&
	         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on)) < 0)
		step = "setsockopt IPV6_V6ONLY";
	else if (bind(fd, (const struct sockaddr *)&addr->storage, addr->len) <
	         0)
		step = "bind";
	else if (listen(fd, backlog) < 0)
		step = "listen";
	else
		return fd;
	err_set(err, "%s %s port %s: %s", step, text.addr, text.port,
	        strerror(errno));
	close_keep_errno(fd);
	return -1;
}

static void
set_port(struct sock_addr *addr, unsigned port)
{
	if (addr->storage.ss_family == AF_INET)
		((struct sockaddr_in *)&addr->storage)->sin_port =
		    htons((uint16_t)port);
	else if (addr->storage.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&addr->storage)->sin6_port =
		    htons((uint16_t)port);
}

static void
close_all(int *fds, size_t count)
{
	int saved = errno;

	for (size_t i = 0; i < count; i++)
		close(fds[i]);
	errno = saved;
}

/* Open one listener per address; see sock_listen_tcp. */
static int
listen_addrs(struct sock_addr *addrs, int count, bool is_wildcard, int backlog,
             int *fds_out, size_t max_fds, struct err *err)
{
	unsigned chosen_port = 0;
	size_t used = 0;

	for (int i = 0; i < count; i++) {
		int fd;

		if (chosen_port != 0)
			set_port(&addrs[i], chosen_port);
		fd = sock_listen_addr(&addrs[i], backlog, err);
		if (fd < 0 && is_wildcard && errno == EAFNOSUPPORT)
			continue;
		if (fd >= 0 && used == max_fds) {
			close(fd);
			err_set(err, "too many addresses (at most %zu)",
			        max_fds);
			errno = ENOBUFS;
			fd = -1;
		}
		if (fd < 0) {
			close_all(fds_out, used);
			return -1;
		}
		fds_out[used++] = fd;
		if (chosen_port == 0)
			chosen_port = (unsigned)sock_local_port(fd);
	}
	if (used == 0) {
		err_set(err, "no address family is available");
		errno = EAFNOSUPPORT;
		return -1;
	}
	return (int)used;
}

int
sock_listen_tcp(const char *hostport, int family, int backlog, int *fds_out,
                size_t max_fds, struct err *err)
{
	struct sock_addr *addrs;
	unsigned port;
	char *host;
	int count;

	if (sock_hostport_parse(hostport, &host, &port, err) < 0) {
		errno = EINVAL;
		return -1;
	}
	count = sock_resolve(host, port, family, &addrs, err);
	if (count >= 0) {
		count = listen_addrs(addrs, count, *host == 0, backlog, fds_out,
		                     max_fds, err);
		free(addrs);
	}
	free(host);
	return count;
}

/* Fill sun from path; -1 with err when path does not fit. */
static int
unix_addr(const char *path, struct sockaddr_un *sun, struct err *err)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		err_set(err,
		        "%s: name too long for a UNIX-domain socket "
		        "(at most %zu bytes)",
		        path, sizeof(sun->sun_path) - 1);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path));
	return 0;
}

/* Remove a stale socket at path; refuse to remove anything else. */
static int
unlink_stale(const char *path, struct err *err)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		err_set(err, "%s: exists and is not a socket", path);
		errno = EEXIST;
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		err_set(err, "unlink %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Bind a UNIX-domain socket of type at path with mode; see header. */
static int
unix_bind(const char *path, int type, int backlog, mode_t mode, struct err *err)
{
	struct sockaddr_un sun;
	const char *step = "bind";
	int fd;

	if (unix_addr(path, &sun, err) < 0 || unlink_stale(path, err) < 0)
		return -1;
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(err, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err_set(err, "bind %s: %s", path, strerror(errno));
		close_keep_errno(fd);
		return -1;
	}
	if (chmod(path, mode) < 0)
		step = "chmod";
	else if (type == SOCK_STREAM && listen(fd, backlog) < 0)
		step = "listen";
	else
		return fd;
	err_set(err, "%s %s: %s", step, path, strerror(errno));
	close_keep_errno(fd);
	(void)unlink(path);
	return -1;
}

int
sock_listen_unix(const char *path, int backlog, mode_t mode, struct err *err)
{
	return unix_bind(path, SOCK_STREAM, backlog, mode, err);
}

int
sock_bind_unix_dgram(const char *path, mode_t mode, struct err *err)
{
	return unix_bind(path, SOCK_DGRAM, 0, mode, err);
}

/* Wait for a non-blocking connect on fd to finish; 0 or -1 with errno. */
static int
connect_wait(int fd, int timeout_ms)
{
	int64_t deadline = clock_ms() + timeout_ms;
	struct pollfd pfd = {.fd = fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int soerr = 0;

	for (;;) {
		int64_t left = timeout_ms < 0 ? -1 : deadline - clock_ms();
		int n;

		if (timeout_ms >= 0)
			left = left < 0 ? 0 : left > INT_MAX ? INT_MAX : left;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			break;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

/* Connect the non-blocking fd to sa within timeout_ms. */
static int
timed_connect_nonblock(int fd, const struct sockaddr *sa, socklen_t len,
		       int timeout_ms)
{
	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS && errno != EINTR)
			return -1;
		if (connect_wait(fd, timeout_ms) < 0)
			return -1;
	}
	return 0;
}

/* Connect fd to sa within timeout_ms and make it blocking again. */
static int
timed_connect(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	if (timed_connect_nonblock(fd, sa, len, timeout_ms) < 0)
		return -1;
	return sock_set_nonblock(fd, false);
}

int
sock_connect_fd(int fd, const struct sock_addr *addr, int timeout_ms)
{
	return timed_connect(fd, (const struct sockaddr *)&addr->storage,
	                     addr->len, timeout_ms);
}

int
sock_connect_addr(const struct sock_addr *addr, int timeout_ms, struct err *err)
{
	struct sock_addr_text text;
	int fd;

	fd = socket(addr->storage.ss_family,
	            SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(err, "socket: %s", strerror(errno));
		return -1;
	}
	if (timed_connect(fd, (const struct sockaddr *)&addr->storage,
	                  addr->len, timeout_ms) == 0)
		return fd;
	close_keep_errno(fd);
	addr_context(addr, &text);
	err_set(err,
	        addr->storage.ss_family == AF_INET6 ? "connect to [%s]:%s: %s"
	                                            : "connect to %s:%s: %s",
	        text.addr, text.port, strerror(errno));
	return -1;
}

int
sock_connect_tcp(const char *hostport, int timeout_ms, struct err *err)
{
	struct sock_addr_text text;
	struct sock_addr *addrs;
	unsigned port;
	char *host;
	int count;
	int fd = -1;

	if (sock_hostport_parse(hostport, &host, &port, err) < 0) {
		errno = EINVAL;
		return -1;
	}
	if (*host == 0) {
		free(host);
		err_set(err, "address \"%s\": missing host", hostport);
		errno = EINVAL;
		return -1;
	}
	count = sock_resolve(host, port, AF_UNSPEC, &addrs, err);
	for (int i = 0; i < count && fd < 0; i++) {
		fd = sock_connect_addr(&addrs[i], timeout_ms, NULL);
		if (fd < 0) {
			addr_context(&addrs[i], &text);
			err_set(err, "connect to %s[%s]:%s: %s", host,
			        text.addr, text.port, strerror(errno));
		}
	}
	if (count >= 0)
		free(addrs);
	free(host);
	return fd;
}

static int
connect_unix(const char *path, int timeout_ms, bool is_nonblock,
	     struct err *err)
{
	int64_t deadline = clock_ms() + timeout_ms;
	struct sockaddr_un sun;
	int fd;

	if (unix_addr(path, &sun, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(err, "socket: %s", strerror(errno));
		return -1;
	}
	/* A full backlog gives EAGAIN, which poll cannot wait for: retry. */
	while (timed_connect_nonblock(fd, (struct sockaddr *)&sun, sizeof(sun),
				      timeout_ms) < 0) {
		if (errno != EAGAIN ||
		    (timeout_ms >= 0 && clock_ms() >= deadline)) {
			if (errno == EAGAIN)
				errno = ETIMEDOUT;
			err_set(err, "connect to %s: %s", path,
			        strerror(errno));
			close_keep_errno(fd);
			return -1;
		}
		poll(NULL, 0, UNIX_RETRY_MS);
	}
	if (!is_nonblock && sock_set_nonblock(fd, false) < 0) {
		err_set(err, "connect to %s: %s", path, strerror(errno));
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

int
sock_connect_unix(const char *path, int timeout_ms, struct err *err)
{
	return connect_unix(path, timeout_ms, false, err);
}

int
sock_connect_unix_nonblock(const char *path, int timeout_ms, struct err *err)
{
	return connect_unix(path, timeout_ms, true, err);
}

int
sock_connect_unix_dgram(const char *path, struct err *err)
{
	struct sockaddr_un sun;
	int fd;

	if (unix_addr(path, &sun, err) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err_set(err, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err_set(err, "connect to %s: %s", path, strerror(errno));
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

int
sock_accept(int listen_fd, struct sock_addr *peer_out)
{
	struct sock_addr peer;
	int fd;

	for (;;) {
		peer.len = sizeof(peer.storage);
		fd = accept4(listen_fd, (struct sockaddr *)&peer.storage,
		             &peer.len, SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		if (errno != EINTR && errno != ECONNABORTED)
			return -1;
	}
	if (peer_out != NULL)
		*peer_out = peer;
	return fd;
}

int
sock_set_nonblock(int fd, bool is_on)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	flags = is_on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, flags) < 0 ? -1 : 0;
}

int
sock_set_cloexec(int fd, bool is_on)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags < 0)
		return -1;
	flags = is_on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, flags) < 0 ? -1 : 0;
}
