/*
 * queue_file.c - queue layout, file names, and writing new queue files.
 *
 * The writer keeps its own file offset and the size record's numbers as
 * records go out, so commit can fill in the size record without reading
 * the file back. Record order mistakes are program bugs and panic; only
 * data-driven trouble (a NUL in an address, a write error) returns -1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "global/mail_queue.h"
#include "global/queue_file.h"
#include "global/rec_type.h"
#include "global/record.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/safe_open.h"
#include "util/stream.h"
#include "util/tokens.h"

/* Attempts at a free ID; each waits for the clock to move on. */
#define ID_ATTEMPTS 1000
#define CLOCK_WAITS 100

/* Spare files: how many slots a writer or a retirer tries before it
 * creates or unlinks instead. While mail comes in and goes out together
 * the slots settle about half full, where 4 probes succeed 15 times in
 * 16; in a burst that is all intake (or all delivery) each miss costs 4
 * failed lookups, so more probes would cost more than they win. */
#define SPARE_PROBES 4

const char *const queue_file_id_queues[] = {
	MAIL_QUEUE_MAILDROP,
	MAIL_QUEUE_INCOMING,
	MAIL_QUEUE_ACTIVE,
	MAIL_QUEUE_DEFERRED,
	MAIL_QUEUE_HOLD,
	MAIL_QUEUE_CORRUPT,
	"saved",
	NULL,
};

struct queue_file {
	const struct queue_layout *ql; /* not owned */
	char id[QUEUE_ID_SIZE];
	char *queue_name;
	char *path;
	struct stream *stream;
	mode_t mode; /* permissions while being written */
	off_t offset;
	enum rec_segment segment;
	off_t content_offset;
	off_t xtra_offset;
	long long rcpt_count;
	long long content_length;
	long long qmgr_opts;
	long long smtputf8;
	int pending_rcpt_attrs; /* O, n, o since the last recipient */
	bool in_line;           /* the last content record was a piece */
	bool has_time;
	bool has_sender;
	bool is_spare; /* a retired file reused: cut to length at commit */
};

/* ------------------------------------------------------------------ */
/* Layout and paths                                                    */

struct queue_layout *
queue_layout_create(const char *queue_directory, const char *hash_queue_names,
		    int hash_queue_depth, bool enable_long_queue_ids)
{
	struct queue_layout *ql = xmalloc(sizeof(*ql));

	ASSERT(hash_queue_depth >= 1 &&
	       hash_queue_depth <= QUEUE_HASH_DEPTH_MAX);
	ql->queue_directory = xstrdup(queue_directory);
	ql->hash_queue_names = argv_split(hash_queue_names, TOKENS_LIST_DELIMS);
	ql->hash_queue_depth = hash_queue_depth;
	ql->enable_long_queue_ids = enable_long_queue_ids;
	ql->spare_slots = QUEUE_SPARE_SLOTS;
	return ql;
}

static struct queue_layout *
layout_from_conf(struct mail_conf *conf, const char *dir_override,
		 struct err *err)
{
	const char *dir;
	const char *names;
	long long depth;
	bool want_long;

	if (mail_conf_get(conf, "queue_directory", &dir, err) < 0 ||
	    mail_conf_get(conf, "hash_queue_names", &names, err) < 0 ||
	    mail_conf_get_int(conf, "hash_queue_depth", &depth, err) < 0 ||
	    mail_conf_get_bool(conf, "enable_long_queue_ids", &want_long, err) <
		    0)
		return NULL;
	if (depth > QUEUE_HASH_DEPTH_MAX) {
		err_set(err, "hash_queue_depth: %lld is more than %d", depth,
			QUEUE_HASH_DEPTH_MAX);
		return NULL;
	}
	return queue_layout_create(dir_override ? dir_override : dir, names,
				   (int)depth, want_long);
}

struct queue_layout *
queue_layout_from_conf(struct mail_conf *conf, struct err *err)
{
	return layout_from_conf(conf, NULL, err);
}

struct queue_layout *
queue_layout_for_daemon(struct mail_conf *conf, struct err *err)
{
	return layout_from_conf(conf, ".", err);
}

void
queue_layout_destroy(struct queue_layout **qlp)
{
	struct queue_layout *ql = *qlp;

	if (ql == NULL)
		return;
	free(ql->queue_directory);
	argv_destroy(&ql->hash_queue_names);
	free(ql);
	*qlp = NULL;
}

bool
queue_layout_is_hashed(const struct queue_layout *ql, const char *queue_name)
{
	for (size_t i = 0; i < ql->hash_queue_names->count; i++)
		if (strcmp(ql->hash_queue_names->items[i], queue_name) == 0)
			return true;
	return false;
}

int
queue_file_relpath(const struct queue_layout *ql, const char *queue_name,
		   const char *id, struct strbuf *out)
{
	if (strbuf_append_str(out, queue_name) < 0 ||
	    strbuf_append_char(out, '/') < 0)
		return -1;
	if (queue_layout_is_hashed(ql, queue_name) &&
	    queue_id_hash(id, ql->hash_queue_depth, out) < 0)
		return -1;
	return strbuf_append_str(out, id);
}

int
queue_file_fullpath(const struct queue_layout *ql, const char *queue_name,
		    const char *id, struct strbuf *out)
{
	if (strbuf_append_str(out, ql->queue_directory) < 0 ||
	    strbuf_append_char(out, '/') < 0)
		return -1;
	return queue_file_relpath(ql, queue_name, id, out);
}

/* ------------------------------------------------------------------ */
/* Renaming without replacing                                          */

/*
 * rename(2) that fails with EEXIST instead of replacing to. Uses
 * renameat2(RENAME_NOREPLACE), or link+unlink where the file system does
 * not support it.
 */
static int
rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) < 0)
		return -1;
	if (unlink(from) < 0) {
		int saved = errno;

		(void)unlink(to);
		errno = saved;
		return -1;
	}
	return 0;
}

/*
 * Create the hash directories of id in a hashed queue, one level at a
 * time, so that a missing queue directory is never created by accident.
 */
static int
make_hash_dirs(const struct queue_layout *ql, const char *queue_name,
	       const char *id)
{
	struct strbuf path;
	struct strbuf hash;
	int ret = 0;

	strbuf_init(&path, STRBUF_UNLIMITED);
	strbuf_init(&hash, STRBUF_UNLIMITED);
	strbuf_printf(&path, "%s/%s", ql->queue_directory, queue_name);
	queue_id_hash(id, ql->hash_queue_depth, &hash);
	for (size_t i = 0; i < hash.len && ret == 0; i += 2) {
		strbuf_append_char(&path, '/');
		strbuf_append_char(&path, hash.data[i]);
		if (mkdir(path.data, 0700) < 0 && errno != EEXIST)
			ret = -1;
	}
	strbuf_deinit(&path);
	strbuf_deinit(&hash);
	return ret;
}

/* A file about to get a name: a temporary path, or an unnamed fd. */
struct new_file {
	const char *tmp; /* NULL: unnamed, see open_unnamed */
	int fd;
};

static int
name_once(const struct new_file *from, const char *to)
{
	return from->tmp != NULL ? rename_noreplace(from->tmp, to)
				 : link_unnamed(from->fd, to);
}

/*
 * Give from the path of id in queue_name without replacing anything,
 * creating missing hash directories on the way. -1 with errno.
 */
static int
name_into_place(const struct queue_layout *ql, const char *queue_name,
		const char *id, const struct new_file *from, const char *to)
{
	if (name_once(from, to) == 0)
		return 0;
	if (errno != ENOENT || !queue_layout_is_hashed(ql, queue_name))
		return -1;
	if (make_hash_dirs(ql, queue_name, id) < 0)
		return -1;
	return name_once(from, to);
}

int
queue_file_move(const struct queue_layout *ql, const char *from_queue,
		const char *to_queue, const char *id, struct err *err)
{
	struct strbuf from;
	struct strbuf to;
	int ret = 0;

	strbuf_init(&from, STRBUF_UNLIMITED);
	strbuf_init(&to, STRBUF_UNLIMITED);
	queue_file_fullpath(ql, from_queue, id, &from);
	queue_file_fullpath(ql, to_queue, id, &to);
	if (name_into_place(ql, to_queue, id,
			    &(struct new_file){ .tmp = from.data }, to.data) < 0) {
		err_set(err, "rename %s to %s: %s", from.data, to.data,
			strerror(errno));
		ret = -1;
	}
	strbuf_deinit(&from);
	strbuf_deinit(&to);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Creating                                                            */

/* Open a fresh temporary file in dir; its name goes into tmp_out. */
static int
create_temp(const char *dir, mode_t mode, struct strbuf *tmp_out,
	    struct err *err)
{
	for (int attempt = 0; attempt < 10; attempt++) {
		unsigned int salt;
		int fd;

		if (getrandom(&salt, sizeof(salt), GRND_NONBLOCK) !=
		    sizeof(salt))
			salt = (unsigned int)clock() ^ (unsigned)attempt;
		strbuf_reset(tmp_out);
		strbuf_printf(tmp_out, "%s/%s%ld.%08x", dir,
			      QUEUE_FILE_TEMP_PREFIX, (long)getpid(), salt);
		fd = open(tmp_out->data,
			  O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			  mode);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			break;
	}
	err_set(err, "create %s: %s", tmp_out->data, strerror(errno));
	return -1;
}

/*
 * True if id names a file in a queue other than queue_name. -1 with err
 * if that cannot be told (a queue directory is unreadable).
 */
static int
id_taken_elsewhere(const struct queue_layout *ql, const char *queue_name,
		   const char *id, struct err *err)
{
	struct strbuf path;
	struct stat st;
	int ret = 0;

	/*
	 * A maildrop file keeps its ID only until pickup hands the message to
	 * cleanup, which gives it a new one; and postdrop, run by any user,
	 * may not look into the other queues.
	 */
	if (strcmp(queue_name, MAIL_QUEUE_MAILDROP) == 0)
		return 0;
	strbuf_init(&path, STRBUF_UNLIMITED);
	for (const char *const *q = queue_file_id_queues; *q && ret == 0; q++) {
		if (strcmp(*q, queue_name) == 0)
			continue;
		strbuf_reset(&path);
		queue_file_fullpath(ql, *q, id, &path);
		if (lstat(path.data, &st) == 0)
			ret = 1;
		else if (errno != ENOENT && errno != ENOTDIR) {
			err_set(err, "lstat %s: %s", path.data,
				strerror(errno));
			ret = -1;
		}
	}
	strbuf_deinit(&path);
	return ret;
}

static void
read_clock(const struct queue_layout *ql, struct timespec *ts)
{
	if (ql->clock_fn != NULL)
		ql->clock_fn(ts, ql->clock_ctx);
	else
		clock_gettime(CLOCK_REALTIME, ts);
}

/*
 * An ID for inode ino, different from last (the previous attempt) unless
 * the clock stands still for CLOCK_WAITS microseconds.
 */
static void
next_id(const struct queue_layout *ql, unsigned long long ino, const char *last,
	char *id)
{
	for (int i = 0; i < CLOCK_WAITS; i++) {
		struct timespec ts;
		struct timespec pause = { 0, 1000 };

		read_clock(ql, &ts);
		queue_id_format(id, ql->enable_long_queue_ids,
				(long long)ts.tv_sec, ts.tv_nsec / 1000, ino);
		if (strcmp(id, last) != 0)
			return;
		nanosleep(&pause, NULL);
	}
}

/*
 * Give the new file from (ino its inode) a free ID; fills qf->id and
 * qf->path.
 */
static int
take_id(struct queue_file *qf, const struct new_file *from,
	unsigned long long ino, struct err *err)
{
	struct strbuf path;
	char last[QUEUE_ID_SIZE] = "";
	int taken = 0;

	strbuf_init(&path, STRBUF_UNLIMITED);
	for (int attempt = 0; attempt < ID_ATTEMPTS && taken >= 0; attempt++) {
		next_id(qf->ql, ino, last, qf->id);
		memcpy(last, qf->id, sizeof(last));
		taken = id_taken_elsewhere(qf->ql, qf->queue_name, qf->id, err);
		if (taken != 0)
			continue;
		strbuf_reset(&path);
		queue_file_fullpath(qf->ql, qf->queue_name, qf->id, &path);
		if (name_into_place(qf->ql, qf->queue_name, qf->id, from,
				    path.data) == 0) {
			qf->path = xstrdup(path.data);
			strbuf_deinit(&path);
			return 0;
		}
		if (errno != EEXIST && from->tmp != NULL)
			err_set(err, "rename %s to %s: %s", from->tmp,
				path.data, strerror(errno));
		else if (errno != EEXIST)
			err_set(err, "link %s: %s", path.data,
				strerror(errno));
		if (errno != EEXIST)
			taken = -1;
	}
	if (taken >= 0 && from->tmp != NULL)
		err_set(err, "%s: no free queue ID after %d attempts",
			from->tmp, ID_ATTEMPTS);
	else if (taken >= 0)
		err_set(err, "%s/%s: no free queue ID after %d attempts",
			qf->ql->queue_directory, qf->queue_name, ID_ATTEMPTS);
	strbuf_deinit(&path);
	return -1;
}

static void
writer_free(struct queue_file *qf)
{
	if (qf->stream != NULL)
		(void)stream_close(&qf->stream);
	free(qf->queue_name);
	free(qf->path);
	free(qf);
}

/* ------------------------------------------------------------------ */
/* Spare files                                                          */

static unsigned
spare_first_slot(const struct queue_layout *ql)
{
	struct timespec now;

	/* Only a spread between concurrent writers: the clock (no system
	 * call) is enough, and a collision costs one more probe. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (unsigned)(now.tv_nsec / 64) % ql->spare_slots;
}

static unsigned
spare_probes(const struct queue_layout *ql)
{
	return ql->spare_slots < SPARE_PROBES ? ql->spare_slots : SPARE_PROBES;
}

static void
spare_path(const struct queue_layout *ql, unsigned slot, struct strbuf *out)
{
	strbuf_reset(out);
	strbuf_printf(out, "%s/%s/%s%u", ql->queue_directory,
		      MAIL_QUEUE_INCOMING, QUEUE_FILE_SPARE_PREFIX, slot);
}

/*
 * Claim a spare file for a new incoming file: the open fd, locked, with
 * its path in path_out and its status in st_out; -1 when none was free.
 * A spare is ours once we hold its lock and it is still a plain file of
 * ours without the completion mark: a writer that took it first holds
 * the lock until it has renamed it (to an ID, marked complete later) or
 * removed it.
 */
static int
spare_claim(const struct queue_layout *ql, struct strbuf *path_out,
	    struct stat *st_out)
{
	unsigned first;

	if (ql->spare_slots == 0)
		return -1;
	first = spare_first_slot(ql);
	for (unsigned i = 0; i < spare_probes(ql); i++) {
		int fd;

		spare_path(ql, (first + i) % ql->spare_slots, path_out);
		fd = open(path_out->data, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, st_out) == 0 &&
		    S_ISREG(st_out->st_mode) && st_out->st_nlink == 1 &&
		    st_out->st_uid == geteuid() &&
		    (st_out->st_mode & S_IXUSR) == 0)
			return fd;
		(void)close(fd);
	}
	return -1;
}

/* Rename path to a free spare slot; false when none of those tried is. */
static bool
retire_to_spare(const struct queue_layout *ql, const char *path,
		bool *is_pool_full_out)
{
	unsigned first = spare_first_slot(ql);
	struct strbuf spare;
	bool is_kept = false;
	unsigned tried = 0;

	strbuf_init(&spare, STRBUF_UNLIMITED);
	for (; tried < spare_probes(ql) && !is_kept; tried++) {
		spare_path(ql, (first + tried) % ql->spare_slots, &spare);
		if (rename_noreplace(path, spare.data) == 0)
			is_kept = true;
		else if (errno != EEXIST)
			break;
	}
	if (!is_kept && tried == spare_probes(ql))
		*is_pool_full_out = true;
	strbuf_deinit(&spare);
	return is_kept;
}

int
queue_file_retire(const struct queue_layout *ql, const char *queue_name,
		  const char *id, bool try_spare, bool *is_pool_full_out,
		  struct err *err)
{
	struct strbuf path;
	struct stat st;
	bool is_pool_full = false;
	int ret = -1;

	strbuf_init(&path, STRBUF_UNLIMITED);
	queue_file_fullpath(ql, queue_name, id, &path);
	/* Unmarked first: a spare never looks like a finished message. A big
	 * file is not kept: its blocks would stay taken until reused. */
	if (try_spare && ql->spare_slots > 0 && lstat(path.data, &st) == 0 &&
	    S_ISREG(st.st_mode) && st.st_size <= QUEUE_SPARE_SIZE_MAX &&
	    chmod(path.data, S_IRUSR | S_IWUSR) == 0 &&
	    retire_to_spare(ql, path.data, &is_pool_full))
		ret = 0;
	if (ret < 0 && unlink(path.data) == 0)
		ret = 0;
	if (ret < 0)
		err_set(err, "remove %s: %s", path.data, strerror(errno));
	if (is_pool_full_out != NULL)
		*is_pool_full_out = is_pool_full;
	strbuf_deinit(&path);
	return ret;
}

/* An incoming file made from a spare: 0 with the fd, else -1. */
static int
create_from_spare(struct queue_file *qf, struct stat *st_out)
{
	struct strbuf spare;
	struct err err;
	int fd = -1;

	if (strcmp(qf->queue_name, MAIL_QUEUE_INCOMING) != 0)
		return -1;
	strbuf_init(&spare, STRBUF_UNLIMITED);
	fd = spare_claim(qf->ql, &spare, st_out);
	if (fd >= 0 &&
	    take_id(qf, &(struct new_file){ .tmp = spare.data },
		    (unsigned long long)st_out->st_ino,
		    &err) < 0) {
		(void)close(fd); /* still a spare, or someone else's */
		fd = -1;
	}
	strbuf_deinit(&spare);
	qf->is_spare = fd >= 0;
	return fd;
}

/*
 * Create the temporary file in the queue's directory and give it an ID.
 * Returns the open fd; on failure nothing is left behind.
 */
static int
create_in_place(struct queue_file *qf, mode_t mode, struct stat *st_out,
		struct err *err)
{
	struct strbuf tmp;
	char *dir;
	int fd;

	dir = xasprintf("%s/%s", qf->ql->queue_directory, qf->queue_name);
	strbuf_init(&tmp, STRBUF_UNLIMITED);
	fd = create_temp(dir, mode, &tmp, err);
	free(dir);
	/* Held until the writer closes the file: a reader that can take
	 * the lock on an incomplete file knows its writer is gone. */
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		err_set(err, "lock %s: %s", tmp.data, strerror(errno));
		goto fail;
	}
	if (fd >= 0 && fstat(fd, st_out) < 0) {
		err_set(err, "fstat %s: %s", tmp.data, strerror(errno));
		goto fail;
	}
	if (fd >= 0 &&
	    take_id(qf, &(struct new_file){ .tmp = tmp.data },
		    (unsigned long long)st_out->st_ino, err) < 0)
		goto fail;
	strbuf_deinit(&tmp);
	return fd;
fail:
	(void)unlink(tmp.data);
	(void)close(fd);
	strbuf_deinit(&tmp);
	return -1;
}

/*
 * Link the unnamed file fd (open_unnamed) under a free ID, with its lock
 * taken first. Returns fd, or -1 with err (fd closed, nothing left).
 */
static int
name_unnamed(struct queue_file *qf, int fd, struct stat *st_out,
	     struct err *err)
{
	if (flock(fd, LOCK_EX) < 0 || fstat(fd, st_out) < 0) {
		err_set(err, "lock %s/%s: %s", qf->ql->queue_directory,
			qf->queue_name, strerror(errno));
	} else if (take_id(qf, &(struct new_file){ .tmp = NULL, .fd = fd },
			   (unsigned long long)st_out->st_ino, err) == 0) {
		return fd;
	}
	(void)close(fd);
	return -1;
}

/*
 * A new file, unnamed where the system can (open_unnamed): its inode is
 * then allocated without holding the queue directory's lock, for which
 * concurrent cleanups would otherwise queue, and no temporary name is made
 * and renamed. Else a tmp.* file renamed to its ID (create_in_place).
 */
static int
create_new(struct queue_file *qf, mode_t mode, struct stat *st_out,
	   struct err *err)
{
	char *dir;
	int fd = -1;

	if (!qf->ql->named_files_only) {
		dir = xasprintf("%s/%s", qf->ql->queue_directory,
				qf->queue_name);
		fd = open_unnamed(dir, O_RDWR, mode);
		free(dir);
	}
	if (fd >= 0)
		return name_unnamed(qf, fd, st_out, err);
	return create_in_place(qf, mode, st_out, err);
}

struct queue_file *
queue_file_create(const struct queue_layout *ql, const char *queue_name,
		  mode_t mode, struct err *err)
{
	struct queue_file *qf = xmalloc(sizeof(*qf));
	char zeros[REC_SIZE_LEN + 1];
	struct stat st;
	int fd;

	memset(qf, 0, sizeof(*qf));
	qf->ql = ql;
	qf->queue_name = xstrdup(queue_name);
	if ((fd = create_from_spare(qf, &st)) < 0 &&
	    (fd = create_new(qf, mode, &st, err)) < 0) {
		writer_free(qf);
		return NULL;
	}
	qf->mode = st.st_mode & 07777;
	qf->stream = stream_open(fd, 0);
	snprintf(zeros, sizeof(zeros), REC_SIZE_FORMAT, 0LL, 0LL, 0LL, 0LL, 0LL,
		 0LL);
	if (record_write(qf->stream, REC_TYPE_SIZE, zeros, REC_SIZE_LEN) < 0) {
		err_set(err, "write %s: %s", qf->path, strerror(errno));
		queue_file_abort(&qf);
		return NULL;
	}
	qf->offset = (off_t)record_size(REC_SIZE_LEN);
	return qf;
}

const char *
queue_file_id(const struct queue_file *qf)
{
	return qf->id;
}

const char *
queue_file_queue(const struct queue_file *qf)
{
	return qf->queue_name;
}

const char *
queue_file_path(const struct queue_file *qf)
{
	return qf->path;
}

off_t
queue_file_tell(const struct queue_file *qf)
{
	return qf->offset;
}

void
queue_file_set_options(struct queue_file *qf, long long qmgr_opts,
		       long long smtputf8)
{
	qf->qmgr_opts = qmgr_opts;
	qf->smtputf8 = smtputf8;
}

/* ------------------------------------------------------------------ */
/* Writing records                                                     */

static _Noreturn void
order_bug(const struct queue_file *qf, int type, const char *why)
{
	char tbuf[8];

	log_panic("queue_file_put: %s: record %s: %s", qf->path,
		  record_type_str(type, tbuf), why);
}

/* Check type against the writer's state and update the state. */
static void
track_record(struct queue_file *qf, int type, size_t len)
{
	int next = rec_type_opens_segment(type);

	if (type == REC_TYPE_END || !rec_type_in_segment(qf->segment, type))
		order_bug(qf, type, "out of order");
	if (next >= 0 && qf->pending_rcpt_attrs > 0)
		order_bug(qf, type, "recipient attributes without recipient");
	if (type == REC_TYPE_XTRA && qf->in_line)
		order_bug(qf, type, "content ends inside a line");
	if (type == REC_TYPE_MESG && !(qf->has_time && qf->has_sender))
		order_bug(qf, type, "no arrival time or sender record");
	if ((type == REC_TYPE_TIME && qf->has_time) ||
	    (type == REC_TYPE_FROM && qf->has_sender))
		order_bug(qf, type, "duplicate record");
	qf->has_time |= type == REC_TYPE_TIME;
	qf->has_sender |= type == REC_TYPE_FROM;
	if (type == REC_TYPE_ORCP || type == REC_TYPE_DSN_NOTIFY ||
	    type == REC_TYPE_DSN_ORCPT)
		qf->pending_rcpt_attrs++;
	if (type == REC_TYPE_RCPT || type == REC_TYPE_DONE ||
	    type == REC_TYPE_DRCP) {
		qf->pending_rcpt_attrs = 0;
		qf->rcpt_count++;
	}
	if (type == REC_TYPE_NORM || type == REC_TYPE_CONT) {
		qf->content_length += (long long)record_size(len);
		qf->in_line = type == REC_TYPE_CONT;
	}
	qf->offset += (off_t)record_size(len);
	if (type == REC_TYPE_MESG)
		qf->content_offset = qf->offset;
	if (type == REC_TYPE_XTRA)
		qf->xtra_offset = qf->offset - (off_t)record_size(len);
	if (next >= 0)
		qf->segment = (enum rec_segment)next;
}

int
queue_file_put(struct queue_file *qf, int type, const void *data, size_t len,
	       struct err *err)
{
	if (len > QUEUE_FILE_RECORD_LIMIT) {
		err_set(err, "%s: record too long (%zu bytes, limit %d)",
			qf->path, len, QUEUE_FILE_RECORD_LIMIT);
		return -1;
	}
	if (queue_file_check_data(type, data, len, err) < 0) {
		err_prefix(err, "%s", qf->path);
		return -1;
	}
	track_record(qf, type, len);
	if (record_write(qf->stream, type, data, len) < 0) {
		err_set(err, "write %s: %s", qf->path, strerror(errno));
		return -1;
	}
	return 0;
}

int
queue_file_put_str(struct queue_file *qf, int type, const char *text,
		   struct err *err)
{
	return queue_file_put(qf, type, text, strlen(text), err);
}

int
queue_file_putf(struct queue_file *qf, struct err *err, int type,
		const char *fmt, ...)
{
	struct strbuf text;
	va_list ap;
	int ret;

	strbuf_init(&text, STRBUF_UNLIMITED);
	va_start(ap, fmt);
	strbuf_vprintf(&text, fmt, ap);
	va_end(ap);
	ret = queue_file_put(qf, type, text.data, text.len, err);
	strbuf_deinit(&text);
	return ret;
}

int
queue_file_put_attr(struct queue_file *qf, const char *name, const char *value,
		    struct err *err)
{
	struct strbuf text;
	int ret;

	strbuf_init(&text, STRBUF_UNLIMITED);
	strbuf_printf(&text, "%s=%s", name, value);
	ret = queue_file_put(qf, REC_TYPE_ATTR, text.data, text.len, err);
	strbuf_deinit(&text);
	return ret;
}

int
queue_file_put_line(struct queue_file *qf, const void *data, size_t len,
		    struct err *err)
{
	const char *p = data;

	while (len > QUEUE_FILE_LINE_PIECE) {
		if (queue_file_put(qf, REC_TYPE_CONT, p, QUEUE_FILE_LINE_PIECE,
				   err) < 0)
			return -1;
		p += QUEUE_FILE_LINE_PIECE;
		len -= QUEUE_FILE_LINE_PIECE;
	}
	return queue_file_put(qf, REC_TYPE_NORM, p, len, err);
}

/* ------------------------------------------------------------------ */
/* Commit and abort                                                    */

/* Fill in the size record at the start of the file. */
static int
write_size_record(struct queue_file *qf)
{
	char data[REC_SIZE_LEN + 1];
	off_t at = (off_t)record_header_len(REC_SIZE_LEN);
	ssize_t done;

	snprintf(data, sizeof(data), REC_SIZE_FORMAT,
		 (long long)(qf->xtra_offset - qf->content_offset),
		 (long long)qf->content_offset, qf->rcpt_count, qf->qmgr_opts,
		 qf->content_length, qf->smtputf8);
	done = pwrite(stream_fd(qf->stream), data, REC_SIZE_LEN, at);
	if (done == REC_SIZE_LEN)
		return 0;
	if (done >= 0)
		errno = EIO;
	return -1;
}

/* Write the closing records and flush; -1 with errno. */
static int
write_trailer(struct queue_file *qf, struct err *err)
{
	if (qf->segment == REC_SEG_ENVELOPE &&
	    queue_file_put(qf, REC_TYPE_MESG, "", 0, err) < 0)
		return -1;
	if (qf->segment == REC_SEG_CONTENT &&
	    queue_file_put(qf, REC_TYPE_XTRA, "", 0, err) < 0)
		return -1;
	if (qf->pending_rcpt_attrs > 0)
		order_bug(qf, REC_TYPE_END,
			  "recipient attributes without recipient");
	if (record_write(qf->stream, REC_TYPE_END, "", 0) < 0 ||
	    stream_flush(qf->stream) < 0) {
		err_set(err, "write %s: %s", qf->path, strerror(errno));
		return -1;
	}
	qf->offset += (off_t)record_size(0);
	qf->segment = REC_SEG_END;
	return 0;
}

int
queue_file_commit(struct queue_file **qfp, struct err *err)
{
	struct queue_file *qf = *qfp;
	int fd = stream_fd(qf->stream);

	if (write_trailer(qf, err) < 0)
		goto fail;
	if (write_size_record(qf) < 0) {
		err_set(err, "write %s: %s", qf->path, strerror(errno));
		goto fail;
	}
	if (qf->is_spare && ftruncate(fd, qf->offset) < 0) {
		err_set(err, "truncate %s: %s", qf->path, strerror(errno));
		goto fail;
	}
	if (fchmod(fd, qf->mode | S_IXUSR) < 0) {
		err_set(err, "fchmod %s: %s", qf->path, strerror(errno));
		goto fail;
	}
	if (fsync(fd) < 0) {
		err_set(err, "fsync %s: %s", qf->path, strerror(errno));
		goto fail;
	}
	if (stream_close(&qf->stream) < 0) {
		err_set(err, "close %s: %s", qf->path, strerror(errno));
		goto fail;
	}
	writer_free(qf);
	*qfp = NULL;
	return 0;
fail:
	queue_file_abort(qfp);
	return -1;
}

void
queue_file_abort(struct queue_file **qfp)
{
	struct queue_file *qf = *qfp;

	if (qf == NULL)
		return;
	(void)unlink(qf->path);
	writer_free(qf);
	*qfp = NULL;
}
