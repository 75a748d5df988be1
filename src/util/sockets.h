/*
 * sockets.h - listening, connecting and accepting.
 *
 * TCP over IPv4 and IPv6 and UNIX-domain stream and datagram sockets, in
 * the shapes master, the server skeletons and the clients need. Addresses
 * are written as Postfix writes them (see sock_addr.h). Every
 * descriptor made here is close-on-exec. Listening (server) sockets are
 * non-blocking, so that several processes can share one and take turns
 * with sock_accept; connected and accepted sockets are blocking (streams
 * bring their own deadlines). Functions that can fail return -1, set errno
 * to the cause (ECONNREFUSED, ETIMEDOUT, ...) and, if err is not NULL,
 * say what failed in Postfix's words ("connect to HOST[ADDR]:PORT: ...").
 */
#ifndef POSTERN_UTIL_SOCKETS_H
#define POSTERN_UTIL_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/err.h"
#include "util/sock_addr.h"

/*
 * A listening TCP socket on addr with SO_REUSEADDR (and IPV6_V6ONLY for
 * IPv6). Returns the fd, or -1 with err "bind ADDR port PORT: reason" (or
 * the socket/setsockopt/listen step that failed).
 */
int sock_listen_addr(const struct sock_addr *addr, int backlog,
                     struct err *err);

/*
 * Listen on every address of hostport (see sock_hostport_parse): one
 * socket per address, stored in fds_out (room for max_fds). A wildcard
 * host gives one socket per family allowed by family (AF_UNSPEC: IPv4 and
 * IPv6; a family the kernel lacks is skipped). With port 0 the kernel
 * picks the first socket's port and the others reuse it. Returns the count
 * (>= 1), or -1 with err set and no socket left open.
 */
int sock_listen_tcp(const char *hostport, int family, int backlog, int *fds_out,
                    size_t max_fds, struct err *err);

/*
 * A listening UNIX-domain stream socket at path with permissions mode.
 * A stale socket at path is removed first; any other kind of file there
 * is an error ("PATH: exists and is not a socket"). Returns the fd, or -1
 * with err ("PATH: name too long ...", "bind PATH: reason", ...).
 */
int sock_listen_unix(const char *path, int backlog, mode_t mode,
                     struct err *err);

/* A UNIX-domain datagram socket bound at path, as sock_listen_unix. */
int sock_bind_unix_dgram(const char *path, mode_t mode, struct err *err);

/*
 * Connect to addr, waiting at most timeout_ms (negative: no limit; a
 * timeout fails with ETIMEDOUT). Returns the fd, or -1 with err "connect
 * to ADDR:PORT: reason" ("[ADDR]:PORT" for IPv6).
 */
int sock_connect_addr(const struct sock_addr *addr, int timeout_ms,
                      struct err *err);

/*
 * The same for a socket the caller made (and bound, say), which must be
 * non-blocking: connect within timeout_ms, then make it blocking. 0, or
 * -1 with errno (ETIMEDOUT, ECONNREFUSED, ...); the fd stays the caller's.
 */
int sock_connect_fd(int fd, const struct sock_addr *addr, int timeout_ms);

/*
 * Resolve hostport (a host is required) and try its addresses in order,
 * each with timeout_ms. Returns the fd of the first that answers, or -1
 * with errno and err of the last failure: "connect to HOST[ADDR]:PORT:
 * Connection refused", or a parse or resolve error.
 */
int sock_connect_tcp(const char *hostport, int timeout_ms, struct err *err);

/*
 * Connect to the UNIX-domain stream socket at path, waiting at most
 * timeout_ms while the server's backlog is full. Returns the fd, or -1
 * with err "connect to PATH: reason".
 */
int sock_connect_unix(const char *path, int timeout_ms, struct err *err);

/* The same, with the socket left non-blocking (for an event loop). */
int sock_connect_unix_nonblock(const char *path, int timeout_ms,
			       struct err *err);

/* A UNIX-domain datagram socket whose default destination is path. */
int sock_connect_unix_dgram(const char *path, struct err *err);

/*
 * Accept a connection on listen_fd, retrying EINTR and ECONNABORTED. The
 * new fd is blocking and close-on-exec; peer_out (may be NULL) receives
 * the client's address. Returns the fd, or -1 with errno (EAGAIN when no
 * connection is pending on a non-blocking listener).
 */
int sock_accept(int listen_fd, struct sock_addr *peer_out);

/* Turn O_NONBLOCK / FD_CLOEXEC on or off. Returns 0, or -1 with errno. */
int sock_set_nonblock(int fd, bool is_on);
int sock_set_cloexec(int fd, bool is_on);

#endif
