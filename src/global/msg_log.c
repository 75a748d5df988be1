/*
 * msg_log.c - the per-message bounce, defer and trace logs (msg_log.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/msg_log.h"
#include "util/mymalloc.h"
#include "util/safe_open.h"
#include "util/strbuf.h"

/* Largest log file a reader takes (entries are a few hundred bytes). */
#define MSG_LOG_FILE_MAX (256 * 1024 * 1024)

static void
put_field(struct strbuf *out, const char *name, const char *value)
{
	/* Cut long values so that readers take the line (MSG_LOG_LINE_MAX). */
	size_t room = MSG_LOG_LINE_MAX - strlen(name) - 1;

	if (value == NULL || *value == 0)
		return;
	(void)strbuf_printf(out, "%s=", name);
	for (const char *cp = value; *cp && room > 0; cp++, room--)
		(void)strbuf_append_char(out, *cp == '\n' || *cp == '\r' ? ' '
									  : *cp);
	(void)strbuf_append_char(out, '\n');
}

static void
entry_format(const struct msg_log_entry *e, struct strbuf *out)
{
	put_field(out, "recipient", e->recipient);
	if (e->orig_rcpt && strcmp(e->orig_rcpt, e->recipient) != 0)
		put_field(out, "orig_rcpt", e->orig_rcpt);
	if (e->offset >= 0)
		(void)strbuf_printf(out, "offset=%lld\n", (long long)e->offset);
	put_field(out, "dsn_orcpt", e->dsn_orcpt);
	(void)strbuf_printf(out, "notify_flags=%d\n", e->notify_flags);
	put_field(out, "status", e->status);
	put_field(out, "action", e->action);
	put_field(out, "reason", e->reason);
	put_field(out, "relay", e->relay);
	put_field(out, "dsn_mta", e->dsn_mta);
	put_field(out, "diag_text", e->diag_text);
	(void)strbuf_printf(out, "time=%lld\n\n", (long long)e->when);
}

static int
log_path(const struct queue_layout *ql, const char *log, const char *id,
	 struct strbuf *path)
{
	return queue_file_fullpath(ql, log, id, path);
}

/* Create the hash directories of path (everything before its last '/'). */
static int
parent_create(const char *path, struct err *err)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int ret = 0;

	if (slash != NULL) {
		*slash = 0;
		ret = mkdir_p(dir, 0700, err);
	}
	free(dir);
	return ret;
}

/*
 * A privileged agent (local, virtual) writes logs that mail_owner's
 * daemons must read and remove: give the file and the directories below
 * top to top's owner.
 */
static void
give_to_queue_owner(const char *top, const char *path, int fd)
{
	struct stat st;
	char *dir;

	if (geteuid() != 0 || stat(top, &st) < 0)
		return;
	if (fchown(fd, st.st_uid, st.st_gid) < 0)
		return;
	dir = xstrdup(path);
	for (char *slash = strrchr(dir, '/');
	     slash != NULL && slash > dir + strlen(top);
	     slash = strrchr(dir, '/')) {
		*slash = 0;
		(void)chown(dir, st.st_uid, st.st_gid);
	}
	free(dir);
}

static int
append_open(const char *top, const char *path, struct err *err)
{
	int flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW;
	int fd = open(path, flags, 0600);

	if (fd < 0 && errno == ENOENT && parent_create(path, err) == 0)
		fd = open(path, flags, 0600);
	if (fd >= 0)
		give_to_queue_owner(top, path, fd);
	return fd;
}

int
msg_log_append(const struct queue_layout *ql, const char *log,
	       const char *id, const struct msg_log_entry *entry,
	       bool want_sync, struct err *err)
{
	struct strbuf path, text;
	char *top;
	int fd;
	int ret = -1;

	strbuf_init(&path, 4096);
	/* Room for every line at its longest. */
	strbuf_init(&text, 16 * (MSG_LOG_LINE_MAX + 1));
	if (log_path(ql, log, id, &path) < 0) {
		err_set(err, "append to %s/%s: path too long", log, id);
		goto out;
	}
	entry_format(entry, &text);
	top = xasprintf("%s/%s", ql->queue_directory, log);
	fd = append_open(top, strbuf_text(&path), err);
	free(top);
	if (fd >= 0) {
		ssize_t n = write(fd, strbuf_text(&text), strbuf_len(&text));

		if (n == (ssize_t)strbuf_len(&text) &&
		    (!want_sync || fsync(fd) == 0))
			ret = 0;
		else if (n >= 0 && n < (ssize_t)strbuf_len(&text))
			errno = ENOSPC;
		(void)close(fd);
	}
	if (ret < 0)
		err_set(err, "append to %s: %s", strbuf_text(&path),
			strerror(errno));
out:
	strbuf_deinit(&text);
	strbuf_deinit(&path);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Reading.                                                             */

/* The fields of the entry being read; values point into the text. */
struct entry_fields {
	struct msg_log_entry e;
	char *offset, *notify, *when;
	bool is_empty;
};

static const char *
nonnull(const char *s)
{
	return s ? s : "";
}

static int
field_set(struct entry_fields *f, char *name, char *value)
{
	const struct {
		const char *name;
		size_t where;
	} fields[] = {
		{ "recipient", offsetof(struct entry_fields, e.recipient) },
		{ "orig_rcpt", offsetof(struct entry_fields, e.orig_rcpt) },
		{ "dsn_orcpt", offsetof(struct entry_fields, e.dsn_orcpt) },
		{ "status", offsetof(struct entry_fields, e.status) },
		{ "action", offsetof(struct entry_fields, e.action) },
		{ "reason", offsetof(struct entry_fields, e.reason) },
		{ "relay", offsetof(struct entry_fields, e.relay) },
		{ "dsn_mta", offsetof(struct entry_fields, e.dsn_mta) },
		{ "diag_text", offsetof(struct entry_fields, e.diag_text) },
		{ "offset", offsetof(struct entry_fields, offset) },
		{ "notify_flags", offsetof(struct entry_fields, notify) },
		{ "time", offsetof(struct entry_fields, when) },
	};

	f->is_empty = false;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (strcmp(name, fields[i].name) == 0) {
			*(const char **)((char *)f + fields[i].where) = value;
			return 0;
		}
	}
	return 0; /* unknown names are skipped */
}

static int
number_parse(const char *text, long long min, long long max, long long *out)
{
	char *end;

	if (text == NULL) {
		*out = 0;
		return 0;
	}
	errno = 0;
	*out = strtoll(text, &end, 10);
	return *text == 0 || *end != 0 || errno != 0 || *out < min || *out > max
		       ? -1
		       : 0;
}

/* Hand a finished entry to fn. */
static int
entry_finish(struct entry_fields *f, const char *name, size_t line,
	     msg_log_fn *fn, void *ctx, struct err *err)
{
	long long offset, notify, when;

	if (f->e.recipient == NULL || f->e.status == NULL) {
		err_set(err, "%s: line %zu: entry without %s", name, line,
			f->e.recipient == NULL ? "recipient" : "status");
		return -1;
	}
	if (number_parse(f->offset, -1, 1LL << 62, &offset) < 0 ||
	    number_parse(f->notify, 0, 15, &notify) < 0 ||
	    number_parse(f->when, 0, 1LL << 40, &when) < 0) {
		err_set(err, "%s: line %zu: malformed number", name, line);
		return -1;
	}
	f->e.offset = f->offset ? (off_t)offset : -1;
	f->e.notify_flags = (int)notify;
	f->e.when = (time_t)when;
	f->e.orig_rcpt = nonnull(f->e.orig_rcpt);
	f->e.dsn_orcpt = nonnull(f->e.dsn_orcpt);
	f->e.action = nonnull(f->e.action);
	f->e.reason = nonnull(f->e.reason);
	f->e.relay = nonnull(f->e.relay);
	f->e.dsn_mta = nonnull(f->e.dsn_mta);
	f->e.diag_text = nonnull(f->e.diag_text);
	return fn ? fn(&f->e, ctx, err) : 0;
}

/* Parse the text in place (it is a private copy with a NUL at the end). */
static int
parse_lines(char *text, size_t len, const char *name, msg_log_fn *fn,
	    void *ctx, struct err *err)
{
	struct entry_fields f = { .is_empty = true };
	size_t line = 0;
	int count = 0;
	char *cp = text, *end = text + len;

	while (cp < end) {
		char *nl = memchr(cp, '\n', (size_t)(end - cp));
		char *eq;

		line++;
		if (nl == NULL) {
			err_set(err, "%s: line %zu: missing newline at the end of the file",
				name, line);
			return -1;
		}
		*nl = 0;
		if ((size_t)(nl - cp) > MSG_LOG_LINE_MAX) {
			err_set(err, "%s: line %zu: line longer than %d bytes",
				name, line, MSG_LOG_LINE_MAX);
			return -1;
		}
		if (*cp == 0) {
			if (!f.is_empty) {
				if (count >= MSG_LOG_ENTRY_MAX) {
					err_set(err, "%s: line %zu: more than %d entries",
						name, line, MSG_LOG_ENTRY_MAX);
					return -1;
				}
				if (entry_finish(&f, name, line, fn, ctx, err) < 0)
					return -1;
				count++;
			}
			memset(&f, 0, sizeof(f));
			f.is_empty = true;
		} else if ((eq = strchr(cp, '=')) == NULL || eq == cp ||
			   memchr(cp, 0, (size_t)(nl - cp)) != NULL) {
			err_set(err, "%s: line %zu: malformed line (expected name=value)",
				name, line);
			return -1;
		} else {
			*eq = 0;
			(void)field_set(&f, cp, eq + 1);
		}
		cp = nl + 1;
	}
	if (!f.is_empty) {
		err_set(err, "%s: line %zu: last entry is not ended by an empty line",
			name, line);
		return -1;
	}
	return count;
}

int
msg_log_parse(const char *text, size_t len, const char *name, msg_log_fn *fn,
	      void *ctx, struct err *err)
{
	char *copy = xmalloc(len + 1);
	int ret;

	memcpy(copy, text, len);
	copy[len] = 0;
	ret = parse_lines(copy, len, name, fn, ctx, err);
	free(copy);
	return ret;
}

static char *
file_slurp(int fd, const char *path, size_t *len_out, struct err *err)
{
	struct stat st;
	char *buf;
	size_t done = 0;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > MSG_LOG_FILE_MAX) {
		err_set(err, "%s: %s", path,
			errno ? strerror(errno) : "not a regular file or too large");
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n <= 0) {
			if (n == 0)
				break;
			err_set(err, "read %s: %s", path, strerror(errno));
			free(buf);
			return NULL;
		}
		done += (size_t)n;
	}
	*len_out = done;
	return buf;
}

int
msg_log_read(const struct queue_layout *ql, const char *log, const char *id,
	     msg_log_fn *fn, void *ctx, struct err *err)
{
	struct strbuf path;
	char *text = NULL;
	size_t len = 0;
	int fd;
	int ret = -1;

	strbuf_init(&path, 4096);
	if (log_path(ql, log, id, &path) < 0) {
		err_set(err, "open %s/%s: path too long", log, id);
		goto out;
	}
	fd = open(strbuf_text(&path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			ret = 0;
		else
			err_set(err, "open %s: %s", strbuf_text(&path),
				strerror(errno));
		goto out;
	}
	errno = 0;
	text = file_slurp(fd, strbuf_text(&path), &len, err);
	(void)close(fd);
	if (text != NULL)
		ret = parse_lines(text, len, strbuf_text(&path), fn, ctx, err);
out:
	free(text);
	strbuf_deinit(&path);
	return ret;
}

bool
msg_log_exists(const struct queue_layout *ql, const char *log, const char *id)
{
	struct strbuf path;
	bool exists;

	strbuf_init(&path, 4096);
	exists = log_path(ql, log, id, &path) == 0 &&
		 access(strbuf_text(&path), F_OK) == 0;
	strbuf_deinit(&path);
	return exists;
}

int
msg_log_remove(const struct queue_layout *ql, const char *log, const char *id,
	       struct err *err)
{
	struct strbuf path;
	int ret = 0;

	strbuf_init(&path, 4096);
	if (log_path(ql, log, id, &path) < 0 ||
	    (unlink(strbuf_text(&path)) < 0 && errno != ENOENT)) {
		err_set(err, "remove %s: %s", strbuf_text(&path),
			strerror(errno));
		ret = -1;
	}
	strbuf_deinit(&path);
	return ret;
}
