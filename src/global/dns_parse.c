/*
 * dns_parse.c - a bounded parser for DNS reply messages (RFC 1035).
 *
 * A cursor walks the message; every read checks the remaining length
 * first. Names are decompressed with pointers that must point strictly
 * before the label that holds them, which bounds the work and rules out
 * loops. Any violation rejects the whole reply with the offset where it
 * was found.
 * Security: the input is untrusted network data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"

#include "global/dns_parse.h"

#define HEADER_LEN 12
#define WIRE_NAME_MAX 255
#define LABEL_MAX 63

struct cursor {
	const uint8_t *msg;
	size_t len;
	size_t off;
	struct err *err;
};

static int
fail(struct cursor *c, size_t off, const char *reason)
{
	err_set(c->err, "malformed DNS reply: %s at offset %zu", reason, off);
	return -1;
}

static int
read_u16(struct cursor *c, uint16_t *out)
{
	if (c->len - c->off < 2)
		return fail(c, c->off, "message ends inside a 16-bit field");
	*out = (uint16_t)(c->msg[c->off] << 8 | c->msg[c->off + 1]);
	c->off += 2;
	return 0;
}

static int
read_u32(struct cursor *c, uint32_t *out)
{
	uint16_t hi, lo;

	if (c->len - c->off < 4)
		return fail(c, c->off, "message ends inside a 32-bit field");
	read_u16(c, &hi);
	read_u16(c, &lo);
	*out = (uint32_t)hi << 16 | lo;
	return 0;
}

/* Append one label to text, escaping as dns_parse.h says. */
static void
label_append(struct strbuf *text, const uint8_t *label, size_t len)
{
	if (text->len > 0)
		strbuf_append_char(text, '.');
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = label[i];

		if (ch == '.' || ch == '\\') {
			strbuf_append_char(text, '\\');
			strbuf_append_char(text, ch);
		} else if (ch <= 0x20 || ch >= 0x7f) {
			strbuf_printf(text, "\\%03u", ch);
		} else {
			strbuf_append_char(text, ch);
		}
	}
}

/*
 * Read the (possibly compressed) name at *offp into text; *offp moves past
 * the name's bytes in place (not past the data a pointer leads to).
 */
static int
name_read(struct cursor *c, size_t *offp, struct strbuf *text)
{
	size_t pos = *offp, wire_len = 1, end = 0;
	bool jumped = false;

	strbuf_reset(text);
	for (;;) {
		uint8_t len;

		if (pos >= c->len)
			return fail(c, pos, "name runs past the end");
		len = c->msg[pos];
		if ((len & 0xC0) == 0xC0) {
			size_t target;

			if (pos + 1 >= c->len)
				return fail(c, pos, "name runs past the end");
			target = (size_t)(len & 0x3F) << 8 | c->msg[pos + 1];
			if (target >= pos)
				return fail(c, pos,
					    "compression pointer does not "
					    "point backwards");
			if (!jumped)
				end = pos + 2;
			jumped = true;
			pos = target;
			continue;
		}
		if (len & 0xC0)
			return fail(c, pos, "unknown label type");
		if (len == 0)
			break;
		wire_len += (size_t)len + 1;
		if (wire_len > WIRE_NAME_MAX)
			return fail(c, pos, "name longer than 255 octets");
		if (c->len - pos - 1 < len)
			return fail(c, pos, "label runs past the end");
		label_append(text, c->msg + pos + 1, len);
		pos += (size_t)len + 1;
	}
	*offp = jumped ? end : pos + 1;
	return 0;
}

static int
question_skip(struct cursor *c, struct dns_reply *reply, bool is_first,
	      struct strbuf *text)
{
	uint16_t qtype, qclass;

	if (name_read(c, &c->off, text) < 0)
		return -1;
	if (read_u16(c, &qtype) < 0 || read_u16(c, &qclass) < 0)
		return -1;
	if (is_first) {
		reply->qname = xstrdup(strbuf_text(text));
		reply->qtype = qtype;
	}
	return 0;
}

/* TXT: one or more <length, bytes> character-strings, joined. */
static int
txt_decode(struct cursor *c, size_t start, size_t rdlen, struct dns_rr *rr)
{
	size_t pos = start, out = 0;

	if (rdlen == 0)
		return fail(c, start, "TXT record without text");
	rr->data = xmalloc(rdlen + 1);
	while (pos < start + rdlen) {
		size_t n = c->msg[pos];

		if (n > start + rdlen - pos - 1)
			return fail(c, pos, "TXT string runs past its record");
		memcpy(rr->data + out, c->msg + pos + 1, n);
		out += n;
		pos += n + 1;
	}
	rr->data[out] = 0;
	rr->data_len = out;
	return 0;
}

/* A target name that must fill the RDATA exactly (after skip bytes). */
static int
target_decode(struct cursor *c, size_t start, size_t rdlen, size_t skip,
	      struct dns_rr *rr, struct strbuf *text)
{
	size_t pos = start + skip;

	if (rdlen < skip + 1)
		return fail(c, start, "record data too short");
	if (name_read(c, &pos, text) < 0)
		return -1;
	if (pos != start + rdlen)
		return fail(c, start, "name does not fill its record data");
	rr->target = xstrdup(strbuf_text(text));
	return 0;
}

static int
rdata_decode(struct cursor *c, size_t start, size_t rdlen, struct dns_rr *rr,
	     struct strbuf *text)
{
	switch (rr->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (rdlen != (rr->type == DNS_T_A ? 4U : 16U))
			return fail(c, start, "wrong address length");
		break;
	case DNS_T_MX:
		rr->pref = (uint16_t)(rdlen >= 2 ? c->msg[start] << 8 |
							   c->msg[start + 1]
						 : 0);
		return target_decode(c, start, rdlen, 2, rr, text);
	case DNS_T_CNAME:
	case DNS_T_PTR:
	case DNS_T_NS:
		return target_decode(c, start, rdlen, 0, rr, text);
	case DNS_T_TXT:
		return txt_decode(c, start, rdlen, rr);
	default:
		break;
	}
	rr->data = xmemdup(c->msg + start, rdlen);
	rr->data_len = rdlen;
	return 0;
}

/* One resource record; rr gets its fields, owned by the caller. */
static int
rr_read(struct cursor *c, struct dns_rr *rr, struct strbuf *text)
{
	uint16_t rdlen;
	size_t start;

	if (name_read(c, &c->off, text) < 0)
		return -1;
	rr->name = xstrdup(strbuf_text(text));
	if (read_u16(c, &rr->type) < 0 || read_u16(c, &rr->rclass) < 0 ||
	    read_u32(c, &rr->ttl) < 0 || read_u16(c, &rdlen) < 0)
		return -1;
	/* RFC 2181 8: a TTL with the top bit set counts as zero. */
	if (rr->ttl > 0x7FFFFFFFU)
		rr->ttl = 0;
	start = c->off;
	if (c->len - start < rdlen)
		return fail(c, start, "record data runs past the end");
	c->off += rdlen;
	return rdata_decode(c, start, rdlen, rr, text);
}

static void
rr_free(struct dns_rr *rr)
{
	free(rr->name);
	free(rr->target);
	free(rr->data);
	memset(rr, 0, sizeof(*rr));
}

/* RFC 2308 5: the negative TTL is min(SOA TTL, SOA MINIMUM). */
static void
soa_note(struct dns_reply *reply, const struct dns_rr *rr)
{
	const uint8_t *min;
	uint32_t minimum;

	if (rr->type != DNS_T_SOA || rr->data_len < 22)
		return;
	min = rr->data + rr->data_len - 4;
	minimum = (uint32_t)min[0] << 24 | (uint32_t)min[1] << 16 |
		  (uint32_t)min[2] << 8 | min[3];
	reply->neg_ttl = rr->ttl < minimum ? rr->ttl : minimum;
	if (reply->neg_ttl > 0x7FFFFFFFU)
		reply->neg_ttl = 0;
	reply->has_soa = true;
}

static int
authority_read(struct cursor *c, struct dns_reply *reply, uint16_t count,
	       struct strbuf *text)
{
	for (uint16_t i = 0; i < count; i++) {
		struct dns_rr rr = {0};
		int status = rr_read(c, &rr, text);

		if (status == 0)
			soa_note(reply, &rr);
		rr_free(&rr);
		if (status < 0)
			return -1;
	}
	return 0;
}

static int
header_read(struct cursor *c, struct dns_reply *reply, uint16_t counts[4])
{
	uint16_t flags;

	if (c->len < HEADER_LEN)
		return fail(c, c->len, "message shorter than its header");
	read_u16(c, &reply->id);
	read_u16(c, &flags);
	reply->is_response = flags & 0x8000;
	reply->is_authoritative = flags & 0x0400;
	reply->is_truncated = flags & 0x0200;
	reply->rcode = flags & 0x000F;
	for (int i = 0; i < 4; i++)
		read_u16(c, &counts[i]);
	return 0;
}

static int
reply_read(struct cursor *c, struct dns_reply *reply, struct strbuf *text)
{
	uint16_t counts[4];

	if (header_read(c, reply, counts) < 0)
		return -1;
	for (uint16_t i = 0; i < counts[0]; i++)
		if (question_skip(c, reply, i == 0, text) < 0)
			return -1;
	/* Each record needs at least 11 bytes: no huge allocation on a lie. */
	if (counts[1] > (c->len - c->off) / 11)
		return fail(c, c->off, "more answers than the message can hold");
	reply->answers = xcalloc(counts[1], sizeof(*reply->answers));
	for (uint16_t i = 0; i < counts[1]; i++) {
		reply->answer_count = (size_t)i + 1;
		if (rr_read(c, &reply->answers[i], text) < 0)
			return -1;
	}
	return authority_read(c, reply, counts[2], text);
}

struct dns_reply *
dns_reply_parse(const uint8_t *msg, size_t len, struct err *err)
{
	struct cursor c = {.msg = msg, .len = len, .err = err};
	struct dns_reply *reply = xmalloc(sizeof(*reply));
	struct strbuf text;
	int status;

	if (len > DNS_MSG_MAX) {
		free(reply);
		err_set(err, "malformed DNS reply: longer than %d bytes",
			DNS_MSG_MAX);
		return NULL;
	}
	strbuf_init(&text, DNS_NAME_TEXT_MAX);
	status = reply_read(&c, reply, &text);
	strbuf_deinit(&text);
	if (status < 0)
		dns_reply_free(&reply);
	return reply;
}

void
dns_reply_free(struct dns_reply **replyp)
{
	struct dns_reply *reply = *replyp;

	if (reply == NULL)
		return;
	for (size_t i = 0; i < reply->answer_count; i++)
		rr_free(&reply->answers[i]);
	free(reply->answers);
	free(reply->qname);
	free(reply);
	*replyp = NULL;
}

const char *
dns_type_name(unsigned type, char buf[8])
{
	static const struct {
		unsigned type;
		const char *name;
	} names[] = {
		{DNS_T_A, "A"},     {DNS_T_NS, "NS"},   {DNS_T_CNAME, "CNAME"},
		{DNS_T_SOA, "SOA"}, {DNS_T_PTR, "PTR"}, {DNS_T_MX, "MX"},
		{DNS_T_TXT, "TXT"}, {DNS_T_AAAA, "AAAA"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == type)
			return names[i].name;
	snprintf(buf, 8, "%u", type & 0xFFFFU);
	return buf;
}

bool
dns_name_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	/* A trailing dot means the same name. */
	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}
