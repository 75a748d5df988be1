/*
 * test_events.c - unit tests for the epoll event loop and its timers.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/events.h"

/* What the callbacks saw, in order. */
struct trace {
	char log[64];
	size_t len;
	struct event_loop *loop;
	uint64_t cancel_id;
	int fds[4];
};

static void
trace_add(struct trace *tr, char tag)
{
	assert_true(tr->len + 1 < sizeof(tr->log));
	tr->log[tr->len++] = tag;
	tr->log[tr->len] = 0;
}

/* Timer callbacks record their tag; ctx points into a tag table. */
struct tagged {
	struct trace *tr;
	char tag;
};

static void
on_timer(struct event_loop *loop, void *ctx)
{
	struct tagged *t = ctx;

	(void)loop;
	trace_add(t->tr, t->tag);
}

static void
test_timer_order(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct trace tr = {0};
	struct tagged tags[] = {{&tr, 'c'}, {&tr, 'a'}, {&tr, 'b'},
	                        {&tr, 'A'}, {&tr, 'z'}, {&tr, 'n'}};
	static const int delays[] = {30, 10, 20, 10, 0, -5};
	int64_t start = event_time_ms();

	(void)state;
	for (size_t i = 0; i < 6; i++)
		assert_true(
		    event_timer_add(loop, delays[i], on_timer, &tags[i]) > 0);
	assert_int_equal(event_loop_run(loop), 0);
	/* Equal expiries (0 and -5 both mean now, 10 twice) keep their
	 * order of addition. */
	assert_string_equal(tr.log, "znaAbc");
	assert_true(event_time_ms() - start >= 29);
	event_loop_destroy(&loop);
	assert_null(loop);
	event_loop_destroy(&loop);
}

static void
on_timer_cancel_other(struct event_loop *loop, void *ctx)
{
	struct tagged *t = ctx;

	trace_add(t->tr, t->tag);
	assert_true(event_timer_cancel(loop, t->tr->cancel_id));
}

static void
test_timer_cancel(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct trace tr = {0};
	struct tagged t1 = {&tr, '1'}, t2 = {&tr, '2'}, t3 = {&tr, '3'},
	              t4 = {&tr, '4'};
	uint64_t id1;
	uint64_t id2;

	(void)state;
	id1 = event_timer_add(loop, 5, on_timer, &t1);
	id2 = event_timer_add(loop, 10, on_timer, &t2);
	assert_true(id1 != id2);
	assert_true(event_timer_cancel(loop, id1));
	assert_false(event_timer_cancel(loop, id1));
	assert_false(event_timer_cancel(loop, 999999));
	/* A due timer cancels one that is due in the same round. */
	event_timer_add(loop, 0, on_timer_cancel_other, &t3);
	tr.cancel_id = event_timer_add(loop, 0, on_timer, &t4);
	assert_int_equal(event_loop_run(loop), 0);
	assert_string_equal(tr.log, "32");
	assert_false(event_timer_cancel(loop, id2));
	event_loop_destroy(&loop);
}

static void
on_timer_add_again(struct event_loop *loop, void *ctx)
{
	struct tagged *t = ctx;

	trace_add(t->tr, t->tag);
	if (t->tr->len < 3)
		event_timer_add(loop, 0, on_timer_add_again, ctx);
}

static void
test_timer_added_by_callback_waits_a_round(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct trace tr = {0};
	struct tagged t = {&tr, 'x'};

	(void)state;
	event_timer_add(loop, 0, on_timer_add_again, &t);
	assert_int_equal(event_loop_run_once(loop, 0), 1);
	assert_int_equal(event_loop_run_once(loop, 0), 1);
	assert_int_equal(event_loop_run_once(loop, 0), 1);
	assert_int_equal(event_loop_run_once(loop, 0), 0);
	assert_string_equal(tr.log, "xxx");
	event_loop_destroy(&loop);
}

static void
test_run_once_waits_at_most_max(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct trace tr = {0};
	struct tagged t = {&tr, 't'};
	int64_t start = event_time_ms();

	(void)state;
	event_timer_add(loop, 10000, on_timer, &t);
	assert_int_equal(event_loop_run_once(loop, 20), 0);
	assert_true(event_time_ms() - start >= 19);
	assert_true(event_time_ms() - start < 5000);
	assert_string_equal(tr.log, "");
	/* Nothing at all to wait for: run returns at once. */
	event_loop_destroy(&loop);
	loop = event_loop_create();
	assert_int_equal(event_loop_run(loop), 0);
	event_loop_destroy(&loop);
}

/* fd callback: record the tag stored in ctx and drain one byte. */
static void
on_readable(struct event_loop *loop, int fd, void *ctx)
{
	struct tagged *t = ctx;
	char byte;

	(void)loop;
	trace_add(t->tr, t->tag);
	if (read(fd, &byte, 1) == 0)
		trace_add(t->tr, '$');
}

static void
on_writable(struct event_loop *loop, int fd, void *ctx)
{
	struct tagged *t = ctx;

	(void)fd;
	trace_add(t->tr, t->tag);
	event_remove_write(loop, fd);
}

static void
test_read_readiness_on_pipe(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct trace tr = {0};
	struct tagged t = {&tr, 'r'};
	int fds[2];

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(event_add_read(loop, fds[0], on_readable, &t), 0);
	assert_int_equal(event_loop_run_once(loop, 0), 0);
	assert_int_equal(write(fds[1], "xy", 2), 2);
	assert_int_equal(event_loop_run_once(loop, 1000), 1);
	assert_int_equal(event_loop_run_once(loop, 1000), 1);
	assert_int_equal(event_loop_run_once(loop, 0), 0);
	/* Hang-up counts as readable: the handler then reads end of file. */
	close(fds[1]);
	assert_int_equal(event_loop_run_once(loop, 1000), 1);
	assert_string_equal(tr.log, "rrr$");
	event_remove(loop, fds[0]);
	event_remove(loop, fds[0]);
	assert_int_equal(event_loop_run(loop), 0);
	close(fds[0]);
	event_loop_destroy(&loop);
}

static void
test_read_and_write_on_one_fd(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct trace tr = {0};
	struct tagged r = {&tr, 'r'}, w = {&tr, 'w'}, w2 = {&tr, 'W'};
	int fds[2];

	(void)state;
	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	assert_int_equal(event_add_read(loop, fds[0], on_readable, &r), 0);
	assert_int_equal(event_add_write(loop, fds[0], on_writable, &w), 0);
	/* Replacing a handler keeps the other direction. */
	assert_int_equal(event_add_write(loop, fds[0], on_writable, &w2), 0);
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(event_loop_run_once(loop, 1000), 2);
	assert_string_equal(tr.log, "rW");
	/* The write handler removed itself; read stays. */
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(event_loop_run_once(loop, 1000), 1);
	assert_string_equal(tr.log, "rWr");
	event_remove_read(loop, fds[0]);
	assert_int_equal(event_loop_run(loop), 0);
	close(fds[0]);
	close(fds[1]);
	event_loop_destroy(&loop);
}

/* Remove the other pipe's fd and put a fresh, idle pipe in its place. */
static void
on_readable_swap_other(struct event_loop *loop, int fd, void *ctx)
{
	struct tagged *t = ctx;
	struct trace *tr = t->tr;
	int other = fd == tr->fds[0] ? tr->fds[2] : tr->fds[0];
	int fresh[2];

	trace_add(tr, t->tag);
	/* Non-blocking, so a wrongly delivered event fails, not hangs. */
	assert_int_equal(pipe2(fresh, O_CLOEXEC | O_NONBLOCK), 0);
	event_remove(loop, other);
	/* dup2 closes the old pipe and reuses its number at once. */
	assert_int_equal(dup2(fresh[0], other), other);
	close(fresh[0]);
	tr->fds[3] = fresh[1];
	assert_int_equal(event_add_read(loop, other, on_readable, &t[2]), 0);
	event_remove(loop, fd);
}

static void
test_remove_inside_callback(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct trace tr = {0};
	struct tagged tags[] = {{&tr, 'a'}, {&tr, 'b'}, {&tr, 'X'}, {&tr, 'X'}};
	int a[2];
	int b[2];

	(void)state;
	assert_int_equal(pipe2(a, O_CLOEXEC), 0);
	assert_int_equal(pipe2(b, O_CLOEXEC), 0);
	tr.fds[0] = a[0];
	tr.fds[2] = b[0];
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "x", 1), 1);
	assert_int_equal(
	    event_add_read(loop, a[0], on_readable_swap_other, &tags[0]), 0);
	assert_int_equal(
	    event_add_read(loop, b[0], on_readable_swap_other, &tags[1]), 0);
	/*
	 * Both fds are ready in the same round. Whichever runs first removes
	 * the other and registers an idle pipe under its number: the stale
	 * event must reach neither the old nor the new handler.
	 */
	assert_int_equal(event_loop_run_once(loop, 1000), 1);
	assert_true(strcmp(tr.log, "a") == 0 || strcmp(tr.log, "b") == 0);
	assert_int_equal(event_loop_run_once(loop, 0), 0);
	/* The fresh pipe works under the reused number. */
	assert_int_equal(write(tr.fds[3], "y", 1), 1);
	assert_int_equal(event_loop_run_once(loop, 1000), 1);
	assert_int_equal(tr.log[1], 'X');
	event_remove(loop, a[0]);
	event_remove(loop, b[0]);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	close(tr.fds[3]);
	event_loop_destroy(&loop);
}

static void
on_readable_stop(struct event_loop *loop, int fd, void *ctx)
{
	(void)ctx;
	event_remove(loop, fd);
	close(fd);
	event_loop_stop(loop);
}

static void
test_stop_and_self_close(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct trace tr = {0};
	struct tagged t = {&tr, 't'};
	uint64_t far;
	int fds[2];

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(event_add_read(loop, fds[0], on_readable_stop, NULL),
	                 0);
	/* A far timer keeps the loop busy; stop must end run anyway. */
	far = event_timer_add(loop, 60000, on_timer, &t);
	assert_int_equal(event_loop_run(loop), 0);
	assert_string_equal(tr.log, "");
	/* The stop request was consumed: a new run goes on normally. */
	assert_true(event_timer_cancel(loop, far));
	event_timer_add(loop, 0, on_timer, &t);
	event_timer_add(loop, 1, on_timer, &t);
	assert_int_equal(event_loop_run(loop), 0);
	assert_string_equal(tr.log, "tt");
	event_loop_destroy(&loop);
	close(fds[1]);
}

static void
test_add_errors(void **state)
{
	struct event_loop *loop = event_loop_create();
	char path[] = "/tmp/test_events.XXXXXX";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	unlink(path);
	errno = 0;
	assert_int_equal(event_add_read(loop, fd, on_readable, NULL), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(event_add_read(loop, -1, on_readable, NULL), -1);
	assert_int_equal(errno, EBADF);
	close(fd);
	assert_int_equal(event_add_write(loop, fd, on_writable, NULL), -1);
	assert_int_equal(errno, EBADF);
	/* Nothing was registered, so run has nothing to wait for. */
	assert_int_equal(event_loop_run(loop), 0);
	event_remove(loop, fd);
	event_remove(loop, 100000);
	event_loop_destroy(&loop);
}

static void
test_many_fds_grow_table(void **state)
{
	struct event_loop *loop = event_loop_create();
	struct trace tr = {0};
	struct tagged t = {&tr, 'w'};
	int fds[2];
	int high;

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	high = fcntl(fds[1], F_DUPFD_CLOEXEC, 200);
	assert_true(high >= 200);
	assert_int_equal(event_add_write(loop, high, on_writable, &t), 0);
	assert_int_equal(event_loop_run(loop), 0);
	assert_string_equal(tr.log, "w");
	close(high);
	close(fds[0]);
	close(fds[1]);
	event_loop_destroy(&loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_timer_order),
	    cmocka_unit_test(test_timer_cancel),
	    cmocka_unit_test(test_timer_added_by_callback_waits_a_round),
	    cmocka_unit_test(test_run_once_waits_at_most_max),
	    cmocka_unit_test(test_read_readiness_on_pipe),
	    cmocka_unit_test(test_read_and_write_on_one_fd),
	    cmocka_unit_test(test_remove_inside_callback),
	    cmocka_unit_test(test_stop_and_self_close),
	    cmocka_unit_test(test_add_errors),
	    cmocka_unit_test(test_many_fds_grow_table),
	};

	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
