/*
 * match_list.c - Postfix-style pattern lists (see match_list.h).
 *
 * The list is parsed once into items: folded text patterns, open tables,
 * and (NAMADR lists) networks as bytes and masks. Matching walks the items
 * in order; the first item that matches decides, negated or not. A table
 * that cannot answer stops the walk with MATCH_LIST_ERROR.
 * Security: list text is configuration; /file contents are bounded per
 * line and by nesting depth.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/argv.h"
#include "util/cidr.h"
#include "util/dict.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

#include "global/match_list.h"

enum item_type {
	ITEM_TEXT,  /* folded pattern text */
	ITEM_TABLE, /* type:table */
	ITEM_NET,   /* address or network (NAMADR lists) */
};

struct match_item {
	enum item_type type;
	bool is_negated;
	char *text;          /* ITEM_TEXT: folded pattern */
	struct dict *dict;   /* ITEM_TABLE */
	struct cidr_net net; /* ITEM_NET */
};

struct match_list {
	char *pname;
	enum match_list_kind kind;
	int flags;
	struct match_item *items;
	size_t count;
	size_t cap;
	struct argv *warnings;
};

static int parse_text(struct match_list *list, char *text, bool is_negated,
		      int depth, struct err *err);

static struct match_item *
item_add(struct match_list *list, enum item_type type, bool is_negated)
{
	struct match_item *item;

	if (list->count == list->cap) {
		list->cap = list->cap ? 2 * list->cap : 8;
		list->items = xreallocarray(list->items, list->cap,
					    sizeof(*list->items));
	}
	item = list->items + list->count++;
	memset(item, 0, sizeof(*item));
	item->type = type;
	item->is_negated = is_negated;
	return item;
}

/* IPv4-mapped IPv6 addresses are IPv4; messages quote items as written. */
#define NET_FLAGS (CIDR_FLAG_V4_MAPPED | CIDR_FLAG_QUOTE_WHOLE)

static int
add_net(struct match_list *list, const char *token, bool is_negated,
	struct err *err)
{
	struct match_item *item = item_add(list, ITEM_NET, is_negated);

	if (cidr_net_parse(token, NET_FLAGS, &item->net, err) < 0) {
		list->count--;
		err_prefix(err, "%s", list->pname);
		return -1;
	}
	return 0;
}

static bool
looks_like_net(const char *token)
{
	unsigned char bytes[4];

	return *token == '[' || strchr(token, '/') != NULL ||
	       inet_pton(AF_INET, token, bytes) == 1;
}

static int
add_table(struct match_list *list, const char *token, bool is_negated,
	  struct err *err)
{
	struct dict *dict = dict_open(token, O_RDONLY, DICT_FLAG_FOLD_FIX, err);

	if (dict == NULL) {
		err_prefix(err, "%s", list->pname);
		return -1;
	}
	item_add(list, ITEM_TABLE, is_negated)->dict = dict;
	return 0;
}

/* Read a /file's items; each physical line is parsed as list text. */
static int
parse_file(struct match_list *list, const char *path, bool is_negated,
	   int depth, struct err *err)
{
	FILE *fp;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0;
	int ret = 0;

	if (depth > MATCH_LIST_MAX_NESTING) {
		err_set(err, "%s: %s: /file nesting is deeper than %d",
			list->pname, path, MATCH_LIST_MAX_NESTING);
		return -1;
	}
	if ((fp = fopen(path, "r")) == NULL) {
		err_set(err, "%s: open %s: %s", list->pname, path,
			strerror(errno));
		return -1;
	}
	while (ret == 0 && (len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if ((size_t)len > MATCH_LIST_MAX_LINE) {
			err_set(err, "%s: %s, line %d: line too long",
				list->pname, path, lineno);
			ret = -1;
		} else if (memchr(line, 0, (size_t)len) != NULL) {
			err_set(err, "%s: %s, line %d: contains a NUL byte",
				list->pname, path, lineno);
			ret = -1;
		} else if (line[0] != '#') {
			ret = parse_text(list, line, is_negated, depth, err);
		}
	}
	if (ret == 0 && ferror(fp)) {
		err_set(err, "%s: read %s: %s", list->pname, path,
			strerror(errno));
		ret = -1;
	}
	free(line);
	fclose(fp);
	return ret;
}

/* One item of list text (negation already taken off). */
static int
parse_item(struct match_list *list, char *token, bool is_negated, int depth,
	   struct err *err)
{
	char *inner;

	if (*token == '{') {
		if ((inner = str_unbrace(token, err)) == NULL) {
			err_prefix(err, "%s", list->pname);
			return -1;
		}
		return parse_text(list, inner, is_negated, depth, err);
	}
	if (*token == '/')
		return parse_file(list, token, is_negated, depth + 1, err);
	if (*token != '[' && strchr(token, ':') != NULL)
		return add_table(list, token, is_negated, err);
	if (list->kind == MATCH_LIST_NAMADR && looks_like_net(token))
		return add_net(list, token, is_negated, err);
	item_add(list, ITEM_TEXT, is_negated)->text =
		str_lowercase(xstrdup(token));
	return 0;
}

static int
parse_text(struct match_list *list, char *text, bool is_negated, int depth,
	   struct err *err)
{
	char *cursor = text;
	char *token;
	bool negated;

	while ((token = str_token_braced(&cursor, TOKENS_LIST_DELIMS)) !=
	       NULL) {
		if (*token == '#') {
			char *warning = xasprintf(
				"%s: comment at end of line is not supported: "
				"%s %s",
				list->pname, token, str_trim(cursor));

			argv_add(list->warnings, str_trim(warning));
			free(warning);
			return 0;
		}
		for (negated = is_negated; *token == '!'; token++)
			negated = !negated;
		if (*token == 0) {
			err_set(err, "%s: no pattern after '!'", list->pname);
			return -1;
		}
		if (parse_item(list, token, negated, depth, err) < 0)
			return -1;
	}
	return 0;
}

struct match_list *
match_list_create(const char *pname, enum match_list_kind kind, int flags,
		  const char *text, struct err *err)
{
	struct match_list *list = xmalloc(sizeof(*list));
	char *copy = xstrdup(text);
	int ret;

	list->pname = xstrdup(pname);
	list->kind = kind;
	list->flags = flags;
	list->warnings = argv_create();
	ret = parse_text(list, copy, false, 0, err);
	free(copy);
	if (ret < 0)
		match_list_destroy(&list);
	return list;
}

void
match_list_destroy(struct match_list **listp)
{
	struct match_list *list = *listp;

	if (list == NULL)
		return;
	for (size_t i = 0; i < list->count; i++) {
		free(list->items[i].text);
		dict_close(&list->items[i].dict);
	}
	free(list->items);
	argv_destroy(&list->warnings);
	free(list->pname);
	free(list);
	*listp = NULL;
}

const struct argv *
match_list_warnings(const struct match_list *list)
{
	return list->warnings;
}

/* Table lookup: MATCH, NO_MATCH or ERROR (err: "PNAME: TABLE: reason"). */
static int
table_lookup(struct match_list *list, struct dict *dict, const char *key,
	     struct err *err)
{
	const char *value;

	switch (dict_lookup(dict, key, &value, err)) {
	case DICT_FOUND:
		return MATCH_LIST_MATCH;
	case DICT_NOTFOUND:
		return MATCH_LIST_NO_MATCH;
	default:
		err_prefix(err, "%s", list->pname);
		return MATCH_LIST_ERROR;
	}
}

/* The name, then (fixed-string tables only) its parent domains. */
static int
table_hostname(struct match_list *list, struct dict *dict, const char *name,
	       struct err *err)
{
	bool is_parent = (list->flags & MATCH_FLAG_PARENT) != 0;
	const char *dot;
	int ret = table_lookup(list, dict, name, err);

	if (ret != MATCH_LIST_NO_MATCH || (dict->flags & DICT_FLAG_FIXED) == 0)
		return ret;
	for (dot = strchr(name + 1, '.'); dot; dot = strchr(dot + 1, '.'))
		if ((ret = table_lookup(list, dict, is_parent ? dot + 1 : dot,
					err)) != MATCH_LIST_NO_MATCH)
			return ret;
	return MATCH_LIST_NO_MATCH;
}

static bool
text_hostname(const struct match_list *list, const char *name,
	      const char *pattern)
{
	bool is_parent = (list->flags & MATCH_FLAG_PARENT) != 0;

	if (strcmp(name, pattern) == 0)
		return true;
	for (const char *dot = strchr(name + 1, '.'); dot;
	     dot = strchr(dot + 1, '.')) {
		if (*pattern == '.' && strcmp(dot, pattern) == 0)
			return true;
		if (is_parent && strcmp(dot + 1, pattern) == 0)
			return true;
	}
	return false;
}

static int
item_hostname(struct match_list *list, const struct match_item *item,
	      const char *name, struct err *err)
{
	if (item->type == ITEM_TABLE)
		return table_hostname(list, item->dict, name, err);
	if (item->type == ITEM_TEXT)
		return text_hostname(list, name, item->text);
	return MATCH_LIST_NO_MATCH;
}

static int
item_hostaddr(struct match_list *list, const struct match_item *item,
	      const char *addr, struct err *err)
{
	struct cidr_addr key;

	if (item->type == ITEM_TABLE)
		return table_lookup(list, item->dict, addr, err);
	if (item->type == ITEM_TEXT)
		return strcmp(addr, item->text) == 0;
	if (!cidr_addr_parse(addr, CIDR_FLAG_V4_MAPPED, &key))
		return MATCH_LIST_NO_MATCH;
	return cidr_net_match(&item->net, &key) ? MATCH_LIST_MATCH
						: MATCH_LIST_NO_MATCH;
}

static int
item_string(struct match_list *list, const struct match_item *item,
	    const char *text, struct err *err)
{
	if (item->type == ITEM_TABLE)
		return table_lookup(list, item->dict, text, err);
	return strcmp(text, item->text) == 0;
}

/* Walk the items; name/addr are folded copies, either may be NULL. */
static int
match_walk(struct match_list *list, const char *name, const char *addr,
	   struct err *err)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct match_item *item = list->items + i;
		int ret = MATCH_LIST_NO_MATCH;

		if (list->kind == MATCH_LIST_STRING)
			ret = item_string(list, item, name, err);
		else if (name != NULL)
			ret = item_hostname(list, item, name, err);
		if (ret == MATCH_LIST_NO_MATCH && addr != NULL)
			ret = item_hostaddr(list, item, addr, err);
		if (ret == MATCH_LIST_ERROR)
			return ret;
		if (ret == MATCH_LIST_MATCH)
			return item->is_negated ? MATCH_LIST_NO_MATCH
						: MATCH_LIST_MATCH;
	}
	return MATCH_LIST_NO_MATCH;
}

static char *
fold_or_null(const char *text)
{
	return text && *text ? str_lowercase(xstrdup(text)) : NULL;
}

int
match_list_match_string(struct match_list *list, const char *text,
			struct err *err)
{
	char *folded = str_lowercase(xstrdup(text));
	int ret;

	ASSERT(list->kind == MATCH_LIST_STRING);
	ret = match_walk(list, folded, NULL, err);
	free(folded);
	return ret;
}

int
match_list_match_domain(struct match_list *list, const char *name,
			struct err *err)
{
	char *folded = fold_or_null(name);
	int ret;

	ASSERT(list->kind == MATCH_LIST_DOMAIN);
	ret = folded ? match_walk(list, folded, NULL, err)
		     : MATCH_LIST_NO_MATCH;
	free(folded);
	return ret;
}

int
match_list_match_namadr(struct match_list *list, const char *name,
			const char *addr, struct err *err)
{
	char *folded_name = fold_or_null(name);
	char *folded_addr = fold_or_null(addr);
	int ret;

	ASSERT(list->kind == MATCH_LIST_NAMADR);
	ret = match_walk(list, folded_name, folded_addr, err);
	free(folded_name);
	free(folded_addr);
	return ret;
}

bool
match_list_is_parent_style(const char *parent_domain_matches_subdomains,
			   const char *pname)
{
	struct argv *names = argv_split(parent_domain_matches_subdomains,
					TOKENS_LIST_DELIMS);
	bool found = false;

	for (size_t i = 0; i < names->count && !found; i++)
		found = strcmp(names->items[i], pname) == 0;
	argv_destroy(&names);
	return found;
}
