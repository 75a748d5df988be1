/*
 * postsuper.c - the administrator's queue command, as Postfix's.
 *
 *     postsuper [-psv] [-c config_dir] [-d queue_id] [-h queue_id]
 *               [-H queue_id] [-r queue_id] [queue...]
 *
 * -d deletes messages (default queues: hold, incoming, active, deferred)
 * with their bounce, defer and trace logs ("ID: removed"); -h moves them
 * to hold/ (from incoming, active, deferred: "ID: placed on hold"); -H
 * moves them from hold/ to deferred/, due now ("ID: released from
 * hold"); -r moves them (from hold, incoming, active, deferred) to
 * maildrop/, where pickup hands them to cleanup again as a new queue
 * file ("ID: requeued"): recipients already done stay done, since pickup
 * forwards only 'R' records, and the old per-message logs are removed.
 * Each takes a queue ID, ALL (upper case) or "-" to read IDs from
 * standard input, and may be given more than once; queue names after the
 * options replace the defaults. Totals follow each operation: "Deleted:
 * 3 messages", "Placed on hold: 1 message", "Released from hold: N
 * messages", "Requeued: N messages".
 * -p and -s run first, over every queue and log directory: -p removes
 * writers' temporary files (tmp.*) and incomplete queue files older than
 * a day; -s moves files in the wrong hash subdirectory to the right one,
 * removes empty subdirectories a queue should not have, and renames
 * short-ID files whose name does not match their inode number ("Renamed
 * to match inode number: N messages"). -e and -f (forced expiry) are not
 * supported yet.
 * Privileges: only the super-user or mail_owner may run it ("use of this
 * command is reserved for the superuser"); it never runs set-uid.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/maillog.h"
#include "global/msg_log.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "global/queue_scan.h"
#include "util/argv.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#define POSTSUPER_USAGE                                                        \
	"usage: postsuper [-c config_dir] [-d queue_id (delete)] [-h "         \
	"queue_id (hold)] [-H queue_id (un-hold)] [-p (purge temporary "       \
	"files)] [-r queue_id (requeue)] [-s (structure fix)] [-v "            \
	"(verbose)] [queue...]"

/* Leftovers older than this are removed by -p (Postfix waits a day). */
#define POSTSUPER_TEMP_AGE (24 * 60 * 60)

/* Longest line read from standard input for "-d -" and friends. */
#define POSTSUPER_LINE_MAX 1024

enum postsuper_op {
	OP_DELETE,
	OP_HOLD,
	OP_RELEASE,
	OP_REQUEUE,
	OP_COUNT,
};

/* What each operation does, and its words. */
struct op_info {
	int opt;
	const char *const *queues; /* default source queues */
	const char *to_queue;      /* NULL: delete */
	const char *log_word;      /* "ID: removed" */
	const char *total_word;    /* "Deleted: N messages" */
};

static const char *const delete_queues[] = {
	MAIL_QUEUE_HOLD,
	MAIL_QUEUE_INCOMING,
	MAIL_QUEUE_ACTIVE,
	MAIL_QUEUE_DEFERRED,
	NULL,
};
static const char *const hold_queues[] = {
	MAIL_QUEUE_INCOMING,
	MAIL_QUEUE_ACTIVE,
	MAIL_QUEUE_DEFERRED,
	NULL,
};
static const char *const release_queues[] = { MAIL_QUEUE_HOLD, NULL };

static const struct op_info op_table[OP_COUNT] = {
	[OP_DELETE] = { 'd', delete_queues, NULL, "removed", "Deleted" },
	[OP_HOLD] = { 'h', hold_queues, MAIL_QUEUE_HOLD, "placed on hold",
		      "Placed on hold" },
	[OP_RELEASE] = { 'H', release_queues, MAIL_QUEUE_DEFERRED,
			 "released from hold", "Released from hold" },
	[OP_REQUEUE] = { 'r', delete_queues, MAIL_QUEUE_MAILDROP, "requeued",
			 "Requeued" },
};

/* Queue names a command line may list. */
static const char *const known_queues[] = {
	MAIL_QUEUE_MAILDROP, MAIL_QUEUE_INCOMING, MAIL_QUEUE_ACTIVE,
	MAIL_QUEUE_DEFERRED, MAIL_QUEUE_HOLD,     NULL,
};

/* Directories -p and -s look at: message queues, then logs. */
static const char *const message_queues[] = {
	MAIL_QUEUE_MAILDROP,
	MAIL_QUEUE_INCOMING,
	MAIL_QUEUE_ACTIVE,
	MAIL_QUEUE_DEFERRED,
	MAIL_QUEUE_HOLD,
	MAIL_QUEUE_CORRUPT,
	NULL,
};
static const char *const log_queues[] = {
	MSG_LOG_BOUNCE,
	MSG_LOG_DEFER,
	MSG_LOG_TRACE,
	NULL,
};

struct postsuper_opts {
	const char *config_dir;
	struct argv *ids[OP_COUNT]; /* IDs, "ALL" or "-" per operation */
	struct argv *queues;        /* from the command line, may be empty */
	bool want_purge;
	bool want_structure;
	int verbose;
};

struct postsuper {
	struct queue_layout *ql;
	time_t now;
};

static _Noreturn void
usage(void)
{
	log_fatal("%s", POSTSUPER_USAGE);
}

static bool
is_listed(const char *name, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

static void
parse_options(int argc, char **argv, struct postsuper_opts *opts)
{
	int opt;

	opterr = 0;
	while ((opt = getopt(argc, argv, "+c:d:h:H:pr:sv")) != -1) {
		for (int op = 0; op < OP_COUNT; op++)
			if (op_table[op].opt == opt)
				argv_add(opts->ids[op], optarg);
		switch (opt) {
		case 'c':
			opts->config_dir = optarg;
			break;
		case 'd':
		case 'h':
		case 'H':
		case 'r':
			break;
		case 'p':
			opts->want_purge = true;
			break;
		case 's':
			opts->want_structure = true;
			break;
		case 'v':
			opts->verbose++;
			break;
		default:
			fprintf(stderr, "postsuper: %s -- '%c'\n",
				strchr("cdhHr", optopt)
					? "option requires an argument"
					: "invalid option",
				optopt);
			usage();
		}
	}
	for (int i = optind; i < argc; i++) {
		if (!is_listed(argv[i], known_queues))
			log_fatal("invalid directory name: %s", argv[i]);
		argv_add(opts->queues, argv[i]);
	}
}

static void
check_user(struct mail_conf *conf)
{
	struct passwd *pw = getpwnam(mail_conf_str(conf, "mail_owner"));

	if (getuid() != geteuid())
		log_fatal("this postfix command must not run as a set-uid "
			  "process");
	if (getuid() != 0 && (pw == NULL || pw->pw_uid != getuid()))
		log_fatal("use of this command is reserved for the superuser");
}

/* ------------------------------------------------------------------ */
/* -d, -h, -H, -r                                                      */

static void
remove_logs(const struct postsuper *ps, const char *id)
{
	struct err err;

	for (int i = 0; log_queues[i] != NULL; i++)
		if (msg_log_remove(ps->ql, log_queues[i], id, &err) < 0)
			log_warning("%s", err.text);
}

static void
make_due(const struct postsuper *ps, const char *queue, const char *id)
{
	struct strbuf path;

	strbuf_init(&path, STRBUF_UNLIMITED);
	if (queue_file_relpath(ps->ql, queue, id, &path) == 0 &&
	    utimes(path.data, NULL) < 0)
		log_warning("%s: reset time stamps: %s", id, strerror(errno));
	strbuf_deinit(&path);
}

static int
delete_one(const struct postsuper *ps, const char *queue, const char *id)
{
	struct strbuf path;
	int ret = 0;

	strbuf_init(&path, STRBUF_UNLIMITED);
	if (queue_file_relpath(ps->ql, queue, id, &path) < 0 ||
	    unlink(path.data) < 0) {
		if (errno != ENOENT)
			log_warning("remove file %s: %s", path.data,
				    strerror(errno));
		ret = -1;
	}
	strbuf_deinit(&path);
	if (ret == 0)
		remove_logs(ps, id);
	return ret;
}

static bool
file_exists(const struct postsuper *ps, const char *queue, const char *id)
{
	struct strbuf path;
	struct stat st;
	bool found;

	strbuf_init(&path, STRBUF_UNLIMITED);
	found = queue_file_relpath(ps->ql, queue, id, &path) == 0 &&
		lstat(path.data, &st) == 0 && S_ISREG(st.st_mode);
	strbuf_deinit(&path);
	return found;
}

static int
move_one(const struct postsuper *ps, enum postsuper_op op, const char *queue,
	 const char *id)
{
	const char *to = op_table[op].to_queue;
	struct err err;

	if (strcmp(queue, to) == 0 || !file_exists(ps, queue, id))
		return -1;
	if (queue_file_move(ps->ql, queue, to, id, &err) < 0) {
		log_warning("%s", err.text);
		return -1;
	}
	if (op == OP_RELEASE)
		make_due(ps, to, id);
	if (op == OP_REQUEUE) /* pickup gives it a new ID: logs are stale */
		remove_logs(ps, id);
	return 0;
}

/* Apply op to id in the first of queues that has it; 1 if done. */
static int
apply_one(const struct postsuper *ps, enum postsuper_op op,
	  const char *const *queues, const char *id)
{
	if (!is_valid_queue_id(id)) {
		log_warning("invalid mail queue id: %s", id);
		return 0;
	}
	for (; *queues != NULL; queues++) {
		int ret = op == OP_DELETE ? delete_one(ps, *queues, id)
					  : move_one(ps, op, *queues, id);

		if (ret == 0) {
			log_info("%s: %s", id, op_table[op].log_word);
			return 1;
		}
	}
	return 0;
}

static int
collect_id(const char *id, void *ctx)
{
	argv_add(ctx, id);
	return 0;
}

/* ALL: every message of every queue (IDs first, then the work). */
static int
apply_all(const struct postsuper *ps, enum postsuper_op op,
	  const char *const *queues)
{
	int count = 0;

	for (; *queues != NULL; queues++) {
		const char *one[] = { *queues, NULL };
		struct argv *ids = argv_create();
		struct err err;

		if (queue_scan(ps->ql, *queues, collect_id, ids, &err) < 0 &&
		    errno != ENOENT)
			log_warning("%s", err.text);
		for (size_t i = 0; i < ids->count; i++)
			count += apply_one(ps, op, one, ids->items[i]);
		argv_destroy(&ids);
	}
	return count;
}

/* "-": one queue ID per line, surrounding white space ignored. */
static int
apply_stdin(const struct postsuper *ps, enum postsuper_op op,
	    const char *const *queues)
{
	char line[POSTSUPER_LINE_MAX];
	int count = 0;

	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *start = line + strspn(line, " \t");
		size_t len = strcspn(start, " \t\r\n");

		if (start[len] != 0 && strchr(" \t\r\n", start[len]) == NULL)
			continue;
		start[len] = 0;
		if (*start != 0)
			count += apply_one(ps, op, queues, start);
	}
	return count;
}

static void
run_op(const struct postsuper *ps, enum postsuper_op op, const struct argv *ids,
       const struct argv *queue_args)
{
	const char *const *queues =
		queue_args->count > 0 ? (const char *const *)queue_args->items
				      : op_table[op].queues;
	int count = 0;

	if (ids->count == 0)
		return;
	for (size_t i = 0; i < ids->count; i++) {
		if (strcmp(ids->items[i], "ALL") == 0)
			count += apply_all(ps, op, queues);
		else if (strcmp(ids->items[i], "-") == 0)
			count += apply_stdin(ps, op, queues);
		else
			count += apply_one(ps, op, queues, ids->items[i]);
	}
	log_info("%s: %d message%s", op_table[op].total_word, count,
		 count == 1 ? "" : "s");
}

/* ------------------------------------------------------------------ */
/* -p and -s: a walk over every file of a directory tree               */

/* Called with the path of a regular file, its name and its stat. */
typedef void walk_fn(struct postsuper *ps, const char *queue, const char *path,
		     const char *name, const struct stat *st, void *ctx);
/* Called with each subdirectory after its contents were walked. */
typedef void walk_dir_fn(struct postsuper *ps, const char *queue,
			 const char *path, int level, void *ctx);

static void
walk_tree(struct postsuper *ps, const char *queue, const char *dir, int level,
	  walk_fn *fn, walk_dir_fn *dir_fn, void *ctx)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	struct argv *subdirs = argv_create();

	if (dp == NULL) {
		if (errno != ENOENT || level > 0)
			log_warning("open directory %s: %s", dir,
				    strerror(errno));
		argv_destroy(&subdirs);
		return;
	}
	while ((de = readdir(dp)) != NULL) {
		char *path;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
		    strlen(de->d_name) == 1 && level < QUEUE_HASH_DEPTH_MAX)
			argv_add(subdirs, path);
		else if (S_ISREG(st.st_mode))
			fn(ps, queue, path, de->d_name, &st, ctx);
		free(path);
	}
	(void)closedir(dp);
	for (size_t i = 0; i < subdirs->count; i++) {
		walk_tree(ps, queue, subdirs->items[i], level + 1, fn, dir_fn,
			  ctx);
		if (dir_fn != NULL)
			dir_fn(ps, queue, subdirs->items[i], level + 1, ctx);
	}
	argv_destroy(&subdirs);
}

static void
walk_queues(struct postsuper *ps, const char *const *queues, walk_fn *fn,
	    walk_dir_fn *dir_fn, void *ctx)
{
	for (; *queues != NULL; queues++)
		walk_tree(ps, *queues, *queues, 0, fn, dir_fn, ctx);
}

static void
purge_file(struct postsuper *ps, const char *queue, const char *path,
	   const char *name, const struct stat *st, void *ctx)
{
	bool is_stale_temp = queue_file_is_temp_name(name) &&
			     st->st_mtime < ps->now - POSTSUPER_TEMP_AGE;
	bool is_stale_file =
		is_valid_queue_id(name) && !is_listed(queue, log_queues) &&
		queue_file_is_stale_incomplete(st, ps->now, POSTSUPER_TEMP_AGE);

	(void)ctx;
	if (!is_stale_temp && !is_stale_file)
		return;
	if (unlink(path) < 0)
		log_warning("remove file %s: %s", path, strerror(errno));
	else
		log_info("removed file %s", path);
}

static void
purge(struct postsuper *ps)
{
	walk_queues(ps, message_queues, purge_file, NULL, NULL);
	walk_queues(ps, log_queues, purge_file, NULL, NULL);
}

/* Rename from to to, never replacing a file; creates to's directories. */
static int
rename_safely(const char *from, const char *to)
{
	char *dir = xstrdup(to);

	for (char *slash = strchr(dir, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = 0;
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			log_warning("create directory %s: %s", dir,
				    strerror(errno));
		*slash = '/';
	}
	free(dir);
	if (link(from, to) < 0 || unlink(from) < 0) {
		log_warning("rename file %s as %s: %s", from, to,
			    strerror(errno));
		return -1;
	}
	log_info("renamed file %s as %s", from, to);
	return 0;
}

/* For a short ID: the name its inode number calls for, or "" if fine. */
static void
inode_name(const char *id, ino_t ino, char out[QUEUE_ID_SIZE])
{
	char usec_hex[6];

	out[0] = 0;
	if (queue_id_is_long(id))
		return;
	snprintf(usec_hex, sizeof(usec_hex), "%.5s", id);
	queue_id_format(out, false, 0, strtol(usec_hex, NULL, 16),
			(unsigned long long)ino);
	if (strcmp(out, id) == 0)
		out[0] = 0;
}

static void
fix_file(struct postsuper *ps, const char *queue, const char *path,
	 const char *name, const struct stat *st, void *ctx)
{
	int *renamed = ctx;
	char new_id[QUEUE_ID_SIZE];
	struct strbuf want;

	if (!is_valid_queue_id(name))
		return;
	new_id[0] = 0;
	if (!is_listed(queue, log_queues))
		inode_name(name, st->st_ino, new_id);
	strbuf_init(&want, STRBUF_UNLIMITED);
	(void)queue_file_relpath(ps->ql, queue, *new_id ? new_id : name, &want);
	if (strcmp(want.data, path) != 0 &&
	    rename_safely(path, want.data) == 0 && *new_id)
		(*renamed)++;
	strbuf_deinit(&want);
}

/* Remove an empty subdirectory the queue's hashing does not call for. */
static void
fix_dir(struct postsuper *ps, const char *queue, const char *path, int level,
	void *ctx)
{
	int depth = queue_layout_is_hashed(ps->ql, queue)
			    ? ps->ql->hash_queue_depth
			    : 0;

	(void)ctx;
	if (level <= depth)
		return;
	if (rmdir(path) == 0)
		log_info("remove subdirectory %s", path);
	else if (errno != ENOTEMPTY && errno != EEXIST)
		log_warning("remove subdirectory %s: %s", path,
			    strerror(errno));
}

static void
fix_structure(struct postsuper *ps)
{
	int renamed = 0;

	walk_queues(ps, message_queues, fix_file, fix_dir, &renamed);
	walk_queues(ps, log_queues, fix_file, fix_dir, &renamed);
	if (renamed > 0)
		log_info("Renamed to match inode number: %d message%s", renamed,
			 renamed == 1 ? "" : "s");
}

int
main(int argc, char **argv)
{
	struct postsuper_opts opts = { 0 };
	struct postsuper ps = { 0 };
	struct mail_conf *conf;
	struct err err;
	const char *queue_dir;

	log_init("postsuper");
	for (int op = 0; op < OP_COUNT; op++)
		opts.ids[op] = argv_create();
	opts.queues = argv_create();
	parse_options(argc, argv, &opts);
	log_set_verbose(opts.verbose);
	if ((conf = mail_conf_load(opts.config_dir, &err)) == NULL)
		log_fatal("%s", err.text);
	check_user(conf);
	maillog_setup(conf, "postsuper", true);
	queue_dir = mail_conf_str(conf, "queue_directory");
	if (chdir(queue_dir) < 0)
		log_fatal("chdir %s: %s", queue_dir, strerror(errno));
	ps.ql = queue_layout_create(
		".", mail_conf_str(conf, "hash_queue_names"),
		(int)mail_conf_int(conf, "hash_queue_depth"),
		mail_conf_bool(conf, "enable_long_queue_ids"));
	ps.now = time(NULL);
	if (opts.want_purge)
		purge(&ps);
	if (opts.want_structure)
		fix_structure(&ps);
	for (int op = 0; op < OP_COUNT; op++)
		run_op(&ps, op, opts.ids[op], opts.queues);
	for (int op = 0; op < OP_COUNT; op++)
		argv_destroy(&opts.ids[op]);
	argv_destroy(&opts.queues);
	queue_layout_destroy(&ps.ql);
	mail_conf_destroy(&conf);
	return 0;
}
