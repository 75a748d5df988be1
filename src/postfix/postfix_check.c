/*
 * postfix_check.c - `postfix check` and `postfix set-permissions`.
 *
 * Creates what is missing of the queue directory with the owners and modes
 * of global/mail_queue.c. As root, owners are root, mail_owner and
 * setgid_group; as an ordinary user every directory belongs to that user
 * (an unprivileged instance). Then reads main.cf and master.cf the way the
 * daemons will, so a broken file is reported before anything starts, and
 * warns about what Postfix's postconf warns about (global/conf_check.c).
 * set-permissions as root also makes command_directory's postdrop and
 * postqueue root:setgid_group mode 2755, as Postfix's postfix-files does
 * (a program that is not there is skipped).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/conf_check.h"
#include "global/mail_queue.h"
#include "global/master_conf.h"
#include "postfix/postfix.h"
#include "util/log.h"
#include "util/mymalloc.h"

struct owners {
	uid_t mail_uid;
	gid_t mail_gid;
	gid_t setgid_gid;
};

static int
lookup_owners(struct mail_conf *conf, struct owners *out)
{
	const char *owner = mail_conf_str(conf, "mail_owner");
	const char *group = mail_conf_str(conf, "setgid_group");
	struct passwd *pw;
	struct group *gr;

	if (geteuid() != 0) {
		out->mail_uid = geteuid();
		out->mail_gid = out->setgid_gid = getegid();
		return 0;
	}
	if ((pw = getpwnam(owner)) == NULL) {
		log_error("file %s: parameter mail_owner: unknown user name "
			  "value: %s",
			  mail_conf_path(conf), owner);
		return -1;
	}
	if (pw->pw_uid == 0) {
		log_error("mail_owner %s must not be the super-user", owner);
		return -1;
	}
	if ((gr = getgrnam(group)) == NULL) {
		log_error("file %s: parameter setgid_group: unknown group name: "
			  "%s",
			  mail_conf_path(conf), group);
		return -1;
	}
	out->mail_uid = pw->pw_uid;
	out->mail_gid = pw->pw_gid;
	out->setgid_gid = gr->gr_gid;
	return 0;
}

static void
owner_of(const struct mail_queue_dir *dir, const struct owners *owners,
	 uid_t *uid, gid_t *gid)
{
	switch (dir->owner) {
	case MAIL_QUEUE_OWNER_ROOT:
		*uid = geteuid() == 0 ? 0 : owners->mail_uid;
		*gid = geteuid() == 0 ? 0 : owners->mail_gid;
		break;
	case MAIL_QUEUE_OWNER_MAIL:
		*uid = owners->mail_uid;
		*gid = owners->mail_gid;
		break;
	case MAIL_QUEUE_OWNER_MAIL_SETGID:
		*uid = owners->mail_uid;
		*gid = owners->setgid_gid;
		break;
	}
}

/* Create dir if missing; fix owner and mode if new or want_fix. */
static int
prepare_dir(const struct mail_queue_dir *dir, const struct owners *owners,
	    bool want_fix)
{
	struct stat st;
	uid_t uid = 0;
	gid_t gid = 0;

	owner_of(dir, owners, &uid, &gid);
	if (lstat(dir->name, &st) < 0) {
		if (errno != ENOENT || mkdir(dir->name, dir->mode) < 0) {
			log_error("create directory %s: %s", dir->name,
				  strerror(errno));
			return -1;
		}
		want_fix = true;
	} else if (!S_ISDIR(st.st_mode)) {
		log_error("%s: not a directory", dir->name);
		return -1;
	} else if (st.st_uid != uid) {
		log_warning("not owned by %s: %s",
			    uid == 0 ? "root" : "mail_owner", dir->name);
	}
	if (!want_fix)
		return 0;
	if ((geteuid() == 0 && chown(dir->name, uid, gid) < 0) ||
	    chmod(dir->name, dir->mode) < 0) {
		log_error("set permissions of %s: %s", dir->name,
			  strerror(errno));
		return -1;
	}
	return 0;
}

/* The set-gid commands of postfix-files: root:setgid_group, 2755. */
static const char *const setgid_commands[] = { "postdrop", "postqueue" };

static int
fix_setgid_command(const char *path, gid_t gid)
{
	struct stat st;
	int fd;
	int ret = 0;

	/* No symlinks: never hand set-gid to a file somewhere else. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_error("%s: not a regular file", path);
		ret = -1;
	} else if (fchown(fd, 0, gid) < 0 || fchmod(fd, 02755) < 0) {
		log_error("set permissions of %s: %s", path, strerror(errno));
		ret = -1;
	}
	(void)close(fd);
	return ret;
}

static int
fix_setgid_commands(struct mail_conf *conf, gid_t gid)
{
	const char *dir = mail_conf_str(conf, "command_directory");
	int ret = 0;

	for (size_t i = 0;
	     i < sizeof(setgid_commands) / sizeof(setgid_commands[0]); i++) {
		char *path = xasprintf("%s/%s", dir, setgid_commands[i]);

		if (fix_setgid_command(path, gid) < 0)
			ret = -1;
		free(path);
	}
	return ret;
}

static int
check_master_cf(struct mail_conf *conf)
{
	char *path = xasprintf("%s/master.cf", mail_conf_dir(conf));
	struct master_conf *mc;
	struct err err;

	mc = master_conf_load(path, 0, &err);
	free(path);
	if (mc == NULL) {
		log_error("%s", err.text);
		return -1;
	}
	for (size_t i = 0; i < mc->warnings->count; i++)
		log_warning("%s", mc->warnings->items[i]);
	conf_check_run(conf, mc, CONF_CHECK_ALL);
	master_conf_destroy(&mc);
	return 0;
}

int
postfix_check(struct mail_conf *conf, bool want_fix_all)
{
	const char *queue_dir = mail_conf_str(conf, "queue_directory");
	const struct mail_queue_dir *dirs;
	struct owners owners;
	size_t count;
	int ret = 0;

	if (lookup_owners(conf, &owners) < 0)
		return -1;
	if (mkdir(queue_dir, 0755) < 0 && errno != EEXIST) {
		log_error("create directory %s: %s", queue_dir, strerror(errno));
		return -1;
	}
	if (chdir(queue_dir) < 0) {
		log_error("chdir %s: %s", queue_dir, strerror(errno));
		return -1;
	}
	dirs = mail_queue_dirs(&count);
	for (size_t i = 0; i < count; i++)
		if (prepare_dir(&dirs[i], &owners, want_fix_all) < 0)
			ret = -1;
	if (want_fix_all && geteuid() == 0 &&
	    fix_setgid_commands(conf, owners.setgid_gid) < 0)
		ret = -1;
	if (ret == 0 && check_master_cf(conf) < 0)
		ret = 1;
	return ret;
}
