/*
 * mail_server.c - the skeleton every daemon is built on: start-up.
 *
 * Parses what master passed, loads main.cf, sets up logging, enters
 * queue_directory, runs the privileged hook, chroots and drops to
 * mail_owner when root, runs the unprivileged hook, then hands over to the
 * loop for the service's kind (server_single.c, server_event.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/mail_server.h"
#include "global/maillog.h"
#include "global/server_priv.h"
#include "util/log.h"
#include "util/mymalloc.h"

struct skel_options {
	const char *name;
	const char *type;
	int listen_count;
	bool is_unprivileged;
	bool want_chroot;
	bool has_master;
	bool is_standalone;
	int verbose;
	struct argv *overrides; /* "name=value" from -o */
	struct argv *args;      /* what follows the options */
};

static void
usage(const char *program)
{
	log_fatal("usage: %s [-cSuvz] [-n name] [-t type] [-s count] "
		  "[-o name=value]... [args]",
		  program);
}

static int
parse_count(const char *text, const char *program)
{
	char *end;
	long value = strtol(text, &end, 10);

	if (*end != 0 || value < 0 || value > MASTER_MAX_LISTEN_FDS)
		usage(program);
	return (int)value;
}

static void
parse_options(int argc, char **argv, const struct service_def *def,
	      struct skel_options *opts)
{
	int ch;

	opts->name = def->name;
	opts->type = "unix";
	opts->has_master = true;
	opts->overrides = argv_create();
	opts->args = argv_create();
	while ((ch = getopt(argc, argv, "+cn:o:s:St:uvz")) != -1) {
		switch (ch) {
		case 'c':
			opts->want_chroot = true;
			break;
		case 'n':
			opts->name = optarg;
			break;
		case 'o':
			argv_add(opts->overrides, optarg);
			break;
		case 's':
			opts->listen_count = parse_count(optarg, argv[0]);
			break;
		case 't':
			opts->type = optarg;
			break;
		case 'u':
			opts->is_unprivileged = true;
			break;
		case 'v':
			opts->verbose++;
			break;
		case 'z':
			opts->has_master = false;
			break;
		case 'S':
			opts->is_standalone = true;
			opts->has_master = false;
			break;
		default:
			usage(argv[0]);
		}
	}
	for (int i = optind; i < argc; i++)
		argv_add(opts->args, argv[i]);
}

static struct mail_conf *
load_config(const struct skel_options *opts)
{
	struct mail_conf *conf;
	struct err err;

	if ((conf = mail_conf_load(NULL, &err)) == NULL)
		log_fatal("%s", err.text);
	for (size_t i = 0; i < opts->overrides->count; i++) {
		char *copy = xstrdup(opts->overrides->items[i]);
		char *eq = strchr(copy, '=');

		if (eq == NULL)
			log_fatal("-o %s: missing '='", copy);
		*eq = 0;
		mail_conf_set(conf, copy, eq + 1);
		free(copy);
	}
	return conf;
}

/* Chroot to queue_directory and become mail_owner, as master.cf asked. */
static void
drop_privileges(struct skel *skel)
{
	struct mail_conf *conf = skel->server.conf;
	const char *owner = mail_conf_str(conf, "mail_owner");
	struct passwd *pw;

	if (geteuid() != 0)
		return;
	if ((pw = getpwnam(owner)) == NULL)
		log_fatal("file %s: parameter mail_owner: unknown user name "
			  "value: %s",
			  mail_conf_path(conf), owner);
	if (pw->pw_uid == 0)
		log_fatal("mail_owner %s must not be the super-user", owner);
	if (skel->want_chroot) {
		if (chroot(mail_conf_str(conf, "queue_directory")) < 0 ||
		    chdir("/") < 0)
			log_fatal("chroot %s: %s",
				  mail_conf_str(conf, "queue_directory"),
				  strerror(errno));
	}
	if (!skel->is_unprivileged)
		return;
	if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		log_fatal("drop privileges to %s: %s", owner, strerror(errno));
	if (geteuid() == 0 || getuid() == 0)
		log_fatal("still the super-user after dropping privileges");
}

static void
init_skel(struct skel *skel, const struct service_def *def,
	  const struct skel_options *opts)
{
	struct mail_conf *conf = load_config(opts);

	skel->def = def;
	skel->server.conf = conf;
	skel->server.service_name = opts->name;
	skel->server.service_type = opts->type;
	skel->server.args = opts->args;
	skel->has_master = opts->has_master;
	skel->is_standalone = opts->is_standalone;
	skel->is_unprivileged = opts->is_unprivileged;
	skel->want_chroot = opts->want_chroot;
	skel->listen_count = opts->listen_count;
	for (int i = 0; i < skel->listen_count; i++)
		skel->listen_fds[i] = MASTER_LISTEN_FD + i;
	if (!skel->def->is_long_lived) {
		skel->max_use = mail_conf_int(conf, "max_use");
		skel->max_idle_ms = mail_conf_time(conf, "max_idle") * 1000;
	}
	skel->ipc_timeout_ms = mail_conf_time(conf, "ipc_timeout") * 1000;
	skel->daemon_timeout_s = mail_conf_time(conf, "daemon_timeout");
}

int
skel_main(int argc, char **argv, const struct service_def *def)
{
	struct skel_options opts = { 0 };
	struct skel *skel = xmalloc(sizeof(*skel));
	const char *queue_dir;

	maillog_early(def->name);
	parse_options(argc, argv, def, &opts);
	log_set_verbose(opts.verbose);
	init_skel(skel, def, &opts);
	argv_destroy(&opts.overrides);
	maillog_setup(skel->server.conf, def->name, false);
	signal(SIGPIPE, SIG_IGN);
	queue_dir = mail_conf_str(skel->server.conf, "queue_directory");
	if (chdir(queue_dir) < 0)
		log_fatal("chdir %s: %s", queue_dir, strerror(errno));
	if (def->pre_init != NULL)
		def->pre_init(&skel->server);
	drop_privileges(skel);
	/* Event-driven services may set up timers in post_init. */
	if (def->kind != SKEL_SINGLE)
		skel->server.loop = event_loop_create();
	if (def->post_init != NULL)
		def->post_init(&skel->server);
	if (skel->is_standalone) {
		if (def->kind != SKEL_SINGLE)
			log_fatal("-S works only for one-client services");
		skel_run_standalone(skel);
	}
	if (def->kind == SKEL_SINGLE)
		skel_run_single(skel);
	skel_run_event(skel);
}

void
skel_exit(struct skel *skel, const char *why)
{
	log_debug("exiting: %s", why);
	if (skel->def->on_exit != NULL)
		skel->def->on_exit(&skel->server);
	exit(0);
}

void
skel_notify(struct skel *skel, enum master_status_code status)
{
	if (!skel->has_master)
		return;
	if (master_notify(status) < 0)
		skel_exit(skel, "master went away");
}
