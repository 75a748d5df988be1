/*
 * line_reader.h - logical lines of Postfix-style configuration files.
 *
 * main.cf, master.cf, lookup-table sources and aliases(5) share one line
 * syntax: a line whose first non-blank character is '#' is a comment, blank
 * lines are ignored, and a line that starts with white space continues the
 * logical line before it. Physical lines longer than the reader's limit are
 * an error, never a silent truncation.
 */
#ifndef POSTERN_UTIL_LINE_READER_H
#define POSTERN_UTIL_LINE_READER_H

#include <stdio.h>

#include "util/err.h"
#include "util/strbuf.h"

/* Default limit on one physical line, and on one logical line. */
#define LINE_READER_MAX_LINE (64 * 1024)
#define LINE_READER_MAX_LOGICAL (1024 * 1024)

struct line_reader;

/*
 * Open path for reading. Returns NULL with err "open PATH: reason".
 * line_reader_from_stream wraps an open stream, which the reader does not
 * close; name is used in messages ("-" for stdin).
 */
struct line_reader *line_reader_open(const char *path, struct err *err);
struct line_reader *line_reader_from_stream(FILE *fp, const char *name);
void line_reader_close(struct line_reader **lrp);

/*
 * Read the next logical line into line (continuations joined by a single
 * space, trailing white space and the newline removed). Returns 1 for a
 * line, 0 at end of file, -1 with err "NAME, line N: reason" (a line too
 * long, a read error, a continuation with nothing to continue, a NUL byte).
 */
int line_reader_next(struct line_reader *lr, struct strbuf *line,
		     struct err *err);

/* Line number where the last logical line started, and the file's name. */
int line_reader_lineno(const struct line_reader *lr);
const char *line_reader_name(const struct line_reader *lr);

/*
 * Keep comment and blank lines (returned as they are, for editors such as
 * postconf -e that must preserve them); continuations are still joined.
 */
void line_reader_keep_comments(struct line_reader *lr);

/*
 * Join continuation lines as Postfix's lookup-table readers do: only the
 * newline goes, the white space around it stays ("k x\n   y" gives
 * "k x   y"). Trailing white space of the logical line is still removed.
 */
void line_reader_keep_spacing(struct line_reader *lr);

/*
 * Skip, instead of failing on, a logical line that starts with white space
 * (without keep_comments only the first line of a file can: any later one
 * continues the line before it), as Postfix does for main.cf and
 * master.cf; lookup-table readers stay strict. The skipped line is read
 * whole, and fn (if not NULL) gets Postfix's warning for it, for the caller
 * to log or collect: "NAME: logical line must not start with whitespace:
 * \"TEXT\"", TEXT being its first 30 bytes (continuations joined with only
 * the newline removed), then "..." if there was more.
 */
typedef void line_reader_skip_fn(void *ctx, const char *warning);
void line_reader_skip_leading_space(struct line_reader *lr,
				    line_reader_skip_fn *fn, void *ctx);

#endif
