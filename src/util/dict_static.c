/*
 * dict_static.c - tables that need no file: static:, fail: and environ:.
 *
 *     static:value     every key is found, with value as the result;
 *                      "static:{ text with spaces }" loses its braces
 *     fail:name        every request fails (an error, never "not found"),
 *                      for testing how callers handle a broken table
 *     environ:name     the key is looked up in the process environment;
 *                      the name is not used
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "util/dict_types.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

struct dict_static {
	struct dict dict; /* must be first */
	char *value;
};

/* Postfix refuses "type:" with nothing after the colon for every type. */
static bool
check_name(const char *type, const char *name, struct err *err)
{
	if (*name != 0)
		return true;
	err_set(err, "need dictionary type:name, not \"%s:\"", type);
	return false;
}

static bool
check_read_only(const char *type, const char *name, int open_flags,
		struct err *err)
{
	if ((open_flags & O_ACCMODE) == O_RDONLY)
		return true;
	err_set(err, "%s:%s map requires O_RDONLY access mode", type, name);
	return false;
}

/* The value of static:name: name itself, or the inside of "{ ... }". */
static char *
static_value(const char *name, struct err *err)
{
	char *copy = xstrdup(name);
	char *inner;
	size_t len = strlen(name);

	if (name[0] != '{')
		return copy;
	/* Postfix wants the closing brace last, white space included. */
	if (isspace((unsigned char)name[len - 1])) {
		err_set(err, "syntax error after '}' in \"%s\"", name);
		inner = NULL;
	} else {
		inner = str_unbrace(copy, err);
	}
	if (inner == NULL) {
		err_prefix(err, "bad static:name syntax");
		free(copy);
		return NULL;
	}
	memmove(copy, inner, strlen(inner) + 1);
	return copy;
}

static int
static_lookup(struct dict *dict, const char *key, const char **value_out,
	      struct err *err)
{
	(void)key;
	(void)err;
	*value_out = ((struct dict_static *)dict)->value;
	return DICT_FOUND;
}

static void
static_close(struct dict *dict)
{
	free(((struct dict_static *)dict)->value);
	dict_free(dict);
}

struct dict *
dict_static_open(const char *name, int open_flags, int dict_flags,
		 struct err *err)
{
	struct dict_static *ds;
	char *value;

	if (!check_name("static", name, err) ||
	    !check_read_only("static", name, open_flags, err) ||
	    (value = static_value(name, err)) == NULL)
		return NULL;
	ds = (struct dict_static *)dict_alloc("static", name, sizeof(*ds),
					      open_flags,
					      dict_flags | DICT_FLAG_FIXED);
	ds->value = value;
	ds->dict.lookup = static_lookup;
	ds->dict.close = static_close;
	return &ds->dict;
}

/* fail: every operation is an error. */

static int
fail_error(struct dict *dict, struct err *err)
{
	err_set(err, "%s:%s: table configured to fail every request",
		dict->type, dict->name);
	return DICT_ERROR;
}

static int
fail_lookup(struct dict *dict, const char *key, const char **value_out,
	    struct err *err)
{
	(void)key;
	(void)value_out;
	return fail_error(dict, err);
}

static int
fail_update(struct dict *dict, const char *key, const char *value,
	    struct err *err)
{
	(void)key;
	(void)value;
	return fail_error(dict, err);
}

static int
fail_remove(struct dict *dict, const char *key, struct err *err)
{
	(void)key;
	return fail_error(dict, err);
}

static int
fail_sequence(struct dict *dict, enum dict_seq how, const char **key_out,
	      const char **value_out, struct err *err)
{
	(void)how;
	(void)key_out;
	(void)value_out;
	return fail_error(dict, err);
}

struct dict *
dict_fail_open(const char *name, int open_flags, int dict_flags,
	       struct err *err)
{
	struct dict *dict;

	if (!check_name("fail", name, err))
		return NULL;
	dict = dict_alloc("fail", name, sizeof(*dict), open_flags,
			  dict_flags | DICT_FLAG_FIXED);
	dict->lookup = fail_lookup;
	dict->update = fail_update;
	dict->remove = fail_remove;
	dict->sequence = fail_sequence;
	return dict;
}

/* environ: the process environment. */

static int
environ_lookup(struct dict *dict, const char *key, const char **value_out,
	       struct err *err)
{
	const char *value = getenv(key);

	(void)dict;
	(void)err;
	if (value == NULL)
		return DICT_NOTFOUND;
	*value_out = value;
	return DICT_FOUND;
}

struct dict *
dict_environ_open(const char *name, int open_flags, int dict_flags,
		  struct err *err)
{
	struct dict *dict;

	if (!check_name("environ", name, err) ||
	    !check_read_only("environ", name, open_flags, err))
		return NULL;
	dict = dict_alloc("environ", name, sizeof(*dict), open_flags,
			  dict_flags | DICT_FLAG_FIXED);
	dict->lookup = environ_lookup;
	return dict;
}
