/*
 * alias_source.h - aliases(5) files, and the address lists in alias values.
 *
 * postalias (and so newaliases and sendmail -bi) reads "name: value"
 * entries here; the local delivery agent splits looked-up values with
 * alias_value_split. Files are read by util/table_source (line_reader's
 * syntax: comments, blank lines, continuation lines) with the split
 * function here. Both sides are read as RFC 822 tokens, as Postfix does:
 * the name is everything before the first ':' that is not inside quotes or
 * a comment ("a b": x has the name a b), and the value is stored in
 * Postfix's normal form: tokens re-joined with single spaces where two
 * words meet, ", " after each comma, quoted strings re-quoted ("  v1 ,  v2"
 * is stored as "v1, v2"; "|cmd   arg" as "|cmd arg"; a quoted "|cmd   arg"
 * keeps its spaces). postalias -q prints that form.
 */
#ifndef POSTERN_GLOBAL_ALIAS_SOURCE_H
#define POSTERN_GLOBAL_ALIAS_SOURCE_H

#include <stdio.h>

#include "util/argv.h"
#include "util/err.h"
#include "util/strbuf.h"
#include "util/table_source.h"

/*
 * An aliases(5) reader: a table_source with alias_source_split as its
 * syntax, so entries are read with table_source_next (the name, not
 * folded, as key; the normalized value as value) and it is closed with
 * table_source_close. Open returns NULL with err "open PATH: reason"; the
 * stream form reads fp (not closed by the reader) and names it name in
 * messages.
 */
struct table_source *alias_source_open(const char *path, struct err *err);
struct table_source *alias_source_from_stream(FILE *fp, const char *name);

/*
 * The aliases(5) syntax (a table_source_split_fn): split one logical line
 * into name and normalized value. Returns 0, or -1 with err set to the
 * bare reason (no file or line), which table_source_next reports as a bad
 * line Postfix skips with a warning: "need name:value pair" (no ':',
 * nothing before or after it, or a ',' before it) or "name must be local"
 * ('@' or '%' in the name outside quotes).
 */
int alias_source_split(const char *line, struct strbuf *name,
                       struct strbuf *value, struct err *err);

/*
 * The destinations of an alias value, for local delivery: the value is
 * split at commas outside quotes and comments, comments are dropped, an
 * element with <angle brackets> keeps only what is inside them, and quoted
 * strings lose their quotes ("\"|cmd arg\", :include:/x" gives "|cmd arg"
 * and ":include:/x"). Empty elements are dropped. The caller destroys the
 * result.
 */
struct argv *alias_value_split(const char *value);

#endif
