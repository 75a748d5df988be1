/*
 * dict_lmdb.c - lmdb:, hash: and btree: tables, all stored with LMDB.
 *
 * Files: lmdb:NAME lives in NAME.lmdb; hash:NAME and btree:NAME live in
 * NAME.db (the name scripts, Makefiles and "creates:" checks expect after
 * "postmap hash:FILE"), also in LMDB format. One file and no lock file:
 * environments are opened with MDB_NOSUBDIR | MDB_NOLOCK and processes
 * coordinate with flock(2) on the table file instead, because a reader (a
 * daemon running as mail_owner) cannot create or write a lock file next to
 * a root-owned table.
 *
 * Locking: a lookup, and a whole sequence, hold a shared lock; an in-place
 * write transaction holds an exclusive one and first makes sure the path
 * still names the file it has open. A handle that is not building re-opens
 * the file when the path names a new one (one stat per operation), so
 * daemons see a rebuilt table at once.
 *
 * Building (O_TRUNC with DICT_FLAG_BULK_UPDATE, what postmap does): the new
 * table is written aside into NAME.lmdb.XXXXXX without locks or fsyncs,
 * then fsynced and renamed over NAME.lmdb by dict_sync. Readers, which may
 * run at any time, see the old table or the new one, never a half-built
 * one. A build closed without dict_sync (a postmap that failed halfway) is
 * thrown away and the old table stays. The new file takes the old one's
 * mode and owner, or mode 0644 less the umask. Without
 * DICT_FLAG_BULK_UPDATE, O_TRUNC empties the table in place.
 *
 * Map size: DICT_LMDB_DEFAULT_MAP_SIZE or dict_lmdb_set_map_size's; when a
 * transaction hits MDB_MAP_FULL the map doubles and the transaction's
 * updates, kept in a log, are replayed. Bulk updates commit every few MB,
 * which bounds that log.
 *
 * Keys and values are stored with a trailing NUL, as Postfix does on Linux,
 * unless DICT_FLAG_TRY0NULL alone is given; lookups try both forms unless
 * one flag alone says which. Duplicate keys follow DICT_FLAG_DUP_*; with
 * none of them a duplicate is skipped with a warning.
 * Security: LMDB trusts the pages of the file it maps; a table file must be
 * as trusted as main.cf (a file that is not LMDB at all is rejected).
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dict_lmdb.h"
#include "util/dict_types.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define LMDB_BATCH_OPS 10000
#define LMDB_BATCH_BYTES ((size_t)4 * 1024 * 1024)
#define LMDB_MAX_MAP_SIZE ((size_t)1 << 40)
#define LMDB_REOPEN_TRIES 10

enum lmdb_op_kind {
	LMDB_OP_PUT,
	LMDB_OP_DEL,
};

/* One update of the open write transaction, kept for replay. */
struct lmdb_op {
	enum lmdb_op_kind kind;
	char *key;
	char *value;
};

struct dict_lmdb {
	struct dict dict;
	char *label;      /* "lmdb:NAME" or "NAME.db", as Postfix words it */
	char *path;       /* the table file */
	char *build_path; /* the file being built aside, until dict_sync */
	bool is_writer;
	MDB_env *env;
	MDB_dbi dbi;
	size_t map_size;
	dev_t dev; /* identity of the file env has open */
	ino_t ino;
	MDB_txn *read_txn; /* open during a sequence */
	MDB_cursor *cursor;
	MDB_txn *write_txn;
	struct lmdb_op *ops;
	size_t op_count;
	size_t op_cap;
	size_t op_bytes;
	struct strbuf key_buf;
	struct strbuf value_buf;
};

/* What the last op did to its key. */
enum lmdb_op_status {
	LMDB_DONE,
	LMDB_KEY_EXISTS,
	LMDB_KEY_MISSING,
};

static void lmdb_close(struct dict *dict);

/* The two ways a key can be stored, in the order lookups try them. */
static bool
want_nul_form(const struct dict_lmdb *dl)
{
	return (dl->dict.flags & DICT_FLAG_TRY1NULL) ||
	       !(dl->dict.flags & DICT_FLAG_TRY0NULL);
}

static bool
want_plain_form(const struct dict_lmdb *dl)
{
	return (dl->dict.flags & DICT_FLAG_TRY0NULL) ||
	       !(dl->dict.flags & DICT_FLAG_TRY1NULL);
}

/* Keys are stored with NUL unless TRY0NULL alone was asked for. */
static bool
store_with_nul(const struct dict_lmdb *dl)
{
	return want_nul_form(dl);
}

static MDB_val
text_val(const char *text, bool with_nul)
{
	MDB_val val;

	val.mv_data = (void *)text;
	val.mv_size = strlen(text) + (with_nul ? 1 : 0);
	return val;
}

/* True if LMDB can hold key in the given form at all. */
static bool
key_fits(const struct dict_lmdb *dl, const MDB_val *key)
{
	return key->mv_size > 0 &&
	       key->mv_size <= (size_t)mdb_env_get_maxkeysize(dl->env);
}

/* ---- Opening ---------------------------------------------------------- */

struct lmdb_env {
	MDB_env *env;
	MDB_dbi dbi;
	size_t map_size;
	dev_t dev;
	ino_t ino;
};

static int
env_open_error(const char *path, int rc, MDB_env *env, struct err *err)
{
	struct stat st;

	if (env != NULL)
		mdb_env_close(env);
	/* LMDB says ENOENT or EBADF for an empty file: say what it is. */
	if (rc != 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size == 0)
		err_set(err, "open database %s: %s (empty file)", path,
		        mdb_strerror(MDB_INVALID));
	else
		err_set(err, "open database %s: %s", path, mdb_strerror(rc));
	return -1;
}

/* Open path as an environment with the main database ready. */
static int
env_open(const char *path, bool is_writer, bool is_build, size_t map_size,
         struct lmdb_env *out, struct err *err)
{
	unsigned int flags = MDB_NOSUBDIR | MDB_NOLOCK;
	MDB_envinfo info;
	MDB_txn *txn;
	struct stat st;
	int fd;
	int rc;

	flags |= is_writer ? 0 : MDB_RDONLY;
	flags |= is_build ? MDB_NOSYNC : 0;
	if ((rc = mdb_env_create(&out->env)) != 0)
		return env_open_error(path, rc, NULL, err);
	if (is_writer && (rc = mdb_env_set_mapsize(out->env, map_size)) != 0)
		return env_open_error(path, rc, out->env, err);
	if ((rc = mdb_env_open(out->env, path, flags, 0644)) != 0)
		return env_open_error(path, rc, out->env, err);
	if ((rc = mdb_env_get_fd(out->env, &fd)) != 0 || fstat(fd, &st) < 0)
		return env_open_error(path, rc != 0 ? rc : errno, out->env,
		                      err);
	rc = mdb_txn_begin(out->env, NULL, is_writer ? 0 : MDB_RDONLY, &txn);
	if (rc != 0)
		return env_open_error(path, rc, out->env, err);
	if ((rc = mdb_dbi_open(txn, NULL, 0, &out->dbi)) != 0) {
		mdb_txn_abort(txn);
		return env_open_error(path, rc, out->env, err);
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return env_open_error(path, rc, out->env, err);
	mdb_env_info(out->env, &info);
	out->map_size = info.me_mapsize;
	out->dev = st.st_dev;
	out->ino = st.st_ino;
	return 0;
}

static void
env_adopt(struct dict_lmdb *dl, const struct lmdb_env *le)
{
	if (dl->env != NULL)
		mdb_env_close(dl->env);
	dl->env = le->env;
	dl->dbi = le->dbi;
	dl->map_size = le->map_size;
	dl->dev = le->dev;
	dl->ino = le->ino;
}

/* True if the table's path now names another file than the open one. */
static bool
path_moved(const struct dict_lmdb *dl)
{
	struct stat st;

	if (dl->build_path != NULL || stat(dl->path, &st) < 0)
		return false;
	return st.st_dev != dl->dev || st.st_ino != dl->ino;
}

/* Switch to the file the path names now (a rebuilt table). */
static int
env_reopen(struct dict_lmdb *dl, struct err *err)
{
	struct lmdb_env le;

	if (env_open(dl->path, dl->is_writer, false, dl->map_size, &le, err) <
	    0)
		return -1;
	env_adopt(dl, &le);
	return 0;
}

/*
 * Make a fresh file to build the table in, with the mode and owner the
 * finished table should have.
 */
static int
build_file_create(struct dict_lmdb *dl, struct err *err)
{
	char *tmpl = xasprintf("%s.XXXXXX", dl->path);
	struct stat st;
	mode_t mask;
	int fd;

	if ((fd = mkostemp(tmpl, O_CLOEXEC)) < 0) {
		err_set(err, "open database %s: %s", dl->path, strerror(errno));
		free(tmpl);
		return -1;
	}
	if (stat(dl->path, &st) == 0) {
		(void)fchmod(fd, st.st_mode & 07777);
		if (geteuid() == 0)
			(void)fchown(fd, st.st_uid, st.st_gid);
	} else {
		mask = umask(0);
		umask(mask);
		(void)fchmod(fd, 0644 & ~mask);
	}
	close(fd);
	dl->build_path = tmpl;
	return 0;
}

/* ---- Locks and transactions ------------------------------------------- */

static int
lock_file(struct dict_lmdb *dl, int how, struct err *err)
{
	int fd;

	if (dl->build_path != NULL)
		return 0; /* nobody else knows the file being built */
	if (mdb_env_get_fd(dl->env, &fd) != 0)
		return 0;
	while (flock(fd, how) < 0) {
		if (errno == EINTR)
			continue;
		err_set(err, "lock %s: %s", dl->path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
unlock_file(struct dict_lmdb *dl)
{
	struct err ignored;

	(void)lock_file(dl, LOCK_UN, &ignored);
}

static int
txn_begin(struct dict_lmdb *dl, unsigned int flags, MDB_txn **txn_out)
{
	MDB_envinfo info;
	int rc;

	rc = mdb_txn_begin(dl->env, NULL, flags, txn_out);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		if ((rc = mdb_env_set_mapsize(dl->env, 0)) == 0)
			rc = mdb_txn_begin(dl->env, NULL, flags, txn_out);
		mdb_env_info(dl->env, &info);
		dl->map_size = info.me_mapsize;
	}
	if (rc != 0)
		*txn_out = NULL;
	return rc;
}

static void
sequence_end(struct dict_lmdb *dl)
{
	if (dl->cursor != NULL)
		mdb_cursor_close(dl->cursor);
	dl->cursor = NULL;
	if (dl->read_txn != NULL) {
		mdb_txn_abort(dl->read_txn);
		dl->read_txn = NULL;
		unlock_file(dl);
	}
}

/* A read transaction under a shared lock, on the current file. */
static int
read_begin(struct dict_lmdb *dl, MDB_txn **txn_out, struct err *err)
{
	int rc;

	if (path_moved(dl) && env_reopen(dl, err) < 0)
		return -1;
	if (lock_file(dl, LOCK_SH, err) < 0)
		return -1;
	if ((rc = txn_begin(dl, MDB_RDONLY, txn_out)) != 0) {
		unlock_file(dl);
		err_set(err, "error reading %s: %s", dl->label,
		        mdb_strerror(rc));
		return -1;
	}
	return 0;
}

static void
read_end(struct dict_lmdb *dl, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	unlock_file(dl);
}

/* Take the exclusive lock on the file the path names now. */
static int
write_lock(struct dict_lmdb *dl, struct err *err)
{
	for (int tries = 0; tries < LMDB_REOPEN_TRIES; tries++) {
		if (lock_file(dl, LOCK_EX, err) < 0)
			return -1;
		if (!path_moved(dl))
			return 0;
		unlock_file(dl);
		if (env_reopen(dl, err) < 0)
			return -1;
	}
	err_set(err, "lock %s: the file keeps being replaced", dl->path);
	return -1;
}

static int
write_begin(struct dict_lmdb *dl, struct err *err)
{
	int rc;

	if (dl->write_txn != NULL)
		return 0;
	sequence_end(dl);
	if (write_lock(dl, err) < 0)
		return -1;
	if ((rc = txn_begin(dl, 0, &dl->write_txn)) != 0) {
		unlock_file(dl);
		err_set(err, "error writing %s: %s", dl->label,
		        mdb_strerror(rc));
		return -1;
	}
	return 0;
}

static void
ops_clear(struct dict_lmdb *dl)
{
	for (size_t i = 0; i < dl->op_count; i++) {
		free(dl->ops[i].key);
		free(dl->ops[i].value);
	}
	dl->op_count = 0;
	dl->op_bytes = 0;
}

static const struct lmdb_op *
ops_add(struct dict_lmdb *dl, enum lmdb_op_kind kind, const char *key,
        const char *value)
{
	struct lmdb_op *op;

	if (dl->op_count == dl->op_cap) {
		dl->op_cap = dl->op_cap ? 2 * dl->op_cap : 64;
		dl->ops = xreallocarray(dl->ops, dl->op_cap, sizeof(*dl->ops));
	}
	op = &dl->ops[dl->op_count++];
	op->kind = kind;
	op->key = xstrdup(key);
	op->value = value != NULL ? xstrdup(value) : NULL;
	dl->op_bytes += strlen(key) + (value != NULL ? strlen(value) : 0);
	return op;
}

/* Apply one update to the write transaction; an MDB status. */
static int
op_apply(struct dict_lmdb *dl, const struct lmdb_op *op,
         enum lmdb_op_status *status_out)
{
	MDB_val key;
	MDB_val value;
	int rc;

	*status_out = LMDB_DONE;
	if (op->kind == LMDB_OP_PUT) {
		key = text_val(op->key, store_with_nul(dl));
		value = text_val(op->value, store_with_nul(dl));
		rc = mdb_put(dl->write_txn, dl->dbi, &key, &value,
		             (dl->dict.flags & DICT_FLAG_DUP_REPLACE)
		                 ? 0
		                 : MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST) {
			*status_out = LMDB_KEY_EXISTS;
			rc = 0;
		}
		return rc;
	}
	*status_out = LMDB_KEY_MISSING;
	for (int form = 0; form < 2; form++) {
		if (!(form == 0 ? want_nul_form(dl) : want_plain_form(dl)))
			continue;
		key = text_val(op->key, form == 0);
		if (!key_fits(dl, &key))
			continue;
		rc = mdb_del(dl->write_txn, dl->dbi, &key, NULL);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc == 0)
			*status_out = LMDB_DONE;
		return rc;
	}
	return 0;
}

/* Grow the map and redo the logged updates in a new transaction. */
static int
redo_bigger(struct dict_lmdb *dl, enum lmdb_op_status *status_out)
{
	int rc;

	if (dl->write_txn != NULL) {
		mdb_txn_abort(dl->write_txn);
		dl->write_txn = NULL;
	}
	if (dl->map_size >= LMDB_MAX_MAP_SIZE)
		return EFBIG;
	if ((rc = mdb_env_set_mapsize(dl->env, dl->map_size * 2)) != 0)
		return rc;
	dl->map_size *= 2;
	if ((rc = txn_begin(dl, 0, &dl->write_txn)) != 0)
		return rc;
	for (size_t i = 0; i < dl->op_count; i++)
		if ((rc = op_apply(dl, &dl->ops[i], status_out)) != 0)
			return rc;
	return 0;
}

/* Give up the write transaction after an error. */
static int
write_fail(struct dict_lmdb *dl, int rc, struct err *err)
{
	if (dl->write_txn != NULL)
		mdb_txn_abort(dl->write_txn);
	dl->write_txn = NULL;
	ops_clear(dl);
	unlock_file(dl);
	err_set(err, "error writing %s: %s", dl->label, mdb_strerror(rc));
	return -1;
}

static int
write_commit(struct dict_lmdb *dl, struct err *err)
{
	enum lmdb_op_status status;
	int rc;

	if (dl->write_txn == NULL)
		return 0;
	for (;;) {
		rc = mdb_txn_commit(dl->write_txn);
		dl->write_txn = NULL;
		if (rc != MDB_MAP_FULL)
			break;
		while ((rc = redo_bigger(dl, &status)) == MDB_MAP_FULL)
			;
		if (rc != 0)
			break;
	}
	if (rc != 0)
		return write_fail(dl, rc, err);
	ops_clear(dl);
	unlock_file(dl);
	return 0;
}

/* Log one update, apply it, and commit unless a bulk batch goes on. */
static int
write_op(struct dict_lmdb *dl, enum lmdb_op_kind kind, const char *key,
         const char *value, enum lmdb_op_status *status_out, struct err *err)
{
	int rc;

	if (write_begin(dl, err) < 0)
		return -1;
	rc = op_apply(dl, ops_add(dl, kind, key, value), status_out);
	while (rc == MDB_MAP_FULL)
		rc = redo_bigger(dl, status_out);
	if (rc != 0)
		return write_fail(dl, rc, err);
	if (!(dl->dict.flags & DICT_FLAG_BULK_UPDATE) ||
	    dl->op_count >= LMDB_BATCH_OPS || dl->op_bytes >= LMDB_BATCH_BYTES)
		return write_commit(dl, err);
	return 0;
}

/* ---- Methods ---------------------------------------------------------- */

/* Copy an LMDB datum out as text, without its stored NUL. */
static int
copy_out(struct strbuf *sb, const MDB_val *val)
{
	size_t len = val->mv_size;

	if (len > 0 && ((const char *)val->mv_data)[len - 1] == 0)
		len--;
	strbuf_reset(sb);
	return strbuf_append(sb, val->mv_data, len);
}

static int
read_only_error(struct dict_lmdb *dl, const char *what, struct err *err)
{
	err_set(err, "%s: %s: table was opened read-only", dl->label, what);
	return DICT_ERROR;
}

static int
lmdb_get(struct dict_lmdb *dl, MDB_txn *txn, const char *key,
         const char **value_out, struct err *err)
{
	MDB_val k;
	MDB_val v;
	int rc;

	for (int form = 0; form < 2; form++) {
		if (!(form == 0 ? want_nul_form(dl) : want_plain_form(dl)))
			continue;
		k = text_val(key, form == 0);
		if (!key_fits(dl, &k))
			continue;
		rc = mdb_get(txn, dl->dbi, &k, &v);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0) {
			err_set(err, "error reading %s: %s", dl->label,
			        mdb_strerror(rc));
			return DICT_ERROR;
		}
		if (copy_out(&dl->value_buf, &v) < 0) {
			err_set(err,
			        "%s: value of \"%s\" is longer than %d "
			        "bytes",
			        dl->label, key, DICT_MAX_VALUE_LEN);
			return DICT_ERROR;
		}
		*value_out = strbuf_text(&dl->value_buf);
		return DICT_FOUND;
	}
	return DICT_NOTFOUND;
}

static int
lmdb_lookup(struct dict *dict, const char *key, const char **value_out,
            struct err *err)
{
	struct dict_lmdb *dl = (struct dict_lmdb *)dict;
	MDB_txn *txn;
	int ret;

	if (dl->write_txn != NULL)
		return lmdb_get(dl, dl->write_txn, key, value_out, err);
	if (dl->read_txn != NULL)
		return lmdb_get(dl, dl->read_txn, key, value_out, err);
	if (read_begin(dl, &txn, err) < 0)
		return DICT_ERROR;
	ret = lmdb_get(dl, txn, key, value_out, err);
	read_end(dl, txn);
	return ret;
}

static int
lmdb_update(struct dict *dict, const char *key, const char *value,
            struct err *err)
{
	struct dict_lmdb *dl = (struct dict_lmdb *)dict;
	enum lmdb_op_status status;
	MDB_val k = text_val(key, store_with_nul(dl));

	if (!dl->is_writer)
		return read_only_error(dl, "update", err);
	if (!key_fits(dl, &k)) {
		err_set(err,
		        "%s: cannot store key \"%s\": LMDB keys are 1 "
		        "to %d bytes",
		        dl->label, key, mdb_env_get_maxkeysize(dl->env));
		return DICT_ERROR;
	}
	if (write_op(dl, LMDB_OP_PUT, key, value, &status, err) < 0)
		return DICT_ERROR;
	if (status == LMDB_KEY_EXISTS && !(dict->flags & DICT_FLAG_DUP_IGNORE))
		log_warning("%s: duplicate entry: \"%s\"", dl->label, key);
	return 0;
}

static int
lmdb_remove(struct dict *dict, const char *key, struct err *err)
{
	struct dict_lmdb *dl = (struct dict_lmdb *)dict;
	enum lmdb_op_status status;

	if (!dl->is_writer)
		return read_only_error(dl, "delete", err);
	if (write_op(dl, LMDB_OP_DEL, key, NULL, &status, err) < 0)
		return DICT_ERROR;
	return status == LMDB_KEY_MISSING ? DICT_NOTFOUND : DICT_FOUND;
}

static int
sequence_start(struct dict_lmdb *dl, struct err *err)
{
	int rc;

	sequence_end(dl);
	if (write_commit(dl, err) < 0 || read_begin(dl, &dl->read_txn, err) < 0)
		return -1;
	if ((rc = mdb_cursor_open(dl->read_txn, dl->dbi, &dl->cursor)) != 0) {
		dl->cursor = NULL;
		sequence_end(dl);
		err_set(err, "error reading %s: %s", dl->label,
		        mdb_strerror(rc));
		return -1;
	}
	return 0;
}

static int
lmdb_sequence(struct dict *dict, enum dict_seq how, const char **key_out,
              const char **value_out, struct err *err)
{
	struct dict_lmdb *dl = (struct dict_lmdb *)dict;
	MDB_val k;
	MDB_val v;
	int rc;

	if (how == DICT_SEQ_FIRST && sequence_start(dl, err) < 0)
		return DICT_ERROR;
	if (dl->cursor == NULL)
		return DICT_NOTFOUND;
	rc = mdb_cursor_get(dl->cursor, &k, &v,
	                    how == DICT_SEQ_FIRST ? MDB_FIRST : MDB_NEXT);
	if (rc == MDB_NOTFOUND) {
		sequence_end(dl);
		return DICT_NOTFOUND;
	}
	if (rc != 0 || copy_out(&dl->key_buf, &k) < 0 ||
	    copy_out(&dl->value_buf, &v) < 0) {
		sequence_end(dl);
		err_set(err, "error reading %s: %s", dl->label,
		        rc != 0 ? mdb_strerror(rc) : "entry too large");
		return DICT_ERROR;
	}
	*key_out = strbuf_text(&dl->key_buf);
	*value_out = strbuf_text(&dl->value_buf);
	return DICT_FOUND;
}

/* Best effort: make the rename itself durable. */
static void
sync_directory(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".")
	                          : xstrndup(path, (size_t)(slash - path) + 1);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/* Put the finished build in place of the old table. */
static int
build_publish(struct dict_lmdb *dl, struct err *err)
{
	int old_fd;
	int rc;

	if ((rc = mdb_env_sync(dl->env, 1)) != 0) {
		err_set(err, "sync %s: %s", dl->build_path, mdb_strerror(rc));
		return -1;
	}
	/* Wait for in-place writers of the old file; they then follow us. */
	old_fd = open(dl->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (old_fd >= 0)
		while (flock(old_fd, LOCK_EX) < 0 && errno == EINTR)
			;
	rc = rename(dl->build_path, dl->path);
	if (rc < 0)
		err_set(err, "rename %s to %s: %s", dl->build_path, dl->path,
		        strerror(errno));
	if (old_fd >= 0)
		close(old_fd);
	if (rc < 0)
		return -1;
	sync_directory(dl->path);
	free(dl->build_path);
	dl->build_path = NULL;
	(void)mdb_env_set_flags(dl->env, MDB_NOSYNC, 0);
	return 0;
}

static int
lmdb_sync(struct dict *dict, struct err *err)
{
	struct dict_lmdb *dl = (struct dict_lmdb *)dict;

	if (!dl->is_writer)
		return 0;
	if (write_commit(dl, err) < 0)
		return DICT_ERROR;
	if (dl->build_path != NULL && build_publish(dl, err) < 0)
		return DICT_ERROR;
	return 0;
}

static void
lmdb_close(struct dict *dict)
{
	struct dict_lmdb *dl = (struct dict_lmdb *)dict;
	struct err err;

	sequence_end(dl);
	if (dl->build_path != NULL) {
		if (dl->write_txn != NULL)
			mdb_txn_abort(dl->write_txn);
		dl->write_txn = NULL;
	} else if (write_commit(dl, &err) < 0) {
		log_warning("%s", err.text);
	}
	ops_clear(dl);
	free(dl->ops);
	if (dl->env != NULL)
		mdb_env_close(dl->env);
	if (dl->build_path != NULL)
		(void)unlink(dl->build_path);
	free(dl->build_path);
	free(dl->path);
	free(dl->label);
	strbuf_deinit(&dl->key_buf);
	strbuf_deinit(&dl->value_buf);
	dict_free(dict);
}

/* O_TRUNC without a build aside: empty the table in place. */
static int
truncate_in_place(struct dict_lmdb *dl, struct err *err)
{
	int rc;

	if (write_begin(dl, err) < 0)
		return -1;
	if ((rc = mdb_drop(dl->write_txn, dl->dbi, 0)) != 0)
		return write_fail(dl, rc, err);
	return write_commit(dl, err);
}

static int
lmdb_open_file(struct dict_lmdb *dl, int open_flags, struct err *err)
{
	bool is_build =
	    (open_flags & O_TRUNC) && (dl->dict.flags & DICT_FLAG_BULK_UPDATE);
	struct lmdb_env le;
	struct stat st;

	if (dl->is_writer && !(open_flags & O_CREAT) &&
	    stat(dl->path, &st) < 0) {
		err_set(err, "open database %s: %s", dl->path, strerror(errno));
		return -1;
	}
	if (is_build && build_file_create(dl, err) < 0)
		return -1;
	if (env_open(is_build ? dl->build_path : dl->path, dl->is_writer,
	             is_build, DICT_LMDB_DEFAULT_MAP_SIZE, &le, err) < 0)
		return -1;
	env_adopt(dl, &le);
	if ((open_flags & O_TRUNC) && !is_build)
		return truncate_in_place(dl, err);
	return 0;
}

static struct dict *
lmdb_open_as(const char *type, const char *suffix, const char *name,
             int open_flags, int dict_flags, struct err *err)
{
	struct dict_lmdb *dl;

	dl = (struct dict_lmdb *)dict_alloc(type, name, sizeof(*dl), open_flags,
	                                    dict_flags);
	dl->dict.flags |= DICT_FLAG_FIXED;
	dl->dict.lookup = lmdb_lookup;
	dl->dict.update = lmdb_update;
	dl->dict.remove = lmdb_remove;
	dl->dict.sequence = lmdb_sequence;
	dl->dict.sync = lmdb_sync;
	dl->dict.close = lmdb_close;
	dl->path = xasprintf("%s%s", name, suffix);
	dl->label = strcmp(suffix, ".db") == 0 ? xstrdup(dl->path)
	                                       : xasprintf("%s:%s", type, name);
	dl->is_writer = (open_flags & O_ACCMODE) != O_RDONLY;
	strbuf_init(&dl->key_buf, DICT_MAX_KEY_LEN);
	strbuf_init(&dl->value_buf, DICT_MAX_VALUE_LEN);
	if (lmdb_open_file(dl, open_flags, err) < 0) {
		lmdb_close(&dl->dict);
		return NULL;
	}
	return &dl->dict;
}

struct dict *
dict_lmdb_open(const char *name, int open_flags, int dict_flags,
               struct err *err)
{
	return lmdb_open_as("lmdb", ".lmdb", name, open_flags, dict_flags, err);
}

struct dict *
dict_hash_open(const char *name, int open_flags, int dict_flags,
               struct err *err)
{
	return lmdb_open_as("hash", ".db", name, open_flags, dict_flags, err);
}

struct dict *
dict_btree_open(const char *name, int open_flags, int dict_flags,
                struct err *err)
{
	return lmdb_open_as("btree", ".db", name, open_flags, dict_flags, err);
}

int
dict_is_lmdb(const struct dict *dict)
{
	return dict->close == lmdb_close;
}

int
dict_lmdb_set_map_size(struct dict *dict, size_t bytes, struct err *err)
{
	struct dict_lmdb *dl = (struct dict_lmdb *)dict;
	MDB_envinfo info;
	int rc;

	if (!dict_is_lmdb(dict) || !dl->is_writer || bytes == 0)
		return 0;
	if (write_commit(dl, err) < 0)
		return -1;
	sequence_end(dl);
	if ((rc = mdb_env_set_mapsize(dl->env, bytes)) != 0) {
		err_set(err, "%s: map size %zu: %s", dl->label, bytes,
		        mdb_strerror(rc));
		return -1;
	}
	mdb_env_info(dl->env, &info);
	dl->map_size = info.me_mapsize;
	return 0;
}
