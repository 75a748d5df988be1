/*
 * dict_inline.c - inline: tables, written out in the table name.
 *
 *     inline:{ key=value, key2=value2, { key3 = text with spaces } }
 *
 * Elements are separated by commas or white space; an element in braces
 * may contain both, and white space around its '=' is dropped. With
 * DICT_FLAG_FOLD_FIX the keys are stored in lower case (lookups fold too).
 * A key given twice keeps the last value, as in Postfix. Any syntax error
 * fails the open.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "util/dict_types.h"
#include "util/htable.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

struct dict_inline {
	struct dict dict; /* must be first */
	struct htable *table;
	struct htable_entry **sorted; /* for dict_sequence */
	size_t cursor;
};

#define INLINE_USAGE "need \"inline:{name=value...}\""

static bool
has_space(const char *text)
{
	for (; *text; text++)
		if (isspace((unsigned char)*text))
			return true;
	return false;
}

/* One "key=value" or "{ key = value }" element into the table. */
static int
add_element(struct dict_inline *di, char *element, struct err *err)
{
	char *key;
	char *value;

	if ((element = str_unbrace(element, err)) == NULL)
		return -1;
	if (str_split_nameval(element, &key, &value, err) < 0)
		return -1;
	if (has_space(key)) {
		err_set(err, "missing '=' after attribute name");
		return -1;
	}
	if (di->dict.flags & DICT_FLAG_FOLD_FIX)
		str_lowercase(key);
	htable_set(di->table, key, xstrdup(value), free);
	return 0;
}

/* The elements inside the outer braces; the caller adds context. */
static int
parse_elements(struct dict_inline *di, char *copy, struct err *err)
{
	size_t len = strlen(copy);
	char *cursor;
	char *element;

	if (copy[0] != '{' || len < 2 || copy[len - 1] != '}' ||
	    (cursor = str_unbrace(copy, NULL)) == NULL ||
	    str_is_blank(cursor)) {
		err_set(err, "bad syntax");
		return -1;
	}
	while ((element = str_token_braced(&cursor, TOKENS_LIST_DELIMS)))
		if (add_element(di, element, err) < 0)
			return -1;
	return 0;
}

static int
inline_lookup(struct dict *dict, const char *key, const char **value_out,
	      struct err *err)
{
	struct dict_inline *di = (struct dict_inline *)dict;
	const char *value = htable_find(di->table, key);

	(void)err;
	if (value == NULL)
		return DICT_NOTFOUND;
	*value_out = value;
	return DICT_FOUND;
}

static int
inline_sequence(struct dict *dict, enum dict_seq how, const char **key_out,
		const char **value_out, struct err *err)
{
	struct dict_inline *di = (struct dict_inline *)dict;
	const struct htable_entry *entry;

	(void)err;
	if (how == DICT_SEQ_FIRST)
		di->cursor = 0;
	if ((entry = di->sorted[di->cursor]) == NULL)
		return DICT_NOTFOUND;
	di->cursor++;
	*key_out = entry->key;
	*value_out = entry->value;
	return DICT_FOUND;
}

static void
inline_close(struct dict *dict)
{
	struct dict_inline *di = (struct dict_inline *)dict;

	free(di->sorted);
	htable_destroy(&di->table, free);
	dict_free(dict);
}

struct dict *
dict_inline_open(const char *name, int open_flags, int dict_flags,
		 struct err *err)
{
	struct dict_inline *di;
	struct err reason;
	char *copy;
	int ret;

	if ((open_flags & O_ACCMODE) != O_RDONLY) {
		err_set(err, "inline:%s map requires O_RDONLY access mode",
			name);
		return NULL;
	}
	di = (struct dict_inline *)dict_alloc("inline", name, sizeof(*di),
					      open_flags,
					      dict_flags | DICT_FLAG_FIXED);
	di->table = htable_create(16);
	di->dict.close = inline_close;
	copy = xstrdup(name);
	ret = parse_elements(di, copy, &reason);
	free(copy);
	if (ret < 0) {
		err_set(err, "%s: \"inline:%s\"; " INLINE_USAGE, reason.text,
			name);
		inline_close(&di->dict);
		return NULL;
	}
	di->sorted = htable_entries(di->table, true);
	di->dict.lookup = inline_lookup;
	di->dict.sequence = inline_sequence;
	return &di->dict;
}
