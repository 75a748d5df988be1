/*
 * unix_fd.h - passing one open descriptor over a UNIX-domain stream
 * socket, together with the bytes of a message.
 *
 * The descriptor travels as SCM_RIGHTS ancillary data attached to the
 * first bytes of a send; the receiver gets its own copy (close-on-exec)
 * with the read that returns those bytes, and the sender still owns the
 * original. Used by the connection cache (scache) and its clients.
 * Sends never raise SIGPIPE (EPIPE is returned instead).
 */
#ifndef POSTERN_UTIL_UNIX_FD_H
#define POSTERN_UTIL_UNIX_FD_H

#include <stddef.h>
#include <sys/types.h>

/* Most descriptors unix_fd_recv accepts with one read (it wants one). */
#define UNIX_FD_RECV_MAX 4

/*
 * One sendmsg of at most len (>= 1) bytes, with pass_fd attached when it
 * is not negative. Does not wait on a non-blocking socket. Returns the
 * number of bytes sent (the descriptor went with them), or -1 with errno
 * (EAGAIN when the socket buffer is full, EPIPE, EBADF, ...).
 */
ssize_t unix_fd_send_some(int sock, const void *buf, size_t len, int pass_fd);

/*
 * Send all len (>= 1) bytes, with pass_fd (or none when negative)
 * attached to the first ones, waiting at most timeout_ms in all
 * (negative: no limit) for room in the socket buffer. Returns 0, or -1
 * with errno (ETIMEDOUT, EPIPE, ...), in which case part of the message
 * may have been sent.
 */
int unix_fd_send(int sock, const void *buf, size_t len, int pass_fd,
		 int timeout_ms);

/*
 * One recvmsg of at most len (>= 1) bytes. *fd_out is the descriptor
 * that came with them, or -1. Returns the byte count (0 at end of file),
 * or -1 with errno: EAGAIN (a non-blocking socket with nothing to read),
 * EBADMSG when more than one descriptor arrived or the ancillary data was
 * cut short (every descriptor received is closed; the bytes are lost and
 * the connection should be dropped), or the error of recvmsg.
 */
ssize_t unix_fd_recv(int sock, void *buf, size_t len, int *fd_out);

/*
 * As unix_fd_recv, but first wait at most timeout_ms (negative: no
 * limit) for something to read: -1 with errno ETIMEDOUT when nothing came.
 */
ssize_t unix_fd_recv_wait(int sock, void *buf, size_t len, int *fd_out,
			  int timeout_ms);

#endif
