/*
 * scache_store.c - the connection cache daemon's store (see scache.h).
 *
 * Endpoints and destinations live in hash tables by label. Each endpoint
 * keeps its connections newest first (the newest is the least likely to
 * have been closed by the server), each destination its links newest
 * first; one list of all connections and one of all links, oldest first,
 * give the victims when a limit is reached. An endpoint or destination
 * with nothing left in it is removed at once, so the table counts are
 * the "simultaneous" counts of the statistics.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scache/scache.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mymalloc.h"

struct endp;
struct dest;

struct conn {
	int fd;
	char *prop;
	int64_t expires;
	struct endp *endp;
	struct conn *prev, *next;   /* in the endpoint, newest first */
	struct conn *older, *newer; /* in the store */
};

struct endp {
	char *label;
	struct conn *head;
};

struct link {
	struct dest *dest;
	char *endp_label;
	char *prop;
	int64_t expires;
	struct link *prev, *next;   /* in the destination, newest first */
	struct link *older, *newer; /* in the store */
};

struct dest {
	char *label;
	struct link *head;
};

struct scache_store {
	size_t max_conns, max_links;
	struct htable *endps; /* label -> struct endp */
	struct htable *dests; /* label -> struct dest */
	struct conn *oldest_conn, *newest_conn;
	size_t conn_count;
	struct link *oldest_link, *newest_link;
	size_t link_count;
	struct scache_stats stats;
};

static void
stats_update(struct scache_store *st)
{
	size_t dests = htable_count(st->dests);
	size_t endps = htable_count(st->endps);

	if (dests > st->stats.max_dests)
		st->stats.max_dests = dests;
	if (endps > st->stats.max_endps)
		st->stats.max_endps = endps;
	if (st->conn_count > st->stats.max_conns)
		st->stats.max_conns = st->conn_count;
}

struct scache_store *
scache_store_create(size_t max_conns, size_t max_links)
{
	struct scache_store *st = xcalloc(1, sizeof(*st));

	ASSERT(max_conns > 0 && max_links > 0);
	st->max_conns = max_conns;
	st->max_links = max_links;
	st->endps = htable_create(64);
	st->dests = htable_create(64);
	return st;
}

/* ------------------------------------------------------------------ */
/* Connections.                                                         */

static void
endp_free(void *value)
{
	struct endp *e = value;

	free(e->label);
	free(e);
}

/* Take c out of its endpoint and the store (the endpoint goes when it
 * is left empty); c itself stays the caller's. */
static void
conn_unlink(struct scache_store *st, struct conn *c)
{
	struct endp *e = c->endp;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		e->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	if (c->older != NULL)
		c->older->newer = c->newer;
	else
		st->oldest_conn = c->newer;
	if (c->newer != NULL)
		c->newer->older = c->older;
	else
		st->newest_conn = c->older;
	st->conn_count--;
	if (e->head == NULL)
		(void)htable_remove(st->endps, e->label, endp_free);
}

static void
conn_close(struct scache_store *st, struct conn *c)
{
	conn_unlink(st, c);
	(void)close(c->fd);
	free(c->prop);
	free(c);
}

void
scache_store_save_endp(struct scache_store *st, int64_t now, int64_t ttl_ms,
		       const char *label, const char *prop, int fd)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	struct endp *e;

	if (st->conn_count >= st->max_conns)
		conn_close(st, st->oldest_conn);
	if ((e = htable_find(st->endps, label)) == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->label = xstrdup(label);
		(void)htable_insert(st->endps, label, e);
	}
	c->fd = fd;
	c->prop = xstrdup(prop);
	c->expires = now + ttl_ms;
	c->endp = e;
	c->next = e->head;
	if (e->head != NULL)
		e->head->prev = c;
	e->head = c;
	c->older = st->newest_conn;
	if (st->newest_conn != NULL)
		st->newest_conn->newer = c;
	else
		st->oldest_conn = c;
	st->newest_conn = c;
	st->conn_count++;
	stats_update(st);
}

/* The newest live connection of label, out of the store; -1 if none. */
static int
endp_take(struct scache_store *st, int64_t now, const char *label,
	  char **prop_out)
{
	struct endp *e;

	*prop_out = NULL;
	while ((e = htable_find(st->endps, label)) != NULL) {
		struct conn *c = e->head;
		int fd = c->fd;

		if (c->expires <= now) {
			conn_close(st, c);
			continue;
		}
		conn_unlink(st, c);
		*prop_out = c->prop;
		free(c);
		return fd;
	}
	return -1;
}

int
scache_store_find_endp(struct scache_store *st, int64_t now,
		       const char *label, char **prop_out)
{
	int fd = endp_take(st, now, label, prop_out);

	if (fd >= 0)
		st->stats.endp_hits++;
	else
		st->stats.endp_misses++;
	return fd;
}

/* ------------------------------------------------------------------ */
/* Destinations.                                                        */

static void
dest_free(void *value)
{
	struct dest *d = value;

	free(d->label);
	free(d);
}

static void
link_unlink(struct scache_store *st, struct link *l)
{
	struct dest *d = l->dest;

	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		d->head = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	if (l->older != NULL)
		l->older->newer = l->newer;
	else
		st->oldest_link = l->newer;
	if (l->newer != NULL)
		l->newer->older = l->older;
	else
		st->newest_link = l->older;
	st->link_count--;
	l->prev = l->next = l->older = l->newer = NULL;
	if (d->head == NULL)
		(void)htable_remove(st->dests, d->label, dest_free);
}

static void
link_remove(struct scache_store *st, struct link *l)
{
	link_unlink(st, l);
	free(l->endp_label);
	free(l->prop);
	free(l);
}

/* Put l first in its destination and newest in the store. */
static void
link_push(struct scache_store *st, struct dest *d, struct link *l)
{
	l->dest = d;
	l->next = d->head;
	if (d->head != NULL)
		d->head->prev = l;
	d->head = l;
	l->older = st->newest_link;
	if (st->newest_link != NULL)
		st->newest_link->newer = l;
	else
		st->oldest_link = l;
	st->newest_link = l;
	st->link_count++;
}

static struct dest *
dest_get(struct scache_store *st, const char *label)
{
	struct dest *d = htable_find(st->dests, label);

	if (d == NULL) {
		d = xcalloc(1, sizeof(*d));
		d->label = xstrdup(label);
		(void)htable_insert(st->dests, label, d);
	}
	return d;
}

void
scache_store_save_dest(struct scache_store *st, int64_t now, int64_t ttl_ms,
		       const char *dest_label, const char *dest_prop,
		       const char *endp_label)
{
	struct dest *d = htable_find(st->dests, dest_label);
	struct link *l = NULL;

	for (l = d != NULL ? d->head : NULL; l != NULL; l = l->next)
		if (strcmp(l->endp_label, endp_label) == 0)
			break;
	if (l != NULL) {
		link_unlink(st, l); /* may remove d: dest_get makes it anew */
	} else {
		if (st->link_count >= st->max_links)
			link_remove(st, st->oldest_link);
		l = xcalloc(1, sizeof(*l));
		l->endp_label = xstrdup(endp_label);
	}
	free(l->prop);
	l->prop = xstrdup(dest_prop);
	l->expires = now + ttl_ms;
	link_push(st, dest_get(st, dest_label), l);
	stats_update(st);
}

/* Drop the expired links of dest_label; its entry, if any is left. */
static struct dest *
dest_purge(struct scache_store *st, int64_t now, const char *dest_label)
{
	struct dest *d;

	while ((d = htable_find(st->dests, dest_label)) != NULL) {
		struct link *l = d->head;

		while (l != NULL && l->expires > now)
			l = l->next;
		if (l == NULL)
			return d;
		link_remove(st, l);
	}
	return NULL;
}

int
scache_store_find_dest(struct scache_store *st, int64_t now,
		       const char *dest_label, char **dest_prop_out,
		       char **endp_prop_out)
{
	struct dest *d = dest_purge(st, now, dest_label);

	*dest_prop_out = *endp_prop_out = NULL;
	/* endp_take never touches links, so d and its list stay valid. */
	for (struct link *l = d != NULL ? d->head : NULL; l; l = l->next) {
		int fd = endp_take(st, now, l->endp_label, endp_prop_out);

		if (fd >= 0) {
			*dest_prop_out = xstrdup(l->prop);
			st->stats.dest_hits++;
			return fd;
		}
	}
	st->stats.dest_misses++;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Expiry, statistics, the end.                                         */

static int64_t
earlier(int64_t next, int64_t t)
{
	return next < 0 || t < next ? t : next;
}

int64_t
scache_store_expire(struct scache_store *st, int64_t now)
{
	int64_t next = -1;
	struct conn *c, *c_newer;
	struct link *l, *l_newer;

	for (c = st->oldest_conn; c != NULL; c = c_newer) {
		c_newer = c->newer;
		if (c->expires <= now)
			conn_close(st, c);
		else
			next = earlier(next, c->expires);
	}
	for (l = st->oldest_link; l != NULL; l = l_newer) {
		l_newer = l->newer;
		if (l->expires <= now)
			link_remove(st, l);
		else
			next = earlier(next, l->expires);
	}
	return next;
}

size_t
scache_store_conn_count(const struct scache_store *st)
{
	return st->conn_count;
}

const struct scache_stats *
scache_store_stats(const struct scache_store *st)
{
	return &st->stats;
}

void
scache_store_stats_reset(struct scache_store *st)
{
	memset(&st->stats, 0, sizeof(st->stats));
	stats_update(st);
}

void
scache_store_destroy(struct scache_store **stp)
{
	struct scache_store *st = *stp;

	if (st == NULL)
		return;
	*stp = NULL;
	for (struct conn *c = st->oldest_conn, *newer; c != NULL; c = newer) {
		newer = c->newer;
		conn_close(st, c);
	}
	for (struct link *l = st->oldest_link, *newer; l != NULL; l = newer) {
		newer = l->newer;
		link_remove(st, l);
	}
	htable_destroy(&st->endps, endp_free);
	htable_destroy(&st->dests, dest_free);
	free(st);
}
