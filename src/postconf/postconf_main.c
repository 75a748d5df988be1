/*
 * postconf_main.c - postconf's main.cf listings: all, -n, -d, or by name.
 *
 * The parameters in effect are the declared ones (mail_params), those that
 * master.cf services bring (relay_destination_concurrency_limit), the
 * user-defined names main.cf sets and something refers to as $name (in
 * main.cf or in a master.cf -o value), and Postfix parameters that Postern
 * does not implement yet but main.cf sets: those are shown as set, since an
 * administrator comparing "postconf -n" output expects to see them, but
 * they have no default here. Output is sorted by name, or in the order
 * asked for.
 */
#include <stdlib.h>
#include <string.h>

#include "util/htable.h"
#include "util/log.h"
#include "util/mymalloc.h"

#include "global/mail_conf.h"
#include "global/mail_params.h"
#include "global/master_conf.h"

#include "postconf/postconf.h"

enum param_kind {
	KIND_DECLARED,    /* in mail_params */
	KIND_DERIVED,     /* from a master.cf service */
	KIND_USER,        /* user-defined, set and referenced */
	KIND_UNSUPPORTED, /* a Postfix name Postern lacks, set in main.cf */
};

struct known {
	enum param_kind kind;
	char *default_value; /* KIND_DERIVED only */
};

static void
known_free(void *ptr)
{
	struct known *known = ptr;

	free(known->default_value);
	free(known);
}

static void
add_known(struct htable *table, const char *name, enum param_kind kind,
	  const char *default_value)
{
	struct known *known = xmalloc(sizeof(*known));

	known->kind = kind;
	known->default_value = default_value ? xstrdup(default_value) : NULL;
	if (htable_insert(table, name, known) < 0)
		known_free(known);
}

static void
add_derived(const char *name, const char *default_value, void *ctx)
{
	if (param_find(name) == NULL)
		add_known(ctx, name, KIND_DERIVED, default_value);
}

/* Names main.cf sets that are not declared or derived. */
static void
add_set_names(struct postconf *pc, struct htable *table)
{
	struct argv *names = mail_conf_names(pc->conf);

	for (size_t i = 0; i < names->count; i++) {
		const char *name = names->items[i];

		if (htable_locate(table, name) != NULL)
			continue;
		/* Also referred to by master.cf: conf_check_add_master_refs. */
		if (mail_conf_is_user_param(pc->conf, name))
			add_known(table, name, KIND_USER, NULL);
		else if (param_is_postfix_name(name))
			add_known(table, name, KIND_UNSUPPORTED, NULL);
	}
	argv_destroy(&names);
}

static struct htable *
known_params(struct postconf *pc)
{
	struct htable *table = htable_create(1024);
	size_t count;
	const struct param_def *defs = param_table(&count);

	for (size_t i = 0; i < count; i++)
		add_known(table, defs[i].name, KIND_DECLARED, NULL);
	if (pc->master != NULL)
		master_conf_derived_params(pc->master, add_derived, table);
	add_set_names(pc, table);
	return table;
}

static bool
has_default(const struct known *known)
{
	return known->kind == KIND_DECLARED || known->kind == KIND_DERIVED;
}

static const char *
default_of(struct postconf *pc, const char *name, const struct known *known)
{
	if (known->kind == KIND_DERIVED)
		return known->default_value;
	return mail_conf_default(pc->conf, name);
}

/* -d shows defaults, -n what main.cf sets, otherwise either. */
static bool
is_wanted(struct postconf *pc, const char *name, const struct known *known)
{
	if (pc->want_defaults)
		return has_default(known);
	if (pc->want_nondefault)
		return mail_conf_raw(pc->conf, name) != NULL;
	return true;
}

static void
show_param(struct postconf *pc, struct mail_conf *expand_conf,
	   const char *name, const struct known *known)
{
	const char *value = NULL;
	char *expanded = NULL;

	if (!pc->want_defaults)
		value = mail_conf_raw(pc->conf, name);
	if (value == NULL)
		value = default_of(pc, name, known);
	if (pc->want_expand && value != NULL)
		value = expanded = pc_expand(expand_conf,
					     mail_conf_path(pc->conf), name,
					     value);
	pc_print_param(pc, name, value);
	free(expanded);
}

/*
 * The configuration -x expands in: main.cf, or for -d the defaults alone.
 * Sets *owned_out to what the caller must destroy.
 */
static struct mail_conf *
expansion_conf(struct postconf *pc, struct mail_conf **owned_out)
{
	*owned_out = NULL;
	if (!pc->want_expand)
		return NULL;
	if (!pc->want_defaults)
		return pc->conf;
	return *owned_out = mail_conf_create(pc->config_dir);
}

/* A name asked for that is not (or, for -d, has no default) here. */
static void
warn_not_shown(const char *name, const struct known *known)
{
	if ((known != NULL && known->kind == KIND_UNSUPPORTED) ||
	    (known == NULL && param_is_postfix_name(name)))
		log_warning("%s: parameter is not supported yet", name);
	else
		log_warning("%s: unknown parameter", name);
}

static void
show_all(struct postconf *pc, struct htable *table,
	 struct mail_conf *expand_conf)
{
	struct htable_entry **entries = htable_entries(table, true);

	for (size_t i = 0; entries[i] != NULL; i++)
		if (is_wanted(pc, entries[i]->key, entries[i]->value))
			show_param(pc, expand_conf, entries[i]->key,
				   entries[i]->value);
	free(entries);
}

void
pc_show_main(struct postconf *pc, char **args)
{
	struct htable *table = known_params(pc);
	struct mail_conf *owned;
	struct mail_conf *expand_conf = expansion_conf(pc, &owned);

	if (*args == NULL)
		show_all(pc, table, expand_conf);
	for (; *args != NULL; args++) {
		const struct known *known = htable_find(table, *args);

		if (known == NULL || (pc->want_defaults && !has_default(known)))
			warn_not_shown(*args, known);
		else if (is_wanted(pc, *args, known))
			show_param(pc, expand_conf, *args, known);
	}
	mail_conf_destroy(&owned);
	htable_destroy(&table, known_free);
}
