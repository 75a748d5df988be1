/*
 * test_alias_source.c - unit tests for aliases(5) parsing.
 *
 * The expected names and values are what Postfix 3.7's postalias stored
 * for the same lines (postalias -s), including its normal form of values.
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

#include "global/alias_source.h"

struct split_case {
	const char *line;
	const char *name;  /* NULL: error expected */
	const char *value; /* or the error text */
};

static void
test_split(void **state)
{
	static const struct split_case cases[] = {
	    {"postmaster: root", "postmaster", "root"},
	    {"Root: admin, other@example.com", "Root",
	     "admin, other@example.com"},
	    {"\"a b\": x", "a b", "x"},
	    {"list: :include:/etc/list, |\"/usr/bin/prog arg\", "
	     "\"|/bin/cmd with spaces\"",
	     "list",
	     ":include:/etc/list, |\"/usr/bin/prog arg\", \"|/bin/cmd "
	     "with spaces\""},
	    {"file: /var/log/file", "file", "/var/log/file"},
	    {"cont: one,   two,\tthree", "cont", "one, two, three"},
	    {"nocolon value lead: x", "nocolon value lead", "x"},
	    {"spaces   :   v1 ,  v2", "spaces", "v1, v2"},
	    {"v1: a b c", "v1", "a b c"},
	    {"v2: a,,b , ,c", "v2", "a, , b, , c"},
	    {"v3: Joe User <joe@example.com>, (comment) x", "v3",
	     "Joe User <joe@example.com>, (comment) x"},
	    {"v4: \"quoted  string\"@host,  x  @  y", "v4",
	     "\"quoted  string\"@host, x@y"},
	    {"v5: |/bin/foo   bar", "v5", "|/bin/foo bar"},
	    {"v6: \"|/bin/foo   bar\"", "v6", "\"|/bin/foo   bar\""},
	    {"v8: :include:  /etc/x", "v8", ":include:/etc/x"},
	    {"v9: \\root, \\\\x", "v9", "root, \"\\\\x\""},
	    {"v10: a;b", "v10", "a;b"},
	    {"v11: <>, @, x@", "v11", "<>, @, x@"},
	    {"v12: a\ttab\tb", "v12", "a tab b"},
	    {"v13: \"a", "v13", "\"a\""},
	    {"v14: x(unclosed", "v14", "x (unclosed"},
	    {"v15: x)y", "v15", "x)y"},
	    {"v16: x<y", "v16", "x <y"},
	    {"v17: \"a\\\"b\"", "v17", "\"a\\\"b\""},
	    {"v18: ,", "v18", ", "},
	    {"v19: \"\",", "v19", "\"\", "},
	    {"v20: a.b . c", "v20", "a.b.c"},
	    {"d1: a[b c]d, x[y", "d1", "a [b c] d, x [y]"},
	    {"d2: a\\.b, \"a.b\", a\\\"b", "d2",
	     "\"a.b\", \"a.b\", \"a\\\"b\""},
	    {"d3: x\\", "d3", "x"},
	    {"d4: ) ] > ;", "d4", ")]>;"},
	    {"k1: a | b, \"q\" | \"r\", x|\"s\" y", "k1",
	     "a|b, \"q\"|\"r\", x|\"s\" y"},
	    {"k2: a / b, \"q\" / \"r\", x/\"s\" y", "k2",
	     "a / b, \"q\" / \"r\", x/ \"s\" y"},
	    {"k3: a ! b", "k3", "a!b"},
	    {"k5: a % b", "k5", "a%b"},
	    {"k20: a \\\\ b, x\\\\\"s\" y", "k20",
	     "a \"\\\\\" b, \"x\\\\\" \"s\" y"},
	    {"q1: a\\|b, a\\%b, a\\!b, a\\ b", "q1",
	     "\"a|b\", \"a%b\", \"a!b\", \"a b\""},
	    {"\"q@x\": y", "q@x", "y"},
	    {"n1 n2 (c) : v", "n1 n2 (c)", "v"},
	    {"(c)k: v", "(c) k", "v"},
	    {"c1: (a (nested) b) x", "c1", "(a (nested) b) x"},
	    {"c2: (esc \\) paren) y", "c2", "(esc \\) paren) y"},
	    {"ctl2: a\001b", "ctl2", "\"a\001b\""},
	    {"e: \"\"", "e", "\"\""},
	    {"g:: h", "g", ":h"},
	    {"h: a: b", "h", "a:b"},
	    {"emptyval:", NULL, "need name:value pair"},
	    {":nokey", NULL, "need name:value pair"},
	    {"(c)", NULL, "need name:value pair"},
	    {"nocolon", NULL, "need name:value pair"},
	    {"a,b: x", NULL, "need name:value pair"},
	    {"quoted\"mid: y", NULL, "need name:value pair"},
	    {"a@b: local", NULL, "name must be local"},
	    {"a%b: x", NULL, "name must be local"},
	};
	struct strbuf name;
	struct strbuf value;

	(void)state;
	strbuf_init(&name, STRBUF_UNLIMITED);
	strbuf_init(&value, STRBUF_UNLIMITED);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err err;
		int ret =
		    alias_source_split(cases[i].line, &name, &value, &err);

		if (cases[i].name == NULL) {
			assert_int_equal(ret, -1);
			assert_string_equal(err.text, cases[i].value);
		} else {
			if (ret != 0)
				fail_msg("%s: %s", cases[i].line, err.text);
			assert_string_equal(strbuf_text(&name), cases[i].name);
			assert_string_equal(strbuf_text(&value),
			                    cases[i].value);
		}
	}
	strbuf_deinit(&name);
	strbuf_deinit(&value);
}

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

static char *
read_all(const char *text, size_t chunk)
{
	static char result[4096];
	struct chunked c = {text, strlen(text), 0, chunk};
	cookie_io_functions_t io = {.read = chunked_read};
	FILE *fp = fopencookie(&c, "r", io);
	struct table_source *ts;
	const char *name;
	const char *value;
	struct err err;
	int ret;

	setvbuf(fp, NULL, _IONBF, 0);
	ts = alias_source_from_stream(fp, "aliases");
	result[0] = 0;
	while ((ret = table_source_next(ts, &name, &value, &err)) !=
	       TABLE_SOURCE_END) {
		char item[512];

		if (ret == TABLE_SOURCE_ERROR) {
			snprintf(item, sizeof(item), "ERR:%s", err.text);
			strcat(result, item);
			break;
		}
		if (ret == TABLE_SOURCE_BAD_LINE)
			snprintf(item, sizeof(item), "!%s|", err.text);
		else
			snprintf(item, sizeof(item), "%d:%s=%s|",
			         table_source_lineno(ts), name, value);
		strcat(result, item);
	}
	table_source_close(&ts);
	assert_null(ts);
	fclose(fp);
	return result;
}

static void
test_files_whole_and_in_pieces(void **state)
{
	static const char file[] = "# comment\n"
	                           "postmaster: root\n"
	                           "cont: one,\n"
	                           "  two,\n"
	                           "\tthree\n"
	                           "\n"
	                           "bad\n"
	                           "q: \"a\n"
	                           "   b\"\n"
	                           "a@b: c\n";
	static const char expect[] =
	    "2:postmaster=root|3:cont=one, two, three|"
	    "!aliases, line 7: need name:value pair|8:q=\"a   b\"|"
	    "!aliases, line 10: name must be local|";
	static const size_t chunks[] = {1, 2, 5, 4096};

	(void)state;
	for (size_t j = 0; j < sizeof(chunks) / sizeof(chunks[0]); j++)
		assert_string_equal(read_all(file, chunks[j]), expect);
	assert_string_equal(read_all(" lead: x\n", 3),
	                    "ERR:aliases, line 1: logical line must not "
	                    "start with white space");
}

static void
test_open(void **state)
{
	char path[] = "/tmp/test_alias_source.XXXXXX";
	int fd = mkstemp(path);
	struct table_source *ts;
	const char *name;
	const char *value;
	struct err err;

	(void)state;
	assert_null(alias_source_open("/nonexistent/aliases", &err));
	assert_string_equal(err.text, "open /nonexistent/aliases: No such "
	                              "file or directory");
	assert_int_equal(write(fd, "Root: you\n", 10), 10);
	close(fd);
	ts = alias_source_open(path, &err);
	assert_non_null(ts);
	assert_string_equal(table_source_name(ts), path);
	assert_int_equal(table_source_next(ts, &name, &value, &err),
	                 TABLE_SOURCE_ENTRY);
	assert_string_equal(name, "Root");
	assert_string_equal(value, "you");
	assert_int_equal(table_source_next(ts, &name, &value, &err),
	                 TABLE_SOURCE_END);
	table_source_close(&ts);
	table_source_close(&ts);
	unlink(path);
}

static void
test_read_errors(void **state)
{
	static const char text[] = "a: b\nnul\0byte: c\n";
	FILE *fp = fmemopen((void *)text, sizeof(text) - 1, "r");
	struct table_source *ts = alias_source_from_stream(fp, "aliases");
	const char *name;
	const char *value;
	struct err err;

	(void)state;
	assert_string_equal(table_source_name(ts), "aliases");
	/* The reader looks one line ahead for continuations. */
	assert_int_equal(table_source_next(ts, &name, &value, &err),
	                 TABLE_SOURCE_ERROR);
	assert_string_equal(err.text, "aliases, line 2: NUL byte in text");
	table_source_close(&ts);
	fclose(fp);
}

struct value_case {
	const char *value;
	const char *expect; /* items joined with " ; " */
};

static void
test_value_split(void **state)
{
	static const struct value_case cases[] = {
	    {"root", "root"},
	    {"admin, other@example.com", "admin ; other@example.com"},
	    {":include:/etc/list, \"|/bin/cmd with spaces\", /var/f",
	     ":include:/etc/list ; |/bin/cmd with spaces ; /var/f"},
	    {"\"|/bin/cmd   arg\"", "|/bin/cmd   arg"},
	    {"|\"/usr/bin/prog arg\"", "|/usr/bin/prog arg"},
	    {"Joe User <joe@example.com>, (comment) x", "joe@example.com ; x"},
	    {"\"a b\"@example.com", "a b@example.com"},
	    {"a, , b, ", "a ; b"},
	    {"|/bin/foo bar", "|/bin/foo bar"},
	    {"", ""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct argv *av = alias_value_split(cases[i].value);
		char joined[512] = "";

		for (size_t j = 0; j < av->count; j++) {
			if (j > 0)
				strcat(joined, " ; ");
			strcat(joined, av->items[j]);
		}
		assert_string_equal(joined, cases[i].expect);
		argv_destroy(&av);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_files_whole_and_in_pieces),
	    cmocka_unit_test(test_open),
	    cmocka_unit_test(test_read_errors),
	    cmocka_unit_test(test_value_split),
	};

	return cmocka_run_group_tests_name("alias_source", tests, NULL, NULL);
}
