/*
 * postconf_master.c - postconf -M, -F and -P: master.cf as Postfix shows it.
 *
 * -M prints each entry normalised: the seven columns aligned the way
 * Postfix aligns them, then the command words separated by single spaces,
 * with a word that contains white space shown as "{word}". Under -f long
 * entries are folded, and each "-o name=value" gets a line of its own.
 * -F prints "service/type/field = value", -P the -o settings as
 * "service/type/name = value". Arguments select entries by
 * "service[/type[/field-or-name]]", "*" or a missing part matching all;
 * selectors that match nothing draw a warning. Under -x, -o values are
 * expanded with main.cf plus that entry's own settings and service_name.
 */
#include <stdlib.h>
#include <string.h>

#include "util/htable.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/tokens.h"

#include "global/mail_conf.h"
#include "global/master_conf.h"

#include "postconf/postconf.h"

/* Column where each of the first seven fields and the command start. */
static const size_t column_start[MASTER_FIELD_COUNT] = {
	0, 11, 17, 25, 33, 41, 49, 57,
};

/* A "service/type/third" request and whether it matched anything. */
struct selector {
	char *text;        /* as given, for the warning */
	char *parts[3];    /* NULL or "*": any */
	bool is_matched;
};

/* Output being folded: the text so far and the current line's length. */
struct folder {
	struct strbuf text;
	size_t line_len;
	bool want_fold;
};

static bool
part_matches(const char *part, const char *value)
{
	return part == NULL || strcmp(part, "*") == 0 ||
	       strcmp(part, value) == 0;
}

static bool
selector_matches(const struct selector *sel, const struct master_service *svc)
{
	return part_matches(sel->parts[0], svc->name) &&
	       part_matches(sel->parts[1], svc->type);
}

_Noreturn static void
bad_selector(enum pc_mode mode)
{
	if (mode == PC_MODE_MASTER)
		log_fatal("-M option requires service_name[/type]");
	if (mode == PC_MODE_FIELDS)
		log_fatal("-F option requires service_name[/type[/field]]");
	log_fatal("-P option requires service_name[/type[/parameter]]");
}

/*
 * Split selectors at '/', empty parts dropped as Postfix does ("a//b" is
 * service a, type b); -M takes two parts, -F and -P three.
 */
static struct selector *
parse_selectors(char **args, size_t *count_out, enum pc_mode mode)
{
	int max_parts = mode == PC_MODE_MASTER ? 2 : 3;
	size_t count = 0;
	struct selector *sels;

	while (args[count] != NULL)
		count++;
	sels = xcalloc(count + 1, sizeof(*sels));
	for (size_t i = 0; i < count; i++) {
		char *copy = xstrdup(args[i]);
		char *cursor = copy;
		char *part;
		int n = 0;

		sels[i].text = xstrdup(args[i]);
		while ((part = str_token(&cursor, "/")) != NULL) {
			if (n == max_parts)
				bad_selector(mode);
			sels[i].parts[n++] = xstrdup(part);
		}
		free(copy);
		if (n == 0)
			bad_selector(mode);
	}
	*count_out = count;
	return sels;
}

static void
free_selectors(struct selector *sels, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		free(sels[i].text);
		for (int n = 0; n < 3; n++)
			free(sels[i].parts[n]);
	}
	free(sels);
}

static void
warn_unmatched(const struct selector *sels, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (!sels[i].is_matched)
			log_warning("unmatched request: \"%s\"", sels[i].text);
}

/* main.cf plus this entry's -o settings, for expanding those settings. */
static struct mail_conf *
service_conf(const struct postconf *pc, const struct master_service *svc)
{
	struct mail_conf *conf = pc_load_conf(pc);

	mail_conf_set(conf, "service_name", svc->name);
	for (size_t i = 0; i < svc->opt_count; i++)
		mail_conf_set(conf, svc->opts[i].name, svc->opts[i].value);
	return conf;
}

/* The value of an entry's setting as shown: raw, or expanded under -x. */
static char *
setting_value(const struct postconf *pc, struct mail_conf *conf,
	      const struct master_service *svc, const struct master_opt *opt)
{
	char *where;
	char *value;

	if (!pc->want_expand)
		return xstrdup(opt->value);
	where = xasprintf("%s, line %d", pc->master->path, svc->lineno);
	value = pc_expand(conf, where, opt->name, opt->value);
	free(where);
	return value;
}

/* A command word as Postfix shows it: "{word}" if it has white space. */
static char *
show_word(const char *word)
{
	if (strpbrk(word, " \t\r\n") != NULL)
		return xasprintf("{%s}", word);
	return xstrdup(word);
}

/*
 * The command words as shown, and which of them are -o settings
 * (*is_setting_out, one flag per word, freed by the caller).
 */
static struct argv *
shown_words(const struct postconf *pc, const struct master_service *svc,
	    bool **is_setting_out)
{
	struct mail_conf *conf = pc->want_expand ? service_conf(pc, svc) : NULL;
	struct argv *words = argv_create();
	bool *is_setting = xcalloc(svc->args->count + 1, sizeof(bool));
	char **texts = xcalloc(svc->args->count + 1, sizeof(char *));

	for (size_t i = 0; i < svc->opt_count; i++) {
		const struct master_opt *opt = &svc->opts[i];
		char *value = setting_value(pc, conf, svc, opt);

		is_setting[opt->arg_index] = true;
		texts[opt->arg_index] = xasprintf("%s=%s", opt->name, value);
		free(value);
	}
	for (size_t i = 0; i < svc->args->count; i++) {
		char *word = show_word(texts[i] ? texts[i] : svc->args->items[i]);

		argv_add(words, word);
		free(word);
		free(texts[i]);
	}
	free(texts);
	mail_conf_destroy(&conf);
	*is_setting_out = is_setting;
	return words;
}

static void
fold_append(struct folder *f, const char *text)
{
	strbuf_append_str(&f->text, text);
	f->line_len += strlen(text);
}

/* Separate word from what came before: a space or a new line. */
static void
fold_word(struct folder *f, const char *word, bool want_break)
{
	if (f->line_len > 0) {
		if (!want_break &&
		    (!f->want_fold ||
		     f->line_len + strlen(word) < PC_LINE_LIMIT)) {
			fold_append(f, " ");
		} else {
			strbuf_append_str(&f->text, "\n");
			f->line_len = 0;
			fold_append(f, PC_INDENT);
		}
	}
	fold_append(f, word);
}

/* Pad with spaces to column (at least one space after the last field). */
static void
fold_column(struct folder *f, size_t column)
{
	if (f->line_len > 0)
		fold_append(f, " ");
	while (f->line_len < column)
		fold_append(f, " ");
}

/*
 * Command words after the first: under -f each "-o name=value" gets a line
 * of its own and the word after it starts a new one.
 */
static void
fold_arguments(struct folder *f, const struct argv *words,
	       const bool *is_setting)
{
	bool want_break = false;

	for (size_t i = 1; i < words->count; i++) {
		if (f->want_fold && i + 1 < words->count && is_setting[i + 1]) {
			fold_word(f, words->items[i], true);
			fold_append(f, " ");
			fold_append(f, words->items[++i]);
			want_break = true;
			continue;
		}
		fold_word(f, words->items[i], want_break);
		want_break = false;
	}
}

static void
print_entry(const struct postconf *pc, const struct master_service *svc)
{
	struct folder f = {.want_fold = pc->want_fold};
	bool *is_setting;
	struct argv *words = shown_words(pc, svc, &is_setting);

	strbuf_init(&f.text, STRBUF_UNLIMITED);
	for (int i = 0; i < MASTER_FIELD_COMMAND; i++) {
		fold_column(&f, column_start[i]);
		fold_append(&f, svc->fields[i]);
	}
	fold_column(&f, column_start[MASTER_FIELD_COMMAND]);
	fold_append(&f, words->items[0]);
	fold_arguments(&f, words, is_setting);
	puts(strbuf_text(&f.text));
	strbuf_deinit(&f.text);
	free(is_setting);
	argv_destroy(&words);
}

static void
show_entries(const struct postconf *pc, struct selector *sels, size_t count)
{
	const struct master_conf *master = pc->master;

	for (size_t i = 0; i < master->count; i++) {
		const struct master_service *svc = &master->services[i];

		if (count == 0)
			print_entry(pc, svc);
		for (size_t j = 0; j < count; j++) {
			if (!selector_matches(&sels[j], svc))
				continue;
			sels[j].is_matched = true;
			print_entry(pc, svc);
		}
	}
}

/*
 * "name = command words" for -F, folded like -M folds them under -f (-h:
 * the words alone).
 */
static void
print_command(const struct postconf *pc, const struct master_service *svc,
	      const char *name)
{
	struct folder f = {.want_fold = pc->want_fold};
	bool *is_setting;
	struct argv *words = shown_words(pc, svc, &is_setting);

	strbuf_init(&f.text, STRBUF_UNLIMITED);
	if (!pc->want_no_names) {
		fold_append(&f, name);
		fold_append(&f, " =");
	}
	fold_word(&f, words->items[0], false);
	fold_arguments(&f, words, is_setting);
	puts(strbuf_text(&f.text));
	strbuf_deinit(&f.text);
	free(is_setting);
	argv_destroy(&words);
}

static void
print_field(const struct postconf *pc, const struct master_service *svc,
	    int field)
{
	char *name = xasprintf("%s/%s/%s", svc->name, svc->type,
			       master_field_name(field));

	if (field == MASTER_FIELD_COMMAND && !pc->want_no_values)
		print_command(pc, svc, name);
	else
		pc_print_param(pc, name, svc->fields[field]);
	free(name);
}

static void
show_fields(const struct postconf *pc, struct selector *sels, size_t count)
{
	const struct master_conf *master = pc->master;

	for (size_t j = 0; j < count; j++)
		if (!part_matches(sels[j].parts[2], "*") &&
		    master_field_parse(sels[j].parts[2]) < 0)
			log_fatal("invalid service attribute name: \"%s\"",
				  sels[j].parts[2]);
	for (size_t i = 0; i < master->count; i++) {
		const struct master_service *svc = &master->services[i];

		for (size_t j = 0; j < (count ? count : 1); j++) {
			const char *part = count ? sels[j].parts[2] : NULL;

			if (count && !selector_matches(&sels[j], svc))
				continue;
			if (count)
				sels[j].is_matched = true;
			for (int field = 0; field < MASTER_FIELD_COUNT; field++)
				if (part_matches(part, master_field_name(field)))
					print_field(pc, svc, field);
		}
	}
}

/* An entry's settings, name -> last value given, sorted by name. */
static struct htable *
entry_settings(const struct master_service *svc)
{
	struct htable *settings = htable_create(16);

	for (size_t i = 0; i < svc->opt_count; i++)
		htable_set(settings, svc->opts[i].name, &svc->opts[i], NULL);
	return settings;
}

/* Print the settings of svc that part selects; true if any. */
static bool
print_settings(const struct postconf *pc, const struct master_service *svc,
	       const char *part)
{
	struct htable *settings = entry_settings(svc);
	struct htable_entry **entries = htable_entries(settings, true);
	struct mail_conf *conf = pc->want_expand && svc->opt_count > 0
					 ? service_conf(pc, svc)
					 : NULL;
	bool is_found = false;

	for (size_t i = 0; entries[i] != NULL; i++) {
		const struct master_opt *opt = entries[i]->value;
		char *name;
		char *value;

		if (!part_matches(part, opt->name))
			continue;
		is_found = true;
		name = xasprintf("%s/%s/%s", svc->name, svc->type, opt->name);
		value = setting_value(pc, conf, svc, opt);
		pc_print_param(pc, name, value);
		free(value);
		free(name);
	}
	mail_conf_destroy(&conf);
	free(entries);
	htable_destroy(&settings, NULL);
	return is_found;
}

static void
show_settings(const struct postconf *pc, struct selector *sels, size_t count)
{
	const struct master_conf *master = pc->master;

	for (size_t i = 0; i < master->count; i++) {
		const struct master_service *svc = &master->services[i];

		if (count == 0)
			print_settings(pc, svc, NULL);
		for (size_t j = 0; j < count; j++)
			if (selector_matches(&sels[j], svc) &&
			    print_settings(pc, svc, sels[j].parts[2]))
				sels[j].is_matched = true;
	}
}

void
pc_show_master(const struct postconf *pc, char **args)
{
	size_t count;
	struct selector *sels = parse_selectors(args, &count, pc->mode);

	if (pc->mode == PC_MODE_MASTER)
		show_entries(pc, sels, count);
	else if (pc->mode == PC_MODE_FIELDS)
		show_fields(pc, sels, count);
	else
		show_settings(pc, sels, count);
	warn_unmatched(sels, count);
	free_selectors(sels, count);
}
