/*
 * dict_open.c - the lookup-table framework: type registry and dispatch.
 *
 * Parses "type:name", finds the type's open function, and wraps every
 * operation with the checks all types share: key folding, key length
 * limits, and "not supported" answers for methods a type lacks.
 */
#include <stdlib.h>
#include <string.h>

#include "util/dict.h"
#include "util/dict_types.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

struct dict_type {
	const char *name;
	dict_open_fn *open;
};

/* Sorted by name: postconf -m lists them in this order. */
static const struct dict_type dict_types[] = {
	{ "btree", dict_btree_open },
	{ "cidr", dict_cidr_open },
	{ "environ", dict_environ_open },
	{ "fail", dict_fail_open },
	{ "hash", dict_hash_open },
	{ "inline", dict_inline_open },
	{ "lmdb", dict_lmdb_open },
	{ "pcre", dict_pcre_open },
	{ "pipemap", dict_pipemap_open },
	{ "regexp", dict_regexp_open },
	{ "static", dict_static_open },
	{ "texthash", dict_texthash_open },
	{ "unionmap", dict_unionmap_open },
};

#define DICT_TYPE_COUNT (sizeof(dict_types) / sizeof(dict_types[0]))

static const struct dict_type *
find_type(const char *name)
{
	for (size_t i = 0; i < DICT_TYPE_COUNT; i++)
		if (strcmp(dict_types[i].name, name) == 0)
			return &dict_types[i];
	return NULL;
}

const char *const *
dict_type_names(void)
{
	static const char *names[DICT_TYPE_COUNT + 1];

	for (size_t i = 0; i < DICT_TYPE_COUNT; i++)
		names[i] = dict_types[i].name;
	return names;
}

bool
dict_type_is_known(const char *type)
{
	return find_type(type) != NULL;
}

struct dict *
dict_open3(const char *type, const char *name, int open_flags,
	   int dict_flags, struct err *err)
{
	const struct dict_type *dt = find_type(type);

	if (dt == NULL) {
		err_set(err, "unsupported dictionary type: %s", type);
		return NULL;
	}
	return dt->open(name, open_flags, dict_flags, err);
}

struct dict *
dict_open(const char *spec, int open_flags, int dict_flags, struct err *err)
{
	const char *colon = strchr(spec, ':');
	struct dict *dict;
	char *type;

	if (colon == NULL || colon == spec) {
		err_set(err, "need dictionary type:name, not \"%s\"", spec);
		return NULL;
	}
	type = xstrndup(spec, (size_t)(colon - spec));
	dict = dict_open3(type, colon + 1, open_flags, dict_flags, err);
	free(type);
	return dict;
}

void
dict_close(struct dict **dictp)
{
	if (*dictp == NULL)
		return;
	(*dictp)->close(*dictp);
	*dictp = NULL;
}

struct dict *
dict_alloc(const char *type, const char *name, size_t size, int open_flags,
	   int dict_flags)
{
	struct dict *dict;

	if (size < sizeof(struct dict))
		size = sizeof(struct dict);
	dict = xmalloc(size);
	dict->type = xstrdup(type);
	dict->name = xstrdup(name);
	dict->open_flags = open_flags;
	dict->flags = dict_flags;
	dict->close = dict_free;
	return dict;
}

void
dict_free(struct dict *dict)
{
	free(dict->type);
	free(dict->name);
	strbuf_destroy(&dict->fold_buf);
	free(dict);
}

static int
unsupported(struct dict *dict, const char *what, struct err *err)
{
	err_set(err, "%s:%s: %s is not supported by %s tables", dict->type,
		dict->name, what, dict->type);
	return DICT_ERROR;
}

/* The key as the table stores it: folded if the table folds. NULL if the
 * key is too long to be in any table. */
static const char *
prepare_key(struct dict *dict, const char *key, struct err *err)
{
	size_t len = strlen(key);

	if (len > DICT_MAX_KEY_LEN) {
		err_set(err, "%s:%s: lookup key longer than %d bytes",
			dict->type, dict->name, DICT_MAX_KEY_LEN);
		return NULL;
	}
	if (!(dict->flags & DICT_FLAG_FOLD_FIX))
		return key;
	if (dict->fold_buf == NULL)
		dict->fold_buf = strbuf_create(DICT_MAX_KEY_LEN);
	strbuf_reset(dict->fold_buf);
	for (size_t i = 0; i < len; i++) {
		char ch = key[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		strbuf_append_char(dict->fold_buf, ch);
	}
	return strbuf_text(dict->fold_buf);
}

int
dict_lookup(struct dict *dict, const char *key, const char **value_out,
	    struct err *err)
{
	const char *folded;

	*value_out = NULL;
	if (dict->lookup == NULL)
		return unsupported(dict, "lookup", err);
	if ((folded = prepare_key(dict, key, err)) == NULL)
		return DICT_ERROR;
	return dict->lookup(dict, folded, value_out, err);
}

int
dict_update(struct dict *dict, const char *key, const char *value,
	    struct err *err)
{
	const char *folded;

	if (dict->update == NULL)
		return unsupported(dict, "update", err);
	if ((folded = prepare_key(dict, key, err)) == NULL)
		return DICT_ERROR;
	if (strlen(value) > DICT_MAX_VALUE_LEN) {
		err_set(err, "%s:%s: value for \"%s\" longer than %d bytes",
			dict->type, dict->name, key, DICT_MAX_VALUE_LEN);
		return DICT_ERROR;
	}
	return dict->update(dict, folded, value, err);
}

int
dict_remove(struct dict *dict, const char *key, struct err *err)
{
	const char *folded;

	if (dict->remove == NULL)
		return unsupported(dict, "delete", err);
	if ((folded = prepare_key(dict, key, err)) == NULL)
		return DICT_ERROR;
	return dict->remove(dict, folded, err);
}

int
dict_sequence(struct dict *dict, enum dict_seq how, const char **key_out,
	      const char **value_out, struct err *err)
{
	*key_out = *value_out = NULL;
	if (dict->sequence == NULL)
		return unsupported(dict, "sequence", err);
	return dict->sequence(dict, how, key_out, value_out, err);
}

int
dict_sync(struct dict *dict, struct err *err)
{
	if (dict->sync == NULL)
		return 0;
	return dict->sync(dict, err);
}
