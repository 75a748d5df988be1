/*
 * fuzz_mime_downgrade.c - libFuzzer target for the 8-bit to 7-bit MIME
 * converter of the smtp client.
 *
 * The first four bytes pick mime_nesting_limit (1..8),
 * mime_boundary_length_limit (1..64), header_size_limit (1..512) and how
 * lines are cut into pieces; the rest is message content, cut into lines
 * at '\n'. The content is converted twice, whole lines and in pieces: the
 * results (output, return value, error) must agree. Checked as well: no
 * empty partial piece and no '\n' comes out, and content without any
 * Content-Transfer-Encoding header comes out exactly as it went in (a
 * last line without '\n' gets one), since there is nothing to convert.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/mime_downgrade.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
collect(const char *data, size_t len, bool is_line_end, void *ctx,
	struct err *err)
{
	struct strbuf *out = ctx;

	(void)err;
	if ((len == 0 && !is_line_end) || memchr(data, '\n', len) != NULL)
		abort();
	(void)strbuf_append(out, data, len);
	if (is_line_end)
		(void)strbuf_append_char(out, '\n');
	return 0;
}

struct result {
	struct strbuf out;
	int ret;
	bool is_mime_error;
	struct err err;
};

static void
convert(const char *text, size_t len, const struct mime_downgrade_limits *lim,
	unsigned cut, struct result *r)
{
	struct mime_downgrade *md;
	size_t start = 0;

	strbuf_init(&r->out, STRBUF_UNLIMITED);
	err_clear(&r->err);
	md = mime_downgrade_create(lim, collect, &r->out);
	while (start < len && r->ret == 0) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t pos = start;

		do {
			size_t piece =
				cut ? 1 + (pos * 7 + cut) % cut : end - pos;

			if (piece > end - pos)
				piece = end - pos;
			r->ret = mime_downgrade_feed(
				md, text + pos, piece,
				nl != NULL && pos + piece == end, &r->err);
			pos += piece;
		} while (pos < end && r->ret == 0);
		start = end + 1;
	}
	if (r->ret == 0)
		r->ret = mime_downgrade_finish(md, &r->err);
	r->is_mime_error = mime_downgrade_is_mime_error(md);
	mime_downgrade_destroy(&md);
}

static bool
has_cte(const char *text, size_t len)
{
	static const char name[] = "content-transfer-encoding";
	size_t n = sizeof(name) - 1;

	for (size_t i = 0; i + n <= len; i++)
		if (strncasecmp(text + i, name, n) == 0)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_downgrade_limits lim;
	struct result whole = { 0 }, pieces = { 0 };
	const char *text;
	size_t len;

	if (size < 4)
		return 0;
	lim.nesting_limit = 1 + data[0] % 8;
	lim.boundary_limit = 1 + data[1] % 64;
	lim.header_limit = 1 + (size_t)data[2] * 2;
	text = (const char *)data + 4;
	len = size - 4;
	convert(text, len, &lim, 0, &whole);
	convert(text, len, &lim, 1 + data[3] % 16, &pieces);
	if (whole.ret != pieces.ret ||
	    whole.is_mime_error != pieces.is_mime_error ||
	    strcmp(whole.err.text, pieces.err.text) != 0 ||
	    whole.out.len != pieces.out.len ||
	    memcmp(whole.out.data, pieces.out.data, whole.out.len) != 0)
		abort();
	if (whole.ret != 0 && !whole.is_mime_error)
		abort(); /* the output never fails here */
	if (!has_cte(text, len) && whole.ret == 0) {
		bool is_open = len > 0 && text[len - 1] != '\n';

		if (whole.out.len != len + is_open ||
		    memcmp(whole.out.data, text, len) != 0)
			abort();
	}
	strbuf_deinit(&whole.out);
	strbuf_deinit(&pieces.out);
	return 0;
}
