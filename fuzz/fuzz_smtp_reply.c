/*
 * fuzz_smtp_reply.c - libFuzzer target for the SMTP reply parser: the
 * input is split into lines as stream_read_line would (CRLF, LF, cut at
 * 64 bytes, or end of input), and fed until each reply completes or fails.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "global/smtp_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply reply;
	struct strbuf one;
	struct err err;
	size_t pos = 0;

	smtp_reply_init(&reply);
	strbuf_init(&one, 512);
	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
		enum stream_line_end end = nl ? STREAM_END_LF : STREAM_END_EOF;
		size_t used = len + (nl ? 1 : 0);
		int ret;

		if (len > 64) {
			len = 64;
			end = STREAM_END_CUT;
			used = 64;
		} else if (nl && len > 0 && data[pos + len - 1] == '\r') {
			len--;
			end = STREAM_END_CRLF;
		}
		ret = smtp_reply_feed(&reply, (const char *)data + pos, len,
				      end, &err);
		pos += used;
		if (ret != 0) {
			smtp_reply_oneline(&reply, &one);
			smtp_reply_reset(&reply);
		}
	}
	strbuf_deinit(&one);
	smtp_reply_deinit(&reply);
	return 0;
}
