/*
 * attr_io.c - attribute messages over a stream.
 *
 * Bytes are taken one at a time from the stream's buffer and the decoder
 * is asked after each, so nothing past the message is consumed. That is
 * quadratic in the message size, which max_message keeps small.
 */
#include <errno.h>
#include <string.h>

#include "util/attr_io.h"

int
attr_read(struct stream *s, size_t max_message, struct attr_list **list_out,
	  struct err *err)
{
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
			break;
		}
		if (n == 0) {
			if (buf.len == 0)
				ret = 0;
			else
				err_set(err, "unexpected end of file in "
					     "attribute message");
			break;
		}
		if (strbuf_append(&buf, &byte, 1) < 0) {
			err_set(err, "attribute message longer than %zu bytes",
				max_message);
			break;
		}
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
