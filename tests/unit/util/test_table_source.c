/*
 * test_table_source.c - unit tests for postmap's "key whitespace value"
 * source reader. Expected keys and values are what Postfix 3.7's postmap
 * stored for the same lines (checked with postmap -s).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/table_source.h"

struct split_case {
	const char *line;
	const char *key;   /* NULL: error expected */
	const char *value; /* or the error text */
};

static void
test_split(void **state)
{
	static const struct split_case cases[] = {
	    {"a b", "a", "b"},
	    {"Key  Value With Spaces", "Key", "Value With Spaces"},
	    {"k2\t\t v2", "k2", "v2"},
	    {"\"a b\" v1", "\"a b\"", "v1"},
	    {"\"q\\\"x\" v2", "\"q\\\"x\"", "v2"},
	    {"\"back\\\\slash\" v3", "\"back\\\\slash\"", "v3"},
	    {"a\\ b v1", "a\\ b", "v1"},
	    {"end\\\\ v2", "end\\\\", "v2"},
	    {"x\"y z\"w v4", "x\"y z\"w", "v4"},
	    {"\"\" v6", "\"\"", "v6"},
	    {"k \"v a l\"", "k", "\"v a l\""},
	    {"k3 \"unbal", "k3", "\"unbal"},
	    {"a: b", "a:", "b"},
	    {"x", NULL, "expected format: key whitespace value"},
	    {"x\\", NULL, "expected format: key whitespace value"},
	    {"x\\ ", NULL, "expected format: key whitespace value"},
	    {"x\\ \t", NULL, "expected format: key whitespace value"},
	    {"", NULL, "expected format: key whitespace value"},
	    {"k \\", "k", "\\"},
	    {"k\t \tv  w", "k", "v  w"},
	    {"\"a b\"", NULL, "expected format: key whitespace value"},
	    {"\"unterminated v4", NULL,
	     "unbalanced '\"' in '\"unterminated v4' -- ignoring this "
	     "line"},
	    {"plain\"q v8", NULL,
	     "unbalanced '\"' in 'plain\"q v8' -- ignoring this line"},
	};

	struct strbuf key;
	struct strbuf value;

	(void)state;
	/* One pair of buffers throughout: each split replaces their text. */
	strbuf_init(&key, STRBUF_UNLIMITED);
	strbuf_init(&value, STRBUF_UNLIMITED);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err err;
		int ret = table_source_split(cases[i].line, &key, &value, &err);

		if (cases[i].key == NULL) {
			assert_int_equal(ret, -1);
			assert_string_equal(err.text, cases[i].value);
		} else {
			assert_int_equal(ret, 0);
			assert_string_equal(strbuf_text(&key), cases[i].key);
			assert_string_equal(strbuf_text(&value),
			                    cases[i].value);
		}
	}
	strbuf_deinit(&key);
	strbuf_deinit(&value);
}

/* A stream that hands out at most chunk bytes per read. */
struct chunked {
	const char *text;
	size_t len;
	size_t pos;
	size_t chunk;
};

static ssize_t
chunked_read(void *cookie, char *buf, size_t size)
{
	struct chunked *c = cookie;
	size_t n = c->len - c->pos;

	if (n > size)
		n = size;
	if (n > c->chunk)
		n = c->chunk;
	memcpy(buf, c->text + c->pos, n);
	c->pos += n;
	return (ssize_t)n;
}

/* All entries of text as "line:key=value|", bad lines as "!reason|". */
static char *
read_all(const char *text, size_t chunk)
{
	static char result[4096];
	struct chunked c = {text, strlen(text), 0, chunk};
	cookie_io_functions_t io = {.read = chunked_read};
	FILE *fp = fopencookie(&c, "r", io);
	struct table_source *ts;
	const char *key;
	const char *value;
	struct err err;
	int ret;

	setvbuf(fp, NULL, _IONBF, 0);
	ts = table_source_from_stream(fp, "src");
	assert_string_equal(table_source_name(ts), "src");
	result[0] = 0;
	while ((ret = table_source_next(ts, &key, &value, &err)) !=
	       TABLE_SOURCE_END) {
		char item[256];

		if (ret == TABLE_SOURCE_ERROR) {
			snprintf(item, sizeof(item), "ERR:%s", err.text);
			strcat(result, item);
			break;
		}
		if (ret == TABLE_SOURCE_BAD_LINE)
			snprintf(item, sizeof(item), "!%s|", err.text);
		else
			snprintf(item, sizeof(item), "%d:%s=%s|",
			         table_source_lineno(ts), key, value);
		strcat(result, item);
	}
	table_source_close(&ts);
	assert_null(ts);
	fclose(fp);
	return result;
}

struct file_case {
	const char *text;
	const char *expect;
};

static void
test_files_whole_and_in_pieces(void **state)
{
	static const struct file_case cases[] = {
	    {"Foo bar\nfoo baz\n# c\n\nx\n",
	     "1:Foo=bar|2:foo=baz|!src, line 5: expected format: key "
	     "whitespace value|"},
	    {"a x\n y\nb\n\tz\n", "1:a=x y|3:b=z|"},
	    {"d x\n#c\n y\n", "1:d=x y|"},
	    {"k x\n    y  \n\tz \n", "1:k=x    y  \tz|"},
	    {"k x\n   \n y\n", "1:k=x y|"},
	    {"k v", "1:k=v|"},
	    {"\"open x\nk v\n",
	     "!src, line 1: unbalanced '\"' in '\"open x' -- ignoring "
	     "this line|2:k=v|"},
	    {" lead x\n",
	     "ERR:src, line 1: logical line must not start with white "
	     "space"},
	    {"", ""},
	};
	static const size_t chunks[] = {1, 2, 3, 7, 4096};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t j = 0; j < sizeof(chunks) / sizeof(chunks[0]); j++)
			assert_string_equal(read_all(cases[i].text, chunks[j]),
			                    cases[i].expect);
}

static void
test_nul_byte_is_an_error(void **state)
{
	static const char text[] = "a b\nnul\0byte c\n";
	FILE *fp = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct table_source *ts = table_source_from_stream(fp, "src");
	const char *key;
	const char *value;
	struct err err;

	(void)state;
	/* The reader looks one line ahead for continuations. */
	assert_int_equal(table_source_next(ts, &key, &value, &err),
	                 TABLE_SOURCE_ERROR);
	assert_string_equal(err.text, "src, line 2: NUL byte in text");
	table_source_close(&ts);
	fclose(fp);
}

static void
test_open_missing_file(void **state)
{
	struct err err;
	struct table_source *none = NULL;

	(void)state;
	table_source_close(&none); /* NULL-safe */
	assert_null(table_source_open("/nonexistent/table", &err));
	assert_string_equal(err.text,
	                    "open /nonexistent/table: No such file or "
	                    "directory");
}

static void
test_open_file(void **state)
{
	char path[] = "/tmp/test_table_source.XXXXXX";
	int fd = mkstemp(path);
	struct table_source *ts;
	const char *key;
	const char *value;
	struct err err;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "k v\n", 4), 4);
	close(fd);
	ts = table_source_open(path, &err);
	assert_non_null(ts);
	assert_string_equal(table_source_name(ts), path);
	assert_int_equal(table_source_next(ts, &key, &value, &err),
	                 TABLE_SOURCE_ENTRY);
	assert_string_equal(key, "k");
	assert_string_equal(value, "v");
	assert_int_equal(table_source_lineno(ts), 1);
	assert_int_equal(table_source_next(ts, &key, &value, &err),
	                 TABLE_SOURCE_END);
	table_source_close(&ts);
	unlink(path);
}

/* A syntax for the test: "key=value", anything else rejected. */
static int
split_equals(const char *line, struct strbuf *key, struct strbuf *value,
             struct err *err)
{
	const char *eq = strchr(line, '=');

	strbuf_reset(key);
	strbuf_reset(value);
	if (eq == NULL) {
		err_set(err, "no '=' in '%s'", line);
		return -1;
	}
	strbuf_append(key, line, (size_t)(eq - line));
	strbuf_append_str(value, eq + 1);
	return 0;
}

static void
test_set_split(void **state)
{
	static const char text[] = "a b\nk=v\n  w\nno equals\n\nx=\n";
	FILE *fp = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct table_source *ts = table_source_from_stream(fp, "src");
	const char *key;
	const char *value;
	struct err err;

	(void)state;
	/* Line 1 in the default syntax, then the other one. */
	assert_int_equal(table_source_next(ts, &key, &value, &err),
	                 TABLE_SOURCE_ENTRY);
	assert_string_equal(key, "a");
	assert_string_equal(value, "b");
	table_source_set_split(ts, split_equals);
	assert_int_equal(table_source_next(ts, &key, &value, &err),
	                 TABLE_SOURCE_ENTRY);
	assert_string_equal(key, "k");
	assert_string_equal(value, "v  w");
	assert_int_equal(table_source_lineno(ts), 2);
	assert_int_equal(table_source_next(ts, &key, &value, &err),
	                 TABLE_SOURCE_BAD_LINE);
	assert_string_equal(err.text, "src, line 4: no '=' in 'no equals'");
	assert_int_equal(table_source_next(ts, &key, &value, &err),
	                 TABLE_SOURCE_ENTRY);
	assert_string_equal(key, "x");
	assert_string_equal(value, "");
	assert_int_equal(table_source_lineno(ts), 6);
	assert_int_equal(table_source_next(ts, &key, &value, &err),
	                 TABLE_SOURCE_END);
	assert_null(key);
	assert_null(value);
	table_source_close(&ts);
	fclose(fp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_files_whole_and_in_pieces),
	    cmocka_unit_test(test_nul_byte_is_an_error),
	    cmocka_unit_test(test_open_missing_file),
	    cmocka_unit_test(test_open_file),
	    cmocka_unit_test(test_set_split),
	};

	return cmocka_run_group_tests_name("table_source", tests, NULL, NULL);
}
