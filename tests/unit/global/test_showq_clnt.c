/*
 * test_showq_clnt.c - unit tests for the showq protocol: the server's
 * encoders against the client's reader, over a pipe, including
 * recipients split over continuation messages and every error the
 * reader reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "global/showq_clnt.h"
#include "util/attr.h"

/* Bytes a test server writes, gathered before the client reads them. */
struct wire {
	struct strbuf all;
	struct strbuf msg;
	struct err err;
};

static void
wire_init(struct wire *w)
{
	strbuf_init(&w->all, STRBUF_UNLIMITED);
	strbuf_init(&w->msg, STRBUF_UNLIMITED);
}

static void
wire_add(struct wire *w, int ret)
{
	assert_int_equal(ret, 0);
	assert_int_equal(strbuf_append(&w->all, w->msg.data, w->msg.len), 0);
}

/* A client reading w's bytes through a pipe (the bytes fit in it). */
static struct showq_clnt *
wire_client(struct wire *w, struct err *err)
{
	int fds[2];
	struct showq_clnt *sc;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], w->all.data, w->all.len),
			 (ssize_t)w->all.len);
	close(fds[1]);
	sc = showq_clnt_open(stream_open(fds[0], 0), err);
	strbuf_deinit(&w->all);
	strbuf_deinit(&w->msg);
	return sc;
}

static const struct showq_rcpt rcpts[] = {
	{ "a@example.org", "" },
	{ "b@example.org", "connect to b: refused" },
	{ "c@example.org", NULL },
};

static const struct showq_entry entry1 = {
	"deferred", "ABCDE12345", 1700000000, 312, false, "s@example.test",
};
static const struct showq_entry entry2 = {
	"hold", "4jXbdg6Fn5z1bcjX", 1700000001, 10, true, "",
};

static void
test_round_trip(void **state)
{
	struct wire w;
	struct showq_entry e;
	struct showq_rcpt r;
	struct showq_clnt *sc;
	struct err err;

	(void)state;
	wire_init(&w);
	wire_add(&w, showq_put_greeting(&w.msg, &w.err));
	wire_add(&w, showq_put_entry(&w.msg, &entry1, rcpts, 2, true, &w.err));
	wire_add(&w, showq_put_more(&w.msg, rcpts + 2, 0, true, &w.err));
	wire_add(&w, showq_put_more(&w.msg, rcpts + 2, 1, false, &w.err));
	wire_add(&w, showq_put_entry(&w.msg, &entry2, NULL, 0, false, &w.err));
	wire_add(&w, showq_put_end(&w.msg, &w.err));
	sc = wire_client(&w, &err);
	assert_non_null(sc);

	assert_int_equal(showq_clnt_next(sc, &e, &err), 1);
	assert_string_equal(e.queue_name, "deferred");
	assert_string_equal(e.queue_id, "ABCDE12345");
	assert_int_equal(e.arrival_time, 1700000000);
	assert_int_equal(e.message_size, 312);
	assert_false(e.is_forced_expire);
	assert_string_equal(e.sender, "s@example.test");
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(showq_clnt_next_rcpt(sc, &r, &err), 1);
		assert_string_equal(r.address, rcpts[i].address);
		assert_string_equal(
			r.delay_reason,
			rcpts[i].delay_reason ? rcpts[i].delay_reason : "");
	}
	assert_int_equal(showq_clnt_next_rcpt(sc, &r, &err), 0);
	assert_int_equal(showq_clnt_next_rcpt(sc, &r, &err), 0);

	assert_int_equal(showq_clnt_next(sc, &e, &err), 1);
	assert_string_equal(e.queue_id, "4jXbdg6Fn5z1bcjX");
	assert_true(e.is_forced_expire);
	assert_string_equal(e.sender, "");
	assert_int_equal(showq_clnt_next_rcpt(sc, &r, &err), 0);
	assert_int_equal(showq_clnt_next(sc, &e, &err), 0);
	assert_int_equal(showq_clnt_next(sc, &e, &err), 0);
	showq_clnt_close(&sc);
	assert_null(sc);
	showq_clnt_close(&sc);
}

/* A caller may go to the next file without reading all recipients. */
static void
test_skip_recipients(void **state)
{
	struct wire w;
	struct showq_entry e;
	struct showq_clnt *sc;
	struct err err;

	(void)state;
	wire_init(&w);
	wire_add(&w, showq_put_greeting(&w.msg, &w.err));
	wire_add(&w, showq_put_entry(&w.msg, &entry1, rcpts, 1, true, &w.err));
	wire_add(&w, showq_put_more(&w.msg, rcpts + 1, 2, false, &w.err));
	wire_add(&w, showq_put_entry(&w.msg, &entry2, rcpts, 3, false, &w.err));
	wire_add(&w, showq_put_end(&w.msg, &w.err));
	sc = wire_client(&w, &err);
	assert_int_equal(showq_clnt_next(sc, &e, &err), 1);
	assert_int_equal(showq_clnt_next(sc, &e, &err), 1);
	assert_string_equal(e.queue_id, "4jXbdg6Fn5z1bcjX");
	assert_int_equal(showq_clnt_next(sc, &e, &err), 0);
	showq_clnt_close(&sc);
}

/* Raw attribute messages for the error cases. */
static void
put_raw(struct wire *w, const char *proto, int version)
{
	strbuf_reset(&w->msg);
	assert_int_equal(attr_put_str(&w->msg, "protocol", proto, NULL), 0);
	assert_int_equal(attr_put_int(&w->msg, "version", version, NULL), 0);
	wire_add(w, attr_put_end(&w->msg, NULL));
}

static void
test_greeting_errors(void **state)
{
	struct wire w;
	struct err err;

	(void)state;
	wire_init(&w);
	assert_null(wire_client(&w, &err));
	assert_string_equal(err.text,
			    "greeting: unexpected end of the queue listing");

	wire_init(&w);
	put_raw(&w, "cleanup", 1);
	assert_null(wire_client(&w, &err));
	assert_string_equal(err.text,
			    "unexpected protocol \"cleanup\" version 1");

	wire_init(&w);
	put_raw(&w, "showq", 2);
	assert_null(wire_client(&w, &err));
	assert_string_equal(err.text,
			    "unexpected protocol \"showq\" version 2");
}

static void
test_listing_errors(void **state)
{
	struct wire w;
	struct showq_entry e;
	struct showq_rcpt r;
	struct showq_clnt *sc;
	struct err err;

	(void)state;
	/* The server went away before the end message. */
	wire_init(&w);
	wire_add(&w, showq_put_greeting(&w.msg, &w.err));
	wire_add(&w, showq_put_entry(&w.msg, &entry1, rcpts, 1, true, &w.err));
	sc = wire_client(&w, &err);
	assert_int_equal(showq_clnt_next(sc, &e, &err), 1);
	assert_int_equal(showq_clnt_next_rcpt(sc, &r, &err), 1);
	assert_int_equal(showq_clnt_next_rcpt(sc, &r, &err), -1);
	assert_string_equal(err.text, "unexpected end of the queue listing");
	showq_clnt_close(&sc);

	/* An entry without a queue ID. */
	wire_init(&w);
	wire_add(&w, showq_put_greeting(&w.msg, &w.err));
	strbuf_reset(&w.msg);
	assert_int_equal(attr_put_str(&w.msg, "queue_name", "hold", NULL), 0);
	wire_add(&w, attr_put_end(&w.msg, NULL));
	sc = wire_client(&w, &err);
	assert_int_equal(showq_clnt_next(sc, &e, &err), -1);
	assert_string_equal(err.text,
			    "queue listing: missing attribute queue_id");
	showq_clnt_close(&sc);

	/* A recipient that is not a list. */
	wire_init(&w);
	wire_add(&w, showq_put_greeting(&w.msg, &w.err));
	wire_add(&w, showq_put_entry(&w.msg, &entry1, NULL, 0, false, &w.err));
	/* Replace the empty recipients list by one holding a string. */
	strbuf_truncate(&w.all, w.all.len - w.msg.len);
	strbuf_reset(&w.msg);
	assert_int_equal(attr_put_str(&w.msg, "queue_name", "hold", NULL), 0);
	assert_int_equal(attr_put_str(&w.msg, "queue_id", "ABCDE12345", NULL),
			 0);
	assert_int_equal(attr_put_int(&w.msg, "arrival_time", 1, NULL), 0);
	assert_int_equal(attr_put_int(&w.msg, "message_size", 1, NULL), 0);
	assert_int_equal(attr_put_str(&w.msg, "sender", "", NULL), 0);
	assert_int_equal(attr_put_list(&w.msg, "recipients", NULL), 0);
	assert_int_equal(attr_put_str(&w.msg, "rcpt", "x", NULL), 0);
	assert_int_equal(attr_put_end(&w.msg, NULL), 0);
	assert_int_equal(attr_put_int(&w.msg, "more", 0, NULL), 0);
	wire_add(&w, attr_put_end(&w.msg, NULL));
	sc = wire_client(&w, &err);
	assert_int_equal(showq_clnt_next(sc, &e, &err), 1);
	assert_int_equal(showq_clnt_next_rcpt(sc, &r, &err), -1);
	assert_string_equal(err.text,
			    "queue listing: attribute rcpt: wrong type");
	showq_clnt_close(&sc);

	/* An entry without its recipients list. */
	wire_init(&w);
	wire_add(&w, showq_put_greeting(&w.msg, &w.err));
	strbuf_reset(&w.msg);
	assert_int_equal(attr_put_str(&w.msg, "queue_name", "hold", NULL), 0);
	assert_int_equal(attr_put_str(&w.msg, "queue_id", "ABCDE12345", NULL),
			 0);
	assert_int_equal(attr_put_int(&w.msg, "arrival_time", 1, NULL), 0);
	assert_int_equal(attr_put_int(&w.msg, "message_size", 1, NULL), 0);
	assert_int_equal(attr_put_str(&w.msg, "sender", "", NULL), 0);
	wire_add(&w, attr_put_end(&w.msg, NULL));
	sc = wire_client(&w, &err);
	assert_int_equal(showq_clnt_next(sc, &e, &err), -1);
	assert_string_equal(err.text,
			    "queue listing: missing attribute recipients");
	showq_clnt_close(&sc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_skip_recipients),
		cmocka_unit_test(test_greeting_errors),
		cmocka_unit_test(test_listing_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
