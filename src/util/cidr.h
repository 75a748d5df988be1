/*
 * cidr.h - IPv4 and IPv6 addresses and networks as bytes: parsing address
 * text and "network/prefix" patterns, and matching an address against a
 * network. Shared by the cidr: table (dict_cidr.c) and the address items
 * of pattern lists (global/match_list.c), which quote patterns in their
 * messages slightly differently (see CIDR_FLAG_QUOTE_WHOLE).
 */
#ifndef POSTERN_UTIL_CIDR_H
#define POSTERN_UTIL_CIDR_H

#include <stdbool.h>
#include <sys/socket.h>

#include "util/err.h"

#define CIDR_ADDR_MAX 16 /* bytes in the longest address (IPv6) */

/* An address; bytes past the family's length are zero. */
struct cidr_addr {
	int family; /* AF_INET or AF_INET6 */
	unsigned char bytes[CIDR_ADDR_MAX];
};

/* A network: its address (host bits zero) and the prefix as a mask. */
struct cidr_net {
	struct cidr_addr net;
	unsigned char mask[CIDR_ADDR_MAX];
};

/*
 * Flags for cidr_addr_parse and cidr_net_parse. V4_MAPPED: "::ffff:1.2.3.4"
 * is IPv4 1.2.3.4. QUOTE_WHOLE: messages quote the pattern as written,
 * brackets and all.
 */
#define CIDR_FLAG_V4_MAPPED (1 << 0)
#define CIDR_FLAG_QUOTE_WHOLE (1 << 1)

/*
 * Parse address text: IPv6 when it contains ':', else IPv4 (inet_pton's
 * syntax: no brackets, no scope, no leading zeros in IPv4 octets). With
 * CIDR_FLAG_V4_MAPPED an IPv4-mapped IPv6 address becomes IPv4. Returns
 * false when text is not an address (*addr_out is then all zero).
 */
bool cidr_addr_parse(const char *text, int flags, struct cidr_addr *addr_out);

/*
 * Parse a pattern: "net/len", "[net]/len", "[net/len]", "addr" or "[addr]"
 * (an address alone is a network of full length). The prefix length
 * allowed (32 or 128) follows from a ':' in the network text, which must
 * then be an address of that family (so under CIDR_FLAG_V4_MAPPED a mapped
 * network with a prefix is a bad network value). Returns 0, or -1 with
 * err one of:
 *   missing ']' character after "PATTERN"
 *   garbage after "[ADDR]"
 *   bad mask value in "NET/LEN"        (LEN empty or not all digits)
 *   bad mask length in "NET/LEN"       (over 32 or 128)
 *   bad network value in "SHOWN"
 *   bad address pattern: "SHOWN"
 *   non-null host address bits in "SHOWN", perhaps you should use
 *     "NET/LEN" instead
 * where NET/LEN is the text without brackets, and SHOWN is the pattern as
 * written with CIDR_FLAG_QUOTE_WHOLE, else the pattern without brackets.
 */
int cidr_net_parse(const char *pattern, int flags, struct cidr_net *net_out,
		   struct err *err);

/* True if addr is inside net; an address of another family is not. */
bool cidr_net_match(const struct cidr_net *net, const struct cidr_addr *addr);

#endif
