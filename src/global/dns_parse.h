/*
 * dns_parse.h - a bounded parser for DNS reply messages (RFC 1035).
 *
 * Turns the raw bytes a name server sent into the header fields, the
 * question, the answer records and the negative-caching TTL of the
 * authority section's SOA (RFC 2308). Every offset is checked against the
 * message length, compression pointers may only point backwards (so a loop
 * is impossible), names are limited to 255 octets on the wire, and a
 * reply is rejected as a whole when anything is out of bounds. Names come
 * out in presentation form without the trailing dot ("" is the root),
 * with '.', '\\' and bytes outside 0x21-0x7e inside a label escaped as
 * "\." "\\" and "\DDD". Security: the input is untrusted network data.
 */
#ifndef POSTERN_GLOBAL_DNS_PARSE_H
#define POSTERN_GLOBAL_DNS_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Record types and the class we use (RFC 1035, RFC 3596). */
enum dns_type {
	DNS_T_A = 1,
	DNS_T_NS = 2,
	DNS_T_CNAME = 5,
	DNS_T_SOA = 6,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
};
#define DNS_C_IN 1

/* Reply codes (RFC 1035 4.1.1). */
enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

/* Longest name in presentation form: 255 wire octets, all escaped. */
#define DNS_NAME_TEXT_MAX 1024
/* A DNS message is never longer than this (TCP length prefix). */
#define DNS_MSG_MAX 65535

/*
 * One answer record. target is set for MX (exchange), CNAME, PTR and NS
 * (else NULL); data holds the 4 or 16 address bytes of A/AAAA, the
 * character-strings of TXT joined without separator (may contain any
 * byte; NUL-terminated for convenience), and the raw RDATA otherwise.
 */
struct dns_rr {
	char *name;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t pref;
	char *target;
	uint8_t *data;
	size_t data_len;
};

struct dns_reply {
	uint16_t id;
	unsigned rcode;
	bool is_response;
	bool is_truncated;
	bool is_authoritative;
	char *qname; /* the first question, or NULL when there is none */
	uint16_t qtype;
	struct dns_rr *answers;
	size_t answer_count;
	/* Negative-caching TTL from an authority SOA, or 0 without one. */
	uint32_t neg_ttl;
	bool has_soa;
};

/*
 * Parse msg. Returns the reply (caller frees with dns_reply_free), or
 * NULL with err "malformed DNS reply: REASON at offset N". Only the
 * answer and authority sections are kept; the additional section is not
 * read.
 */
struct dns_reply *dns_reply_parse(const uint8_t *msg, size_t len,
				  struct err *err);
void dns_reply_free(struct dns_reply **replyp);

/* "A", "MX", ... or the decimal number for a type we do not name. */
const char *dns_type_name(unsigned type, char buf[8]);

/* Case-insensitive comparison of two names in presentation form. */
bool dns_name_equal(const char *a, const char *b);

#endif
