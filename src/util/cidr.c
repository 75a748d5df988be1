/*
 * cidr.c - IPv4 and IPv6 addresses and networks as bytes (see cidr.h).
 *
 * As in Postfix 3.7, IPv4 octets with leading zeros (inet_pton refuses
 * them) and host bits set past the prefix are refused.
 * Security: patterns come from configuration and table files; the prefix
 * length is read without overflow, text is never copied into fixed arrays.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "util/cidr.h"
#include "util/mymalloc.h"

static size_t
addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

bool
cidr_addr_parse(const char *text, int flags, struct cidr_addr *addr_out)
{
	static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0,    0,
						     0, 0, 0, 0, 0xff, 0xff };

	memset(addr_out, 0, sizeof(*addr_out));
	addr_out->family = strchr(text, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(addr_out->family, text, addr_out->bytes) != 1) {
		memset(addr_out, 0, sizeof(*addr_out));
		return false;
	}
	if ((flags & CIDR_FLAG_V4_MAPPED) && addr_out->family == AF_INET6 &&
	    memcmp(addr_out->bytes, v4_mapped, sizeof(v4_mapped)) == 0) {
		memmove(addr_out->bytes, addr_out->bytes + 12, 4);
		memset(addr_out->bytes + 4, 0, CIDR_ADDR_MAX - 4);
		addr_out->family = AF_INET;
	}
	return true;
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
		err_set(err, "garbage after \"%.*s\"", (int)(close - text + 1),
			text);
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
	/* Stops once past max_len, so the value cannot overflow. */
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
	memset(mask, 0, CIDR_ADDR_MAX);
	for (unsigned i = 0; i < prefix_len; i++)
		mask[i / 8] |= (unsigned char)(0x80 >> (i % 8));
}

/* Refuse "1.2.3.4/24": bits past the prefix must be zero. */
static int
check_host_bits(const struct cidr_net *net, const char *shown,
		unsigned prefix_len, struct err *err)
{
	struct cidr_addr masked = net->net;
	char net_text[INET6_ADDRSTRLEN];
	bool has_host_bits = false;

	for (size_t i = 0; i < CIDR_ADDR_MAX; i++) {
		masked.bytes[i] &= net->mask[i];
		has_host_bits |= masked.bytes[i] != net->net.bytes[i];
	}
	if (!has_host_bits)
		return 0;
	inet_ntop(masked.family, masked.bytes, net_text, sizeof(net_text));
	err_set(err,
		"non-null host address bits in \"%s\", perhaps you should "
		"use \"%s/%u\" instead",
		shown, net_text, prefix_len);
	return -1;
}

/* Parse "net/len" or "addr" (brackets gone; text is cut at '/'). */
static int
parse_net(char *text, const char *shown, int flags, struct cidr_net *net,
	  struct err *err)
{
	char *slash = strchr(text, '/');
	unsigned prefix_len;
	bool is_v6_text;

	if (slash == NULL) {
		if (!cidr_addr_parse(text, flags, &net->net)) {
			err_set(err, "bad address pattern: \"%s\"", shown);
			return -1;
		}
		prefix_len = 8 * (unsigned)addr_len(net->net.family);
	} else {
		*slash = 0;
		is_v6_text = strchr(text, ':') != NULL;
		if (parse_prefix(text, slash + 1, is_v6_text ? 128 : 32,
				 &prefix_len, err) < 0)
			return -1;
		if (!cidr_addr_parse(text, flags, &net->net) ||
		    (net->net.family == AF_INET6) != is_v6_text) {
			err_set(err, "bad network value in \"%s\"", shown);
			return -1;
		}
	}
	make_mask(net->mask, prefix_len);
	return check_host_bits(net, shown, prefix_len, err);
}

int
cidr_net_parse(const char *pattern, int flags, struct cidr_net *net_out,
	       struct err *err)
{
	char *copy = xstrdup(pattern);
	char *shown = NULL;
	char *text;
	int ret = -1;

	memset(net_out, 0, sizeof(*net_out));
	if ((text = strip_brackets(copy, err)) != NULL) {
		shown = xstrdup((flags & CIDR_FLAG_QUOTE_WHOLE) ? pattern
								: text);
		ret = parse_net(text, shown, flags, net_out, err);
	}
	free(shown);
	free(copy);
	return ret;
}

bool
cidr_net_match(const struct cidr_net *net, const struct cidr_addr *addr)
{
	if (addr->family != net->net.family)
		return false;
	for (size_t i = 0; i < addr_len(addr->family); i++)
		if ((addr->bytes[i] & net->mask[i]) != net->net.bytes[i])
			return false;
	return true;
}
