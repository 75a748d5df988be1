/*
 * test_dict_texthash.c - unit tests for texthash: tables. Expected answers
 * and warnings are Postfix 3.7's for the same files (postmap -q/-s).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/dict.h"
#include "util/log.h"
#include "util/mymalloc.h"

struct fixture {
	char dir[64];
	char table[128];
	char log[128];
};

static int
setup(void **state)
{
	struct fixture *f = xmalloc(sizeof(*f));
	struct err err;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_texthash.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->table, sizeof(f->table), "%s/t", f->dir);
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

	unlink(f->table);
	unlink(f->log);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* The warnings logged since the last call, without the line prefixes. */
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
	while (fgets(line, sizeof(line), fp) != NULL) {
		if ((cp = strstr(line, "warning: ")) != NULL)
			strcat(text, cp + strlen("warning: "));
	}
	fclose(fp);
	fclose(fopen(f->log, "w"));
	return text;
}

static const char source[] = "Foo bar\n"
                             "foo baz\n"
                             "Key  Value With Spaces\n"
                             "   continued\n"
                             "UPPER Val\n"
                             "x\n"
                             "\"a b\" quoted\n";

struct lookup_case {
	int flags;
	const char *key;
	const char *value; /* NULL: not found */
};

static void
test_lookups(void **state)
{
	static const struct lookup_case cases[] = {
	    {DICT_FLAG_FOLD_FIX, "foo", "bar"},
	    {DICT_FLAG_FOLD_FIX, "FOO", "bar"},
	    {DICT_FLAG_FOLD_FIX, "key", "Value With Spaces   continued"},
	    {DICT_FLAG_FOLD_FIX, "Upper", "Val"},
	    {DICT_FLAG_FOLD_FIX, "\"A B\"", "quoted"},
	    {DICT_FLAG_FOLD_FIX, "a b", NULL},
	    {DICT_FLAG_FOLD_FIX, "x", NULL},
	    {DICT_FLAG_FOLD_FIX, "nope", NULL},
	    {0, "Foo", "bar"},
	    {0, "foo", "baz"},
	    {0, "upper", NULL},
	    {0, "UPPER", "Val"},
	    {DICT_FLAG_FOLD_FIX | DICT_FLAG_DUP_REPLACE, "foo", "baz"},
	    {DICT_FLAG_FOLD_FIX | DICT_FLAG_DUP_IGNORE, "foo", "bar"},
	};
	struct fixture *f = *state;

	write_file(f->table, source);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dict *dict;
		const char *value;
		struct err err;
		int ret;

		dict = dict_open3("texthash", f->table, O_RDONLY,
		                  cases[i].flags, &err);
		assert_non_null(dict);
		ret = dict_lookup(dict, cases[i].key, &value, &err);
		if (cases[i].value == NULL) {
			assert_int_equal(ret, DICT_NOTFOUND);
			assert_null(value);
		} else {
			assert_int_equal(ret, DICT_FOUND);
			assert_string_equal(value, cases[i].value);
		}
		dict_close(&dict);
		assert_null(dict);
	}
	take_log(f);
}

static void
test_warnings(void **state)
{
	struct fixture *f = *state;
	struct dict *dict;
	struct err err;
	char expect[1024];

	write_file(f->table, source);
	take_log(f);
	dict = dict_open3("texthash", f->table, O_RDONLY,
	                  DICT_FLAG_FOLD_FIX | DICT_FLAG_DUP_WARN, &err);
	assert_non_null(dict);
	dict_close(&dict);
	snprintf(expect, sizeof(expect),
	         "%s, line 2: duplicate entry: \"foo\"\n"
	         "%s, line 6: expected format: key whitespace value -- "
	         "ignoring this line\n",
	         f->table, f->table);
	assert_string_equal(take_log(f), expect);

	/* Quiet duplicates; bad lines still warn. */
	dict = dict_open3("texthash", f->table, O_RDONLY,
	                  DICT_FLAG_FOLD_FIX | DICT_FLAG_DUP_IGNORE, &err);
	dict_close(&dict);
	snprintf(expect, sizeof(expect),
	         "%s, line 6: expected format: key whitespace value -- "
	         "ignoring this line\n",
	         f->table);
	assert_string_equal(take_log(f), expect);

	write_file(f->table, "\"open x\n");
	dict = dict_open3("texthash", f->table, O_RDONLY, 0, &err);
	dict_close(&dict);
	snprintf(expect, sizeof(expect),
	         "%s, line 1: unbalanced '\"' in '\"open x' -- ignoring this "
	         "line\n",
	         f->table);
	assert_string_equal(take_log(f), expect);
}

static void
test_sequence_sorted(void **state)
{
	struct fixture *f = *state;
	struct dict *dict;
	const char *key;
	const char *value;
	struct err err;
	char seen[256] = "";

	write_file(f->table, "b 2\nc 3\na 1\n");
	dict = dict_open3("texthash", f->table, O_RDONLY, DICT_FLAG_FOLD_FIX,
	                  &err);
	assert_non_null(dict);
	for (int how = DICT_SEQ_FIRST;
	     dict_sequence(dict, how, &key, &value, &err) == DICT_FOUND;
	     how = DICT_SEQ_NEXT) {
		strcat(seen, key);
		strcat(seen, "=");
		strcat(seen, value);
		strcat(seen, " ");
	}
	assert_string_equal(seen, "a=1 b=2 c=3 ");
	/* Past the end stays at the end; FIRST starts over. */
	assert_int_equal(dict_sequence(dict, DICT_SEQ_NEXT, &key, &value, &err),
	                 DICT_NOTFOUND);
	assert_int_equal(
	    dict_sequence(dict, DICT_SEQ_FIRST, &key, &value, &err),
	    DICT_FOUND);
	assert_string_equal(key, "a");
	dict_close(&dict);

	write_file(f->table, "# nothing\n");
	dict = dict_open3("texthash", f->table, O_RDONLY, 0, &err);
	assert_int_equal(
	    dict_sequence(dict, DICT_SEQ_FIRST, &key, &value, &err),
	    DICT_NOTFOUND);
	dict_close(&dict);
}

static void
test_open_errors(void **state)
{
	struct fixture *f = *state;
	struct dict *dict;
	struct err err;
	char expect[512];
	FILE *fp;

	(void)f;
	assert_null(dict_open("texthash:/nonexistent/t", O_RDONLY, 0, &err));
	assert_string_equal(err.text, "open database /nonexistent/t: No such "
	                              "file or directory");
	assert_null(
	    dict_open("texthash:/nonexistent/t", O_RDWR | O_CREAT, 0, &err));
	assert_string_equal(err.text, "texthash:/nonexistent/t map requires "
	                              "O_RDONLY access mode");

	/* A line over the reader's limit stops the load. */
	fp = fopen(f->table, "w");
	for (int i = 0; i < 70000; i++)
		fputc('k', fp);
	fputs(" v\n", fp);
	fclose(fp);
	assert_null(dict_open3("texthash", f->table, O_RDONLY, 0, &err));
	snprintf(expect, sizeof(expect),
	         "%s, line 1: line longer than 65536 bytes", f->table);
	assert_string_equal(err.text, expect);

	write_file(f->table, "a b\n");
	dict = dict_open3("texthash", f->table, O_RDONLY, 0, &err);
	assert_int_equal(dict_update(dict, "k", "v", &err), DICT_ERROR);
	snprintf(expect, sizeof(expect),
	         "texthash:%s: update is not supported by texthash tables",
	         f->table);
	assert_string_equal(err.text, expect);
	dict_close(&dict);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lookups, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_warnings, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sequence_sorted, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	};

	return cmocka_run_group_tests_name("dict_texthash", tests, NULL, NULL);
}
