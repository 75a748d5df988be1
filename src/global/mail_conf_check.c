/*
 * mail_conf_check.c - warnings about main.cf names nobody will read.
 *
 * A name in main.cf is fine if mail_params declares it, if another value
 * (or a master.cf -o value) refers to it as $name (a user-defined
 * variable), or if it is a per-transport name that a master.cf service
 * brings ("relay_destination_concurrency_limit"). Otherwise it is a Postfix
 * name Postern does not implement yet, a likely misspelling (the closest
 * known name is suggested), or simply unused, as Postfix calls it.
 */
#include <stdlib.h>
#include <string.h>

#include "util/htable.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

#include "global/mail_conf.h"
#include "global/mail_params.h"

/* Names longer than this get no suggestion (no parameter is that long). */
#define SUGGEST_MAX_LEN 64

static size_t
min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/*
 * Edit distance counting insertions, deletions, substitutions and swaps
 * of adjacent characters (optimal string alignment). Both strings are at
 * most SUGGEST_MAX_LEN long.
 */
size_t
mail_conf_edit_distance(const char *a, const char *b)
{
	size_t alen = strlen(a), blen = strlen(b);
	size_t rows[3][SUGGEST_MAX_LEN + 1];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2], *tmp;

	if (alen > SUGGEST_MAX_LEN || blen > SUGGEST_MAX_LEN)
		return (size_t)-1;
	for (size_t j = 0; j <= blen; j++)
		prev[j] = j;
	for (size_t i = 1; i <= alen; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= blen; j++) {
			size_t cost = a[i - 1] != b[j - 1];

			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1,
				      prev[j - 1] + cost);
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
		}
		tmp = prev2;
		prev2 = prev;
		prev = cur;
		cur = tmp;
	}
	return prev[blen];
}

/* How far a name may be from a known one and still be suggested. */
static size_t
max_distance(size_t len)
{
	return len < 4 ? 0 : len < 6 ? 1 : 2;
}

struct suggestion {
	const char *name;
	size_t distance;
};

static void
consider(struct suggestion *best, const char *typo, size_t typo_len,
	 const char *known)
{
	size_t known_len = strlen(known);
	size_t distance;

	/* The length difference alone is a lower bound of the distance. */
	if ((typo_len > known_len ? typo_len - known_len
				  : known_len - typo_len) >= best->distance)
		return;
	distance = mail_conf_edit_distance(typo, known);

	if (distance < best->distance)
		*best = (struct suggestion){known, distance};
}

const char *
mail_conf_suggest_name(const char *name)
{
	size_t len = strlen(name);
	struct suggestion best = {NULL, max_distance(len) + 1};
	size_t count;
	const struct param_def *table;
	const char *const *names;

	if (len > SUGGEST_MAX_LEN)
		return NULL;
	/* Declared names first: on a tie they win. */
	table = param_table(&count);
	for (size_t i = 0; i < count; i++)
		consider(&best, name, len, table[i].name);
	names = param_postfix_names(&count);
	for (size_t i = 0; i < count; i++)
		consider(&best, name, len, names[i]);
	return best.name;
}

void
mail_conf_warn_unused(const char *file, const char *name, const char *value)
{
	const char *suggestion;

	if (param_is_postfix_name(name))
		log_warning("%s: parameter %s is not supported yet", file,
			    name);
	else if ((suggestion = mail_conf_suggest_name(name)) != NULL)
		log_warning("%s: unknown parameter: %s=%s (did you mean %s?)",
			    file, name, value, suggestion);
	else
		log_warning("%s: unused parameter: %s=%s", file, name, value);
}

static void
check_name(struct mail_conf *conf, const char *name,
	   const struct htable *derived)
{
	if (mail_conf_lineno(conf, name) == 0 || param_find(name) != NULL ||
	    mail_conf_is_referenced(conf, name) ||
	    htable_locate(derived, name) != NULL)
		return;
	mail_conf_warn_unused(mail_conf_path(conf), name,
			      mail_conf_raw(conf, name));
}

void
mail_conf_check_names(struct mail_conf *conf, const struct argv *derived_names)
{
	struct argv *names = mail_conf_names(conf);
	struct htable *derived = htable_create(256);

	for (size_t i = 0; derived_names != NULL && i < derived_names->count;
	     i++)
		htable_set(derived, derived_names->items[i], NULL, NULL);
	for (size_t i = 0; i < names->count; i++)
		check_name(conf, names->items[i], derived);
	htable_destroy(&derived, NULL);
	argv_destroy(&names);
}
