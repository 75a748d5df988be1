/*
 * test_conf_check.c - unit tests for the main.cf + master.cf warnings.
 *
 * A table of main.cf and master.cf pairs with the warnings expected, which
 * are Postfix 3.7's postconf warnings for the same files (recorded with
 * Debian's postconf; Postfix prints them in hash order, these are in file
 * order), except where a comment says Postern says more. Names that
 * Postern may implement later are avoided, so that "not supported yet"
 * does not creep in. Warnings are checked by capturing stderr.
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

#include "util/mymalloc.h"
#include "util/strbuf.h"

#include "global/conf_check.h"
#include "global/mail_conf.h"
#include "global/master_conf.h"

static struct mail_conf *
main_cf(const char *text)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	struct mail_conf *conf;
	struct err err;

	assert_non_null(fp);
	conf = mail_conf_load_stream("/cfg", fp, &err);
	fclose(fp);
	assert_non_null(conf);
	return conf;
}

static struct master_conf *
master_cf(const char *text)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	struct master_conf *conf;
	struct err err;

	assert_non_null(fp);
	conf = master_conf_read(fp, "/cfg/master.cf", 0, &err);
	fclose(fp);
	assert_non_null(conf);
	return conf;
}

/* The warnings conf_check_run logs; master NULL means no master.cf. */
static char *
run_check(const char *main_text, const char *master_text, int flags)
{
	struct mail_conf *conf = main_cf(main_text);
	struct master_conf *master =
		master_text != NULL ? master_cf(master_text) : NULL;
	struct capture cap;
	char *log;

	capture_start(&cap);
	conf_check_run(conf, master, flags);
	log = capture_end(&cap);
	master_conf_destroy(&master);
	mail_conf_destroy(&conf);
	return log;
}

struct check_case {
	const char *what;
	const char *main_text;
	const char *master_text; /* NULL: no master.cf */
	int flags;
	const char *expect; /* lines, each without "postern: warning: /cfg/" */
};

/* expect with "postern: warning: /cfg/" in front of each line. */
static char *
full_log(const char *expect)
{
	struct strbuf sb;
	char *text;

	strbuf_init(&sb, STRBUF_UNLIMITED);
	for (const char *line = expect; *line;) {
		size_t len = strcspn(line, "\n");

		strbuf_printf(&sb, "postern: warning: /cfg/%.*s\n", (int)len,
			      line);
		line += len + (line[len] == '\n');
	}
	text = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
	return text;
}

static const struct check_case cases[] = {
	{ "main.cf names that only master.cf uses are used",
	  "mua_client_restrictions = permit_sasl_authenticated, reject\n"
	  "mua_sender_restrictions = reject_sender_login_mismatch\n",
	  "submission inet n - y - - smtpd\n"
	  "  -o syslog_name=$mua_client_restrictions\n"
	  "  -o { mail_name = ${mua_sender_restrictions?x} }\n",
	  CONF_CHECK_ALL, "" },
	{ "undefined and unused, in both files",
	  "myorigin = $nosuch_main\n"
	  "foo = $bar_undef\n"
	  "unusedx = 1\n"
	  "mua_client_restrictions = permit\n",
	  "smtp inet n - y - - smtpd -o syslog_name=$mua_client_restrictions "
	  "-o a=b -o x=$undef_in_master -o myhostnme=foo "
	  "-o mail_name=$also_undef\n"
	  "relay unix - - y - - smtp -o syslog_name=postfix/$service_name\n",
	  CONF_CHECK_ALL,
	  "master.cf: undefined parameter: undef_in_master\n"
	  "master.cf: undefined parameter: also_undef\n"
	  "main.cf: undefined parameter: nosuch_main\n"
	  "main.cf: undefined parameter: bar_undef\n"
	  "main.cf: unused parameter: foo=$bar_undef\n"
	  "main.cf: unused parameter: unusedx=1\n"
	  "master.cf: unused parameter: a=b\n"
	  "master.cf: unused parameter: x=$undef_in_master\n"
	  /* Postfix: "unused parameter: myhostnme=foo". */
	  "master.cf: unknown parameter: myhostnme=foo (did you mean "
	  "myhostname?)\n" },
	{ "the same without main.cf names (postconf -M, -F, -P)",
	  "foo = $bar_undef\nunusedx = 1\n",
	  "smtp inet n - y - - smtpd -o a=b\n",
	  CONF_CHECK_UNDEFINED | CONF_CHECK_MASTER_NAMES,
	  "main.cf: undefined parameter: bar_undef\n"
	  "master.cf: unused parameter: a=b\n" },
	{ "only main.cf names", "foo = $bar_undef\n",
	  "smtp inet n - y - - smtpd -o a=$b\n", CONF_CHECK_MAIN_NAMES,
	  "main.cf: unused parameter: foo=$bar_undef\n" },
	{ "scopes: main.cf sees every -o, an -o only its own service's",
	  "x = $m1\n"
	  "mainref = $only_in_master\n",
	  "smtp inet n - y - - smtpd -o a=b -o c=$a -o m1=1 "
	  "-o only_in_master=2 -o o2=$from_other\n"
	  "other inet n - y - - smtpd -o from_other=3 -o {sp = $ace }\n"
	  "third unix - - n - - smtpd -o local_destination_concurrency_limit=5 "
	  "-o smtp_destination_concurrency_limit=3 "
	  "-o other_destination_concurrency_limit=3 -o third_time_limit=1\n",
	  CONF_CHECK_ALL,
	  "master.cf: undefined parameter: from_other\n"
	  "master.cf: undefined parameter: ace\n"
	  "main.cf: unused parameter: x=$m1\n"
	  "main.cf: unused parameter: mainref=$only_in_master\n"
	  "master.cf: unused parameter: c=$a\n"
	  "master.cf: unused parameter: o2=$from_other\n"
	  "master.cf: unused parameter: from_other=3\n"
	  "master.cf: unused parameter: sp=$ace\n"
	  "master.cf: unused parameter: smtp_destination_concurrency_limit=3\n"
	  "master.cf: unused parameter: other_destination_concurrency_limit=3\n"
	  "master.cf: unused parameter: third_time_limit=1\n" },
	{ "only delivery agents bring per-transport names",
	  "pickup_destination_concurrency_limit = 3\n"
	  "relay_destination_concurrency_limit = 3\n"
	  "relay_time_limit = 3\n"
	  "tickets_time_limit = 5\n"
	  "tickets_destination_rate_delay = 5\n"
	  "spawnx_time_limit = 5\n"
	  "spawnx_destination_rate_delay = 5\n"
	  "foo = 1\n"
	  "v = $virtual_maps $service_name $process_name $relayhost\n",
	  "pickup unix n - y 60 1 pickup\n"
	  "relay unix - - y - - smtp -o x=$relay_destination_concurrency_limit "
	  "-o y=$smtp_time_limit -o a=b -o foo=2\n"
	  "relay2 unix - - y - - smtp -o a=c -o relay_time_limit=3\n"
	  "tickets unix - n n - 2 pipe flags=Rq user=t argv=/bin/true\n"
	  "spawnx unix - n n - 2 spawn\n",
	  CONF_CHECK_ALL,
	  "master.cf: undefined parameter: smtp_time_limit\n"
	  "main.cf: unused parameter: pickup_destination_concurrency_limit=3\n"
	  "main.cf: unused parameter: relay_time_limit=3\n"
	  "main.cf: unused parameter: spawnx_destination_rate_delay=5\n"
	  "main.cf: unused parameter: foo=1\n"
	  "main.cf: unused parameter: v=$virtual_maps $service_name "
	  "$process_name "
	  "$relayhost\n"
	  "master.cf: unused parameter: "
	  "x=$relay_destination_concurrency_limit\n"
	  "master.cf: unused parameter: y=$smtp_time_limit\n"
	  "master.cf: unused parameter: a=b\n"
	  "master.cf: unused parameter: foo=2\n"
	  "master.cf: unused parameter: a=c\n"
	  "master.cf: unused parameter: relay_time_limit=3\n" },
	{ "every reference counts, conditional branches too",
	  "myorigin = $dup $dup ${dup} $(dup)\n"
	  "mydomain = $dup\n"
	  "mail_name = ${cond?$undef_in_cond}\n"
	  "syslog_name = ${undefined_cond?yes} $$escaped\n",
	  "smtp inet n - y - - smtpd -o syslog_name=$dup2 -o mail_name=$dup2\n"
	  "relay inet n - y - - smtpd -o syslog_name=$dup2\n",
	  CONF_CHECK_ALL,
	  "master.cf: undefined parameter: dup2\n"
	  "master.cf: undefined parameter: dup2\n"
	  "master.cf: undefined parameter: dup2\n"
	  "main.cf: undefined parameter: dup\n"
	  "main.cf: undefined parameter: dup\n"
	  "main.cf: undefined parameter: dup\n"
	  "main.cf: undefined parameter: dup\n"
	  "main.cf: undefined parameter: dup\n"
	  "main.cf: undefined parameter: cond\n"
	  "main.cf: undefined parameter: undef_in_cond\n"
	  "main.cf: undefined parameter: undefined_cond\n" },
	{ "an -o name given twice is one setting, the last value wins", "",
	  "smtp inet n - y - - smtpd -o a=1 -o a=2 -o b=$a -o c=1 -o c=2\n",
	  CONF_CHECK_ALL,
	  "master.cf: unused parameter: b=$a\n"
	  "master.cf: unused parameter: c=2\n" },
	/* Postfix also warns: truncated macro reference: "${x". For the
	 * "$(lll $zzz" it gives up: "fatal: macro processing error". */
	{ "a truncated reference defines and uses nothing", "lll = 1\n",
	  "smtp inet n - y - - smtpd -o a=${x\n"
	  "relay inet n - y - - smtpd -o { syslog_name = $(lll $zzz }\n",
	  CONF_CHECK_ALL,
	  "main.cf: unused parameter: lll=1\n"
	  "master.cf: unused parameter: a=${x\n" },
	{ "no master.cf", "a = $b\nb = $c\n", NULL, CONF_CHECK_ALL,
	  "main.cf: undefined parameter: c\n"
	  "main.cf: unused parameter: a=$b\n" },
	{ "nothing asked", "a = $b\n", "smtp inet n - y - - smtpd -o x=$y\n", 0,
	  "" },
};

static void
test_check_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *log = run_check(cases[i].main_text, cases[i].master_text,
				      cases[i].flags);
		char *expect = full_log(cases[i].expect);

		print_message("case %zu: %s\n", i, cases[i].what);
		assert_string_equal(log, expect);
		free(expect);
		free(log);
	}
}

/* main.cf names used only in master.cf become user-defined parameters. */
static void
test_add_master_refs(void **state)
{
	struct mail_conf *conf = main_cf("mua = permit\nlone = 1\n");
	struct master_conf *master =
		master_cf("smtp inet n - y - - smtpd -o syslog_name=$mua\n");

	(void)state;
	assert_false(mail_conf_is_user_param(conf, "mua"));
	conf_check_add_master_refs(conf, master);
	assert_true(mail_conf_is_user_param(conf, "mua"));
	assert_false(mail_conf_is_user_param(conf, "lone"));
	master_conf_destroy(&master);
	mail_conf_destroy(&conf);
}

static void
test_derived_names(void **state)
{
	struct master_conf *master = master_cf("a unix - - - - - pipe\n"
					       "a inet - - - - - pipe\n"
					       "b unix - - - - - spawn\n"
					       "c unix - - - - - smtpd\n");
	struct argv *names = conf_check_derived_names(master);

	(void)state;
	/* Each once, though two entries are called "a". */
	assert_int_equal(names->count, 17 + 1);
	assert_string_equal(names->items[0], "a_delivery_slot_cost");
	assert_string_equal(names->items[16], "a_time_limit");
	assert_string_equal(names->items[17], "b_time_limit");
	argv_destroy(&names);
	master_conf_destroy(&master);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_cases),
		cmocka_unit_test(test_add_master_refs),
		cmocka_unit_test(test_derived_names),
	};

	return cmocka_run_group_tests_name("conf_check", tests, NULL, NULL);
}
