/*
 * local_privs.c - the local delivery agent's two personalities: passwd
 * lookups, and running a piece of work with a user's rights.
 *
 * Security: when the agent runs as root, local_run_as forks a child that
 * drops to the target uid/gid for good (setgroups, setresgid, setresuid,
 * then checks that root cannot be regained) before it touches any user
 * file; the parent never opens user files itself. The child sends its
 * result and any data back through a pipe and leaves with _exit. Started
 * by an ordinary user, the work runs in-process with that user's rights.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "local.h"
#include "util/log.h"
#include "util/mymalloc.h"

void
local_result_set(struct local_result *res, int kind, const char *dsn,
		 const char *fmt, ...)
{
	va_list ap;

	res->kind = kind;
	snprintf(res->dsn, sizeof(res->dsn), "%s", dsn);
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* Users.                                                               */

static void
user_fill(struct local_user *usr, const struct passwd *pw)
{
	usr->uid = pw->pw_uid;
	usr->gid = pw->pw_gid;
	usr->logname = xstrdup(pw->pw_name);
	usr->home = xstrdup(pw->pw_dir ? pw->pw_dir : "");
	usr->shell = xstrdup(pw->pw_shell ? pw->pw_shell : "");
}

int
local_user_lookup(const char *name, struct local_user *usr_out, struct err *err)
{
	struct passwd *pw;

	memset(usr_out, 0, sizeof(*usr_out));
	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		if (errno != 0 && errno != ENOENT && errno != ESRCH &&
		    errno != EBADF && errno != EPERM) {
			err_set(err, "error looking up passwd info for %s: %s",
				name, strerror(errno));
			return -1;
		}
		return 0;
	}
	user_fill(usr_out, pw);
	return 1;
}

int
local_user_by_uid(uid_t uid, struct local_user *usr_out, struct err *err)
{
	struct passwd *pw;

	memset(usr_out, 0, sizeof(*usr_out));
	errno = 0;
	pw = getpwuid(uid);
	if (pw == NULL) {
		err_set(err, "cannot find username for uid %ld", (long)uid);
		return errno != 0 && errno != ENOENT ? -1 : 0;
	}
	user_fill(usr_out, pw);
	return 1;
}

void
local_user_copy(struct local_user *dst, const struct local_user *src)
{
	dst->uid = src->uid;
	dst->gid = src->gid;
	dst->logname = src->logname ? xstrdup(src->logname) : NULL;
	dst->home = src->home ? xstrdup(src->home) : NULL;
	dst->shell = src->shell ? xstrdup(src->shell) : NULL;
}

void
local_user_free(struct local_user *usr)
{
	free(usr->logname);
	free(usr->home);
	free(usr->shell);
	memset(usr, 0, sizeof(*usr));
}

/* ------------------------------------------------------------------ */
/* Running as a user.                                                   */

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static ssize_t
read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* In the child: become uid/gid for good, or die. */
static void
become(uid_t uid, gid_t gid)
{
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0)
		log_fatal("set privileges to uid %ld gid %ld: %s", (long)uid,
			  (long)gid, strerror(errno));
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		log_fatal("could regain root after dropping to uid %ld",
			  (long)uid);
}

static void
child_run(int fd, uid_t uid, gid_t gid, local_priv_fn *fn, void *fn_ctx)
{
	struct local_result res = { .kind = DELIVER_RESULT_DEFERRED };
	struct strbuf data;
	size_t len;

	become(uid, gid);
	strbuf_init(&data, LOCAL_FILE_MAX);
	fn(fn_ctx, &res, &data);
	len = data.len;
	if (write_all(fd, &res, sizeof(res)) < 0 ||
	    write_all(fd, &len, sizeof(len)) < 0 ||
	    write_all(fd, data.data, len) < 0)
		_exit(1);
	_exit(0);
}

/* In the parent: the child's result and data. */
static void
parent_collect(int fd, pid_t pid, struct local_result *res, struct strbuf *data)
{
	struct local_result got;
	size_t len = 0;
	char buf[8192];
	ssize_t n;
	int status;

	if (read_all(fd, &got, sizeof(got)) != (ssize_t)sizeof(got) ||
	    read_all(fd, &len, sizeof(len)) != (ssize_t)sizeof(len)) {
		local_result_set(res, DELIVER_RESULT_DEFERRED, "4.3.0",
				 "mail system error: delivery process died");
	} else {
		*res = got;
		res->reason[sizeof(res->reason) - 1] = 0;
		res->dsn[sizeof(res->dsn) - 1] = 0;
		while (len > 0 &&
		       (n = read_all(fd, buf,
				     len < sizeof(buf) ? len : sizeof(buf))) >
			       0) {
			if (data != NULL)
				(void)strbuf_append(data, buf, (size_t)n);
			len -= (size_t)n;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

void
local_run_as(const struct local_ctx *ctx, uid_t uid, gid_t gid,
	     local_priv_fn *fn, void *fn_ctx, struct local_result *res,
	     struct strbuf *data)
{
	int fds[2];
	pid_t pid;

	memset(res, 0, sizeof(*res));
	if (!ctx->is_root) {
		struct strbuf scratch;

		strbuf_init(&scratch, LOCAL_FILE_MAX);
		fn(fn_ctx, res, data != NULL ? data : &scratch);
		strbuf_deinit(&scratch);
		return;
	}
	if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
		local_result_set(res, DELIVER_RESULT_DEFERRED, "4.3.0",
				 "mail system error: fork: %s",
				 strerror(errno));
		return;
	}
	if (pid == 0) {
		(void)close(fds[0]);
		child_run(fds[1], uid, gid, fn, fn_ctx);
	}
	(void)close(fds[1]);
	parent_collect(fds[0], pid, res, data);
	(void)close(fds[0]);
}
