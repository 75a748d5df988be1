/*
 * sendmail.h - what the files of the sendmail command share.
 *
 * sendmail.c parses Sendmail's options and picks a mode; the other modes
 * run another command (postalias, postqueue, postfix). sendmail_enqueue.c
 * posts one message: it reads standard input, builds the queue file
 * records and pipes them to postdrop.
 */
#ifndef POSTERN_SENDMAIL_SENDMAIL_H
#define POSTERN_SENDMAIL_SENDMAIL_H

#include <stdbool.h>

#include "global/mail_conf.h"

/* What the command line asked for a message. */
struct sendmail_opts {
	const char *sender;    /* -f/-r, or NULL for the login name */
	const char *full_name; /* -F, or NULL */
	const char *dsn_envid; /* -V */
	int dsn_notify;        /* -N, REC_DSN_NOTIFY_* bits, 0 for none */
	bool want_extract;     /* -t */
	bool want_dot_end;     /* a lone "." ends input (no -i/-oi) */
	int verbose;           /* -v count */
	int trace_flags;       /* REC_TRACE_FLAG_*: -bv, or a single -v */
	char **recipients;     /* NULL-terminated */
};

/*
 * Log "sendmail: fatal: TEXT" and exit with status (a sysexits.h code).
 */
_Noreturn void sendmail_fatal(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Post the message on standard input; returns only on success. */
void sendmail_enqueue(struct mail_conf *conf, const struct sendmail_opts *opts);

/*
 * The -N argument as REC_DSN_NOTIFY_* bits: "never", or a comma list of
 * "success", "delay", "failure" (any case). 0 if malformed.
 */
int sendmail_dsn_notify(const char *text);

#endif
