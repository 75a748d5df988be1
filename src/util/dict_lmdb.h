/*
 * dict_lmdb.h - knobs of the LMDB-backed table types (lmdb:, hash:, btree:).
 *
 * Tables are opened through dict_open(); this header only lets a program
 * pass main.cf's lmdb_map_size to a table it writes. See dict_lmdb.c for
 * file names, locking and the build-aside strategy.
 */
#ifndef POSTERN_UTIL_DICT_LMDB_H
#define POSTERN_UTIL_DICT_LMDB_H

#include <stddef.h>

#include "util/dict.h"
#include "util/err.h"

/* Postfix's lmdb_map_size default: the first map size of a new table. */
#define DICT_LMDB_DEFAULT_MAP_SIZE ((size_t)16777216)

/* True if dict is served by dict_lmdb.c. */
int dict_is_lmdb(const struct dict *dict);

/*
 * Use bytes as the map size of an LMDB-backed table opened for writing
 * (the size still doubles by itself when an update does not fit). Other
 * tables, and tables opened read-only, are left alone and 0 is returned.
 * Returns -1 with err if LMDB refuses the size.
 */
int dict_lmdb_set_map_size(struct dict *dict, size_t bytes, struct err *err);

#endif
