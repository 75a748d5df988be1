/*
 * smtp_data.c - the DATA phase state machine: end-of-data, dot-unstuffing
 * and bare line-end bookkeeping.
 */
#include <string.h>

#include "util/log.h"

#include "global/smtp_data.h"

void
smtp_data_init(struct smtp_data *d, enum smtp_bare_lf mode)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->at_line_start = true;
	d->prev_crlf = true;
}

/* Is this complete "." line the end of the message? */
static bool
is_end(const struct smtp_data *d, enum stream_line_end end)
{
	if (d->mode == SMTP_BARE_LF_NO)
		return true;
	return end == STREAM_END_CRLF && d->prev_crlf;
}

/* Bookkeeping for a piece that ended a line. */
static void
line_ended(struct smtp_data *d, enum stream_line_end end)
{
	d->at_line_start = true;
	d->prev_crlf = end == STREAM_END_CRLF;
	if (end == STREAM_END_LF)
		d->saw_bare_lf = true;
}

enum smtp_data_action
smtp_data_feed(struct smtp_data *d, const char *line, size_t len,
	       enum stream_line_end end, const char **data_out, size_t *len_out)
{
	bool was_line_start = d->at_line_start;

	ASSERT(!d->is_done);
	*data_out = line;
	*len_out = len;
	if (end == STREAM_END_EOF) {
		d->is_done = true;
		return SMTP_DATA_LOST;
	}
	if (memchr(line, '\r', len))
		d->saw_bare_cr = true;
	if (end == STREAM_END_CUT) {
		d->at_line_start = false;
	} else if (was_line_start && len == 1 && line[0] == '.') {
		if (is_end(d, end)) {
			d->is_done = true;
			return SMTP_DATA_END;
		}
		line_ended(d, end);
		return SMTP_DATA_SKIP;
	} else {
		line_ended(d, end);
	}
	if (was_line_start && len > 0 && line[0] == '.') {
		*data_out = line + 1;
		*len_out = len - 1;
	}
	return end == STREAM_END_CUT ? SMTP_DATA_PARTIAL : SMTP_DATA_LINE;
}

bool
smtp_data_must_reject(const struct smtp_data *d)
{
	return d->mode == SMTP_BARE_LF_REJECT && d->saw_bare_lf;
}
