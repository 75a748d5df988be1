/*
 * test_scache_store.c - unit tests for the connection cache daemon's
 * store: connections found newest first and handed out once, expiry and
 * eviction closing descriptors (the other end of each socketpair sees
 * end of file), destinations leading to the newest endpoint that has a
 * connection, link refresh, expiry and eviction, and the statistics.
 *
 * The store belongs to the scache program, not to a library, so it is
 * compiled into this test directly.
 */
#include <dirent.h>
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

#include "scache/scache_store.c"

/* A connection to cache: the store gets sv[0], the test keeps sv[1]. */
struct peer {
	int mine;
	int theirs;
};

static struct peer
peer_make(void)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	return (struct peer){ .mine = sv[1], .theirs = sv[0] };
}

/* Did the store close its end? */
static bool
peer_is_closed(const struct peer *p)
{
	char c;

	return read(p->mine, &c, 1) == 0;
}

/* Is fd the store's end of p (the same socket)? */
static bool
peer_is(const struct peer *p, int fd)
{
	char c = 0;

	if (fd < 0 || write(fd, "!", 1) != 1)
		return false;
	return read(p->mine, &c, 1) == 1 && c == '!';
}

static void
peer_free(struct peer *p)
{
	close(p->mine);
}

static void
test_endp_newest_first_and_once(void **state)
{
	struct scache_store *st = scache_store_create(10, 10);
	struct peer a = peer_make(), b = peer_make();
	char *prop;
	int fd;

	(void)state;
	scache_store_save_endp(st, 0, 1000, "e1", "pa", a.theirs);
	scache_store_save_endp(st, 10, 1000, "e1", "pb", b.theirs);
	assert_int_equal(scache_store_conn_count(st), 2);
	fd = scache_store_find_endp(st, 20, "e1", &prop);
	assert_true(peer_is(&b, fd));
	assert_string_equal(prop, "pb");
	free(prop);
	close(fd);
	fd = scache_store_find_endp(st, 20, "e1", &prop);
	assert_true(peer_is(&a, fd));
	assert_string_equal(prop, "pa");
	free(prop);
	close(fd);
	assert_int_equal(scache_store_find_endp(st, 20, "e1", &prop), -1);
	assert_null(prop);
	assert_int_equal(scache_store_find_endp(st, 20, "other", &prop), -1);
	assert_int_equal(scache_store_stats(st)->endp_hits, 2);
	assert_int_equal(scache_store_stats(st)->endp_misses, 2);
	assert_int_equal(scache_store_stats(st)->max_conns, 2);
	assert_int_equal(scache_store_stats(st)->max_endps, 1);
	assert_int_equal(scache_store_conn_count(st), 0);
	scache_store_destroy(&st);
	assert_null(st);
	peer_free(&a);
	peer_free(&b);
}

static void
test_expiry_closes(void **state)
{
	struct scache_store *st = scache_store_create(10, 10);
	struct peer a = peer_make(), b = peer_make();
	char *prop;

	(void)state;
	scache_store_save_endp(st, 0, 100, "e1", "pa", a.theirs);
	scache_store_save_endp(st, 0, 300, "e2", "pb", b.theirs);
	assert_int_equal(scache_store_expire(st, 50), 100);
	assert_false(peer_is_closed(&a));
	assert_int_equal(scache_store_expire(st, 100), 300);
	assert_true(peer_is_closed(&a));
	assert_false(peer_is_closed(&b));
	/* A find after the expiry time closes instead of handing out. */
	assert_int_equal(scache_store_find_endp(st, 300, "e2", &prop), -1);
	assert_true(peer_is_closed(&b));
	assert_int_equal(scache_store_expire(st, 400), -1);
	assert_int_equal(scache_store_conn_count(st), 0);
	scache_store_destroy(&st);
	peer_free(&a);
	peer_free(&b);
}

static void
test_full_store_drops_oldest(void **state)
{
	struct scache_store *st = scache_store_create(2, 10);
	struct peer p[3] = { peer_make(), peer_make(), peer_make() };
	char *prop;
	int fd;

	(void)state;
	scache_store_save_endp(st, 0, 1000, "e1", "0", p[0].theirs);
	scache_store_save_endp(st, 1, 1000, "e2", "1", p[1].theirs);
	scache_store_save_endp(st, 2, 1000, "e1", "2", p[2].theirs);
	assert_true(peer_is_closed(&p[0]));
	assert_int_equal(scache_store_conn_count(st), 2);
	fd = scache_store_find_endp(st, 3, "e1", &prop);
	assert_true(peer_is(&p[2], fd));
	free(prop);
	close(fd);
	assert_int_equal(scache_store_find_endp(st, 3, "e1", &prop), -1);
	scache_store_destroy(&st);
	assert_true(peer_is_closed(&p[1])); /* destroy closes the rest */
	for (int i = 0; i < 3; i++)
		peer_free(&p[i]);
}

static void
test_dest_finds_newest_endpoint_with_connection(void **state)
{
	struct scache_store *st = scache_store_create(10, 10);
	struct peer a = peer_make();
	char *dprop, *eprop;
	int fd;

	(void)state;
	scache_store_save_endp(st, 0, 1000, "e1", "pa", a.theirs);
	scache_store_save_dest(st, 0, 1000, "d", "dp1", "e1");
	/* e2 is linked later but has no connection: skipped. */
	scache_store_save_dest(st, 1, 1000, "d", "dp2", "e2");
	fd = scache_store_find_dest(st, 2, "d", &dprop, &eprop);
	assert_true(peer_is(&a, fd));
	assert_string_equal(dprop, "dp1");
	assert_string_equal(eprop, "pa");
	free(dprop);
	free(eprop);
	close(fd);
	/* The links stay; the connection was handed out. */
	assert_int_equal(scache_store_find_dest(st, 3, "d", &dprop, &eprop),
			 -1);
	assert_null(dprop);
	assert_null(eprop);
	assert_int_equal(scache_store_find_dest(st, 3, "nope", &dprop, &eprop),
			 -1);
	assert_int_equal(scache_store_stats(st)->dest_hits, 1);
	assert_int_equal(scache_store_stats(st)->dest_misses, 2);
	/* Lookups through a destination are not endpoint lookups. */
	assert_int_equal(scache_store_stats(st)->endp_hits, 0);
	assert_int_equal(scache_store_stats(st)->endp_misses, 0);
	assert_int_equal(scache_store_stats(st)->max_dests, 1);
	scache_store_destroy(&st);
	peer_free(&a);
}

static void
test_dest_link_refresh_and_expiry(void **state)
{
	struct scache_store *st = scache_store_create(10, 10);
	struct peer a = peer_make(), b = peer_make();
	char *dprop, *eprop;
	int fd;

	(void)state;
	scache_store_save_endp(st, 0, 5000, "e1", "pa", a.theirs);
	scache_store_save_endp(st, 0, 5000, "e2", "pb", b.theirs);
	scache_store_save_dest(st, 0, 100, "d", "old", "e1");
	scache_store_save_dest(st, 0, 100, "d", "x", "e2");
	/* e1 again: new property and expiry, and newest now. */
	scache_store_save_dest(st, 50, 1000, "d", "new", "e1");
	assert_int_equal(st->link_count, 2);
	fd = scache_store_find_dest(st, 200, "d", &dprop, &eprop);
	assert_true(peer_is(&a, fd));
	assert_string_equal(dprop, "new");
	free(dprop);
	free(eprop);
	close(fd);
	/* e2's link expired at 100: the destination leads nowhere now,
	 * though e2's connection is still there. */
	assert_int_equal(st->link_count, 1);
	assert_int_equal(scache_store_find_dest(st, 200, "d", &dprop, &eprop),
			 -1);
	assert_int_equal(scache_store_conn_count(st), 1);
	assert_int_equal(scache_store_expire(st, 2000), 5000);
	assert_int_equal(st->link_count, 0);
	assert_null(htable_find(st->dests, "d"));
	scache_store_destroy(&st);
	peer_free(&a);
	peer_free(&b);
}

static void
test_link_limit_drops_oldest(void **state)
{
	struct scache_store *st = scache_store_create(10, 2);
	char *dprop, *eprop;
	struct peer a = peer_make();

	(void)state;
	scache_store_save_endp(st, 0, 1000, "e1", "pa", a.theirs);
	scache_store_save_dest(st, 0, 1000, "d1", "", "e1");
	scache_store_save_dest(st, 1, 1000, "d2", "", "e2");
	scache_store_save_dest(st, 2, 1000, "d3", "", "e3");
	assert_int_equal(st->link_count, 2);
	assert_null(htable_find(st->dests, "d1"));
	assert_int_equal(scache_store_find_dest(st, 3, "d1", &dprop, &eprop),
			 -1);
	assert_int_equal(scache_store_stats(st)->max_dests, 2);
	scache_store_destroy(&st);
	assert_true(peer_is_closed(&a));
	peer_free(&a);
}

static void
test_stats_reset(void **state)
{
	struct scache_store *st = scache_store_create(10, 10);
	struct peer a = peer_make(), b = peer_make();
	const struct scache_stats *s = scache_store_stats(st);
	char *prop;

	(void)state;
	scache_store_save_endp(st, 0, 1000, "e1", "", a.theirs);
	scache_store_save_endp(st, 0, 1000, "e2", "", b.theirs);
	scache_store_save_dest(st, 0, 1000, "d", "", "e1");
	(void)scache_store_find_endp(st, 0, "x", &prop);
	assert_int_equal(s->max_conns, 2);
	assert_int_equal(s->max_endps, 2);
	close(scache_store_find_endp(st, 0, "e2", &prop));
	free(prop);
	scache_store_stats_reset(st);
	assert_int_equal(s->endp_hits, 0);
	assert_int_equal(s->endp_misses, 0);
	/* Maxima start from what is held now. */
	assert_int_equal(s->max_conns, 1);
	assert_int_equal(s->max_endps, 1);
	assert_int_equal(s->max_dests, 1);
	scache_store_destroy(&st);
	peer_free(&a);
	peer_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endp_newest_first_and_once),
		cmocka_unit_test(test_expiry_closes),
		cmocka_unit_test(test_full_store_drops_oldest),
		cmocka_unit_test(test_dest_finds_newest_endpoint_with_connection),
		cmocka_unit_test(test_dest_link_refresh_and_expiry),
		cmocka_unit_test(test_link_limit_drops_oldest),
		cmocka_unit_test(test_stats_reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
