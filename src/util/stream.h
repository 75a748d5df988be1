/*
 * stream.h - buffered streams over file descriptors, with deadlines.
 *
 * A stream wraps one descriptor (socket, pipe or file) with an 8 KiB read
 * buffer and an 8 KiB write buffer. Every public read or write call is one
 * operation: when a timeout is set, the whole call must finish within it or
 * it fails with ETIMEDOUT. Lines are read into a caller's strbuf whose limit
 * is the line limit, and the caller learns how each line ended (CRLF, bare
 * LF, cut at the limit, or cut by end of file), so a protocol engine can
 * apply its own line-length and bare-LF policy. Errors are reported through
 * errno, like stdio; they are sticky per direction until stream_clear_error,
 * so a read timeout still lets the caller write a "421 timeout" reply.
 * Writes to sockets never raise SIGPIPE (EPIPE is returned instead); writes
 * to pipes do, so processes that write to pipes should ignore SIGPIPE.
 */
#ifndef POSTERN_UTIL_STREAM_H
#define POSTERN_UTIL_STREAM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/strbuf.h"

/* Size of each of the read and write buffers. */
#define STREAM_BUF_SIZE 8192

/* No deadline: calls may wait for ever (the default). */
#define STREAM_NO_TIMEOUT (-1)

/*
 * stream_open flags. STREAM_AUTOFLUSH flushes buffered output before a read
 * has to wait for new input: replies to pipelined requests are then sent in
 * one batch, and a request/response protocol can never deadlock on output
 * that is still sitting in our buffer.
 */
#define STREAM_AUTOFLUSH (1 << 0)

/* How the line returned by stream_read_line ended. */
enum stream_line_end {
	STREAM_END_CRLF, /* "\r\n", not part of the returned text */
	STREAM_END_LF,   /* a bare "\n", not part of the returned text */
	STREAM_END_CUT,  /* the limit was reached; the line goes on */
	STREAM_END_EOF,  /* the stream ended before any line end */
};

/*
 * Optional replacement for the raw I/O (for example TLS). Each function
 * behaves like read(2)/write(2) on fd: a byte count, 0 for end of file
 * (read only), or -1 with errno. EAGAIN means "wait until fd is readable
 * (read) or writable (write) and call again"; EINTR means "call again".
 */
struct stream_io {
	ssize_t (*read)(int fd, void *buf, size_t len, void *ctx);
	ssize_t (*write)(int fd, const void *buf, size_t len, void *ctx);
};

struct stream;

/*
 * Wrap fd, which the stream owns from now on (stream_close closes it).
 * flags is 0 or STREAM_AUTOFLUSH. The fd may be blocking or non-blocking;
 * the stream never changes its mode. Never fails: fd must be valid.
 */
struct stream *stream_open(int fd, int flags);

/*
 * Flush buffered output, close the descriptor and free the stream; *sp
 * becomes NULL (NULL is accepted). Returns 0, or -1 with errno when the
 * final flush or close(2) failed (the stream is freed all the same). A
 * stream with a sticky write error is closed without a flush attempt and
 * returns -1 with that error.
 */
int stream_close(struct stream **sp);

/*
 * Free the stream (*sp must not be NULL) but keep the descriptor open, and
 * return it. Unflushed output and unread input are dropped: call
 * stream_flush first. *sp becomes NULL.
 */
int stream_detach(struct stream **sp);

/* The underlying descriptor. */
int stream_fd(const struct stream *s);

/*
 * Deadline for each following read or write call, in milliseconds;
 * STREAM_NO_TIMEOUT to wait for ever. 0 means "only what can be done
 * without waiting". Blocking pipes and files: a write(2) larger than the
 * pipe can hold may block past the deadline unless the fd is non-blocking;
 * sockets are always written with MSG_DONTWAIT, so they keep the deadline.
 */
void stream_set_timeout(struct stream *s, int timeout_ms);

/* Use io (which must outlive the stream) instead of plain read/write. */
void stream_set_io(struct stream *s, const struct stream_io *io, void *ctx);

/*
 * Read one line into line, which is emptied first; the line limit is
 * line->limit (at least 1). The line end is not stored; *end_out (may be
 * NULL) says how the line ended. A CR not followed by LF is ordinary data.
 * A line longer than the limit comes back in pieces: each full piece with
 * STREAM_END_CUT, the last one with its real ending. NUL bytes are kept as
 * data (use strbuf_len, not strlen). Returns 1 for a line (possibly a last
 * partial one with STREAM_END_EOF), 0 at end of file with nothing read, -1
 * with errno (ETIMEDOUT, ECONNRESET, ...), after which line holds an
 * unspecified prefix of the line.
 */
int stream_read_line(struct stream *s, struct strbuf *line,
                     enum stream_line_end *end_out);

/*
 * Read exactly len bytes into buf. Returns len, a smaller count when the
 * stream ended first (stream_is_eof then says so), or -1 with errno.
 */
ssize_t stream_read_exact(struct stream *s, void *buf, size_t len);

/*
 * Read what is available, at most len (> 0) bytes, waiting only if nothing
 * is. Returns the count, 0 at end of file, or -1 with errno.
 */
ssize_t stream_read_some(struct stream *s, void *buf, size_t len);

/*
 * Bytes already read from the fd but not yet returned to the caller. After
 * STARTTLS, a non-zero value means the client pipelined plaintext that
 * must not be trusted.
 */
size_t stream_read_pending(const struct stream *s);

/*
 * The stream_read_pending bytes themselves (not NUL-terminated), valid
 * until the next read; for logging input a peer sent too early.
 */
const char *stream_read_peek(const struct stream *s);

/*
 * Buffered output: bytes are written to the fd when the buffer fills and
 * by stream_flush. stream_puts writes text as it is (no newline added).
 * Returns 0, or -1 with errno (EPIPE, ETIMEDOUT, ...), after which the
 * output may have been partly written and the buffer is emptied.
 */
int stream_write(struct stream *s, const void *bytes, size_t len);
int stream_puts(struct stream *s, const char *text);
int stream_printf(struct stream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int stream_vprintf(struct stream *s, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Write all buffered output. Returns 0, or -1 with errno. */
int stream_flush(struct stream *s);

/* Bytes waiting in the write buffer. */
size_t stream_write_pending(const struct stream *s);

/*
 * State queries. stream_is_eof: a read saw end of file. stream_is_error:
 * a read or write failed (a timeout included). stream_is_timeout: a read
 * or write failed with ETIMEDOUT. stream_errno: the read error if any,
 * else the write error, else 0. All are sticky until stream_clear_error:
 * after end of file reads return 0 without touching the fd, and after an
 * error calls in that direction keep failing with the same errno.
 */
bool stream_is_eof(const struct stream *s);
bool stream_is_error(const struct stream *s);
bool stream_is_timeout(const struct stream *s);
int stream_errno(const struct stream *s);
void stream_clear_error(struct stream *s);

#endif
