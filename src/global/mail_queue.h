/*
 * mail_queue.h - the queue directory's layout: names, owners and modes.
 *
 * One table says which directories live under queue_directory and who
 * owns them, so `postfix check`, `postfix set-permissions` and the queue
 * tools agree. Owners are symbolic: the super-user, mail_owner, or
 * mail_owner with setgid_group as the group (maildrop and public, where
 * the setgid postdrop and postqueue commands must reach).
 */
#ifndef POSTERN_GLOBAL_MAIL_QUEUE_H
#define POSTERN_GLOBAL_MAIL_QUEUE_H

#include <stddef.h>
#include <sys/types.h>

#include "global/mail_conf.h"

/* Queue names, as they appear in log lines and postsuper arguments. */
#define MAIL_QUEUE_MAILDROP "maildrop"
#define MAIL_QUEUE_INCOMING "incoming"
#define MAIL_QUEUE_ACTIVE "active"
#define MAIL_QUEUE_DEFERRED "deferred"
#define MAIL_QUEUE_HOLD "hold"
#define MAIL_QUEUE_CORRUPT "corrupt"

enum mail_queue_owner {
	MAIL_QUEUE_OWNER_ROOT,
	MAIL_QUEUE_OWNER_MAIL,
	MAIL_QUEUE_OWNER_MAIL_SETGID, /* mail_owner, group setgid_group */
};

struct mail_queue_dir {
	const char *name; /* relative to queue_directory */
	enum mail_queue_owner owner;
	mode_t mode;
};

/* Every directory of the queue, parents first. */
const struct mail_queue_dir *mail_queue_dirs(size_t *count_out);

#endif
