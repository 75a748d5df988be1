/*
 * test_mail_conf.c - unit tests for loading, expanding and reading main.cf.
 *
 * Tables of main.cf texts (continuations, comments, duplicates, every load
 * error, read whole and in pieces), of typed reads with Postfix's wording
 * for bad values, and of name checks. The expansion language has its own
 * tests in test_conf_expand.c. Warnings are checked by capturing stderr.
 * Nothing here depends on the machine's host name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../stderr_capture.h"

#include "util/line_reader.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#include "global/mail_conf.h"
#include "global/mail_params.h"

struct fixture {
	char dir[64];
	char path[96];
};

static int
setup(void **state)
{
	struct fixture *fx = xmalloc(sizeof(*fx));

	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_mail_conf.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/main.cf", fx->dir);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

static void
write_main_cf(const struct fixture *fx, const char *text, size_t len)
{
	FILE *fp = fopen(fx->path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static struct mail_conf *
load_text(const struct fixture *fx, const char *text, struct err *err)
{
	write_main_cf(fx, text, strlen(text));
	return mail_conf_load(fx->dir, err);
}

/* "postern: warning: DIR/main.cf..." with DIR put in for @. */
static char *
with_dir(const struct fixture *fx, const char *tmpl)
{
	struct strbuf sb;
	char *text;

	strbuf_init(&sb, STRBUF_UNLIMITED);
	for (const char *p = tmpl; *p; p++) {
		if (*p == '@')
			strbuf_append_str(&sb, fx->dir);
		else
			strbuf_append_char(&sb, *p);
	}
	text = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
	return text;
}

/*
 * Loading.
 */

struct load_case {
	const char *text;
	const char *name;
	const char *raw; /* NULL: name must not be set */
};

static void
test_load_values(void **state)
{
	static const struct load_case cases[] = {
		{"myhostname = a\n", "myhostname", "a"},
		{"myhostname=a", "myhostname", "a"},
		{"myhostname\t=\ta \t\n", "myhostname", "a"},
		{"myhostname =\n", "myhostname", ""},
		{"myhostname = a\r\n", "myhostname", "a"},
		{"myhostname = a\n  b\n# c\n  c\n", "myhostname", "a b c"},
		{"myhostname = a\n\n\t\n b\n", "myhostname", "a b"},
		{"myhostname = a # not a comment\n", "myhostname",
		 "a # not a comment"},
		{"myhostname = a\\\n  b\n", "myhostname", "a\\ b"},
		{"# comment\n\nmydomain = x\n", "mydomain", "x"},
		{"MyDomain = a\n", "MyDomain", "a"},
		{"MyDomain = a\n", "mydomain", NULL},
		{"a.b-c = x = y\n", "a.b-c", "x = y"},
		{"foo = $bar ${baz}\n", "foo", "$bar ${baz}"},
		{"myhostname = a\nmyhostname = b\n", "myhostname", "b"},
		{"x = 1", "x", "1"},
		{"", "x", NULL},
	};
	struct fixture *fx = *state;
	struct capture cap;
	struct err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mail_conf *conf;

		capture_start(&cap);
		conf = load_text(fx, cases[i].text, &err);
		free(capture_end(&cap));
		assert_non_null(conf);
		if (cases[i].raw == NULL)
			assert_null(mail_conf_raw(conf, cases[i].name));
		else
			assert_string_equal(mail_conf_raw(conf, cases[i].name),
					    cases[i].raw);
		mail_conf_destroy(&conf);
		assert_null(conf);
	}
}

static void
test_load_order_and_lines(void **state)
{
	struct fixture *fx = *state;
	struct capture cap;
	struct err err;
	struct mail_conf *conf;
	struct argv *names;
	char *log, *expect;

	capture_start(&cap);
	conf = load_text(fx, "# top\nb = 1\na = 2\n  continued\nb = 3\nc = 4\n",
			 &err);
	log = capture_end(&cap);
	assert_non_null(conf);
	names = mail_conf_names(conf);
	assert_int_equal(names->count, 4);
	assert_string_equal(names->items[0], "config_directory");
	assert_string_equal(names->items[1], "b");
	assert_string_equal(names->items[2], "a");
	assert_string_equal(names->items[3], "c");
	assert_int_equal(mail_conf_lineno(conf, "a"), 3);
	assert_int_equal(mail_conf_lineno(conf, "b"), 5);
	assert_int_equal(mail_conf_lineno(conf, "config_directory"), 0);
	assert_int_equal(mail_conf_lineno(conf, "nosuch"), 0);
	assert_string_equal(mail_conf_raw(conf, "a"), "2 continued");
	expect = with_dir(fx, "postern: warning: @/main.cf, line 5: overriding "
			      "earlier entry: b=1\n");
	assert_string_equal(log, expect);
	free(expect);
	free(log);
	argv_destroy(&names);
	mail_conf_destroy(&conf);
}

struct load_error_case {
	const char *text;
	size_t len;        /* 0: strlen(text) */
	const char *error; /* after "DIR/main.cf, " */
};

static void
test_load_errors(void **state)
{
	static const struct load_error_case cases[] = {
		{"myhostname = a\nfoo\n", 0,
		 "line 2: missing '=' after attribute name: \"foo\""},
		{"= x\n", 0, "line 1: missing attribute name: \"= x\""},
		{"my name = x\n", 0,
		 "line 1: missing '=' after attribute name: \"my name = x\""},
		{"a = 1\nb\n  = 2\nc\n", 0,
		 "line 4: missing '=' after attribute name: \"c\""},
		{"a = 1\nb = x\0y\n", 12, "line 2: NUL byte in text"},
	};
	struct fixture *fx = *state;
	struct err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len =
		    cases[i].len ? cases[i].len : strlen(cases[i].text);
		char *expect = xasprintf("%s, %s", fx->path, cases[i].error);

		write_main_cf(fx, cases[i].text, len);
		assert_null(mail_conf_load(fx->dir, &err));
		assert_string_equal(err.text, expect);
		free(expect);
	}
}

/* As Postfix: an indented first line is skipped with a warning. */
static void
test_load_skips_indented_line(void **state)
{
	static const struct {
		const char *text;
		const char *quoted; /* in the warning (recorded from Postfix) */
		int lineno;         /* of mydomain */
	} cases[] = {
		{"  myorigin = a.example\n  cont\nmydomain = b.example\n",
		 "  myorigin = a.example  cont", 3},
		{"# c\n\n\tmyorigin = a\n  # c\n  cont\t\n"
		 "mydomain = b.example\n",
		 "?myorigin = a  cont?", 6},
		{"  a = b   \n  \nmydomain = b.example\n", "  a = b   ", 3},
		{"  myorigin = a.example.very.long.name\nmydomain = b.example",
		 "  myorigin = a.example.very.lo...", 2},
		{"  myorigin = a.example.very.l\nmydomain = b.example",
		 "  myorigin = a.example.very.l", 2},
	};
	struct fixture *fx = *state;
	struct capture cap;
	struct err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mail_conf *conf;
		struct argv *names;
		char *log, *expect;

		capture_start(&cap);
		conf = load_text(fx, cases[i].text, &err);
		log = capture_end(&cap);
		assert_non_null(conf);
		names = mail_conf_names(conf);
		assert_int_equal(names->count, 2);
		assert_string_equal(names->items[1], "mydomain");
		assert_string_equal(mail_conf_raw(conf, "mydomain"),
				    "b.example");
		assert_int_equal(mail_conf_lineno(conf, "mydomain"),
				 cases[i].lineno);
		expect = xasprintf("postern: warning: %s: logical line must "
				   "not start with whitespace: \"%s\"\n",
				   fx->path, cases[i].quoted);
		assert_string_equal(log, expect);
		free(expect);
		free(log);
		argv_destroy(&names);
		mail_conf_destroy(&conf);
	}
}

static void
test_load_long_line(void **state)
{
	struct fixture *fx = *state;
	size_t len = LINE_READER_MAX_LINE + 10;
	char *text = xmalloc(len + 1);
	char *expect;
	struct err err;

	memset(text, 'x', len);
	memcpy(text, "a = ", 4);
	write_main_cf(fx, text, len);
	assert_null(mail_conf_load(fx->dir, &err));
	expect = xasprintf("%s, line 1: line longer than %d bytes", fx->path,
			   LINE_READER_MAX_LINE);
	assert_string_equal(err.text, expect);
	free(expect);
	free(text);
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
	struct chunked *ch = cookie;
	size_t n = ch->len - ch->pos;

	if (n > ch->chunk)
		n = ch->chunk;
	if (n > size)
		n = size;
	memcpy(buf, ch->text + ch->pos, n);
	ch->pos += n;
	return (ssize_t)n;
}

/* name=raw;name=raw... of a loaded conf, or "error: TEXT". */
static char *
describe_load(const char *text, size_t chunk)
{
	struct chunked ch = {text, strlen(text), 0, chunk};
	cookie_io_functions_t io = {.read = chunked_read};
	FILE *fp = fopencookie(&ch, "r", io);
	struct mail_conf *conf;
	struct argv *names;
	struct strbuf sb;
	struct capture cap;
	struct err err;
	char *out;

	assert_non_null(fp);
	setvbuf(fp, NULL, _IONBF, 0);
	capture_start(&cap);
	conf = mail_conf_load_stream("/cfg", fp, &err);
	free(capture_end(&cap));
	fclose(fp);
	if (conf == NULL)
		return xasprintf("error: %s", err.text);
	strbuf_init(&sb, STRBUF_UNLIMITED);
	names = mail_conf_names(conf);
	for (size_t i = 0; i < names->count; i++)
		strbuf_printf(&sb, "%s=%s;", names->items[i],
			      mail_conf_raw(conf, names->items[i]));
	argv_destroy(&names);
	mail_conf_destroy(&conf);
	out = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
	return out;
}

static void
test_load_stream_in_pieces(void **state)
{
	static const struct {
		const char *text;
		const char *expect;
	} cases[] = {
		{"a = 1\nb = 2\n  3\n# x\nc=\n",
		 "config_directory=/cfg;a=1;b=2 3;c=;"},
		{"a = 1\r\n\tb\r\na = 2", "config_directory=/cfg;a=2;"},
		{"", "config_directory=/cfg;"},
		{"a = 1\nbad line\n",
		 "error: /cfg/main.cf, line 2: missing '=' after attribute "
		 "name: \"bad line\""},
		{"  x = 1\n  y\n\na = 2\n  3\n",
		 "config_directory=/cfg;a=2 3;"},
	};
	static const size_t chunks[] = {1, 2, 3, 5, 7, 4096};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]);
		     c++) {
			char *got = describe_load(cases[i].text, chunks[c]);

			assert_string_equal(got, cases[i].expect);
			free(got);
		}
	}
}

static void
test_load_missing_file(void **state)
{
	struct fixture *fx = *state;
	struct err err;
	char *expect =
	    xasprintf("open %s: No such file or directory", fx->path);

	assert_null(mail_conf_load(fx->dir, &err));
	assert_string_equal(err.text, expect);
	free(expect);
}

static void
test_load_directory_choice(void **state)
{
	struct fixture *fx = *state;
	struct capture cap;
	struct err err;
	struct mail_conf *conf;
	char *log, *expect;

	write_main_cf(fx, "a = 1\n", 6);
	setenv("MAIL_CONFIG", fx->dir, 1);
	conf = mail_conf_load(NULL, &err);
	assert_non_null(conf);
	assert_string_equal(mail_conf_dir(conf), fx->dir);
	assert_string_equal(mail_conf_path(conf), fx->path);
	assert_string_equal(mail_conf_raw(conf, "config_directory"), fx->dir);
	assert_string_equal(mail_conf_str(conf, "config_directory"), fx->dir);
	mail_conf_destroy(&conf);
	conf = mail_conf_load("", &err);
	assert_non_null(conf);
	assert_string_equal(mail_conf_dir(conf), fx->dir);
	mail_conf_destroy(&conf);
	unsetenv("MAIL_CONFIG");

	/* main.cf may set config_directory itself; Postfix warns. */
	write_main_cf(fx, "config_directory = /elsewhere\n", 30);
	capture_start(&cap);
	conf = mail_conf_load(fx->dir, &err);
	log = capture_end(&cap);
	assert_non_null(conf);
	assert_string_equal(mail_conf_str(conf, "config_directory"),
			    "/elsewhere");
	expect = with_dir(fx, "postern: warning: @/main.cf, line 1: overriding "
			      "earlier entry: config_directory=@\n");
	assert_string_equal(log, expect);
	free(expect);
	free(log);
	mail_conf_destroy(&conf);

	/* The default directory is not an explicit setting. */
	conf = mail_conf_create(NULL);
	assert_string_equal(mail_conf_dir(conf), MAIL_CONF_DEFAULT_DIR);
	assert_string_equal(mail_conf_path(conf), "/etc/postfix/main.cf");
	assert_null(mail_conf_raw(conf, "config_directory"));
	assert_string_equal(mail_conf_str(conf, "config_directory"),
			    "/etc/postfix");
	mail_conf_destroy(&conf);
	mail_conf_destroy(&conf);
}

/* Values handed out stay valid when later settings change them. */
static void
test_get_cache_and_set(void **state)
{
	struct mail_conf *conf = mail_conf_create("/nonexistent");
	const char *first, *again, *second;
	struct err err;

	(void)state;
	mail_conf_set(conf, "myhostname", "mail.example.com");
	assert_int_equal(mail_conf_get(conf, "myorigin", &first, &err), 0);
	assert_string_equal(first, "mail.example.com");
	assert_int_equal(mail_conf_get(conf, "myorigin", &again, &err), 0);
	assert_ptr_equal(first, again);
	mail_conf_set(conf, "myhostname", "other.example.com");
	assert_int_equal(mail_conf_get(conf, "myorigin", &second, &err), 0);
	assert_string_equal(second, "other.example.com");
	assert_string_equal(first, "mail.example.com");
	assert_int_equal(mail_conf_get(conf, "nosuch", &second, &err), -1);
	assert_string_equal(err.text, "parameter nosuch: not defined");
	mail_conf_set(conf, "nosuch", "now $myhostname");
	assert_int_equal(mail_conf_get(conf, "nosuch", &second, &err), 0);
	assert_string_equal(second, "now other.example.com");
	mail_conf_destroy(&conf);
}

static void
test_defaults_and_raw(void **state)
{
	struct mail_conf *conf = mail_conf_create("/nonexistent");
	const char *value;

	(void)state;
	assert_string_equal(mail_conf_default(conf, "myorigin"), "$myhostname");
	assert_null(mail_conf_default(conf, "nosuch"));
	assert_null(mail_conf_default(conf, "smtpd_tls_loglevel"));
	mail_conf_set(conf, "myhostname", "host.example.org");
	assert_string_equal(mail_conf_default(conf, "mydomain"), "example.org");
	assert_string_equal(mail_conf_str(conf, "mydestination"),
			    "host.example.org, localhost.example.org, "
			    "localhost");
	assert_null(mail_conf_raw(conf, "mydomain"));
	assert_int_equal(mail_conf_get(conf, "relay_domains", &value, NULL), 0);
	assert_string_equal(value, "host.example.org, localhost.example.org, "
				   "localhost");
	mail_conf_set(conf, "compatibility_level", "3.6");
	assert_string_equal(mail_conf_str(conf, "relay_domains"), "");
	assert_string_equal(mail_conf_str(conf, "mynetworks_style"), "host");
	mail_conf_destroy(&conf);
}

static void
test_default_failure_is_warned(void **state)
{
	struct mail_conf *conf = mail_conf_create("/cfg");
	struct capture cap;
	const char *value;
	struct err err;
	char *log;

	(void)state;
	mail_conf_set(conf, "mynetworks_style", "wide");
	capture_start(&cap);
	assert_string_equal(mail_conf_default(conf, "mynetworks"), "");
	log = capture_end(&cap);
	assert_string_equal(log, "postern: warning: /cfg/main.cf: parameter "
				 "mynetworks: unknown mynetworks mask style "
				 "value \"wide\" in \"wide\"\n");
	free(log);
	assert_int_equal(mail_conf_get(conf, "mynetworks", &value, &err), -1);
	assert_string_equal(err.text,
			    "parameter mynetworks: unknown mynetworks "
			    "mask style value \"wide\" in \"wide\"");
	mail_conf_destroy(&conf);
}

/*
 * Typed reads.
 */

enum getter { GET_BOOL, GET_INT, GET_SIZE, GET_TIME };

struct typed_case {
	enum getter getter;
	const char *name;
	const char *value; /* NULL: the default */
	long long expect;
	const char *error; /* NULL: success */
};

static const struct typed_case typed_cases[] = {
	{GET_BOOL, "biff", NULL, 1, NULL},
	{GET_BOOL, "biff", "no", 0, NULL},
	{GET_BOOL, "biff", "YES", 1, NULL},
	{GET_BOOL, "biff", "nO", 0, NULL},
	{GET_BOOL, "append_dot_mydomain", NULL, 1, NULL},
	{GET_BOOL, "smtputf8_enable", NULL, 0, NULL},
	{GET_BOOL, "enable_long_queue_ids", "maybe", 0,
	 "bad boolean configuration: enable_long_queue_ids = maybe"},
	{GET_BOOL, "enable_long_queue_ids", "true", 0,
	 "bad boolean configuration: enable_long_queue_ids = true"},
	{GET_BOOL, "enable_long_queue_ids", "", 0,
	 "bad boolean configuration: enable_long_queue_ids = "},
	{GET_BOOL, "biff", "${x", 0,
	 "/nonexistent/main.cf: parameter biff: missing '}' in \"${x\""},
	{GET_INT, "line_length_limit", NULL, 2048, NULL},
	{GET_INT, "line_length_limit", "512", 512, NULL},
	{GET_INT, "line_length_limit", "010000", 10000, NULL},
	{GET_INT, "line_length_limit", "+600", 600, NULL},
	{GET_INT, "line_length_limit", "2147483647", 2147483647, NULL},
	{GET_INT, "line_length_limit", "abc", 0,
	 "bad numerical configuration: line_length_limit = abc"},
	{GET_INT, "line_length_limit", "", 0,
	 "bad numerical configuration: line_length_limit = "},
	{GET_INT, "line_length_limit", "10k", 0,
	 "bad numerical configuration: line_length_limit = 10k"},
	{GET_INT, "line_length_limit", "0x10", 0,
	 "bad numerical configuration: line_length_limit = 0x10"},
	{GET_INT, "line_length_limit", " 600", 0,
	 "bad numerical configuration: line_length_limit =  600"},
	{GET_INT, "line_length_limit", "2147483648", 0,
	 "bad numerical configuration: line_length_limit = 2147483648"},
	{GET_INT, "line_length_limit", "0", 0,
	 "invalid line_length_limit parameter value 0 < 512"},
	{GET_INT, "line_length_limit", "-1", 0,
	 "invalid line_length_limit parameter value -1 < 512"},
	{GET_INT, "default_process_limit", "0", 0,
	 "invalid default_process_limit parameter value 0 < 1"},
	{GET_INT, "hash_queue_depth", "0", 0,
	 "invalid hash_queue_depth parameter value 0 < 1"},
	{GET_INT, "max_use", "$line_length_limit", 2048, NULL},
	{GET_INT, "user_number", "-7", -7, NULL},
	{GET_INT, "user_number", "x", 0,
	 "bad numerical configuration: user_number = x"},
	{GET_SIZE, "message_size_limit", NULL, 10240000, NULL},
	{GET_SIZE, "message_size_limit", "-5", -5, NULL},
	{GET_SIZE, "message_size_limit", "99999999999", 99999999999LL, NULL},
	{GET_SIZE, "message_size_limit", "9223372036854775807",
	 9223372036854775807LL, NULL},
	{GET_SIZE, "message_size_limit", "9223372036854775808", 0,
	 "bad numerical configuration: message_size_limit = "
	 "9223372036854775808"},
	{GET_SIZE, "message_size_limit", "10M", 0,
	 "bad numerical configuration: message_size_limit = 10M"},
	{GET_SIZE, "lmdb_map_size", "0", 0,
	 "invalid lmdb_map_size parameter value 0 < 1"},
	{GET_SIZE, "queue_minfree", "-1", 0,
	 "invalid queue_minfree parameter value -1 < 0"},
	{GET_TIME, "ipc_timeout", NULL, 3600, NULL},
	{GET_TIME, "daemon_timeout", NULL, 18000, NULL},
	{GET_TIME, "ipc_timeout", "5", 5, NULL},
	{GET_TIME, "ipc_timeout", "5s", 5, NULL},
	{GET_TIME, "ipc_timeout", "2m", 120, NULL},
	{GET_TIME, "ipc_timeout", "1h", 3600, NULL},
	{GET_TIME, "ipc_timeout", "1d", 86400, NULL},
	{GET_TIME, "ipc_timeout", "2w", 1209600, NULL},
	{GET_TIME, "ipc_timeout", "05", 5, NULL},
	{GET_TIME, "ipc_timeout", "5x", 0,
	 "parameter ipc_timeout: bad time value or unit: 5x"},
	{GET_TIME, "ipc_timeout", "1H", 0,
	 "parameter ipc_timeout: bad time value or unit: 1H"},
	{GET_TIME, "ipc_timeout", "1.5h", 0,
	 "parameter ipc_timeout: bad time value or unit: 1.5h"},
	{GET_TIME, "ipc_timeout", "5 s", 0,
	 "parameter ipc_timeout: bad time value or unit: 5 s"},
	{GET_TIME, "ipc_timeout", "-1", 0,
	 "parameter ipc_timeout: bad time value or unit: -1"},
	{GET_TIME, "ipc_timeout", "", 0,
	 "parameter ipc_timeout: bad time value or unit: "},
	{GET_TIME, "ipc_timeout", "s", 0,
	 "parameter ipc_timeout: bad time value or unit: s"},
	{GET_TIME, "ipc_timeout", "1h30m", 0,
	 "parameter ipc_timeout: bad time value or unit: 1h30m"},
	{GET_TIME, "ipc_timeout", "99999999999", 0,
	 "parameter ipc_timeout: bad time value or unit: 99999999999"},
	{GET_TIME, "ipc_timeout", "9999999w", 0,
	 "parameter ipc_timeout: bad time value or unit: 9999999w"},
	{GET_TIME, "ipc_timeout", "2147483647", 2147483647, NULL},
	{GET_TIME, "ipc_timeout", "0", 0, "invalid ipc_timeout: 0 (min 1)"},
	{GET_TIME, "max_idle", "0s", 0, "invalid max_idle: 0 (min 1)"},
	{GET_TIME, "user_time", "3m", 180, NULL},
};

static int
run_getter(struct mail_conf *conf, const struct typed_case *c, long long *out,
	   struct err *err)
{
	bool flag = false;
	int ret;

	switch (c->getter) {
	case GET_BOOL:
		ret = mail_conf_get_bool(conf, c->name, &flag, err);
		*out = flag;
		return ret;
	case GET_INT:
		return mail_conf_get_int(conf, c->name, out, err);
	case GET_SIZE:
		return mail_conf_get_size(conf, c->name, out, err);
	case GET_TIME:
		return mail_conf_get_time(conf, c->name, out, err);
	}
	return -1;
}

/* On success, the fatal getter must give the same answer. */
static long long
run_fatal_getter(struct mail_conf *conf, const struct typed_case *c)
{
	switch (c->getter) {
	case GET_BOOL:
		return mail_conf_bool(conf, c->name);
	case GET_INT:
		return mail_conf_int(conf, c->name);
	case GET_SIZE:
		return mail_conf_size(conf, c->name);
	case GET_TIME:
		return mail_conf_time(conf, c->name);
	}
	return -1;
}

static void
test_typed_getters(void **state)
{
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(typed_cases) / sizeof(typed_cases[0]);
	     i++) {
		const struct typed_case *c = &typed_cases[i];
		struct mail_conf *conf = mail_conf_create("/nonexistent");
		long long value = -12345;
		int ret;

		if (c->value != NULL)
			mail_conf_set(conf, c->name, c->value);
		ret = run_getter(conf, c, &value, &err);
		if (c->error == NULL) {
			if (ret != 0)
				fail_msg("%s = %s: %s", c->name,
					 c->value ? c->value : "(default)",
					 err.text);
			assert_int_equal(value, c->expect);
			assert_int_equal(run_fatal_getter(conf, c), c->expect);
		} else {
			assert_int_equal(ret, -1);
			assert_string_equal(err.text, c->error);
		}
		mail_conf_destroy(&conf);
	}
}

static void
test_undefined_typed(void **state)
{
	struct mail_conf *conf = mail_conf_create("/cfg");
	struct err err;
	long long value;

	(void)state;
	assert_int_equal(mail_conf_get_int(conf, "nosuch", &value, &err), -1);
	assert_string_equal(err.text,
			    "/cfg/main.cf: parameter nosuch: not defined");
	mail_conf_destroy(&conf);
}

static void
test_string_and_list_getters(void **state)
{
	struct mail_conf *conf = mail_conf_create("/nonexistent");
	struct argv *list;

	(void)state;
	mail_conf_set(conf, "myhostname", "mx.example.net");
	assert_string_equal(mail_conf_str(conf, "myorigin"), "mx.example.net");
	assert_string_equal(mail_conf_str(conf, "mail_name"), "Postfix");
	/* str reads any type, unexpanded text included. */
	assert_string_equal(mail_conf_str(conf, "ipc_timeout"), "3600s");
	list = mail_conf_list(conf, "mydestination");
	assert_int_equal(list->count, 3);
	assert_string_equal(list->items[0], "mx.example.net");
	assert_string_equal(list->items[1], "localhost.example.net");
	assert_string_equal(list->items[2], "localhost");
	argv_destroy(&list);
	mail_conf_set(conf, "alias_maps",
		      " hash:/etc/aliases,\tinline:{ a=b, c=d }\n x ,,");
	list = mail_conf_list(conf, "alias_maps");
	assert_int_equal(list->count, 3);
	assert_string_equal(list->items[0], "hash:/etc/aliases");
	assert_string_equal(list->items[1], "inline:{ a=b, c=d }");
	assert_string_equal(list->items[2], "x");
	argv_destroy(&list);
	list = mail_conf_list(conf, "proxy_interfaces");
	assert_int_equal(list->count, 0);
	argv_destroy(&list);
	mail_conf_destroy(&conf);
}

struct time_case {
	const char *text;
	char unit;
	long long expect; /* -1: error */
};

static void
test_parse_time(void **state)
{
	static const struct time_case cases[] = {
		{"10", 's', 10},
		{"10", 'm', 600},
		{"10", 'h', 36000},
		{"1", 'd', 86400},
		{"1", 'w', 604800},
		{"10s", 'd', 10},
		{"0", 's', 0},
		{"3w", 's', 1814400},
		{"10", 'x', -1},
		{"", 's', -1},
		{"x", 's', -1},
		{"5ss", 's', -1},
		{"+5", 's', -1},
		{"2147483647", 's', 2147483647},
		{"2147483648", 's', -1},
		{"35791394m", 's', 2147483640},
		{"35791395m", 's', -1},
		{"123456789012345678901234567890", 's', -1},
	};
	struct err err;
	long long value;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = mail_conf_parse_time(cases[i].text, cases[i].unit,
					       &value, &err);

		if (cases[i].expect < 0) {
			char *expect = xasprintf("bad time value or unit: %s",
						 cases[i].text);

			assert_int_equal(ret, -1);
			assert_string_equal(err.text, expect);
			free(expect);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(value, cases[i].expect);
		}
	}
}

static void
test_parse_bool(void **state)
{
	static const struct {
		const char *text;
		int expect; /* -1: error */
	} cases[] = {
		{"yes", 1}, {"YES", 1}, {"Yes", 1},   {"no", 0}, {"NO", 0},
		{"", -1},   {"y", -1},  {"true", -1}, {"1", -1}, {"yes ", -1},
	};
	struct err err;
	bool value;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = mail_conf_parse_bool(cases[i].text, &value, &err);

		if (cases[i].expect < 0) {
			char *expect = xasprintf("bad boolean value: \"%s\"",
						 cases[i].text);

			assert_int_equal(ret, -1);
			assert_string_equal(err.text, expect);
			free(expect);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(value, cases[i].expect);
		}
	}
}

/*
 * Name checks.
 */

static void
test_check_names(void **state)
{
	struct fixture *fx = *state;
	struct mail_conf *conf;
	/* What master.cf's services bring (see test_conf_check.c). */
	struct argv *derived = argv_split("relay_destination_concurrency_limit "
					  "relay_destination_rate_delay "
					  "mypipe_time_limit",
					  " ");
	struct capture cap;
	struct err err;
	char *log, *expect;

	conf = load_text(fx,
			 "myhostname = mail.example.com\n"
			 "myhostnam = foo\n"
			 "smtpd_tls_cert_file = /x.pem\n"
			 "lmtp_tls_loglevel = 1\n"
			 "foo = $bar\n"
			 "bar = 1\n"
			 "myorigin = $baz\n"
			 "baz = 2\n"
			 "zzzzzz = 3\n"
			 "relay_destination_concurrency_limit = 5\n"
			 "mypipe_time_limit = 10s\n"
			 "other_destination_rate_delay = 1s\n"
			 "smtp_bogus_suffix = 1\n"
			 "mydomian = example.com\n"
			 "inet_protocol = ipv4\n"
			 "bif = no\n",
			 &err);
	assert_non_null(conf);
	mail_conf_set(conf, "set_by_option", "x");
	capture_start(&cap);
	mail_conf_check_names(conf, derived);
	log = capture_end(&cap);
	expect = with_dir(
	    fx, "postern: warning: @/main.cf: unknown parameter: myhostnam=foo "
		"(did you mean myhostname?)\n"
		"postern: warning: @/main.cf: parameter smtpd_tls_cert_file is "
		"not supported yet\n"
		"postern: warning: @/main.cf: parameter lmtp_tls_loglevel is "
		"not supported yet\n"
		"postern: warning: @/main.cf: unused parameter: foo=$bar\n"
		"postern: warning: @/main.cf: unused parameter: zzzzzz=3\n"
		"postern: warning: @/main.cf: unused parameter: "
		"other_destination_rate_delay=1s\n"
		"postern: warning: @/main.cf: unused parameter: "
		"smtp_bogus_suffix=1\n"
		"postern: warning: @/main.cf: unknown parameter: "
		"mydomian=example.com (did you mean mydomain?)\n"
		"postern: warning: @/main.cf: unknown parameter: "
		"inet_protocol=ipv4 (did you mean inet_protocols?)\n"
		"postern: warning: @/main.cf: unused parameter: bif=no\n");
	assert_string_equal(log, expect);
	free(expect);
	free(log);

	/* Without services, per-transport names are unused too. */
	capture_start(&cap);
	mail_conf_check_names(conf, NULL);
	log = capture_end(&cap);
	assert_non_null(strstr(log, "unused parameter: "
				    "relay_destination_concurrency_limit=5\n"));
	assert_non_null(strstr(log, "unused parameter: "
				    "mypipe_time_limit=10s\n"));
	free(log);
	argv_destroy(&derived);
	mail_conf_destroy(&conf);
}

/* Names that only master.cf's -o values use are used. */
static void
test_check_names_master_refs(void **state)
{
	struct fixture *fx = *state;
	struct mail_conf *conf;
	struct capture cap;
	struct err err;
	char *log, *expect;

	conf = load_text(fx,
			 "mua_client_restrictions = permit_sasl_authenticated\n"
			 "mua_sender_restrictions = reject\n"
			 "unused_one = 1\n",
			 &err);
	assert_non_null(conf);
	assert_false(mail_conf_is_user_param(conf, "mua_client_restrictions"));
	mail_conf_add_refs(conf, "$mua_client_restrictions");
	mail_conf_add_refs(conf, "${mua_sender_restrictions?x} $$unused_one");
	/* The record survives changes that forget expansions. */
	mail_conf_set(conf, "myhostname", "x");
	assert_true(mail_conf_is_referenced(conf, "mua_client_restrictions"));
	assert_true(mail_conf_is_user_param(conf, "mua_client_restrictions"));
	assert_true(mail_conf_is_user_param(conf, "mua_sender_restrictions"));
	assert_false(mail_conf_is_referenced(conf, "unused_one"));
	capture_start(&cap);
	mail_conf_check_names(conf, NULL);
	log = capture_end(&cap);
	expect = with_dir(fx, "postern: warning: @/main.cf: unused parameter: "
			      "unused_one=1\n");
	assert_string_equal(log, expect);
	free(expect);
	free(log);
	mail_conf_destroy(&conf);
}

static void
test_is_known(void **state)
{
	struct mail_conf *conf = mail_conf_create("/cfg");

	(void)state;
	mail_conf_set(conf, "user_thing", "1");
	assert_true(mail_conf_is_known(conf, "user_thing"));
	assert_true(mail_conf_is_known(conf, "myhostname"));
	/* Postfix knows these, so nothing calls them undefined. */
	assert_true(mail_conf_is_known(conf, "relayhost"));
	assert_true(mail_conf_is_known(conf, "virtual_maps"));
	assert_false(mail_conf_is_known(conf, "no_such_thing"));
	assert_false(mail_conf_is_known(conf, "relay_time_limit"));
	mail_conf_destroy(&conf);
}

/* The same warnings for any file (master.cf's -o names use it). */
static void
test_warn_unused(void **state)
{
	struct capture cap;
	char *log;

	(void)state;
	capture_start(&cap);
	mail_conf_warn_unused("/x/master.cf", "lmtp_sasl_auth_enable", "yes");
	mail_conf_warn_unused("/x/master.cf", "myhostnme", "a.example");
	mail_conf_warn_unused("/x/master.cf", "a", "b");
	log = capture_end(&cap);
	assert_string_equal(
	    log, "postern: warning: /x/master.cf: parameter "
		 "lmtp_sasl_auth_enable is not supported yet\n"
		 "postern: warning: /x/master.cf: unknown parameter: "
		 "myhostnme=a.example (did you mean myhostname?)\n"
		 "postern: warning: /x/master.cf: unused parameter: a=b\n");
	free(log);
}

static void
test_user_params(void **state)
{
	struct mail_conf *conf = mail_conf_create("/nonexistent");

	(void)state;
	mail_conf_set(conf, "foo", "$bar ${baz?x} $(qux) $$notref");
	mail_conf_set(conf, "bar", "1");
	mail_conf_set(conf, "baz", "1");
	mail_conf_set(conf, "notref", "1");
	mail_conf_set(conf, "qux", "1");
	assert_true(mail_conf_is_user_param(conf, "bar"));
	assert_true(mail_conf_is_user_param(conf, "baz"));
	assert_true(mail_conf_is_user_param(conf, "qux"));
	assert_false(mail_conf_is_user_param(conf, "foo"));
	assert_false(mail_conf_is_user_param(conf, "notref"));
	/* Declared names are not user-defined, even when referenced. */
	mail_conf_set(conf, "myhostname", "x");
	assert_true(mail_conf_is_referenced(conf, "myhostname"));
	assert_false(mail_conf_is_user_param(conf, "myhostname"));
	/* Referenced but not set: not a user parameter. */
	assert_true(mail_conf_is_referenced(conf, "compatibility_level"));
	assert_false(mail_conf_is_user_param(conf, "compatibility_level"));
	/* A later setting can create a reference. */
	assert_false(mail_conf_is_referenced(conf, "late"));
	mail_conf_set(conf, "late", "1");
	mail_conf_set(conf, "myorigin", "${{$late} == {1}}");
	assert_true(mail_conf_is_user_param(conf, "late"));
	mail_conf_destroy(&conf);
}

struct suggest_case {
	const char *name;
	const char *expect;
};

static void
test_suggest_name(void **state)
{
	static const struct suggest_case cases[] = {
		{"myhostnam", "myhostname"},
		{"myhsotname", "myhostname"},
		{"mydomian", "mydomain"},
		{"mynetwork", "mynetworks"},
		{"message_size_limt", "message_size_limit"},
		{"smtpd_tls_cert_fil", "smtpd_tls_cert_file"},
		{"bif", NULL},
		{"biffy", "biff"},
		{"foo", NULL},
		{"zzzzzz", NULL},
		{"myhostname_xyz", NULL},
		{"x_very_long_name_that_is_longer_than_any_parameter_name_"
		 "at_all_really",
		 NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = mail_conf_suggest_name(cases[i].name);

		if (cases[i].expect == NULL) {
			if (got != NULL)
				fail_msg("%s: got %s", cases[i].name, got);
		} else {
			assert_non_null(got);
			assert_string_equal(got, cases[i].expect);
		}
	}
}

static void
test_edit_distance(void **state)
{
	static const struct {
		const char *a, *b;
		size_t distance;
	} cases[] = {
		{"", "", 0},
		{"abc", "abc", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"abc", "abd", 1},
		{"abc", "ab", 1},
		{"abc", "abxc", 1},
		{"abc", "acb", 1},
		{"ca", "abc", 3},
		{"kitten", "sitting", 3},
		{"myhsotname", "myhostname", 1},
	};
	char longer[70];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(
		    mail_conf_edit_distance(cases[i].a, cases[i].b),
		    cases[i].distance);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = 0;
	assert_int_equal(mail_conf_edit_distance(longer, "a"), (size_t)-1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_order_and_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_skips_indented_line,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_long_line, setup,
						teardown),
		cmocka_unit_test(test_load_stream_in_pieces),
		cmocka_unit_test_setup_teardown(test_load_missing_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_load_directory_choice, setup,
						teardown),
		cmocka_unit_test(test_get_cache_and_set),
		cmocka_unit_test(test_defaults_and_raw),
		cmocka_unit_test(test_default_failure_is_warned),
		cmocka_unit_test(test_typed_getters),
		cmocka_unit_test(test_undefined_typed),
		cmocka_unit_test(test_string_and_list_getters),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test_setup_teardown(test_check_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_names_master_refs,
						setup, teardown),
		cmocka_unit_test(test_is_known),
		cmocka_unit_test(test_warn_unused),
		cmocka_unit_test(test_user_params),
		cmocka_unit_test(test_suggest_name),
		cmocka_unit_test(test_edit_distance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
