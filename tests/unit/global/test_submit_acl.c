/*
 * test_submit_acl.c - unit tests for authorized_submit_users and the
 * alternate config directory rule shared by sendmail and postdrop.
 *
 * Messages are Postfix 3.7's words (recorded from Debian's sendmail and
 * postdrop run as nobody on a scratch instance).
 */
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "global/mail_conf.h"
#include "global/submit_acl.h"

struct acl_case {
	const char *acl; /* authorized_submit_users; NAME is the login name */
	int want;
};

static const struct acl_case acl_cases[] = {
	{ NULL, 1 }, /* the default, static:anyone */
	{ "static:anyone", 1 },
	{ "NAME", 1 },
	{ "someone_else, NAME", 1 },
	{ "someone_else", 0 },
	{ "", 0 },
	{ "!NAME, static:anyone", 0 },
	{ "!someone_else, static:anyone", 1 },
	{ "inline:{ NAME=yes }", 1 },
	{ "inline:{ someone_else=yes }", 0 },
};

static const char *
login_name(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(getuid());

	if (pw != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%ld", (long)getuid());
	return buf;
}

static char *
with_name(const char *text, const char *name)
{
	const char *at = strstr(text, "NAME");
	size_t len = strlen(text) + strlen(name) + 1;
	char *out = malloc(len);

	assert_non_null(out);
	if (at == NULL)
		snprintf(out, len, "%s", text);
	else
		snprintf(out, len, "%.*s%s%s", (int)(at - text), text, name,
			 at + 4);
	return out;
}

static void
test_acl_table(void **state)
{
	char name[256];
	char want_err[512];

	(void)state;
	login_name(name, sizeof(name));
	snprintf(want_err, sizeof(want_err),
		 "User %s(%ld) is not allowed to submit mail", name,
		 (long)getuid());
	for (size_t i = 0; i < sizeof(acl_cases) / sizeof(acl_cases[0]); i++) {
		struct mail_conf *conf = mail_conf_create("/nonexistent");
		struct err err = { "" };
		char *acl = NULL;

		if (acl_cases[i].acl != NULL) {
			acl = with_name(acl_cases[i].acl, name);
			mail_conf_set(conf, "authorized_submit_users", acl);
		}
		if (submit_acl_check(conf, getuid(), &err) != acl_cases[i].want)
			fail_msg("case %zu (%s): %s", i, acl_cases[i].acl,
				 err.text);
		if (acl_cases[i].want == 0)
			assert_string_equal(err.text, want_err);
		free(acl);
		mail_conf_destroy(&conf);
	}
}

static void
test_acl_unknown_uid_and_bad_table(void **state)
{
	struct mail_conf *conf = mail_conf_create("/nonexistent");
	struct err err = { "" };

	(void)state;
	mail_conf_set(conf, "authorized_submit_users", "4000000");
	assert_int_equal(submit_acl_check(conf, 4000000, &err), 1);
	mail_conf_set(conf, "authorized_submit_users", "nobody_here");
	assert_int_equal(submit_acl_check(conf, 4000000, &err), 0);
	assert_string_equal(err.text, "User 4000000(4000000) is not allowed "
				      "to submit mail");
	mail_conf_set(conf, "authorized_submit_users", "nosuchtype:foo");
	assert_int_equal(submit_acl_check(conf, getuid(), &err), -1);
	assert_non_null(strstr(err.text, "authorized_submit_users: "));
	mail_conf_set(conf, "authorized_submit_users", "!");
	assert_int_equal(submit_acl_check(conf, getuid(), &err), -1);
	assert_string_equal(err.text,
			    "authorized_submit_users: no pattern after '!'");
	mail_conf_destroy(&conf);
}

struct dir_case {
	const char *main_cf; /* default main.cf; NULL: missing */
	const char *dir;     /* the directory asked for */
	int want;
};

static const struct dir_case dir_cases[] = {
	{ NULL, NULL, 1 },
	{ NULL, "", 1 },
	{ NULL, "DEFAULT", 1 },
	{ NULL, "/tmp/other", -1 },
	{ "", "/tmp/other", 0 },
	{ "alternate_config_directories = /tmp/x, /tmp/other\n", "/tmp/other",
	  1 },
	{ "multi_instance_directories = /tmp/other\n", "/tmp/other", 1 },
	{ "alternate_config_directories = /tmp/other\n", "/tmp/other/", 0 },
	{ "alternate_config_directories = /tmp/oth\n", "/tmp/other", 0 },
	{ "d = /tmp/other\nalternate_config_directories = $d\n", "/tmp/other",
	  1 },
};

static void
test_config_dir_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dir_cases) / sizeof(dir_cases[0]); i++) {
		const struct dir_case *c = &dir_cases[i];
		char dflt[] = "/tmp/test_submit_acl.XXXXXX";
		char path[128];
		char want[512];
		const char *dir = c->dir;
		struct err first = { "" };
		struct err err = { "" };
		FILE *fp;

		assert_non_null(mkdtemp(dflt));
		snprintf(path, sizeof(path), "%s/main.cf", dflt);
		if (c->main_cf != NULL) {
			assert_non_null(fp = fopen(path, "w"));
			fputs(c->main_cf, fp);
			fclose(fp);
		}
		if (dir != NULL && strcmp(dir, "DEFAULT") == 0)
			dir = dflt;
		assert_int_equal(
			submit_config_dir_check(dir, dflt, &first, &err),
			c->want);
		if (c->want == 0) {
			snprintf(want, sizeof(want),
				 "unauthorized configuration directory name: "
				 "%s",
				 dir);
			assert_string_equal(first.text, want);
			snprintf(want, sizeof(want),
				 "specify \"alternate_config_directories = "
				 "%s\" or \"multi_instance_directories = %s\" "
				 "in %s/main.cf",
				 dir, dir, dflt);
			assert_string_equal(err.text, want);
		} else if (c->want < 0) {
			snprintf(want, sizeof(want),
				 "open %s: No such file or directory", path);
			assert_string_equal(err.text, want);
		}
		(void)unlink(path);
		assert_int_equal(rmdir(dflt), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_acl_table),
		cmocka_unit_test(test_acl_unknown_uid_and_bad_table),
		cmocka_unit_test(test_config_dir_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
