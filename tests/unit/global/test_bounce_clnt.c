/*
 * test_bounce_clnt.c - unit tests for the bounce client stub.
 *
 * A forked fake server listens on a UNIX socket in a temporary directory,
 * sends a scripted greeting, checks the exact request bytes and answers.
 * The cases cover success, a refused request (the server's reason), a
 * wrong protocol or version, a connection closed early, a reply without
 * status, and no server at all.
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

#include "global/bounce_clnt.h"
#include "util/attr.h"
#include "util/sockets.h"
#include "util/strbuf.h"

struct fake {
	char dir[64];
	char path[128];
	pid_t pid;
};

/* What the fake server sends, expects and answers. */
struct script {
	struct strbuf greeting;
	struct strbuf expect; /* empty: read nothing, close */
	struct strbuf reply;
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

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_bounce_clnt.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/bounce", f->dir);
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

enum reply_kind { REPLY_OK, REPLY_REFUSED, REPLY_NO_STATUS, REPLY_NONE };

static void
script_fill(struct script *sc, const char *proto, int version,
	    bool want_request, enum reply_kind reply)
{
	strbuf_init(&sc->greeting, STRBUF_UNLIMITED);
	strbuf_init(&sc->expect, STRBUF_UNLIMITED);
	strbuf_init(&sc->reply, STRBUF_UNLIMITED);
	(void)attr_put_str(&sc->greeting, "protocol", proto, NULL);
	(void)attr_put_int(&sc->greeting, "version", version, NULL);
	(void)attr_put_end(&sc->greeting, NULL);
	if (!want_request)
		return;
	(void)attr_put_str(&sc->expect, "op", BOUNCE_OP_FLUSH, NULL);
	(void)attr_put_str(&sc->expect, "queue_name", "active", NULL);
	(void)attr_put_str(&sc->expect, "queue_id", "4ADC3B2C5E", NULL);
	(void)attr_put_end(&sc->expect, NULL);
	if (reply == REPLY_OK)
		(void)attr_put_int(&sc->reply, "status", 0, NULL);
	if (reply == REPLY_REFUSED) {
		(void)attr_put_int(&sc->reply, "status", 1, NULL);
		(void)attr_put_str(&sc->reply, "reason",
				   "connect to public/cleanup: No such file "
				   "or directory",
				   NULL);
	}
	if (reply == REPLY_NO_STATUS)
		(void)attr_put_str(&sc->reply, "reason", "x", NULL);
	if (reply != REPLY_NONE)
		(void)attr_put_end(&sc->reply, NULL);
}

static void
script_deinit(struct script *sc)
{
	strbuf_deinit(&sc->greeting);
	strbuf_deinit(&sc->expect);
	strbuf_deinit(&sc->reply);
}

static void
test_exchanges(void **state)
{
	static const struct {
		const char *proto;
		int version;
		bool want_request;
		enum reply_kind reply;
		int ret;
		const char *expect; /* err; "@" stands for "PATH: " */
	} cases[] = {
		{ "bounce", 1, true, REPLY_OK, 0, NULL },
		{ "bounce", 1, true, REPLY_REFUSED, -1,
		  "connect to public/cleanup: No such file or directory" },
		{ "bounce", 2, false, REPLY_NONE, -1,
		  "@unexpected protocol \"bounce\" version 2" },
		{ "cleanup", 1, false, REPLY_NONE, -1,
		  "@unexpected protocol \"cleanup\" version 1" },
		{ "bounce", 1, true, REPLY_NONE, -1,
		  "@lost connection" },
		{ "bounce", 1, true, REPLY_NO_STATUS, -1,
		  "@reply: missing attribute status" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct script sc;
		struct fake f;
		struct err err;
		char want[ERR_TEXT_MAX];
		int ret;

		script_fill(&sc, cases[i].proto, cases[i].version,
			    cases[i].want_request, cases[i].reply);
		fake_start(&f, &sc);
		err_clear(&err);
		ret = bounce_request(f.path, BOUNCE_OP_FLUSH, "active",
				     "4ADC3B2C5E", 5000, &err);
		assert_int_equal(ret, cases[i].ret);
		if (cases[i].expect != NULL) {
			if (cases[i].expect[0] == '@')
				snprintf(want, sizeof(want), "%s: %s", f.path,
					 cases[i].expect + 1);
			else
				snprintf(want, sizeof(want), "%s",
					 cases[i].expect);
			assert_string_equal(err.text, want);
		}
		assert_int_equal(fake_stop(&f), 0);
		script_deinit(&sc);
	}
}

static void
test_no_server(void **state)
{
	struct err err;

	(void)state;
	assert_int_equal(bounce_request("/nonexistent/private/bounce",
					BOUNCE_OP_TRACE, "active", "ABC", 1000,
					&err),
			 -1);
	assert_string_equal(err.text, "connect to /nonexistent/private/bounce: "
				      "No such file or directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchanges),
		cmocka_unit_test(test_no_server),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
