/*
 * dict_types.h - the open functions of the built-in lookup table types.
 *
 * Only dict_open.c should need this; everyone else opens tables by
 * "type:name" through dict_open(). See dict.h for the contract.
 */
#ifndef POSTERN_UTIL_DICT_TYPES_H
#define POSTERN_UTIL_DICT_TYPES_H

#include "util/dict.h"

dict_open_fn dict_btree_open;    /* dict_lmdb.c: btree: served by LMDB */
dict_open_fn dict_cidr_open;     /* dict_cidr.c */
dict_open_fn dict_environ_open;  /* dict_static.c */
dict_open_fn dict_fail_open;     /* dict_static.c */
dict_open_fn dict_hash_open;     /* dict_lmdb.c: hash: served by LMDB */
dict_open_fn dict_inline_open;   /* dict_inline.c */
dict_open_fn dict_lmdb_open;     /* dict_lmdb.c */
dict_open_fn dict_pcre_open;     /* dict_regexp.c, PCRE2 back end */
dict_open_fn dict_pipemap_open;  /* dict_union.c */
dict_open_fn dict_regexp_open;   /* dict_regexp.c, POSIX ERE back end */
dict_open_fn dict_static_open;   /* dict_static.c */
dict_open_fn dict_texthash_open; /* dict_texthash.c */
dict_open_fn dict_unionmap_open; /* dict_union.c */

#endif
