/*
 * stream.c - buffered streams over file descriptors, with deadlines.
 *
 * Each public call computes one deadline on the monotonic clock and every
 * wait inside it uses what is left. Raw I/O is tried first where that can
 * never block (sockets with MSG_DONTWAIT, a caller's io functions, or no
 * deadline at all) and poll(2) is used only after EAGAIN; for other fds
 * with a deadline, poll comes first so a blocking read cannot hang.
 */
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/stream.h"

#define NO_DEADLINE INT64_MAX

struct stream {
	int fd;
	int flags;
	int timeout_ms;
	bool is_socket;
	const struct stream_io *io;
	void *io_ctx;
	bool is_eof;
	int read_errno;  /* sticky read error, or 0 */
	int write_errno; /* sticky write error, or 0 */
	size_t rpos;     /* next unread byte in rbuf */
	size_t rend;     /* end of valid bytes in rbuf */
	size_t wlen;     /* bytes waiting in wbuf */
	char rbuf[STREAM_BUF_SIZE];
	char wbuf[STREAM_BUF_SIZE + 1]; /* + 1: vsnprintf writes a NUL */
};

static int64_t
deadline_start(const struct stream *s)
{
	if (s->timeout_ms < 0)
		return NO_DEADLINE;
	return clock_ms() + s->timeout_ms;
}

/* Wait until fd is ready for events; -1 with ETIMEDOUT past deadline. */
static int
wait_ready(const struct stream *s, short events, int64_t deadline)
{
	struct pollfd pfd = {.fd = s->fd, .events = events};

	for (;;) {
		int64_t left = -1;
		int n;
		if (deadline != NO_DEADLINE) {
			left = deadline - clock_ms();
			left = left < 0 ? 0 : left > INT_MAX ? INT_MAX : left;
		}
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

static ssize_t
raw_read(struct stream *s, void *buf, size_t len)
{
	if (s->io != NULL)
		return s->io->read(s->fd, buf, len, s->io_ctx);
	if (s->is_socket)
		return recv(s->fd, buf, len, MSG_DONTWAIT);
	return read(s->fd, buf, len);
}

static ssize_t
raw_write(struct stream *s, const void *buf, size_t len)
{
	if (s->io != NULL)
		return s->io->write(s->fd, buf, len, s->io_ctx);
	if (s->is_socket)
		return send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(s->fd, buf, len);
}

/* True when a raw call could block for ever, so poll must come first. */
static bool
must_poll_first(const struct stream *s)
{
	return s->io == NULL && !s->is_socket && s->timeout_ms >= 0;
}

/* One successful raw read: >0 bytes, 0 at end of file, -1 with errno. */
static ssize_t
read_once(struct stream *s, void *buf, size_t len, int64_t deadline)
{
	bool want_poll = must_poll_first(s);

	for (;;) {
		ssize_t n;

		if (want_poll && wait_ready(s, POLLIN, deadline) < 0)
			return -1;
		n = raw_read(s, buf, len);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		want_poll = true;
	}
}

/* Write all of buf or fail with errno. */
static int
write_all(struct stream *s, const char *buf, size_t len, int64_t deadline)
{
	bool want_poll = must_poll_first(s);

	while (len > 0) {
		ssize_t n;

		if (want_poll && wait_ready(s, POLLOUT, deadline) < 0)
			return -1;
		n = raw_write(s, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			want_poll = must_poll_first(s);
			continue;
		}
		if (n == 0) {
			errno = EIO;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		want_poll = true;
	}
	return 0;
}

static int
fail_write(struct stream *s)
{
	s->write_errno = errno;
	s->wlen = 0;
	return -1;
}

static int
flush_before(struct stream *s, int64_t deadline)
{
	if (s->write_errno != 0) {
		errno = s->write_errno;
		return -1;
	}
	if (s->wlen == 0)
		return 0;
	if (write_all(s, s->wbuf, s->wlen, deadline) < 0)
		return fail_write(s);
	s->wlen = 0;
	return 0;
}

/*
 * Make more input available after rend, keeping the unread bytes (they
 * move to the start of the buffer). Returns >0 new bytes, 0 at end of
 * file, -1 with errno; sets the sticky state either way.
 */
static ssize_t
fill(struct stream *s, int64_t deadline)
{
	size_t unread = s->rend - s->rpos;
	ssize_t n;

	if (s->read_errno != 0) {
		errno = s->read_errno;
		return -1;
	}
	if (s->is_eof)
		return 0;
	if (s->rpos > 0) {
		memmove(s->rbuf, s->rbuf + s->rpos, unread);
		s->rpos = 0;
		s->rend = unread;
	}
	ASSERT(s->rend < sizeof(s->rbuf));
	if ((s->flags & STREAM_AUTOFLUSH) && s->wlen > 0)
		(void)flush_before(s, deadline); /* error stays sticky */
	n = read_once(s, s->rbuf + s->rend, sizeof(s->rbuf) - s->rend,
	              deadline);
	if (n < 0) {
		s->read_errno = errno;
		return -1;
	}
	if (n == 0)
		s->is_eof = true;
	s->rend += (size_t)n;
	return n;
}

struct stream *
stream_open(int fd, int flags)
{
	/* The two buffers (16 KB) are written before they are read: only
	 * the fields before them are zeroed. */
	struct stream *s = xmalloc_uninit(sizeof(*s));
	struct stat st;

	memset(s, 0, offsetof(struct stream, rbuf));
	ASSERT(fd >= 0);
	s->fd = fd;
	s->flags = flags;
	s->timeout_ms = STREAM_NO_TIMEOUT;
	s->is_socket = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
	return s;
}

int
stream_close(struct stream **sp)
{
	struct stream *s = *sp;
	int saved = 0;

	if (s == NULL)
		return 0;
	if (s->write_errno != 0)
		saved = s->write_errno;
	else if (flush_before(s, deadline_start(s)) < 0)
		saved = errno;
	if (close(s->fd) < 0 && saved == 0)
		saved = errno;
	free(s);
	*sp = NULL;
	if (saved == 0)
		return 0;
	errno = saved;
	return -1;
}

int
stream_detach(struct stream **sp)
{
	int fd;

	ASSERT(*sp != NULL);
	fd = (*sp)->fd;
	free(*sp);
	*sp = NULL;
	return fd;
}

int
stream_fd(const struct stream *s)
{
	return s->fd;
}

void
stream_set_timeout(struct stream *s, int timeout_ms)
{
	s->timeout_ms = timeout_ms < 0 ? STREAM_NO_TIMEOUT : timeout_ms;
}

void
stream_set_io(struct stream *s, const struct stream_io *io, void *ctx)
{
	s->io = io;
	s->io_ctx = ctx;
}

/*
 * Take the part of a line found in the buffer: body bytes of content and
 * then skip bytes of line end. Returns -1 if content does not fit.
 */
static int
take_content(struct stream *s, struct strbuf *line, size_t body, size_t skip)
{
	size_t room = line->limit - line->len;

	if (body > room) {
		strbuf_append(line, s->rbuf + s->rpos, room);
		s->rpos += room;
		return -1;
	}
	strbuf_append(line, s->rbuf + s->rpos, body);
	s->rpos += body + skip;
	return 0;
}

/* End of file in mid-line: a held-back CR is data after all. */
static int
finish_at_eof(struct stream *s, struct strbuf *line, enum stream_line_end *end)
{
	size_t held = s->rend - s->rpos;

	if (line->len == 0 && held == 0)
		return 0;
	*end = take_content(s, line, held, 0) < 0 ? STREAM_END_CUT
	                                          : STREAM_END_EOF;
	return 1;
}

/*
 * Scan the unread bytes. Returns 1 with *end set when the line is complete
 * (or cut), 0 when more input is needed. A CR at the very end of the
 * buffer is held back unread, since only the next byte tells whether it
 * ends the line.
 */
static int
scan_line(struct stream *s, struct strbuf *line, enum stream_line_end *end)
{
	const char *start = s->rbuf + s->rpos;
	size_t avail = s->rend - s->rpos;
	const char *nl = memchr(start, '\n', avail);
	size_t body;

	if (nl != NULL) {
		size_t skip = 1;

		body = (size_t)(nl - start);
		*end = STREAM_END_LF;
		if (body > 0 && start[body - 1] == '\r') {
			*end = STREAM_END_CRLF;
			body--;
			skip = 2;
		}
		if (take_content(s, line, body, skip) < 0)
			*end = STREAM_END_CUT;
		return 1;
	}
	body = avail;
	if (body > 0 && start[body - 1] == '\r')
		body--;
	if (take_content(s, line, body, 0) < 0) {
		*end = STREAM_END_CUT;
		return 1;
	}
	return 0;
}

int
stream_read_line(struct stream *s, struct strbuf *line,
                 enum stream_line_end *end_out)
{
	int64_t deadline = deadline_start(s);
	enum stream_line_end end = STREAM_END_EOF;
	int ret;

	ASSERT(line->limit > 0);
	strbuf_reset(line);
	for (;;) {
		ssize_t n;

		if (scan_line(s, line, &end)) {
			ret = 1;
			break;
		}
		n = fill(s, deadline);
		if (n < 0)
			return -1;
		if (n == 0) {
			ret = finish_at_eof(s, line, &end);
			break;
		}
	}
	if (end_out != NULL)
		*end_out = end;
	return ret;
}

/* Copy up to len buffered bytes into buf; returns the count. */
static size_t
take_buffered(struct stream *s, void *buf, size_t len)
{
	size_t avail = s->rend - s->rpos;

	if (len > avail)
		len = avail;
	memcpy(buf, s->rbuf + s->rpos, len);
	s->rpos += len;
	return len;
}

ssize_t
stream_read_exact(struct stream *s, void *buf, size_t len)
{
	int64_t deadline = deadline_start(s);
	char *out = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n;

		if (s->rpos < s->rend) {
			done += take_buffered(s, out + done, len - done);
			continue;
		}
		n = fill(s, deadline);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
	}
	return (ssize_t)done;
}

ssize_t
stream_read_some(struct stream *s, void *buf, size_t len)
{
	ASSERT(len > 0);
	if (s->rpos == s->rend) {
		ssize_t n = fill(s, deadline_start(s));
		if (n <= 0)
			return n;
	}
	return (ssize_t)take_buffered(s, buf, len);
}

size_t
stream_read_pending(const struct stream *s)
{
	return s->rend - s->rpos;
}

const char *
stream_read_peek(const struct stream *s)
{
	return s->rbuf + s->rpos;
}

int
stream_write(struct stream *s, const void *bytes, size_t len)
{
	int64_t deadline;

	if (s->write_errno != 0) {
		errno = s->write_errno;
		return -1;
	}
	if (len <= STREAM_BUF_SIZE - s->wlen) {
		memcpy(s->wbuf + s->wlen, bytes, len);
		s->wlen += len;
		return 0;
	}
	deadline = deadline_start(s);
	if (flush_before(s, deadline) < 0)
		return -1;
	if (len < STREAM_BUF_SIZE) {
		memcpy(s->wbuf, bytes, len);
		s->wlen = len;
		return 0;
	}
	if (write_all(s, bytes, len, deadline) < 0)
		return fail_write(s);
	return 0;
}

int
stream_puts(struct stream *s, const char *text)
{
	return stream_write(s, text, strlen(text));
}

int
stream_vprintf(struct stream *s, const char *fmt, va_list ap)
{
	va_list probe;
	char *text;
	int need;
	int ret;

	if (s->write_errno != 0) {
		errno = s->write_errno;
		return -1;
	}
	va_copy(probe, ap);
	need = vsnprintf(NULL, 0, fmt, probe);
	va_end(probe);
	if (need < 0)
		return -1;
	if ((size_t)need > STREAM_BUF_SIZE - s->wlen &&
	    need <= STREAM_BUF_SIZE && flush_before(s, deadline_start(s)) < 0)
		return -1;
	if ((size_t)need <= STREAM_BUF_SIZE - s->wlen) {
		/* UNSAFE: wbuf has STREAM_BUF_SIZE + 1 bytes, room for NUL */
		vsnprintf(s->wbuf + s->wlen, (size_t)need + 1, fmt, ap);
		s->wlen += (size_t)need;
		return 0;
	}
	text = xmalloc((size_t)need + 1);
	vsnprintf(text, (size_t)need + 1, fmt, ap);
	ret = stream_write(s, text, (size_t)need);
	free(text);
	return ret;
}

int
stream_printf(struct stream *s, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = stream_vprintf(s, fmt, ap);
	va_end(ap);
	return ret;
}

int
stream_flush(struct stream *s)
{
	return flush_before(s, deadline_start(s));
}

size_t
stream_write_pending(const struct stream *s)
{
	return s->wlen;
}

bool
stream_is_eof(const struct stream *s)
{
	return s->is_eof;
}

bool
stream_is_error(const struct stream *s)
{
	return s->read_errno != 0 || s->write_errno != 0;
}

bool
stream_is_timeout(const struct stream *s)
{
	return s->read_errno == ETIMEDOUT || s->write_errno == ETIMEDOUT;
}

int
stream_errno(const struct stream *s)
{
	return s->read_errno != 0 ? s->read_errno : s->write_errno;
}

void
stream_clear_error(struct stream *s)
{
	s->is_eof = false;
	s->read_errno = 0;
	s->write_errno = 0;
}
