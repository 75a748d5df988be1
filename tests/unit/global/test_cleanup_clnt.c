/*
 * test_cleanup_clnt.c - unit tests for the cleanup client stub.
 *
 * A forked fake server listens on a UNIX socket in a temporary directory,
 * sends a scripted greeting, reads what the stub sends and answers. The
 * cases check the version check, a failed greeting, the exact bytes of a
 * submission (attribute message, then records) and the reply handling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "global/cleanup_clnt.h"
#include "global/record.h"
#include "util/attr.h"
#include "util/sockets.h"
#include "util/strbuf.h"

struct fake {
	char dir[64];
	char path[128];
	pid_t pid;
};

/* What the fake server sends first, and what it expects to read. */
struct script {
	struct strbuf greeting;
	struct strbuf expect; /* empty: read nothing, close */
	struct strbuf reply;  /* sent when the input matched */
};

static void
serve(int lfd, const struct script *sc)
{
	int fd = (sock_set_nonblock(lfd, false), accept(lfd, NULL, NULL));
	struct strbuf got;
	char buf[4096];
	ssize_t n;

	if (fd < 0 || write(fd, sc->greeting.data, sc->greeting.len) < 0)
		_exit(2);
	if (sc->expect.len == 0)
		_exit(0);
	strbuf_init(&got, STRBUF_UNLIMITED);
	while (got.len < sc->expect.len && (n = read(fd, buf, sizeof(buf))) > 0)
		(void)strbuf_append(&got, buf, (size_t)n);
	if (got.len != sc->expect.len ||
	    memcmp(got.data, sc->expect.data, got.len) != 0)
		_exit(3);
	if (write(fd, sc->reply.data, sc->reply.len) < 0)
		_exit(2);
	_exit(0);
}

static void
fake_start(struct fake *f, const struct script *sc)
{
	int lfd;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_cleanup_clnt.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/cleanup", f->dir);
	lfd = sock_listen_unix(f->path, 5, 0600, NULL);
	assert_true(lfd >= 0);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0)
		serve(lfd, sc);
	close(lfd);
}

static int
fake_stop(struct fake *f)
{
	int status = 0;

	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	unlink(f->path);
	rmdir(f->dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
greeting(struct strbuf *out, const char *proto, int version, int status,
	 const char *id)
{
	(void)attr_put_str(out, CLEANUP_ATTR_PROTOCOL, proto, NULL);
	(void)attr_put_int(out, CLEANUP_ATTR_VERSION, version, NULL);
	(void)attr_put_int(out, CLEANUP_ATTR_STATUS, status, NULL);
	if (id != NULL) {
		(void)attr_put_str(out, CLEANUP_ATTR_QUEUE_ID, id, NULL);
		(void)attr_put_int(out, CLEANUP_ATTR_LINE_LIMIT, 4, NULL);
	} else {
		(void)attr_put_int(out, CLEANUP_ATTR_CODE, 452, NULL);
		(void)attr_put_str(out, CLEANUP_ATTR_DSN, "4.3.1", NULL);
		(void)attr_put_str(out, CLEANUP_ATTR_REASON,
				   "insufficient system storage", NULL);
	}
	(void)attr_put_end(out, NULL);
}

static void
script_init(struct script *sc)
{
	strbuf_init(&sc->greeting, STRBUF_UNLIMITED);
	strbuf_init(&sc->expect, STRBUF_UNLIMITED);
	strbuf_init(&sc->reply, STRBUF_UNLIMITED);
}

static void
script_deinit(struct script *sc)
{
	strbuf_deinit(&sc->greeting);
	strbuf_deinit(&sc->expect);
	strbuf_deinit(&sc->reply);
}

static void
test_bad_greetings(void **state)
{
	static const struct {
		const char *proto;
		int version;
		int status;
		const char *id;
		const char *expect; /* after "PATH: " */
	} cases[] = {
		{ "cleanup", 2, 0, "ABC",
		  "unexpected protocol \"cleanup\" "
		  "version 2" },
		{ "qmgr", 1, 0, "ABC",
		  "unexpected protocol \"qmgr\" version 1" },
		{ "cleanup", 1, CLEANUP_STAT_WRITE, NULL,
		  "452 4.3.1 insufficient system storage" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct script sc;
		struct fake f;
		struct err err;
		struct cleanup_result res;
		char expect[512];

		script_init(&sc);
		greeting(&sc.greeting, cases[i].proto, cases[i].version,
			 cases[i].status, cases[i].id);
		fake_start(&f, &sc);
		assert_null(cleanup_open(f.path, 0, 5000, &res, &err));
		snprintf(expect, sizeof(expect), "%s: %s", f.path,
			 cases[i].expect);
		assert_string_equal(err.text, expect);
		if (cases[i].status != 0)
			assert_int_equal(res.code, 452);
		assert_int_equal(fake_stop(&f), 0);
		script_deinit(&sc);
	}
}

static void
test_connect_error(void **state)
{
	struct err err;

	(void)state;
	assert_null(cleanup_open("/nonexistent/cleanup", 0, 1000, NULL, &err));
	assert_string_equal(err.text, "connect to /nonexistent/cleanup: No "
				      "such file or directory");
}

static void
submission(struct script *sc, int status)
{
	greeting(&sc->greeting, "cleanup", 1, 0, "ABC");
	(void)attr_put_int(&sc->expect, CLEANUP_ATTR_FLAGS, 1, NULL);
	(void)attr_put_end(&sc->expect, NULL);
	(void)record_put_str(&sc->expect, 'T', "100 5");
	(void)record_put_str(&sc->expect, 'F', "Joe");
	(void)record_put_str(&sc->expect, 'S', "a@b");
	(void)record_put_str(&sc->expect, 'A', "client_name=x");
	(void)record_put_str(&sc->expect, 'O', "O@b");
	(void)record_put_str(&sc->expect, 'n', "6");
	(void)record_put_str(&sc->expect, 'o', "rfc822;O@b");
	(void)record_put_str(&sc->expect, 'R', "o@b");
	(void)record_put_str(&sc->expect, 'R', "p@b");
	(void)record_put_str(&sc->expect, 'M', "");
	(void)record_put_str(&sc->expect, 'N', "Sub");
	/* Each call is cut on its own; pieces are not merged across calls. */
	(void)record_put_str(&sc->expect, 'L', "0123");
	(void)record_put_str(&sc->expect, 'L', "4");
	(void)record_put_str(&sc->expect, 'L', "5678");
	(void)record_put_str(&sc->expect, 'N', "9");
	(void)record_put_str(&sc->expect, 'N', "");
	(void)record_put_str(&sc->expect, 'X', "");
	(void)record_put_str(&sc->expect, 'E', "");
	(void)attr_put_int(&sc->reply, CLEANUP_ATTR_STATUS, status, NULL);
	if (status != 0) {
		(void)attr_put_int(&sc->reply, CLEANUP_ATTR_CODE, 552, NULL);
		(void)attr_put_str(&sc->reply, CLEANUP_ATTR_DSN, "5.3.4", NULL);
		(void)attr_put_str(&sc->reply, CLEANUP_ATTR_REASON,
				   "message file too big", NULL);
	}
	(void)attr_put_end(&sc->reply, NULL);
}

static void
test_submission(void **state)
{
	static const int statuses[] = { 0, CLEANUP_STAT_SIZE };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct timespec ts = { .tv_sec = 100, .tv_nsec = 5000 };
		struct cleanup_result res;
		struct cleanup_clnt *cc;
		struct script sc;
		struct fake f;
		struct err err;

		script_init(&sc);
		submission(&sc, statuses[i]);
		fake_start(&f, &sc);
		cc = cleanup_open(f.path, CLEANUP_FLAG_LOCAL, 5000, NULL, &err);
		assert_non_null(cc);
		assert_string_equal(cleanup_queue_id(cc), "ABC");
		assert_int_equal(cleanup_arrival(cc, &ts, &err), 0);
		assert_int_equal(cleanup_fullname(cc, "Joe", &err), 0);
		assert_int_equal(cleanup_sender(cc, "a@b", &err), 0);
		assert_int_equal(cleanup_attr(cc, "client_name", "x", &err), 0);
		assert_int_equal(cleanup_recipient(cc, "o@b", "O@b",
						   "rfc822;O@b", 6, &err),
				 0);
		assert_int_equal(
			cleanup_recipient(cc, "p@b", NULL, NULL, 0, &err), 0);
		assert_int_equal(
			cleanup_content_line(cc, "Sub", 3, false, &err), 0);
		/* Cut at the server's line_length_limit (4 here). */
		assert_int_equal(
			cleanup_content_line(cc, "01234", 5, true, &err), 0);
		assert_int_equal(
			cleanup_content_line(cc, "56789", 5, false, &err), 0);
		assert_int_equal(cleanup_content_line(cc, "", 0, false, &err),
				 0);
		if (statuses[i] == 0) {
			assert_int_equal(cleanup_finish(&cc, &res, &err), 0);
			assert_int_equal(res.code, 250);
		} else {
			assert_int_equal(cleanup_finish(&cc, &res, &err), -1);
			assert_string_equal(err.text, "552 5.3.4 message file "
						      "too big");
			assert_int_equal(res.status, CLEANUP_STAT_SIZE);
		}
		assert_null(cc);
		assert_int_equal(fake_stop(&f), 0);
		script_deinit(&sc);
	}
}

static void
test_result_set(void **state)
{
	struct cleanup_result res;
	struct cleanup_clnt *none = NULL;

	(void)state;
	cleanup_abort(&none); /* NULL-safe */
	cleanup_result_set(&res, 0, 0);
	assert_int_equal(res.code, 250);
	cleanup_result_set(&res, CLEANUP_STAT_WRITE, 28 /* ENOSPC */);
	assert_int_equal(res.code, 452);
	assert_string_equal(res.dsn, "4.3.1");
	cleanup_result_set(&res, CLEANUP_STAT_WRITE, 5 /* EIO */);
	assert_int_equal(res.code, 451);
	assert_string_equal(res.reason, "queue file write error");
	cleanup_result_set(&res, CLEANUP_STAT_HOPS, 0);
	assert_int_equal(res.code, 554);
	assert_string_equal(res.dsn, "5.4.0");
	cleanup_result_set(&res, CLEANUP_STAT_BAD | CLEANUP_STAT_SIZE, 0);
	assert_int_equal(res.code, 451);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_greetings),
		cmocka_unit_test(test_connect_error),
		cmocka_unit_test(test_submission),
		cmocka_unit_test(test_result_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
