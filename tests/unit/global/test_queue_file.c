/*
 * test_queue_file.c - unit tests for queue files: layout and paths,
 * creating and committing, the completion mark, done-marking and rewriting
 * in place, moving, finding, stale files, unique IDs. The walker's checks
 * of damaged files are in test_queue_file_read.c.
 *
 * Each test works in a temporary queue directory of its own.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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
#include <unistd.h>

#include <cmocka.h>

#include "../remove_tree.h"

#include "global/mail_conf.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "global/rec_type.h"
#include "global/record.h"

static const char *const all_queues[] = { "maildrop", "incoming", "active",
					  "deferred", "hold",     "corrupt",
					  "saved",    NULL };

struct fixture {
	char dir[64];
	mode_t old_umask;
	struct queue_layout *ql;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[256];

	strcpy(fx->dir, "/tmp/test_queue_file.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	fx->old_umask = umask(022);
	for (const char *const *q = all_queues; *q; q++) {
		snprintf(path, sizeof(path), "%s/%s", fx->dir, *q);
		if (mkdir(path, 0700) < 0)
			return -1;
	}
	fx->ql = queue_layout_create(fx->dir, "deferred, defer", 1, false);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	queue_layout_destroy(&fx->ql);
	umask(fx->old_umask);
	remove_tree(fx->dir);
	free(fx);
	return 0;
}

/* Names in a directory, sorted, as "a,b,". */
static char *
list_dir(const char *path)
{
	static char result[4096];
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);

	result[0] = 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			strcat(result, names[i]->d_name);
			strcat(result, ",");
		}
		free(names[i]);
	}
	free(names);
	return result;
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* ------------------------------------------------------------------ */
/* Collecting what the walker hands over                               */

struct collect {
	struct strbuf out;
	off_t rcpt_offsets[16];
	int rcpt_count;
	off_t warn_offset;
};

static int
collect_record(const struct queue_record *rec, void *ctx, struct err *err)
{
	struct collect *c = ctx;

	(void)err;
	if (rec->type == REC_TYPE_RCPT || rec->type == REC_TYPE_DONE)
		c->rcpt_offsets[c->rcpt_count++] = rec->offset;
	if (rec->type == REC_TYPE_WARN)
		c->warn_offset = rec->offset;
	if (rec->type == REC_TYPE_NORM || rec->type == REC_TYPE_CONT)
		strbuf_printf(&c->out, "%c%d@%lld:%zu|", rec->type,
			      rec->segment, (long long)rec->offset, rec->len);
	else if (rec->type == REC_TYPE_SIZE)
		strbuf_printf(&c->out, "C%d@0|", rec->segment);
	else
		strbuf_printf(&c->out, "%c%d@%lld:%s|", rec->type, rec->segment,
			      (long long)rec->offset, rec->data);
	return 0;
}

/* Walk path; "OK" plus the records, or "ERR:text". */
static char *
walk_path(const char *path, int flags, struct collect *c,
	  struct queue_file_info *info)
{
	static char result[8192];
	struct err err;
	int fd = open(path, O_RDONLY);
	int ret;

	assert_true(fd >= 0);
	strbuf_init(&c->out, STRBUF_UNLIMITED);
	c->rcpt_count = 0;
	ret = queue_file_walk(fd, "f", flags, collect_record, c, info, &err);
	if (ret < 0)
		snprintf(result, sizeof(result), "ERR:%s", err.text);
	else
		snprintf(result, sizeof(result), "OK:%s", c->out.data);
	strbuf_deinit(&c->out);
	close(fd);
	return result;
}

/* ------------------------------------------------------------------ */
/* Writing                                                             */

static void
put(struct queue_file *qf, int type, const char *text)
{
	struct err err;

	assert_int_equal(queue_file_put_str(qf, type, text, &err), 0);
}

/* The message most tests use: an envelope, content with a long line. */
static void
write_message(struct queue_file *qf)
{
	char long_line[5000];
	struct err err;

	memset(long_line, 'x', sizeof(long_line));
	put(qf, REC_TYPE_TIME, "1795368480 627653");
	assert_int_equal(
		queue_file_put_attr(qf, "create_time", "1795368484", &err), 0);
	put(qf, REC_TYPE_DSN_ENVID, "envid123");
	put(qf, REC_TYPE_DSN_RET, "2");
	put(qf, REC_TYPE_FROM, "alice@example.com");
	assert_int_equal(
		queue_file_putf(qf, &err, REC_TYPE_WARN, REC_WARN_FORMAT, 0LL),
		0);
	put(qf, REC_TYPE_DSN_NOTIFY, "10");
	put(qf, REC_TYPE_DSN_ORCPT, "rfc822;bob@example.org");
	put(qf, REC_TYPE_ORCP, "bob@example.org");
	put(qf, REC_TYPE_RCPT, "bob@example.org");
	put(qf, REC_TYPE_RCPT, "carol@example.net");
	put(qf, REC_TYPE_MESG, "");
	assert_int_equal(queue_file_put_line(qf, "Subject: hi", 11, &err), 0);
	assert_int_equal(queue_file_put_line(qf, "", 0, &err), 0);
	assert_int_equal(
		queue_file_put_line(qf, long_line, sizeof(long_line), &err), 0);
	assert_int_equal(queue_file_put_line(qf, "a\0b", 3, &err), 0);
	put(qf, REC_TYPE_XTRA, "");
	assert_int_equal(queue_file_put_attr(qf, "foo", "bar", &err), 0);
	put(qf, REC_TYPE_RCPT, "dave@example.com");
}

/* The same message built independently with record_put. */
static void
expected_bytes(struct strbuf *out)
{
	char long_line[5000];
	struct strbuf body;
	size_t content_offset;
	size_t xtra_offset;
	char size[REC_SIZE_LEN + 1];

	memset(long_line, 'x', sizeof(long_line));
	strbuf_init(&body, STRBUF_UNLIMITED);
	record_put_str(&body, 'T', "1795368480 627653");
	record_put_str(&body, 'A', "create_time=1795368484");
	record_put_str(&body, 'i', "envid123");
	record_put_str(&body, '<', "2");
	record_put_str(&body, 'S', "alice@example.com");
	record_putf(&body, 'W', "%15d", 0);
	record_put_str(&body, 'n', "10");
	record_put_str(&body, 'o', "rfc822;bob@example.org");
	record_put_str(&body, 'O', "bob@example.org");
	record_put_str(&body, 'R', "bob@example.org");
	record_put_str(&body, 'R', "carol@example.net");
	record_put(&body, 'M', "", 0);
	content_offset = record_size(REC_SIZE_LEN) + body.len;
	record_put_str(&body, 'N', "Subject: hi");
	record_put(&body, 'N', "", 0);
	record_put(&body, 'L', long_line, 2048);
	record_put(&body, 'L', long_line, 2048);
	record_put(&body, 'N', long_line, 904);
	record_put(&body, 'N', "a\0b", 3);
	xtra_offset = record_size(REC_SIZE_LEN) + body.len;
	record_put(&body, 'X', "", 0);
	record_put_str(&body, 'A', "foo=bar");
	record_put_str(&body, 'R', "dave@example.com");
	record_put(&body, 'E', "", 0);
	snprintf(size, sizeof(size), REC_SIZE_FORMAT,
		 (long long)(xtra_offset - content_offset),
		 (long long)content_offset, 3LL, 7LL,
		 (long long)(xtra_offset - content_offset), 1LL);
	strbuf_init(out, STRBUF_UNLIMITED);
	record_put(out, 'C', size, REC_SIZE_LEN);
	strbuf_append(out, body.data, body.len);
	strbuf_deinit(&body);
}

static void
read_file(const char *path, struct strbuf *out)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	strbuf_init(out, STRBUF_UNLIMITED);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_append(out, buf, (size_t)n);
	close(fd);
}

static void
test_create_commit(void **state)
{
	struct fixture *fx = *state;
	struct queue_file_info info;
	struct collect c = { 0 };
	struct queue_file *qf;
	struct strbuf got;
	struct strbuf want;
	struct err err;
	char path[512];
	char id[QUEUE_ID_SIZE];

	qf = queue_file_create(fx->ql, "incoming", 0600, &err);
	assert_non_null(qf);
	strcpy(id, queue_file_id(qf));
	assert_true(is_valid_queue_id(id));
	assert_false(queue_id_is_long(id));
	snprintf(path, sizeof(path), "%s/incoming/%s", fx->dir, id);
	assert_string_equal(queue_file_path(qf), path);
	assert_string_equal(queue_file_queue(qf), "incoming");
	assert_int_equal(queue_file_tell(qf), 97);
	/* In place under its ID, no temporary name left, not complete. */
	{
		char names[64];

		snprintf(names, sizeof(names), "%s,", id);
		assert_string_equal(list_dir(fx->dir + 0),
				    "active,corrupt,"
				    "deferred,hold,incoming,maildrop,saved,");
		snprintf(path, sizeof(path), "%s/incoming", fx->dir);
		assert_string_equal(list_dir(path), names);
	}
	assert_int_equal(file_mode(queue_file_path(qf)), 0600);
	assert_string_equal(walk_path(queue_file_path(qf), 0, &c, NULL),
			    "ERR:f: queue file is not marked complete (mode "
			    "0600)");
	write_message(qf);
	queue_file_set_options(qf, 7, 1);
	snprintf(path, sizeof(path), "%s", queue_file_path(qf));
	assert_int_equal(queue_file_commit(&qf, &err), 0);
	assert_null(qf);
	assert_int_equal(file_mode(path), 0700);

	read_file(path, &got);
	expected_bytes(&want);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	strbuf_deinit(&got);
	strbuf_deinit(&want);

	assert_string_equal(
		walk_path(path, 0, &c, &info),
		"OK:C0@0|T0@97:1795368480 627653|A0@116:create_time=1795368484|"
		"i0@140:envid123|<0@150:2|S0@153:alice@example.com|"
		"W0@172:              0|n0@189:10|"
		"o0@193:rfc822;bob@example.org|O0@217:bob@example.org|"
		"R0@234:bob@example.org|R0@251:carol@example.net|M1@270:|"
		"N1@272:11|N1@285:0|L1@287:2048|L1@2338:2048|N1@4389:904|"
		"N1@5296:3|X2@5301:|A2@5303:foo=bar|R2@5312:dave@example.com|"
		"E3@5330:|");
	assert_int_equal(info.content_offset, 272);
	assert_int_equal(info.content_size, 5301 - 272);
	assert_int_equal(info.content_length, 5301 - 272);
	assert_int_equal(info.rcpt_count, 3);
	assert_int_equal(info.qmgr_opts, 7);
	assert_int_equal(info.smtputf8, 1);
	assert_int_equal(info.xtra_offset, 5301);
	assert_int_equal(info.end_offset, 5330);
	assert_int_equal(info.arrival_sec, 1795368480);
	assert_int_equal(info.arrival_usec, 627653);
	assert_true(info.is_marked_complete);
	assert_int_equal(c.rcpt_count, 3);
}

/* The smallest complete file, byte for byte. */
static void
test_golden_bytes(void **state)
{
	struct fixture *fx = *state;
	struct queue_file *qf;
	struct strbuf got;
	struct err err;
	char path[512];
	static const char tail[] =
		"T\0031 2S\003a@bR\003c@dM\000N\002hiX\000E\000";
	char want[256];
	size_t want_len;

	/* 4 content bytes from offset 114, 1 recipient, content length 4. */
	want_len = (size_t)snprintf(want, sizeof(want), "C_" REC_SIZE_FORMAT,
				    4LL, 114LL, 1LL, 0LL, 4LL, 0LL);
	assert_int_equal(want_len, 97);
	memcpy(want + want_len, tail, sizeof(tail) - 1);
	want_len += sizeof(tail) - 1;

	qf = queue_file_create(fx->ql, "incoming", 0600, &err);
	put(qf, 'T', "1 2");
	put(qf, 'S', "a@b");
	put(qf, 'R', "c@d");
	put(qf, 'M', "");
	put(qf, 'N', "hi");
	snprintf(path, sizeof(path), "%s", queue_file_path(qf));
	assert_int_equal(queue_file_commit(&qf, &err), 0);
	read_file(path, &got);
	assert_int_equal(got.len, want_len);
	assert_memory_equal(got.data, want, want_len);
	strbuf_deinit(&got);
}

/*
 * A file being written is locked by its writer; once the writer is gone
 * without committing, the file is abandoned. A committed file never is.
 */
static void
test_abandoned(void **state)
{
	struct fixture *fx = *state;
	struct queue_file *qf;
	struct err err;
	char path[512];
	int fds[2];
	int status;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	qf = queue_file_create(fx->ql, "incoming", 0600, &err);
	assert_non_null(qf);
	snprintf(path, sizeof(path), "%s", queue_file_path(qf));
	assert_false(queue_file_is_abandoned(path));
	put(qf, 'T', "1 2");
	put(qf, 'S', "a@b");
	put(qf, 'R', "c@d");
	assert_int_equal(queue_file_commit(&qf, &err), 0);
	assert_false(queue_file_is_abandoned(path));

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		qf = queue_file_create(fx->ql, "incoming", 0600, &err);
		if (qf == NULL)
			_exit(2);
		dprintf(fds[1], "%s", queue_file_path(qf));
		_exit(0); /* dies without commit or abort */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	memset(path, 0, sizeof(path));
	assert_true(read(fds[0], path, sizeof(path) - 1) > 0);
	close(fds[0]);
	close(fds[1]);
	assert_true(queue_file_is_abandoned(path));
	assert_false(queue_file_is_abandoned("/nonexistent/file"));
}

/* Commit adds the M and X markers a writer did not write. */
static void
test_commit_empty_content(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct queue_file *qf;
	struct err err;
	char path[512];

	qf = queue_file_create(fx->ql, "maildrop", 0644, &err);
	put(qf, 'T', "1");
	put(qf, 'S', "");
	snprintf(path, sizeof(path), "%s", queue_file_path(qf));
	assert_int_equal(queue_file_commit(&qf, &err), 0);
	assert_int_equal(file_mode(path), 0744);
	assert_string_equal(walk_path(path, 0, &c, NULL),
			    "OK:C0@0|T0@97:1|S0@100:|M1@102:|X2@104:|E3@106:|");
}

static void
test_abort(void **state)
{
	struct fixture *fx = *state;
	struct queue_file *qf;
	struct err err;
	char path[512];

	qf = queue_file_create(fx->ql, "incoming", 0600, &err);
	put(qf, 'T', "1 2");
	queue_file_abort(&qf);
	assert_null(qf);
	queue_file_abort(&qf);
	snprintf(path, sizeof(path), "%s/incoming", fx->dir);
	assert_string_equal(list_dir(path), "");
}

/* ------------------------------------------------------------------ */
/* Spare files                                                          */

/* A small committed message in queue; its ID into id, its inode back. */
static ino_t
small_message(struct fixture *fx, const char *queue, const char *text,
	      char *id)
{
	struct queue_file *qf;
	struct err err;
	char path[512];
	struct stat st;

	qf = queue_file_create(fx->ql, "incoming", 0600, &err);
	assert_non_null(qf);
	put(qf, REC_TYPE_TIME, "1795368480 627653");
	put(qf, REC_TYPE_FROM, "a@example.com");
	put(qf, REC_TYPE_RCPT, "b@example.com");
	put(qf, REC_TYPE_MESG, "");
	assert_int_equal(queue_file_put_line(qf, text, strlen(text), &err), 0);
	strcpy(id, queue_file_id(qf));
	assert_int_equal(queue_file_commit(&qf, &err), 0);
	if (strcmp(queue, "incoming") != 0)
		assert_int_equal(queue_file_move(fx->ql, "incoming", queue, id,
						 &err),
				 0);
	snprintf(path, sizeof(path), "%s/%s/%s", fx->dir, queue, id);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

static int
count_spares(const char *dir)
{
	char path[512];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "%s/incoming", dir);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, QUEUE_FILE_SPARE_PREFIX,
			    strlen(QUEUE_FILE_SPARE_PREFIX)) == 0)
			n++;
	closedir(d);
	return n;
}

/* A retired file becomes a spare without the completion mark; the next
 * incoming file reuses its inode and is cut to its own length. */
static void
test_spare_reuse(void **state)
{
	struct fixture *fx = *state;
	char big[3000], id[QUEUE_ID_SIZE], id2[QUEUE_ID_SIZE], path[512];
	struct collect c;
	ino_t ino, ino2;
	struct err err;
	struct stat st;

	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	fx->ql->spare_slots = 1; /* no chance in the choice of slot */
	ino = small_message(fx, "active", big, id);
	assert_int_equal(queue_file_retire(fx->ql, "active", id, true, NULL, &err), 0);
	snprintf(path, sizeof(path), "%s/active", fx->dir);
	assert_string_equal(list_dir(path), "");
	assert_int_equal(count_spares(fx->dir), 1);
	ino2 = small_message(fx, "incoming", "short", id2);
	assert_true(ino2 == ino);
	assert_string_not_equal(id, id2);
	assert_int_equal(count_spares(fx->dir), 0);
	snprintf(path, sizeof(path), "%s/incoming/%s", fx->dir, id2);
	assert_int_equal(file_mode(path), 0700);
	assert_string_equal(walk_path(path, 0, &c, NULL),
			    "OK:C0@0|T0@97:1795368480 627653|"
			    "S0@116:a@example.com|R0@131:b@example.com|"
			    "M1@146:|N1@148:5|X2@155:|E3@157:|");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 159); /* nothing of the old content */
	/* A file that is gone cannot be retired. */
	assert_int_equal(queue_file_retire(fx->ql, "active", id, true, NULL, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(err.text, "remove "));
}

/* Spares are kept up to a bound; the rest are removed. */
static void
test_spare_bound(void **state)
{
	struct fixture *fx = *state;
	char id[QUEUE_ID_SIZE], path[512];
	struct err err;

	for (int i = 0; i < 10 * QUEUE_SPARE_SLOTS; i++) {
		(void)small_message(fx, "active", "x", id);
		assert_int_equal(queue_file_retire(fx->ql, "active", id, true, NULL, &err),
				 0);
	}
	snprintf(path, sizeof(path), "%s/active", fx->dir);
	assert_string_equal(list_dir(path), "");
	assert_true(count_spares(fx->dir) <= QUEUE_SPARE_SLOTS);
	assert_true(count_spares(fx->dir) > 0);
	/* A big file is removed, not kept. */
	{
		char big[QUEUE_SPARE_SIZE_MAX + 1];
		ino_t ino;

		memset(big, 'b', sizeof(big) - 1);
		big[sizeof(big) - 1] = 0;
		ino = small_message(fx, "active", big, id);
		assert_int_equal(queue_file_retire(fx->ql, "active", id, true, NULL, &err),
				 0);
		snprintf(path, sizeof(path), "%s/active", fx->dir);
		assert_string_equal(list_dir(path), "");
		for (unsigned slot = 0; slot < QUEUE_SPARE_SLOTS; slot++) {
			struct stat st;

			snprintf(path, sizeof(path), "%s/incoming/%s%u",
				 fx->dir, QUEUE_FILE_SPARE_PREFIX, slot);
			assert_false(stat(path, &st) == 0 && st.st_ino == ino);
		}
	}
	/* Without slots, files are removed. */
	fx->ql->spare_slots = 0;
	(void)small_message(fx, "active", "x", id);
	assert_int_equal(queue_file_retire(fx->ql, "active", id, true, NULL, &err), 0);
	snprintf(path, sizeof(path), "%s/active", fx->dir);
	assert_string_equal(list_dir(path), "");
}

/* A full pool is reported; without try_spare a file is simply removed. */
static void
test_spare_pool_full(void **state)
{
	struct fixture *fx = *state;
	char id[QUEUE_ID_SIZE], path[512];
	bool is_full = true;
	struct err err;

	char id2[QUEUE_ID_SIZE], id3[QUEUE_ID_SIZE];

	fx->ql->spare_slots = 1;
	(void)small_message(fx, "active", "x", id);
	(void)small_message(fx, "active", "x", id2);
	(void)small_message(fx, "active", "x", id3);
	assert_int_equal(
		queue_file_retire(fx->ql, "active", id, true, &is_full, &err),
		0);
	assert_false(is_full);
	assert_int_equal(count_spares(fx->dir), 1);
	assert_int_equal(
		queue_file_retire(fx->ql, "active", id2, true, &is_full, &err),
		0);
	assert_true(is_full);
	assert_int_equal(count_spares(fx->dir), 1);
	/* Not asked to try: removed, even with a slot free, and the pool is
	 * not called full. */
	fx->ql->spare_slots = 2;
	assert_int_equal(
		queue_file_retire(fx->ql, "active", id3, false, &is_full, &err),
		0);
	assert_false(is_full);
	snprintf(path, sizeof(path), "%s/active", fx->dir);
	assert_string_equal(list_dir(path), "");
	assert_int_equal(count_spares(fx->dir), 1);
}

/* Whatever sits in a spare slot and is not a plain unmarked file of ours,
 * or is locked by another writer, is never taken. */
static void
test_spare_refused(void **state)
{
	struct fixture *fx = *state;
	char path[512], id[QUEUE_ID_SIZE];
	ino_t inos[QUEUE_SPARE_SLOTS];
	int locked_fd = -1;
	ino_t ino;

	for (int slot = 0; slot < QUEUE_SPARE_SLOTS; slot++) {
		struct stat st;
		int fd;

		snprintf(path, sizeof(path), "%s/incoming/%s%d", fx->dir,
			 QUEUE_FILE_SPARE_PREFIX, slot);
		switch (slot % 4) {
		case 0: /* marked complete */
			fd = open(path, O_RDWR | O_CREAT, 0700);
			break;
		case 1: /* a directory */
			assert_int_equal(mkdir(path, 0700), 0);
			fd = open(path, O_RDONLY);
			break;
		case 2: /* a symbolic link to a plain file */
			fd = open("/dev/null", O_RDONLY);
			assert_int_equal(symlink("/tmp", path), 0);
			break;
		default: /* locked by its writer */
			fd = open(path, O_RDWR | O_CREAT, 0600);
			break;
		}
		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &st), 0);
		inos[slot] = st.st_ino;
		if (slot == 3)
			locked_fd = fd; /* one kept open and locked */
		else
			close(fd);
	}
	assert_int_equal(flock(locked_fd, LOCK_EX), 0);
	for (int slot = 7; slot < QUEUE_SPARE_SLOTS; slot += 4) {
		snprintf(path, sizeof(path), "%s/incoming/%s%d", fx->dir,
			 QUEUE_FILE_SPARE_PREFIX, slot);
		assert_int_equal(chmod(path, 0700), 0); /* marked too */
	}
	for (int i = 0; i < 20; i++) {
		ino = small_message(fx, "incoming", "x", id);
		for (int slot = 0; slot < QUEUE_SPARE_SLOTS; slot++)
			assert_true(ino != inos[slot]);
	}
	assert_int_equal(count_spares(fx->dir), QUEUE_SPARE_SLOTS);
	close(locked_fd);
}

static void
test_put_errors(void **state)
{
	struct fixture *fx = *state;
	struct queue_file *qf;
	struct err err;
	char *big = calloc(1, QUEUE_FILE_RECORD_LIMIT + 1);
	char want[600];

	qf = queue_file_create(fx->ql, "incoming", 0600, &err);
	assert_int_equal(queue_file_put(qf, 'R', "a\0b", 3, &err), -1);
	snprintf(want, sizeof(want), "%s: NUL byte in recipient record",
		 queue_file_path(qf));
	assert_string_equal(err.text, want);
	assert_int_equal(queue_file_put_attr(qf, "client_name", "x\0", &err),
			 0); /* the value stops at its NUL */
	/* Nothing is written that the reader would refuse. */
	assert_int_equal(queue_file_put_str(qf, 'T', "abc", &err), -1);
	snprintf(want, sizeof(want), "%s: malformed arrival time record",
		 queue_file_path(qf));
	assert_string_equal(err.text, want);
	assert_int_equal(queue_file_put_str(qf, 'W', "5", &err), -1);
	snprintf(want, sizeof(want), "%s: malformed warning time record",
		 queue_file_path(qf));
	assert_string_equal(err.text, want);
	assert_int_equal(queue_file_put_str(qf, 'n', "", &err), -1);
	snprintf(want, sizeof(want), "%s: malformed dsn_notify_flags record",
		 queue_file_path(qf));
	assert_string_equal(err.text, want);
	assert_int_equal(queue_file_put_attr(qf, "bad name", "v", &err), -1);
	snprintf(want, sizeof(want),
		 "%s: malformed named attribute: bad attribute name",
		 queue_file_path(qf));
	assert_string_equal(err.text, want);
	assert_int_equal(queue_file_put_str(qf, 'A', "novalue", &err), -1);
	snprintf(want, sizeof(want),
		 "%s: malformed named attribute: missing '=' after attribute "
		 "name",
		 queue_file_path(qf));
	assert_string_equal(err.text, want);
	assert_int_equal(
		queue_file_put(qf, 'S', big, QUEUE_FILE_RECORD_LIMIT + 1, &err),
		-1);
	snprintf(want, sizeof(want),
		 "%s: record too long (1048577 bytes, limit 1048576)",
		 queue_file_path(qf));
	assert_string_equal(err.text, want);
	assert_int_equal(queue_file_tell(qf),
			 97 + (off_t)record_size(strlen("client_name=x")));
	queue_file_abort(&qf);
	free(big);
}

static void
test_create_errors(void **state)
{
	struct fixture *fx = *state;
	struct err err;
	char want[600];

	assert_null(queue_file_create(fx->ql, "nosuch", 0600, &err));
	assert_true(strncmp(err.text, "create ", 7) == 0);
	snprintf(want, sizeof(want), "%s/nosuch/tmp.", fx->dir);
	assert_non_null(strstr(err.text, want));
	assert_non_null(strstr(err.text, ": No such file or directory"));
}

static void
test_long_ids_hashed(void **state)
{
	struct fixture *fx = *state;
	struct queue_layout *ql =
		queue_layout_create(fx->dir, "incoming deferred", 2, true);
	struct queue_file *qf;
	struct strbuf rel;
	struct err err;
	char want[512];

	qf = queue_file_create(ql, "incoming", 0600, &err);
	assert_non_null(qf);
	assert_true(queue_id_is_long(queue_file_id(qf)));
	strbuf_init(&rel, STRBUF_UNLIMITED);
	queue_id_hash(queue_file_id(qf), 2, &rel);
	snprintf(want, sizeof(want), "%s/incoming/%s%s", fx->dir, rel.data,
		 queue_file_id(qf));
	assert_string_equal(queue_file_path(qf), want);
	strbuf_reset(&rel);
	queue_file_relpath(ql, "incoming", queue_file_id(qf), &rel);
	assert_string_equal(want + strlen(fx->dir) + 1, rel.data);
	strbuf_reset(&rel);
	queue_file_relpath(ql, "active", queue_file_id(qf), &rel);
	snprintf(want, sizeof(want), "active/%s", queue_file_id(qf));
	assert_string_equal(rel.data, want);
	strbuf_deinit(&rel);
	queue_file_abort(&qf);
	queue_layout_destroy(&ql);
}

/* A committed file with the standard message, in queue; returns its ID. */
static void
make_file(struct fixture *fx, const char *queue, char *id_out, char *path_out)
{
	struct queue_file *qf;
	struct err err;

	qf = queue_file_create(fx->ql, queue, 0600, &err);
	assert_non_null(qf);
	write_message(qf);
	strcpy(id_out, queue_file_id(qf));
	strcpy(path_out, queue_file_path(qf));
	assert_int_equal(queue_file_commit(&qf, &err), 0);
}

static void
test_move(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct strbuf path;
	struct err err;
	char id[QUEUE_ID_SIZE];
	char first[512];
	char want[1024];
	int fd;

	make_file(fx, "incoming", id, first);
	assert_int_equal(
		queue_file_move(fx->ql, "incoming", "deferred", id, &err), 0);
	strbuf_init(&path, STRBUF_UNLIMITED);
	queue_file_fullpath(fx->ql, "deferred", id, &path);
	snprintf(want, sizeof(want), "%s/deferred/%c/%s", fx->dir, id[0], id);
	assert_string_equal(path.data, want);
	assert_int_equal(file_mode(path.data), 0700);
	assert_string_equal(walk_path(path.data, 0, &c, NULL) + 0,
			    "OK:C0@0|"
			    "T0@97:1795368480 627653|A0@116:create_time="
			    "1795368484|i0@140:envid123|<0@150:2|S0@153:alice@"
			    "example.com|W0@172:              0|n0@189:10|o0@19"
			    "3:rfc822;bob@example.org|O0@217:bob@example.org|R"
			    "0@234:bob@example.org|R0@251:carol@example.net|M1"
			    "@270:|N1@272:11|N1@285:0|L1@287:2048|L1@2338:2048"
			    "|N1@4389:904|N1@5296:3|X2@5301:|A2@5303:foo=bar|R"
			    "2@5312:dave@example.com|E3@5330:|");
	assert_int_equal(
		queue_file_move(fx->ql, "deferred", "active", id, &err), 0);
	/* The source is gone now. */
	assert_int_equal(queue_file_move(fx->ql, "deferred", "hold", id, &err),
			 -1);
	snprintf(want, sizeof(want),
		 "rename %s/deferred/%c/%s to %s/hold/%s: No such file or "
		 "directory",
		 fx->dir, id[0], id, fx->dir, id);
	assert_string_equal(err.text, want);
	/* Never replaces a file of the same name. */
	snprintf(want, sizeof(want), "%s/hold/%s", fx->dir, id);
	fd = open(want, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(queue_file_move(fx->ql, "active", "hold", id, &err),
			 -1);
	assert_non_null(strstr(err.text, ": File exists"));
	strbuf_reset(&path);
	queue_file_fullpath(fx->ql, "active", id, &path);
	assert_int_equal(file_mode(path.data), 0700);
	strbuf_deinit(&path);
}

static void
test_mark_done(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct err err;
	struct stat before;
	struct stat after;
	char id[QUEUE_ID_SIZE];
	char path[512];
	char want[600];
	char *text;
	int fd;

	make_file(fx, "active", id, path);
	assert_non_null(
		strstr(walk_path(path, 0, &c, NULL), "R0@234:bob@example.org"));
	assert_int_equal(c.rcpt_count, 3);
	assert_int_equal(c.rcpt_offsets[0], 234);
	assert_int_equal(stat(path, &before), 0);
	fd = open(path, O_RDWR);
	assert_int_equal(queue_file_mark_done(fd, "f", 234, true, &err), 0);
	assert_int_equal(queue_file_mark_done(fd, "f", 5312, false, &err), 0);
	/* Done twice is fine; anything but a recipient is refused. */
	assert_int_equal(queue_file_mark_done(fd, "f", 234, false, &err), 0);
	assert_int_equal(queue_file_mark_done(fd, "f", 0, false, &err), -1);
	assert_string_equal(err.text,
			    "f: offset 0: not a recipient record (type 'C')");
	assert_int_equal(queue_file_mark_done(fd, "f", 235, false, &err), -1);
	assert_string_equal(
		err.text, "f: offset 235: not a recipient record (type 0x0f)");
	assert_int_equal(queue_file_mark_done(fd, "f", 99999, false, &err), -1);
	assert_string_equal(err.text,
			    "f: offset 99999: mark done: Input/output error");
	close(fd);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_size, after.st_size);
	assert_int_equal(after.st_mode & 07777, 0700);
	text = walk_path(path, 0, &c, NULL);
	assert_non_null(strstr(text, "|D0@234:bob@example.org|"
				     "R0@251:carol@example.net|"));
	assert_non_null(strstr(text, "|D2@5312:dave@example.com|"));
	snprintf(want, sizeof(want), "%s", text);
	assert_int_equal(c.rcpt_count, 3);
}

static void
test_rewrite(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct err err;
	char id[QUEUE_ID_SIZE];
	char path[512];
	char data[REC_WARN_LEN + 1];
	long long sec;
	int fd;

	make_file(fx, "active", id, path);
	walk_path(path, 0, &c, NULL);
	assert_int_equal(c.warn_offset, 172);
	snprintf(data, sizeof(data), REC_WARN_FORMAT, 1795368999LL);
	fd = open(path, O_RDWR);
	assert_int_equal(queue_file_rewrite(fd, "f", 172, REC_TYPE_WARN, data,
					    REC_WARN_LEN, &err),
			 0);
	assert_int_equal(
		queue_file_rewrite(fd, "f", 172, REC_TYPE_WARN, "1", 1, &err),
		-1);
	assert_string_equal(err.text,
			    "f: offset 172: not a 'W' record of 1 bytes");
	assert_int_equal(queue_file_rewrite(fd, "f", 153, REC_TYPE_WARN, data,
					    REC_WARN_LEN, &err),
			 -1);
	assert_string_equal(err.text,
			    "f: offset 153: not a 'W' record of 15 bytes");
	assert_int_equal(queue_file_rewrite(fd, "f", 99999, REC_TYPE_WARN, data,
					    REC_WARN_LEN, &err),
			 -1);
	assert_string_equal(err.text,
			    "f: offset 99999: not a 'W' record of 15 bytes");
	close(fd);
	assert_non_null(strstr(walk_path(path, 0, &c, NULL),
			       "|W0@172:     1795368999|"));
	assert_int_equal(queue_file_parse_warn(data, REC_WARN_LEN, &sec), 0);
	assert_int_equal(sec, 1795368999);
}

static void
test_find(void **state)
{
	struct fixture *fx = *state;
	static const char *const queues[] = { "maildrop", "incoming", "active",
					      "deferred", "hold",     NULL };
	struct strbuf rel;
	const char *queue = NULL;
	struct err err;
	char id[QUEUE_ID_SIZE];
	char path[512];
	char want[600];
	int fd = -1;

	make_file(fx, "hold", id, path);
	strbuf_init(&rel, STRBUF_UNLIMITED);
	strbuf_append_str(&rel, ">");
	assert_int_equal(
		queue_file_find(fx->ql, queues, id, &fd, &queue, &rel, &err),
		1);
	assert_string_equal(queue, "hold");
	snprintf(want, sizeof(want), ">hold/%s", id);
	assert_string_equal(rel.data, want);
	assert_true(fd >= 0);
	close(fd);
	/* Not there: 0, relpath unchanged. */
	assert_int_equal(queue_file_find(fx->ql, queues, "ABCDE1", &fd, &queue,
					 &rel, &err),
			 0);
	assert_string_equal(rel.data, want);
	/* A symbolic link in a queue is an error, not "not found". */
	snprintf(path, sizeof(path), "%s/deferred/A", fx->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/deferred/A/ABCDE1", fx->dir);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	strbuf_reset(&rel);
	assert_int_equal(queue_file_find(fx->ql, queues, "ABCDE1", &fd, &queue,
					 &rel, &err),
			 -1);
	snprintf(want, sizeof(want), "open %s: ", path);
	assert_true(strncmp(err.text, want, strlen(want)) == 0);
	strbuf_deinit(&rel);
}

static void
test_open(void **state)
{
	struct fixture *fx = *state;
	struct err err;
	char id[QUEUE_ID_SIZE];
	char path[512];
	char want[600];
	int fd;

	make_file(fx, "deferred", id, path);
	fd = queue_file_open(fx->ql, "deferred", id, O_RDWR, &err);
	assert_true(fd >= 0);
	assert_int_equal(queue_file_mark_done(fd, path, 234, false, &err), 0);
	close(fd);
	errno = 0;
	assert_int_equal(queue_file_open(fx->ql, "active", id, O_RDONLY, &err),
			 -1);
	assert_int_equal(errno, ENOENT);
	snprintf(want, sizeof(want),
		 "open %s/active/%s: No such file or "
		 "directory",
		 fx->dir, id);
	assert_string_equal(err.text, want);
	/* A directory in the way is not a queue file. */
	snprintf(path, sizeof(path), "%s/hold/%s", fx->dir, id);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(queue_file_open(fx->ql, "hold", id, O_RDONLY, &err),
			 -1);
	snprintf(want, sizeof(want), "open %s: not a regular file", path);
	assert_string_equal(err.text, want);
	rmdir(path);
}

static void
test_stale_and_names(void **state)
{
	struct stat st = { 0 };

	(void)state;
	st.st_mode = S_IFREG | 0600;
	st.st_mtime = 1000;
	assert_false(queue_file_is_marked(&st));
	assert_true(queue_file_is_stale_incomplete(&st, 1000 + 3601, 3600));
	assert_false(queue_file_is_stale_incomplete(&st, 1000 + 3600, 3600));
	assert_false(queue_file_is_stale_incomplete(&st, 500, 3600));
	st.st_mode = S_IFREG | 0700;
	assert_true(queue_file_is_marked(&st));
	assert_false(queue_file_is_stale_incomplete(&st, 100000, 3600));
	st.st_mode = S_IFDIR | 0700;
	assert_false(queue_file_is_marked(&st));
	assert_true(queue_file_is_temp_name("tmp.123.0badcafe"));
	assert_false(queue_file_is_temp_name("872B5A74A96"));
	assert_false(queue_file_is_temp_name("tmp"));
}

static void
test_layout_from_conf(void **state)
{
	struct fixture *fx = *state;
	struct mail_conf *conf = mail_conf_create(fx->dir);
	struct queue_layout *ql;
	struct err err;

	ql = queue_layout_from_conf(conf, &err);
	assert_non_null(ql);
	assert_string_equal(ql->queue_directory, "/var/spool/postfix");
	assert_int_equal(ql->hash_queue_names->count, 2);
	assert_string_equal(ql->hash_queue_names->items[0], "deferred");
	assert_string_equal(ql->hash_queue_names->items[1], "defer");
	assert_int_equal(ql->hash_queue_depth, 1);
	assert_false(ql->enable_long_queue_ids);
	assert_true(queue_layout_is_hashed(ql, "defer"));
	assert_false(queue_layout_is_hashed(ql, "incoming"));
	queue_layout_destroy(&ql);
	queue_layout_destroy(&ql);

	mail_conf_set(conf, "queue_directory", "/q");
	mail_conf_set(conf, "hash_queue_names", "incoming,active");
	mail_conf_set(conf, "hash_queue_depth", "3");
	mail_conf_set(conf, "enable_long_queue_ids", "yes");
	ql = queue_layout_from_conf(conf, &err);
	assert_non_null(ql);
	assert_string_equal(ql->queue_directory, "/q");
	assert_true(queue_layout_is_hashed(ql, "active"));
	assert_false(queue_layout_is_hashed(ql, "deferred"));
	assert_int_equal(ql->hash_queue_depth, 3);
	assert_true(ql->enable_long_queue_ids);
	queue_layout_destroy(&ql);

	mail_conf_set(conf, "hash_queue_depth", "17");
	assert_null(queue_layout_from_conf(conf, &err));
	assert_string_equal(err.text, "hash_queue_depth: 17 is more than 16");
	mail_conf_set(conf, "hash_queue_depth", "0");
	assert_null(queue_layout_from_conf(conf, &err));
	mail_conf_set(conf, "hash_queue_depth", "1");
	mail_conf_set(conf, "enable_long_queue_ids", "maybe");
	assert_null(queue_layout_from_conf(conf, &err));
	assert_string_equal(err.text, "bad boolean configuration: "
				      "enable_long_queue_ids = maybe");
	mail_conf_destroy(&conf);
}

/* ------------------------------------------------------------------ */
/* Unique IDs under a clock the test controls                          */

struct fake_clock {
	struct fixture *fx;
	const char *occupy_queue; /* plant a file with the next ID here */
	int occupy_calls;         /* for this many calls */
	int calls;
	bool want_long;
	char last_id[QUEUE_ID_SIZE];
};

/*
 * Inode of the file the writer is creating in incoming: an unnamed file
 * ("incoming/#INODE (deleted)" in /proc/self/fd) or a tmp.* file.
 */
static unsigned long long
temp_inode(struct fixture *fx)
{
	char prefix[512];
	char target[1024];
	char link[64];
	struct dirent *de;
	struct stat st;
	DIR *dir = opendir("/proc/self/fd");

	assert_non_null(dir);
	snprintf(prefix, sizeof(prefix), "%s/incoming/", fx->dir);
	while ((de = readdir(dir)) != NULL) {
		ssize_t n;
		const char *name;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", de->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (strncmp(target, prefix, strlen(prefix)) != 0)
			continue;
		name = target + strlen(prefix);
		if (name[0] == '#' || queue_file_is_temp_name(name))
			break;
	}
	assert_non_null(de);
	assert_int_equal(fstat(atoi(de->d_name), &st), 0);
	closedir(dir);
	return (unsigned long long)st.st_ino;
}

static void
fake_clock_fn(struct timespec *ts, void *ctx)
{
	struct fake_clock *fc = ctx;
	struct strbuf path;
	char dir[600];
	int fd;

	fc->calls++;
	ts->tv_sec = 1795368480;
	ts->tv_nsec = (long)fc->calls * 1000;
	queue_id_format(fc->last_id, fc->want_long, ts->tv_sec, fc->calls,
			temp_inode(fc->fx));
	if (fc->calls > fc->occupy_calls)
		return;
	strbuf_init(&path, STRBUF_UNLIMITED);
	queue_file_fullpath(fc->fx->ql, fc->occupy_queue, fc->last_id, &path);
	snprintf(dir, sizeof(dir), "%.*s",
		 (int)(strrchr(path.data, '/') - path.data), path.data);
	mkdir(dir, 0700);
	fd = open(path.data, O_CREAT | O_EXCL | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	strbuf_deinit(&path);
}

static void
check_collision(struct fixture *fx, const char *queue)
{
	struct fake_clock fc = { .fx = fx,
				 .occupy_queue = queue,
				 .occupy_calls = 2 };
	struct queue_file *qf;
	struct err err;

	fx->ql->clock_fn = fake_clock_fn;
	fx->ql->clock_ctx = &fc;
	qf = queue_file_create(fx->ql, "incoming", 0600, &err);
	assert_non_null(qf);
	assert_int_equal(fc.calls, 3);
	assert_string_equal(queue_file_id(qf), fc.last_id);
	assert_int_equal(strncmp(fc.last_id, "00003", 5), 0);
	queue_file_abort(&qf);
	fx->ql->clock_fn = NULL;
}

static void
test_id_collision_same_queue(void **state)
{
	struct fixture *fx = *state;
	char path[512];
	char *names;

	check_collision(fx, "incoming");
	/* Only the two planted files are left, and no temporary file. */
	snprintf(path, sizeof(path), "%s/incoming", fx->dir);
	names = list_dir(path);
	assert_int_equal(strncmp(names, "00001", 5), 0);
	assert_non_null(strstr(names, ",00002"));
	assert_null(strstr(names, "tmp."));
	{
		int commas = 0;

		for (const char *p = names; *p; p++)
			commas += *p == ',';
		assert_int_equal(commas, 2);
	}
}

static void
test_id_collision_other_queues(void **state)
{
	struct fixture *fx = *state;
	char path[512];

	check_collision(fx, "hold");
	check_collision(fx, "deferred"); /* hashed */
	check_collision(fx, "maildrop");
	snprintf(path, sizeof(path), "%s/incoming", fx->dir);
	assert_string_equal(list_dir(path), "");
}

/* The same, the way taken where O_TMPFILE is missing: tmp.* and rename. */
static void
test_id_collision_named(void **state)
{
	struct fixture *fx = *state;
	char path[512];

	fx->ql->named_files_only = true;
	test_id_collision_same_queue(state);
	check_collision(fx, "deferred");
	snprintf(path, sizeof(path), "%s/incoming", fx->dir);
	assert_null(strstr(list_dir(path), "tmp."));
}

/* Every ID is taken: an error, and nothing is left behind. */
static void
check_no_free_id(struct fixture *fx, bool named_files_only,
		 const char *where)
{
	struct fake_clock fc = { .fx = fx,
				 .occupy_queue = "hold",
				 .occupy_calls = INT_MAX,
				 .want_long = true };
	struct queue_layout *ql =
		queue_layout_create(fx->dir, "deferred", 1, true);
	struct err err;
	char path[512];

	ql->clock_fn = fake_clock_fn;
	ql->clock_ctx = &fc;
	ql->named_files_only = named_files_only;
	queue_layout_destroy(&fx->ql);
	fx->ql = ql;
	assert_null(queue_file_create(ql, "incoming", 0600, &err));
	assert_int_equal(fc.calls, 1000);
	assert_non_null(strstr(err.text, where));
	assert_non_null(
		strstr(err.text, ": no free queue ID after 1000 attempts"));
	snprintf(path, sizeof(path), "%s/incoming", fx->dir);
	assert_string_equal(list_dir(path), "");
	ql->clock_fn = NULL;
}

static void
test_no_free_id(void **state)
{
	check_no_free_id(*state, false, "/incoming: no free queue ID");
}

static void
test_no_free_id_named(void **state)
{
	check_no_free_id(*state, true, "/incoming/tmp.");
}

static void
test_skip_content_records(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	char id[QUEUE_ID_SIZE];
	char path[512];
	char *text;

	make_file(fx, "active", id, path);
	text = walk_path(path, QUEUE_WALK_SKIP_CONTENT, &c, NULL);
	assert_non_null(strstr(text, "|M1@270:|X2@5301:|"));
}

static int
stop_at_sender(const struct queue_record *rec, void *ctx, struct err *err)
{
	int *seen = ctx;

	(*seen)++;
	if (rec->type == REC_TYPE_FROM) {
		err_set(err, "stop at %lld", (long long)rec->offset);
		return -1;
	}
	return 0;
}

static void
test_callback_stops(void **state)
{
	struct fixture *fx = *state;
	struct err err;
	char id[QUEUE_ID_SIZE];
	char path[512];
	int seen = 0;
	int fd;

	make_file(fx, "active", id, path);
	fd = open(path, O_RDONLY);
	assert_int_equal(
		queue_file_walk(fd, "f", 0, stop_at_sender, &seen, NULL, &err),
		-1);
	assert_string_equal(err.text, "stop at 153");
	assert_int_equal(seen, 6);
	/* The caller's descriptor stays open. */
	assert_true(fcntl(fd, F_GETFD) >= 0);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_golden_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_commit_empty_content,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spare_reuse, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_spare_bound, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_spare_pool_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_spare_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_abandoned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_put_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_long_ids_hashed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_move, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_done, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rewrite, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test(test_stale_and_names),
		cmocka_unit_test_setup_teardown(test_layout_from_conf, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_id_collision_same_queue,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_collision_other_queues,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_id_collision_named, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_free_id_named, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_free_id, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_skip_content_records,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_stops, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
