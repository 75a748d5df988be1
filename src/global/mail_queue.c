/*
 * mail_queue.c - the queue directory's layout: names, owners and modes.
 */
#include "global/mail_queue.h"

static const struct mail_queue_dir queue_dirs[] = {
	{ "active", MAIL_QUEUE_OWNER_MAIL, 0700 },
	{ "bounce", MAIL_QUEUE_OWNER_MAIL, 0700 },
	{ "corrupt", MAIL_QUEUE_OWNER_MAIL, 0700 },
	{ "defer", MAIL_QUEUE_OWNER_MAIL, 0700 },
	{ "deferred", MAIL_QUEUE_OWNER_MAIL, 0700 },
	{ "flush", MAIL_QUEUE_OWNER_MAIL, 0700 },
	{ "hold", MAIL_QUEUE_OWNER_MAIL, 0700 },
	{ "incoming", MAIL_QUEUE_OWNER_MAIL, 0700 },
	{ "maildrop", MAIL_QUEUE_OWNER_MAIL_SETGID, 0730 },
	{ "pid", MAIL_QUEUE_OWNER_ROOT, 0755 },
	{ "private", MAIL_QUEUE_OWNER_MAIL, 0700 },
	{ "public", MAIL_QUEUE_OWNER_MAIL_SETGID, 0710 },
	{ "saved", MAIL_QUEUE_OWNER_MAIL, 0700 },
	{ "trace", MAIL_QUEUE_OWNER_MAIL, 0700 },
};

const struct mail_queue_dir *
mail_queue_dirs(size_t *count_out)
{
	*count_out = sizeof(queue_dirs) / sizeof(queue_dirs[0]);
	return queue_dirs;
}
