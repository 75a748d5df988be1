/*
 * maillog.h - where a Postern program's log lines go, from main.cf.
 *
 * Every program logs as "$syslog_name/PROGRAM" (postfix/smtpd). With
 * maillog_file set, lines are appended to that file in syslog's shape by
 * each process with one write per line (O_APPEND), so an unprivileged
 * instance has a complete log without syslog and without a logging daemon
 * in the path of every message. The file must start with one of
 * maillog_file_prefixes, as in Postfix. Otherwise lines go to syslog with
 * syslog_facility. Commands also print to stderr.
 */
#ifndef POSTERN_GLOBAL_MAILLOG_H
#define POSTERN_GLOBAL_MAILLOG_H

#include <stdbool.h>

#include "global/mail_conf.h"

/*
 * Set up logging for program (e.g. "smtpd") from conf. want_stderr keeps
 * the stderr sink (commands); daemons pass false. Fatal if maillog_file is
 * not allowed by maillog_file_prefixes or cannot be opened.
 */
void maillog_setup(struct mail_conf *conf, const char *program,
		   bool want_stderr);

/* Before main.cf is read: log as "postfix/PROGRAM" to stderr only. */
void maillog_early(const char *program);

#endif
