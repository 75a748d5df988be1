/*
 * dict_regexp.c - placeholder until the type is written.
 */
#include "util/dict_types.h"

struct dict *
dict_regexp_open(const char *name, int open_flags, int dict_flags, struct err *err)
{
	(void)open_flags;
	(void)dict_flags;
	err_set(err, "%s: table type not implemented yet", name);
	return 0;
}

struct dict *
dict_pcre_open(const char *name, int open_flags, int dict_flags, struct err *err)
{
	(void)open_flags;
	(void)dict_flags;
	err_set(err, "%s: table type not implemented yet", name);
	return 0;
}

