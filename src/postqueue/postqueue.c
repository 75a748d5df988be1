/*
 * postqueue.c - the user's queue command, as Postfix's postqueue.
 *
 *     postqueue [-v] [-c config_dir] -p | -j | -f | -i queue_id | -s site
 *
 * -p prints the traditional mailq listing and -j one JSON object per
 * queue file (global/mailq_format.h), both from the showq service: the
 * socket public/$showq_service_name (where master.cf's "showq unix n"
 * puts it), else private/$showq_service_name. When neither answers, the
 * super-user and mail_owner get the listing from daemon_directory/showq
 * -S on a pipe ("warning: Mail system is down -- accessing queue
 * directly (...)"); others get "Queue report unavailable - mail system
 * is down (...)". -f wakes qmgr with "FA" (forget dead destinations,
 * scan deferred/ ignoring back-off). -i sets the deferred file's time
 * (its next retry time) to now and -s does so for every deferred file
 * with a recipient in domain site, then both wake qmgr with "A"; Postfix
 * asks its flush daemon for these two, which we do not have, so
 * fast_flush_domains is not consulted.
 * Errors are fatal with exit status 69 (EX_UNAVAILABLE), as Postfix's.
 * Privileges: none of its own; -i and -s need write access to the
 * deferred files (root or mail_owner). A non-default config directory is
 * refused when it runs set-gid, unless the default main.cf allows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/mail_trigger.h"
#include "global/mailq_format.h"
#include "global/maillog.h"
#include "global/qmgr_trigger.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "global/queue_scan.h"
#include "global/rec_type.h"
#include "global/showq_clnt.h"
#include "global/submit_acl.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/sockets.h"
#include "util/stream.h"

#define POSTQUEUE_USAGE                                                        \
	"usage: postqueue -f | postqueue -i queueid | postqueue -j | "         \
	"postqueue -p | postqueue -s site"
#define POSTQUEUE_TIMEOUT_MS 10000
#define POSTQUEUE_NAME_SHOWN 100 /* of a bad argument, as in Postfix */
#define SITE_MAX 255

enum postqueue_mode {
	PQ_MODE_NONE,
	PQ_MODE_LIST,       /* -p */
	PQ_MODE_JSON,       /* -j */
	PQ_MODE_FLUSH,      /* -f */
	PQ_MODE_FLUSH_ID,   /* -i */
	PQ_MODE_FLUSH_SITE, /* -s */
};

struct postqueue_opts {
	enum postqueue_mode mode;
	const char *arg; /* -i queue_id, -s site */
	const char *config_dir;
	int verbose;
};

static _Noreturn void
usage(void)
{
	log_fatal("%s", POSTQUEUE_USAGE);
}

static void
exit_unavailable(void)
{
	exit(EX_UNAVAILABLE);
}

static void
set_mode(struct postqueue_opts *opts, enum postqueue_mode mode, const char *arg)
{
	if (opts->mode != PQ_MODE_NONE)
		usage();
	opts->mode = mode;
	opts->arg = arg;
}

static void
parse_options(int argc, char **argv, struct postqueue_opts *opts)
{
	int opt;

	opterr = 0;
	while ((opt = getopt(argc, argv, "+c:fi:jps:v")) != -1) {
		switch (opt) {
		case 'c':
			opts->config_dir = optarg;
			break;
		case 'f':
			set_mode(opts, PQ_MODE_FLUSH, NULL);
			break;
		case 'i':
			set_mode(opts, PQ_MODE_FLUSH_ID, optarg);
			break;
		case 'j':
			set_mode(opts, PQ_MODE_JSON, NULL);
			break;
		case 'p':
			set_mode(opts, PQ_MODE_LIST, NULL);
			break;
		case 's':
			set_mode(opts, PQ_MODE_FLUSH_SITE, optarg);
			break;
		case 'v':
			opts->verbose++;
			break;
		default:
			if (optopt == 'c' || optopt == 'i' || optopt == 's')
				fprintf(stderr,
					"postqueue: option requires an "
					"argument -- '%c'\n",
					optopt);
			else
				fprintf(stderr,
					"postqueue: invalid option -- '%c'\n",
					optopt);
			usage();
		}
	}
	if (optind < argc || opts->mode == PQ_MODE_NONE)
		usage();
}

/* A set-gid postqueue honours only config directories main.cf allows. */
static void
check_config_dir(const char *config_dir)
{
	struct err first;
	struct err err;
	int ret;

	if (getuid() == geteuid() && getgid() == getegid())
		return;
	ret = submit_config_dir_check(config_dir, MAIL_CONF_DEFAULT_DIR, &first,
				      &err);
	if (ret == 0)
		log_error("%s", first.text);
	if (ret <= 0)
		log_fatal("%s", err.text);
}

static struct queue_layout *
layout_create(struct mail_conf *conf)
{
	return queue_layout_create(
		".", mail_conf_str(conf, "hash_queue_names"),
		(int)mail_conf_int(conf, "hash_queue_depth"),
		mail_conf_bool(conf, "enable_long_queue_ids"));
}

/* ------------------------------------------------------------------ */
/* Listing                                                             */

/* Connect to showq in public/, else private/; errno says why not. */
static int
showq_connect(struct mail_conf *conf)
{
	static const char *const classes[] = { "public", "private" };
	const char *service = mail_conf_str(conf, "showq_service_name");
	int saved_errno = ENOENT;

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		char *path = xasprintf("%s/%s", classes[i], service);
		int fd = sock_connect_unix(path, POSTQUEUE_TIMEOUT_MS, NULL);

		free(path);
		if (fd >= 0)
			return fd;
		if (i == 0 || errno != ENOENT)
			saved_errno = errno;
	}
	errno = saved_errno;
	return -1;
}

static bool
may_read_queue(struct mail_conf *conf)
{
	struct passwd *pw = getpwnam(mail_conf_str(conf, "mail_owner"));

	return getuid() == 0 || (pw != NULL && pw->pw_uid == getuid());
}

/* Run daemon_directory/showq -S with its output on a pipe. */
static int
showq_spawn(struct mail_conf *conf, pid_t *pid_out)
{
	char *path =
		xasprintf("%s/showq", mail_conf_str(conf, "daemon_directory"));
	int fds[2];

	if (pipe(fds) < 0)
		log_fatal("pipe: %s", strerror(errno));
	if ((*pid_out = fork()) < 0)
		log_fatal("fork: %s", strerror(errno));
	if (*pid_out == 0) {
		int null_fd = open("/dev/null", O_RDONLY);

		if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
		    dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(EX_OSERR);
		close(fds[0]);
		close(fds[1]);
		execl(path, "showq", "-S", (char *)NULL);
		log_error("execute %s: %s", path, strerror(errno));
		_exit(EX_UNAVAILABLE);
	}
	free(path);
	close(fds[1]);
	return fds[0];
}

static void
write_out(struct strbuf *out)
{
	if (out->len > 0 && fwrite(out->data, 1, out->len, stdout) != out->len)
		log_fatal("write error: %s", strerror(errno));
	strbuf_reset(out);
}

/* Print the listing as it arrives; fatal on a broken listing. */
static void
show_listing(struct showq_clnt *sc, struct mailq_format *mf)
{
	struct showq_entry entry;
	struct showq_rcpt rcpt;
	struct strbuf out;
	struct err err;
	int ret;

	strbuf_init(&out, STRBUF_UNLIMITED);
	while ((ret = showq_clnt_next(sc, &entry, &err)) == 1) {
		mailq_format_entry(mf, &entry, &out);
		while ((ret = showq_clnt_next_rcpt(sc, &rcpt, &err)) == 1)
			mailq_format_rcpt(mf, &rcpt, &out);
		if (ret < 0)
			break;
		mailq_format_entry_end(mf, &out);
		write_out(&out);
	}
	if (ret < 0)
		log_fatal("showq service: %s", err.text);
	mailq_format_finish(mf, &out);
	write_out(&out);
	strbuf_deinit(&out);
	if (fflush(stdout) != 0 || ferror(stdout))
		log_fatal("write error: %s", strerror(errno));
}

static void
show_queue(struct mail_conf *conf, enum mailq_style style)
{
	struct mailq_format *mf;
	struct showq_clnt *sc;
	struct stream *stream;
	struct err err;
	pid_t pid = -1;
	int fd = showq_connect(conf);

	if (fd < 0) {
		int why = errno;

		if (!may_read_queue(conf))
			log_fatal("Queue report unavailable - mail system is "
				  "down (Connect to the %s %s service: %s)",
				  mail_conf_str(conf, "mail_name"),
				  mail_conf_str(conf, "showq_service_name"),
				  strerror(why));
		log_warning("Mail system is down -- accessing queue directly "
			    "(Connect to the %s %s service: %s)",
			    mail_conf_str(conf, "mail_name"),
			    mail_conf_str(conf, "showq_service_name"),
			    strerror(why));
		fd = showq_spawn(conf, &pid);
	}
	stream = stream_open(fd, 0);
	stream_set_timeout(stream, POSTQUEUE_TIMEOUT_MS);
	if ((sc = showq_clnt_open(stream, &err)) == NULL)
		log_fatal("showq service: %s", err.text);
	mf = mailq_format_create(style,
				 mail_conf_bool(conf, "enable_long_queue_ids"));
	show_listing(sc, mf);
	mailq_format_destroy(&mf);
	showq_clnt_close(&sc);
	if (pid > 0)
		(void)waitpid(pid, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* Flushing                                                            */

static void
qmgr_wakeup(const char *req)
{
	struct err err;

	if (mail_trigger(MAIL_TRIGGER_QMGR, req, strlen(req),
			 POSTQUEUE_TIMEOUT_MS, &err) < 0) {
		log_warning("%s", err.text);
		log_fatal("Cannot flush mail queue - mail system is down");
	}
}

/* Make a deferred file due now; a missing one is not an error. */
static void
touch_deferred(const struct queue_layout *ql, const char *id)
{
	struct strbuf path;

	strbuf_init(&path, STRBUF_UNLIMITED);
	if (queue_file_relpath(ql, MAIL_QUEUE_DEFERRED, id, &path) < 0)
		log_warning("%s: path too long", id);
	else if (utimes(path.data, NULL) == 0)
		log_debug("%s: due now", id);
	else if (errno != ENOENT)
		log_warning("%s: reset time stamps: %s", id, strerror(errno));
	strbuf_deinit(&path);
}

static const char *
ellipsis(const char *text)
{
	return strlen(text) > POSTQUEUE_NAME_SHOWN ? "..." : "";
}

static void
flush_id(struct mail_conf *conf, const char *id)
{
	struct queue_layout *ql;

	if (!is_valid_queue_id(id))
		log_fatal("Cannot flush queue ID - invalid name: \"%.100s%s\"",
			  id, ellipsis(id));
	ql = layout_create(conf);
	touch_deferred(ql, id);
	queue_layout_destroy(&ql);
	qmgr_wakeup((char[]){ QMGR_REQ_SCAN_ALL, 0 });
}

/* A host name or an address literal in [], as Postfix accepts. */
static bool
is_valid_site(const char *site)
{
	size_t len = strlen(site);

	if (len == 0 || len > SITE_MAX)
		return false;
	if (site[0] == '[')
		return len > 2 && site[len - 1] == ']' &&
		       strspn(site + 1, "0123456789abcdefABCDEF:.Iv") ==
			       len - 2;
	for (const char *cp = site; *cp; cp++)
		if (!(strchr("-.", *cp) || (*cp >= '0' && *cp <= '9') ||
		      (*cp >= 'a' && *cp <= 'z') || (*cp >= 'A' && *cp <= 'Z')))
			return false;
	return site[0] != '.' && site[0] != '-' && site[len - 1] != '.' &&
	       strstr(site, "..") == NULL;
}

struct site_scan {
	const struct queue_layout *ql;
	const char *site;
	bool is_match;
};

static int
match_rcpt(const struct queue_record *rec, void *ctx, struct err *err)
{
	struct site_scan *ss = ctx;
	const char *at;

	(void)err;
	if (rec->type == REC_TYPE_RCPT && (at = strrchr(rec->data, '@')) &&
	    strcasecmp(at + 1, ss->site) == 0)
		ss->is_match = true;
	return 0;
}

static int
flush_site_file(const char *id, void *ctx)
{
	struct site_scan *ss = ctx;
	struct err err;
	int fd = queue_file_open(ss->ql, MAIL_QUEUE_DEFERRED, id, O_RDONLY,
				 &err);

	if (fd < 0)
		return 0; /* gone meanwhile */
	ss->is_match = false;
	if (queue_file_walk(fd, id, QUEUE_WALK_SKIP_CONTENT, match_rcpt, ss,
			    NULL, &err) < 0)
		log_warning("%s; skipping this file", err.text);
	else if (ss->is_match)
		touch_deferred(ss->ql, id);
	close(fd);
	return 0;
}

static void
flush_site(struct mail_conf *conf, const char *site)
{
	struct site_scan ss = { .site = site };
	struct queue_layout *ql;
	struct err err;

	if (!is_valid_site(site))
		log_fatal("Cannot flush mail queue - invalid destination: "
			  "\"%.100s%s\"",
			  site, ellipsis(site));
	ql = layout_create(conf);
	ss.ql = ql;
	if (queue_scan(ql, MAIL_QUEUE_DEFERRED, flush_site_file, &ss, &err) < 0)
		log_warning("%s", err.text);
	queue_layout_destroy(&ql);
	qmgr_wakeup((char[]){ QMGR_REQ_SCAN_ALL, 0 });
}

int
main(int argc, char **argv)
{
	struct postqueue_opts opts = { 0 };
	struct mail_conf *conf;
	struct err err;
	const char *queue_dir;

	log_init("postqueue");
	log_set_fatal_hook(exit_unavailable);
	parse_options(argc, argv, &opts);
	log_set_verbose(opts.verbose);
	if (opts.config_dir != NULL) {
		check_config_dir(opts.config_dir);
		/* showq -S must read the same main.cf. */
		if (setenv("MAIL_CONFIG", opts.config_dir, 1) < 0)
			log_fatal("setenv: %s", strerror(errno));
	}
	if ((conf = mail_conf_load(opts.config_dir, &err)) == NULL)
		log_fatal("%s", err.text);
	maillog_setup(conf, "postqueue", true);
	queue_dir = mail_conf_str(conf, "queue_directory");
	if (chdir(queue_dir) < 0)
		log_fatal("chdir %s: %s", queue_dir, strerror(errno));
	switch (opts.mode) {
	case PQ_MODE_LIST:
	case PQ_MODE_JSON:
		show_queue(conf, opts.mode == PQ_MODE_JSON
					 ? MAILQ_STYLE_JSON
					 : MAILQ_STYLE_SENDMAIL);
		break;
	case PQ_MODE_FLUSH:
		qmgr_wakeup(
			(char[]){ QMGR_REQ_FLUSH_DEAD, QMGR_REQ_SCAN_ALL, 0 });
		break;
	case PQ_MODE_FLUSH_ID:
		flush_id(conf, opts.arg);
		break;
	case PQ_MODE_FLUSH_SITE:
		flush_site(conf, opts.arg);
		break;
	case PQ_MODE_NONE:
		usage();
	}
	mail_conf_destroy(&conf);
	return 0;
}
