/*
 * local_mailbox.c - mailbox delivery and delivery to /file destinations
 * for the local delivery agent.
 *
 * Mailbox: mailbox_transport(_maps) for every local recipient; then, for
 * users in the passwd file, mailbox_command(_maps), else home_mailbox
 * (relative to the home directory) or mail_spool_directory/USER; a name
 * ending in '/' is a Maildir. Files: "/path" from aliases, .forward and
 * :include: files, as allow_mail_to_files permits; mbox format with
 * locking for regular files, a plain copy for devices such as /dev/null,
 * Maildir for "/path/". Every write runs with the recipient's rights
 * (local_run_as); mailbox.c does the writing.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/mailbox.h"
#include "global/maps.h"
#include "local.h"
#include "util/dict.h"
#include "util/log.h"
#include "util/mymalloc.h"

/* What a delivery child needs. */
struct write_job {
	struct local_state *st;
	const char *path;
	const char *user; /* for "cannot update mailbox" */
	struct mailbox_msg msg;
	bool is_file; /* a /file destination, not a mailbox */
	int locks;    /* MAILBOX_LOCK_* */
	uid_t owner;  /* strict_mailbox_ownership: expected owner */
};

static bool
is_maildir(const char *path)
{
	size_t len = strlen(path);

	return len > 0 && path[len - 1] == '/';
}

static void
fill_msg(struct local_state *st, const struct local_attr *attr,
	 bool want_delivered, struct mailbox_msg *msg)
{
	const char *orig = attr->orig_rcpt;

	memset(msg, 0, sizeof(*msg));
	msg->req = st->req;
	msg->sender = attr->sender;
	msg->delivered_to = want_delivered ? attr->delivered : NULL;
	msg->original_to = st->ctx->p.enable_original_recipient && orig && *orig
				   ? orig
				   : NULL;
	msg->size_limit = st->ctx->p.mailbox_size_limit;
}

/* ------------------------------------------------------------------ */
/* The writes, in the recipient's rights.                               */

static void
write_maildir(struct write_job *job, struct local_result *res)
{
	struct mailbox_result mr = { 0 };
	struct err err;

	if (mailbox_maildir_deliver(job->path, &job->msg, &mr, &err) == 0) {
		local_result_set(res, DELIVER_RESULT_SENT, "2.0.0",
				 job->is_file ? "delivered to file: %s"
					      : "delivered to maildir",
				 job->path);
		return;
	}
	local_result_set(res,
			 mr.is_temporary ? DELIVER_RESULT_DEFERRED
					 : DELIVER_RESULT_BOUNCED,
			 mr.dsn[0] ? mr.dsn : "4.2.0",
			 "maildir delivery failed: %s", err.text);
}

/* A /file that is not a regular file (e.g. /dev/null): a plain copy. */
static void
write_special(struct write_job *job, struct local_result *res)
{
	struct err err;
	int fd = open(job->path, O_WRONLY | O_APPEND | O_CLOEXEC);

	if (fd < 0 || mailbox_write(fd, &job->msg, true, &err) < 0) {
		local_result_set(res, DELIVER_RESULT_DEFERRED, "4.2.0",
				 "cannot append message to file %s: %s",
				 job->path,
				 fd < 0 ? strerror(errno) : err.text);
	} else {
		local_result_set(res, DELIVER_RESULT_SENT, "2.0.0",
				 "delivered to file: %s", job->path);
	}
	if (fd >= 0)
		(void)close(fd);
}

static void
write_mbox(struct write_job *job, struct local_result *res)
{
	struct mailbox_result mr = { 0 };
	struct err err;
	int kind;

	if (mailbox_mbox_deliver(job->path, job->locks, &job->msg, &mr, &err) ==
	    0) {
		local_result_set(res, DELIVER_RESULT_SENT, "2.0.0",
				 job->is_file ? "delivered to file: %s"
					      : "delivered to mailbox",
				 job->path);
		return;
	}
	kind = mr.is_temporary ? DELIVER_RESULT_DEFERRED
			       : DELIVER_RESULT_BOUNCED;
	if (job->is_file)
		local_result_set(res, kind, mr.dsn[0] ? mr.dsn : "4.2.0",
				 "cannot append message to file %s: %s",
				 job->path, err.text);
	else
		local_result_set(res, kind, mr.dsn[0] ? mr.dsn : "4.2.0",
				 "cannot update mailbox %s for user %s. %s",
				 job->path, job->user, err.text);
}

/* The checks before an mbox write; false when res says why not. */
static bool
check_destination(struct write_job *job, struct local_result *res)
{
	struct stat sb;

	if (lstat(job->path, &sb) < 0)
		return true; /* mailbox.c creates it */
	if (job->is_file && S_ISREG(sb.st_mode) &&
	    (sb.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH))) {
		local_result_set(res, DELIVER_RESULT_BOUNCED, "5.7.1",
				 "file is executable");
		return false;
	}
	if (job->is_file)
		return true;
	if (!S_ISREG(sb.st_mode)) {
		local_result_set(res, DELIVER_RESULT_BOUNCED, "5.2.0",
				 "destination %s is not a regular file",
				 job->path);
		return false;
	}
	if (job->st->ctx->p.strict_mailbox_ownership &&
	    sb.st_uid != job->owner) {
		log_warning("specify \"strict_mailbox_ownership = no\" to "
			    "ignore mailbox ownership mismatch");
		local_result_set(res, DELIVER_RESULT_DEFERRED, "4.2.0",
				 "destination %s is not owned by recipient",
				 job->path);
		return false;
	}
	return true;
}

static void
write_job_run(void *ctx, struct local_result *res, struct strbuf *data)
{
	struct write_job *job = ctx;
	struct stat sb;

	(void)data;
	if (is_maildir(job->path)) {
		write_maildir(job, res);
		return;
	}
	if (!check_destination(job, res))
		return;
	if (job->is_file && stat(job->path, &sb) == 0 && !S_ISREG(sb.st_mode))
		write_special(job, res);
	else
		write_mbox(job, res);
}

/* ------------------------------------------------------------------ */
/* Files.                                                               */

static int
exp_class(enum local_exp exp_type)
{
	return exp_type == LOCAL_EXP_ALIAS     ? LOCAL_CLASS_ALIAS
	       : exp_type == LOCAL_EXP_FORWARD ? LOCAL_CLASS_FORWARD
	       : exp_type == LOCAL_EXP_INCLUDE ? LOCAL_CLASS_INCLUDE
					       : 0;
}

/* Files and commands never run as root: default_privs instead. */
static const struct local_user *
unprivileged(const struct local_ctx *ctx, const struct local_user *usr)
{
	return ctx->is_root && usr->uid == 0 ? &ctx->default_privs : usr;
}

void
local_deliver_file(struct local_state *st, struct local_attr *attr,
		   const struct local_user *usr, const char *path)
{
	const struct local_user *as = unprivileged(st->ctx, usr);
	struct write_job job = {
		.st = st,
		.path = path,
		.is_file = true,
		.locks = st->ctx->p.mailbox_locks,
	};
	struct local_result res;

	if ((st->ctx->p.allow_mail_to_files & exp_class(attr->exp_type)) == 0) {
		local_outcome(st, attr, DELIVER_RESULT_BOUNCED, "5.7.1",
			      "mail to file is restricted");
		return;
	}
	if (local_been_here(st, "file %ld %s", (long)as->uid, path) ||
	    local_verify_only(st, attr, is_maildir(path) ? "maildir" : "file",
			      is_maildir(path) ? NULL : path))
		return;
	fill_msg(st, attr,
		 (st->ctx->p.prepend_delivered_header & LOCAL_DELIVERED_FILE) !=
			 0,
		 &job.msg);
	local_run_as(st->ctx, as->uid, as->gid, write_job_run, &job, &res,
		     NULL);
	local_outcome(st, attr, res.kind, res.dsn, "%s", res.reason);
}

/* ------------------------------------------------------------------ */
/* Mailboxes.                                                           */

/*
 * As root, a mailbox in a spool directory the user may not write is
 * created by root and given to the user, as Postfix does; the user's
 * delivery child then gets the directory's group when it is group
 * writable (for the dotlock file). When neither the user nor the group
 * may create files there, the child cannot make a dotlock: Postfix takes
 * it as root, we lock with the other methods only.
 */
static gid_t
prepare_spool(struct local_state *st, const struct local_user *usr,
	      const char *path, int *locks)
{
	char *copy = xstrdup(path);
	const char *dir = dirname(copy);
	struct stat sb;
	gid_t gid = usr->gid;
	int fd;

	if (!st->ctx->is_root || stat(dir, &sb) < 0 || (sb.st_mode & S_IWOTH)) {
		free(copy);
		return gid;
	}
	if (sb.st_mode & S_IWGRP)
		gid = sb.st_gid;
	else if (sb.st_uid != usr->uid)
		*locks &= ~MAILBOX_LOCK_DOTLOCK;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd >= 0) {
		if (fchown(fd, usr->uid, usr->gid) < 0)
			log_warning("chown %s: %s", path, strerror(errno));
		(void)close(fd);
	}
	free(copy);
	return gid;
}

static void
mailbox_path(struct local_state *st, const struct local_user *usr,
	     const char *user, struct strbuf *path, bool *is_spool_out)
{
	const struct local_params *p = &st->ctx->p;

	const char *spool = p->mail_spool_directory;

	*is_spool_out = *p->home_mailbox == 0;
	if (!*is_spool_out)
		strbuf_printf(path, "%s/%s", usr->home, p->home_mailbox);
	else if (is_maildir(spool)) /* "/var/mail/" means Maildirs */
		strbuf_printf(path, "%s%s/", spool, user);
	else
		strbuf_printf(path, "%s/%s", spool, user);
}

static void
deliver_to_mailbox(struct local_state *st, struct local_attr *attr,
		   const struct local_user *usr)
{
	struct write_job job = {
		.st = st,
		.user = attr->parts.user,
		.locks = st->ctx->p.mailbox_locks,
	};
	struct local_result res;
	struct strbuf path;
	bool is_spool;
	gid_t gid = usr->gid;

	strbuf_init(&path, STRBUF_UNLIMITED);
	mailbox_path(st, usr, attr->parts.user, &path, &is_spool);
	job.path = strbuf_text(&path);
	if (local_verify_only(st, attr,
			      is_maildir(job.path) ? "maildir" : "mailbox",
			      NULL)) {
		strbuf_deinit(&path);
		return;
	}
	job.owner = st->ctx->is_root ? usr->uid : geteuid();
	fill_msg(st, attr, true, &job.msg);
	if (is_spool && !is_maildir(job.path))
		gid = prepare_spool(st, usr, job.path, &job.locks);
	local_run_as(st->ctx, usr->uid, gid, write_job_run, &job, &res, NULL);
	local_outcome(st, attr, res.kind, res.dsn, "%s", res.reason);
	strbuf_deinit(&path);
}

/* mailbox_command(_maps): expanded, run as the user. */
static bool
deliver_mailbox_command(struct local_state *st, struct local_attr *attr,
			const struct local_user *usr)
{
	struct local_ctx *ctx = st->ctx;
	const char *command = ctx->p.mailbox_command;
	const char *value;
	struct err err;
	int ret;

	if (!maps_is_empty(ctx->mailbox_command_maps)) {
		ret = maps_find(ctx->mailbox_command_maps, attr->parts.user,
				true, &value, &err);
		if (ret == DICT_ERROR) {
			log_warning("%s: %s", st->req->queue_id, err.text);
			local_outcome(st, attr, DELIVER_RESULT_DEFERRED,
				      "4.3.0", "table lookup failure");
			return true;
		}
		if (ret == DICT_FOUND)
			command = value;
	}
	if (*command == 0)
		return false;
	local_deliver_command(st, attr, usr, command, true);
	return true;
}

bool
local_deliver_mailbox(struct local_state *st, struct local_attr *attr)
{
	struct local_ctx *ctx = st->ctx;
	struct local_user usr;
	const char *transport;
	struct err err;
	struct stat sb;
	bool is_error;
	int found;

	if (local_been_here(st, "mailbox %s", attr->parts.user))
		return true;
	transport = local_transport_find(st, attr, ctx->mailbox_transport_maps,
					 ctx->p.mailbox_transport, &is_error);
	if (is_error)
		return true;
	if (transport != NULL) {
		local_deliver_pass(st, attr, transport);
		return true;
	}
	found = local_user_lookup(attr->parts.user, &usr, &err);
	if (found < 0) {
		log_warning("%s", err.text);
		local_outcome(st, attr, DELIVER_RESULT_DEFERRED, "4.0.0",
			      "user lookup error");
		return true;
	}
	if (found == 0)
		return false;
	if (ctx->p.require_home_directory && stat(usr.home, &sb) < 0) {
		local_outcome(st, attr, DELIVER_RESULT_DEFERRED, "4.3.0",
			      "cannot access home directory %s: %s", usr.home,
			      strerror(errno));
	} else if (!deliver_mailbox_command(st, attr, &usr)) {
		deliver_to_mailbox(st, attr, &usr);
	}
	local_user_free(&usr);
	return true;
}
