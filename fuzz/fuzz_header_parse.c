/*
 * fuzz_header_parse.c - libFuzzer target for the message header parser.
 *
 * The first byte picks header_size_limit (1..256), the second how lines
 * are cut into pieces; the rest is message content, cut into lines at
 * '\n'. The content is parsed twice, whole lines and in pieces, and the
 * two event streams must agree. Checked as well: no header is longer than
 * the limit or lacks a name, the end of the headers is reported exactly
 * once and before any body line, and, when nothing was cut, headers,
 * separator and body put back together give the input again.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "global/header_parse.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct events {
	struct strbuf log;     /* what happened, for comparison */
	struct strbuf rebuilt; /* the content put back together */
	size_t limit;
	int dones;
	size_t header_len; /* bytes of rebuilt that are headers */
	bool is_cut;
	bool in_body_line;
};

static int
on_header(const char *text, size_t len, bool is_truncated, void *ctx)
{
	struct events *ev = ctx;

	if (ev->dones != 0 || len > ev->limit ||
	    header_name_len(text, len) == 0)
		abort();
	ev->is_cut |= is_truncated;
	(void)strbuf_printf(&ev->log, "H%d:", is_truncated);
	(void)strbuf_append(&ev->log, text, len);
	(void)strbuf_append(&ev->rebuilt, text, len);
	(void)strbuf_append_char(&ev->rebuilt, '\n');
	return 0;
}

static int
on_done(bool want_separator, void *ctx)
{
	struct events *ev = ctx;

	ev->dones++;
	ev->header_len = ev->rebuilt.len;
	(void)strbuf_printf(&ev->log, "D%d", want_separator);
	return 0;
}

static int
on_body(const char *data, size_t len, bool is_continued, void *ctx)
{
	struct events *ev = ctx;

	if (ev->dones != 1)
		abort();
	(void)strbuf_append(&ev->log, data, len);
	(void)strbuf_append(&ev->rebuilt, data, len);
	if (!is_continued) {
		(void)strbuf_append(&ev->log, "|", 1);
		(void)strbuf_append_char(&ev->rebuilt, '\n');
	}
	return 0;
}

static const struct header_parse_ops ops = { on_header, on_done, on_body };

static void
parse(const char *text, size_t len, size_t limit, unsigned cut,
      struct events *ev)
{
	struct header_parser *hp = header_parser_create(limit, &ops, ev);
	size_t start = 0;

	while (start <= len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t pos = start;

		if (!nl && start == len)
			break;
		do {
			size_t piece =
				cut ? 1 + (pos * 7 + cut) % cut : end - pos;

			if (piece > end - pos)
				piece = end - pos;
			(void)header_parser_feed(hp, text + pos, piece,
						 pos + piece < end);
			pos += piece;
		} while (pos < end);
		start = end + 1;
	}
	(void)header_parser_finish(hp);
	header_parser_destroy(&hp);
	if (ev->dones != 1)
		abort();
}

/*
 * Headers and body give the input back, but for the separator line
 * (consumed, or absent before a body line) and a last line's newline.
 */
static void
check_rebuilt(const struct events *ev, const char *text, size_t len)
{
	const char *rb = ev->rebuilt.data;
	size_t hlen = ev->header_len;
	size_t blen = ev->rebuilt.len - hlen;

	if (hlen > len + 1 || memcmp(rb, text, hlen < len ? hlen : len) != 0)
		abort();
	if (hlen >= len)
		return;
	text += hlen;
	len -= hlen;
	if (len > 0 && text[0] == '\n' &&
	    (blen == 0 || len > blen || memcmp(rb + hlen, text, blen) != 0)) {
		text++;
		len--;
	}
	if (!(blen == len || blen == len + 1) ||
	    memcmp(rb + hlen, text, len < blen ? len : blen) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct events whole = { 0 };
	struct events pieces = { 0 };
	const char *text;
	size_t len;

	if (size < 2)
		return 0;
	whole.limit = pieces.limit = 1 + data[0];
	text = (const char *)data + 2;
	len = size - 2;
	strbuf_init(&whole.log, STRBUF_UNLIMITED);
	strbuf_init(&whole.rebuilt, STRBUF_UNLIMITED);
	strbuf_init(&pieces.log, STRBUF_UNLIMITED);
	strbuf_init(&pieces.rebuilt, STRBUF_UNLIMITED);
	parse(text, len, whole.limit, 0, &whole);
	parse(text, len, pieces.limit, 1 + data[1] % 16, &pieces);
	if (whole.log.len != pieces.log.len ||
	    memcmp(whole.log.data, pieces.log.data, whole.log.len) != 0)
		abort();
	if (!whole.is_cut)
		check_rebuilt(&whole, text, len);
	strbuf_deinit(&whole.log);
	strbuf_deinit(&whole.rebuilt);
	strbuf_deinit(&pieces.log);
	strbuf_deinit(&pieces.rebuilt);
	return 0;
}
