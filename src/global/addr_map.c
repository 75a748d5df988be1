/*
 * addr_map.c - canonical mapping, virtual alias expansion and domain
 * masquerading over lists of lookup tables.
 *
 * Pure logic over maps.h: no logging, no parameters. The cleanup daemon
 * decides what a failure means (defer the message) and logs the
 * warnings collected in addr_map_ctx.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/addr_map.h"
#include "global/mail_addr.h"
#include "util/dict.h"
#include "util/htable.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

size_t
addr_map_ext_offset(const char *local, size_t local_len, const char *delimiters)
{
	size_t i;

	if (delimiters == NULL || *delimiters == 0)
		return local_len;
	for (i = 1; i < local_len; i++)
		if (local[i] != 0 && strchr(delimiters, local[i]) != NULL)
			break;
	if (i >= local_len)
		return local_len;
	if (local[i] == '-' &&
	    ((local_len >= 6 && strncasecmp(local, "owner-", 6) == 0) ||
	     (local_len > 8 &&
	      strncasecmp(local + local_len - 8, "-request", 8) == 0)))
		return local_len;
	return i;
}

/* One address of a table result, comments removed, '<' '>' stripped. */
static void
finish_item(struct strbuf *item, struct argv *out)
{
	char *text = item->data;
	char *lt = strrchr(text, '<');
	char *end;
	char *internal;

	if (lt != NULL) {
		text = lt + 1;
		if ((end = strchr(text, '>')) != NULL)
			*end = 0;
	}
	while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
		text++;
	end = text + strlen(text);
	while (end > text && strchr(" \t\r\n", end[-1]) != NULL)
		*--end = 0;
	if (*text != 0) {
		internal = mail_addr_unquote(text);
		argv_add(out, internal);
		free(internal);
	}
	strbuf_reset(item);
}

void
addr_map_parse_result(const char *value, struct argv *out)
{
	struct strbuf item;
	bool in_quote = false;
	int depth = 0; /* comment nesting */

	strbuf_init(&item, STRBUF_UNLIMITED);
	for (const char *cp = value; *cp != 0; cp++) {
		if (*cp == '\\' && cp[1] != 0) {
			if (depth == 0) {
				(void)strbuf_append(&item, cp, 2);
			}
			cp++;
		} else if (in_quote) {
			in_quote = *cp != '"';
			(void)strbuf_append_char(&item, *cp);
		} else if (*cp == '(') {
			depth++;
		} else if (*cp == ')' && depth > 0) {
			depth--;
		} else if (depth > 0) {
			continue;
		} else if (*cp == ',') {
			finish_item(&item, out);
		} else {
			in_quote = *cp == '"';
			(void)strbuf_append_char(&item, *cp);
		}
	}
	finish_item(&item, out);
	strbuf_deinit(&item);
}

/* A lookup key: what to ask for, and what a match means. */
struct key {
	char *text;
	bool is_partial;  /* fixed-string tables only */
	bool is_stripped; /* the extension was left out */
};

#define MAX_KEYS 5

static void
key_add(struct key *keys, size_t *count, const char *local, size_t local_len,
	const char *domain, bool is_partial, bool is_stripped)
{
	struct strbuf raw;

	strbuf_init(&raw, STRBUF_UNLIMITED);
	if (local != NULL)
		(void)strbuf_append(&raw, local, local_len);
	if (domain != NULL)
		(void)strbuf_printf(&raw, "@%s", domain);
	keys[*count].text =
		local == NULL ? xstrdup(raw.data) : mail_addr_quote(raw.data);
	keys[*count].is_partial = is_partial;
	keys[*count].is_stripped = is_stripped;
	(*count)++;
	strbuf_deinit(&raw);
}

static int
domain_is_local(const struct addr_map_ctx *ac, const char *domain,
		struct err *err)
{
	char *dom;
	size_t len;
	int ret;

	if (domain == NULL)
		return 1;
	if (ac->is_local_domain == NULL)
		return 0;
	dom = xstrdup(domain);
	len = strlen(dom);
	if (len > 0 && dom[len - 1] == '.')
		dom[len - 1] = 0;
	for (char *cp = dom; *cp; cp++)
		*cp = (char)tolower((unsigned char)*cp);
	ret = ac->is_local_domain(dom, ac->ctx, err);
	free(dom);
	return ret;
}

/* The keys of the lookup order, in order; -1 if the local test failed. */
static int
make_keys(const struct addr_map_ctx *ac, const char *addr, struct key *keys,
	  size_t *count, struct err *err)
{
	struct mail_addr_parts parts;
	size_t base;
	int is_local;

	mail_addr_split(addr, &parts);
	base = addr_map_ext_offset(parts.local, parts.local_len,
				   ac->recipient_delimiter);
	*count = 0;
	key_add(keys, count, parts.local, parts.local_len, parts.domain, false,
		false);
	if (base < parts.local_len && parts.domain != NULL)
		key_add(keys, count, parts.local, base, parts.domain, true,
			true);
	if ((is_local = domain_is_local(ac, parts.domain, err)) < 0)
		return -1;
	if (is_local && parts.domain != NULL)
		key_add(keys, count, parts.local, parts.local_len, NULL, true,
			false);
	if (is_local && base < parts.local_len)
		key_add(keys, count, parts.local, base, NULL, true, true);
	if (parts.domain != NULL)
		key_add(keys, count, NULL, 0, parts.domain, true, false);
	return 0;
}

/* "@dom" results keep the local part; a stripped match gets the
 * extension back when asked. */
static void
fix_results(struct argv *res, const char *addr, const struct key *key,
	    const struct addr_map_ctx *ac, bool want_propagate)
{
	struct mail_addr_parts parts;
	struct strbuf buf;
	size_t base;
	const char *at;

	mail_addr_split(addr, &parts);
	base = addr_map_ext_offset(parts.local, parts.local_len,
				   ac->recipient_delimiter);
	strbuf_init(&buf, STRBUF_UNLIMITED);
	for (size_t i = 0; i < res->count; i++) {
		char *item = res->items[i];

		strbuf_reset(&buf);
		if (item[0] == '@') {
			(void)strbuf_append(&buf, parts.local, parts.local_len);
			(void)strbuf_append_str(&buf, item);
		} else if (key->is_stripped && want_propagate) {
			at = strrchr(item, '@');
			if (at == NULL)
				at = item + strlen(item);
			(void)strbuf_append(&buf, item, (size_t)(at - item));
			(void)strbuf_append(&buf, parts.local + base,
					    parts.local_len - base);
			(void)strbuf_append_str(&buf, at);
		} else {
			continue;
		}
		free(item);
		res->items[i] = xstrdup(buf.data);
	}
	strbuf_deinit(&buf);
}

int
addr_map_find(struct maps *maps, const struct addr_map_ctx *ac,
	      const char *addr, bool want_propagate, struct argv **result_out,
	      struct err *err)
{
	struct key keys[MAX_KEYS];
	size_t count = 0;
	const char *value = NULL;
	int ret = DICT_NOTFOUND;

	*result_out = NULL;
	if (maps_is_empty(maps))
		return DICT_NOTFOUND;
	if (make_keys(ac, addr, keys, &count, err) < 0)
		ret = DICT_ERROR;
	for (size_t i = 0; ret == DICT_NOTFOUND && i < count; i++) {
		ret = maps_find(maps, keys[i].text, keys[i].is_partial, &value,
				err);
		if (ret != DICT_FOUND)
			continue;
		*result_out = argv_create();
		addr_map_parse_result(value, *result_out);
		fix_results(*result_out, addr, &keys[i], ac, want_propagate);
	}
	for (size_t i = 0; i < count; i++)
		free(keys[i].text);
	return ret;
}

int
addr_map_canonical(struct maps *maps, const struct addr_map_ctx *ac,
		   char **addrp, bool want_propagate, struct err *err)
{
	struct argv *res;
	bool is_same;
	int ret;

	for (int n = 0; n < ADDR_MAP_CANONICAL_NESTING; n++) {
		ret = addr_map_find(maps, ac, *addrp, want_propagate, &res,
				    err);
		if (ret == DICT_ERROR)
			return ADDR_MAP_ERROR;
		if (ret == DICT_NOTFOUND || res->count == 0) {
			argv_destroy(&res);
			return ADDR_MAP_OK;
		}
		if (res->count > 1 && ac->warnings != NULL) {
			struct strbuf w;

			strbuf_init(&w, STRBUF_UNLIMITED);
			(void)strbuf_printf(&w, "multi-valued %s entry for %s",
					    maps_title(maps), *addrp);
			argv_add(ac->warnings, w.data);
			strbuf_deinit(&w);
		}
		is_same = strcasecmp(res->items[0], *addrp) == 0;
		free(*addrp);
		*addrp = xstrdup(res->items[0]);
		argv_destroy(&res);
		if (is_same)
			return ADDR_MAP_OK;
	}
	err_set(err, "unreasonable %s map nesting for %s", maps_title(maps),
		*addrp);
	return ADDR_MAP_LIMIT;
}

static bool
argv_has(const struct argv *av, const char *text)
{
	for (size_t i = 0; i < av->count; i++)
		if (strcmp(av->items[i], text) == 0)
			return true;
	return false;
}

/* Drop later copies of an address, keeping the first. */
static void
dedup(struct argv *av)
{
	struct argv *copy = argv_create();

	for (size_t i = 0; i < av->count; i++)
		if (!argv_has(copy, av->items[i]))
			argv_add(copy, av->items[i]);
	argv_clear(av);
	for (size_t i = 0; i < copy->count; i++)
		argv_add(av, copy->items[i]);
	argv_destroy(&copy);
}

/* Expand out->items[i] once. Returns 1 if the list changed, 0 if not,
 * or an addr_map_status. */
static int
expand_one(struct maps *maps, const struct addr_map_ctx *ac, struct argv *out,
	   size_t i, struct htable *done, bool want_propagate,
	   long expansion_limit, const char *addr, struct err *err)
{
	struct argv *res;
	char *orig;
	int changed = 0;
	int ret = addr_map_find(maps, ac, out->items[i], want_propagate, &res,
				err);

	if (ret == DICT_ERROR)
		return ADDR_MAP_ERROR;
	if (ret == DICT_NOTFOUND || res->count == 0) {
		(void)htable_insert(done, out->items[i], NULL);
		argv_destroy(&res);
		return 0;
	}
	orig = xstrdup(out->items[i]);
	for (size_t r = 0; r < res->count; r++) {
		const char *item = res->items[r];
		bool is_self = strcasecmp(item, orig) == 0;

		if (is_self)
			(void)htable_insert(done, item, NULL);
		else
			changed = 1;
		if (r == 0) {
			free(out->items[i]);
			out->items[i] = xstrdup(item);
		} else if (!argv_has(out, item)) {
			argv_add(out, item);
		}
		if (out->count > (size_t)expansion_limit) {
			err_set(err,
				"unreasonable %s map expansion size for %s",
				maps_title(maps), addr);
			changed = ADDR_MAP_LIMIT;
			break;
		}
	}
	free(orig);
	argv_destroy(&res);
	return changed;
}

int
addr_map_expand(struct maps *maps, const struct addr_map_ctx *ac,
		const char *addr, bool want_propagate, long recursion_limit,
		long expansion_limit, struct argv *out, struct err *err)
{
	struct htable *done = htable_create(16);
	int ret = ADDR_MAP_OK;
	int changed = 1;

	argv_clear(out);
	argv_add(out, addr);
	for (long pass = 0; changed > 0 && ret == ADDR_MAP_OK; pass++) {
		if (pass >= recursion_limit) {
			err_set(err, "unreasonable %s map nesting for %s",
				maps_title(maps), addr);
			ret = ADDR_MAP_LIMIT;
			break;
		}
		changed = 0;
		for (size_t i = 0; i < out->count && ret == ADDR_MAP_OK; i++) {
			int one;

			if (htable_locate(done, out->items[i]) != NULL)
				continue;
			one = expand_one(maps, ac, out, i, done, want_propagate,
					 expansion_limit, addr, err);
			if (one < 0)
				ret = one;
			else if (one > 0)
				changed = 1;
		}
	}
	htable_destroy(&done, NULL);
	if (ret == ADDR_MAP_OK)
		dedup(out);
	return ret;
}

char *
addr_map_masquerade(const char *addr, const struct argv *domains,
		    const struct argv *exceptions)
{
	struct mail_addr_parts parts;
	size_t dlen;

	mail_addr_split(addr, &parts);
	if (parts.domain == NULL || domains == NULL)
		return NULL;
	for (size_t i = 0; exceptions != NULL && i < exceptions->count; i++)
		if (strlen(exceptions->items[i]) == parts.local_len &&
		    strncasecmp(exceptions->items[i], parts.local,
				parts.local_len) == 0)
			return NULL;
	dlen = strlen(parts.domain);
	for (size_t i = 0; i < domains->count; i++) {
		const char *masq = domains->items[i];
		bool is_negated = *masq == '!';
		size_t mlen;
		struct strbuf out;

		masq += is_negated;
		mlen = strlen(masq);
		if (mlen == 0 || mlen > dlen)
			continue;
		if (mlen == dlen) {
			if (strcasecmp(masq, parts.domain) == 0)
				return NULL;
			continue;
		}
		if (parts.domain[dlen - mlen - 1] != '.' ||
		    strcasecmp(masq, parts.domain + dlen - mlen) != 0)
			continue;
		if (is_negated)
			return NULL;
		strbuf_init(&out, STRBUF_UNLIMITED);
		(void)strbuf_append(&out, parts.local, parts.local_len);
		(void)strbuf_printf(&out, "@%s", masq);
		return out.data;
	}
	return NULL;
}
