/*
 * mkmap.h - the table work postmap and postalias share.
 *
 * Both commands take "[type:]file" arguments, query (-q), list (-s) and
 * delete (-d) the same way, and build indexed tables under the same rules:
 * privileges of the source file's owner when run by root (unless -o), new
 * files as readable as the source (unless -p), signals held off while a
 * table is replaced, and the table published only once complete. Output
 * and messages follow Postfix 3.7: "-q -" and -s print "key<TAB>value"
 * ("key:<TAB>value" for postalias), and the exit status is 0 when a key was
 * found, 1 when none was (or on a fatal error). mkmap_cmd.h is the command
 * driver on top of this.
 */
#ifndef POSTERN_GLOBAL_MKMAP_H
#define POSTERN_GLOBAL_MKMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

#include "util/dict.h"

/* What "-q -" turns standard input into (postmap -h / -b). */
#define MKMAP_KEYS_HEADERS (1 << 0) /* each logical header line */
#define MKMAP_KEYS_BODY (1 << 1)    /* each line after the headers */

struct mkmap_ctx {
	const char *default_type; /* default_database_type */
	size_t map_size;          /* lmdb_map_size */
	int dict_flags;           /* DICT_FLAG_FOLD_FIX, DUP_*, TRY*NULL */
	bool want_colon;          /* postalias: "key:<TAB>value" */
	bool want_base64;         /* -F: values are base64 */
	bool keep_privileges;     /* -o */
	bool keep_default_mode;   /* -p */
};

/*
 * Split "[type:]file" (the default type when there is no ':'). The
 * caller frees both strings.
 */
void mkmap_split(const struct mkmap_ctx *ctx, const char *arg, char **type_out,
                 char **name_out);

/* True for types postmap can create and update (lmdb, hash, btree). */
bool mkmap_type_is_writable(const char *type);

/*
 * Open a table to read, or to update in place (want_write: -d, -i,
 * postalias' sentinel). Fatal on failure with Postfix's wording.
 */
struct dict *mkmap_open_existing(const struct mkmap_ctx *ctx, const char *arg,
                                 bool want_write);

/* -q key: print the first value found in maps; 0 found, 1 not. */
int mkmap_query(const struct mkmap_ctx *ctx, const char *key, char *const *maps,
                int count);

/* -q -: keys from fp (lines, or headers/body with key_mode); 0 if any found. */
int mkmap_query_stream(const struct mkmap_ctx *ctx, FILE *fp, int key_mode,
                       char *const *maps, int count);

/* -d key / -d -: remove one entry per map; 0 if anything was removed. */
int mkmap_delete(const struct mkmap_ctx *ctx, const char *key,
                 char *const *maps, int count);
int mkmap_delete_stream(const struct mkmap_ctx *ctx, FILE *fp,
                        char *const *maps, int count);

/* -s: list the first map; 0 (Postfix lists only the first). */
int mkmap_dump(const struct mkmap_ctx *ctx, const char *map);

/*
 * A build in progress: mkmap_build_begin takes the source's owner's
 * privileges and umask (when asked), holds off signals, and opens the
 * table (truncated unless incremental). Entries go in with mkmap_put.
 * mkmap_build_commit publishes the table; mkmap_build_abort throws a
 * truncating build away (the old table stays). Both restore privileges.
 */
struct mkmap_build;

struct mkmap_build *mkmap_build_begin(const struct mkmap_ctx *ctx,
                                      const char *type, const char *name,
                                      const struct stat *source_st,
                                      bool incremental);
/* Add key = value (raw, or -F file list); warnings for skipped entries. */
int mkmap_put(struct mkmap_build *build, const char *source_name, int lineno,
              const char *key, const char *value, struct err *err);
/*
 * Add key = value as they are (no folding, no -F), replacing an older
 * entry quietly: postalias' signature entries. 0, or -1 with err.
 */
int mkmap_put_exact(struct mkmap_build *build, const char *key,
                    const char *value, struct err *err);
/* Commit, or abort and log_fatal with err's text. */
void mkmap_build_commit(struct mkmap_build **buildp);
_Noreturn void mkmap_build_fail(struct mkmap_build **buildp,
                                const struct err *err);

#endif
