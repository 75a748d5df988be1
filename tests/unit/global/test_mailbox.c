/*
 * test_mailbox.c - unit tests for Maildir and mbox writing: the layout
 * and content of a Maildir delivery, the mbox "From " line and quoting,
 * the delivery headers in Postfix's order, locking (fcntl, flock, fresh
 * and stale dotlocks), size limits, write errors (/dev/full) and the
 * truncation of a failed mbox append back to its old size.
 *
 * The message comes from a real queue file built with queue_file.h in a
 * temporary directory, read through deliver_content. Golden data checked
 * against Debian's Postfix 3.7 virtual(8):
 *   - headers come as Return-Path:, X-Original-To:, Delivered-To:;
 *   - mbox: "From sender  Sun Nov 22 19:36:21 2026" (two spaces, asctime
 *     shape; MAILER-DAEMON for <>), "From " lines quoted with ">" but
 *     ">From " lines left alone, an empty line after each message;
 *   - errors: "unable to create lock file PATH.lock: File exists",
 *     "unable to lock for exclusive access: Resource temporarily
 *     unavailable", "cannot open file: Is a directory", all 4.2.0.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "../remove_tree.h"

#include "global/deliver_request.h"
#include "global/mailbox.h"
#include "global/queue_file.h"
#include "global/rec_type.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

struct fixture {
	bool is_named; /* Maildir tests: take the tmp/ and rename way */
	char dir[64];
	struct queue_layout *ql;
	struct deliver_request req;
	char path[512];
};

/* Content lines of the test message. */
static const char *const body_lines[] = {
	"Subject: test",
	"From: a@b.example",
	"",
	"hello",
	"From the start",
	">From quoted",
	" From space",
	"From",
	"end",
	NULL,
};

static const char expected_body[] = "Subject: test\n"
				    "From: a@b.example\n"
				    "\n"
				    "hello\n"
				    "%sFrom the start\n"
				    ">From quoted\n"
				    " From space\n"
				    "From\n"
				    "end\n";

/* A queue file in DIR/active holding lines (with a long line too). */
static void
make_queue_file(struct fixture *fx, const char *const *lines)
{
	struct queue_file *qf;
	struct err err;
	char path[256];

	snprintf(path, sizeof(path), "%s/active", fx->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	fx->ql = queue_layout_create(fx->dir, "deferred", 1, false);
	qf = queue_file_create(fx->ql, "active", 0600, &err);
	assert_non_null(qf);
	assert_int_equal(queue_file_put_str(qf, REC_TYPE_TIME, "1700000000 0",
					    &err),
			 0);
	assert_int_equal(
		queue_file_put_str(qf, REC_TYPE_FROM, "sender@x.example", &err),
		0);
	assert_int_equal(
		queue_file_put_str(qf, REC_TYPE_RCPT, "u@vd.example", &err), 0);
	assert_int_equal(queue_file_put_str(qf, REC_TYPE_MESG, "", &err), 0);
	fx->req.data_offset = queue_file_tell(qf);
	fx->req.queue_id = xstrdup(queue_file_id(qf));
	for (size_t i = 0; lines[i] != NULL; i++)
		assert_int_equal(queue_file_put_line(qf, lines[i],
						     strlen(lines[i]), &err),
				 0);
	snprintf(fx->path, sizeof(fx->path), "%s", queue_file_path(qf));
	assert_int_equal(queue_file_commit(&qf, &err), 0);
	fx->req.queue_fd = open(fx->path, O_RDWR);
	assert_true(fx->req.queue_fd >= 0);
	fx->req.ql = fx->ql;
}

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));

	strcpy(fx->dir, "/tmp/test_mailbox.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	make_queue_file(fx, body_lines);
	*state = fx;
	return 0;
}

static int
setup_named(void **state)
{
	int ret = setup(state);

	if (ret == 0)
		((struct fixture *)*state)->is_named = true;
	return ret;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	(void)close(fx->req.queue_fd);
	free(fx->req.queue_id);
	queue_layout_destroy(&fx->ql);
	remove_tree(fx->dir);
	free(fx);
	return 0;
}

static struct mailbox_msg
test_msg(struct fixture *fx, const char *sender)
{
	struct mailbox_msg msg = {
		.req = &fx->req,
		.sender = sender,
		.delivered_to = "u+ext@vd.example",
		.original_to = "U+Ext@vd.example",
		.lock_attempts = 2,
		.lock_delay_ms = 10,
	};

	return msg;
}

static char *
read_file(const char *path)
{
	struct strbuf sb;
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	strbuf_init(&sb, STRBUF_UNLIMITED);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_append(&sb, buf, (size_t)n);
	close(fd);
	return sb.data;
}

/* The single file in dir, or NULL when there is none (or several). */
static char *
only_file(const char *dir)
{
	struct dirent **names;
	char *path = NULL;
	int n = scandir(dir, &names, NULL, alphasort);
	int count = 0;

	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			free(path);
			path = xasprintf("%s/%s", dir, names[i]->d_name);
			count++;
		}
		free(names[i]);
	}
	if (n >= 0)
		free(names);
	if (count != 1) {
		free(path);
		return NULL;
	}
	return path;
}

static void
check_text(const char *got, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
check_text(const char *got, const char *fmt, ...)
{
	va_list ap;
	char *want;

	va_start(ap, fmt);
	assert_true(vasprintf(&want, fmt, ap) >= 0);
	va_end(ap);
	assert_string_equal(got, want);
	free(want);
}

/* ------------------------------------------------------------------ */
/* Lock list                                                            */

static void
test_lock_parse(void **state)
{
	static const struct {
		const char *value;
		int locks;
		const char *error;
	} cases[] = {
		{ "fcntl, dotlock", MAILBOX_LOCK_FCNTL | MAILBOX_LOCK_DOTLOCK,
		  NULL },
		{ "flock", MAILBOX_LOCK_FLOCK, NULL },
		{ " FCNTL flock\tdotlock ",
		  MAILBOX_LOCK_FCNTL | MAILBOX_LOCK_FLOCK |
			  MAILBOX_LOCK_DOTLOCK,
		  NULL },
		{ "", 0, NULL },
		{ "fcntl, lockf", 0,
		  "virtual_mailbox_lock: unknown locking method: lockf" },
	};
	struct err err;
	int locks;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		locks = -1;
		int ret = mailbox_lock_parse("virtual_mailbox_lock",
					     cases[i].value, &locks, &err);
		if (cases[i].error) {
			assert_int_equal(ret, -1);
			assert_string_equal(err.text, cases[i].error);
		} else {
			assert_int_equal(ret, 0);
			assert_int_equal(locks, cases[i].locks);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Maildir                                                              */

/* Deliver the way the fixture asks for. */
static int
maildir_deliver(const struct fixture *fx, const char *dir,
		const struct mailbox_msg *msg, struct mailbox_result *result,
		struct err *err)
{
	return fx->is_named
		       ? mailbox_maildir_deliver_named(dir, msg, result, err)
		       : mailbox_maildir_deliver(dir, msg, result, err);
}

static void
test_maildir_layout_and_content(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, "sender@x.example");
	struct mailbox_result result = { 0 };
	struct err err;
	char *md = xasprintf("%s/mail/md/", fx->dir);
	char *sub, *file, *text;
	struct stat st;

	assert_int_equal(maildir_deliver(fx, md, &msg, &result, &err), 0);
	for (const char *const *s = (const char *const[]){ "tmp", "new", "cur",
							  NULL };
	     *s; s++) {
		sub = xasprintf("%s%s", md, *s);
		assert_int_equal(stat(sub, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 0777, 0700);
		free(sub);
	}
	sub = xasprintf("%stmp", md);
	assert_null(only_file(sub)); /* nothing left in tmp/ */
	free(sub);
	sub = xasprintf("%snew", md);
	file = only_file(sub);
	assert_non_null(file);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* SECONDS.PID_COUNTER.HOSTNAME */
	{
		long long secs;
		long pid, counter;
		int used = 0;
		const char *base = strrchr(file, '/') + 1;

		assert_int_equal(sscanf(base, "%lld.%ld_%ld.%n", &secs, &pid,
					&counter, &used),
				 3);
		assert_true(used > 0 && base[used] != 0);
		assert_int_equal(pid, (long)getpid());
		assert_true(llabs(secs - (long long)time(NULL)) < 5);
	}
	text = read_file(file);
	check_text(text,
		   "Return-Path: <sender@x.example>\n"
		   "X-Original-To: U+Ext@vd.example\n"
		   "Delivered-To: u+ext@vd.example\n"
		   "%s",
		   "Subject: test\nFrom: a@b.example\n\nhello\nFrom the "
		   "start\n>From quoted\n From space\nFrom\nend\n");
	free(text);
	free(file);
	free(sub);
	free(md);
}

static void
test_maildir_two_deliveries(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, "");
	struct mailbox_result result = { 0 };
	struct err err;
	char *md = xasprintf("%s/md", fx->dir); /* no trailing '/' */
	char *newdir = xasprintf("%s/md/new", fx->dir);
	struct dirent **names;
	int n;

	msg.original_to = NULL;
	msg.delivered_to = NULL;
	assert_int_equal(maildir_deliver(fx, md, &msg, &result, &err), 0);
	assert_int_equal(maildir_deliver(fx, md, &msg, &result, &err), 0);
	n = scandir(newdir, &names, NULL, alphasort);
	assert_int_equal(n, 4); /* ".", "..", two messages */
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			char *path = xasprintf("%s/%s", newdir,
					       names[i]->d_name);
			char *text = read_file(path);

			/* Null sender: Return-Path: <>, no other headers. */
			assert_true(strncmp(text,
					    "Return-Path: <>\nSubject: test\n",
					    30) == 0);
			free(text);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	free(newdir);
	free(md);
}

static void
test_maildir_errors(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, "s@x");
	struct mailbox_result result = { 0 };
	struct err err;
	char *file = xasprintf("%s/plainfile", fx->dir);
	char *md = xasprintf("%s/plainfile/md/", fx->dir);
	char *want;
	int fd = open(file, O_WRONLY | O_CREAT, 0600);

	assert_true(fd >= 0);
	close(fd);
	/* A file in the way: ENOTDIR, temporary as in Postfix. */
	assert_int_equal(maildir_deliver(fx, md, &msg, &result, &err), -1);
	assert_true(strncmp(err.text, "create maildir file ", 20) == 0);
	want = xasprintf("%s/plainfile/md/tmp/", fx->dir);
	assert_non_null(strstr(err.text, want));
	assert_non_null(strstr(err.text, ": Not a directory"));
	assert_string_equal(result.dsn, "4.2.0");
	assert_true(result.is_temporary);
	free(want);
	free(md);

	/* Over the size limit: 5.2.2, permanent, nothing left behind. */
	md = xasprintf("%s/small/", fx->dir);
	msg.size_limit = 20;
	assert_int_equal(maildir_deliver(fx, md, &msg, &result, &err), -1);
	assert_string_equal(err.text, "error writing message: File too large");
	assert_string_equal(result.dsn, "5.2.2");
	assert_false(result.is_temporary);
	want = xasprintf("%s/small/tmp", fx->dir);
	assert_null(only_file(want));
	free(want);
	want = xasprintf("%s/small/new", fx->dir);
	assert_null(only_file(want));
	free(want);
	free(md);
	free(file);
}

static void
test_maildir_unwritable(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, "s@x");
	struct mailbox_result result = { 0 };
	struct err err;
	char *ro, *md;

	if (geteuid() == 0)
		skip(); /* root writes anywhere */
	ro = xasprintf("%s/ro", fx->dir);
	md = xasprintf("%s/ro/sub/", fx->dir);
	assert_int_equal(mkdir(ro, 0500), 0);
	assert_int_equal(maildir_deliver(fx, md, &msg, &result, &err), -1);
	assert_non_null(strstr(err.text, ": Permission denied"));
	assert_string_equal(result.dsn, "4.2.0");
	assert_true(result.is_temporary);
	free(md);
	free(ro);
}

/* ------------------------------------------------------------------ */
/* mbox                                                                 */

/* "From SENDER  Www Mmm dd hh:mm:ss yyyy\n" at text; its length. */
static size_t
check_from_line(const char *text, const char *sender)
{
	size_t len = strlen(sender);
	const char *nl = strchr(text, '\n');
	struct tm tm;
	const char *end;

	assert_true(strncmp(text, "From ", 5) == 0);
	assert_true(strncmp(text + 5, sender, len) == 0);
	assert_true(strncmp(text + 5 + len, "  ", 2) == 0);
	assert_non_null(nl);
	assert_int_equal(nl - (text + 7 + len), 24); /* asctime's width */
	memset(&tm, 0, sizeof(tm));
	end = strptime(text + 7 + len, "%a %b %e %H:%M:%S %Y", &tm);
	assert_ptr_equal(end, nl);
	return (size_t)(nl + 1 - text);
}

static void
test_mbox_content_and_quoting(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, "sender@x.example");
	struct mailbox_result result = { 0 };
	struct err err;
	char *path = xasprintf("%s/mbox", fx->dir);
	char *text;
	size_t off;
	struct stat st;

	assert_int_equal(mailbox_mbox_deliver(path,
					      MAILBOX_LOCK_FCNTL |
						      MAILBOX_LOCK_DOTLOCK,
					      &msg, &result, &err),
			 0);
	msg.sender = "";
	assert_int_equal(mailbox_mbox_deliver(path, MAILBOX_LOCK_FLOCK, &msg,
					      &result, &err),
			 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = read_file(path);
	off = check_from_line(text, "sender@x.example");
	{
		char *want = xasprintf(
			"Return-Path: <sender@x.example>\n"
			"X-Original-To: U+Ext@vd.example\n"
			"Delivered-To: u+ext@vd.example\n");
		char *body = xasprintf(expected_body, ">");

		assert_true(strncmp(text + off, want, strlen(want)) == 0);
		off += strlen(want);
		assert_true(strncmp(text + off, body, strlen(body)) == 0);
		off += strlen(body);
		assert_int_equal(text[off], '\n'); /* the empty line */
		off++;
		free(body);
		free(want);
	}
	off += check_from_line(text + off, "MAILER-DAEMON");
	assert_true(strncmp(text + off, "Return-Path: <>\n", 16) == 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	assert_int_equal(text[strlen(text) - 2], '\n');
	free(text);
	/* No dotlock stays behind. */
	text = xasprintf("%s.lock", path);
	assert_int_equal(access(text, F_OK), -1);
	free(text);
	free(path);
}

/* Pieces at every split: a queue file with CONT records. */
static void
test_mbox_long_lines(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg;
	struct mailbox_result result = { 0 };
	struct err err;
	char *long_from = xmalloc(5001);
	char *path;
	char *text;
	const char *lines[4];

	(void)close(fx->req.queue_fd);
	free(fx->req.queue_id);
	queue_layout_destroy(&fx->ql);
	remove_tree(fx->dir);
	assert_int_equal(mkdir(fx->dir, 0700), 0);
	memcpy(long_from, "From ", 5);
	memset(long_from + 5, 'y', 4995);
	lines[0] = "";
	lines[1] = long_from;
	lines[2] = "From";
	lines[3] = NULL;
	make_queue_file(fx, lines);
	msg = test_msg(fx, "s@x");
	msg.delivered_to = msg.original_to = NULL;
	path = xasprintf("%s/mbox", fx->dir);
	assert_int_equal(mailbox_mbox_deliver(path, 0, &msg, &result, &err),
			 0);
	text = read_file(path);
	{
		const char *p = strchr(text, '\n') + 1;

		const char *want = "Return-Path: <s@x>\n\n>From yyy";

		assert_true(strncmp(p, want, strlen(want)) == 0);
		p += strlen("Return-Path: <s@x>\n\n");
		assert_int_equal(strlen(p), 1 + 5000 + 1 + 5 + 1);
		assert_int_equal(p[5001], '\n');
		assert_string_equal(p + 5002, "From\n\n");
	}
	free(text);
	free(path);
	free(long_from);
}

/* A child that holds a lock on path until told to stop. */
static pid_t
hold_lock(const char *path, int how, int *pipe_out)
{
	int fds[2], ready[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_WRONLY | O_CREAT, 0600);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		close(fds[1]);
		close(ready[0]);
		if (how == MAILBOX_LOCK_FCNTL)
			(void)fcntl(fd, F_SETLK, &fl);
		else
			(void)flock(fd, LOCK_EX);
		(void)write(ready[1], "x", 1);
		(void)read(fds[0], &c, 1);
		_exit(0);
	}
	close(fds[0]);
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*pipe_out = fds[1];
	return pid;
}

static void
test_mbox_locked(void **state)
{
	static const struct {
		int how;
	} cases[] = { { MAILBOX_LOCK_FCNTL }, { MAILBOX_LOCK_FLOCK } };
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, "s@x");
	struct mailbox_result result = { 0 };
	struct err err;
	char *path = xasprintf("%s/locked", fx->dir);
	struct timespec t0, t1;

	for (size_t i = 0; i < 2; i++) {
		int release;
		pid_t pid = hold_lock(path, cases[i].how, &release);
		double waited;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(mailbox_mbox_deliver(path, cases[i].how, &msg,
						      &result, &err),
				 -1);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		waited = (double)(t1.tv_sec - t0.tv_sec) +
			 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		assert_true(waited >= 0.009 && waited < 2);
		assert_string_equal(err.text,
				    "unable to lock for exclusive access: "
				    "Resource temporarily unavailable");
		assert_string_equal(result.dsn, "4.2.0");
		assert_true(result.is_temporary);
		close(release);
		waitpid(pid, NULL, 0);
	}
	/* Nothing was written. */
	{
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 0);
	}
	free(path);
}

static void
test_mbox_dotlock(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, "s@x");
	struct mailbox_result result = { 0 };
	struct err err;
	char *path = xasprintf("%s/dot", fx->dir);
	char *lock = xasprintf("%s/dot.lock", fx->dir);
	char *want = xasprintf("unable to create lock file %s: File exists",
			       lock);
	struct timespec old[2] = { { time(NULL) - 1000, 0 },
				   { time(NULL) - 1000, 0 } };
	int fd = open(lock, O_WRONLY | O_CREAT, 0600);

	assert_true(fd >= 0);
	close(fd);
	/* A fresh lock: temporary error after the bounded wait. */
	assert_int_equal(mailbox_mbox_deliver(path, MAILBOX_LOCK_DOTLOCK, &msg,
					      &result, &err),
			 -1);
	assert_string_equal(err.text, want);
	assert_string_equal(result.dsn, "4.2.0");
	assert_true(result.is_temporary);
	assert_int_equal(access(path, F_OK), -1); /* never opened */
	assert_int_equal(access(lock, F_OK), 0);  /* not ours to remove */
	/* A stale lock (older than stale_lock_time) is removed. */
	assert_int_equal(utimensat(AT_FDCWD, lock, old, 0), 0);
	assert_int_equal(mailbox_mbox_deliver(path, MAILBOX_LOCK_DOTLOCK, &msg,
					      &result, &err),
			 0);
	assert_int_equal(access(lock, F_OK), -1);
	assert_int_equal(access(path, F_OK), 0);
	free(want);
	free(lock);
	free(path);
}

static void
test_mbox_open_errors(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, "s@x");
	struct mailbox_result result = { 0 };
	struct err err;
	char *dir = xasprintf("%s/adir", fx->dir);
	char *link_path = xasprintf("%s/alink", fx->dir);

	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mailbox_mbox_deliver(dir, MAILBOX_LOCK_FCNTL, &msg,
					      &result, &err),
			 -1);
	assert_string_equal(err.text, "cannot open file: Is a directory");
	assert_string_equal(result.dsn, "4.2.0");
	assert_int_equal(symlink("/etc/passwd", link_path), 0);
	assert_int_equal(mailbox_mbox_deliver(link_path, MAILBOX_LOCK_FCNTL,
					      &msg, &result, &err),
			 -1);
	assert_string_equal(err.text, "cannot open file: is a symbolic link");
	assert_true(result.is_temporary);
	free(link_path);
	free(dir);
}

/* A failed append leaves the mbox exactly as it was. */
static void
test_mbox_truncate_back(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, "s@x");
	struct mailbox_result result = { 0 };
	struct err err;
	char *path = xasprintf("%s/mbox", fx->dir);
	char *before, *after;
	struct stat st;

	assert_int_equal(mailbox_mbox_deliver(path, MAILBOX_LOCK_FCNTL, &msg,
					      &result, &err),
			 0);
	before = read_file(path);
	assert_int_equal(stat(path, &st), 0);
	/* Room for a part of the message only. */
	msg.size_limit = st.st_size + 100;
	assert_int_equal(mailbox_mbox_deliver(path, MAILBOX_LOCK_FCNTL, &msg,
					      &result, &err),
			 -1);
	assert_string_equal(err.text, "error writing message: File too large");
	assert_string_equal(result.dsn, "5.2.2");
	assert_false(result.is_temporary);
	after = read_file(path);
	assert_string_equal(before, after);
	free(after);
	/* Already over the limit. */
	msg.size_limit = 10;
	assert_int_equal(mailbox_mbox_deliver(path, MAILBOX_LOCK_FCNTL, &msg,
					      &result, &err),
			 -1);
	assert_string_equal(err.text, "error writing message: File too large");
	after = read_file(path);
	assert_string_equal(before, after);
	free(after);
	free(before);
	free(path);
}

/* ------------------------------------------------------------------ */
/* mailbox_write                                                        */

static void
test_write_full_device(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, "s@x");
	struct err err;
	int fd = open("/dev/full", O_WRONLY);

	if (fd < 0)
		skip();
	assert_int_equal(mailbox_write(fd, &msg, true, &err), -1);
	assert_string_equal(err.text,
			    "error writing message: No space left on device");
	assert_int_equal(errno, ENOSPC);
	close(fd);
}

static void
test_write_pipe_plain(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, NULL);
	struct err err;
	char buf[4096];
	int fds[2];
	ssize_t n;
	char *want = xasprintf(expected_body, "");

	msg.original_to = NULL;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(mailbox_write(fds[1], &msg, false, &err), 0);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = 0;
	close(fds[0]);
	/* No Return-Path without a sender, no quoting, no empty line. */
	assert_true(strncmp(buf, "Delivered-To: u+ext@vd.example\n", 31) == 0);
	assert_string_equal(buf + 31, want);
	free(want);
}

/* A broken queue file: deliver_content's error comes through. */
static void
test_write_bad_queue_file(void **state)
{
	struct fixture *fx = *state;
	struct mailbox_msg msg = test_msg(fx, "s@x");
	struct mailbox_result result = { 0 };
	struct err err;
	char *md = xasprintf("%s/md/", fx->dir);

	fx->req.data_offset = 1; /* inside the size record */
	assert_int_equal(maildir_deliver(fx, md, &msg, &result, &err), -1);
	assert_true(result.is_temporary);
	assert_non_null(strstr(err.text, fx->req.queue_id));
	free(md);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_parse),
		cmocka_unit_test_setup_teardown(test_maildir_layout_and_content,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_maildir_two_deliveries,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_maildir_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_maildir_unwritable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_maildir_layout_and_content,
						setup_named, teardown),
		cmocka_unit_test_setup_teardown(test_maildir_two_deliveries,
						setup_named, teardown),
		cmocka_unit_test_setup_teardown(test_maildir_errors,
						setup_named, teardown),
		cmocka_unit_test_setup_teardown(test_maildir_unwritable,
						setup_named, teardown),
		cmocka_unit_test_setup_teardown(test_mbox_content_and_quoting,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_mbox_long_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mbox_locked, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mbox_dotlock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mbox_open_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mbox_truncate_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_full_device, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_pipe_plain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_bad_queue_file,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
