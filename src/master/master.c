/*
 * master.c - the supervisor: start-up, pid lock, signals, main loop.
 *
 * Usage: master [-c config_dir] [-d] [-s] [-t] [-w] [-v]
 *   -d  stay in the foreground (debugging)
 *   -s  stay in the foreground for "postfix start-fg" and supervisors
 *   -t  test: exit 0 if no master is running for this configuration
 *   -w  detach, and let the parent exit only when start-up succeeded
 * Runs as root (children then drop to mail_owner as master.cf says) or as
 * an ordinary user (the whole instance then runs as that user). Holds an
 * exclusive lock on queue_directory/pid/master.pid for as long as it runs:
 * a second master fails to get it, and a stale file from a dead master is
 * simply locked again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "global/maillog.h"
#include "master/master.h"
#include "util/log.h"
#include "util/mymalloc.h"

#define MASTER_PID_FILE "pid/master.pid"
#define MASTER_STOP_GRACE_MS 5000

struct master_options {
	const char *config_dir;
	bool want_foreground;
	bool want_test;
	bool want_wait;
	int verbose;
};

static void
usage(void)
{
	log_fatal("usage: master [-c config_dir] [-d] [-s] [-t] [-w] [-v]");
}

static void
parse_options(int argc, char **argv, struct master_options *opts)
{
	int ch;

	opts->config_dir = getenv("MAIL_CONFIG");
	while ((ch = getopt(argc, argv, "c:distvw")) != -1) {
		switch (ch) {
		case 'c':
			opts->config_dir = optarg;
			break;
		case 'd':
		case 'i':
		case 's':
			opts->want_foreground = true;
			break;
		case 't':
			opts->want_test = true;
			break;
		case 'v':
			opts->verbose++;
			break;
		case 'w':
			opts->want_wait = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (opts->config_dir == NULL)
		opts->config_dir = MAIL_CONF_DEFAULT_DIR;
}

/* -t: exit 0 when nobody holds the lock (no master is running). */
static _Noreturn void
test_running(void)
{
	int fd = open(MASTER_PID_FILE, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		exit(0);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		exit(1);
	exit(0);
}

static void
lock_pid_file(void)
{
	char text[32];
	int fd;
	int len;

	if ((fd = open(MASTER_PID_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		log_fatal("open lock file %s: %s", MASTER_PID_FILE,
			  strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		log_fatal("open lock file %s: unable to set exclusive lock: %s",
			  MASTER_PID_FILE, strerror(errno));
	len = snprintf(text, sizeof(text), "%*lu\n", 10,
		       (unsigned long)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, text, (size_t)len) != len)
		log_fatal("write %s: %s", MASTER_PID_FILE, strerror(errno));
	/* The descriptor stays open: the lock lives as long as we do. */
}

/*
 * Detach from the terminal. With want_wait the parent stays until the
 * child reports that start-up went well; returns the report descriptor.
 */
static int
detach(bool want_wait)
{
	int report[2] = { -1, -1 };
	pid_t pid;
	char ok;

	if (want_wait && pipe2(report, O_CLOEXEC) < 0)
		log_fatal("pipe: %s", strerror(errno));
	if ((pid = fork()) < 0)
		log_fatal("fork: %s", strerror(errno));
	if (pid > 0) {
		if (!want_wait)
			exit(0);
		close(report[1]);
		exit(read(report[0], &ok, 1) == 1 ? 0 : 1);
	}
	close(report[0]);
	setsid();
	return report[1];
}

static void
release_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	log_to_stderr(false);
}

static int
open_signal_fd(void)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		log_fatal("signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	return fd;
}

/* Stop every child: SIGTERM, a grace period, then SIGKILL. */
static void
stop_children(struct master *master)
{
	struct timespec pause = { .tv_nsec = 20 * 1000 * 1000 };
	int64_t deadline = event_time_ms() + MASTER_STOP_GRACE_MS;

	master->is_stopping = true;
	master_services_close_all(master);
	master_signal_children(master, SIGTERM);
	while (htable_count(master->children) > 0 &&
	       event_time_ms() < deadline) {
		nanosleep(&pause, NULL);
		master_reap_children(master);
	}
	if (htable_count(master->children) == 0)
		return;
	master_signal_children(master, SIGKILL);
	while (htable_count(master->children) > 0 && wait(NULL) > 0)
		master_reap_children(master);
}

static void
on_signal(struct event_loop *loop, int fd, void *ctx)
{
	struct master *master = ctx;
	struct signalfd_siginfo info;

	while (read(fd, &info, sizeof(info)) == sizeof(info)) {
		switch (info.ssi_signo) {
		case SIGCHLD:
			master_reap_children(master);
			break;
		case SIGHUP:
			log_info("reload -- version %s, configuration %s",
				 mail_conf_str(master->conf, "mail_version"),
				 master->config_dir);
			master_services_reload(master);
			break;
		default:
			log_info("terminating on signal %u", info.ssi_signo);
			stop_children(master);
			event_loop_stop(loop);
			return;
		}
	}
}

static struct master *
master_create(const char *config_dir)
{
	struct master *master = xmalloc(sizeof(*master));
	char *absolute = realpath(config_dir, NULL);
	struct err err;

	if (absolute == NULL)
		log_fatal("%s: %s", config_dir, strerror(errno));
	master->config_dir = absolute;
	if ((master->conf = mail_conf_load(absolute, &err)) == NULL)
		log_fatal("%s", err.text);
	master->children = htable_create(256);
	return master;
}

/* After stop_children: every service is closed and every child reaped. */
static void
master_destroy(struct master *master)
{
	free(master->retired);
	htable_destroy(&master->children, free);
	(void)close(master->signal_fd);
	event_loop_destroy(&master->loop);
	mail_conf_destroy(&master->conf);
	free(master->config_dir);
	free(master);
}

int
main(int argc, char **argv)
{
	struct master_options opts = { 0 };
	struct master *master;
	const char *queue_dir;
	int report_fd = -1;

	maillog_early("master");
	parse_options(argc, argv, &opts);
	log_set_verbose(opts.verbose);
	master = master_create(opts.config_dir);
	queue_dir = mail_conf_str(master->conf, "queue_directory");
	if (chdir(queue_dir) < 0) {
		if (opts.want_test)
			exit(0);
		log_fatal("chdir %s: %s", queue_dir, strerror(errno));
	}
	if (opts.want_test)
		test_running();
	maillog_setup(master->conf, "master", true);
	if (!opts.want_foreground)
		report_fd = detach(opts.want_wait);
	lock_pid_file();
	master->loop = event_loop_create();
	master->signal_fd = open_signal_fd();
	event_add_read(master->loop, master->signal_fd, on_signal, master);
	log_info("daemon started -- version %s, configuration %s",
		 mail_conf_str(master->conf, "mail_version"), master->config_dir);
	if (master_services_load(master) < 0)
		log_warning("no service could be started; waiting for a "
			    "reload");
	if (report_fd >= 0) {
		ssize_t ignored = write(report_fd, "", 1);

		(void)ignored;
		close(report_fd);
	}
	if (!opts.want_foreground)
		release_stdio();
	event_loop_run(master->loop);
	master_destroy(master);
	return 0;
}
