/*
 * conf_check.c - Postfix's warnings about main.cf and master.cf together.
 *
 * Builds the name sets the checks need (the names services bring, the
 * names any -o sets, the names main.cf values refer to, and per service
 * its own -o names and references), then scans values with
 * conf_expand_refs, which sees every reference whether or not expansion
 * would reach it, as Postfix's scan does. Nothing here is fatal: these
 * are warnings about a configuration that still works.
 */
#include <stdlib.h>

#include "util/htable.h"
#include "util/log.h"
#include "util/mymalloc.h"

#include "global/conf_check.h"
#include "global/conf_expand.h"
#include "global/mail_params.h"

/* What the checks of one file (or one service) look names up in. */
struct check_ctx {
	struct mail_conf *conf;
	struct htable *derived;     /* names the services bring */
	struct htable *master_set;  /* names some -o sets */
	const struct htable *local; /* this service's -o names, or NULL */
	const char *where;          /* the file named in warnings */
};

static void
add_name(const char *name, size_t len, void *ctx)
{
	char *copy = xstrndup(name, len);

	htable_set(ctx, copy, NULL, NULL);
	free(copy);
}

void
conf_check_add_master_refs(struct mail_conf *conf,
			   const struct master_conf *master)
{
	for (size_t i = 0; i < master->count; i++) {
		const struct master_service *svc = &master->services[i];

		for (size_t j = 0; j < svc->opt_count; j++)
			mail_conf_add_refs(conf, svc->opts[j].value);
	}
}

/* Collects derived names once each: the set, and the list in order. */
struct derived_list {
	struct htable *seen;
	struct argv *names;
};

static void
add_derived(const char *name, const char *default_value, void *ctx)
{
	struct derived_list *list = ctx;

	(void)default_value;
	if (htable_insert(list->seen, name, NULL) == 0)
		argv_add(list->names, name);
}

struct argv *
conf_check_derived_names(const struct master_conf *master)
{
	struct derived_list list = { htable_create(256), argv_create() };

	master_conf_derived_params(master, add_derived, &list);
	htable_destroy(&list.seen, NULL);
	return list.names;
}

static struct htable *
name_set(const struct argv *names)
{
	struct htable *set = htable_create(256);

	for (size_t i = 0; i < names->count; i++)
		htable_set(set, names->items[i], NULL, NULL);
	return set;
}

/* Names that some -o of master sets. */
static struct htable *
master_settings(const struct master_conf *master)
{
	struct htable *set = htable_create(64);

	for (size_t i = 0; master != NULL && i < master->count; i++) {
		const struct master_service *svc = &master->services[i];

		for (size_t j = 0; j < svc->opt_count; j++)
			htable_set(set, svc->opts[j].name, NULL, NULL);
	}
	return set;
}

/* One service's -o names, each with its last value. */
static struct htable *
service_settings(const struct master_service *svc)
{
	struct htable *set = htable_create(16);

	for (size_t i = 0; i < svc->opt_count; i++)
		htable_set(set, svc->opts[i].name, svc->opts[i].value, NULL);
	return set;
}

static bool
has_value(const struct check_ctx *cc, const char *name)
{
	if (mail_conf_is_known(cc->conf, name) ||
	    htable_locate(cc->derived, name) != NULL)
		return true;
	if (cc->local != NULL)
		return htable_locate(cc->local, name) != NULL;
	return htable_locate(cc->master_set, name) != NULL;
}

static void
check_ref(const char *name, size_t len, void *ctx)
{
	const struct check_ctx *cc = ctx;
	char *copy = xstrndup(name, len);

	if (!has_value(cc, copy))
		log_warning("%s: undefined parameter: %s", cc->where, copy);
	free(copy);
}

static void
check_master_undefined(struct check_ctx *cc, const struct master_conf *master)
{
	cc->where = master->path;
	for (size_t i = 0; i < master->count; i++) {
		const struct master_service *svc = &master->services[i];
		struct htable *local = service_settings(svc);

		cc->local = local;
		for (size_t j = 0; j < svc->opt_count; j++)
			conf_expand_refs(svc->opts[j].value, check_ref, cc);
		cc->local = NULL;
		htable_destroy(&local, NULL);
	}
}

static void
check_main_undefined(struct check_ctx *cc)
{
	struct argv *names = mail_conf_names(cc->conf);

	cc->where = mail_conf_path(cc->conf);
	cc->local = NULL;
	for (size_t i = 0; i < names->count; i++)
		conf_expand_refs(mail_conf_raw(cc->conf, names->items[i]),
				 check_ref, cc);
	argv_destroy(&names);
}

/* Names that main.cf values refer to. */
static struct htable *
main_refs(const struct mail_conf *conf)
{
	struct argv *names = mail_conf_names(conf);
	struct htable *refs = htable_create(64);

	for (size_t i = 0; i < names->count; i++)
		conf_expand_refs(mail_conf_raw(conf, names->items[i]), add_name,
				 refs);
	argv_destroy(&names);
	return refs;
}

static bool
is_read(const struct check_ctx *cc, const char *name,
	const struct htable *from_main, const struct htable *from_service)
{
	return param_find(name) != NULL ||
	       htable_locate(cc->derived, name) != NULL ||
	       htable_locate(from_main, name) != NULL ||
	       htable_locate(from_service, name) != NULL;
}

/* Each -o name of svc once, in order of first appearance. */
static void
check_service_names(const struct check_ctx *cc,
		    const struct master_service *svc,
		    const struct htable *from_main)
{
	struct htable *settings = service_settings(svc);
	struct htable *refs = htable_create(16);

	for (size_t i = 0; i < svc->opt_count; i++)
		conf_expand_refs(svc->opts[i].value, add_name, refs);
	for (size_t i = 0; i < svc->opt_count; i++) {
		const char *name = svc->opts[i].name;
		const char *value = htable_find(settings, name);

		if (value == NULL) /* reported already */
			continue;
		if (!is_read(cc, name, from_main, refs))
			mail_conf_warn_unused(cc->where, name, value);
		htable_remove(settings, name, NULL);
	}
	htable_destroy(&refs, NULL);
	htable_destroy(&settings, NULL);
}

static void
check_master_names(struct check_ctx *cc, const struct master_conf *master)
{
	struct htable *from_main = main_refs(cc->conf);

	cc->where = master->path;
	for (size_t i = 0; i < master->count; i++)
		check_service_names(cc, &master->services[i], from_main);
	htable_destroy(&from_main, NULL);
}

void
conf_check_run(struct mail_conf *conf, const struct master_conf *master,
	       int flags)
{
	struct check_ctx cc = { .conf = conf };
	struct argv *derived_names;

	if (master != NULL) {
		conf_check_add_master_refs(conf, master);
		derived_names = conf_check_derived_names(master);
	} else {
		derived_names = argv_create();
	}
	cc.derived = name_set(derived_names);
	cc.master_set = master_settings(master);
	if ((flags & CONF_CHECK_UNDEFINED) && master != NULL)
		check_master_undefined(&cc, master);
	if (flags & CONF_CHECK_UNDEFINED)
		check_main_undefined(&cc);
	if (flags & CONF_CHECK_MAIN_NAMES)
		mail_conf_check_names(conf, derived_names);
	if ((flags & CONF_CHECK_MASTER_NAMES) && master != NULL)
		check_master_names(&cc, master);
	htable_destroy(&cc.master_set, NULL);
	htable_destroy(&cc.derived, NULL);
	argv_destroy(&derived_names);
}
