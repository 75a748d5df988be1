/*
 * test_dns_parse.c - unit tests for the DNS reply parser, on messages
 * built by hand (dns_msg.h): every record type we read, compression,
 * escaping, the negative TTL, every error message, and every truncation
 * of valid messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "global/dns_parse.h"

#include "dns_msg.h"

static const uint8_t addr4[4] = {192, 0, 2, 1};
static const uint8_t addr6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

/* A reply to "example.com MX" with two MX, an A with compressed owner. */
static void
build_mx_reply(struct dns_msg *m)
{
	msg_header(m, 0x8580, 1, 3, 1, 0);
	msg_question(m, "example.com", 15);
	msg_rr_mx(m, "example.com", 300, 10, "mx1.example.com");
	/* Owner: pointer to the question name at offset 12. */
	msg_u16(m, 0xC00C);
	msg_u16(m, 15);
	msg_u16(m, 1);
	msg_u32(m, 0x80000000U); /* top bit set: counts as 0 */
	msg_u16(m, 2 + 4 + 2);
	msg_u16(m, 20);
	msg_u8(m, 3);
	msg_raw(m, "mx2", 3);
	msg_u16(m, 0xC00C); /* mx2 + pointer to example.com */
	msg_rr_addr(m, "mx1.example.com", 1, 60, addr4);
	msg_rr_soa(m, "example.com", 900, 120);
}

static void
test_mx_reply(void **state)
{
	struct dns_msg m;
	struct err err;
	struct dns_reply *reply;

	(void)state;
	build_mx_reply(&m);
	reply = dns_reply_parse(m.bytes, m.len, &err);
	assert_non_null(reply);
	assert_int_equal(reply->id, 0x1234);
	assert_true(reply->is_response);
	assert_true(reply->is_authoritative);
	assert_false(reply->is_truncated);
	assert_int_equal(reply->rcode, DNS_RCODE_NOERROR);
	assert_string_equal(reply->qname, "example.com");
	assert_int_equal(reply->qtype, DNS_T_MX);
	assert_int_equal(reply->answer_count, 3);
	assert_string_equal(reply->answers[0].name, "example.com");
	assert_int_equal(reply->answers[0].pref, 10);
	assert_int_equal(reply->answers[0].ttl, 300);
	assert_string_equal(reply->answers[0].target, "mx1.example.com");
	assert_string_equal(reply->answers[1].name, "example.com");
	assert_int_equal(reply->answers[1].ttl, 0);
	assert_int_equal(reply->answers[1].pref, 20);
	assert_string_equal(reply->answers[1].target, "mx2.example.com");
	assert_int_equal(reply->answers[2].type, DNS_T_A);
	assert_int_equal(reply->answers[2].data_len, 4);
	assert_memory_equal(reply->answers[2].data, addr4, 4);
	assert_null(reply->answers[2].target);
	assert_true(reply->has_soa);
	assert_int_equal(reply->neg_ttl, 120);
	dns_reply_free(&reply);
	assert_null(reply);
	dns_reply_free(&reply);
}

static void
test_other_types(void **state)
{
	struct dns_msg m;
	struct err err;
	struct dns_reply *reply;
	static const uint8_t txt[] = {3, 'a', 'b', 'c', 0, 2, 'd', 0};

	(void)state;
	msg_header(&m, 0x8383, 0, 6, 1, 0); /* rcode 3, truncated flag */
	msg_rr_addr(&m, "h", DNS_T_AAAA, 5, addr6);
	msg_rr_name(&m, "alias.example", DNS_T_CNAME, 7, "h.example");
	msg_rr_name(&m, "1.2.0.192.in-addr.arpa", DNS_T_PTR, 8, "h.example");
	msg_rr_head(&m, "t", DNS_T_TXT, 9);
	msg_u16(&m, sizeof(txt));
	msg_raw(&m, txt, sizeof(txt));
	msg_rr_head(&m, "x", 99, 1); /* unknown type: raw data */
	msg_u16(&m, 3);
	msg_raw(&m, "xyz", 3);
	msg_rr_name(&m, "weird", DNS_T_NS, 1, "a\\b");
	msg_rr_soa(&m, "zone", 30, 600); /* negative TTL: the smaller */
	reply = dns_reply_parse(m.bytes, m.len, &err);
	assert_non_null(reply);
	assert_true(reply->is_truncated);
	assert_false(reply->is_authoritative);
	assert_int_equal(reply->rcode, DNS_RCODE_NXDOMAIN);
	assert_null(reply->qname);
	assert_memory_equal(reply->answers[0].data, addr6, 16);
	assert_string_equal(reply->answers[1].target, "h.example");
	assert_string_equal(reply->answers[2].target, "h.example");
	assert_int_equal(reply->answers[3].data_len, 5);
	/* "abc", "" and "d\0" joined; a NUL follows for text users. */
	assert_memory_equal(reply->answers[3].data, "abcd\0", 6);
	assert_int_equal(reply->answers[4].data_len, 3);
	assert_memory_equal(reply->answers[4].data, "xyz", 3);
	assert_string_equal(reply->answers[5].target, "a\\\\b");
	assert_int_equal(reply->neg_ttl, 30);
	dns_reply_free(&reply);
}

/* Labels with '.', spaces and high bytes come out escaped. */
static void
test_name_escapes(void **state)
{
	struct dns_msg m;
	struct err err;
	struct dns_reply *reply;

	(void)state;
	msg_header(&m, 0x8180, 1, 1, 0, 0);
	msg_u8(&m, 4);
	msg_raw(&m, "a.b ", 4);
	msg_u8(&m, 1);
	msg_u8(&m, 0xFF);
	msg_u8(&m, 0);
	msg_u16(&m, 15);
	msg_u16(&m, 1);
	msg_rr_mx(&m, "x", 1, 0, "");
	reply = dns_reply_parse(m.bytes, m.len, &err);
	assert_non_null(reply);
	assert_string_equal(reply->qname, "a\\.b\\032.\\255");
	assert_string_equal(reply->answers[0].target, "");
	dns_reply_free(&reply);
}

struct bad_case {
	const char *what;
	void (*build)(struct dns_msg *m);
	const char *expect;
};

static void
bad_short_header(struct dns_msg *m)
{
	msg_header(m, 0x8180, 0, 0, 0, 0);
	m->len = 5;
}

static void
bad_forward_pointer(struct dns_msg *m)
{
	msg_header(m, 0x8180, 1, 0, 0, 0);
	msg_u16(m, 0xC00E);
	msg_u16(m, 1);
	msg_u16(m, 1);
}

static void
bad_self_pointer(struct dns_msg *m)
{
	msg_header(m, 0x8180, 1, 0, 0, 0);
	msg_u16(m, 0xC00C);
}

static void
bad_label_type(struct dns_msg *m)
{
	msg_header(m, 0x8180, 1, 0, 0, 0);
	msg_u8(m, 0x41);
}

static void
bad_long_name(struct dns_msg *m)
{
	msg_header(m, 0x8180, 1, 0, 0, 0);
	for (int i = 0; i < 5; i++) {
		msg_u8(m, 63);
		for (int j = 0; j < 63; j++)
			msg_u8(m, 'a');
	}
	msg_u8(m, 0);
}

static void
bad_label_past_end(struct dns_msg *m)
{
	msg_header(m, 0x8180, 1, 0, 0, 0);
	msg_u8(m, 10);
	msg_raw(m, "abc", 3);
}

static void
bad_name_past_end(struct dns_msg *m)
{
	msg_header(m, 0x8180, 1, 0, 0, 0);
	msg_u8(m, 1);
	msg_u8(m, 'a');
}

static void
bad_pointer_past_end(struct dns_msg *m)
{
	msg_header(m, 0x8180, 1, 0, 0, 0);
	msg_u8(m, 0xC0);
}

static void
bad_question_type(struct dns_msg *m)
{
	msg_header(m, 0x8180, 1, 0, 0, 0);
	msg_name(m, "a");
	msg_u8(m, 0);
}

static void
bad_ttl(struct dns_msg *m)
{
	msg_header(m, 0x8180, 0, 1, 0, 0);
	msg_name(m, "abcdef");
	msg_u16(m, 1);
	msg_u16(m, 1);
	msg_u8(m, 0); /* one byte of the TTL */
}

static void
bad_rdata_past_end(struct dns_msg *m)
{
	msg_header(m, 0x8180, 0, 1, 0, 0);
	msg_rr_head(m, "a", 1, 1);
	msg_u16(m, 40);
	msg_raw(m, "\1\2\3\4\0\0\0\0\0\0\0\0\0\0", 14);
}

static void
bad_addr_len(struct dns_msg *m)
{
	msg_header(m, 0x8180, 0, 1, 0, 0);
	msg_rr_head(m, "a", 1, 1);
	msg_u16(m, 3);
	msg_raw(m, "\1\2\3", 3);
}

static void
bad_txt_empty(struct dns_msg *m)
{
	msg_header(m, 0x8180, 0, 1, 0, 0);
	msg_rr_head(m, "a", DNS_T_TXT, 1);
	msg_u16(m, 0);
}

static void
bad_txt_string(struct dns_msg *m)
{
	msg_header(m, 0x8180, 0, 1, 0, 0);
	msg_rr_head(m, "a", DNS_T_TXT, 1);
	msg_u16(m, 3);
	msg_raw(m, "\5ab", 3);
	msg_raw(m, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
}

static void
bad_mx_fill(struct dns_msg *m)
{
	msg_header(m, 0x8180, 0, 1, 0, 0);
	msg_rr_head(m, "a", DNS_T_MX, 1);
	msg_u16(m, 6);
	msg_u16(m, 10);
	msg_name(m, "b");
	msg_u8(m, 0);
}

static void
bad_mx_short(struct dns_msg *m)
{
	msg_header(m, 0x8180, 0, 1, 0, 0);
	msg_rr_head(m, "a", DNS_T_MX, 1);
	msg_u16(m, 2);
	msg_u16(m, 10);
	msg_raw(m, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
}

static void
bad_answer_count(struct dns_msg *m)
{
	msg_header(m, 0x8180, 0, 1000, 0, 0);
	msg_rr_addr(m, "a", 1, 1, addr4);
}

static void
bad_authority(struct dns_msg *m)
{
	msg_header(m, 0x8180, 0, 0, 1, 0);
	msg_rr_head(m, "a", DNS_T_SOA, 1);
	msg_u16(m, 30);
}

static const struct bad_case bad_cases[] = {
	{"short header", bad_short_header,
	 "malformed DNS reply: message shorter than its header at offset 5"},
	{"forward pointer", bad_forward_pointer,
	 "malformed DNS reply: compression pointer does not point backwards "
	 "at offset 12"},
	{"self pointer", bad_self_pointer,
	 "malformed DNS reply: compression pointer does not point backwards "
	 "at offset 12"},
	{"label type", bad_label_type,
	 "malformed DNS reply: unknown label type at offset 12"},
	{"long name", bad_long_name,
	 "malformed DNS reply: name longer than 255 octets at offset 204"},
	{"label past end", bad_label_past_end,
	 "malformed DNS reply: label runs past the end at offset 12"},
	{"name past end", bad_name_past_end,
	 "malformed DNS reply: name runs past the end at offset 14"},
	{"pointer past end", bad_pointer_past_end,
	 "malformed DNS reply: name runs past the end at offset 12"},
	{"question type", bad_question_type,
	 "malformed DNS reply: message ends inside a 16-bit field at offset 15"},
	{"ttl", bad_ttl,
	 "malformed DNS reply: message ends inside a 32-bit field at offset 24"},
	{"rdata past end", bad_rdata_past_end,
	 "malformed DNS reply: record data runs past the end at offset 25"},
	{"address length", bad_addr_len,
	 "malformed DNS reply: wrong address length at offset 25"},
	{"empty TXT", bad_txt_empty,
	 "malformed DNS reply: TXT record without text at offset 25"},
	{"TXT string", bad_txt_string,
	 "malformed DNS reply: TXT string runs past its record at offset 25"},
	{"MX fill", bad_mx_fill,
	 "malformed DNS reply: name does not fill its record data at offset 25"},
	{"MX short", bad_mx_short,
	 "malformed DNS reply: record data too short at offset 25"},
	{"answer count", bad_answer_count,
	 "malformed DNS reply: more answers than the message can hold at "
	 "offset 12"},
	{"authority", bad_authority,
	 "malformed DNS reply: record data runs past the end at offset 25"},
};

static void
test_bad_replies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct dns_msg m;
		struct err err = {{0}};
		struct dns_reply *reply;

		bad_cases[i].build(&m);
		reply = dns_reply_parse(m.bytes, m.len, &err);
		if (reply != NULL)
			fail_msg("%s: parsed", bad_cases[i].what);
		if (strcmp(err.text, bad_cases[i].expect) != 0)
			fail_msg("%s: got \"%s\"", bad_cases[i].what, err.text);
	}
}

static void
test_too_long(void **state)
{
	uint8_t *big = calloc(DNS_MSG_MAX + 1, 1);
	struct err err;

	(void)state;
	assert_null(dns_reply_parse(big, DNS_MSG_MAX + 1, &err));
	assert_string_equal(err.text,
			    "malformed DNS reply: longer than 65535 bytes");
	free(big);
}

/* Every proper prefix of a valid reply is rejected, never misread. */
static void
test_truncations(void **state)
{
	struct dns_msg m;

	(void)state;
	build_mx_reply(&m);
	for (size_t len = 0; len < m.len; len++) {
		uint8_t *copy = malloc(len + 1);
		struct err err = {{0}};
		struct dns_reply *reply;

		memcpy(copy, m.bytes, len);
		reply = dns_reply_parse(copy, len, &err);
		if (reply != NULL)
			fail_msg("prefix of %zu bytes parsed", len);
		assert_non_null(strstr(err.text, "malformed DNS reply: "));
		free(copy);
	}
}

static void
test_helpers(void **state)
{
	char buf[8];

	(void)state;
	assert_string_equal(dns_type_name(DNS_T_MX, buf), "MX");
	assert_string_equal(dns_type_name(DNS_T_AAAA, buf), "AAAA");
	assert_string_equal(dns_type_name(DNS_T_TXT, buf), "TXT");
	assert_string_equal(dns_type_name(65535, buf), "65535");
	assert_true(dns_name_equal("Example.COM", "example.com."));
	assert_true(dns_name_equal("", "."));
	assert_false(dns_name_equal("example.com", "example.co"));
	assert_false(dns_name_equal("a.example", "b.example"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mx_reply),
		cmocka_unit_test(test_other_types),
		cmocka_unit_test(test_name_escapes),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
