/*
 * test_smtp_cache.c - unit tests for the smtp/lmtp agents' side of the
 * connection cache: the property string (round trips, every decoding
 * error), the labels, and the policy (when to look, when to keep, the
 * reuse limits). A cache without a client never looks or keeps, and
 * closes what it is asked to save.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/argv.h"

#include "global/deliver_request.h"
#include "global/smtp_cache.h"

static void
test_prop_roundtrip(void **state)
{
	const struct smtp_cache_endp cases[] = {
		{ "mx.example.com", "192.0.2.1", 25, false,
		  { SMTP_FEATURE_ESMTP | SMTP_FEATURE_PIPELINING, 10240000,
		    false },
		  123456789, 3 },
		{ "odd host+=name", "2001:db8::1", 65535, false,
		  { 0, 0, true }, 0, 0 },
		{ "mail.example.test", "/var/run/lmtp sock", 0, true,
		  { SMTP_FEATURE_ESMTP, 0, false }, 1, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct smtp_cache_endp *c = &cases[i];
		struct smtp_cache_endp back;
		struct strbuf text;
		struct err err;

		strbuf_init(&text, SCACHE_PROP_MAX);
		assert_int_equal(smtp_cache_prop_encode(c, &text), 0);
		assert_null(strchr(strbuf_text(&text) + 0, '\n'));
		if (smtp_cache_prop_decode(strbuf_text(&text), &back, &err) < 0)
			fail_msg("%s: %s", strbuf_text(&text), err.text);
		assert_string_equal(back.host, c->host);
		assert_string_equal(back.addr, c->addr);
		assert_int_equal(back.port, c->port);
		assert_int_equal(back.is_unix, c->is_unix);
		assert_int_equal(back.state.features, c->state.features);
		assert_int_equal(back.state.size_limit, c->state.size_limit);
		assert_int_equal(back.state.is_helo, c->state.is_helo);
		assert_int_equal(back.created_ms, c->created_ms);
		assert_int_equal(back.uses, c->uses);
		smtp_cache_endp_clear(&back);
		assert_null(back.host);
		strbuf_deinit(&text);
	}
}

static void
test_prop_text(void **state)
{
	const struct smtp_cache_endp e = {
		"mx a", "192.0.2.1", 25, false, { 5, 1000, false }, 42, 2
	};
	struct strbuf text;

	(void)state;
	strbuf_init(&text, SCACHE_PROP_MAX);
	assert_int_equal(smtp_cache_prop_encode(&e, &text), 0);
	assert_string_equal(strbuf_text(&text),
			    "host=mx+20a addr=192.0.2.1 port=25 unix=0 "
			    "features=5 size=1000 helo=0 created=42 uses=2");
	strbuf_deinit(&text);
}

#define GOOD_TAIL "port=25 unix=0 features=1 size=0 helo=0 created=1 uses=1"

static const struct {
	const char *text;
	const char *error; /* NULL: decodes */
} decode_cases[] = {
	{ "host=h addr=a " GOOD_TAIL, NULL },
	{ "  host=h   addr=a " GOOD_TAIL " future=thing  ", NULL },
	{ "addr=a " GOOD_TAIL, "missing host" },
	{ "host=h " GOOD_TAIL, "missing addr" },
	{ "host=h addr=a unix=0 features=1 size=0 helo=0 created=1 uses=1",
	  "missing port" },
	{ "host=h addr=a port=25 features=1 size=0 helo=0 created=1 uses=1",
	  "missing unix" },
	{ "host=h addr=a port=25 unix=0 features=1 size=0 helo=0 created=1",
	  "missing uses" },
	{ "host=h addr=a junk " GOOD_TAIL, "bad property \"junk\"" },
	{ "host= addr=a " GOOD_TAIL, "bad host value \"\"" },
	{ "host=a+zz addr=a " GOOD_TAIL, "bad host value \"a+zz\"" },
	{ "host=h addr=a+00 " GOOD_TAIL, "bad addr value \"a+00\"" },
	{ "host=h addr=a port=65536 unix=0 features=1 size=0 helo=0 "
	  "created=1 uses=1",
	  "bad port value \"65536\"" },
	{ "host=h addr=a port=-1 unix=0 features=1 size=0 helo=0 created=1 "
	  "uses=1",
	  "bad port value \"-1\"" },
	{ "host=h addr=a port=25 unix=2 features=1 size=0 helo=0 created=1 "
	  "uses=1",
	  "bad unix value \"2\"" },
	{ "host=h addr=a port=25 unix=0 features=x size=0 helo=0 created=1 "
	  "uses=1",
	  "bad features value \"x\"" },
	{ "host=h addr=a port=25 unix=0 features=1 size=99999999999999999999 "
	  "helo=0 created=1 uses=1",
	  "bad size value \"99999999999999999999\"" },
	{ "host=h addr=a port=25 unix=0 features=1 size=0 helo=1x created=1 "
	  "uses=1",
	  "bad helo value \"1x\"" },
	{ "host=h addr=a port=25 unix=0 features=1 size=0 helo=0 created= "
	  "uses=1",
	  "bad created value \"\"" },
	{ "host=h addr=a port=25 unix=0 features=1 size=0 helo=0 created=1 "
	  "uses=4294967296",
	  "bad uses value \"4294967296\"" },
};

static void
test_prop_decode_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(decode_cases) / sizeof(decode_cases[0]);
	     i++) {
		struct smtp_cache_endp e;
		struct err err;
		int ret = smtp_cache_prop_decode(decode_cases[i].text, &e,
						 &err);

		if (decode_cases[i].error == NULL) {
			assert_int_equal(ret, 0);
			assert_string_equal(e.host, "h");
			smtp_cache_endp_clear(&e);
			continue;
		}
		assert_int_equal(ret, -1);
		assert_string_equal(err.text, decode_cases[i].error);
		assert_null(e.host);
		assert_null(e.addr);
	}
}

static struct smtp_cache *
cache_make(bool on_demand, const char *dests, bool has_clnt)
{
	struct argv *av = argv_split(dests, ", ");
	struct smtp_cache_conf conf = {
		.service = "relay",
		.helo_name = "me.test",
		.cache_on_demand = on_demand,
		.cache_destinations = av,
		.cache_time_limit = 2,
		.reuse_time_limit_ms = 300000,
		.reuse_count_limit = 2,
	};
	struct smtp_cache *c = smtp_cache_create(
		&conf, has_clnt ? scache_clnt_create("/nonexistent/scache",
						     1000, 60000)
				: NULL);

	argv_destroy(&av);
	return c;
}

static void
test_labels(void **state)
{
	struct smtp_cache *c = cache_make(true, "", false);
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb, SCACHE_LABEL_MAX);
	assert_int_equal(smtp_cache_dest_label(c, "[127.0.0.1]:2525", &sb), 0);
	assert_string_equal(strbuf_text(&sb), "relay:me.test:[127.0.0.1]:2525");
	strbuf_reset(&sb);
	assert_int_equal(smtp_cache_endp_label(c, "192.0.2.1", 25, false, &sb),
			 0);
	assert_string_equal(strbuf_text(&sb), "relay:me.test:[192.0.2.1]:25");
	strbuf_reset(&sb);
	assert_int_equal(smtp_cache_endp_label(c, "2001:db8::1", 587, false,
					       &sb),
			 0);
	assert_string_equal(strbuf_text(&sb), "relay:me.test:[2001:db8::1]:587");
	strbuf_reset(&sb);
	assert_int_equal(smtp_cache_endp_label(c, "/run/lmtp", 0, true, &sb),
			 0);
	assert_string_equal(strbuf_text(&sb), "relay:me.test:unix:/run/lmtp");
	strbuf_deinit(&sb);
	/* A label over the limit is refused, not cut. */
	strbuf_init(&sb, 10);
	assert_int_equal(smtp_cache_dest_label(c, "example.com", &sb), -1);
	strbuf_deinit(&sb);
	smtp_cache_destroy(&c);
	assert_null(c);
}

static void
test_policy(void **state)
{
	static const struct {
		bool on_demand;
		const char *dests;
		bool has_clnt;
		const char *nexthop;
		int flags;
		bool want_lookup, want_store;
	} cases[] = {
		{ true, "", true, "example.com", 0, true, false },
		{ true, "", true, "example.com", DELIVER_FLAG_CONN_STORE, true,
		  true },
		{ false, "", true, "example.com", DELIVER_FLAG_CONN_STORE,
		  false, false },
		{ false, "[a]:25, Example.COM", true, "example.com", 0, true,
		  true },
		{ false, "[a]:25", true, "[A]:25", 0, true, true },
		{ false, "[a]:25", true, "[a]:26", 0, false, false },
		{ true, "example.com", false, "example.com",
		  DELIVER_FLAG_CONN_STORE, false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smtp_cache *c = cache_make(
			cases[i].on_demand, cases[i].dests, cases[i].has_clnt);

		assert_int_equal(smtp_cache_want_lookup(c, cases[i].nexthop),
				 cases[i].want_lookup);
		assert_int_equal(smtp_cache_want_store(c, cases[i].nexthop,
						       cases[i].flags),
				 cases[i].want_store);
		smtp_cache_destroy(&c);
	}
}

static void
test_reuse_limits(void **state)
{
	struct smtp_cache *c = cache_make(true, "", false);
	struct smtp_cache_endp e = { .created_ms = 1000, .uses = 1 };

	(void)state;
	assert_true(smtp_cache_is_reusable(c, &e, 1000));
	e.uses = 3; /* a limit of 2: at most 3 transactions */
	assert_true(smtp_cache_is_reusable(c, &e, 1000) == false);
	e.uses = 2;
	assert_true(smtp_cache_is_reusable(c, &e, 1000 + 299999));
	assert_false(smtp_cache_is_reusable(c, &e, 1000 + 300000));
	smtp_cache_destroy(&c);
}

/* Without a client: nothing found, a save closes the descriptor. */
static void
test_without_client(void **state)
{
	struct smtp_cache *c = cache_make(true, "", false);
	struct smtp_cache_endp e = { .host = "h", .addr = "a", .port = 25 };
	struct smtp_cache_endp got;
	int p[2];

	(void)state;
	assert_int_equal(smtp_cache_find_dest(c, "example.com", &got), -1);
	assert_null(got.host);
	assert_int_equal(smtp_cache_find_endp(c, "a", 25, false, &got), -1);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(smtp_cache_save(c, "example.com", &e, p[1]), -1);
	assert_true(fcntl(p[1], F_GETFD) < 0 && errno == EBADF);
	close(p[0]);
	smtp_cache_destroy(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prop_roundtrip),
		cmocka_unit_test(test_prop_text),
		cmocka_unit_test(test_prop_decode_errors),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_reuse_limits),
		cmocka_unit_test(test_without_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
