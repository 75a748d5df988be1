/*
 * mailbox.c - writing one message into a Maildir or an mbox file (see
 * mailbox.h): the message writer with mbox quoting, the Maildir
 * write-fsync-name-fsync sequence (an unnamed file linked into new/, or
 * tmp/UNIQUE renamed there where the system cannot do that), and mbox
 * locking with truncation back to the old size on any error.
 *
 * Runs with the caller's privileges; the agents switch the effective
 * uid/gid to the mailbox owner's around these calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "global/mail_addr.h"
#include "global/mailbox.h"
#include "util/mymalloc.h"
#include "util/safe_open.h"
#include "util/strbuf.h"
#include "util/tokens.h"

#define WRITER_BUF_SIZE 65536
#define FROM_QUOTE_LEN 5 /* strlen("From ") */
#define MAILDIR_NAME_TRIES 1000

/* Defaults of the lock timing parameters, as Postfix 3.7's. */
#define DEF_LOCK_ATTEMPTS 20
#define DEF_LOCK_DELAY_MS 1000
#define DEF_STALE_LOCK_TIME 500

int
mailbox_lock_parse(const char *name, const char *value, int *locks_out,
		   struct err *err)
{
	char *copy = xstrdup(value);
	char *cursor = copy;
	char *word;
	int locks = 0;

	while ((word = str_token(&cursor, TOKENS_LIST_DELIMS)) != NULL) {
		if (strcasecmp(word, "fcntl") == 0)
			locks |= MAILBOX_LOCK_FCNTL;
		else if (strcasecmp(word, "flock") == 0)
			locks |= MAILBOX_LOCK_FLOCK;
		else if (strcasecmp(word, "dotlock") == 0)
			locks |= MAILBOX_LOCK_DOTLOCK;
		else {
			err_set(err, "%s: unknown locking method: %s", name,
				word);
			free(copy);
			return -1;
		}
	}
	free(copy);
	*locks_out = locks;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The message writer                                                   */

struct writer {
	int fd;
	bool is_mbox;
	struct strbuf buf;
	long long written;    /* bytes handed to write(2) so far */
	long long size_limit; /* 0: none */
	bool at_line_start;
	char head[FROM_QUOTE_LEN]; /* start of a line, held to check "From " */
	size_t head_len;
};

/* Write out the buffer. -1 with errno (EFBIG past the size limit). */
static int
writer_flush(struct writer *w)
{
	size_t done = 0;
	ssize_t n;

	if (w->size_limit > 0 &&
	    w->written + (long long)w->buf.len > w->size_limit) {
		errno = EFBIG;
		return -1;
	}
	while (done < w->buf.len) {
		n = write(w->fd, w->buf.data + done, w->buf.len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	w->written += (long long)done;
	strbuf_reset(&w->buf);
	return 0;
}

static int
writer_put(struct writer *w, const char *data, size_t len)
{
	if (w->buf.len + len > WRITER_BUF_SIZE && writer_flush(w) < 0)
		return -1;
	if (len > WRITER_BUF_SIZE) {
		/* UNSAFE: a piece larger than the buffer goes out directly,
		 * through the same limit check. */
		struct strbuf saved = w->buf;
		int ret;

		w->buf.data = (char *)data;
		w->buf.len = len;
		ret = writer_flush(w);
		w->buf = saved;
		return ret;
	}
	(void)strbuf_append(&w->buf, data, len);
	return 0;
}

/* Release the held start of a line, quoted when it is "From ". */
static int
writer_release_head(struct writer *w)
{
	if (w->is_mbox && w->head_len == FROM_QUOTE_LEN &&
	    memcmp(w->head, "From ", FROM_QUOTE_LEN) == 0 &&
	    writer_put(w, ">", 1) < 0)
		return -1;
	if (writer_put(w, w->head, w->head_len) < 0)
		return -1;
	w->head_len = 0;
	return 0;
}

/* One piece of content, as deliver_content hands it over. */
static int
writer_content(const char *data, size_t len, bool is_line_end, void *ctx,
	       struct err *err)
{
	struct writer *w = ctx;

	if (w->at_line_start) {
		size_t take = FROM_QUOTE_LEN - w->head_len;

		if (take > len)
			take = len;
		memcpy(w->head + w->head_len, data, take);
		w->head_len += take;
		data += take;
		len -= take;
		if (w->head_len == FROM_QUOTE_LEN || is_line_end) {
			if (writer_release_head(w) < 0)
				goto fail;
			w->at_line_start = false;
		}
	}
	if ((len > 0 && writer_put(w, data, len) < 0) ||
	    (is_line_end && writer_put(w, "\n", 1) < 0))
		goto fail;
	if (is_line_end)
		w->at_line_start = true;
	return 0;
fail:
	err_set(err, "error writing message: %s", strerror(errno));
	return -1;
}

static int
writer_header(struct writer *w, const char *name, const char *addr)
{
	char *quoted = mail_addr_quote(addr);
	int ret = writer_put(w, name, strlen(name));

	if (ret == 0)
		ret = writer_put(w, quoted, strlen(quoted));
	free(quoted);
	return ret;
}

/* The "From " line and the delivery headers. */
static int
writer_start(struct writer *w, const struct mailbox_msg *msg)
{
	if (w->is_mbox) {
		const char *sender = msg->sender ? msg->sender : "";
		char date[64];
		time_t now = time(NULL);
		struct tm tm;

		/* asctime(3) shape, as Postfix writes it after two spaces. */
		strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y",
			 localtime_r(&now, &tm));
		if (writer_header(w, "From ",
				  *sender ? sender : "MAILER-DAEMON") < 0 ||
		    writer_put(w, "  ", 2) < 0 ||
		    writer_put(w, date, strlen(date)) < 0 ||
		    writer_put(w, "\n", 1) < 0)
			return -1;
	}
	if (msg->sender != NULL &&
	    (writer_header(w, "Return-Path: <", msg->sender) < 0 ||
	     writer_put(w, ">\n", 2) < 0))
		return -1;
	if (msg->original_to != NULL &&
	    (writer_header(w, "X-Original-To: ", msg->original_to) < 0 ||
	     writer_put(w, "\n", 1) < 0))
		return -1;
	if (msg->delivered_to != NULL &&
	    (writer_header(w, "Delivered-To: ", msg->delivered_to) < 0 ||
	     writer_put(w, "\n", 1) < 0))
		return -1;
	return 0;
}

/* A last line without its end, then mbox's empty line. */
static int
writer_finish(struct writer *w)
{
	if (w->head_len > 0 && writer_release_head(w) < 0)
		return -1;
	if (!w->at_line_start && writer_put(w, "\n", 1) < 0)
		return -1;
	if (w->is_mbox && writer_put(w, "\n", 1) < 0)
		return -1;
	return writer_flush(w);
}

/* Write with a size limit; *written_out gets the byte count. */
static int
write_limited(int fd, const struct mailbox_msg *msg, bool is_mbox,
	      long long size_limit, long long *written_out, struct err *err)
{
	struct writer w = {
		.fd = fd,
		.is_mbox = is_mbox,
		.size_limit = size_limit,
		.at_line_start = true,
	};
	int ret = -1;
	int saved;

	strbuf_init(&w.buf, STRBUF_UNLIMITED);
	if (writer_start(&w, msg) < 0)
		err_set(err, "error writing message: %s", strerror(errno));
	else if (deliver_content(msg->req, writer_content, &w, err) < 0)
		;
	else if (writer_finish(&w) < 0)
		err_set(err, "error writing message: %s", strerror(errno));
	else
		ret = 0;
	saved = errno;
	if (written_out != NULL)
		*written_out = w.written;
	strbuf_deinit(&w.buf);
	errno = saved;
	return ret;
}

int
mailbox_write(int fd, const struct mailbox_msg *msg, bool is_mbox,
	      struct err *err)
{
	return write_limited(fd, msg, is_mbox, 0, NULL, err);
}

/* ------------------------------------------------------------------ */
/* Outcomes                                                             */

/* The DSN Postfix gives a mailbox error. */
static void
result_set(struct mailbox_result *result, int error)
{
	const char *dsn = "4.2.0";

	if (error == ENOSPC)
		dsn = "4.3.1";
	else if (error == EDQUOT || error == EFBIG)
		dsn = "5.2.2";
	snprintf(result->dsn, sizeof(result->dsn), "%s", dsn);
	result->is_temporary = dsn[0] == '4';
}

static int
sync_close(int fd)
{
	int ret = fsync(fd);
	int saved = errno;

	if (close(fd) < 0 && ret == 0)
		return -1;
	errno = saved;
	return ret;
}

/* ------------------------------------------------------------------ */
/* Maildir                                                              */

/* This host's name as Maildir wants it: '/' and ':' escaped. */
static void
maildir_hostname(struct strbuf *out)
{
	char host[256] = "localhost";

	(void)gethostname(host, sizeof(host) - 1);
	for (const char *p = host; *p; p++) {
		if (*p == '/')
			strbuf_append_str(out, "\\057");
		else if (*p == ':')
			strbuf_append_str(out, "\\072");
		else
			strbuf_append_char(out, *p);
	}
}

/* DIR, DIR/tmp, DIR/new and DIR/cur; -1 with errno. */
static int
maildir_make_dirs(const char *dir)
{
	static const char *const subdirs[] = { "tmp", "new", "cur" };
	char *path;
	int ret = 0;

	for (size_t i = 0; ret == 0 && i < 3; i++) {
		path = xasprintf("%s/%s", dir, subdirs[i]);
		ret = mkdir_p(path, 0700, NULL);
		free(path);
	}
	return ret;
}

/* Names of new files in one Maildir: "SECONDS.PID_COUNTER.HOST". */
struct maildir_names {
	struct timespec now;
	long counter;
	long tries;
	struct strbuf host;
};

static void
maildir_names_init(struct maildir_names *names)
{
	(void)clock_gettime(CLOCK_REALTIME, &names->now);
	/* The counter starts at the microseconds, so names taken in the
	 * same second differ even after a reader moved them to cur/. */
	names->counter = names->now.tv_nsec / 1000;
	names->tries = 0;
	strbuf_init(&names->host, 1024);
	maildir_hostname(&names->host);
}

/* The next name to try into unique; false after MAILDIR_NAME_TRIES. */
static bool
maildir_names_next(struct maildir_names *names, struct strbuf *unique)
{
	if (names->tries++ >= MAILDIR_NAME_TRIES)
		return false;
	strbuf_reset(unique);
	strbuf_printf(unique, "%lld.%ld_%ld.%s", (long long)names->now.tv_sec,
		      (long)getpid(), names->counter++,
		      strbuf_text(&names->host));
	return true;
}

/* Create DIR/tmp/UNIQUE; on ENOENT create the Maildir and try again. */
static int
maildir_create_tmp(const char *dir, struct strbuf *unique,
		   struct strbuf *tmp_path, struct err *err)
{
	struct maildir_names names;
	int fd = -1;
	int made_dirs = 0;
	int saved;

	maildir_names_init(&names);
	while (fd < 0 && maildir_names_next(&names, unique)) {
		strbuf_reset(tmp_path);
		strbuf_printf(tmp_path, "%s/tmp/%s", dir, strbuf_text(unique));
		fd = open(strbuf_text(tmp_path),
			  O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno == EEXIST)
			continue;
		if (errno != ENOENT || made_dirs++ > 0)
			break;
		if (maildir_make_dirs(dir) < 0)
			break;
	}
	saved = errno;
	if (fd < 0)
		err_set(err, "create maildir file %s: %s", strbuf_text(tmp_path),
			strerror(saved));
	strbuf_deinit(&names.host);
	errno = saved;
	return fd;
}

/*
 * An unnamed file in DIR/tmp (open_unnamed), making the Maildir when it
 * is missing; -1 when the named way (tmp/UNIQUE, rename) must be taken.
 */
static int
maildir_open_unnamed(const char *dir)
{
	char *tmp = xasprintf("%s/tmp", dir);
	int fd = open_unnamed(tmp, O_WRONLY, 0600);

	if (fd < 0 && errno == ENOENT && maildir_make_dirs(dir) == 0)
		fd = open_unnamed(tmp, O_WRONLY, 0600);
	free(tmp);
	return fd;
}

/* fsync new/ once new_path is in it; on failure take new_path back. */
static int
maildir_sync_new(const char *dir, const char *new_path, struct err *err)
{
	char *new_dir = xasprintf("%s/new", dir);
	int ret = fsync_dir(new_dir, err);

	if (ret < 0) {
		/* Not durable: take it back, so a retry cannot duplicate it. */
		int saved = errno;

		(void)unlink(new_path);
		errno = saved;
		err_prefix(err, "create maildir file %s", new_path);
	}
	free(new_dir);
	return ret;
}

/* Move tmp/UNIQUE to new/UNIQUE without replacing anything; fsync new/. */
static int
maildir_publish(const char *dir, const char *unique, const char *tmp_path,
		struct err *err)
{
	char *new_path = xasprintf("%s/new/%s", dir, unique);
	int ret = renameat2(AT_FDCWD, tmp_path, AT_FDCWD, new_path,
			    RENAME_NOREPLACE);

	/* File systems without RENAME_NOREPLACE: link, then unlink. */
	if (ret < 0 && errno == EINVAL && (ret = link(tmp_path, new_path)) == 0)
		(void)unlink(tmp_path);
	if (ret < 0)
		err_set(err, "create maildir file %s: %s", new_path,
			strerror(errno));
	else
		ret = maildir_sync_new(dir, new_path, err);
	free(new_path);
	return ret;
}

/* Link the written unnamed file fd as new/UNIQUE under a free UNIQUE. */
static int
maildir_publish_unnamed(const char *dir, int fd, struct err *err)
{
	struct maildir_names names;
	struct strbuf unique, new_path;
	int ret = -1;

	strbuf_init(&unique, STRBUF_UNLIMITED);
	strbuf_init(&new_path, STRBUF_UNLIMITED);
	maildir_names_init(&names);
	while (ret < 0 && maildir_names_next(&names, &unique)) {
		strbuf_reset(&new_path);
		strbuf_printf(&new_path, "%s/new/%s", dir, strbuf_text(&unique));
		if ((ret = link_unnamed(fd, strbuf_text(&new_path))) < 0 &&
		    errno != EEXIST)
			break;
	}
	if (ret < 0)
		err_set(err, "create maildir file %s: %s",
			strbuf_text(&new_path), strerror(errno));
	else
		ret = maildir_sync_new(dir, strbuf_text(&new_path), err);
	strbuf_deinit(&names.host);
	strbuf_deinit(&new_path);
	strbuf_deinit(&unique);
	return ret;
}

/*
 * The written and fsynced message appears in new/ at once, under its
 * final name: no tmp/ entry is made and renamed, and where the file
 * system has no journal, fsync writes no directory but the new/ one.
 */
static int
maildir_deliver_unnamed(const char *dir, int fd, const struct mailbox_msg *msg,
			struct mailbox_result *result_out, struct err *err)
{
	int ret = -1;

	if (write_limited(fd, msg, false, msg->size_limit, NULL, err) < 0) {
		result_set(result_out, errno);
	} else if (fsync(fd) < 0) {
		result_set(result_out, errno);
		err_set(err, "error writing message: %s", strerror(errno));
	} else if (maildir_publish_unnamed(dir, fd, err) < 0) {
		result_set(result_out, errno);
	} else {
		ret = 0;
	}
	(void)close(fd);
	return ret;
}

static int
maildir_deliver_named(const char *dir, const struct mailbox_msg *msg,
		      struct mailbox_result *result_out, struct err *err)
{
	struct strbuf unique, tmp_path;
	int fd;
	int ret = -1;

	strbuf_init(&unique, STRBUF_UNLIMITED);
	strbuf_init(&tmp_path, STRBUF_UNLIMITED);
	fd = maildir_create_tmp(dir, &unique, &tmp_path, err);
	if (fd < 0) {
		result_set(result_out, errno);
		goto out;
	}
	if (write_limited(fd, msg, false, msg->size_limit, NULL, err) < 0) {
		result_set(result_out, errno);
		(void)close(fd);
	} else if (sync_close(fd) < 0) {
		result_set(result_out, errno);
		err_set(err, "error writing message: %s", strerror(errno));
	} else if (maildir_publish(dir, strbuf_text(&unique),
				   strbuf_text(&tmp_path), err) < 0) {
		result_set(result_out, errno);
	} else {
		ret = 0;
	}
	if (ret < 0)
		(void)unlink(strbuf_text(&tmp_path));
out:
	strbuf_deinit(&tmp_path);
	strbuf_deinit(&unique);
	return ret;
}

/* dir without trailing slashes (but "/" stays). */
static void
maildir_base(const char *dir, struct strbuf *base)
{
	strbuf_set(base, dir);
	while (base->len > 1 && base->data[base->len - 1] == '/')
		strbuf_truncate(base, base->len - 1);
}

int
mailbox_maildir_deliver(const char *dir, const struct mailbox_msg *msg,
			struct mailbox_result *result_out, struct err *err)
{
	struct strbuf base;
	int fd;
	int ret;

	strbuf_init(&base, STRBUF_UNLIMITED);
	maildir_base(dir, &base);
	if ((fd = maildir_open_unnamed(strbuf_text(&base))) >= 0)
		ret = maildir_deliver_unnamed(strbuf_text(&base), fd, msg,
					      result_out, err);
	else
		ret = maildir_deliver_named(strbuf_text(&base), msg, result_out,
					    err);
	strbuf_deinit(&base);
	return ret;
}

int
mailbox_maildir_deliver_named(const char *dir, const struct mailbox_msg *msg,
			      struct mailbox_result *result_out,
			      struct err *err)
{
	struct strbuf base;
	int ret;

	strbuf_init(&base, STRBUF_UNLIMITED);
	maildir_base(dir, &base);
	ret = maildir_deliver_named(strbuf_text(&base), msg, result_out, err);
	strbuf_deinit(&base);
	return ret;
}

/* ------------------------------------------------------------------ */
/* mbox                                                                 */

struct mbox_lock {
	int attempts;
	int delay_ms;
	int stale_time;
	char *dotlock_path; /* set while we hold the dotlock */
};

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Remove PATH.lock if it is older than stale_time; true if removed. */
static bool
dotlock_remove_stale(const char *lock_path, int stale_time)
{
	struct stat st;

	if (lstat(lock_path, &st) < 0)
		return errno == ENOENT;
	if (time(NULL) - st.st_mtime <= stale_time)
		return false;
	return unlink(lock_path) == 0 || errno == ENOENT;
}

static int
dotlock_acquire(const char *path, struct mbox_lock *lk, struct err *err)
{
	char *lock_path = xasprintf("%s.lock", path);
	int fd = -1;

	for (int i = 0; i < lk->attempts; i++) {
		if (i > 0)
			sleep_ms(lk->delay_ms);
		fd = open(lock_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			  0600);
		if (fd >= 0 || errno != EEXIST)
			break;
		if (dotlock_remove_stale(lock_path, lk->stale_time))
			i--; /* the removal does not use up an attempt */
	}
	if (fd < 0) {
		int saved = errno;

		err_set(err, "unable to create lock file %s: %s", lock_path,
			strerror(saved));
		free(lock_path);
		errno = saved == EEXIST ? EAGAIN : saved;
		return -1;
	}
	(void)close(fd);
	lk->dotlock_path = lock_path;
	return 0;
}

static int
kernel_lock_once(int fd, int locks)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

	if ((locks & MAILBOX_LOCK_FCNTL) && fcntl(fd, F_SETLK, &fl) < 0)
		return -1;
	if ((locks & MAILBOX_LOCK_FLOCK) && flock(fd, LOCK_EX | LOCK_NB) < 0)
		return -1;
	return 0;
}

static int
kernel_lock(int fd, int locks, const struct mbox_lock *lk, struct err *err)
{
	for (int i = 0; i < lk->attempts; i++) {
		if (i > 0)
			sleep_ms(lk->delay_ms);
		if (kernel_lock_once(fd, locks) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES && errno != EWOULDBLOCK)
			break;
	}
	err_set(err, "unable to lock for exclusive access: %s",
		strerror(errno));
	if (errno == EACCES)
		errno = EAGAIN;
	return -1;
}

/* Open for appending, creating it 0600 when missing. */
static int
mbox_open(const char *path, struct err *err)
{
	struct err scratch;
	int fd;

	fd = safe_open(path, O_WRONLY | O_APPEND | O_CLOEXEC,
		       SAFE_OPEN_REGULAR | SAFE_OPEN_ONE_LINK, &scratch);
	if (fd < 0 && errno == ENOENT)
		fd = safe_create(path, O_WRONLY | O_APPEND | O_CLOEXEC, 0600,
				 &scratch);
	if (fd < 0 && errno == EEXIST) /* created meanwhile */
		fd = safe_open(path, O_WRONLY | O_APPEND | O_CLOEXEC,
			       SAFE_OPEN_REGULAR | SAFE_OPEN_ONE_LINK,
			       &scratch);
	if (fd < 0) {
		int saved = errno;
		/* safe_open says "open PATH: reason"; keep the reason. */
		const char *colon = strstr(scratch.text, ": ");

		err_set(err, "cannot open file: %s",
			colon ? colon + 2 : strerror(saved));
		errno = saved;
	}
	return fd;
}

/* Append and sync; truncate back to the old size on any error. */
static int
mbox_append(int fd, const struct mailbox_msg *msg, struct err *err)
{
	struct stat st;
	long long limit = 0;
	int saved;

	if (fstat(fd, &st) < 0) {
		err_set(err, "cannot open file: %s", strerror(errno));
		return -1;
	}
	if (msg->size_limit > 0) {
		limit = msg->size_limit - (long long)st.st_size;
		if (limit <= 0) {
			err_set(err, "error writing message: %s",
				strerror(EFBIG));
			errno = EFBIG;
			return -1;
		}
	}
	if (write_limited(fd, msg, true, limit, NULL, err) == 0) {
		if (fsync(fd) == 0)
			return 0;
		err_set(err, "error writing message: %s", strerror(errno));
	}
	saved = errno;
	if (ftruncate(fd, st.st_size) < 0)
		err_prefix(err, "cannot truncate back to %lld bytes (%s)",
			   (long long)st.st_size, strerror(errno));
	errno = saved;
	return -1;
}

int
mailbox_mbox_deliver(const char *path, int locks,
		     const struct mailbox_msg *msg,
		     struct mailbox_result *result_out, struct err *err)
{
	struct mbox_lock lk = {
		.attempts = msg->lock_attempts > 0 ? msg->lock_attempts
						   : DEF_LOCK_ATTEMPTS,
		.delay_ms = msg->lock_delay_ms > 0 ? msg->lock_delay_ms
						   : DEF_LOCK_DELAY_MS,
		.stale_time = msg->stale_lock_time > 0 ? msg->stale_lock_time
						       : DEF_STALE_LOCK_TIME,
	};
	int fd = -1;
	int ret = -1;

	/* Postfix's order: the dotlock, then open, then the kernel locks. */
	if ((locks & MAILBOX_LOCK_DOTLOCK) && dotlock_acquire(path, &lk, err) < 0)
		result_set(result_out, errno);
	else if ((fd = mbox_open(path, err)) < 0)
		result_set(result_out, errno);
	else if (kernel_lock(fd, locks, &lk, err) < 0)
		result_set(result_out, errno);
	else if (mbox_append(fd, msg, err) < 0)
		result_set(result_out, errno);
	else
		ret = 0;
	/* Closing drops the kernel locks; the dotlock goes last. */
	if (fd >= 0)
		(void)close(fd);
	if (lk.dotlock_path != NULL) {
		(void)unlink(lk.dotlock_path);
		free(lk.dotlock_path);
	}
	return ret;
}
