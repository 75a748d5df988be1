/*
 * line_reader.c - logical lines of Postfix-style configuration files.
 *
 * Reads physical lines into a bounded buffer, then glues continuation lines
 * onto the logical line they belong to. One physical line of look-ahead is
 * kept, since only the next line tells whether the current one is complete.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/line_reader.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

struct line_reader {
	FILE *fp;
	bool owns_fp;
	char *name;
	int physical_lineno; /* lines read so far */
	int logical_lineno;  /* where the last logical line started */
	struct strbuf pending; /* look-ahead line, valid if has_pending */
	bool has_pending;
	bool at_eof;
	bool keep_comments;
	bool keep_spacing;
	bool skip_indented;          /* skip a line starting with white space */
	line_reader_skip_fn *skip_fn; /* told about each skipped line */
	void *skip_ctx;
};

static struct line_reader *
reader_create(FILE *fp, bool owns_fp, const char *name)
{
	struct line_reader *lr = xmalloc(sizeof(*lr));

	lr->fp = fp;
	lr->owns_fp = owns_fp;
	lr->name = xstrdup(name);
	strbuf_init(&lr->pending, LINE_READER_MAX_LINE);
	return lr;
}

struct line_reader *
line_reader_open(const char *path, struct err *err)
{
	FILE *fp = fopen(path, "re");

	if (fp == NULL) {
		err_set(err, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	return reader_create(fp, true, path);
}

struct line_reader *
line_reader_from_stream(FILE *fp, const char *name)
{
	return reader_create(fp, false, name);
}

void
line_reader_close(struct line_reader **lrp)
{
	struct line_reader *lr = *lrp;

	if (lr == NULL)
		return;
	if (lr->owns_fp)
		fclose(lr->fp);
	strbuf_deinit(&lr->pending);
	free(lr->name);
	free(lr);
	*lrp = NULL;
}

void
line_reader_keep_comments(struct line_reader *lr)
{
	lr->keep_comments = true;
}

void
line_reader_keep_spacing(struct line_reader *lr)
{
	lr->keep_spacing = true;
}

void
line_reader_skip_leading_space(struct line_reader *lr, line_reader_skip_fn *fn,
			       void *ctx)
{
	lr->skip_indented = true;
	lr->skip_fn = fn;
	lr->skip_ctx = ctx;
}

int
line_reader_lineno(const struct line_reader *lr)
{
	return lr->logical_lineno;
}

const char *
line_reader_name(const struct line_reader *lr)
{
	return lr->name;
}

/* Read one physical line into lr->pending; 1, 0 at EOF, -1 on error. */
static int
read_physical(struct line_reader *lr, struct err *err)
{
	int ch;

	strbuf_reset(&lr->pending);
	if (lr->at_eof)
		return 0;
	while ((ch = getc(lr->fp)) != EOF && ch != '\n') {
		if (ch == 0) {
			err_set(err, "%s, line %d: NUL byte in text", lr->name,
				lr->physical_lineno + 1);
			return -1;
		}
		if (strbuf_append_char(&lr->pending, ch) < 0) {
			err_set(err, "%s, line %d: line longer than %zu bytes",
				lr->name, lr->physical_lineno + 1,
				lr->pending.limit);
			return -1;
		}
	}
	if (ch == EOF) {
		if (ferror(lr->fp)) {
			err_set(err, "%s, line %d: read error: %s", lr->name,
				lr->physical_lineno + 1, strerror(errno));
			return -1;
		}
		lr->at_eof = true;
		if (strbuf_len(&lr->pending) == 0)
			return 0;
	}
	lr->physical_lineno++;
	lr->has_pending = true;
	return 1;
}

static bool
is_comment_or_blank(const char *text)
{
	while (isspace((unsigned char)*text))
		text++;
	return *text == 0 || *text == '#';
}

static int
fill_pending(struct line_reader *lr, struct err *err)
{
	if (lr->has_pending)
		return 1;
	return read_physical(lr, err);
}

static void
trim_right(struct strbuf *sb)
{
	size_t len = strbuf_len(sb);

	while (len > 0 && isspace((unsigned char)sb->data[len - 1]))
		len--;
	strbuf_truncate(sb, len);
}

/* Glue the pending continuation line onto line. */
static int
append_continuation(struct line_reader *lr, struct strbuf *line,
		    bool keep_spacing)
{
	if (keep_spacing)
		return strbuf_append(line, lr->pending.data, lr->pending.len);
	trim_right(line);
	if (strbuf_append_char(line, ' ') < 0)
		return -1;
	return strbuf_append_str(line, str_trim(lr->pending.data));
}

/* Glue continuation lines onto line; comments inside a value are skipped. */
static int
glue_continuations(struct line_reader *lr, struct strbuf *line,
		   bool keep_spacing, struct err *err)
{
	int ret;

	for (;;) {
		if ((ret = fill_pending(lr, err)) < 0)
			return -1;
		if (ret == 0)
			return 0;
		if (is_comment_or_blank(lr->pending.data)) {
			if (lr->keep_comments)
				return 0;
			lr->has_pending = false;
			continue;
		}
		if (!isspace((unsigned char)lr->pending.data[0]))
			return 0;
		lr->has_pending = false;
		if (append_continuation(lr, line, keep_spacing) < 0 ||
		    strbuf_len(line) > LINE_READER_MAX_LOGICAL) {
			err_set(err, "%s, line %d: logical line too long",
				lr->name, lr->logical_lineno);
			return -1;
		}
	}
}

/* The longest part of a skipped line that its warning quotes. */
#define SKIP_QUOTE_MAX 30

/*
 * Read the rest of a logical line that starts with white space, which is
 * in line already, and tell the caller about it; line is then emptied.
 */
static int
skip_indented(struct line_reader *lr, struct strbuf *line, struct err *err)
{
	char *warning;

	if (glue_continuations(lr, line, true, err) < 0)
		return -1;
	if (lr->skip_fn != NULL) {
		warning = xasprintf("%s: logical line must not start with "
				    "whitespace: \"%.*s%s\"",
				    lr->name, SKIP_QUOTE_MAX, line->data,
				    line->len > SKIP_QUOTE_MAX ? "..." : "");
		lr->skip_fn(lr->skip_ctx, warning);
		free(warning);
	}
	strbuf_reset(line);
	return 0;
}

int
line_reader_next(struct line_reader *lr, struct strbuf *line,
		 struct err *err)
{
	int ret;

	strbuf_reset(line);
	/* Find the start of a logical line. */
	for (;;) {
		if ((ret = fill_pending(lr, err)) <= 0)
			return ret;
		lr->has_pending = false;
		lr->logical_lineno = lr->physical_lineno;
		if (is_comment_or_blank(lr->pending.data)) {
			if (!lr->keep_comments)
				continue;
			strbuf_append(line, lr->pending.data, lr->pending.len);
			return 1;
		}
		if (!isspace((unsigned char)lr->pending.data[0]))
			break;
		if (!lr->skip_indented) {
			err_set(err,
				"%s, line %d: logical line must not start "
				"with white space",
				lr->name, lr->physical_lineno);
			return -1;
		}
		strbuf_append(line, lr->pending.data, lr->pending.len);
		if (skip_indented(lr, line, err) < 0)
			return -1;
	}
	strbuf_append(line, lr->pending.data, lr->pending.len);
	if (glue_continuations(lr, line, lr->keep_spacing, err) < 0)
		return -1;
	trim_right(line);
	return 1;
}
