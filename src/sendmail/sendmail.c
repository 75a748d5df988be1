/*
 * sendmail.c - the Sendmail-compatible command line (also mailq and
 * newaliases).
 *
 *     sendmail [options] [recipient ...]
 *
 * The mode comes from the name it was run as (mailq: -bp, newaliases:
 * -bi) and from options, as in Postfix: -bm (the default) posts a message
 * (sendmail_enqueue.c); -bp and -q run postqueue (-p, -f, -s SITE, -i
 * ID); -bi and -I run postalias on alias_database (-oA overrides it);
 * -bd runs "postfix start"; -bs runs daemon_directory/smtpd -S (SMTP on
 * standard input and output); -bh and -bH do nothing. -bv posts a probe
 * instead of reading a message: every recipient is resolved and tried up
 * to the point of delivery, and a "Mail Delivery Status Report" goes to
 * the sender; a single -v posts the message with a request for such a
 * report of its delivery. Other options: -t, -i, -oi, -f/-r sender, -F
 * full name, -N dsn, -V envid, -C config, -v; -R, -A, -B, -G, -L, -O, -U,
 * -X, -c, -e, -h, -m, -o and -p are accepted and ignored, as Postfix
 * ignores most of them.
 * Exit status: sysexits.h codes, as Postfix's sendmail exits; an error
 * from the shared library code (a bad main.cf) exits EX_TEMPFAIL.
 * Submission (-bm, -bs) is refused to users not in authorized_submit_users
 * ("User NAME(UID) is not allowed to submit mail"), and a user other than
 * root may give -C only for a directory that the default main.cf lists in
 * alternate_config_directories or multi_instance_directories.
 * Privileges: none; it runs as the invoking user. postdrop, installed
 * set-gid, does the writing, and checks both rules again.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "global/maillog.h"
#include "global/rec_type.h"
#include "global/submit_acl.h"
#include "sendmail.h"
#include "util/argv.h"
#include "util/log.h"
#include "util/mymalloc.h"

#define SENDMAIL_OPTIONS "+A:B:C:F:GIL:N:O:R:UV:X:b:ce:f:h:imno:p:r:q:tvx"

enum sm_mode {
	SM_MODE_ENQUEUE,
	SM_MODE_NEWALIAS,
	SM_MODE_MAILQ,
	SM_MODE_FLUSHQ,
	SM_MODE_DAEMON,
	SM_MODE_USER,
	SM_MODE_VERIFY,
	SM_MODE_IGNORE,
};

struct sm_cmdline {
	enum sm_mode mode;
	struct sendmail_opts opts;
	const char *config_dir;
	const char *alias_database; /* -oA */
	const char *flush_site;     /* -qR */
	const char *flush_id;       /* -qI */
	bool has_qtime;             /* -q30m: only for daemon mode */
};

void
sendmail_fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_message(LOG_LEVEL_FATAL, fmt, ap);
	va_end(ap);
	exit(status);
}

/* Errors from library code (log_fatal) mean: try again later. */
static void
tempfail(void)
{
	exit(EX_TEMPFAIL);
}

int
sendmail_dsn_notify(const char *text)
{
	struct argv *words = argv_split(text, ", \t");
	int mask = 0;

	for (size_t i = 0; i < words->count && mask >= 0; i++) {
		const char *w = words->items[i];

		if (strcasecmp(w, "never") == 0 && words->count == 1)
			mask = REC_DSN_NOTIFY_NEVER;
		else if (strcasecmp(w, "success") == 0)
			mask |= REC_DSN_NOTIFY_SUCCESS;
		else if (strcasecmp(w, "delay") == 0)
			mask |= REC_DSN_NOTIFY_DELAY;
		else if (strcasecmp(w, "failure") == 0)
			mask |= REC_DSN_NOTIFY_FAILURE;
		else
			mask = -1;
	}
	argv_destroy(&words);
	return mask < 0 ? 0 : mask;
}

static enum sm_mode
mode_from_name(const char *argv0)
{
	const char *base = strrchr(argv0, '/');

	base = base != NULL ? base + 1 : argv0;
	if (strcmp(base, "mailq") == 0)
		return SM_MODE_MAILQ;
	if (strcmp(base, "newaliases") == 0)
		return SM_MODE_NEWALIAS;
	return SM_MODE_ENQUEUE;
}

static void
take_b(struct sm_cmdline *cl, const char *arg)
{
	switch (*arg) {
	case 'd':
		cl->mode = SM_MODE_DAEMON;
		break;
	case 'h':
	case 'H':
		cl->mode = SM_MODE_IGNORE;
		break;
	case 'i':
		cl->mode = SM_MODE_NEWALIAS;
		break;
	case 'm':
		cl->mode = SM_MODE_ENQUEUE;
		break;
	case 'p':
		cl->mode = SM_MODE_MAILQ;
		break;
	case 's':
		cl->mode = SM_MODE_USER;
		break;
	case 'v':
		cl->mode = SM_MODE_VERIFY;
		break;
	default:
		sendmail_fatal(EX_USAGE, "unsupported: -b%c", *arg);
	}
}

static void
take_o(struct sm_cmdline *cl, const char *arg)
{
	if (arg[0] == 'i')
		cl->opts.want_dot_end = false;
	else if (arg[0] == 'A') {
		if (arg[1] == '\0')
			sendmail_fatal(EX_USAGE, "-oA requires pathname");
		cl->alias_database = arg + 1;
	}
}

static void
take_q(struct sm_cmdline *cl, const char *arg)
{
	if (arg[0] >= '0' && arg[0] <= '9') {
		cl->has_qtime = true;
	} else if (arg[0] == 'R') {
		if ((cl->flush_site = arg + 1)[0] == '\0')
			sendmail_fatal(EX_USAGE, "specify: -qRsitename");
	} else if (arg[0] == 'I') {
		if ((cl->flush_id = arg + 1)[0] == '\0')
			sendmail_fatal(EX_USAGE, "specify: -qIqueueid");
	} else {
		sendmail_fatal(EX_USAGE, "-q%c is not implemented", arg[0]);
	}
}

static void
take_option(struct sm_cmdline *cl, int c, const char *arg)
{
	switch (c) {
	case 'C':
		cl->config_dir = arg;
		break;
	case 'F':
		cl->opts.full_name = arg;
		break;
	case 'I':
		cl->mode = SM_MODE_NEWALIAS;
		break;
	case 'N':
		if ((cl->opts.dsn_notify = sendmail_dsn_notify(arg)) == 0)
			log_warning("bad -N option value -- ignored");
		break;
	case 'V':
		cl->opts.dsn_envid = arg;
		break;
	case 'b':
		take_b(cl, arg);
		break;
	case 'f':
	case 'r':
		cl->opts.sender = arg;
		break;
	case 'i':
		cl->opts.want_dot_end = false;
		break;
	case 'n':
		sendmail_fatal(EX_USAGE, "-n option not supported");
	case 'o':
		take_o(cl, arg);
		break;
	case 'q':
		take_q(cl, arg);
		break;
	case 't':
		cl->opts.want_extract = true;
		break;
	case 'v':
		cl->opts.verbose++;
		break;
	case '?':
		sendmail_fatal(EX_USAGE, "usage: sendmail [options]");
	default:
		break; /* accepted and ignored, as in Postfix */
	}
}

/* getopt cannot take a bare "-q"; it means "flush the queue". */
static void
parse_options(struct sm_cmdline *cl, int argc, char **argv)
{
	int c;

	opterr = 0;
	while (optind < argc) {
		if (strcmp(argv[optind], "-q") == 0) {
			if (cl->mode != SM_MODE_DAEMON)
				cl->mode = SM_MODE_FLUSHQ;
			optind++;
			continue;
		}
		if ((c = getopt(argc, argv, SENDMAIL_OPTIONS)) < 0)
			break;
		take_option(cl, c, optarg);
	}
	cl->opts.recipients = argv + optind;
}

static void
check_conflicts(const struct sm_cmdline *cl)
{
	if (cl->opts.want_extract && cl->mode != SM_MODE_ENQUEUE)
		sendmail_fatal(EX_USAGE,
			       "-t can be used only in delivery mode");
	if (cl->flush_site && cl->mode != SM_MODE_ENQUEUE)
		sendmail_fatal(EX_USAGE,
			       "-qR can be used only in delivery mode");
	if (cl->flush_id && cl->mode != SM_MODE_ENQUEUE)
		sendmail_fatal(EX_USAGE,
			       "-qI can be used only in delivery mode");
}

/* Replace this process with command_directory/NAME ARGS... */
static _Noreturn void
run_command(struct mail_conf *conf, struct argv *args, int verbose)
{
	struct argv *full = argv_create();
	char *path;
	size_t len;

	argv_add(full, args->items[0]);
	for (int i = 0; i < verbose; i++)
		argv_add(full, "-v");
	for (size_t i = 1; i < args->count; i++)
		argv_add(full, args->items[i]);
	len = strlen(mail_conf_str(conf, "command_directory")) +
	      strlen(args->items[0]) + 2;
	path = xmalloc(len);
	snprintf(path, len, "%s/%s", mail_conf_str(conf, "command_directory"),
		 args->items[0]);
	execv(path, full->items);
	sendmail_fatal(EX_UNAVAILABLE, "execvp %s: %s", path, strerror(errno));
}

static void
require_no_recipient(const struct sm_cmdline *cl, const char *what)
{
	if (cl->opts.recipients[0] != NULL)
		sendmail_fatal(EX_USAGE, "%s requires no recipient", what);
}

static void
run_newaliases(struct mail_conf *conf, const struct sm_cmdline *cl)
{
	const char *maps = cl->alias_database != NULL
				   ? cl->alias_database
				   : mail_conf_str(conf, "alias_database");
	struct argv *args;
	struct argv *names;

	require_no_recipient(cl, "alias initialization mode");
	names = argv_split(maps, ", \t\r\n");
	if (names->count == 0)
		exit(0);
	args = argv_create();
	argv_add(args, "postalias");
	for (size_t i = 0; i < names->count; i++)
		argv_add(args, names->items[i]);
	run_command(conf, args, cl->opts.verbose);
}

static void
run_postqueue(struct mail_conf *conf, const struct sm_cmdline *cl,
	      const char *flag, const char *arg)
{
	struct argv *args = argv_create();

	argv_add(args, "postqueue");
	argv_add(args, flag);
	if (arg != NULL)
		argv_add(args, arg);
	run_command(conf, args, cl->opts.verbose);
}

/* authorized_submit_users, for the modes that submit mail. */
static void
check_submit_acl(struct mail_conf *conf)
{
	struct err err;

	if (submit_acl_check(conf, getuid(), &err) <= 0)
		sendmail_fatal(EX_TEMPFAIL, "%s", err.text);
}

/* -C as an ordinary user: only directories the default main.cf allows. */
static void
check_config_dir(const char *config_dir)
{
	struct err first;
	struct err err;
	int ret;

	if (getuid() == 0)
		return;
	ret = submit_config_dir_check(config_dir, MAIL_CONF_DEFAULT_DIR, &first,
				      &err);
	if (ret == 0)
		log_error("%s", first.text);
	if (ret <= 0)
		sendmail_fatal(EX_TEMPFAIL, "%s", err.text);
}

/* -bs: replace this process with smtpd in stand-alone mode. */
static _Noreturn void
run_smtpd(struct mail_conf *conf, const struct sm_cmdline *cl)
{
	const char *dir = mail_conf_str(conf, "daemon_directory");
	struct argv *args = argv_create();
	size_t len = strlen(dir) + sizeof("/smtpd");
	char *path = xmalloc(len);

	if (cl->opts.recipients[0] != NULL)
		sendmail_fatal(EX_USAGE,
			       "stand-alone mode requires no recipient");
	check_submit_acl(conf);
	argv_add(args, "smtpd");
	argv_add(args, "-S");
	for (int i = 0; i < cl->opts.verbose; i++)
		argv_add(args, "-v");
	snprintf(path, len, "%s/smtpd", dir);
	execv(path, args->items);
	sendmail_fatal(EX_UNAVAILABLE, "execv %s: %s", path, strerror(errno));
}

static void
run_enqueue(struct mail_conf *conf, struct sm_cmdline *cl)
{
	if (cl->flush_site != NULL) {
		require_no_recipient(cl, "flush site");
		run_postqueue(conf, cl, "-s", cl->flush_site);
	}
	if (cl->flush_id != NULL) {
		require_no_recipient(cl, "flush queue_id");
		run_postqueue(conf, cl, "-i", cl->flush_id);
	}
	/* One -v asks for a delivery report; more mean logging. */
	if (cl->opts.verbose == 1) {
		cl->opts.verbose = 0;
		cl->opts.trace_flags |= REC_TRACE_FLAG_RECORD;
	}
	if (cl->mode == SM_MODE_VERIFY) {
		cl->opts.trace_flags = REC_TRACE_FLAG_VERIFY;
		cl->opts.want_extract = false; /* the probe has no input */
	}
	log_set_verbose(cl->opts.verbose);
	check_submit_acl(conf);
	sendmail_enqueue(conf, &cl->opts);
	exit(0);
}

static void
run_mode(struct mail_conf *conf, struct sm_cmdline *cl)
{
	struct argv *args;

	if (cl->has_qtime && cl->mode != SM_MODE_DAEMON)
		exit(0);
	switch (cl->mode) {
	case SM_MODE_ENQUEUE:
	case SM_MODE_VERIFY:
		run_enqueue(conf, cl);
		break;
	case SM_MODE_MAILQ:
		require_no_recipient(cl, "display queue mode");
		run_postqueue(conf, cl, "-p", NULL);
		break;
	case SM_MODE_FLUSHQ:
		require_no_recipient(cl, "flush queue mode");
		run_postqueue(conf, cl, "-f", NULL);
		break;
	case SM_MODE_NEWALIAS:
		run_newaliases(conf, cl);
		break;
	case SM_MODE_DAEMON:
		require_no_recipient(cl, "daemon mode");
		args = argv_create();
		argv_add(args, "postfix");
		argv_add(args, "start");
		run_command(conf, args, cl->opts.verbose);
		break;
	case SM_MODE_USER:
		run_smtpd(conf, cl);
	case SM_MODE_IGNORE:
		exit(0);
	}
}

int
main(int argc, char **argv)
{
	struct sm_cmdline cl = { .opts.want_dot_end = true };
	struct mail_conf *conf;
	struct err err;

	const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1
						 : argv[0];

	umask(022);
	maillog_early("sendmail");
	log_set_stderr_tag(name);
	log_set_fatal_hook(tempfail);
	cl.mode = mode_from_name(argv[0]);
	parse_options(&cl, argc, argv);
	check_conflicts(&cl);
	if (cl.config_dir != NULL) {
		check_config_dir(cl.config_dir);
		/* postdrop and the other commands find it through this. */
		if (setenv("MAIL_CONFIG", cl.config_dir, 1) < 0)
			sendmail_fatal(EX_UNAVAILABLE, "out of memory");
	}
	if ((conf = mail_conf_load(cl.config_dir, &err)) == NULL)
		sendmail_fatal(EX_TEMPFAIL, "%s", err.text);
	maillog_setup(conf, "sendmail", true);
	log_set_stderr_tag(name);
	if (chdir(mail_conf_str(conf, "queue_directory")) < 0)
		sendmail_fatal(EX_UNAVAILABLE, "chdir %s: %s",
			       mail_conf_str(conf, "queue_directory"),
			       strerror(errno));
	run_mode(conf, &cl);
	mail_conf_destroy(&conf);
	return 0;
}
