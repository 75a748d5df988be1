/*
 * attr_io.c - attribute messages over a stream.
 *
 * Bytes are taken one at a time from the stream's buffer, so nothing past
 * the message is consumed. A scanner that knows only the framing follows
 * along (resuming where it stopped), and the decoder runs once, when the
 * scanner has seen the message's END or bytes it cannot frame: reading
 * is linear in the message size.
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

int
attr_read(struct stream *s, size_t max_message, struct attr_list **list_out,
	  struct err *err)
{
	struct frame_scan fs = { 0, 0 };
	struct strbuf buf;
	size_t consumed;
	uint8_t byte;
	ssize_t n;
	int ret = -1;

	strbuf_init(&buf, max_message);
	for (;;) {
		n = stream_read_exact(s, &byte, 1);
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
		if (strbuf_append(&buf, &byte, 1) < 0) {
			err_set(err, "attribute message longer than %zu bytes",
				max_message);
			ret = -1;
			break;
		}
		if (!frame_scan_done(&fs, (const uint8_t *)buf.data, buf.len))
			continue;
		ret = attr_decode((const uint8_t *)buf.data, buf.len,
				  &attr_default_limits, list_out, &consumed,
				  err);
		if (ret != 0)
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
