/*
 * local_command.c - delivery to "|command" destinations and to
 * mailbox_command for the local delivery agent.
 *
 * The command runs as "/bin/sh -c COMMAND" (or local_command_shell with
 * COMMAND appended) in its own session, with the recipient's rights (never
 * root: default_privs instead), a clean environment (PATH=/usr/bin:/bin,
 * HOME, USER, LOGNAME, SHELL, SENDER, RECIPIENT, LOCAL, DOMAIN,
 * EXTENSION, ORIGINAL_RECIPIENT, the client attributes, and the names
 * export_environment lists), in command_execution_directory when set.
 * A feeder process writes the message (a "From " line, the delivery
 * headers, the content) to its standard input, so a command that talks
 * before it reads cannot deadlock us; the parent keeps the first
 * LOCAL_OUTPUT_MAX bytes of its output for the bounce reason and kills
 * the session after command_time_limit. Exit statuses mean what
 * sysexits.h says, as in Postfix.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "global/mailbox.h"
#include "local.h"
#include "util/log.h"
#include "util/mymalloc.h"

#define LOCAL_COMMAND_PATH "/usr/bin:/bin"

/* Exit status of a child that could not start the command. */
#define LOCAL_EXIT_SETUP 75

struct command_job {
	struct local_state *st;
	const struct local_attr *attr;
	const struct local_user *as;  /* the rights it runs with */
	const struct local_user *usr; /* HOME, SHELL */
	const char *command;
	char *dir;         /* working directory, or NULL */
	struct argv *env;  /* "NAME=value" */
	struct argv *args; /* shell argv + command */
	struct mailbox_msg msg;
};

/* ------------------------------------------------------------------ */
/* Set-up.                                                              */

static void
env_add(struct command_job *job, const char *name, const char *value)
{
	struct strbuf text;

	if (value == NULL)
		return;
	strbuf_init(&text, STRBUF_UNLIMITED);
	strbuf_printf(&text, "%s=", name);
	local_filter(value, job->st->ctx->p.command_expansion_filter, &text);
	argv_add(job->env, strbuf_text(&text));
	strbuf_deinit(&text);
}

static void
build_env(struct command_job *job)
{
	const struct local_attr *attr = job->attr;
	const struct deliver_request *req = job->st->req;
	const struct argv *keep = job->st->ctx->p.export_environment;
	const char *value;

	job->env = argv_create();
	argv_add(job->env, "PATH=" LOCAL_COMMAND_PATH);
	for (size_t i = 0; i < keep->count; i++)
		if ((value = getenv(keep->items[i])) != NULL) {
			char *pair = xasprintf("%s=%s", keep->items[i], value);

			argv_add(job->env, pair);
			free(pair);
		}
	env_add(job, "HOME", job->usr->home);
	env_add(job, "SHELL", job->usr->shell);
	env_add(job, "USER", attr->parts.user);
	env_add(job, "LOGNAME", attr->parts.user);
	env_add(job, "SENDER", attr->sender);
	env_add(job, "RECIPIENT", attr->address);
	env_add(job, "LOCAL", attr->parts.local);
	env_add(job, "DOMAIN", attr->parts.domain);
	env_add(job, "EXTENSION", attr->parts.extension);
	env_add(job, "ORIGINAL_RECIPIENT",
		*attr->orig_rcpt ? attr->orig_rcpt : attr->address);
	if (*req->client_name)
		env_add(job, "CLIENT_HOSTNAME", req->client_name);
	if (*req->client_addr)
		env_add(job, "CLIENT_ADDRESS", req->client_addr);
	if (*req->client_helo)
		env_add(job, "CLIENT_HELO", req->client_helo);
	if (*req->client_proto)
		env_add(job, "CLIENT_PROTOCOL", req->client_proto);
	if (*req->sasl_username)
		env_add(job, "SASL_USERNAME", req->sasl_username);
}

static void
expand_vars(const struct command_job *job, struct local_vars *vars)
{
	const struct local_attr *attr = job->attr;

	memset(vars, 0, sizeof(*vars));
	vars->user = attr->parts.user;
	vars->home = job->usr->home;
	vars->shell = job->usr->shell;
	vars->recipient = attr->address;
	vars->extension = attr->parts.extension;
	vars->domain = attr->parts.domain;
	vars->local = attr->parts.local;
	vars->recipient_delimiter =
		attr->parts.delim[0] ? attr->parts.delim : NULL;
}

/* $name expansion of pattern; NULL with err on a syntax error. */
static char *
expand(const struct command_job *job, const char *pattern, const char *filter,
       struct err *err)
{
	struct local_vars vars;
	struct strbuf out;
	bool is_undef;
	char *result = NULL;

	expand_vars(job, &vars);
	strbuf_init(&out, STRBUF_UNLIMITED);
	if (local_expand(pattern, &vars, filter, &out, &is_undef, err) == 0)
		result = xstrdup(strbuf_text(&out));
	strbuf_deinit(&out);
	return result;
}

static void
build_args(struct command_job *job, const char *command)
{
	const char *shell = job->st->ctx->p.local_command_shell;

	if (*shell) {
		job->args = argv_split(shell, " \t");
	} else {
		job->args = argv_create();
		argv_add(job->args, "/bin/sh");
		argv_add(job->args, "-c");
	}
	argv_add(job->args, command);
}

/* ------------------------------------------------------------------ */
/* The processes.                                                       */

static void
become(uid_t uid, gid_t gid)
{
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		fprintf(stderr, "set privileges: %s\n", strerror(errno));
		_exit(LOCAL_EXIT_SETUP);
	}
}

static _Noreturn void
command_child(struct command_job *job, int in_fd, int out_fd)
{
	(void)setsid();
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		_exit(LOCAL_EXIT_SETUP);
	for (int sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_DFL);
	if (job->st->ctx->is_root)
		become(job->as->uid, job->as->gid);
	if (job->dir != NULL && chdir(job->dir) < 0) {
		fprintf(stderr, "chdir %s: %s\n", job->dir, strerror(errno));
		_exit(LOCAL_EXIT_SETUP);
	}
	execve(job->args->items[0], job->args->items, job->env->items);
	fprintf(stderr, "execute %s: %s\n", job->args->items[0],
		strerror(errno));
	_exit(LOCAL_EXIT_SETUP);
}

static _Noreturn void
feeder_child(struct command_job *job, int fd)
{
	const char *sender =
		*job->msg.sender ? job->msg.sender : "MAILER-DAEMON";
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	struct err err;
	FILE *fp;

	(void)signal(SIGPIPE, SIG_DFL);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y",
		 localtime_r(&now, &tm));
	fp = fdopen(dup(fd), "w");
	if (fp != NULL) {
		fprintf(fp, "From %s  %s\n", sender, date);
		(void)fclose(fp);
	}
	_exit(mailbox_write(fd, &job->msg, false, &err) < 0 ? 1 : 0);
}

/* Read the command's output until it ends or time runs out. */
static bool
collect_output(int fd, long long limit_s, struct strbuf *output)
{
	struct timespec start, now;
	char buf[4096];
	ssize_t n;

	(void)clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left_ms;

		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms = limit_s * 1000 -
			  ((now.tv_sec - start.tv_sec) * 1000 +
			   (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left_ms <= 0)
			return false;
		if (poll(&pfd, 1, left_ms > 60000 ? 60000 : (int)left_ms) < 0) {
			if (errno == EINTR)
				continue;
			return true;
		}
		if (pfd.revents == 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return true;
		if (output->len < LOCAL_OUTPUT_MAX)
			(void)strbuf_append(
				output, buf,
				(size_t)n > LOCAL_OUTPUT_MAX - output->len
					? LOCAL_OUTPUT_MAX - output->len
					: (size_t)n);
	}
}

static int
wait_for(pid_t pid)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

/* An enhanced status code at the start of the output wins. */
static bool
output_dsn(const char *output, char *dsn, size_t size)
{
	int a, b, c, n = 0;

	if (sscanf(output, "%1d.%3d.%3d%n", &a, &b, &c, &n) != 3 || n == 0 ||
	    (a != 2 && a != 4 && a != 5) ||
	    (output[n] != 0 && output[n] != ' ' && output[n] != '\t' &&
	     output[n] != '\n'))
		return false;
	snprintf(dsn, size, "%d.%d.%d", a, b, c);
	return true;
}

static void
judge(struct command_job *job, int status, bool is_timeout,
      const struct strbuf *output)
{
	struct local_exit_info info;
	struct strbuf reason;
	char dsn[16];
	int kind;

	if (!is_timeout && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		local_outcome(job->st, job->attr, DELIVER_RESULT_SENT, "2.0.0",
			      "delivered to command: %s", job->command);
		return;
	}
	strbuf_init(&reason, STRBUF_UNLIMITED);
	if (is_timeout) {
		local_command_reason("time", 0, job->command, output->data,
				     output->len, &reason);
		info = (struct local_exit_info){ "5.3.0", "", false };
	} else if (WIFSIGNALED(status)) {
		local_command_reason("signal", WTERMSIG(status), job->command,
				     output->data, output->len, &reason);
		info = (struct local_exit_info){ "4.3.0", "", true };
	} else {
		local_command_reason("status", WEXITSTATUS(status),
				     job->command, output->data, output->len,
				     &reason);
		local_exit_status(WEXITSTATUS(status), &info);
	}
	snprintf(dsn, sizeof(dsn), "%s", info.dsn);
	kind = info.is_temporary ? DELIVER_RESULT_DEFERRED
				 : DELIVER_RESULT_BOUNCED;
	if (!is_timeout && output_dsn(output->data, dsn, sizeof(dsn)))
		kind = dsn[0] == '4' ? DELIVER_RESULT_DEFERRED
				     : DELIVER_RESULT_BOUNCED;
	local_outcome(job->st, job->attr, kind, dsn, "%s",
		      strbuf_text(&reason));
	strbuf_deinit(&reason);
}

static void
run_command(struct command_job *job)
{
	int in[2], out[2];
	pid_t pid, feeder;
	struct strbuf output;
	bool is_done;
	int status;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		local_outcome(job->st, job->attr, DELIVER_RESULT_DEFERRED,
			      "4.3.0", "mail system error: pipe: %s",
			      strerror(errno));
		return;
	}
	if ((pid = fork()) == 0)
		command_child(job, in[0], out[1]);
	(void)close(in[0]);
	(void)close(out[1]);
	feeder = pid < 0 ? -1 : fork();
	if (feeder == 0) {
		(void)close(out[0]);
		feeder_child(job, in[1]);
	}
	(void)close(in[1]);
	if (pid < 0 || feeder < 0) {
		if (pid > 0) {
			(void)kill(-pid, SIGKILL);
			(void)wait_for(pid);
		}
		(void)close(out[0]);
		local_outcome(job->st, job->attr, DELIVER_RESULT_DEFERRED,
			      "4.3.0", "mail system error: fork: %s",
			      strerror(errno));
		return;
	}
	strbuf_init(&output, LOCAL_OUTPUT_MAX);
	is_done = collect_output(out[0], job->st->ctx->p.command_time_limit,
				 &output);
	if (!is_done) {
		(void)kill(-pid, SIGKILL);
		(void)kill(pid, SIGKILL);
	}
	(void)close(out[0]);
	status = wait_for(pid);
	(void)kill(feeder, SIGKILL);
	(void)wait_for(feeder);
	judge(job, status, !is_done, &output);
	strbuf_deinit(&output);
}

/* ------------------------------------------------------------------ */

void
local_deliver_command(struct local_state *st, struct local_attr *attr,
		      const struct local_user *usr, const char *command,
		      bool is_mailbox_command)
{
	struct local_ctx *ctx = st->ctx;
	struct command_job job = {
		.st = st,
		.attr = attr,
		.usr = usr,
		.as = ctx->is_root && usr->uid == 0 ? &ctx->default_privs : usr,
	};
	struct err err;

	/* mailbox_command is not expanded: it is shell syntax. */
	if (!is_mailbox_command &&
	    local_been_here(st, "command %ld %s", (long)job.as->uid, command))
		return;
	if (local_verify_only(st, attr, "command", command))
		return;
	job.command = command;
	if (*ctx->p.command_execution_directory) {
		job.dir = expand(&job, ctx->p.command_execution_directory,
				 ctx->p.execution_directory_expansion_filter,
				 &err);
		if (job.dir == NULL) {
			log_warning("command_execution_directory: %s",
				    err.text);
			local_outcome(st, attr, DELIVER_RESULT_DEFERRED,
				      "4.3.5",
				      "mail system configuration error");
			return;
		}
	}
	memset(&job.msg, 0, sizeof(job.msg));
	job.msg.req = st->req;
	job.msg.sender = attr->sender;
	job.msg.delivered_to =
		(ctx->p.prepend_delivered_header & LOCAL_DELIVERED_COMMAND)
			? attr->delivered
			: NULL;
	job.msg.original_to =
		ctx->p.enable_original_recipient && *attr->orig_rcpt
			? attr->orig_rcpt
			: NULL;
	build_env(&job);
	build_args(&job, command);
	run_command(&job);
	argv_destroy(&job.env);
	argv_destroy(&job.args);
	free(job.dir);
}
