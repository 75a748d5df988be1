/*
 * test_msg_log.c - unit tests for the per-message bounce/defer/trace logs:
 * append and read back in a temporary queue (defer/ hashed, so the hash
 * directories get created), the exact file text, line ends in values,
 * unknown names, every reason the parser gives, the entry limit, and
 * exists/remove/read on missing or odd files.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../remove_tree.h"

#include "global/msg_log.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "util/mymalloc.h"
#include "util/safe_open.h"
#include "util/strbuf.h"

struct fixture {
	char dir[64];
	struct queue_layout *ql;
	char id[QUEUE_ID_SIZE];
	char path[256]; /* DIR/defer/H/ID */
};

static int
setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));

	strcpy(fx->dir, "/tmp/test_msg_log.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	fx->ql = queue_layout_create(fx->dir, "deferred, defer", 1, false);
	/* Microseconds 0xB1234: the hash directory is "B". */
	queue_id_format(fx->id, false, 1700000000, 0xB1234, 4711);
	snprintf(fx->path, sizeof(fx->path), "%s/defer/B/%s", fx->dir, fx->id);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	queue_layout_destroy(&fx->ql);
	remove_tree(fx->dir);
	free(fx);
	return 0;
}

static char *
file_text(const char *path)
{
	struct strbuf sb;
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);
	char *text;

	assert_true(fd >= 0);
	strbuf_init(&sb, STRBUF_UNLIMITED);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		strbuf_append(&sb, buf, (size_t)n);
	close(fd);
	text = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
	return text;
}

static void
file_write(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
}

/* ------------------------------------------------------------------ */
/* Collecting entries as one line each                                 */

struct collect {
	struct strbuf out;
	int calls;
	int fail_at; /* 1-based call that returns -1; 0: never */
};

static int
collect_entry(const struct msg_log_entry *e, void *ctx, struct err *err)
{
	struct collect *c = ctx;

	c->calls++;
	if (c->calls == c->fail_at) {
		err_set(err, "callback says no");
		return -1;
	}
	strbuf_printf(&c->out, "%s|%s|%lld|%s|%d|%s|%s|%s|%s|%s|%s|%lld\n",
		      e->recipient, e->orig_rcpt, (long long)e->offset,
		      e->dsn_orcpt, e->notify_flags, e->status, e->action,
		      e->reason, e->relay, e->dsn_mta, e->diag_text,
		      (long long)e->when);
	return 0;
}

static void
collect_init(struct collect *c)
{
	memset(c, 0, sizeof(*c));
	strbuf_init(&c->out, STRBUF_UNLIMITED);
}

static const struct msg_log_entry full_entry = {
	.recipient = "user@example.com",
	.orig_rcpt = "alias@example.com",
	.offset = 1234,
	.dsn_orcpt = "rfc822;alias@example.com",
	.notify_flags = 6,
	.status = "5.1.1",
	.action = "failed",
	.reason = "unknown user: \"user\"",
	.relay = "local",
	.dsn_mta = "dns; mx.example.com",
	.diag_text = "smtp; 550 5.1.1 no such user",
	.when = 1700000123,
};

static const struct msg_log_entry small_entry = {
	.recipient = "b@example.org",
	.orig_rcpt = "b@example.org", /* same: not written */
	.offset = -1,                 /* unknown: not written */
	.status = "4.4.1",
	.action = "delayed",
	.reason = "connection refused",
	.when = 1700000124,
};

static const char golden_text[] = "recipient=user@example.com\n"
				  "orig_rcpt=alias@example.com\n"
				  "offset=1234\n"
				  "dsn_orcpt=rfc822;alias@example.com\n"
				  "notify_flags=6\n"
				  "status=5.1.1\n"
				  "action=failed\n"
				  "reason=unknown user: \"user\"\n"
				  "relay=local\n"
				  "dsn_mta=dns; mx.example.com\n"
				  "diag_text=smtp; 550 5.1.1 no such user\n"
				  "time=1700000123\n"
				  "\n"
				  "recipient=b@example.org\n"
				  "notify_flags=0\n"
				  "status=4.4.1\n"
				  "action=delayed\n"
				  "reason=connection refused\n"
				  "time=1700000124\n"
				  "\n";

static const char golden_read[] =
	"user@example.com|alias@example.com|1234|rfc822;alias@example.com|6|"
	"5.1.1|failed|unknown user: \"user\"|local|dns; mx.example.com|"
	"smtp; 550 5.1.1 no such user|1700000123\n"
	"b@example.org||-1||0|4.4.1|delayed|connection refused||||1700000124\n";

/* ------------------------------------------------------------------ */
/* Append and read                                                     */

static void
test_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct collect c;
	struct err err;
	struct stat st;
	char *text;

	/* Neither defer/ nor defer/B/ exists yet. */
	assert_false(msg_log_exists(fx->ql, MSG_LOG_DEFER, fx->id));
	assert_int_equal(msg_log_append(fx->ql, MSG_LOG_DEFER, fx->id,
					&full_entry, true, &err),
			 0);
	assert_int_equal(msg_log_append(fx->ql, MSG_LOG_DEFER, fx->id,
					&small_entry, false, &err),
			 0);
	assert_true(msg_log_exists(fx->ql, MSG_LOG_DEFER, fx->id));
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	text = file_text(fx->path);
	assert_string_equal(text, golden_text);
	free(text);

	collect_init(&c);
	assert_int_equal(msg_log_read(fx->ql, MSG_LOG_DEFER, fx->id,
				      collect_entry, &c, &err),
			 2);
	assert_string_equal(strbuf_text(&c.out), golden_read);
	strbuf_deinit(&c.out);

	/* The same text parsed from memory, and with no callback. */
	collect_init(&c);
	assert_int_equal(msg_log_parse(golden_text, strlen(golden_text), "x",
				       collect_entry, &c, &err),
			 2);
	assert_string_equal(strbuf_text(&c.out), golden_read);
	strbuf_deinit(&c.out);
	assert_int_equal(msg_log_parse(golden_text, strlen(golden_text), "x",
				       NULL, NULL, &err),
			 2);
}

/* Unhashed logs live right in their queue directory. */
static void
test_unhashed_log(void **state)
{
	struct fixture *fx = *state;
	char path[256];
	struct err err;
	char *text;

	assert_int_equal(msg_log_append(fx->ql, MSG_LOG_BOUNCE, fx->id,
					&small_entry, true, &err),
			 0);
	snprintf(path, sizeof(path), "%s/bounce/%s", fx->dir, fx->id);
	text = file_text(path);
	assert_string_equal(text, "recipient=b@example.org\n"
				  "notify_flags=0\n"
				  "status=4.4.1\n"
				  "action=delayed\n"
				  "reason=connection refused\n"
				  "time=1700000124\n\n");
	free(text);
	assert_true(msg_log_exists(fx->ql, MSG_LOG_BOUNCE, fx->id));
	assert_false(msg_log_exists(fx->ql, MSG_LOG_TRACE, fx->id));
}

static void
test_newlines_flattened(void **state)
{
	struct fixture *fx = *state;
	struct msg_log_entry e = small_entry;
	struct collect c;
	struct err err;

	e.reason = "line one\nline two\r\nthree";
	e.diag_text = "smtp; 550-first\r\n550 second";
	assert_int_equal(
		msg_log_append(fx->ql, MSG_LOG_TRACE, fx->id, &e, false, &err),
		0);
	collect_init(&c);
	assert_int_equal(msg_log_read(fx->ql, MSG_LOG_TRACE, fx->id,
				      collect_entry, &c, &err),
			 1);
	assert_string_equal(strbuf_text(&c.out),
			    "b@example.org||-1||0|4.4.1|delayed|"
			    "line one line two  three|||"
			    "smtp; 550-first  550 second|1700000124\n");
	strbuf_deinit(&c.out);
}

/* Lengths of the fields of each entry read, as "reason,diag_text;". */
static int
collect_lengths(const struct msg_log_entry *e, void *ctx, struct err *err)
{
	(void)err;
	strbuf_printf(ctx, "%zu,%zu,%zu;", strlen(e->recipient),
		      strlen(e->reason), strlen(e->diag_text));
	return 0;
}

/* A value too long for one line is cut so that readers still take it. */
static void
test_long_value(void **state)
{
	struct fixture *fx = *state;
	struct msg_log_entry e = full_entry;
	char *huge = xmalloc(3 * MSG_LOG_LINE_MAX);
	struct strbuf lengths;
	struct err err;
	char want[128];

	memset(huge, 'x', 3 * MSG_LOG_LINE_MAX - 1);
	huge[3 * MSG_LOG_LINE_MAX - 1] = 0;
	/* Every field at its longest at once. */
	e.recipient = e.orig_rcpt = e.dsn_orcpt = e.reason = e.relay =
		e.dsn_mta = e.diag_text = e.action = e.status = huge;
	assert_int_equal(
		msg_log_append(fx->ql, MSG_LOG_DEFER, fx->id, &e, false, &err),
		0);
	assert_int_equal(msg_log_append(fx->ql, MSG_LOG_DEFER, fx->id,
					&small_entry, false, &err),
			 0);
	strbuf_init(&lengths, STRBUF_UNLIMITED);
	assert_int_equal(msg_log_read(fx->ql, MSG_LOG_DEFER, fx->id,
				      collect_lengths, &lengths, &err),
			 2);
	/* "name=" plus the value fills a line of MSG_LOG_LINE_MAX. */
	snprintf(want, sizeof(want), "%d,%d,%d;13,18,0;", MSG_LOG_LINE_MAX - 10,
		 MSG_LOG_LINE_MAX - 7, MSG_LOG_LINE_MAX - 10);
	assert_string_equal(strbuf_text(&lengths), want);
	strbuf_deinit(&lengths);
	free(huge);
}

static void
test_unknown_names_skipped(void **state)
{
	static const char text[] = "future=something\n"
				   "recipient=a@b\n"
				   "x=\n"
				   "status=2.0.0\n"
				   "reason=a=b=c\n"
				   "relay=\n"
				   "\n"
				   "\n";
	struct collect c;
	struct err err;

	(void)state;
	collect_init(&c);
	assert_int_equal(
		msg_log_parse(text, strlen(text), "x", collect_entry, &c, &err),
		1);
	assert_string_equal(strbuf_text(&c.out),
			    "a@b||-1||0|2.0.0||a=b=c||||0\n");
	strbuf_deinit(&c.out);
}

static void
test_empty_logs(void **state)
{
	static const char *const texts[] = { "", "\n", "\n\n\n" };
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		assert_int_equal(msg_log_parse(texts[i], strlen(texts[i]), "x",
					       NULL, NULL, &err),
				 0);
}

/* ------------------------------------------------------------------ */
/* Parser errors                                                        */

struct parse_case {
	const char *text;
	const char *reason;
};

static const struct parse_case parse_cases[] = {
	{ "recipient=a\nstatus=5.0.0\n\nrecipient=b",
	  "NAME: line 4: missing newline at the end of the file" },
	{ "recipient=a",
	  "NAME: line 1: missing newline at the end of the file" },
	{ "garbage\n", "NAME: line 1: malformed line (expected name=value)" },
	{ "recipient=a\n=b\n\n",
	  "NAME: line 2: malformed line (expected name=value)" },
	{ "recipient=a\nstatus=5.0.0\n \n",
	  "NAME: line 3: malformed line (expected name=value)" },
	{ "status=5.0.0\n\n", "NAME: line 2: entry without recipient" },
	{ "recipient=a\n\n", "NAME: line 2: entry without status" },
	{ "action=failed\n\n", "NAME: line 2: entry without recipient" },
	{ "recipient=a\nstatus=5.0.0\noffset=x\n\n",
	  "NAME: line 4: malformed number" },
	{ "recipient=a\nstatus=5.0.0\noffset=\n\n",
	  "NAME: line 4: malformed number" },
	{ "recipient=a\nstatus=5.0.0\noffset=12x\n\n",
	  "NAME: line 4: malformed number" },
	{ "recipient=a\nstatus=5.0.0\noffset=-2\n\n",
	  "NAME: line 4: malformed number" },
	{ "recipient=a\nstatus=5.0.0\noffset=99999999999999999999\n\n",
	  "NAME: line 4: malformed number" },
	{ "recipient=a\nstatus=5.0.0\nnotify_flags=16\n\n",
	  "NAME: line 4: malformed number" },
	{ "recipient=a\nstatus=5.0.0\nnotify_flags=-1\n\n",
	  "NAME: line 4: malformed number" },
	{ "recipient=a\nstatus=5.0.0\ntime=1.5\n\n",
	  "NAME: line 4: malformed number" },
	{ "recipient=a\nstatus=5.0.0\ntime=-1\n\n",
	  "NAME: line 4: malformed number" },
	{ "recipient=a\nstatus=5.0.0\ntime=2000000000000\n\n",
	  "NAME: line 4: malformed number" },
	{ "recipient=a\nstatus=5.0.0\n",
	  "NAME: line 2: last entry is not ended by an empty line" },
	{ "recipient=a\nstatus=5.0.0\n\nrecipient=b\n",
	  "NAME: line 4: last entry is not ended by an empty line" },
};

static void
test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]);
	     i++) {
		const struct parse_case *pc = &parse_cases[i];
		struct collect c;
		struct err err;

		collect_init(&c);
		err_clear(&err);
		if (msg_log_parse(pc->text, strlen(pc->text), "NAME",
				  collect_entry, &c, &err) != -1)
			fail_msg("case %zu: parse did not fail", i);
		if (strcmp(err.text, pc->reason) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
				 err.text, pc->reason);
		strbuf_deinit(&c.out);
	}
}

static void
test_parse_nul_byte(void **state)
{
	static const char text[] = "recipient=a\0b\nstatus=5.0.0\n\n";
	struct err err;

	(void)state;
	assert_int_equal(
		msg_log_parse(text, sizeof(text) - 1, "NAME", NULL, NULL, &err),
		-1);
	assert_string_equal(
		err.text, "NAME: line 1: malformed line (expected name=value)");
}

static void
test_parse_line_length(void **state)
{
	char *text = xmalloc(MSG_LOG_LINE_MAX + 64);
	struct err err;
	size_t len;

	(void)state;
	/* A line of exactly MSG_LOG_LINE_MAX bytes is fine... */
	strcpy(text, "reason=");
	len = strlen(text);
	memset(text + len, 'r', MSG_LOG_LINE_MAX - len);
	len = MSG_LOG_LINE_MAX;
	strcpy(text + len, "\nrecipient=a\nstatus=5.0.0\n\n");
	assert_int_equal(
		msg_log_parse(text, strlen(text), "NAME", NULL, NULL, &err), 1);
	/* ...one more byte is not. */
	memset(text, 'r', MSG_LOG_LINE_MAX + 1);
	memcpy(text, "reason=", 7);
	strcpy(text + MSG_LOG_LINE_MAX + 1, "\nrecipient=a\nstatus=5.0.0\n\n");
	assert_int_equal(
		msg_log_parse(text, strlen(text), "NAME", NULL, NULL, &err),
		-1);
	assert_string_equal(err.text,
			    "NAME: line 1: line longer than 8192 bytes");
	free(text);
}

static void
test_parse_callback_error(void **state)
{
	struct collect c;
	struct err err;

	(void)state;
	collect_init(&c);
	c.fail_at = 2;
	assert_int_equal(msg_log_parse(golden_text, strlen(golden_text), "x",
				       collect_entry, &c, &err),
			 -1);
	assert_string_equal(err.text, "callback says no");
	assert_int_equal(c.calls, 2);
	strbuf_deinit(&c.out);
}

static void
test_entry_limit(void **state)
{
	static const char one[] = "recipient=a\nstatus=2.0.0\n\n";
	size_t len = sizeof(one) - 1;
	char *text = xmalloc(len * (MSG_LOG_ENTRY_MAX + 1) + 1);
	struct err err;

	(void)state;
	for (size_t i = 0; i <= MSG_LOG_ENTRY_MAX; i++)
		memcpy(text + i * len, one, len);
	assert_int_equal(msg_log_parse(text, len * MSG_LOG_ENTRY_MAX, "NAME",
				       NULL, NULL, &err),
			 MSG_LOG_ENTRY_MAX);
	assert_int_equal(msg_log_parse(text, len * (MSG_LOG_ENTRY_MAX + 1),
				       "NAME", NULL, NULL, &err),
			 -1);
	assert_string_equal(err.text,
			    "NAME: line 600003: more than 200000 entries");
	free(text);
}

/* ------------------------------------------------------------------ */
/* Files: missing, odd, exists, remove                                  */

static void
test_missing_log(void **state)
{
	struct fixture *fx = *state;
	struct collect c;
	struct err err;

	collect_init(&c);
	assert_int_equal(msg_log_read(fx->ql, MSG_LOG_DEFER, fx->id,
				      collect_entry, &c, &err),
			 0);
	assert_int_equal(c.calls, 0);
	strbuf_deinit(&c.out);
	assert_false(msg_log_exists(fx->ql, MSG_LOG_DEFER, fx->id));
	assert_int_equal(msg_log_remove(fx->ql, MSG_LOG_DEFER, fx->id, &err),
			 0);
}

static void
test_remove(void **state)
{
	struct fixture *fx = *state;
	struct err err;

	assert_int_equal(msg_log_append(fx->ql, MSG_LOG_DEFER, fx->id,
					&small_entry, false, &err),
			 0);
	assert_true(msg_log_exists(fx->ql, MSG_LOG_DEFER, fx->id));
	assert_int_equal(msg_log_remove(fx->ql, MSG_LOG_DEFER, fx->id, &err),
			 0);
	assert_false(msg_log_exists(fx->ql, MSG_LOG_DEFER, fx->id));
	assert_int_equal(access(fx->path, F_OK), -1);
}

static void
test_read_damaged_file(void **state)
{
	struct fixture *fx = *state;
	char want[512];
	struct err err;

	assert_int_equal(msg_log_append(fx->ql, MSG_LOG_DEFER, fx->id,
					&small_entry, false, &err),
			 0);
	file_write(fx->path, "recipient=a\nstatus=4.0.0\n",
		   strlen("recipient=a\nstatus=4.0.0\n"));
	assert_int_equal(
		msg_log_read(fx->ql, MSG_LOG_DEFER, fx->id, NULL, NULL, &err),
		-1);
	snprintf(want, sizeof(want),
		 "%s: line 2: last entry is not ended by an empty line",
		 fx->path);
	assert_string_equal(err.text, want);
}

/* Work as root too: no permission tricks, only wrong kinds of files. */
static void
test_file_errors(void **state)
{
	struct fixture *fx = *state;
	char want[512], dir[256], other[256];
	struct err err;

	/* The log is a directory: not readable, not removable. */
	snprintf(dir, sizeof(dir), "%s/defer/B", fx->dir);
	assert_int_equal(mkdir_p(dir, 0700, &err), 0);
	assert_int_equal(mkdir(fx->path, 0700), 0);
	assert_int_equal(
		msg_log_read(fx->ql, MSG_LOG_DEFER, fx->id, NULL, NULL, &err),
		-1);
	snprintf(want, sizeof(want), "%s: not a regular file or too large",
		 fx->path);
	assert_string_equal(err.text, want);
	assert_int_equal(msg_log_remove(fx->ql, MSG_LOG_DEFER, fx->id, &err),
			 -1);
	snprintf(want, sizeof(want), "remove %s: %s", fx->path,
		 strerror(EISDIR));
	assert_string_equal(err.text, want);
	assert_int_equal(msg_log_append(fx->ql, MSG_LOG_DEFER, fx->id,
					&small_entry, false, &err),
			 -1);
	snprintf(want, sizeof(want), "append to %s: %s", fx->path,
		 strerror(EISDIR));
	assert_string_equal(err.text, want);
	assert_int_equal(rmdir(fx->path), 0);

	/* A symbolic link is never followed. */
	snprintf(other, sizeof(other), "%s/elsewhere", fx->dir);
	file_write(other, "recipient=a\nstatus=4.0.0\n\n", 26);
	assert_int_equal(symlink(other, fx->path), 0);
	assert_int_equal(
		msg_log_read(fx->ql, MSG_LOG_DEFER, fx->id, NULL, NULL, &err),
		-1);
	snprintf(want, sizeof(want), "open %s: %s", fx->path, strerror(ELOOP));
	assert_string_equal(err.text, want);
	assert_int_equal(msg_log_append(fx->ql, MSG_LOG_DEFER, fx->id,
					&small_entry, false, &err),
			 -1);
	snprintf(want, sizeof(want), "append to %s: %s", fx->path,
		 strerror(ELOOP));
	assert_string_equal(err.text, want);
	unlink(fx->path);

	/* The hash directory is a file. */
	assert_int_equal(rmdir(dir), 0);
	file_write(dir, "", 0);
	assert_int_equal(msg_log_append(fx->ql, MSG_LOG_DEFER, fx->id,
					&small_entry, false, &err),
			 -1);
	snprintf(want, sizeof(want), "append to %s: %s", fx->path,
		 strerror(ENOTDIR));
	assert_string_equal(err.text, want);
	assert_false(msg_log_exists(fx->ql, MSG_LOG_DEFER, fx->id));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unhashed_log, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_newlines_flattened, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_long_value, setup,
						teardown),
		cmocka_unit_test(test_unknown_names_skipped),
		cmocka_unit_test(test_empty_logs),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_nul_byte),
		cmocka_unit_test(test_parse_line_length),
		cmocka_unit_test(test_parse_callback_error),
		cmocka_unit_test(test_entry_limit),
		cmocka_unit_test_setup_teardown(test_missing_log, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_damaged_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_errors, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
