/*
 * table_source.h - the source files of postmap(1) and postalias(1).
 *
 * One reader for every "one entry per logical line" table source: line
 * syntax is line_reader's (comments, blank lines, continuation lines), with
 * the white space around a continuation kept as Postfix keeps it, and each
 * logical line is split into key and value by a split function. The
 * default one, table_source_split, reads postmap's "key whitespace value"
 * lines (and texthash: tables); postalias plugs in aliases(5) syntax
 * (global/alias_source.h).
 */
#ifndef POSTERN_UTIL_TABLE_SOURCE_H
#define POSTERN_UTIL_TABLE_SOURCE_H

#include <stdio.h>

#include "util/err.h"
#include "util/strbuf.h"

enum table_source_status {
	TABLE_SOURCE_ERROR = -1,   /* reading stops: err says why */
	TABLE_SOURCE_END = 0,      /* no more entries */
	TABLE_SOURCE_ENTRY = 1,    /* *key_out and *value_out are set */
	TABLE_SOURCE_BAD_LINE = 2, /* one line skipped: err says why */
};

/*
 * A line syntax: split one logical line into key and value, replacing what
 * the two buffers held. Returns 0, or -1 with err set to the bare reason
 * (no file or line) for a line the syntax rejects.
 */
typedef int table_source_split_fn(const char *line, struct strbuf *key,
                                  struct strbuf *value, struct err *err);

struct table_source;

/*
 * Open path. Returns NULL with err "open PATH: reason". The stream form
 * reads fp (not closed by the reader) and names it name in messages.
 * Both read the default syntax until table_source_set_split.
 */
struct table_source *table_source_open(const char *path, struct err *err);
struct table_source *table_source_from_stream(FILE *fp, const char *name);
void table_source_close(struct table_source **tsp);

/* Read the lines that follow with another syntax. */
void table_source_set_split(struct table_source *ts,
                            table_source_split_fn *split);

/*
 * Next entry. Returns enum table_source_status. For TABLE_SOURCE_ENTRY the
 * key and value stay valid until the next call. TABLE_SOURCE_BAD_LINE
 * reports a line the syntax rejects, as "NAME, line N: reason", which
 * Postfix skips with a warning; the caller warns and calls again.
 * TABLE_SOURCE_ERROR is a read error, an over-long line or a NUL byte
 * ("NAME, line N: reason"); do not call again after it.
 */
int table_source_next(struct table_source *ts, const char **key_out,
                      const char **value_out, struct err *err);

/* Line where the last entry (or bad line) started, and the file's name. */
int table_source_lineno(const struct table_source *ts);
const char *table_source_name(const struct table_source *ts);

/*
 * The default syntax, "key whitespace value". The key ends at the first
 * white space that is neither inside "double quotes" nor escaped with a
 * backslash; quotes and backslashes stay part of the key, as in Postfix
 * ("a b"@example.com is looked up with its quotes). The value is the rest
 * of the line after the white space. Reasons: "expected format: key
 * whitespace value" (no value), "unbalanced '\"' in 'LINE' -- ignoring
 * this line".
 */
int table_source_split(const char *line, struct strbuf *key,
                       struct strbuf *value, struct err *err);

#endif
