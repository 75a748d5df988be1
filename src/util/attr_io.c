/*
 * attr_io.c - attribute messages over a stream.
 *
 * Bytes are taken from the stream's buffer a run at a time, and a scanner
 * that knows only the framing follows along (resuming where it stopped);
 * only the bytes up to the message's END are consumed, so nothing past
 * the message is. The decoder runs once, when the scanner has seen the END
 * or bytes it cannot frame: reading is linear in the message size.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/attr_io.h"

/* Where the framing scan stands: the next attribute starts at pos. */
struct frame_scan {
	size_t pos;
	size_t depth;
};

/* A varint at *pos; false if incomplete (or too long: then malformed). */
static bool
scan_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *out,
	    bool *is_bad)
{
	uint64_t value = 0;

	for (int i = 0; i < 10; i++) {
		if (*pos + (size_t)i >= len)
			return false;
		value |= (uint64_t)(buf[*pos + (size_t)i] & 0x7f) << (7 * i);
		if ((buf[*pos + (size_t)i] & 0x80) == 0) {
			*pos += (size_t)i + 1;
			*out = value;
			return true;
		}
	}
	*is_bad = true;
	return false;
}

/*
 * Advance over whole attributes. True when the message's END has been
 * seen or the bytes cannot be a message (the decoder then says why).
 */
static bool
frame_scan_done(struct frame_scan *fs, const uint8_t *buf, size_t len)
{
	bool is_bad = false;

	while (fs->pos < len) {
		size_t p = fs->pos + 1;
		uint64_t n;
		int type = buf[fs->pos];

		if (type == '.') {
			if (fs->depth == 0)
				return true;
			fs->depth--;
			fs->pos = p;
			continue;
		}
		if (type != ATTR_INT && type != ATTR_STR && type != ATTR_BYTES &&
		    type != ATTR_LIST)
			return true;
		if (!scan_varint(buf, len, &p, &n, &is_bad) || len - p < n)
			return is_bad;
		p += n; /* the name */
		if (type == ATTR_LIST) {
			fs->depth++;
		} else if (!scan_varint(buf, len, &p, &n, &is_bad)) {
			return is_bad;
		} else if (type != ATTR_INT) {
			if (len - p < n)
				return false;
			p += n;
		}
		fs->pos = p;
	}
	return false;
}

/*
 * Where the message in buf ends, once the scan is done: after its END, or
 * (bytes that cannot be framed) everything taken, for the decoder to
 * refuse.
 */
static size_t
message_end(const struct frame_scan *fs, const struct strbuf *buf)
{
	if (fs->pos < buf->len && buf->data[fs->pos] == '.' && fs->depth == 0)
		return fs->pos + 1;
	return buf->len;
}

/*
 * Take what the stream has buffered, up to the message's end and within
 * max_message, into buf; reads more (at least a byte) when nothing is
 * buffered. *is_done when the scan has found the end. 1, 0 at end of
 * file, -1 with errno.
 */
static int
take_bytes(struct stream *s, struct strbuf *buf, size_t max_message,
	   struct frame_scan *fs, bool *is_done)
{
	size_t old = buf->len;
	size_t take = stream_read_pending(s);
	size_t room = max_message - buf->len;
	ssize_t n;

	if (take == 0) {
		uint8_t byte;

		if ((n = stream_read_exact(s, &byte, 1)) <= 0)
			return (int)n;
		(void)strbuf_append(buf, &byte, 1);
		*is_done = frame_scan_done(fs, (const uint8_t *)buf->data,
					   buf->len);
		return 1;
	}
	if (take > room)
		take = room;
	(void)strbuf_append(buf, stream_read_peek(s), take);
	*is_done = frame_scan_done(fs, (const uint8_t *)buf->data, buf->len);
	if (*is_done)
		strbuf_truncate(buf, message_end(fs, buf));
	/* Consume exactly what the message took of the buffer (the bytes
	 * are copied over themselves). */
	if (stream_read_exact(s, buf->data + old, buf->len - old) < 0)
		return -1;
	return 1;
}

int
attr_read(struct stream *s, size_t max_message, struct attr_list **list_out,
	  struct err *err)
{
	struct frame_scan fs = { 0, 0 };
	struct strbuf buf;
	size_t consumed;
	int ret = -1;

	strbuf_init(&buf, max_message);
	for (;;) {
		bool is_done = false;
		int n;

		if (buf.len >= max_message) {
			err_set(err, "attribute message longer than %zu bytes",
				max_message);
			ret = -1;
			break;
		}
		n = take_bytes(s, &buf, max_message, &fs, &is_done);
		if (n < 0) {
			err_set(err, "read error: %s", strerror(errno));
			ret = -1;
			break;
		}
		if (n == 0) {
			ret = buf.len == 0 ? 0 : -1;
			if (ret < 0)
				err_set(err, "unexpected end of file in "
					     "attribute message");
			break;
		}
		if (!is_done)
			continue;
		ret = attr_decode((const uint8_t *)buf.data, buf.len,
				  &attr_default_limits, list_out, &consumed,
				  err);
		if (ret == 0) {
			/* The scanner saw an END the decoder did not: never
			 * read on past it. */
			err_set(err, "malformed attribute message");
			ret = -1;
		}
		break;
	}
	strbuf_deinit(&buf);
	return ret;
}

int
attr_write(struct stream *s, const struct strbuf *msg, struct err *err)
{
	if (stream_write(s, msg->data, msg->len) < 0 || stream_flush(s) < 0) {
		err_set(err, "write: %s", strerror(errno));
		return -1;
	}
	return 0;
}
