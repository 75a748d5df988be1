/*
 * test_master_conf.c - unit tests for the master.cf reader.
 *
 * Tables of entries (columns, command words, -o settings), of whole files
 * (continuations, comments, duplicates) and of every error message, run in
 * strict (master) and lenient (postconf) mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"

#include "global/master_conf.h"

/* Join words with '|' so one string shows the whole vector. */
static char *
join_args(const struct argv *av)
{
	struct strbuf sb;
	char *out;

	strbuf_init(&sb, STRBUF_UNLIMITED);
	for (size_t i = 0; i < av->count; i++) {
		if (i > 0)
			strbuf_append_char(&sb, '|');
		strbuf_append_str(&sb, av->items[i]);
	}
	out = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
	return out;
}

/* "name=value;name=value" of an entry's -o settings. */
static char *
join_opts(const struct master_service *svc)
{
	struct strbuf sb;
	char *out;

	strbuf_init(&sb, STRBUF_UNLIMITED);
	for (size_t i = 0; i < svc->opt_count; i++) {
		if (i > 0)
			strbuf_append_char(&sb, ';');
		strbuf_printf(&sb, "%s=%s", svc->opts[i].name,
			      svc->opts[i].value);
	}
	out = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
	return out;
}

struct entry_case {
	const char *line;
	const char *type;
	enum master_type type_code;
	bool is_private, is_unpriv, is_chroot;
	int wakeup;
	bool wakeup_if_used;
	int maxproc;
	const char *args;     /* words joined with '|' */
	const char *opts;     /* settings joined with ';' */
	const char *warning;  /* lenient mode: first warning, or NULL */
};

static const struct entry_case entry_cases[] = {
	{"smtp inet n - y - - smtpd", "inet", MASTER_TYPE_INET, false, true,
	 true, 0, false, MASTER_MAXPROC_DEFAULT, "smtpd", "", NULL},
	{"pickup unix n - y 60 1 pickup", "unix", MASTER_TYPE_UNIX, false,
	 true, true, 60, false, 1, "pickup", "", NULL},
	{"tlsmgr unix - - y 1000? 1 tlsmgr", "unix", MASTER_TYPE_UNIX, true,
	 true, true, 1000, true, 1, "tlsmgr", "", NULL},
	{"postlog unix-dgram n - n - 1 postlogd", "unix-dgram",
	 MASTER_TYPE_UNIX_DGRAM, false, true, false, 0, false, 1, "postlogd",
	 "", NULL},
	{"cleanup unix n - n - 0 cleanup", "unix", MASTER_TYPE_UNIX, false,
	 true, false, 0, false, 0, "cleanup", "", NULL},
	{"smtpd pass - - y - - smtpd", "pass", MASTER_TYPE_PASS, true, true,
	 true, 0, false, MASTER_MAXPROC_DEFAULT, "smtpd", "", NULL},
	{"old fifo n - n 60 1 pickup", "fifo", MASTER_TYPE_FIFO, false, true,
	 false, 60, false, 1, "pickup", "", NULL},
	{"local unix - n n - - local", "unix", MASTER_TYPE_UNIX, true, false,
	 false, 0, false, MASTER_MAXPROC_DEFAULT, "local", "", NULL},
	{"127.0.0.1:submission inet n - y 0 100 smtpd", "inet",
	 MASTER_TYPE_INET, false, true, true, 0, false, 100, "smtpd", "",
	 NULL},
	/* The -o forms. */
	{"submission inet n - y - - smtpd -o syslog_name=postfix/submission "
	 "-o { smtpd_client_restrictions = permit_sasl_authenticated, reject }"
	 " -o smtpd_recipient_restrictions={ permit_mynetworks, reject }"
	 " -o milter_macro_daemon_name=",
	 "inet", MASTER_TYPE_INET, false, true, true, 0, false,
	 MASTER_MAXPROC_DEFAULT,
	 "smtpd|-o|syslog_name=postfix/submission|-o|"
	 "smtpd_client_restrictions=permit_sasl_authenticated, reject|-o|"
	 "smtpd_recipient_restrictions={ permit_mynetworks, reject }|-o|"
	 "milter_macro_daemon_name=",
	 "syslog_name=postfix/submission;"
	 "smtpd_client_restrictions=permit_sasl_authenticated, reject;"
	 "smtpd_recipient_restrictions={ permit_mynetworks, reject };"
	 "milter_macro_daemon_name=",
	 NULL},
	/* Options stop at the first non-option word, or at "--". */
	{"x unix - n n - - smtpd -v -o a=b -D -o c=d f -o e=g", "unix",
	 MASTER_TYPE_UNIX, true, false, false, 0, false,
	 MASTER_MAXPROC_DEFAULT, "smtpd|-v|-o|a=b|-D|-o|c=d|f|-o|e=g",
	 "a=b;c=d", NULL},
	{"y unix - n n - - smtpd -o a=b -- -o c=d", "unix", MASTER_TYPE_UNIX,
	 true, false, false, 0, false, MASTER_MAXPROC_DEFAULT,
	 "smtpd|-o|a=b|--|-o|c=d", "a=b", NULL},
	{"maildrop unix - n n - - pipe flags=DRXhu user=vmail "
	 "argv=/usr/bin/maildrop -d ${recipient} -o x=y",
	 "unix", MASTER_TYPE_UNIX, true, false, false, 0, false,
	 MASTER_MAXPROC_DEFAULT,
	 "pipe|flags=DRXhu|user=vmail|argv=/usr/bin/maildrop|-d|${recipient}|"
	 "-o|x=y",
	 "", NULL},
	/* Braces are removed from ordinary words too. */
	{"p unix - n n - - pipe argv=/bin/foo { a b } {c}", "unix",
	 MASTER_TYPE_UNIX, true, false, false, 0, false,
	 MASTER_MAXPROC_DEFAULT, "pipe|argv=/bin/foo|a b|c", "", NULL},
	/* Kept verbatim in lenient mode, with a warning. */
	{"smtp foo n - y - - smtpd", "foo", MASTER_TYPE_UNKNOWN, false, true,
	 true, 0, false, MASTER_MAXPROC_DEFAULT, "smtpd", "",
	 "master.cf, line 1: unexpected service type: foo"},
	{"smtp inet y - y - - smtpd", "inet", MASTER_TYPE_INET, false, true,
	 true, 0, false, MASTER_MAXPROC_DEFAULT, "smtpd", "",
	 "master.cf, line 1: inet service cannot be private"},
	{"smtp inet n - y - - smtpd -o foo", "inet", MASTER_TYPE_INET, false,
	 true, true, 0, false, MASTER_MAXPROC_DEFAULT, "smtpd|-o|foo", "",
	 "master.cf, line 1: -o foo: missing '=' after attribute name"},
	{"smtp inet n - y - - smtpd -o { = x }", "inet", MASTER_TYPE_INET,
	 false, true, true, 0, false, MASTER_MAXPROC_DEFAULT,
	 "smtpd|-o|= x", "",
	 "master.cf, line 1: -o = x: missing attribute name"},
	{"smtp inet n - y - - smtpd -o", "inet", MASTER_TYPE_INET, false,
	 true, true, 0, false, MASTER_MAXPROC_DEFAULT, "smtpd|-o", "",
	 "master.cf, line 1: missing name=value after -o"},
	{"smtp inet n - y - - smtpd {x", "inet", MASTER_TYPE_INET, false,
	 true, true, 0, false, MASTER_MAXPROC_DEFAULT, "smtpd|{x", "",
	 "master.cf, line 1: missing '}' in \"{x\""},
	{"a/b unix n - y - - smtpd", "unix", MASTER_TYPE_UNIX, false, true,
	 true, 0, false, MASTER_MAXPROC_DEFAULT, "smtpd", "",
	 "master.cf, line 1: service name must not contain '/': a/b"},
};

static void
check_entry(const struct entry_case *tc, const struct master_service *svc)
{
	char *args = join_args(svc->args);
	char *opts = join_opts(svc);

	assert_string_equal(svc->type, tc->type);
	assert_int_equal(svc->type_code, tc->type_code);
	assert_int_equal(svc->is_private, tc->is_private);
	assert_int_equal(svc->is_unpriv, tc->is_unpriv);
	assert_int_equal(svc->is_chroot, tc->is_chroot);
	assert_int_equal(svc->wakeup, tc->wakeup);
	assert_int_equal(svc->wakeup_if_used, tc->wakeup_if_used);
	assert_int_equal(svc->maxproc, tc->maxproc);
	assert_string_equal(args, tc->args);
	assert_string_equal(opts, tc->opts);
	assert_string_equal(svc->command, svc->args->items[0]);
	assert_string_equal(svc->raw, tc->line);
	assert_int_equal(svc->lineno, 1);
	free(args);
	free(opts);
}

static void
test_entries(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(entry_cases) / sizeof(entry_cases[0]);
	     i++) {
		const struct entry_case *tc = &entry_cases[i];
		struct master_service svc;
		struct argv *warnings = argv_create();
		struct err err;

		print_message("case %zu: %s\n", i, tc->line);
		assert_int_equal(master_service_parse(tc->line, "master.cf", 1,
						      0, &svc, warnings, &err),
				 0);
		check_entry(tc, &svc);
		if (tc->warning == NULL) {
			assert_int_equal(warnings->count, 0);
		} else {
			assert_int_equal(warnings->count, 1);
			assert_string_equal(warnings->items[0], tc->warning);
			/* Strict mode refuses what lenient mode warns about. */
			master_service_free(&svc);
			assert_int_equal(
				master_service_parse(tc->line, "master.cf", 1,
						     MASTER_CONF_STRICT, &svc,
						     NULL, &err),
				-1);
			assert_string_equal(err.text, tc->warning);
		}
		master_service_free(&svc);
		argv_destroy(&warnings);
	}
}

struct error_case {
	const char *line;
	const char *error;
};

static const struct error_case error_cases[] = {
	{"smtp", "F, line 7: too few fields"},
	{"smtp inet n - y - -", "F, line 7: too few fields"},
	{"smtp inet yes - y - - smtpd",
	 "F, line 7: field \"private\": bad value: \"yes\""},
	{"smtp inet n Y y - - smtpd",
	 "F, line 7: field \"unprivileged\": bad value: \"Y\""},
	{"smtp inet n - no - - smtpd",
	 "F, line 7: field \"chroot\": bad value: \"no\""},
	{"smtp inet n - y abc - smtpd",
	 "F, line 7: field \"wakeup\": bad value: \"abc\""},
	{"smtp inet n - y -1 - smtpd",
	 "F, line 7: field \"wakeup\": bad value: \"-1\""},
	{"smtp inet n - y 1?? - smtpd",
	 "F, line 7: field \"wakeup\": bad value: \"1??\""},
	{"smtp inet n - y ? - smtpd",
	 "F, line 7: field \"wakeup\": bad value: \"?\""},
	{"smtp inet n - y 99999999999 - smtpd",
	 "F, line 7: field \"wakeup\": bad value: \"99999999999\""},
	{"smtp inet n - y 31536001 - smtpd",
	 "F, line 7: field \"wakeup\": bad value: \"31536001\""},
	{"smtp inet n - y - x smtpd",
	 "F, line 7: field \"process_limit\": bad value: \"x\""},
	{"smtp inet n - y - 1000001 smtpd",
	 "F, line 7: field \"process_limit\": bad value: \"1000001\""},
	{"smtp inet n - y - 5x smtpd",
	 "F, line 7: field \"process_limit\": bad value: \"5x\""},
};

static void
test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]);
	     i++) {
		const struct error_case *tc = &error_cases[i];
		struct master_service svc;
		struct argv *warnings = argv_create();
		struct err err;

		print_message("case %zu: %s\n", i, tc->line);
		for (int flags = 0; flags <= MASTER_CONF_STRICT; flags++) {
			err_clear(&err);
			assert_int_equal(master_service_parse(tc->line, "F", 7,
							      flags, &svc,
							      warnings, &err),
					 -1);
			assert_string_equal(err.text, tc->error);
			assert_null(svc.args);
		}
		assert_int_equal(warnings->count, 0);
		argv_destroy(&warnings);
	}
}

static void
test_long_name_and_many_words(void **state)
{
	struct strbuf line;
	struct master_service svc;
	struct err err;

	(void)state;
	strbuf_init(&line, STRBUF_UNLIMITED);
	for (int i = 0; i <= MASTER_CONF_MAX_NAME; i++)
		strbuf_append_char(&line, 'n');
	strbuf_append_str(&line, " unix - - - - - cmd");
	assert_int_equal(master_service_parse(strbuf_text(&line), "F", 2, 0,
					      &svc, NULL, &err),
			 -1);
	assert_string_equal(err.text,
			    "F, line 2: service name longer than 512 bytes");

	strbuf_set(&line, "s unix - - - - - cmd");
	for (int i = 1; i < MASTER_CONF_MAX_ARGS; i++)
		strbuf_append_str(&line, " a");
	assert_int_equal(master_service_parse(strbuf_text(&line), "F", 2, 0,
					      &svc, NULL, &err),
			 0);
	assert_int_equal(svc.args->count, MASTER_CONF_MAX_ARGS);
	master_service_free(&svc);
	strbuf_append_str(&line, " a");
	assert_int_equal(master_service_parse(strbuf_text(&line), "F", 2, 0,
					      &svc, NULL, &err),
			 -1);
	assert_string_equal(err.text, "F, line 2: more than 1024 command words");
	strbuf_deinit(&line);
}

/* Read text as a file named "master.cf". */
static struct master_conf *
read_text(const char *text, int flags, struct err *err)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	struct master_conf *conf;

	assert_non_null(fp);
	conf = master_conf_read(fp, "master.cf", flags, err);
	fclose(fp);
	return conf;
}

static const char sample_file[] =
	"# comment\n"
	"#\n"
	"smtp      inet  n       -       y       -       -       smtpd\n"
	"\n"
	"submission inet n       -       y       -       -       smtpd\n"
	"  -o syslog_name=postfix/submission\n"
	"# a comment between continuation lines\n"
	"  -o smtpd_tls_security_level=encrypt\n"
	"\t-o { smtpd_client_restrictions = permit_sasl_authenticated,\n"
	"      reject }\n"
	"relay     unix  -       -       y       -       -       smtp\n"
	"maildrop  unix  -       n       n       -       -       pipe\n"
	"  flags=DRXhu user=vmail argv=/usr/bin/maildrop -d ${recipient}\n"
	"smtp      unix  -       -       y       -       -       smtp\n"
	"relay     unix  -       -       y       -       1       smtp\n"
	"cron      unix  -       n       n       -       -       spawn";

static void
test_whole_file(void **state)
{
	struct err err;
	struct master_conf *conf;
	const struct master_service *svc;
	struct argv *names;
	char *joined;

	(void)state;
	conf = read_text(sample_file, 0, &err);
	assert_non_null(conf);
	assert_int_equal(conf->count, 7);
	assert_int_equal(conf->services[0].lineno, 3);
	svc = &conf->services[1];
	assert_string_equal(svc->name, "submission");
	assert_int_equal(svc->lineno, 5);
	assert_int_equal(svc->opt_count, 3);
	assert_string_equal(svc->opts[2].name, "smtpd_client_restrictions");
	assert_string_equal(svc->opts[2].value,
			    "permit_sasl_authenticated, reject");
	for (size_t i = 0; i < svc->opt_count; i++) {
		assert_int_equal(svc->opts[i].arg_index, 2 + 2 * i);
		assert_string_equal(svc->args->items[svc->opts[i].arg_index - 1],
				    "-o");
	}
	assert_string_equal(conf->services[3].args->items[5], "${recipient}");
	assert_int_equal(conf->services[3].lineno, 12);

	/* The duplicate relay/unix: warned about, the last one wins. */
	assert_int_equal(conf->warnings->count, 1);
	assert_string_equal(conf->warnings->items[0],
			    "master.cf, line 15: duplicate entry for service "
			    "relay/unix (also on line 11) -- using the last "
			    "entry");
	assert_true(conf->services[2].is_superseded);
	assert_false(conf->services[5].is_superseded);
	svc = master_conf_find(conf, "relay", "unix");
	assert_int_equal(svc->maxproc, 1);
	assert_null(master_conf_find(conf, "relay", "inet"));
	svc = master_conf_find(conf, "smtp", NULL);
	assert_string_equal(svc->type, "unix");
	svc = master_conf_find(conf, "smtp", "inet");
	assert_string_equal(svc->command, "smtpd");

	names = master_conf_service_names(conf);
	joined = join_args(names);
	assert_string_equal(joined, "smtp|submission|relay|maildrop|cron");
	free(joined);
	argv_destroy(&names);
	master_conf_destroy(&conf);
	assert_null(conf);
	master_conf_destroy(&conf);
}

static void
collect(const char *name, const char *def, void *ctx)
{
	struct argv *av = ctx;
	char *text = xasprintf("%s=%s", name, def);

	argv_add(av, text);
	free(text);
}

static void
test_derived_params(void **state)
{
	struct err err;
	struct master_conf *conf;
	struct argv *params = argv_create();

	(void)state;
	conf = read_text("a inet - - - - - smtpd\n"
			 "b unix - - - - - pipe\n"
			 "c unix - - - - - spawn\n"
			 "d unix - - - - - discard\n"
			 "e unix - - - - - /usr/libexec/postfix/smtp\n"
			 "f unix - - - - - local\n"
			 "local unix - - - - - local\n",
			 0, &err);
	assert_non_null(conf);
	master_conf_derived_params(conf, collect, params);
	/* A "local" service brings all 16 (two are also declared). */
	assert_int_equal(params->count, 17 + 1 + 16 + 16);
	assert_string_equal(params->items[0],
			    "b_delivery_slot_cost=$default_delivery_slot_cost");
	assert_string_equal(params->items[10],
			    "b_initial_destination_concurrency="
			    "$initial_destination_concurrency");
	assert_string_equal(params->items[16], "b_time_limit=$command_time_limit");
	assert_string_equal(params->items[17], "c_time_limit=$command_time_limit");
	assert_string_equal(params->items[22],
			    "f_destination_concurrency_limit="
			    "$default_destination_concurrency_limit");
	assert_string_equal(params->items[37],
			    "local_destination_concurrency_failed_cohort_"
			    "limit=$default_destination_concurrency_failed_"
			    "cohort_limit");
	assert_string_equal(params->items[38],
			    "local_destination_concurrency_limit="
			    "$default_destination_concurrency_limit");
	assert_string_equal(params->items[41],
			    "local_destination_rate_delay="
			    "$default_destination_rate_delay");
	assert_string_equal(params->items[42],
			    "local_destination_recipient_limit="
			    "$default_destination_recipient_limit");
	argv_destroy(&params);
	master_conf_destroy(&conf);
}

struct file_error_case {
	const char *text;
	int flags;
	const char *error;
};

static const struct file_error_case file_error_cases[] = {
	{"# c\n\nsmtp inet n - y - -\n", 0, "master.cf, line 3: too few fields"},
	{"smtp inet n - y - - smtpd\nx bogus - - - - - y\n", MASTER_CONF_STRICT,
	 "master.cf, line 2: unexpected service type: bogus"},
	{"smtp inet n - y - - smtpd\n  -o\n", MASTER_CONF_STRICT,
	 "master.cf, line 1: missing name=value after -o"},
	{"smtp inet n - y - - smtpd\0\n", 0,
	 "master.cf, line 1: NUL byte in text"},
};

static void
test_file_errors(void **state)
{
	(void)state;
	for (size_t i = 0;
	     i < sizeof(file_error_cases) / sizeof(file_error_cases[0]); i++) {
		const struct file_error_case *tc = &file_error_cases[i];
		struct err err;
		size_t len = strlen(tc->text);
		FILE *fp;
		struct master_conf *conf;

		/* The NUL case: include the bytes after the NUL. */
		if (strstr(tc->error, "NUL") != NULL)
			len += 2;
		fp = fmemopen((void *)tc->text, len, "r");
		print_message("case %zu\n", i);
		conf = master_conf_read(fp, "master.cf", tc->flags, &err);
		fclose(fp);
		assert_null(conf);
		assert_string_equal(err.text, tc->error);
	}
}

static void
test_lenient_file_keeps_unknown_type(void **state)
{
	struct err err;
	struct master_conf *conf;

	(void)state;
	conf = read_text("smtp inet n - y - - smtpd\nx bogus - - - - - y\n", 0,
			 &err);
	assert_non_null(conf);
	assert_int_equal(conf->count, 2);
	assert_string_equal(conf->services[1].type, "bogus");
	assert_int_equal(conf->services[1].type_code, MASTER_TYPE_UNKNOWN);
	assert_int_equal(conf->warnings->count, 1);
	assert_string_equal(conf->warnings->items[0],
			    "master.cf, line 2: unexpected service type: bogus");
	master_conf_destroy(&conf);
}

/* As Postfix: an indented first line is skipped with a warning. */
static void
test_indented_first_line_skipped(void **state)
{
	static const struct {
		const char *text;
		const char *warning; /* recorded from Postfix 3.7 */
	} cases[] = {
		{"  smtp inet n - y - - smtpd\n  -o a=b\n# c\n"
		 "pickup unix n - y 60 1 pickup\n",
		 "master.cf: logical line must not start with whitespace: "
		 "\"  smtp inet n - y - - smtpd  -...\""},
		{"\n\n  smtp inet n - y - - smtpd -o a=b xxxxxxxx\n"
		 "pickup unix n - y 60 1 pickup\n",
		 "master.cf: logical line must not start with whitespace: "
		 "\"  smtp inet n - y - - smtpd -o...\""},
		{"\tx\npickup unix n - y 60 1 pickup\n",
		 "master.cf: logical line must not start with whitespace: "
		 "\"\tx\""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (int flags = 0; flags <= MASTER_CONF_STRICT;
		     flags += MASTER_CONF_STRICT) {
			struct err err;
			struct master_conf *conf =
			    read_text(cases[i].text, flags, &err);

			assert_non_null(conf);
			assert_int_equal(conf->count, 1);
			assert_string_equal(conf->services[0].name, "pickup");
			assert_int_equal(conf->warnings->count, 1);
			assert_string_equal(conf->warnings->items[0],
					    cases[i].warning);
			master_conf_destroy(&conf);
		}
	}
}

static void
test_too_many_services(void **state)
{
	struct strbuf text;
	struct err err;
	struct master_conf *conf;

	(void)state;
	strbuf_init(&text, STRBUF_UNLIMITED);
	for (int i = 0; i < MASTER_CONF_MAX_SERVICES; i++)
		strbuf_printf(&text, "s%d unix - - - - - cmd\n", i);
	conf = read_text(strbuf_text(&text), 0, &err);
	assert_non_null(conf);
	assert_int_equal(conf->count, MASTER_CONF_MAX_SERVICES);
	master_conf_destroy(&conf);
	strbuf_append_str(&text, "one unix - - - - - more\n");
	conf = read_text(strbuf_text(&text), 0, &err);
	assert_null(conf);
	assert_string_equal(err.text,
			    "master.cf, line 10001: more than 10000 services");
	strbuf_deinit(&text);
}

static void
test_too_many_lines(void **state)
{
	struct strbuf text;
	struct err err;
	struct master_conf *conf;

	(void)state;
	strbuf_init(&text, STRBUF_UNLIMITED);
	for (int i = 0; i < MASTER_CONF_MAX_LINES; i++)
		strbuf_append_str(&text, "#\n");
	strbuf_append_str(&text, "late unix - - - - - cmd\n");
	conf = read_text(strbuf_text(&text), 0, &err);
	assert_null(conf);
	assert_string_equal(err.text,
			    "master.cf, line 1000001: more than 1000000 lines");
	strbuf_deinit(&text);
}

/*
 * Feed the file through a pipe in pieces (one byte, then random sizes):
 * the result must not depend on how the bytes arrive.
 */
static struct master_conf *
read_in_pieces(const char *text, unsigned seed)
{
	int fds[2];
	pid_t pid;
	FILE *fp;
	struct err err;
	struct master_conf *conf;

	assert_int_equal(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		size_t len = strlen(text);

		close(fds[0]);
		srand(seed);
		for (size_t done = 0, n; done < len; done += n) {
			n = seed == 0 ? 1 : 1 + (size_t)rand() % 7;
			if (n > len - done)
				n = len - done;
			if (write(fds[1], text + done, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	fp = fdopen(fds[0], "r");
	conf = master_conf_read(fp, "master.cf", MASTER_CONF_STRICT, &err);
	fclose(fp);
	waitpid(pid, NULL, 0);
	return conf;
}

static void
test_read_in_pieces(void **state)
{
	(void)state;
	for (unsigned seed = 0; seed < 5; seed++) {
		struct master_conf *conf = read_in_pieces(sample_file, seed);

		assert_non_null(conf);
		assert_int_equal(conf->count, 7);
		assert_int_equal(conf->services[1].opt_count, 3);
		assert_string_equal(conf->services[1].opts[2].value,
				    "permit_sasl_authenticated, reject");
		assert_string_equal(conf->services[6].command, "spawn");
		master_conf_destroy(&conf);
	}
}

static void
test_load_missing_file(void **state)
{
	struct err err;

	(void)state;
	assert_null(master_conf_load("/nonexistent/master.cf", 0, &err));
	assert_string_equal(err.text, "open /nonexistent/master.cf: No such "
				      "file or directory");
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/test_master_conf.XXXXXX";
	int fd = mkstemp(path);
	struct err err;
	struct master_conf *conf;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, sample_file, strlen(sample_file)),
			 (ssize_t)strlen(sample_file));
	close(fd);
	conf = master_conf_load(path, MASTER_CONF_STRICT, &err);
	unlink(path);
	assert_non_null(conf);
	assert_int_equal(conf->count, 7);
	assert_string_equal(conf->path, path);
	master_conf_destroy(&conf);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(master_type_name(MASTER_TYPE_UNIX_DGRAM),
			    "unix-dgram");
	assert_null(master_type_name(MASTER_TYPE_UNKNOWN));
	assert_int_equal(master_type_parse("fifo"), MASTER_TYPE_FIFO);
	assert_int_equal(master_type_parse("INET"), MASTER_TYPE_UNKNOWN);
	assert_int_equal(master_type_parse(""), MASTER_TYPE_UNKNOWN);
	assert_string_equal(master_field_name(MASTER_FIELD_MAXPROC),
			    "process_limit");
	assert_null(master_field_name(MASTER_FIELD_COUNT));
	assert_int_equal(master_field_parse("unprivileged"),
			 MASTER_FIELD_UNPRIV);
	assert_int_equal(master_field_parse("unpriv"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_long_name_and_many_words),
		cmocka_unit_test(test_whole_file),
		cmocka_unit_test(test_derived_params),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_lenient_file_keeps_unknown_type),
		cmocka_unit_test(test_indented_first_line_skipped),
		cmocka_unit_test(test_too_many_services),
		cmocka_unit_test(test_too_many_lines),
		cmocka_unit_test(test_read_in_pieces),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
