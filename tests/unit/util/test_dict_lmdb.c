/*
 * test_dict_lmdb.c - unit tests for lmdb:, hash: and btree: tables.
 *
 * Covers the file names, NUL conventions (checked in the raw LMDB file),
 * duplicate policies and their Postfix wording, deletes, sequences, the
 * build-aside-and-rename strategy (readers never see a half-built table,
 * an abandoned build leaves the old one), map growth past MDB_MAP_FULL,
 * in-place updates seen by open readers, and every open error.
 */
#include <dirent.h>
#include <fcntl.h>
#include <lmdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/dict.h"
#include "util/dict_lmdb.h"
#include "util/log.h"
#include "util/mymalloc.h"

#define BUILD_FLAGS (O_RDWR | O_CREAT | O_TRUNC)
#define FOLD_WARN (DICT_FLAG_FOLD_FIX | DICT_FLAG_DUP_WARN)

struct fixture {
	char dir[64];
	char name[128]; /* table name, without suffix */
	char log[128];
};

static int
setup(void **state)
{
	struct fixture *f = xmalloc(sizeof(*f));
	struct err err;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_dict_lmdb.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->name, sizeof(f->name), "%s/t", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
	log_init("test");
	log_to_stderr(false);
	assert_int_equal(log_to_file(f->log, &err), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	DIR *dir = opendir(f->dir);
	struct dirent *de;
	char path[512];

	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", f->dir, de->d_name);
		unlink(path);
	}
	closedir(dir);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Warnings logged since the last call, without the line prefixes. */
static char *
take_log(const struct fixture *f)
{
	static char text[4096];
	FILE *fp = fopen(f->log, "r");
	char line[512];
	char *cp;

	text[0] = 0;
	if (fp == NULL)
		return text;
	while (fgets(line, sizeof(line), fp) != NULL)
		if ((cp = strstr(line, "warning: ")) != NULL)
			strcat(text, cp + strlen("warning: "));
	fclose(fp);
	fclose(fopen(f->log, "w"));
	return text;
}

/* Names in the test directory other than the log, sorted, space-joined. */
static char *
dir_listing(const struct fixture *f)
{
	static char text[1024];
	struct dirent **list;
	int n = scandir(f->dir, &list, NULL, alphasort);

	text[0] = 0;
	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.' &&
		    strcmp(list[i]->d_name, "log") != 0) {
			strcat(text, list[i]->d_name);
			strcat(text, " ");
		}
		free(list[i]);
	}
	free(list);
	return text;
}

/* Build type:NAME from key=value pairs (NULL-terminated). */
static void
build(const struct fixture *f, const char *type, int flags,
      const char *const *pairs)
{
	struct dict *dict;
	struct err err;

	dict = dict_open3(type, f->name, BUILD_FLAGS,
	                  flags | DICT_FLAG_BULK_UPDATE, &err);
	if (dict == NULL)
		fail_msg("%s", err.text);
	for (size_t i = 0; pairs[i] != NULL; i += 2)
		assert_int_equal(
		    dict_update(dict, pairs[i], pairs[i + 1], &err), 0);
	assert_int_equal(dict_sync(dict, &err), 0);
	dict_close(&dict);
}

/* The value of key in a fresh read-only handle, or "-" if not found. */
static const char *
query(const struct fixture *f, const char *type, int flags, const char *key)
{
	static char result[1024];
	struct dict *dict;
	const char *value;
	struct err err;
	int ret;

	dict = dict_open3(type, f->name, O_RDONLY, flags, &err);
	if (dict == NULL)
		fail_msg("%s", err.text);
	ret = dict_lookup(dict, key, &value, &err);
	assert_int_not_equal(ret, DICT_ERROR);
	snprintf(result, sizeof(result), "%s", ret == DICT_FOUND ? value : "-");
	dict_close(&dict);
	return result;
}

static const char *const sample[] = {
    "Foo",   "bar", "foo", "baz", "Key", "Value With Spaces",
    "UPPER", "Val", NULL,
};

struct query_case {
	int build_flags;
	int query_flags;
	const char *key;
	const char *value;
};

/* Postfix 3.7 postmap answers for the sample source (see test_postmap.py). */
static void
test_lookups_fold_and_duplicates(void **state)
{
	static const struct query_case cases[] = {
	    {FOLD_WARN, DICT_FLAG_FOLD_FIX, "foo", "bar"},
	    {FOLD_WARN, DICT_FLAG_FOLD_FIX, "FOO", "bar"},
	    {FOLD_WARN, DICT_FLAG_FOLD_FIX, "key", "Value With Spaces"},
	    {FOLD_WARN, DICT_FLAG_FOLD_FIX, "UPPER", "Val"},
	    {FOLD_WARN, DICT_FLAG_FOLD_FIX, "nope", "-"},
	    {FOLD_WARN, 0, "UPPER", "-"},
	    {DICT_FLAG_FOLD_FIX | DICT_FLAG_DUP_REPLACE, DICT_FLAG_FOLD_FIX,
	     "foo", "baz"},
	    {DICT_FLAG_FOLD_FIX | DICT_FLAG_DUP_IGNORE, DICT_FLAG_FOLD_FIX,
	     "foo", "bar"},
	    {DICT_FLAG_DUP_WARN, 0, "Foo", "bar"},
	    {DICT_FLAG_DUP_WARN, 0, "foo", "baz"},
	    {DICT_FLAG_DUP_WARN, DICT_FLAG_FOLD_FIX, "Foo", "baz"},
	    {DICT_FLAG_DUP_WARN, 0, "UPPER", "Val"},
	};
	static const char *const types[] = {"lmdb", "hash", "btree"};
	struct fixture *f = *state;

	for (size_t t = 0; t < 3; t++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			build(f, types[t], cases[i].build_flags, sample);
			assert_string_equal(query(f, types[t],
			                          cases[i].query_flags,
			                          cases[i].key),
			                    cases[i].value);
		}
	take_log(f);
}

static void
test_duplicate_warning_wording(void **state)
{
	struct fixture *f = *state;
	char expect[256];

	take_log(f);
	build(f, "lmdb", FOLD_WARN, sample);
	snprintf(expect, sizeof(expect), "lmdb:%s: duplicate entry: \"foo\"\n",
	         f->name);
	assert_string_equal(take_log(f), expect);
	build(f, "hash", FOLD_WARN, sample);
	snprintf(expect, sizeof(expect), "%s.db: duplicate entry: \"foo\"\n",
	         f->name);
	assert_string_equal(take_log(f), expect);
	/* No duplicate flag at all: warn and keep the first, too. */
	build(f, "lmdb", DICT_FLAG_FOLD_FIX, sample);
	snprintf(expect, sizeof(expect), "lmdb:%s: duplicate entry: \"foo\"\n",
	         f->name);
	assert_string_equal(take_log(f), expect);
	build(f, "lmdb", DICT_FLAG_FOLD_FIX | DICT_FLAG_DUP_IGNORE, sample);
	build(f, "lmdb", DICT_FLAG_FOLD_FIX | DICT_FLAG_DUP_REPLACE, sample);
	assert_string_equal(take_log(f), "");
	assert_string_equal(dir_listing(f), "t.db t.lmdb ");
}

/* Raw LMDB view of NAME.lmdb: "key|value" items with \0 shown as "\0". */
static char *
raw_dump(const struct fixture *f)
{
	static char text[1024];
	char path[256];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cursor;
	MDB_val k;
	MDB_val v;

	snprintf(path, sizeof(path), "%s.lmdb", f->name);
	text[0] = 0;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_open(env, path,
	                              MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK,
	                              0644),
	                 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &cursor), 0);
	for (int op = MDB_FIRST; mdb_cursor_get(cursor, &k, &v, op) == 0;
	     op = MDB_NEXT) {
		const MDB_val *parts[2] = {&k, &v};

		for (int p = 0; p < 2; p++) {
			const char *data = parts[p]->mv_data;

			for (size_t i = 0; i < parts[p]->mv_size; i++) {
				if (data[i] == 0)
					strcat(text, "\\0");
				else
					strncat(text, data + i, 1);
			}
			strcat(text, p == 0 ? "|" : " ");
		}
	}
	mdb_cursor_close(cursor);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return text;
}

static void
test_nul_conventions(void **state)
{
	static const char *const pairs[] = {"a", "1", "b", "2", NULL};
	struct fixture *f = *state;

	/* Default, and postmap -N: with NUL, as Postfix on Linux. */
	build(f, "lmdb", 0, pairs);
	assert_string_equal(raw_dump(f), "a\\0|1\\0 b\\0|2\\0 ");
	build(f, "lmdb", DICT_FLAG_TRY1NULL, pairs);
	assert_string_equal(raw_dump(f), "a\\0|1\\0 b\\0|2\\0 ");
	assert_string_equal(query(f, "lmdb", DICT_FLAG_TRY0NULL, "a"), "-");
	/* postmap -n: without. Lookups without a flag find both forms. */
	build(f, "lmdb", DICT_FLAG_TRY0NULL, pairs);
	assert_string_equal(raw_dump(f), "a|1 b|2 ");
	assert_string_equal(query(f, "lmdb", 0, "a"), "1");
	assert_string_equal(query(f, "lmdb", DICT_FLAG_TRY1NULL, "a"), "-");
	assert_string_equal(query(f, "lmdb", DICT_FLAG_TRY0NULL, "b"), "2");
	/* An empty key can only exist in the NUL form. */
	assert_string_equal(query(f, "lmdb", 0, ""), "-");
}

static void
test_delete_and_sequence(void **state)
{
	struct fixture *f = *state;
	struct dict *dict;
	const char *key;
	const char *value;
	struct err err;
	char seen[256] = "";

	build(f, "lmdb", FOLD_WARN, sample);
	take_log(f);
	dict = dict_open3("lmdb", f->name, O_RDWR | O_CREAT, DICT_FLAG_FOLD_FIX,
	                  &err);
	assert_non_null(dict);
	assert_int_equal(dict_remove(dict, "FOO", &err), DICT_FOUND);
	assert_int_equal(dict_remove(dict, "foo", &err), DICT_NOTFOUND);
	assert_int_equal(dict_remove(dict, "", &err), DICT_NOTFOUND);
	for (int how = DICT_SEQ_FIRST;
	     dict_sequence(dict, how, &key, &value, &err) == DICT_FOUND;
	     how = DICT_SEQ_NEXT) {
		strcat(seen, key);
		strcat(seen, "=");
		strcat(seen, value);
		strcat(seen, "|");
	}
	assert_string_equal(seen, "key=Value With Spaces|upper=Val|");
	assert_int_equal(dict_sequence(dict, DICT_SEQ_NEXT, &key, &value, &err),
	                 DICT_NOTFOUND);
	/* An update after a sequence, and a sequence inside a batch. */
	assert_int_equal(dict_update(dict, "new", "val", &err), 0);
	assert_int_equal(
	    dict_sequence(dict, DICT_SEQ_FIRST, &key, &value, &err),
	    DICT_FOUND);
	assert_string_equal(key, "key");
	assert_int_equal(dict_update(dict, "z", "last", &err), 0);
	dict_close(&dict);
	assert_string_equal(query(f, "lmdb", 0, "new"), "val");
	assert_string_equal(query(f, "lmdb", 0, "z"), "last");

	/* An empty table sequences to nothing. */
	build(f, "lmdb", 0, (const char *const[]){NULL});
	dict = dict_open3("lmdb", f->name, O_RDONLY, 0, &err);
	assert_int_equal(
	    dict_sequence(dict, DICT_SEQ_FIRST, &key, &value, &err),
	    DICT_NOTFOUND);
	dict_close(&dict);
}

/* Readers see the old table until dict_sync, then the new one. */
static void
test_build_aside_and_rename(void **state)
{
	static const char *const old[] = {"k", "old", NULL};
	struct fixture *f = *state;
	struct dict *reader;
	struct dict *builder;
	const char *value;
	struct err err;
	char path[256];
	struct stat st;

	build(f, "hash", 0, old);
	snprintf(path, sizeof(path), "%s.db", f->name);
	assert_int_equal(chmod(path, 0600), 0);
	reader = dict_open3("hash", f->name, O_RDONLY, 0, &err);
	assert_non_null(reader);

	builder = dict_open3("hash", f->name, BUILD_FLAGS,
	                     DICT_FLAG_BULK_UPDATE, &err);
	assert_non_null(builder);
	assert_int_equal(dict_update(builder, "k", "new", &err), 0);
	assert_int_equal(dict_lookup(builder, "k", &value, &err), DICT_FOUND);
	assert_string_equal(value, "new");
	assert_int_equal(dict_lookup(reader, "k", &value, &err), DICT_FOUND);
	assert_string_equal(value, "old");
	assert_string_equal(query(f, "hash", 0, "k"), "old");
	assert_int_equal(dict_sync(builder, &err), 0);
	assert_int_equal(dict_lookup(reader, "k", &value, &err), DICT_FOUND);
	assert_string_equal(value, "new");
	/* After the rename, updates go to the published file in place. */
	assert_int_equal(dict_update(builder, "k2", "later", &err), 0);
	dict_close(&builder);
	assert_int_equal(dict_lookup(reader, "k2", &value, &err), DICT_FOUND);
	assert_string_equal(value, "later");
	dict_close(&reader);
	/* The rebuilt file keeps the old one's mode; no temporary is left. */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_string_equal(dir_listing(f), "t.db ");

	/* A build closed without dict_sync is thrown away. */
	builder = dict_open3("hash", f->name, BUILD_FLAGS,
	                     DICT_FLAG_BULK_UPDATE, &err);
	assert_int_equal(dict_update(builder, "k", "abandoned", &err), 0);
	dict_close(&builder);
	assert_string_equal(query(f, "hash", 0, "k"), "new");
	assert_string_equal(dir_listing(f), "t.db ");
}

static void
test_new_file_mode_follows_umask(void **state)
{
	static const char *const pairs[] = {"k", "v", NULL};
	struct fixture *f = *state;
	char path[256];
	struct stat st;
	mode_t old = umask(027);

	build(f, "lmdb", 0, pairs);
	umask(old);
	snprintf(path, sizeof(path), "%s.lmdb", f->name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
}

static void
test_truncate_in_place(void **state)
{
	struct fixture *f = *state;
	struct dict *dict;
	struct err err;

	build(f, "lmdb", FOLD_WARN, sample);
	dict = dict_open3("lmdb", f->name, BUILD_FLAGS, DICT_FLAG_DUP_REPLACE,
	                  &err);
	assert_non_null(dict);
	assert_string_equal(query(f, "lmdb", 0, "foo"), "-");
	assert_int_equal(dict_update(dict, "a", "1", &err), 0);
	assert_string_equal(query(f, "lmdb", 0, "a"), "1");
	dict_close(&dict);
	take_log(f);
}

/* Many big entries into a tiny map: MDB_MAP_FULL is absorbed. */
static void
grow_with(const struct fixture *f, int flags)
{
	char key[32];
	char value[600];
	struct dict *dict;
	struct err err;

	memset(value, 'v', sizeof(value) - 1);
	value[sizeof(value) - 1] = 0;
	dict = dict_open3("lmdb", f->name, BUILD_FLAGS, flags, &err);
	assert_non_null(dict);
	assert_int_equal(dict_lmdb_set_map_size(dict, 64 * 1024, &err), 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		if (dict_update(dict, key, value, &err) != 0)
			fail_msg("%s", err.text);
	}
	assert_int_equal(dict_sync(dict, &err), 0);
	dict_close(&dict);
	assert_string_equal(query(f, "lmdb", 0, "key0"), value);
	assert_string_equal(query(f, "lmdb", 0, "key2999"), value);
}

static void
test_map_grows(void **state)
{
	struct fixture *f = *state;

	grow_with(f, DICT_FLAG_BULK_UPDATE | DICT_FLAG_DUP_REPLACE);
	grow_with(f, DICT_FLAG_DUP_REPLACE);
}

static void
test_set_map_size_on_others(void **state)
{
	struct fixture *f = *state;
	struct dict *dict;
	struct err err;

	build(f, "lmdb", 0, sample);
	dict = dict_open3("lmdb", f->name, O_RDONLY, 0, &err);
	assert_true(dict_is_lmdb(dict));
	assert_int_equal(dict_lmdb_set_map_size(dict, 1 << 20, &err), 0);
	dict_close(&dict);
	take_log(f);
}

static void
test_read_only_handle_refuses_writes(void **state)
{
	struct fixture *f = *state;
	struct dict *dict;
	struct err err;
	char expect[256];

	build(f, "lmdb", DICT_FLAG_DUP_IGNORE, sample);
	dict = dict_open3("lmdb", f->name, O_RDONLY, 0, &err);
	assert_int_equal(dict_update(dict, "a", "b", &err), DICT_ERROR);
	snprintf(expect, sizeof(expect),
	         "lmdb:%s: update: table was opened read-only", f->name);
	assert_string_equal(err.text, expect);
	assert_int_equal(dict_remove(dict, "a", &err), DICT_ERROR);
	snprintf(expect, sizeof(expect),
	         "lmdb:%s: delete: table was opened read-only", f->name);
	assert_string_equal(err.text, expect);
	assert_int_equal(dict_sync(dict, &err), 0);
	dict_close(&dict);
}

static void
test_key_limits(void **state)
{
	struct fixture *f = *state;
	struct dict *dict;
	const char *value;
	struct err err;
	char key[600];
	char expect[1024];

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = 0;
	dict = dict_open3("lmdb", f->name, BUILD_FLAGS, 0, &err);
	assert_int_equal(dict_update(dict, key, "v", &err), DICT_ERROR);
	snprintf(expect, sizeof(expect),
	         "lmdb:%s: cannot store key \"%s\": LMDB keys are 1 to 511 "
	         "bytes",
	         f->name, key);
	assert_string_equal(err.text, expect);
	assert_int_equal(dict_lookup(dict, key, &value, &err), DICT_NOTFOUND);
	dict_close(&dict);
}

static void
write_bytes(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

static void
test_open_errors(void **state)
{
	struct fixture *f = *state;
	char junk[20000];
	char path[256];
	char expect[512];
	struct err err;

	/* Missing: read-only, and read-write without O_CREAT. */
	assert_null(dict_open3("lmdb", f->name, O_RDONLY, 0, &err));
	snprintf(expect, sizeof(expect),
	         "open database %s.lmdb: No such file or directory", f->name);
	assert_string_equal(err.text, expect);
	assert_null(dict_open3("hash", f->name, O_RDWR, 0, &err));
	snprintf(expect, sizeof(expect),
	         "open database %s.db: No such file or directory", f->name);
	assert_string_equal(err.text, expect);

	/* Junk bytes, and an empty file. */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 7 + 3);
	snprintf(path, sizeof(path), "%s.lmdb", f->name);
	write_bytes(path, junk, sizeof(junk));
	assert_null(dict_open3("lmdb", f->name, O_RDONLY, 0, &err));
	snprintf(expect, sizeof(expect),
	         "open database %s: MDB_INVALID: File is not an LMDB file",
	         path);
	assert_string_equal(err.text, expect);
	assert_null(dict_open3("lmdb", f->name, O_RDWR, 0, &err));
	assert_string_equal(err.text, expect);
	write_bytes(path, "", 0);
	assert_null(dict_open3("lmdb", f->name, O_RDONLY, 0, &err));
	snprintf(expect, sizeof(expect),
	         "open database %s: MDB_INVALID: File is not an LMDB file "
	         "(empty file)",
	         path);
	assert_string_equal(err.text, expect);

	/* A build replaces a junk file. */
	write_bytes(path, junk, sizeof(junk));
	build(f, "lmdb", 0, sample);
	assert_string_equal(query(f, "lmdb", 0, "Foo"), "bar");
	take_log(f);

	/* A directory where the build file should go. */
	snprintf(path, sizeof(path), "%s/nodir/t", f->dir);
	assert_null(
	    dict_open3("lmdb", path, BUILD_FLAGS, DICT_FLAG_BULK_UPDATE, &err));
	snprintf(expect, sizeof(expect),
	         "open database %s.lmdb: No such file or directory", path);
	assert_string_equal(err.text, expect);
}

/* A child holds a sequence (shared lock); an in-place writer waits. */
static void
test_writer_waits_for_reader(void **state)
{
	struct fixture *f = *state;
	struct dict *dict;
	const char *key;
	const char *value;
	struct err err;
	int ready[2];
	int status;
	char ch;
	pid_t pid;

	build(f, "lmdb", DICT_FLAG_DUP_IGNORE, sample);
	assert_int_equal(pipe(ready), 0);
	if ((pid = fork()) == 0) {
		dict = dict_open3("lmdb", f->name, O_RDONLY, 0, &err);
		if (dict_sequence(dict, DICT_SEQ_FIRST, &key, &value, &err) !=
		    DICT_FOUND)
			_exit(2);
		(void)write(ready[1], "x", 1);
		usleep(300 * 1000);
		/* Still consistent: the writer has not run. */
		if (dict_sequence(dict, DICT_SEQ_NEXT, &key, &value, &err) !=
		        DICT_FOUND ||
		    strcmp(key, "Key") != 0)
			_exit(3);
		if (dict_sequence(dict, DICT_SEQ_NEXT, &key, &value, &err) !=
		        DICT_FOUND ||
		    strcmp(key, "UPPER") != 0)
			_exit(4);
		dict_close(&dict);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &ch, 1), 1);
	dict = dict_open3("lmdb", f->name, O_RDWR, DICT_FLAG_DUP_REPLACE, &err);
	assert_non_null(dict);
	assert_int_equal(dict_remove(dict, "UPPER", &err), DICT_FOUND);
	dict_close(&dict);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	close(ready[0]);
	close(ready[1]);
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_lookups_fold_and_duplicates),
	    T(test_duplicate_warning_wording),
	    T(test_nul_conventions),
	    T(test_delete_and_sequence),
	    T(test_build_aside_and_rename),
	    T(test_new_file_mode_follows_umask),
	    T(test_truncate_in_place),
	    T(test_map_grows),
	    T(test_set_map_size_on_others),
	    T(test_read_only_handle_refuses_writes),
	    T(test_key_limits),
	    T(test_open_errors),
	    T(test_writer_waits_for_reader),
	};

	return cmocka_run_group_tests_name("dict_lmdb", tests, NULL, NULL);
}
