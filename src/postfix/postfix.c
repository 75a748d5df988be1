/*
 * postfix.c - the postfix command: start, stop and inspect the mail system.
 *
 * Usage: postfix [-c config_dir] [-v] command
 *   start, start-fg, stop, abort, reload, status, check, set-permissions
 * Messages and exit codes follow Postfix's: "the Postfix mail system is
 * running: PID: N" with exit 0, "is not running" with exit 1, and so on,
 * logged as postfix/postfix-script so log watchers see the same lines.
 * Whether master runs is decided by its lock on pid/master.pid (master -t),
 * never by the pid file's mere existence, so a stale file blocks nothing.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "global/maillog.h"
#include "postfix/postfix.h"
#include "util/log.h"
#include "util/mymalloc.h"

#define PID_FILE "pid/master.pid"
#define STOP_WAIT_SECONDS 5

struct postfix_cmd {
	struct mail_conf *conf;
	char *master_path;
};

/* Postfix's script says "fatal:" for these, then exits 1 itself. */
static int
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_message(LOG_LEVEL_FATAL, fmt, ap);
	va_end(ap);
	return 1;
}

static void
usage(void)
{
	log_fatal("usage: postfix [-c config_dir] [-Dv] command");
}

/* Run master with one option; returns its exit status (or -1). */
static int
run_master(const struct postfix_cmd *cmd, const char *option)
{
	pid_t pid;
	int status;

	if ((pid = fork()) < 0)
		log_fatal("fork: %s", strerror(errno));
	if (pid == 0) {
		execl(cmd->master_path, cmd->master_path, option, (char *)NULL);
		log_error("exec %s: %s", cmd->master_path, strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool
is_running(const struct postfix_cmd *cmd)
{
	return run_master(cmd, "-t") != 0;
}

static pid_t
master_pid(void)
{
	FILE *fp = fopen(PID_FILE, "re");
	long pid = 0;

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%ld", &pid) != 1 || pid <= 1)
		pid = 0;
	fclose(fp);
	return (pid_t)pid;
}

static int
signal_master(const struct postfix_cmd *cmd, int sig)
{
	pid_t pid;

	if (!is_running(cmd)) {
		return fail("the Postfix mail system is not running");
	}
	if ((pid = master_pid()) == 0 || kill(pid, sig) < 0) {
		log_error("cannot signal master (pid file %s): %s", PID_FILE,
			  pid == 0 ? "bad content" : strerror(errno));
		return 1;
	}
	return 0;
}

static int
do_start(const struct postfix_cmd *cmd, bool want_foreground)
{
	if (is_running(cmd)) {
		return fail("the Postfix mail system is already running");
	}
	if (postfix_check(cmd->conf, false) < 0) {
		return fail("Postfix integrity check failed!");
	}
	log_info("starting the Postfix mail system");
	if (want_foreground) {
		execl(cmd->master_path, cmd->master_path, "-s", (char *)NULL);
		log_error("cannot start-fg the master daemon: %s",
			  strerror(errno));
		return 1;
	}
	if (run_master(cmd, "-w") != 0) {
		return fail("mail system startup failed");
	}
	return 0;
}

static int
do_stop(const struct postfix_cmd *cmd)
{
	struct timespec pause = { .tv_nsec = 100 * 1000 * 1000 };
	pid_t pid = master_pid();

	if (signal_master(cmd, SIGTERM) != 0)
		return 1;
	log_info("stopping the Postfix mail system");
	for (int i = 0; i < STOP_WAIT_SECONDS * 10; i++) {
		if (!is_running(cmd))
			return 0;
		if (i % 10 == 9)
			log_info("waiting for the Postfix mail system to "
				 "terminate");
		nanosleep(&pause, NULL);
	}
	log_warning("stopping the Postfix mail system with force");
	kill(-pid, SIGKILL);
	return 0;
}

static int
do_status(const struct postfix_cmd *cmd)
{
	if (!is_running(cmd)) {
		log_info("the Postfix mail system is not running");
		return 1;
	}
	log_info("the Postfix mail system is running: PID: %ld",
		 (long)master_pid());
	return 0;
}

static int
dispatch(const struct postfix_cmd *cmd, const char *what)
{
	if (strcmp(what, "start") == 0)
		return do_start(cmd, false);
	if (strcmp(what, "start-fg") == 0)
		return do_start(cmd, true);
	if (strcmp(what, "stop") == 0)
		return do_stop(cmd);
	if (strcmp(what, "abort") == 0) {
		if (signal_master(cmd, SIGTERM) != 0)
			return 1;
		log_info("aborting the Postfix mail system");
		return 0;
	}
	if (strcmp(what, "reload") == 0) {
		if (signal_master(cmd, SIGHUP) != 0)
			return 1;
		log_info("refreshing the Postfix mail system");
		return 0;
	}
	if (strcmp(what, "status") == 0)
		return do_status(cmd);
	if (strcmp(what, "check") == 0)
		return postfix_check(cmd->conf, false) != 0;
	if (strcmp(what, "set-permissions") == 0)
		return postfix_check(cmd->conf, true) != 0;
	log_error("unknown command: '%s'", what);
	log_error("usage: postfix start (or stop, reload, abort, flush, "
		  "check, status, set-permissions, upgrade-configuration)");
	return 1;
}

/* master and the daemons find main.cf through MAIL_CONFIG. */
static void
export_config_dir(const char *config_dir)
{
	char *absolute = realpath(config_dir, NULL);

	if (absolute == NULL)
		log_fatal("%s: %s", config_dir, strerror(errno));
	setenv("MAIL_CONFIG", absolute, 1);
	free(absolute);
}

int
main(int argc, char **argv)
{
	struct postfix_cmd cmd = { 0 };
	const char *config_dir = getenv("MAIL_CONFIG");
	struct err err;
	int status;
	int ch;

	maillog_early("postfix");
	while ((ch = getopt(argc, argv, "c:Dv")) != -1) {
		switch (ch) {
		case 'c':
			config_dir = optarg;
			break;
		case 'D':
			break;
		case 'v':
			log_set_verbose(log_verbose() + 1);
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	if ((cmd.conf = mail_conf_load(config_dir, &err)) == NULL)
		log_fatal("%s", err.text);
	if (config_dir != NULL)
		export_config_dir(config_dir);
	maillog_setup(cmd.conf, "postfix-script", true);
	log_set_stderr_tag(log_tag());
	cmd.master_path = xasprintf("%s/master",
				    mail_conf_str(cmd.conf, "daemon_directory"));
	/* A missing queue directory means "not running"; check creates it. */
	if (chdir(mail_conf_str(cmd.conf, "queue_directory")) < 0)
		log_debug("chdir %s: %s",
			  mail_conf_str(cmd.conf, "queue_directory"),
			  strerror(errno));
	status = dispatch(&cmd, argv[optind]);
	mail_conf_destroy(&cmd.conf);
	free(cmd.master_path);
	return status;
}
