/*
 * table_source.c - the source files of postmap(1) and postalias(1).
 *
 * A thin layer over line_reader: it owns one logical-line buffer and the
 * key and value buffers, and hands each line to the split function of its
 * syntax. See table_source.h for the default "key whitespace value" one.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>

#include "util/line_reader.h"
#include "util/mymalloc.h"
#include "util/table_source.h"

struct table_source {
	struct line_reader *reader;
	table_source_split_fn *split;
	struct strbuf line;
	struct strbuf key;
	struct strbuf value;
};

static struct table_source *
source_create(struct line_reader *reader)
{
	struct table_source *ts = xmalloc(sizeof(*ts));

	ts->reader = reader;
	ts->split = table_source_split;
	line_reader_keep_spacing(reader);
	strbuf_init(&ts->line, LINE_READER_MAX_LOGICAL);
	/* Both are built from one logical line, so that bounds them. */
	strbuf_init(&ts->key, STRBUF_UNLIMITED);
	strbuf_init(&ts->value, STRBUF_UNLIMITED);
	return ts;
}

struct table_source *
table_source_open(const char *path, struct err *err)
{
	struct line_reader *reader = line_reader_open(path, err);

	return reader == NULL ? NULL : source_create(reader);
}

struct table_source *
table_source_from_stream(FILE *fp, const char *name)
{
	return source_create(line_reader_from_stream(fp, name));
}

void
table_source_close(struct table_source **tsp)
{
	struct table_source *ts = *tsp;

	if (ts == NULL)
		return;
	line_reader_close(&ts->reader);
	strbuf_deinit(&ts->line);
	strbuf_deinit(&ts->key);
	strbuf_deinit(&ts->value);
	free(ts);
	*tsp = NULL;
}

void
table_source_set_split(struct table_source *ts, table_source_split_fn *split)
{
	ts->split = split;
}

int
table_source_lineno(const struct table_source *ts)
{
	return line_reader_lineno(ts->reader);
}

const char *
table_source_name(const struct table_source *ts)
{
	return line_reader_name(ts->reader);
}

/* End of the key that starts at cp, or NULL if a quote is left open. */
static const char *
key_end(const char *cp)
{
	bool in_quotes = false;

	for (; *cp != 0; cp++) {
		if (*cp == '\\') {
			if (cp[1] == 0)
				break;
			cp++;
		} else if (*cp == '"') {
			in_quotes = !in_quotes;
		} else if (!in_quotes && isspace((unsigned char)*cp)) {
			break;
		}
	}
	return in_quotes ? NULL : cp;
}

int
table_source_split(const char *line, struct strbuf *key, struct strbuf *value,
                   struct err *err)
{
	const char *end = key_end(line);
	const char *cp;

	strbuf_reset(key);
	strbuf_reset(value);
	if (end == NULL) {
		err_set(err, "unbalanced '\"' in '%s' -- ignoring this line",
		        line);
		return -1;
	}
	/* The byte at end (white space, or a trailing backslash) goes. */
	cp = *end == 0 ? end : end + 1;
	while (isspace((unsigned char)*cp))
		cp++;
	if (end == line || *cp == 0) {
		err_set(err, "expected format: key whitespace value");
		return -1;
	}
	strbuf_append(key, line, (size_t)(end - line));
	strbuf_append_str(value, cp);
	return 0;
}

int
table_source_next(struct table_source *ts, const char **key_out,
                  const char **value_out, struct err *err)
{
	int ret;

	*key_out = *value_out = NULL;
	ret = line_reader_next(ts->reader, &ts->line, err);
	if (ret <= 0)
		return ret < 0 ? TABLE_SOURCE_ERROR : TABLE_SOURCE_END;
	if (ts->split(strbuf_text(&ts->line), &ts->key, &ts->value, err) < 0) {
		err_prefix(err, "%s, line %d", table_source_name(ts),
		           table_source_lineno(ts));
		return TABLE_SOURCE_BAD_LINE;
	}
	*key_out = strbuf_text(&ts->key);
	*value_out = strbuf_text(&ts->value);
	return TABLE_SOURCE_ENTRY;
}
