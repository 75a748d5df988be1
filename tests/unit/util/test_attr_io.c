/*
 * test_attr_io.c - unit tests for reading attribute messages off a stream:
 * exactly one message and no byte more, framing that survives dots and
 * nested lists, errors, and a large message read in linear time (a
 * quadratic reader would not finish within the test runner's timeout).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/attr_io.h"

/* A stream reading what a child process writes (then closes). */
static struct stream *
stream_from(const void *bytes, size_t len)
{
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		const char *cp = bytes;

		close(fds[0]);
		while (len > 0) {
			ssize_t n = write(fds[1], cp, len);

			if (n <= 0)
				_exit(1);
			cp += n;
			len -= (size_t)n;
		}
		_exit(0);
	}
	close(fds[1]);
	return stream_open(fds[0], 0);
}

static void
reap(void)
{
	int status;

	while (wait(&status) > 0)
		;
}

static void
test_one_message_and_no_more(void **state)
{
	struct strbuf msg;
	struct attr_list *list = NULL;
	struct stream *s;
	const char *text;
	long long n;
	struct err err;

	(void)state;
	strbuf_init(&msg, STRBUF_UNLIMITED);
	attr_put_str(&msg, "addr", "a.b.c@d.e.", NULL); /* dots in data */
	attr_put_list(&msg, "l", NULL);
	attr_put_bytes(&msg, "blob", "...", 3, NULL);
	attr_put_end(&msg, NULL);
	attr_put_end(&msg, NULL);
	attr_put_int(&msg, "second", 46, NULL); /* '.' is 46 */
	attr_put_end(&msg, NULL);
	s = stream_from(msg.data, msg.len);
	assert_int_equal(attr_read(s, 4096, &list, &err), 1);
	assert_int_equal(attr_get_str(list, "addr", &text, &err), 0);
	assert_string_equal(text, "a.b.c@d.e.");
	attr_list_destroy(&list);
	assert_int_equal(attr_read(s, 4096, &list, &err), 1);
	assert_int_equal(attr_get_int(list, "second", &n, &err), 0);
	assert_int_equal(n, 46);
	attr_list_destroy(&list);
	assert_int_equal(attr_read(s, 4096, &list, &err), 0);
	stream_close(&s);
	strbuf_deinit(&msg);
	reap();
}

static void
test_errors(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		size_t max;
		const char *reason;
	} cases[] = {
		{ "i\005flags", 7, 4096,
		  "unexpected end of file in attribute message" },
		{ "Z", 1, 4096, "unknown attribute type 0x5a" },
		{ "s\001a\050x", 5, 4, "attribute message longer than 4 bytes" },
	};
	struct attr_list *list = NULL;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct stream *s = stream_from(cases[i].bytes, cases[i].len);

		assert_int_equal(attr_read(s, cases[i].max, &list, &err), -1);
		assert_string_equal(err.text, cases[i].reason);
		stream_close(&s);
		reap();
	}
}

static void
test_large_message(void **state)
{
	enum { COUNT = 100000 };
	struct strbuf msg;
	struct attr_list *list = NULL;
	const struct attr_list *items;
	struct stream *s;
	struct err err;

	(void)state;
	strbuf_init(&msg, STRBUF_UNLIMITED);
	attr_put_list(&msg, "rcpts", NULL);
	for (int i = 0; i < COUNT; i++) {
		attr_put_list(&msg, "rcpt", NULL);
		attr_put_str(&msg, "address", "user.name@example.com", NULL);
		attr_put_end(&msg, NULL);
	}
	attr_put_end(&msg, NULL);
	attr_put_end(&msg, NULL);
	s = stream_from(msg.data, msg.len);
	assert_int_equal(attr_read(s, msg.len, &list, &err), 1);
	assert_int_equal(attr_get_list(list, "rcpts", &items, &err), 0);
	assert_int_equal(items->count, COUNT);
	attr_list_destroy(&list);
	stream_close(&s);
	strbuf_deinit(&msg);
	reap();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_message_and_no_more),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_large_message),
	};

	return cmocka_run_group_tests_name("attr_io", tests, NULL, NULL);
}
