/*
 * postconf_edit.c - postconf -e, -X and -#: change main.cf in place.
 *
 * Works on physical lines so that everything not edited stays byte for
 * byte: comments and blank lines (also those inside a continued value) are
 * copied, and a parameter's logical line is replaced (-e), removed (-X) or
 * commented out line by line (-#) together with its continuation lines.
 * -e appends names not yet in the file at the end, in command-line order.
 * The new text is built in memory, then written to a file next to the old
 * one, fsynced and renamed over it (util/safe_open), keeping the old
 * file's mode and, when run by root, its owner.
 */
#include <errno.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/htable.h"
#include "util/line_reader.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/safe_open.h"
#include "util/strbuf.h"
#include "util/tokens.h"

#include "postconf/postconf.h"

/* One requested change; value is NULL for -X and -#. */
struct edit {
	char *name;
	char *value;
	bool is_seen; /* the name was found in main.cf */
};

/* The requests by name, and in command-line order for appending. */
struct edit_set {
	struct htable *by_name;
	struct edit **order;
	size_t count;
};

static const char *
edit_flag(enum pc_edit edit)
{
	if (edit == PC_EDIT_REMOVE)
		return "-X";
	if (edit == PC_EDIT_COMMENT)
		return "-#";
	return "-e";
}

static void
check_name(const char *name)
{
	for (const char *cp = name; *cp; cp++)
		if (isspace((unsigned char)*cp) || *cp == '#')
			log_fatal("bad parameter name: \"%s\"", name);
}

/* "name = value" from the command line, trimmed as Postfix trims it. */
static struct edit *
parse_setting(const char *arg)
{
	char *copy = xstrdup(arg);
	struct edit *edit = xmalloc(sizeof(*edit));
	char *name;
	char *value;
	struct err err;

	if (str_split_nameval(copy, &name, &value, &err) < 0)
		log_fatal("%s: \"%s\"", err.text, arg);
	check_name(name);
	if (strpbrk(value, "\r\n") != NULL)
		log_fatal("value of %s contains a line break", name);
	edit->name = xstrdup(name);
	edit->value = xstrdup(value);
	free(copy);
	return edit;
}

static struct edit *
parse_name(const struct postconf *pc, const char *arg)
{
	struct edit *edit = xmalloc(sizeof(*edit));

	if (strchr(arg, '=') != NULL)
		log_fatal("specify one of -e %s", edit_flag(pc->edit));
	check_name(arg);
	edit->name = xstrdup(arg);
	return edit;
}

static void
free_edit(void *ptr)
{
	struct edit *edit = ptr;

	free(edit->name);
	free(edit->value);
	free(edit);
}

static void
add_edit(struct edit_set *set, struct edit *edit)
{
	struct edit *old = htable_find(set->by_name, edit->name);

	if (old != NULL) {
		log_warning("ignoring earlier request: '%s = %s'", old->name,
			    old->value ? old->value : "");
		for (size_t i = 0; i < set->count; i++)
			if (set->order[i] == old)
				set->order[i] = edit;
	} else {
		set->order = xreallocarray(set->order, set->count + 1,
					   sizeof(*set->order));
		set->order[set->count++] = edit;
	}
	htable_set(set->by_name, edit->name, edit, free_edit);
}

static void
parse_edits(const struct postconf *pc, char **args, struct edit_set *set)
{
	if (*args == NULL) {
		if (pc->edit == PC_EDIT_SET)
			log_fatal("-e requires name=value argument");
		log_fatal("%s requires parameter name argument",
			  edit_flag(pc->edit));
	}
	set->by_name = htable_create(16);
	for (; *args != NULL; args++)
		add_edit(set, pc->edit == PC_EDIT_SET ? parse_setting(*args)
						      : parse_name(pc, *args));
}

/* The edit for the parameter that line starts, or NULL. */
static struct edit *
line_edit(const struct edit_set *set, const char *line)
{
	size_t len = strcspn(line, " \t=");
	char *name = xstrndup(line, len);
	struct edit *edit = htable_find(set->by_name, name);

	free(name);
	return edit;
}

/* Where the edited copy goes, and what the current logical line is. */
struct edit_state {
	const struct postconf *pc;
	const char *path;
	struct edit_set *set;
	FILE *out;
	bool is_edited;    /* the current logical line is being changed */
	bool is_at_bol;    /* output ends with a newline (or is empty) */
};

static void
put_line(struct edit_state *st, const char *prefix, const struct strbuf *line,
	 bool has_newline)
{
	fputs(prefix, st->out);
	fwrite(line->data, 1, line->len, st->out);
	if (has_newline)
		putc('\n', st->out);
	st->is_at_bol = has_newline;
}

static void
put_setting(struct edit_state *st, const struct edit *edit)
{
	if (!st->is_at_bol)
		putc('\n', st->out);
	fprintf(st->out, "%s = %s\n", edit->name, edit->value);
	st->is_at_bol = true;
}

/* The first line of a logical line (a parameter setting). */
static void
edit_start(struct edit_state *st, const struct strbuf *line, bool has_newline)
{
	struct edit *edit = line_edit(st->set, line->data);

	st->is_edited = edit != NULL;
	if (edit == NULL) {
		put_line(st, "", line, has_newline);
		return;
	}
	if (st->pc->edit == PC_EDIT_SET) {
		if (edit->is_seen)
			log_warning("%s: multiple entries for \"%s\"", st->path,
				    edit->name);
		put_setting(st, edit);
	} else if (st->pc->edit == PC_EDIT_COMMENT) {
		put_line(st, "#", line, has_newline);
	}
	edit->is_seen = true;
}

static void
edit_line(struct edit_state *st, const struct strbuf *line, bool has_newline)
{
	const char *cp = line->data + strspn(line->data, " \t\r\f\v");

	if (*cp == 0 || *cp == '#')
		put_line(st, "", line, has_newline);
	else if (cp > line->data && !st->is_edited)
		put_line(st, "", line, has_newline);
	else if (cp > line->data && st->pc->edit == PC_EDIT_COMMENT)
		put_line(st, "#", line, has_newline);
	else if (cp == line->data)
		edit_start(st, line, has_newline);
}

/* Read one physical line; 1, 0 at end of file. Fatal if too long. */
static int
read_line(FILE *fp, struct strbuf *line, bool *has_newline, const char *path,
	  int lineno)
{
	int ch;

	strbuf_reset(line);
	*has_newline = false;
	while ((ch = getc(fp)) != EOF) {
		if (ch == '\n') {
			*has_newline = true;
			return 1;
		}
		if (strbuf_append_char(line, ch) < 0)
			log_fatal("%s, line %d: line longer than %zu bytes",
				  path, lineno, line->limit);
	}
	if (ferror(fp))
		log_fatal("read %s: %s", path, strerror(errno));
	return strbuf_len(line) > 0;
}

static void
copy_edited(struct edit_state *st, FILE *in)
{
	struct strbuf line;
	bool has_newline;
	int lineno = 0;

	strbuf_init(&line, LINE_READER_MAX_LINE);
	while (read_line(in, &line, &has_newline, st->path, ++lineno) > 0)
		edit_line(st, &line, has_newline);
	strbuf_deinit(&line);
	if (st->pc->edit != PC_EDIT_SET)
		return;
	for (size_t i = 0; i < st->set->count; i++)
		if (!st->set->order[i]->is_seen)
			put_setting(st, st->set->order[i]);
}

/*
 * Replace path with the new text. Nothing between begin and commit may be
 * fatal, or the temporary file would stay behind.
 */
static void
replace_main(const char *path, const struct stat *sb, const char *text,
	     size_t len)
{
	struct err err;
	struct safe_replace *sr;
	FILE *out;

	if ((sr = safe_replace_begin(path, sb->st_mode & 07777, &err)) == NULL)
		log_fatal("%s", err.text);
	out = safe_replace_stream(sr);
	/* Root editing someone else's file gives it back to them. */
	if (geteuid() == 0 && fchown(fileno(out), sb->st_uid, sb->st_gid) < 0)
		log_warning("chown %s: %s", safe_replace_temp_path(sr),
			    strerror(errno));
	fwrite(text, 1, len, out);
	if (safe_replace_commit(&sr, &err) < 0)
		log_fatal("%s", err.text);
}

/* The edited copy of in, built in memory first. */
static void
edit_file(struct edit_state *st, FILE *in)
{
	struct stat sb;
	char *text = NULL;
	size_t len = 0;

	if (fstat(fileno(in), &sb) < 0)
		log_fatal("stat %s: %s", st->path, strerror(errno));
	if ((st->out = open_memstream(&text, &len)) == NULL)
		log_fatal("open_memstream: %s", strerror(errno));
	copy_edited(st, in);
	if (fclose(st->out) != 0)
		log_fatal("write %s: %s", st->path, strerror(errno));
	replace_main(st->path, &sb, text, len);
	free(text);
}

void
pc_edit_main(const struct postconf *pc, char **args)
{
	struct edit_set set = {0};
	struct edit_state st = {.pc = pc, .set = &set, .is_at_bol = true};
	char *path = xasprintf("%s/main.cf", pc->config_dir);
	FILE *in;

	parse_edits(pc, args, &set);
	st.path = path;
	if ((in = fopen(path, "re")) == NULL)
		log_fatal("open %s for reading: %s", path, strerror(errno));
	edit_file(&st, in);
	fclose(in);
	htable_destroy(&set.by_name, free_edit);
	free(set.order);
	free(path);
}
