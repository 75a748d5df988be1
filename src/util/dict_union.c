/*
 * dict_union.c - tables built from other tables: unionmap: and pipemap:.
 *
 *     unionmap:{ type:name, type:name, ... }
 *         asks every table; the results found are joined with commas
 *         (not found if none is found, or all found results are empty)
 *     pipemap:{ type:name, type:name, ... }
 *         the result of each table is the key for the next; not found as
 *         soon as one table has no answer
 * A failing component makes the lookup fail. The components are opened
 * with the same flags and fold keys as they each see fit, so the key is
 * passed on unchanged. Nesting of braces in the name is limited to
 * DICT_MAX_NESTING levels, which bounds the recursion of dict_open.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "util/dict_types.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/tokens.h"

struct dict_union {
	struct dict dict; /* must be first */
	struct dict **maps;
	size_t count;
	struct strbuf result; /* unionmap: the joined results */
};

static int
brace_depth(const char *text)
{
	int depth = 0;
	int max_depth = 0;

	for (; *text; text++) {
		if (*text == '{' && ++depth > max_depth)
			max_depth = depth;
		else if (*text == '}' && depth > 0)
			depth--;
	}
	return max_depth;
}

static void
union_close(struct dict *dict)
{
	struct dict_union *du = (struct dict_union *)dict;

	for (size_t i = 0; i < du->count; i++)
		dict_close(&du->maps[i]);
	free(du->maps);
	strbuf_deinit(&du->result);
	dict_free(dict);
}

static void
add_map(struct dict_union *du, struct dict *map)
{
	du->maps = xreallocarray(du->maps, du->count + 1, sizeof(*du->maps));
	du->maps[du->count++] = map;
}

/* Open each "type:name" inside the braces of copy. */
static int
open_components(struct dict_union *du, char *copy, int dict_flags,
		struct err *err)
{
	size_t len = strlen(copy);
	char *cursor;
	char *spec;

	if (copy[0] != '{' || len < 2 || copy[len - 1] != '}' ||
	    (cursor = str_unbrace(copy, NULL)) == NULL ||
	    str_is_blank(cursor)) {
		err_set(err,
			"bad syntax: \"%s:%s\"; need \"%s:{type:name...}\"",
			du->dict.type, du->dict.name, du->dict.type);
		return -1;
	}
	while ((spec = str_token_braced(&cursor, TOKENS_LIST_DELIMS))) {
		struct dict *map = dict_open(spec, du->dict.open_flags,
					     dict_flags, err);

		if (map == NULL)
			return -1;
		add_map(du, map);
	}
	return 0;
}

static struct dict *
union_open(const char *type, const char *name, int open_flags,
	   int dict_flags, struct err *err)
{
	struct dict_union *du;
	char *copy;
	int ret;

	if ((open_flags & O_ACCMODE) != O_RDONLY) {
		err_set(err, "%s:%s map requires O_RDONLY access mode", type,
			name);
		return NULL;
	}
	if (brace_depth(name) > DICT_MAX_NESTING) {
		err_set(err, "%s:%s: tables nested deeper than %d levels",
			type, name, DICT_MAX_NESTING);
		return NULL;
	}
	du = (struct dict_union *)dict_alloc(type, name, sizeof(*du),
					     open_flags,
					     dict_flags & ~DICT_FLAG_FOLD_FIX);
	strbuf_init(&du->result, DICT_MAX_VALUE_LEN);
	du->dict.close = union_close;
	copy = xstrdup(name);
	ret = open_components(du, copy, dict_flags, err);
	free(copy);
	if (ret < 0) {
		union_close(&du->dict);
		return NULL;
	}
	return &du->dict;
}

/* Append one found result: a comma goes first unless nothing is there. */
static int
union_append(struct dict_union *du, const char *value, struct err *err)
{
	if ((strbuf_len(&du->result) > 0 &&
	     strbuf_append_char(&du->result, ',') < 0) ||
	    strbuf_append_str(&du->result, value) < 0) {
		err_set(err, "%s:%s: result longer than %zu bytes",
			du->dict.type, du->dict.name, du->result.limit);
		return -1;
	}
	return 0;
}

static int
unionmap_lookup(struct dict *dict, const char *key, const char **value_out,
		struct err *err)
{
	struct dict_union *du = (struct dict_union *)dict;
	const char *value;

	strbuf_reset(&du->result);
	for (size_t i = 0; i < du->count; i++) {
		switch (dict_lookup(du->maps[i], key, &value, err)) {
		case DICT_FOUND:
			if (union_append(du, value, err) < 0)
				return DICT_ERROR;
			break;
		case DICT_NOTFOUND:
			break;
		default:
			return DICT_ERROR;
		}
	}
	if (strbuf_len(&du->result) == 0)
		return DICT_NOTFOUND;
	*value_out = strbuf_text(&du->result);
	return DICT_FOUND;
}

static int
pipemap_lookup(struct dict *dict, const char *key, const char **value_out,
	       struct err *err)
{
	struct dict_union *du = (struct dict_union *)dict;
	const char *stage_key = key;
	const char *value = NULL;

	for (size_t i = 0; i < du->count; i++) {
		int ret = dict_lookup(du->maps[i], stage_key, &value, err);
		if (ret != DICT_FOUND)
			return ret;
		stage_key = value;
	}
	*value_out = value;
	return DICT_FOUND;
}

struct dict *
dict_unionmap_open(const char *name, int open_flags, int dict_flags,
		   struct err *err)
{
	struct dict *dict = union_open("unionmap", name, open_flags,
				       dict_flags, err);

	if (dict != NULL)
		dict->lookup = unionmap_lookup;
	return dict;
}

struct dict *
dict_pipemap_open(const char *name, int open_flags, int dict_flags,
		  struct err *err)
{
	struct dict *dict = union_open("pipemap", name, open_flags,
				       dict_flags, err);

	if (dict != NULL)
		dict->lookup = pipemap_lookup;
	return dict;
}
