/*
 * smtp_reply.c - parse SMTP/LMTP server replies line by line (see
 * smtp_reply.h). Pure: no I/O; memory bounded by SMTP_REPLY_TEXT_MAX.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "global/smtp_reply.h"

void
smtp_reply_init(struct smtp_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	strbuf_init(&reply->text, SMTP_REPLY_TEXT_MAX);
}

void
smtp_reply_deinit(struct smtp_reply *reply)
{
	strbuf_deinit(&reply->text);
}

void
smtp_reply_reset(struct smtp_reply *reply)
{
	strbuf_reset(&reply->text);
	reply->code = 0;
	reply->dsn[0] = 0;
	reply->has_dsn = false;
	reply->line_count = 0;
	reply->is_complete = false;
	reply->is_skipping = false;
	reply->is_last_line = false;
}

/* Show at most 100 bytes of a bad line in an error. */
static void
bad_line(struct err *err, const char *line, size_t len)
{
	char shown[101];
	size_t n = len < 100 ? len : 100;

	for (size_t i = 0; i < n; i++)
		shown[i] = line[i] == 0 ? '?' : line[i];
	shown[n] = 0;
	err_set(err, "malformed reply line: \"%s\"", shown);
}

/* Digits of "D.DDD.DDD" at text; its length or 0. */
static size_t
dsn_span(const char *text, size_t len, int class_digit)
{
	size_t i = 0;
	int group = 0, digits = 0;

	if (len < 5 || text[0] != class_digit || text[1] != '.')
		return 0;
	for (i = 2; i < len && group < 2; i++) {
		if (isdigit((unsigned char)text[i]) && digits < 3) {
			digits++;
		} else if (text[i] == '.' && digits > 0 && group == 0) {
			group = 1;
			digits = 0;
		} else {
			break;
		}
	}
	if (group != 1 || digits == 0)
		return 0;
	if (i < len && text[i] != ' ')
		return 0;
	return i;
}

/* The enhanced status code of the first line, or "X.0.0". */
static void
reply_set_dsn(struct smtp_reply *reply, const char *text, size_t len)
{
	size_t n = dsn_span(text, len, '0' + reply->code / 100);

	if (n > 0 && n < sizeof(reply->dsn)) {
		memcpy(reply->dsn, text, n);
		reply->dsn[n] = 0;
		reply->has_dsn = true;
		return;
	}
	snprintf(reply->dsn, sizeof(reply->dsn), "%d.0.0", reply->code / 100);
}

/* Keep as much of the line as the text limit allows; NUL becomes '?'. */
static void
reply_store(struct smtp_reply *reply, const char *line, size_t len)
{
	struct strbuf *sb = &reply->text;

	if (reply->line_count > 0)
		(void)strbuf_append_char(sb, '\n');
	for (size_t i = 0; i < len && sb->len < sb->limit; i++)
		(void)strbuf_append_char(sb, line[i] == 0 ? '?' : line[i]);
}

static int
parse_code(const char *line, size_t len)
{
	if (len < 3 || line[0] < '2' || line[0] > '5' ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]))
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* The line (or its last piece) has ended: is the reply complete? */
static int
reply_line_done(struct smtp_reply *reply)
{
	if (!reply->is_last_line)
		return 0;
	reply->is_complete = true;
	return 1;
}

int
smtp_reply_feed(struct smtp_reply *reply, const char *line, size_t len,
		enum stream_line_end end, struct err *err)
{
	bool was_skipping = reply->is_skipping;
	int code;

	if (end == STREAM_END_EOF) {
		err_set(err, "missing line end before end of input");
		return -1;
	}
	reply->is_skipping = (end == STREAM_END_CUT);
	if (was_skipping)	/* the rest of an over-long line */
		return reply->is_skipping ? 0 : reply_line_done(reply);
	if ((code = parse_code(line, len)) < 0) {
		bad_line(err, line, len);
		return -1;
	}
	if (reply->line_count > 0 && code != reply->code) {
		err_set(err, "mixed reply codes %d and %d", reply->code, code);
		return -1;
	}
	if (reply->line_count == 0) {
		reply->code = code;
		reply_set_dsn(reply, len > 4 ? line + 4 : "",
			      len > 4 ? len - 4 : 0);
	}
	reply_store(reply, line, len);
	reply->line_count++;
	reply->is_last_line = !(len > 3 && line[3] == '-');
	return reply->is_skipping ? 0 : reply_line_done(reply);
}

void
smtp_reply_oneline(const struct smtp_reply *reply, struct strbuf *out)
{
	strbuf_reset(out);
	for (size_t i = 0; i < reply->text.len; i++) {
		char ch = reply->text.data[i];

		if (strbuf_append_char(out, ch == '\n' ? ' ' : ch) < 0)
			break;
	}
}

bool
smtp_reply_line(const struct smtp_reply *reply, size_t index,
		const char **text_out, size_t *len_out)
{
	const char *p = reply->text.data;
	const char *end = p + reply->text.len;
	const char *nl;

	for (size_t i = 0; i < index; i++) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return false;
		p = nl + 1;
	}
	if (p >= end && index >= reply->line_count)
		return false;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (nl == NULL)
		nl = end;
	if (nl - p < 3)
		return false;
	*text_out = nl - p > 4 ? p + 4 : nl;
	*len_out = nl - p > 4 ? (size_t)(nl - p - 4) : 0;
	return true;
}
