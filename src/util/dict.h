/*
 * dict.h - lookup tables: the "type:name" framework every table type plugs into.
 *
 * A table is opened from its "type:name" spec, looked up by key, and closed.
 * A lookup has three outcomes and callers must handle all three:
 *     DICT_FOUND     value_out points at the result
 *     DICT_NOTFOUND  no such key
 *     DICT_ERROR     the table could not answer (err says why); never
 *                    treat this as "not found": a daemon defers instead
 * The result stays valid until the next call on the same table.
 *
 * Each type lives in its own dict_<type>.c and provides an open function
 * registered in dict_open.c. A type allocates its handle with dict_alloc
 * (struct dict must be the first member of the type's own struct) and fills
 * in the methods it supports; methods it leaves NULL make the framework
 * answer "operation not supported by TYPE tables".
 */
#ifndef POSTERN_UTIL_DICT_H
#define POSTERN_UTIL_DICT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

enum dict_result {
	DICT_ERROR = -1,
	DICT_FOUND = 0,
	DICT_NOTFOUND = 1,
};

/* Where dict_sequence starts. */
enum dict_seq {
	DICT_SEQ_FIRST,
	DICT_SEQ_NEXT,
};

/* dict_flags, as Postfix names them. */
#define DICT_FLAG_FOLD_FIX (1 << 0)     /* fold keys of fixed-string tables */
#define DICT_FLAG_DUP_WARN (1 << 1)     /* duplicate key: warn, keep first */
#define DICT_FLAG_DUP_IGNORE (1 << 2)   /* duplicate key: keep first quietly */
#define DICT_FLAG_DUP_REPLACE (1 << 3)  /* duplicate key: last one wins */
#define DICT_FLAG_TRY0NULL (1 << 4)     /* keys/values stored without NUL */
#define DICT_FLAG_TRY1NULL (1 << 5)     /* keys/values stored with NUL */
#define DICT_FLAG_PATTERN (1 << 6)      /* type: keys are patterns */
#define DICT_FLAG_FIXED (1 << 7)        /* type: keys are fixed strings */
#define DICT_FLAG_BULK_UPDATE (1 << 8)  /* many updates, one commit */
#define DICT_FLAG_SYNC_UPDATE (1 << 9)  /* flush after each update */
#define DICT_FLAG_NO_REGSUB (1 << 10)   /* no $1 substitution in results */
#define DICT_FLAG_PARANOID (1 << 11)    /* reject keys with odd characters */

/* Limits that protect every type from hostile table files. */
#define DICT_MAX_KEY_LEN (64 * 1024)
#define DICT_MAX_VALUE_LEN (1024 * 1024)
#define DICT_MAX_NESTING 8              /* unionmap/pipemap/if depth */

struct dict {
	char *type;     /* "regexp" */
	char *name;     /* "/etc/postfix/header_checks" */
	int open_flags; /* O_RDONLY, or O_RDWR|O_CREAT[|O_TRUNC] */
	int flags;      /* DICT_FLAG_* */

	/* Methods; NULL means not supported by this type. */
	int (*lookup)(struct dict *dict, const char *key,
		      const char **value_out, struct err *err);
	int (*update)(struct dict *dict, const char *key, const char *value,
		      struct err *err);
	int (*remove)(struct dict *dict, const char *key, struct err *err);
	int (*sequence)(struct dict *dict, enum dict_seq how,
			const char **key_out, const char **value_out,
			struct err *err);
	int (*sync)(struct dict *dict, struct err *err);
	void (*close)(struct dict *dict);

	struct strbuf *fold_buf; /* framework's scratch for folded keys */
};

/*
 * A type's open function: name is the part after "type:". Returns NULL with
 * err set ("FILE, line N: reason" for syntax errors).
 */
typedef struct dict *dict_open_fn(const char *name, int open_flags,
				  int dict_flags, struct err *err);

/*
 * Open "type:name". Returns NULL with err set for an unknown type ("unsupported
 * dictionary type: foo"), a spec without ':', or the type's own failure.
 */
struct dict *dict_open(const char *spec, int open_flags, int dict_flags,
		       struct err *err);
struct dict *dict_open3(const char *type, const char *name, int open_flags,
			int dict_flags, struct err *err);

/* Close and free; NULL-safe, sets *dictp to NULL. */
void dict_close(struct dict **dictp);

/*
 * Operations. Keys are folded to lower case first when the table has
 * DICT_FLAG_FOLD_FIX. Returns enum dict_result (update and sync: 0 or
 * DICT_ERROR; remove: DICT_FOUND when deleted, DICT_NOTFOUND when absent).
 */
int dict_lookup(struct dict *dict, const char *key, const char **value_out,
		struct err *err);
int dict_update(struct dict *dict, const char *key, const char *value,
		struct err *err);
int dict_remove(struct dict *dict, const char *key, struct err *err);
int dict_sequence(struct dict *dict, enum dict_seq how, const char **key_out,
		  const char **value_out, struct err *err);
int dict_sync(struct dict *dict, struct err *err);

/* For type implementations: allocate size bytes (>= sizeof(struct dict))
 * with the common fields set, and free them in the close method. */
struct dict *dict_alloc(const char *type, const char *name, size_t size,
			int open_flags, int dict_flags);
void dict_free(struct dict *dict);

/* Registered type names, NULL-terminated, sorted (for postconf -m). */
const char *const *dict_type_names(void);
bool dict_type_is_known(const char *type);

#endif
