/*
 * dict_cidr.c - cidr: lookup tables, network blocks tried in file order.
 *
 * A rule is "network/prefix result" or "address result", IPv4 or IPv6,
 * optionally in brackets ("[2001:db8::]/32", "[1.2.3.0/24]"), negated with
 * '!', or an "if pattern" ... "endif" block (dict_rules.h). The key is an
 * address text; a key that is not one is simply not found. A rule only
 * applies to keys of its own address family, negated or not.
 * As in Postfix 3.7, IPv4 octets with leading zeros and host bits set past
 * the prefix are refused; unlike Postfix, a bad rule fails the open
 * ("FILE, line N: reason") instead of being skipped.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "util/cidr.h"
#include "util/dict_rules.h"
#include "util/dict_types.h"
#include "util/mymalloc.h"

struct dict_cidr {
	struct dict dict; /* must be first */
	struct dict_rules rules;
};

/* Cut a MATCH rule's pattern off in place; returns the result text. */
static char *
cut_pattern(char *text)
{
	char *cp = text;

	while (*cp != 0 && !isspace((unsigned char)*cp))
		cp++;
	if (*cp != 0)
		*cp++ = 0;
	while (isspace((unsigned char)*cp))
		cp++;
	return cp;
}

static int
cidr_parse(void *ctx, struct dict_rule *rule, char *text, bool had_bang,
	   struct err *err)
{
	struct cidr_net *net;
	char *result = NULL;

	(void)ctx;
	(void)had_bang;
	if (*text == 0) {
		err_set(err, "no address pattern");
		return -1;
	}
	/* An IF takes the rest of the line as its pattern, as Postfix does. */
	if (rule->kind == DICT_RULE_MATCH)
		result = cut_pattern(text);
	net = xmalloc(sizeof(*net));
	if (cidr_net_parse(text, 0, net, err) < 0) {
		free(net);
		return -1;
	}
	if (result != NULL && *result == 0) {
		free(net);
		err_set(err, "no lookup result");
		return -1;
	}
	rule->pattern = net;
	if (result != NULL)
		rule->result = xstrdup(result);
	return 0;
}

static enum dict_match
cidr_match(void *ctx, const struct dict_rule *rule, const void *subject,
	   struct err *err)
{
	const struct cidr_net *net = rule->pattern;
	const struct cidr_addr *key = subject;

	(void)ctx;
	(void)err;
	if (key->family != net->net.family)
		return DICT_MATCH_NA;
	return cidr_net_match(net, key) ? DICT_MATCH_YES : DICT_MATCH_NO;
}

static void
cidr_free(void *ctx, void *pattern)
{
	(void)ctx;
	free(pattern);
}

static const struct dict_rules_ops cidr_rules_ops = {
	.parse = cidr_parse,
	.match = cidr_match,
	.free_pattern = cidr_free,
};

static int
cidr_lookup(struct dict *dict, const char *key, const char **value_out,
	    struct err *err)
{
	struct dict_cidr *dc = (struct dict_cidr *)dict;
	const struct dict_rule *rule;
	struct cidr_addr addr;
	int ret;

	if (!cidr_addr_parse(key, 0, &addr))
		return DICT_NOTFOUND;
	ret = dict_rules_find(&dc->rules, &addr, &rule, err);
	if (ret == DICT_FOUND)
		*value_out = rule->result;
	return ret;
}

static void
cidr_close(struct dict *dict)
{
	struct dict_cidr *dc = (struct dict_cidr *)dict;

	dict_rules_free(&dc->rules);
	dict_free(dict);
}

struct dict *
dict_cidr_open(const char *name, int open_flags, int dict_flags,
	       struct err *err)
{
	struct dict_cidr *dc;

	if ((open_flags & O_ACCMODE) != O_RDONLY) {
		err_set(err, "cidr:%s map requires O_RDONLY access mode", name);
		return NULL;
	}
	dict_flags = (dict_flags & ~DICT_FLAG_FOLD_FIX) | DICT_FLAG_PATTERN;
	dc = (struct dict_cidr *)dict_alloc("cidr", name, sizeof(*dc),
					    open_flags, dict_flags);
	dc->dict.close = cidr_close;
	if (dict_rules_load(&dc->rules, dc->dict.type, dc->dict.name,
			    &cidr_rules_ops, dc, err) < 0) {
		cidr_close(&dc->dict);
		return NULL;
	}
	dc->dict.lookup = cidr_lookup;
	return &dc->dict;
}
