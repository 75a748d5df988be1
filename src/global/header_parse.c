/*
 * header_parse.c - split message content into RFC 5322 headers and body.
 *
 * Each physical line in the headers is collected (up to header_size_limit
 * bytes) before it is classified, so the result does not depend on how
 * the sender cut the line into pieces. What follows a line's first
 * header_size_limit bytes is either dropped (header) or passed on as
 * further body pieces (body).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/header_parse.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

enum line_kind {
	LINE_HEADER, /* starts a new header */
	LINE_FOLDED, /* continues the open header */
	LINE_EMPTY,  /* the separator */
	LINE_BODY,   /* first line of the body */
};

/* What to do with the rest of a physical line already classified. */
enum line_rest {
	REST_NONE,   /* no line in progress past its classification */
	REST_HEADER, /* append to the header within the limit */
};

struct header_parser {
	const struct header_parse_ops *ops;
	void *ctx;
	size_t limit;
	bool in_headers;
	struct strbuf header; /* the open header, if any */
	bool has_header;
	bool is_truncated;  /* the open header lost text */
	bool is_dropping;   /* drop the rest of the open header's lines */
	struct strbuf line; /* the line being collected */
	enum line_rest rest;
};

struct header_parser *
header_parser_create(size_t header_size_limit,
		     const struct header_parse_ops *ops, void *ctx)
{
	struct header_parser *hp = xcalloc(1, sizeof(*hp));

	hp->ops = ops;
	hp->ctx = ctx;
	hp->limit = header_size_limit > 0 ? header_size_limit : 1;
	hp->in_headers = true;
	strbuf_init(&hp->header, hp->limit);
	strbuf_init(&hp->line, hp->limit);
	return hp;
}

void
header_parser_destroy(struct header_parser **hpp)
{
	struct header_parser *hp = *hpp;

	if (hp == NULL)
		return;
	strbuf_deinit(&hp->header);
	strbuf_deinit(&hp->line);
	free(hp);
	*hpp = NULL;
}

bool
header_parser_in_headers(const struct header_parser *hp)
{
	return hp->in_headers;
}

size_t
header_name_len(const char *text, size_t len)
{
	size_t n = 0;
	size_t i;

	while (n < len && text[n] > 32 && text[n] < 127 && text[n] != ':')
		n++;
	if (n == 0)
		return 0;
	for (i = n; i < len && (text[i] == ' ' || text[i] == '\t'); i++)
		;
	return i < len && text[i] == ':' ? n : 0;
}

bool
header_is_named(const char *text, size_t len, const char *name)
{
	size_t n = header_name_len(text, len);

	return n > 0 && n == strlen(name) && strncasecmp(text, name, n) == 0;
}

const char *
header_value(const char *text, size_t len, size_t *len_out)
{
	const char *colon = memchr(text, ':', len);
	size_t i = colon != NULL ? (size_t)(colon - text) + 1 : len;

	while (i < len && (text[i] == ' ' || text[i] == '\t' ||
			   text[i] == '\n' || text[i] == '\r'))
		i++;
	*len_out = len - i;
	return text + i;
}

static enum line_kind
classify(const struct header_parser *hp)
{
	const char *text = hp->line.data;
	size_t len = hp->line.len;

	if (len == 0)
		return LINE_EMPTY;
	if (text[0] == ' ' || text[0] == '\t')
		return hp->has_header ? LINE_FOLDED : LINE_BODY;
	return header_name_len(text, len) > 0 ? LINE_HEADER : LINE_BODY;
}

/* Hand the open header over, if there is one. */
static int
flush_header(struct header_parser *hp)
{
	int ret;

	if (!hp->has_header)
		return 0;
	ret = hp->ops->on_header(hp->header.data, hp->header.len,
				 hp->is_truncated, hp->ctx);
	strbuf_reset(&hp->header);
	hp->has_header = hp->is_truncated = hp->is_dropping = false;
	return ret;
}

/* Append bytes to the open header, or drop them once it is full. */
static void
append_header(struct header_parser *hp, const char *data, size_t len)
{
	size_t room = hp->limit - hp->header.len;

	if (hp->is_dropping || len == 0)
		return;
	if (len > room) {
		/* UNSAFE: room <= limit - len(header), checked above. */
		(void)strbuf_append(&hp->header, data, room);
		hp->is_truncated = hp->is_dropping = true;
		return;
	}
	(void)strbuf_append(&hp->header, data, len);
}

/* A folded line joins the header whole, or is dropped with what follows. */
static void
append_folded(struct header_parser *hp)
{
	if (hp->is_dropping)
		return;
	if (hp->header.len + 1 + hp->line.len > hp->limit) {
		hp->is_truncated = hp->is_dropping = true;
		return;
	}
	(void)strbuf_append_char(&hp->header, '\n');
	(void)strbuf_append(&hp->header, hp->line.data, hp->line.len);
}

static int
end_headers(struct header_parser *hp, bool want_separator)
{
	if (flush_header(hp) < 0)
		return -1;
	hp->in_headers = false;
	return hp->ops->on_done(want_separator, hp->ctx);
}

/*
 * Act on a collected line (complete, or cut at the limit when is_cut).
 * rest/rest_len are the bytes of this piece that did not fit.
 */
static int
take_line(struct header_parser *hp, bool is_cut, const char *rest,
	  size_t rest_len, bool is_continued)
{
	int ret = 0;

	switch (classify(hp)) {
	case LINE_HEADER:
		if (flush_header(hp) < 0)
			return -1;
		hp->has_header = true;
		append_header(hp, hp->line.data, hp->line.len);
		append_header(hp, rest, rest_len);
		break;
	case LINE_FOLDED:
		append_folded(hp);
		if (rest_len > 0 && !hp->is_dropping)
			hp->is_truncated = hp->is_dropping = true;
		break;
	case LINE_EMPTY:
		/* Only a complete line can be empty: pieces are waited for. */
		return end_headers(hp, true);
	case LINE_BODY:
		if (end_headers(hp, true) < 0)
			return -1;
		ret = hp->ops->on_body(hp->line.data, hp->line.len,
				       is_cut || rest_len > 0, hp->ctx);
		if (ret == 0 && rest_len > 0)
			ret = hp->ops->on_body(rest, rest_len, is_continued,
					       hp->ctx);
		strbuf_reset(&hp->line);
		return ret;
	}
	hp->rest = is_continued ? REST_HEADER : REST_NONE;
	strbuf_reset(&hp->line);
	return ret;
}

int
header_parser_feed(struct header_parser *hp, const char *data, size_t len,
		   bool is_continued)
{
	size_t room;
	size_t take;

	if (!hp->in_headers)
		return hp->ops->on_body(data, len, is_continued, hp->ctx);
	if (hp->rest == REST_HEADER) {
		append_header(hp, data, len);
		if (!is_continued)
			hp->rest = REST_NONE;
		return 0;
	}
	room = hp->limit - hp->line.len;
	take = len < room ? len : room;
	(void)strbuf_append(&hp->line, data, take);
	if (take == len && is_continued && hp->line.len < hp->limit)
		return 0; /* wait for the rest of the line */
	return take_line(hp, is_continued || take < len, data + take,
			 len - take, is_continued);
}

int
header_parser_finish(struct header_parser *hp)
{
	if (!hp->in_headers)
		return 0;
	if (hp->line.len > 0 && hp->rest == REST_NONE) {
		if (take_line(hp, false, NULL, 0, false) < 0)
			return -1;
		if (!hp->in_headers)
			return 0;
	}
	hp->rest = REST_NONE;
	return end_headers(hp, false);
}
