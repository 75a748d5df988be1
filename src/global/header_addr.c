/*
 * header_addr.c - addresses from headers and command lines; "sendmail -t"
 * recipient extraction.
 *
 * One pass over the text with a small state: the address so far outside
 * angle brackets, the one inside the last <...>, and whether a group is
 * open. Commas and the group's ';' end an address; ':' outside brackets
 * opens a group and drops its name. Input is untrusted: everything is
 * bounded by the text's own length.
 */
#include <string.h>

#include "global/header_addr.h"
#include "global/header_fix.h"
#include "global/header_parse.h"
#include "util/strbuf.h"

struct addr_state {
	struct strbuf bare;  /* tokens outside angle brackets */
	struct strbuf angle; /* the last <...> */
	bool has_angle;
	bool in_angle;
	bool in_group;
	size_t count;
	struct argv *out;
};

static void
flush_addr(struct addr_state *st)
{
	const struct strbuf *addr = st->has_angle ? &st->angle : &st->bare;

	if (addr->len > 0) {
		argv_addn(st->out, addr->data, addr->len);
		st->count++;
	}
	strbuf_reset(&st->bare);
	strbuf_reset(&st->angle);
	st->has_angle = st->in_angle = false;
}

/* Skip a (possibly nested) comment starting at text[i] == '('. */
static size_t
skip_comment(const char *text, size_t len, size_t i)
{
	int depth = 0;

	for (; i < len; i++) {
		if (text[i] == '\\' && i + 1 < len)
			i++;
		else if (text[i] == '(')
			depth++;
		else if (text[i] == ')' && --depth == 0)
			return i + 1;
	}
	return len;
}

/* Copy a quoted string's content, unescaped; returns the next index. */
static size_t
copy_quoted(const char *text, size_t len, size_t i, struct strbuf *to)
{
	for (i++; i < len && text[i] != '"'; i++) {
		if (text[i] == '\\' && i + 1 < len)
			i++;
		(void)strbuf_append_char(to, (unsigned char)text[i]);
	}
	return i < len ? i + 1 : len;
}

/* Copy a domain literal "[...]" as it is; returns the next index. */
static size_t
copy_literal(const char *text, size_t len, size_t i, struct strbuf *to)
{
	size_t start = i;

	while (i < len && text[i] != ']')
		i++;
	if (i < len)
		i++;
	(void)strbuf_append(to, text + start, i - start);
	return i;
}

/* Handle a special character outside quotes and comments. */
static void
take_special(struct addr_state *st, char ch, struct strbuf *to)
{
	switch (ch) {
	case '<':
		st->in_angle = st->has_angle = true;
		strbuf_reset(&st->angle);
		return;
	case '>':
		st->in_angle = false;
		return;
	case ',':
		flush_addr(st);
		return;
	case ';':
		flush_addr(st);
		st->in_group = false;
		return;
	case ':':
		if (!st->in_group) {
			strbuf_reset(&st->bare); /* the group's name */
			st->in_group = true;
			return;
		}
		break;
	}
	(void)strbuf_append_char(to, (unsigned char)ch);
}

size_t
header_addr_parse(const char *text, size_t len, struct argv *out)
{
	struct addr_state st = { .out = out };
	size_t i = 0;

	strbuf_init(&st.bare, STRBUF_UNLIMITED);
	strbuf_init(&st.angle, STRBUF_UNLIMITED);
	while (i < len) {
		struct strbuf *to = st.in_angle ? &st.angle : &st.bare;
		char ch = text[i];

		if (ch == '(')
			i = skip_comment(text, len, i);
		else if (ch == '"')
			i = copy_quoted(text, len, i, to);
		else if (ch == '[')
			i = copy_literal(text, len, i, to);
		else if (ch == '\\' && i + 1 < len) {
			(void)strbuf_append_char(to, (unsigned char)text[i + 1]);
			i += 2;
		} else if (strchr(" \t\r\n", ch) != NULL || ch == '\0') {
			i++;
		} else if (strchr("<>,;:", ch) != NULL &&
			   !(st.in_angle && ch != '>')) {
			take_special(&st, ch, to);
			i++;
		} else {
			(void)strbuf_append_char(to, (unsigned char)ch);
			i++;
		}
	}
	flush_addr(&st);
	strbuf_deinit(&st.bare);
	strbuf_deinit(&st.angle);
	return st.count;
}

void
header_rcpt_init(struct header_rcpt *hr)
{
	hr->plain = argv_create();
	hr->resent = argv_create();
	hr->has_resent = false;
}

void
header_rcpt_deinit(struct header_rcpt *hr)
{
	argv_destroy(&hr->plain);
	argv_destroy(&hr->resent);
}

void
header_rcpt_note(struct header_rcpt *hr, const char *text, size_t len)
{
	enum header_kind kind = header_fix_kind(text, len);
	const char *value;
	size_t vlen;

	switch (kind) {
	case HDR_TO:
	case HDR_CC:
	case HDR_BCC:
		value = header_value(text, len, &vlen);
		(void)header_addr_parse(value, vlen, hr->plain);
		break;
	case HDR_RESENT_TO:
	case HDR_RESENT_CC:
	case HDR_RESENT_BCC:
		value = header_value(text, len, &vlen);
		(void)header_addr_parse(value, vlen, hr->resent);
		hr->has_resent = true;
		break;
	default:
		break;
	}
}

const struct argv *
header_rcpt_result(const struct header_rcpt *hr)
{
	return hr->has_resent ? hr->resent : hr->plain;
}
