/*
 * smtp_cache.c - the smtp/lmtp agents' side of the connection cache:
 * policy, labels and the property string (see smtp_cache.h). The
 * talking is done by scache_clnt.c, which never fails a delivery.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "global/deliver_request.h"
#include "global/smtp_cache.h"
#include "global/xtext.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

struct smtp_cache {
	char *service;
	char *helo_name;
	bool cache_on_demand;
	struct argv *cache_destinations;
	int cache_time_limit;
	long long reuse_time_limit_ms;
	unsigned reuse_count_limit;
	struct scache_clnt *clnt;
};

/* ------------------------------------------------------------------ */
/* The property string.                                                 */

void
smtp_cache_endp_clear(struct smtp_cache_endp *e)
{
	free(e->host);
	free(e->addr);
	memset(e, 0, sizeof(*e));
}

static int
put_text(struct strbuf *out, const char *name, const char *value)
{
	return strbuf_printf(out, "%s%s=", out->len > 0 ? " " : "", name) < 0 ||
			       xtext_encode(value, strlen(value), out) < 0
		       ? -1
		       : 0;
}

int
smtp_cache_prop_encode(const struct smtp_cache_endp *e, struct strbuf *out)
{
	if (put_text(out, "host", e->host) < 0 ||
	    put_text(out, "addr", e->addr) < 0)
		return -1;
	return strbuf_printf(out,
			     " port=%u unix=%d features=%u size=%lld helo=%d "
			     "created=%lld uses=%u",
			     e->port, e->is_unix, e->state.features,
			     e->state.size_limit, e->state.is_helo,
			     e->created_ms, e->uses);
}

/* A decimal in 0..max. */
static int
parse_num(const char *text, unsigned long long max, unsigned long long *out)
{
	char *end;

	if (*text < '0' || *text > '9')
		return -1;
	errno = 0;
	*out = strtoull(text, &end, 10);
	return *end != 0 || errno != 0 || *out > max ? -1 : 0;
}

/* The properties, in the order of the "missing NAME" checks. */
enum prop_name {
	PROP_HOST,
	PROP_ADDR,
	PROP_PORT,
	PROP_UNIX,
	PROP_FEATURES,
	PROP_SIZE,
	PROP_HELO,
	PROP_CREATED,
	PROP_USES,
	PROP_COUNT
};

static const struct {
	const char *name;
	unsigned long long max; /* 0: text */
} props[PROP_COUNT] = {
	[PROP_HOST] = { "host", 0 },	    [PROP_ADDR] = { "addr", 0 },
	[PROP_PORT] = { "port", 65535 },    [PROP_UNIX] = { "unix", 1 },
	[PROP_FEATURES] = { "features", 0xffff },
	[PROP_SIZE] = { "size", LLONG_MAX }, [PROP_HELO] = { "helo", 1 },
	[PROP_CREATED] = { "created", LLONG_MAX },
	[PROP_USES] = { "uses", UINT_MAX },
};

static void
prop_store(struct smtp_cache_endp *e, enum prop_name which,
	   unsigned long long num, char *text)
{
	switch (which) {
	case PROP_HOST:
		e->host = text;
		return;
	case PROP_ADDR:
		e->addr = text;
		return;
	case PROP_PORT:
		e->port = (unsigned)num;
		return;
	case PROP_UNIX:
		e->is_unix = num != 0;
		return;
	case PROP_FEATURES:
		e->state.features = (unsigned)num;
		return;
	case PROP_SIZE:
		e->state.size_limit = (long long)num;
		return;
	case PROP_HELO:
		e->state.is_helo = num != 0;
		return;
	case PROP_CREATED:
		e->created_ms = (long long)num;
		return;
	default:
		e->uses = (unsigned)num;
		return;
	}
}

/* One "name=value": stored and marked seen; unknown names are skipped. */
static int
prop_take(char *item, struct smtp_cache_endp *e, bool *seen, struct err *err)
{
	char *eq = strchr(item, '=');
	unsigned long long num = 0;
	struct strbuf text;

	if (eq == NULL) {
		err_set(err, "bad property \"%.100s\"", item);
		return -1;
	}
	*eq++ = 0;
	for (int i = 0; i < PROP_COUNT; i++) {
		if (strcmp(item, props[i].name) != 0 || seen[i])
			continue;
		if (props[i].max != 0) {
			if (parse_num(eq, props[i].max, &num) < 0)
				goto bad;
			prop_store(e, (enum prop_name)i, num, NULL);
		} else {
			strbuf_init(&text, SCACHE_PROP_MAX);
			if (xtext_decode(eq, XTEXT_FLAG_UTF8, &text) < 0 ||
			    text.len == 0) {
				strbuf_deinit(&text);
				goto bad;
			}
			prop_store(e, (enum prop_name)i, 0, text.data);
		}
		seen[i] = true;
		return 0;
	}
	return 0;
bad:
	err_set(err, "bad %s value \"%.100s\"", item, eq);
	return -1;
}

int
smtp_cache_prop_decode(const char *text, struct smtp_cache_endp *e,
		       struct err *err)
{
	bool seen[PROP_COUNT] = { false };
	char *copy = xstrdup(text);
	char *cursor = copy, *item;
	int ret = 0;

	memset(e, 0, sizeof(*e));
	while (ret == 0 && (item = str_token(&cursor, " ")) != NULL)
		ret = prop_take(item, e, seen, err);
	for (int i = 0; ret == 0 && i < PROP_COUNT; i++) {
		if (!seen[i]) {
			err_set(err, "missing %s", props[i].name);
			ret = -1;
		}
	}
	free(copy);
	if (ret < 0)
		smtp_cache_endp_clear(e);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Policy and labels.                                                   */

struct smtp_cache *
smtp_cache_create(const struct smtp_cache_conf *conf, struct scache_clnt *clnt)
{
	struct smtp_cache *c = xcalloc(1, sizeof(*c));

	c->service = xstrdup(conf->service);
	c->helo_name = xstrdup(conf->helo_name);
	c->cache_on_demand = conf->cache_on_demand;
	c->cache_destinations = argv_create();
	for (size_t i = 0; i < conf->cache_destinations->count; i++)
		argv_add(c->cache_destinations,
			 conf->cache_destinations->items[i]);
	c->cache_time_limit = conf->cache_time_limit;
	c->reuse_time_limit_ms = conf->reuse_time_limit_ms;
	c->reuse_count_limit = conf->reuse_count_limit;
	c->clnt = clnt;
	return c;
}

void
smtp_cache_destroy(struct smtp_cache **cp)
{
	struct smtp_cache *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	scache_clnt_destroy(&c->clnt);
	argv_destroy(&c->cache_destinations);
	free(c->service);
	free(c->helo_name);
	free(c);
}

int
smtp_cache_dest_label(const struct smtp_cache *c, const char *nexthop,
		      struct strbuf *out)
{
	return strbuf_printf(out, "%s:%s:%s", c->service, c->helo_name,
			     nexthop);
}

int
smtp_cache_endp_label(const struct smtp_cache *c, const char *addr,
		      unsigned port, bool is_unix, struct strbuf *out)
{
	if (is_unix)
		return strbuf_printf(out, "%s:%s:unix:%s", c->service,
				     c->helo_name, addr);
	return strbuf_printf(out, "%s:%s:[%s]:%u", c->service, c->helo_name,
			     addr, port);
}

static bool
is_listed(const struct smtp_cache *c, const char *nexthop)
{
	for (size_t i = 0; i < c->cache_destinations->count; i++)
		if (strcasecmp(c->cache_destinations->items[i], nexthop) == 0)
			return true;
	return false;
}

bool
smtp_cache_want_lookup(const struct smtp_cache *c, const char *nexthop)
{
	return c->clnt != NULL && (c->cache_on_demand || is_listed(c, nexthop));
}

bool
smtp_cache_want_store(const struct smtp_cache *c, const char *nexthop,
		      int flags)
{
	if (c->clnt == NULL)
		return false;
	if (is_listed(c, nexthop))
		return true;
	return c->cache_on_demand && (flags & DELIVER_FLAG_CONN_STORE) != 0;
}

bool
smtp_cache_is_reusable(const struct smtp_cache *c,
		       const struct smtp_cache_endp *e, long long now_ms)
{
	if (c->reuse_count_limit > 0 && e->uses > c->reuse_count_limit)
		return false;
	return now_ms - e->created_ms < c->reuse_time_limit_ms;
}

/* ------------------------------------------------------------------ */
/* Finding and saving.                                                  */

/* Check what the cache gave: fd, or -1 after closing it. */
static int
found(struct smtp_cache *c, int fd, const char *label, char *prop,
      struct smtp_cache_endp *e)
{
	struct err err;

	if (fd < 0) {
		free(prop);
		return -1;
	}
	if (smtp_cache_prop_decode(prop, e, &err) < 0) {
		log_warning("connection cache: %s: bad properties: %s", label,
			    err.text);
		fd = -1;
	} else if (!smtp_cache_is_reusable(c, e, clock_ms())) {
		smtp_cache_endp_clear(e);
		fd = -1;
	}
	free(prop);
	return fd;
}

int
smtp_cache_find_dest(struct smtp_cache *c, const char *nexthop,
		     struct smtp_cache_endp *e)
{
	struct strbuf label;
	char *dest_prop = NULL, *endp_prop = NULL;
	int fd = -1, ret;

	memset(e, 0, sizeof(*e));
	strbuf_init(&label, SCACHE_LABEL_MAX);
	if (c->clnt != NULL && smtp_cache_dest_label(c, nexthop, &label) == 0)
		fd = scache_clnt_find_dest(c->clnt, strbuf_text(&label),
					   &dest_prop, &endp_prop);
	ret = found(c, fd, strbuf_text(&label), endp_prop, e);
	if (fd >= 0 && ret < 0)
		(void)close(fd);
	free(dest_prop);
	strbuf_deinit(&label);
	return ret;
}

int
smtp_cache_find_endp(struct smtp_cache *c, const char *addr, unsigned port,
		     bool is_unix, struct smtp_cache_endp *e)
{
	struct strbuf label;
	char *prop = NULL;
	int fd = -1, ret;

	memset(e, 0, sizeof(*e));
	strbuf_init(&label, SCACHE_LABEL_MAX);
	if (c->clnt != NULL &&
	    smtp_cache_endp_label(c, addr, port, is_unix, &label) == 0)
		fd = scache_clnt_find_endp(c->clnt, strbuf_text(&label), &prop);
	ret = found(c, fd, strbuf_text(&label), prop, e);
	if (fd >= 0 && ret < 0)
		(void)close(fd);
	strbuf_deinit(&label);
	return ret;
}

int
smtp_cache_save(struct smtp_cache *c, const char *nexthop,
		const struct smtp_cache_endp *e, int fd)
{
	struct strbuf endp_label, dest_label, prop;
	int ret = -1;

	strbuf_init(&endp_label, SCACHE_LABEL_MAX);
	strbuf_init(&dest_label, SCACHE_LABEL_MAX);
	strbuf_init(&prop, SCACHE_PROP_MAX);
	if (c->clnt == NULL ||
	    smtp_cache_endp_label(c, e->addr, e->port, e->is_unix,
				  &endp_label) < 0 ||
	    (nexthop != NULL &&
	     smtp_cache_dest_label(c, nexthop, &dest_label) < 0) ||
	    smtp_cache_prop_encode(e, &prop) < 0) {
		(void)close(fd);
	} else if (nexthop != NULL) {
		ret = scache_clnt_save_endp_dest(
			c->clnt, c->cache_time_limit, strbuf_text(&endp_label),
			strbuf_text(&prop), fd, strbuf_text(&dest_label), "");
	} else {
		ret = scache_clnt_save_endp(c->clnt, c->cache_time_limit,
					    strbuf_text(&endp_label),
					    strbuf_text(&prop), fd);
	}
	strbuf_deinit(&endp_label);
	strbuf_deinit(&dest_label);
	strbuf_deinit(&prop);
	return ret;
}
