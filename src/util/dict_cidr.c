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
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/dict_rules.h"
#include "util/dict_types.h"
#include "util/mymalloc.h"

#define CIDR_MAX_BYTES 16

struct cidr_addr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char bytes[CIDR_MAX_BYTES];
};

struct cidr_pattern {
	struct cidr_addr net;
	unsigned char mask[CIDR_MAX_BYTES];
};

struct dict_cidr {
	struct dict dict; /* must be first */
	struct dict_rules rules;
};

static size_t
addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

/* Parse address text; the family follows from the presence of ':'. */
static bool
addr_parse(const char *text, struct cidr_addr *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	return inet_pton(addr->family, text, addr->bytes) == 1;
}

/* "[net]/len", "[net/len]" and "[addr]" lose their brackets, in place. */
static char *
strip_brackets(char *text, struct err *err)
{
	char *close;

	if (*text != '[')
		return text;
	if ((close = strchr(text, ']')) == NULL) {
		err_set(err, "missing ']' character after \"%s\"", text);
		return NULL;
	}
	if (close[1] != 0 && close[1] != '/') {
		err_set(err, "garbage after \"%.*s\"",
			(int)(close - text + 1), text);
		return NULL;
	}
	memmove(close, close + 1, strlen(close + 1) + 1);
	return text + 1;
}

/* The prefix length after '/': decimal digits, at most max_len. */
static int
parse_prefix(const char *net, const char *digits, unsigned max_len,
	     unsigned *len_out, struct err *err)
{
	unsigned long value = 0;

	if (*digits == 0 || strspn(digits, "0123456789") != strlen(digits)) {
		err_set(err, "bad mask value in \"%s/%s\"", net, digits);
		return -1;
	}
	for (const char *cp = digits; *cp && value <= max_len; cp++)
		value = value * 10 + (unsigned long)(*cp - '0');
	if (value > max_len) {
		err_set(err, "bad mask length in \"%s/%s\"", net, digits);
		return -1;
	}
	*len_out = (unsigned)value;
	return 0;
}

static void
make_mask(unsigned char *mask, unsigned prefix_len)
{
	memset(mask, 0, CIDR_MAX_BYTES);
	for (unsigned i = 0; i < prefix_len; i++)
		mask[i / 8] |= (unsigned char)(0x80 >> (i % 8));
}

/* Refuse "1.2.3.4/24": bits past the prefix must be zero. */
static int
check_host_bits(const struct cidr_pattern *cp, const char *text,
		unsigned prefix_len, struct err *err)
{
	struct cidr_addr masked = cp->net;
	char net_text[INET6_ADDRSTRLEN];
	bool has_host_bits = false;

	for (size_t i = 0; i < addr_len(cp->net.family); i++) {
		masked.bytes[i] &= cp->mask[i];
		has_host_bits |= masked.bytes[i] != cp->net.bytes[i];
	}
	if (!has_host_bits)
		return 0;
	inet_ntop(masked.family, masked.bytes, net_text, sizeof(net_text));
	err_set(err,
		"non-null host address bits in \"%s\", perhaps you should "
		"use \"%s/%u\" instead",
		text, net_text, prefix_len);
	return -1;
}

/* Parse "net/len" or "addr" (brackets already gone) into cp. */
static int
parse_network(char *text, struct cidr_pattern *cp, struct err *err)
{
	char *slash = strchr(text, '/');
	char *whole = xstrdup(text);
	unsigned prefix_len;
	int ret = -1;

	if (slash == NULL) {
		if (!addr_parse(text, &cp->net)) {
			err_set(err, "bad address pattern: \"%s\"", text);
			goto done;
		}
		prefix_len = 8 * (unsigned)addr_len(cp->net.family);
	} else {
		*slash = 0;
		cp->net.family = strchr(text, ':') ? AF_INET6 : AF_INET;
		if (parse_prefix(text, slash + 1,
				 8 * (unsigned)addr_len(cp->net.family),
				 &prefix_len, err) < 0)
			goto done;
		if (!addr_parse(text, &cp->net)) {
			err_set(err, "bad network value in \"%s\"", whole);
			goto done;
		}
	}
	make_mask(cp->mask, prefix_len);
	ret = check_host_bits(cp, whole, prefix_len, err);
done:
	free(whole);
	return ret;
}

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
	struct cidr_pattern *cp;
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
	cp = xmalloc(sizeof(*cp));
	if ((text = strip_brackets(text, err)) == NULL ||
	    parse_network(text, cp, err) < 0) {
		free(cp);
		return -1;
	}
	if (result != NULL && *result == 0) {
		free(cp);
		err_set(err, "no lookup result");
		return -1;
	}
	rule->pattern = cp;
	if (result != NULL)
		rule->result = xstrdup(result);
	return 0;
}

static enum dict_match
cidr_match(void *ctx, const struct dict_rule *rule, const void *subject,
	   struct err *err)
{
	const struct cidr_pattern *cp = rule->pattern;
	const struct cidr_addr *key = subject;

	(void)ctx;
	(void)err;
	if (key->family != cp->net.family)
		return DICT_MATCH_NA;
	for (size_t i = 0; i < addr_len(key->family); i++)
		if ((key->bytes[i] & cp->mask[i]) != cp->net.bytes[i])
			return DICT_MATCH_NO;
	return DICT_MATCH_YES;
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

	if (!addr_parse(key, &addr))
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
		err_set(err, "cidr:%s map requires O_RDONLY access mode",
			name);
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
