/*
 * maillog.c - where a Postern program's log lines go, from main.cf.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "global/maillog.h"
#include "util/log.h"
#include "util/tokens.h"

struct facility_name {
	const char *name;
	int facility;
};

static const struct facility_name facilities[] = {
	{ "mail", LOG_MAIL },     { "daemon", LOG_DAEMON },
	{ "user", LOG_USER },     { "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 }, { "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
};

static int
facility_code(const char *name)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcmp(facilities[i].name, name) == 0)
			return facilities[i].facility;
	log_fatal("unknown syslog_facility: %s", name);
}

static bool
path_is_allowed(struct mail_conf *conf, const char *path)
{
	struct argv *prefixes = mail_conf_list(conf, "maillog_file_prefixes");
	bool is_allowed = false;

	for (size_t i = 0; i < prefixes->count && !is_allowed; i++)
		is_allowed = str_has_prefix(path, prefixes->items[i]);
	argv_destroy(&prefixes);
	return is_allowed;
}

void
maillog_early(const char *program)
{
	char tag[128];

	snprintf(tag, sizeof(tag), "postfix/%s", program);
	log_init(tag);
	log_to_stderr(true);
}

void
maillog_setup(struct mail_conf *conf, const char *program, bool want_stderr)
{
	const char *file = mail_conf_str(conf, "maillog_file");
	char tag[256];
	struct err err;

	snprintf(tag, sizeof(tag), "%s/%s", mail_conf_str(conf, "syslog_name"),
		 program);
	log_init(tag);
	log_to_stderr(want_stderr);
	if (*file == 0) {
		log_to_syslog(facility_code(mail_conf_str(conf,
							  "syslog_facility")));
		return;
	}
	if (!path_is_allowed(conf, file))
		log_fatal("%s: maillog_file (%s) does not match "
			  "maillog_file_prefixes",
			  mail_conf_path(conf), file);
	if (log_to_file(file, &err) < 0)
		log_fatal("%s", err.text);
	/* As Postfix's postlogd: the file names the host by myhostname. */
	log_set_host(mail_conf_str(conf, "myhostname"));
}
