/*
 * dns_msg.h - build DNS messages by hand for the DNS unit tests.
 *
 * A tiny writer: header, names (uncompressed, or a raw pointer), numbers
 * and records, into a fixed buffer that the test checks for overflow.
 * Header-only so test_dns_parse.c and test_dns.c can share it.
 */
#ifndef POSTERN_TESTS_DNS_MSG_H
#define POSTERN_TESTS_DNS_MSG_H

#include <stdint.h>
#include <string.h>

struct dns_msg {
	uint8_t bytes[4096];
	size_t len;
};

static inline void
msg_u8(struct dns_msg *m, unsigned v)
{
	if (m->len < sizeof(m->bytes))
		m->bytes[m->len++] = (uint8_t)v;
}

static inline void
msg_u16(struct dns_msg *m, unsigned v)
{
	msg_u8(m, v >> 8 & 0xFF);
	msg_u8(m, v & 0xFF);
}

static inline void
msg_u32(struct dns_msg *m, uint32_t v)
{
	msg_u16(m, v >> 16);
	msg_u16(m, v & 0xFFFF);
}

static inline void
msg_raw(struct dns_msg *m, const void *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++)
		msg_u8(m, ((const uint8_t *)bytes)[i]);
}

/* "a.b.c" as labels plus the root; "" is the root alone. */
static inline void
msg_name(struct dns_msg *m, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);

		msg_u8(m, (unsigned)len);
		msg_raw(m, name, len);
		name += len + (dot != NULL);
	}
	msg_u8(m, 0);
}

/* Header: id, flags (0x8180 = response, RD, RA, rcode 0), counts. */
static inline void
msg_header(struct dns_msg *m, unsigned flags, unsigned qd, unsigned an,
	   unsigned ns, unsigned ar)
{
	m->len = 0;
	msg_u16(m, 0x1234);
	msg_u16(m, flags);
	msg_u16(m, qd);
	msg_u16(m, an);
	msg_u16(m, ns);
	msg_u16(m, ar);
}

static inline void
msg_question(struct dns_msg *m, const char *name, unsigned type)
{
	msg_name(m, name);
	msg_u16(m, type);
	msg_u16(m, 1);
}

/* Record head: owner, type, class IN, ttl; the caller writes RDLENGTH. */
static inline void
msg_rr_head(struct dns_msg *m, const char *owner, unsigned type, uint32_t ttl)
{
	msg_name(m, owner);
	msg_u16(m, type);
	msg_u16(m, 1);
	msg_u32(m, ttl);
}

/* Patch the RDLENGTH at offset at to cover everything written since. */
static inline void
msg_rdlen_patch(struct dns_msg *m, size_t at)
{
	size_t len = m->len - at - 2;

	m->bytes[at] = (uint8_t)(len >> 8);
	m->bytes[at + 1] = (uint8_t)len;
}

static inline void
msg_rr_mx(struct dns_msg *m, const char *owner, uint32_t ttl, unsigned pref,
	  const char *host)
{
	size_t at;

	msg_rr_head(m, owner, 15, ttl);
	at = m->len;
	msg_u16(m, 0);
	msg_u16(m, pref);
	msg_name(m, host);
	msg_rdlen_patch(m, at);
}

static inline void
msg_rr_name(struct dns_msg *m, const char *owner, unsigned type, uint32_t ttl,
	    const char *target)
{
	size_t at;

	msg_rr_head(m, owner, type, ttl);
	at = m->len;
	msg_u16(m, 0);
	msg_name(m, target);
	msg_rdlen_patch(m, at);
}

static inline void
msg_rr_addr(struct dns_msg *m, const char *owner, unsigned type, uint32_t ttl,
	    const uint8_t *addr)
{
	size_t len = type == 1 ? 4 : 16;

	msg_rr_head(m, owner, type, ttl);
	msg_u16(m, (unsigned)len);
	msg_raw(m, addr, len);
}

/* SOA with the given record TTL and MINIMUM (negative TTL). */
static inline void
msg_rr_soa(struct dns_msg *m, const char *owner, uint32_t ttl,
	   uint32_t minimum)
{
	size_t at;

	msg_rr_head(m, owner, 6, ttl);
	at = m->len;
	msg_u16(m, 0);
	msg_name(m, "ns");
	msg_name(m, "host");
	for (int i = 0; i < 4; i++)
		msg_u32(m, 100);
	msg_u32(m, minimum);
	msg_rdlen_patch(m, at);
}

#endif
