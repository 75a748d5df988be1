/*
 * mail_conf.c - main.cf loaded, kept raw, and expanded on demand.
 *
 * Holds the name = value pairs of one main.cf (plus -o overrides) exactly
 * as written. A value is expanded the first time it is asked for, by
 * conf_expand.c with this file supplying raw values: main.cf's, else the
 * declared default (computed ones computed once). Expanded values are
 * cached and stay valid for the life of the conf, even across
 * mail_conf_set, which only retires them. The typed getters are in
 * mail_conf_get.c and the name checks in mail_conf_check.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/htable.h"
#include "util/line_reader.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

#include "global/conf_expand.h"
#include "global/mail_conf.h"
#include "global/mail_params.h"

struct conf_entry {
	char *value;
	int lineno; /* main.cf line, 0 if set otherwise */
};

/* Strings handed out once and kept until the conf goes. */
struct retired {
	char **items;
	size_t count;
	size_t cap;
};

struct mail_conf {
	char *dir;
	char *path;
	struct htable *entries;   /* name -> struct conf_entry */
	struct argv *order;       /* names, in order of first appearance */
	struct htable *cache;     /* name -> expanded value */
	struct htable *defaults;  /* name -> computed default */
	struct htable *computing; /* names whose default is being computed */
	struct htable *refs;      /* names referenced as $name, or NULL */
	struct htable *extra_refs; /* names mail_conf_add_refs recorded */
	struct retired retired;
	bool want_undefined_warnings;
};

static void
entry_free(void *ptr)
{
	struct conf_entry *entry = ptr;

	free(entry->value);
	free(entry);
}

struct mail_conf *
mail_conf_create(const char *config_dir)
{
	struct mail_conf *conf = xmalloc(sizeof(*conf));

	if (config_dir == NULL)
		config_dir = MAIL_CONF_DEFAULT_DIR;
	conf->dir = xstrdup(config_dir);
	conf->path = xasprintf("%s/main.cf", config_dir);
	conf->entries = htable_create(64);
	conf->order = argv_create();
	conf->cache = htable_create(64);
	conf->defaults = htable_create(8);
	conf->computing = htable_create(8);
	conf->extra_refs = htable_create(16);
	return conf;
}

void
mail_conf_destroy(struct mail_conf **confp)
{
	struct mail_conf *conf = *confp;

	if (conf == NULL)
		return;
	free(conf->dir);
	free(conf->path);
	htable_destroy(&conf->entries, entry_free);
	argv_destroy(&conf->order);
	htable_destroy(&conf->cache, free);
	htable_destroy(&conf->defaults, free);
	htable_destroy(&conf->computing, NULL);
	htable_destroy(&conf->refs, NULL);
	htable_destroy(&conf->extra_refs, NULL);
	for (size_t i = 0; i < conf->retired.count; i++)
		free(conf->retired.items[i]);
	free(conf->retired.items);
	free(conf);
	*confp = NULL;
}

const char *
mail_conf_dir(const struct mail_conf *conf)
{
	return conf->dir;
}

const char *
mail_conf_path(const struct mail_conf *conf)
{
	return conf->path;
}

void
mail_conf_warn_undefined(struct mail_conf *conf, bool want)
{
	conf->want_undefined_warnings = want;
}

static void
retire(void *value, void *ctx)
{
	struct retired *retired = ctx;

	if (retired->count == retired->cap) {
		retired->cap = retired->cap ? retired->cap * 2 : 16;
		retired->items =
		    xreallocarray(retired->items, retired->cap, sizeof(char *));
	}
	retired->items[retired->count++] = value;
}

/* Move every value of *htp to the retired list and empty the table. */
static void
retire_all(struct htable **htp, struct retired *retired)
{
	struct htable_entry **entries;

	if (htable_count(*htp) == 0)
		return;
	entries = htable_entries(*htp, false);
	for (size_t i = 0; entries[i] != NULL; i++)
		retire(entries[i]->value, retired);
	free(entries);
	htable_destroy(htp, NULL);
	*htp = htable_create(16);
}

/* A value changed: every expansion or computed default may depend on it. */
static void
forget_expansions(struct mail_conf *conf)
{
	retire_all(&conf->cache, &conf->retired);
	retire_all(&conf->defaults, &conf->retired);
	htable_destroy(&conf->refs, NULL);
}

/* Store name = value; returns the entry it replaced, or NULL. */
static struct conf_entry *
store(struct mail_conf *conf, const char *name, const char *value, int lineno)
{
	struct conf_entry *old = htable_find(conf->entries, name);
	struct conf_entry *entry = xmalloc(sizeof(*entry));

	entry->value = xstrdup(value);
	entry->lineno = lineno;
	if (old == NULL) {
		argv_add(conf->order, name);
		htable_insert(conf->entries, name, entry);
		return NULL;
	}
	htable_remove(conf->entries, name, NULL);
	htable_insert(conf->entries, name, entry);
	return old;
}

void
mail_conf_set(struct mail_conf *conf, const char *name, const char *value)
{
	struct conf_entry *old = store(conf, name, value, 0);

	if (old != NULL)
		entry_free(old);
	forget_expansions(conf);
}

/*
 * Split a copy of line as Postfix does: the name runs to white space or
 * '=', and only white space may come between it and the '='. Messages
 * quote the line as written.
 */
static int
split_line(const char *line, char *copy, char **name_out, char **value_out,
	   struct err *err)
{
	char *p = copy;

	while (*p && *p != '=' && !isspace((unsigned char)*p))
		p++;
	if (p == copy) {
		err_set(err, "missing attribute name: \"%s\"", line);
		return -1;
	}
	*name_out = copy;
	while (isspace((unsigned char)*p))
		*p++ = 0;
	if (*p != '=') {
		err_set(err, "missing '=' after attribute name: \"%s\"", line);
		return -1;
	}
	*p++ = 0;
	*value_out = str_trim(p);
	return 0;
}

/* One logical line of main.cf; warns when it overrides an earlier one. */
static int
load_line(struct mail_conf *conf, struct line_reader *lr, const char *line,
	  struct err *err)
{
	char *copy = xstrdup(line);
	char *name, *value;
	struct conf_entry *old;
	int ret = 0;

	if (split_line(line, copy, &name, &value, err) < 0) {
		err_prefix(err, "%s, line %d", line_reader_name(lr),
			   line_reader_lineno(lr));
		ret = -1;
	} else if ((old = store(conf, name, value, line_reader_lineno(lr))) !=
		   NULL) {
		log_warning("%s, line %d: overriding earlier entry: %s=%s",
			    line_reader_name(lr), line_reader_lineno(lr), name,
			    old->value);
		entry_free(old);
	}
	free(copy);
	return ret;
}

static int
load_lines(struct mail_conf *conf, struct line_reader *lr, struct err *err)
{
	struct strbuf line;
	int ret;

	strbuf_init(&line, LINE_READER_MAX_LOGICAL);
	while ((ret = line_reader_next(lr, &line, err)) > 0)
		if ((ret = load_line(conf, lr, line.data, err)) < 0)
			break;
	strbuf_deinit(&line);
	return ret;
}

/* As Postfix does, an indented first line is skipped with a warning. */
static void
warn_skipped(void *ctx, const char *warning)
{
	(void)ctx;
	log_warning("%s", warning);
}

static struct line_reader *
main_cf_reader(struct line_reader *lr)
{
	if (lr != NULL)
		line_reader_skip_leading_space(lr, warn_skipped, NULL);
	return lr;
}

static const char *
choose_dir(const char *config_dir)
{
	if (config_dir == NULL || *config_dir == 0)
		config_dir = getenv("MAIL_CONFIG");
	if (config_dir == NULL || *config_dir == 0)
		config_dir = MAIL_CONF_DEFAULT_DIR;
	return config_dir;
}

static struct mail_conf *
conf_for_loading(const char *config_dir)
{
	struct mail_conf *conf = mail_conf_create(config_dir);

	/* As Postfix does: another directory becomes an explicit setting. */
	if (strcmp(config_dir, MAIL_CONF_DEFAULT_DIR) != 0)
		store(conf, "config_directory", config_dir, 0);
	return conf;
}

struct mail_conf *
mail_conf_load(const char *config_dir, struct err *err)
{
	struct mail_conf *conf = conf_for_loading(choose_dir(config_dir));
	struct line_reader *lr =
	    main_cf_reader(line_reader_open(conf->path, err));

	if (lr == NULL || load_lines(conf, lr, err) < 0)
		mail_conf_destroy(&conf);
	line_reader_close(&lr);
	return conf;
}

struct mail_conf *
mail_conf_load_stream(const char *config_dir, FILE *fp, struct err *err)
{
	struct mail_conf *conf = conf_for_loading(choose_dir(config_dir));
	struct line_reader *lr =
	    main_cf_reader(line_reader_from_stream(fp, conf->path));

	if (load_lines(conf, lr, err) < 0)
		mail_conf_destroy(&conf);
	line_reader_close(&lr);
	return conf;
}

const char *
mail_conf_raw(const struct mail_conf *conf, const char *name)
{
	const struct conf_entry *entry = htable_find(conf->entries, name);

	return entry != NULL ? entry->value : NULL;
}

int
mail_conf_lineno(const struct mail_conf *conf, const char *name)
{
	const struct conf_entry *entry = htable_find(conf->entries, name);

	return entry != NULL ? entry->lineno : 0;
}

struct argv *
mail_conf_names(const struct mail_conf *conf)
{
	struct argv *names = argv_create();

	for (size_t i = 0; i < conf->order->count; i++)
		argv_add(names, conf->order->items[i]);
	return names;
}

/* Compute a default once; a default that needs itself is an error. */
static int
compute_default(struct mail_conf *conf, const struct param_def *def,
		const char **value_out, struct err *err)
{
	char *value = htable_find(conf->defaults, def->name);

	if (value == NULL) {
		if (htable_locate(conf->computing, def->name) != NULL) {
			err_set(err, "default value depends on itself");
			return -1;
		}
		htable_insert(conf->computing, def->name, NULL);
		value = def->compute_default(conf, err);
		htable_remove(conf->computing, def->name, NULL);
		if (value == NULL) {
			err_prefix(err, "parameter %s", def->name);
			return -1;
		}
		htable_set(conf->defaults, def->name, value, free);
	}
	*value_out = value;
	return 0;
}

/* Raw value for the expander: main.cf, else the default; 0 if neither. */
static int
lookup_raw(struct mail_conf *conf, const char *name, const char **value_out,
	   struct err *err)
{
	const struct conf_entry *entry = htable_find(conf->entries, name);
	const struct param_def *def;

	if (entry != NULL) {
		*value_out = entry->value;
		return 1;
	}
	if ((def = param_find(name)) == NULL)
		return 0;
	if (def->compute_default == NULL) {
		*value_out = def->default_value;
		return 1;
	}
	return compute_default(conf, def, value_out, err) < 0 ? -1 : 1;
}

static int
expand_lookup(void *ctx, const char *name, const char **value_out,
	      struct err *err)
{
	struct mail_conf *conf = ctx;
	int ret = lookup_raw(conf, name, value_out, err);

	if (ret == 0 && conf->want_undefined_warnings)
		log_warning("%s: undefined parameter: %s", conf->path, name);
	return ret;
}

const char *
mail_conf_default(struct mail_conf *conf, const char *name)
{
	const struct param_def *def = param_find(name);
	const char *value;
	struct err err;

	if (def == NULL)
		return NULL;
	if (def->compute_default == NULL)
		return def->default_value;
	if (compute_default(conf, def, &value, &err) < 0) {
		log_warning("%s: %s", conf->path, err.text);
		return "";
	}
	return value;
}

static int
expand_text(struct mail_conf *conf, const char *name, const char *text,
	    struct strbuf *out, struct err *err)
{
	const struct conf_expand_ops ops = {
	    .lookup = expand_lookup,
	    .ctx = conf,
	    .max_depth = MAIL_CONF_MAX_DEPTH,
	};

	return conf_expand(&ops, name, text, out, err);
}

int
mail_conf_expand(struct mail_conf *conf, const char *text, struct strbuf *out,
		 struct err *err)
{
	return expand_text(conf, NULL, text, out, err);
}

int
mail_conf_get(struct mail_conf *conf, const char *name, const char **value_out,
	      struct err *err)
{
	const char *raw;
	char *value = htable_find(conf->cache, name);
	struct strbuf out;
	int ret;

	if (value != NULL) {
		*value_out = value;
		return 0;
	}
	if ((ret = lookup_raw(conf, name, &raw, err)) < 0)
		return -1;
	if (ret == 0) {
		err_set(err, "parameter %s: not defined", name);
		return -1;
	}
	strbuf_init(&out, MAIL_CONF_MAX_VALUE);
	ret = expand_text(conf, name, raw, &out, err);
	if (ret == 0) {
		value = xstrdup(strbuf_text(&out));
		htable_set(conf->cache, name, value, free);
		*value_out = value;
	}
	strbuf_deinit(&out);
	return ret;
}

static void
add_ref(const char *name, size_t len, void *ctx)
{
	struct htable *refs = ctx;
	char *copy = xstrndup(name, len);

	htable_set(refs, copy, NULL, NULL);
	free(copy);
}

/* Every name referenced by a main.cf value or a declared default. */
static struct htable *
collect_refs(const struct mail_conf *conf)
{
	struct htable *refs = htable_create(64);
	struct htable_entry **entries = htable_entries(conf->entries, false);
	size_t count;
	const struct param_def *table = param_table(&count);

	for (size_t i = 0; entries[i] != NULL; i++) {
		const struct conf_entry *entry = entries[i]->value;

		conf_expand_refs(entry->value, add_ref, refs);
	}
	free(entries);
	for (size_t i = 0; i < count; i++)
		if (table[i].default_value != NULL)
			conf_expand_refs(table[i].default_value, add_ref, refs);
	return refs;
}

void
mail_conf_add_refs(struct mail_conf *conf, const char *text)
{
	conf_expand_refs(text, add_ref, conf->extra_refs);
}

bool
mail_conf_is_referenced(struct mail_conf *conf, const char *name)
{
	if (htable_locate(conf->extra_refs, name) != NULL)
		return true;
	if (conf->refs == NULL)
		conf->refs = collect_refs(conf);
	return htable_locate(conf->refs, name) != NULL;
}

bool
mail_conf_is_known(const struct mail_conf *conf, const char *name)
{
	return htable_locate(conf->entries, name) != NULL ||
	       param_find(name) != NULL || param_is_postfix_name(name);
}

bool
mail_conf_is_user_param(struct mail_conf *conf, const char *name)
{
	return htable_locate(conf->entries, name) != NULL &&
	       param_find(name) == NULL && mail_conf_is_referenced(conf, name);
}
