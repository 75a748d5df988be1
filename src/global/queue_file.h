/*
 * queue_file.h - queue files: where they live, writing, reading, updating.
 *
 * Layout: queue_directory/QUEUE/[HASH/]ID, where QUEUE is one of the
 * mail_queue.h names and HASH has hash_queue_depth one-character levels
 * (queue_id_hash) for the queues listed in hash_queue_names.
 *
 * Durability: a writer creates the file under a temporary name
 * ("tmp.PID.RANDOM" in the queue's top directory, never a valid queue
 * ID), takes the ID from its inode and the time, and renames it into place
 * only if no file of that ID exists in any queue, so an ID is never shared
 * by two files. The file stays at mode 0600 (or the writer's mode) while it
 * is written. Committing writes the end record, fixes the size record in
 * place, adds the owner-execute bit (the completion mark) and fsyncs once,
 * which covers data and mode; only then does the writer report success.
 * Readers treat a file without the mark, or without a valid end record,
 * as incomplete: never deliverable. The writer holds an exclusive flock
 * on the file from its creation until it closes it, so an incomplete
 * file that is not locked was left by a writer that died. As in Postfix, the new name is made
 * durable by the file system's journal together with that fsync (ext4, xfs
 * and btrfs commit the directory entry of a file that is fsynced).
 */
#ifndef POSTERN_GLOBAL_QUEUE_FILE_H
#define POSTERN_GLOBAL_QUEUE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "global/mail_conf.h"
#include "global/queue_id.h"
#include "global/rec_type.h"
#include "util/argv.h"
#include "util/err.h"
#include "util/strbuf.h"

/* Longest record data a writer may produce and a reader accepts. */
#define QUEUE_FILE_RECORD_LIMIT (1024 * 1024)

/* Content lines longer than this are written as REC_TYPE_CONT pieces. */
#define QUEUE_FILE_LINE_PIECE 2048

/* Deepest hash_queue_depth accepted (Postfix sets no bound). */
#define QUEUE_HASH_DEPTH_MAX 16

/* Prefix of temporary names of files being created. */
#define QUEUE_FILE_TEMP_PREFIX "tmp."

/* Prefix of spare files in incoming/ ("spare.N"), never a valid queue ID. */
#define QUEUE_FILE_SPARE_PREFIX "spare."

/* Spare slots a layout gets: N in 0 .. QUEUE_SPARE_SLOTS - 1. */
#define QUEUE_SPARE_SLOTS 32

/* Largest finished file kept as a spare; bigger ones are removed. */
#define QUEUE_SPARE_SIZE_MAX (64 * 1024)

/* Where the queue is and how it is hashed; read-only once made. */
struct queue_layout {
	char *queue_directory;
	struct argv *hash_queue_names;
	int hash_queue_depth;
	bool enable_long_queue_ids;
	unsigned spare_slots; /* queue_file_retire's; 0: none */
	/* Create new files as tmp.* and rename them, never unnamed
	 * (open_unnamed); for tests of the way taken without O_TMPFILE. */
	bool named_files_only;
	/* Clock for new IDs: NULL means CLOCK_REALTIME (tests set their own). */
	void (*clock_fn)(struct timespec *ts_out, void *ctx);
	void *clock_ctx;
};

/*
 * A layout from explicit values (hash_queue_names as in main.cf, a comma
 * or space separated list). depth must be 1..QUEUE_HASH_DEPTH_MAX.
 */
struct queue_layout *queue_layout_create(const char *queue_directory,
					 const char *hash_queue_names,
					 int hash_queue_depth,
					 bool enable_long_queue_ids);

/*
 * The layout main.cf describes (queue_directory, hash_queue_names,
 * hash_queue_depth, enable_long_queue_ids). NULL with err on a bad value,
 * including "hash_queue_depth: 17 is more than 16".
 */
struct queue_layout *queue_layout_from_conf(struct mail_conf *conf,
					    struct err *err);

/*
 * The same for daemons, whose current directory is queue_directory (the
 * skeleton's chdir, or the root of their chroot): paths are relative to
 * ".", so they work inside a chroot and after the drop to mail_owner even
 * when a parent of queue_directory is not searchable by mail_owner.
 */
struct queue_layout *queue_layout_for_daemon(struct mail_conf *conf,
					     struct err *err);

void queue_layout_destroy(struct queue_layout **qlp);

/* True if queue_name is one of hash_queue_names. */
bool queue_layout_is_hashed(const struct queue_layout *ql,
			    const char *queue_name);

/*
 * Append to out the path of the file id in queue_name, relative to
 * queue_directory ("deferred/D/7/ID") or absolute. id must be valid. -1
 * (errno E2BIG) when out's limit is reached.
 */
int queue_file_relpath(const struct queue_layout *ql, const char *queue_name,
		       const char *id, struct strbuf *out);
int queue_file_fullpath(const struct queue_layout *ql, const char *queue_name,
			const char *id, struct strbuf *out);

/* Queues searched for an existing ID before a new one is taken. */
extern const char *const queue_file_id_queues[];

/* ------------------------------------------------------------------ */
/* Writing (queue_file.c)                                              */

struct queue_file;

/*
 * Create a new queue file in queue_name, with mode (0600 for cleanup;
 * the umask applies) until it is committed. The file is in place under
 * its ID when this returns, holding the size record. NULL with err on
 * failure ("create DIR/tmp.N.X: reason", "rename ... : reason", or "no
 * free queue ID after N attempts"); nothing is left behind then.
 */
struct queue_file *queue_file_create(const struct queue_layout *ql,
				     const char *queue_name, mode_t mode,
				     struct err *err);

/* The ID, the queue and the full path of a file being written. */
const char *queue_file_id(const struct queue_file *qf);
const char *queue_file_queue(const struct queue_file *qf);
const char *queue_file_path(const struct queue_file *qf);

/* File offset where the next record will start. */
off_t queue_file_tell(const struct queue_file *qf);

/*
 * Append one record. Types must come in segment order: envelope types,
 * then REC_TYPE_MESG, content types, REC_TYPE_XTRA, extracted types (the
 * size and end records are the writer's own); breaking the order, or
 * leaving recipient attributes (O, n, o) without a recipient, is a
 * program bug (log_panic). Returns 0, or -1 with err: "PATH: record too
 * long (N bytes, limit M)", "PATH: REASON" for data that breaks its
 * type's format (queue_file_check_data: "PATH: NUL byte in recipient
 * record"), or a write error "write PATH: reason"; the file should then
 * be given up (queue_file_abort).
 */
int queue_file_put(struct queue_file *qf, int type, const void *data,
		   size_t len, struct err *err);
int queue_file_put_str(struct queue_file *qf, int type, const char *text,
		       struct err *err);
int queue_file_putf(struct queue_file *qf, struct err *err, int type,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* A named attribute record "name=value". */
int queue_file_put_attr(struct queue_file *qf, const char *name,
			const char *value, struct err *err);

/*
 * One content line (without its newline), as pieces of at most
 * QUEUE_FILE_LINE_PIECE bytes: REC_TYPE_CONT records, then a REC_TYPE_NORM
 * record. Content records must follow REC_TYPE_MESG.
 */
int queue_file_put_line(struct queue_file *qf, const void *data, size_t len,
			struct err *err);

/* Values for the size record's qmgr options and smtputf8 fields. */
void queue_file_set_options(struct queue_file *qf, long long qmgr_opts,
			    long long smtputf8);

/*
 * Finish: write the extracted segment marker if not yet written and the
 * end record, rewrite the size record in place, set the completion mark
 * (mode | S_IXUSR) and fsync. Frees the handle either way (*qfp becomes
 * NULL). Returns 0 once the complete file is on disk; -1 with err
 * ("write PATH: reason", "fchmod PATH: reason", "fsync PATH: reason"),
 * in which case the file has been removed.
 */
int queue_file_commit(struct queue_file **qfp, struct err *err);

/* Give up: close and remove the file. Accepts NULL; *qfp becomes NULL. */
void queue_file_abort(struct queue_file **qfp);

/* ------------------------------------------------------------------ */
/* Reading (queue_file_read.c)                                         */

/* One record as the walker hands it over; valid during the callback. */
struct queue_record {
	int type;
	off_t offset; /* where the record starts (for queue_file_mark_done) */
	/* Its segment; a marker (M, X, E) belongs to the one it opens. */
	enum rec_segment segment;
	const char *data; /* NUL-terminated; NULs inside only in N and L */
	size_t len;
};

/* The size record's fields and what the walk found. */
struct queue_file_info {
	long long content_size;   /* content segment bytes */
	long long content_offset; /* first content record */
	long long rcpt_count;
	long long qmgr_opts;
	long long content_length; /* bytes of N and L records */
	long long smtputf8;
	off_t xtra_offset; /* the REC_TYPE_XTRA record */
	off_t end_offset;  /* the REC_TYPE_END record */
	long long arrival_sec;
	long arrival_usec;
	bool is_marked_complete; /* owner-execute bit set */
};

/* Return 0 to go on, or -1 with err to stop the walk (which returns -1). */
typedef int queue_walk_fn(const struct queue_record *rec, void *ctx,
			  struct err *err);

/* queue_file_walk flags. */
#define QUEUE_WALK_ANY_MODE (1 << 0)     /* don't require the mark */
#define QUEUE_WALK_SKIP_CONTENT (1 << 1) /* seek over the content */

/*
 * Read and check a whole queue file from fd, positioned at its start,
 * calling fn (may be NULL) for every record in file order before the next
 * one is read. Checks: the completion mark (unless QUEUE_WALK_ANY_MODE),
 * the size record first and well-formed, each record type in its segment
 * and the segments in order, one arrival time and one sender in the
 * envelope, recipient attributes followed by a recipient, no NUL in text
 * records, well-formed attributes and times, a line's pieces ended by a
 * whole line, the end record last, and the size record's offsets, sizes
 * and recipient count matching the file. QUEUE_WALK_SKIP_CONTENT seeks
 * from the content start to the extracted segment (fd must be seekable)
 * instead of reading the content; fn then sees no content records and the
 * content length is not checked. The fd stays open; its position is
 * unspecified afterwards. Returns 0 with *info_out (may be NULL) filled
 * in, or -1 with err "NAME: offset N: reason" (record errors, see
 * record.h, with "not a queue file (...)" around those of the first
 * record), "NAME: queue file is not marked complete (mode 0600)", or the
 * callback's error. The reasons of a damaged file are, for example:
 *     "not a queue file (empty)"
 *     "malformed size record"
 *     "unexpected recipient record in the content segment"
 *     "missing arrival time record", "duplicate sender record"
 *     "NUL byte in recipient record"
 *     "malformed named attribute: missing '=' after attribute name"
 *     "recipient attributes without a recipient"
 *     "content ends inside a continued line"
 *     "unexpected end of file in the content segment (no end record)"
 *     "data after the end record"
 *     "size record says 5 recipients, but the file has 1"
 *     "no extracted segment marker where the size record puts it"
 */
int queue_file_walk(int fd, const char *name, int flags, queue_walk_fn *fn,
		    void *ctx, struct queue_file_info *info_out,
		    struct err *err);

/*
 * Check one record's data against its type's format: no NUL in text
 * records, attributes "name=value" with a name of letters, digits, '_'
 * and '-', times, warning times and DSN flags as digits. Writers and the
 * walker share it, so nothing is written that a reader would refuse.
 * Returns 0, or -1 with err set to the bare reason: "NUL byte in
 * recipient record", "malformed arrival time record", "malformed warning
 * time record", "malformed dsn_notify_flags record", "malformed named
 * attribute: missing '=' after attribute name", "malformed named
 * attribute: bad attribute name".
 */
int queue_file_check_data(int type, const char *data, size_t len,
			  struct err *err);

/* Parse REC_TYPE_TIME data "sec usec" (or just "sec"); -1 if malformed. */
int queue_file_parse_time(const char *data, long long *sec_out,
			  long *usec_out);

/* Parse fixed-width REC_TYPE_WARN data; -1 if malformed. */
int queue_file_parse_warn(const char *data, size_t len, long long *sec_out);

/* ------------------------------------------------------------------ */
/* Updating and finding (queue_file_ops.c)                             */

/*
 * Mark the recipient record at offset rec_offset done: its type byte 'R'
 * becomes 'D' with one one-byte pwrite, fsynced when want_sync. A record
 * that is already 'D' is left alone (success). -1 with err "NAME: offset
 * N: not a recipient record (type 'X')" or "NAME: mark done: reason".
 */
int queue_file_mark_done(int fd, const char *name, off_t rec_offset,
			 bool want_sync, struct err *err);

/*
 * Overwrite the data of the record at rec_offset in place, after checking
 * that it has this type and exactly len data bytes (for fixed-width
 * records such as REC_TYPE_WARN). -1 with err "NAME: offset N: reason".
 */
int queue_file_rewrite(int fd, const char *name, off_t rec_offset, int type,
		       const void *data, size_t len, struct err *err);

/*
 * Remove the finished queue file id from queue_name. When try_spare is
 * set, the file is kept as a spare for a later incoming file if one of a
 * few spare slots in incoming/ is free and it is at most
 * QUEUE_SPARE_SIZE_MAX bytes (after its completion mark is taken away),
 * else unlinked: a new queue file then reuses an inode and its blocks
 * instead of allocating them, which is the costliest part of file
 * creation on a busy file system. Content stays in a spare until it is
 * overwritten, as it would in freed blocks, readable only by mail_owner.
 * *is_pool_full_out (when not NULL) says whether every slot tried was
 * taken, so that a caller can stop trying for a while. 0, or -1 with
 * errno and err "remove PATH: reason".
 */
int queue_file_retire(const struct queue_layout *ql, const char *queue_name,
		      const char *id, bool try_spare, bool *is_pool_full_out,
		      struct err *err);

/*
 * Move file id from one queue to another (rename, never replacing an
 * existing file), creating the target's hash directories as needed. -1
 * with err "rename FROM to TO: reason".
 */
int queue_file_move(const struct queue_layout *ql, const char *from_queue,
		    const char *to_queue, const char *id, struct err *err);

/*
 * Open file id in queue_name with open_flags (O_RDONLY, or O_RDWR to mark
 * recipients done), refusing symbolic links and anything but a regular
 * file. Returns the fd, or -1 with errno (ENOENT when there is no such
 * file) and err "open PATH: reason".
 */
int queue_file_open(const struct queue_layout *ql, const char *queue_name,
		    const char *id, int open_flags, struct err *err);

/*
 * Look for id in each of queues (NULL-terminated, searched in order) and
 * open the first match read-only, refusing symbolic links and anything
 * but a regular file. Returns 1 with *fd_out, *queue_out (an element of
 * queues) and relpath_out (appended, "incoming/ID") set; 0 if no queue has
 * it; -1 with err "open PATH: reason" on other trouble.
 */
int queue_file_find(const struct queue_layout *ql, const char *const *queues,
		    const char *id, int *fd_out, const char **queue_out,
		    struct strbuf *relpath_out, struct err *err);

/*
 * True if the incomplete file at path was left by a writer that died
 * (nobody holds its lock). False if it is still being written, or gone.
 */
bool queue_file_is_abandoned(const char *path);

/* True if st has the completion mark (owner-execute bit). */
bool queue_file_is_marked(const struct stat *st);

/*
 * True if a queue file is incomplete (no completion mark) and was last
 * modified more than max_age seconds before now: its writer is gone, and
 * the file should be removed or moved to corrupt/.
 */
bool queue_file_is_stale_incomplete(const struct stat *st, time_t now,
				    time_t max_age);

/* True if a directory entry is a writer's temporary name. */
bool queue_file_is_temp_name(const char *name);

#endif
