/*
 * queue_file_ops.c - updating queue files in place, finding them, and
 * telling complete files from abandoned ones.
 *
 * In-place updates check what they are about to overwrite first, so a
 * wrong offset fails loudly instead of damaging the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/file.h>
#include <string.h>
#include <unistd.h>

#include "global/queue_file.h"
#include "global/rec_type.h"
#include "global/record.h"
#include "util/safe_open.h"

/* pread exactly len bytes; -1 with errno (EIO for a short read). */
static int
read_at(int fd, void *buf, size_t len, off_t offset)
{
	ssize_t got = pread(fd, buf, len, offset);

	if (got == (ssize_t)len)
		return 0;
	if (got >= 0)
		errno = EIO;
	return -1;
}

/* pwrite exactly len bytes; -1 with errno. */
static int
write_at(int fd, const void *buf, size_t len, off_t offset)
{
	ssize_t done = pwrite(fd, buf, len, offset);

	if (done == (ssize_t)len)
		return 0;
	if (done >= 0)
		errno = EIO;
	return -1;
}

int
queue_file_mark_done(int fd, const char *name, off_t rec_offset, bool want_sync,
		     struct err *err)
{
	const char done = REC_TYPE_DONE;
	char type;

	if (read_at(fd, &type, 1, rec_offset) < 0) {
		err_set(err, "%s: offset %lld: mark done: %s", name,
			(long long)rec_offset, strerror(errno));
		return -1;
	}
	if (type == REC_TYPE_DONE)
		return 0;
	if (type != REC_TYPE_RCPT) {
		char tbuf[8];

		err_set(err,
			"%s: offset %lld: not a recipient record (type %s)",
			name, (long long)rec_offset,
			record_type_str((unsigned char)type, tbuf));
		return -1;
	}
	if (write_at(fd, &done, 1, rec_offset) < 0 ||
	    (want_sync && fsync(fd) < 0)) {
		err_set(err, "%s: offset %lld: mark done: %s", name,
			(long long)rec_offset, strerror(errno));
		return -1;
	}
	return 0;
}

int
queue_file_rewrite(int fd, const char *name, off_t rec_offset, int type,
		   const void *data, size_t len, struct err *err)
{
	uint8_t header[RECORD_HEADER_MAX];
	size_t header_len;
	size_t old_len;
	ssize_t got;
	int old_type;

	got = pread(fd, header, sizeof(header), rec_offset);
	if (got < 0) {
		err_set(err, "%s: offset %lld: rewrite: %s", name,
			(long long)rec_offset, strerror(errno));
		return -1;
	}
	if (record_decode_header(header, (size_t)got, &old_type, &old_len,
				 &header_len, NULL) != 1 ||
	    old_type != type || old_len != len) {
		char tbuf[8];

		err_set(err, "%s: offset %lld: not a %s record of %zu bytes",
			name, (long long)rec_offset,
			record_type_str(type, tbuf), len);
		return -1;
	}
	if (write_at(fd, data, len, rec_offset + (off_t)header_len) < 0) {
		err_set(err, "%s: offset %lld: rewrite: %s", name,
			(long long)rec_offset, strerror(errno));
		return -1;
	}
	return 0;
}

int
queue_file_open(const struct queue_layout *ql, const char *queue_name,
		const char *id, int open_flags, struct err *err)
{
	struct strbuf path;
	int fd;

	strbuf_init(&path, STRBUF_UNLIMITED);
	queue_file_fullpath(ql, queue_name, id, &path);
	fd = safe_open(path.data, open_flags, SAFE_OPEN_REGULAR, err);
	strbuf_deinit(&path);
	return fd;
}

int
queue_file_find(const struct queue_layout *ql, const char *const *queues,
		const char *id, int *fd_out, const char **queue_out,
		struct strbuf *relpath_out, struct err *err)
{
	for (const char *const *q = queues; *q != NULL; q++) {
		int fd = queue_file_open(ql, *q, id, O_RDONLY, err);

		if (fd < 0 && errno != ENOENT && errno != ENOTDIR)
			return -1;
		if (fd < 0)
			continue;
		if (queue_file_relpath(ql, *q, id, relpath_out) < 0) {
			err_set(err, "%s/%s: path too long", *q, id);
			(void)close(fd);
			return -1;
		}
		*fd_out = fd;
		*queue_out = *q;
		return 1;
	}
	return 0;
}

bool
queue_file_is_marked(const struct stat *st)
{
	return S_ISREG(st->st_mode) && (st->st_mode & S_IXUSR) != 0;
}

bool
queue_file_is_abandoned(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	bool is_abandoned;

	if (fd < 0)
		return false;
	/* The lock first: once we hold it the writer has closed the file,
	 * so a commit it made is visible in the mode we look at next. */
	is_abandoned = flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		       fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		       !queue_file_is_marked(&st);
	(void)close(fd);
	return is_abandoned;
}

bool
queue_file_is_stale_incomplete(const struct stat *st, time_t now,
			       time_t max_age)
{
	return !queue_file_is_marked(st) && now - st->st_mtime > max_age;
}

bool
queue_file_is_temp_name(const char *name)
{
	return strncmp(name, QUEUE_FILE_TEMP_PREFIX,
		       strlen(QUEUE_FILE_TEMP_PREFIX)) == 0;
}
