/*
 * smtp_data.h - the DATA phase: end-of-data and dot-unstuffing.
 *
 * A small state machine fed with the pieces stream_read_line returns
 * (bytes without the line end, and how the line ended). It tells smtpd
 * what to store and when the message ends, so SMTP smuggling cannot work:
 * only "." as a whole line ends the message, and with
 * smtpd_forbid_bare_newline = normalize or reject only when that line and the
 * line before it both ended in CRLF (see enum smtp_bare_lf in smtp_cmd.h).
 * Results for the known smuggling endings, in NORMALIZE and REJECT modes:
 *   "\n.\n", "\r\n.\n", "\n.\r\n"  -> the "." line is dropped, not the end
 *   "\r.\r", "\r\n.\r", "\r.\r\n"  -> a bare CR is data: no "." line at all
 *   "\r\n.\r\r\n"                 -> line ".\r" is content "\r" (unstuffed)
 * In NO mode "\n.\n", "\r\n.\n" and "\n.\r\n" do end the message, as in
 * Postfix before 3.9. (Postfix 3.7 with "no" also ends at ".\r\r\n"
 * because it strips every trailing CR; we never do.)
 * Lines cut at the reader's limit come back as partial pieces; a dot at
 * the start of a continuation piece is data, not a stuffed dot.
 * Pure: no I/O, no allocation.
 */
#ifndef POSTERN_GLOBAL_SMTP_DATA_H
#define POSTERN_GLOBAL_SMTP_DATA_H

#include <stdbool.h>
#include <stddef.h>

#include "util/stream.h"

#include "global/smtp_cmd.h"

enum smtp_data_action {
	SMTP_DATA_LINE,    /* store *data_out as a complete content line */
	SMTP_DATA_PARTIAL, /* store *data_out; the line goes on (cut piece) */
	SMTP_DATA_SKIP,    /* store nothing: a "." line that is not the end */
	SMTP_DATA_END,     /* the message is complete; store nothing */
	SMTP_DATA_LOST,    /* the peer closed inside the message */
};

struct smtp_data {
	enum smtp_bare_lf mode;
	bool at_line_start; /* the previous piece ended a line */
	bool prev_crlf;     /* ... and that line ended in CRLF */
	bool saw_bare_lf;   /* some content line ended in a bare LF */
	bool saw_bare_cr;   /* some content line holds a CR (data) */
	bool is_done;       /* SMTP_DATA_END or SMTP_DATA_LOST was returned */
};

/* Start a message after "354"; the DATA command's own line end does not
 * count (Postfix ends "DATA\n" ".\r\n" in every mode). */
void smtp_data_init(struct smtp_data *d, enum smtp_bare_lf mode);

/*
 * Feed one piece. For LINE and PARTIAL, *data_out and *len_out (never
 * NULL) point into line, past a stuffed dot. Must not be called after END or
 * LOST.
 */
enum smtp_data_action smtp_data_feed(struct smtp_data *d, const char *line,
				     size_t len, enum stream_line_end end,
				     const char **data_out, size_t *len_out);

/*
 * After SMTP_DATA_END: true if the message must be refused with
 * smtp_bare_lf_reply (REJECT mode and a bare LF was seen); the session
 * then goes on.
 */
bool smtp_data_must_reject(const struct smtp_data *d);

#endif
