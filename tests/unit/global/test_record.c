/*
 * test_record.c - unit tests for queue file records and record types.
 *
 * Records are read through a stream whose I/O is replaced by a memory
 * source that hands out at most a few bytes per read, so every parser path
 * also runs with the input split at every possible place.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "global/rec_type.h"
#include "global/record.h"
#include "util/strbuf.h"
#include "util/stream.h"

/* ------------------------------------------------------------------ */
/* A stream over bytes in memory, read in chunks of a chosen size       */

struct mem_source {
	const uint8_t *data;
	size_t len;
	size_t pos;
	size_t chunk;     /* at most this many bytes per read */
	bool fail_at_end; /* EIO instead of end of file */
};

static ssize_t
mem_read(int fd, void *buf, size_t len, void *ctx)
{
	struct mem_source *src = ctx;
	size_t n = src->len - src->pos;

	(void)fd;
	if (n == 0 && src->fail_at_end) {
		errno = EIO;
		return -1;
	}
	if (n > len)
		n = len;
	if (n > src->chunk)
		n = src->chunk;
	memcpy(buf, src->data + src->pos, n);
	src->pos += n;
	return (ssize_t)n;
}

static ssize_t
mem_write(int fd, const void *buf, size_t len, void *ctx)
{
	(void)fd;
	(void)buf;
	(void)ctx;
	return (ssize_t)len;
}

static const struct stream_io mem_io = { mem_read, mem_write };

static struct stream *
mem_stream(struct mem_source *src)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct stream *s;

	assert_true(fd >= 0);
	s = stream_open(fd, 0);
	stream_set_io(s, &mem_io, src);
	return s;
}

/*
 * Read all records of bytes with a data limit, in chunks of chunk bytes.
 * Returns "TYPE:len:offset|..." for the records, followed by "ERR:text"
 * when the reader fails, or "EOF" at a clean end.
 */
static char *
read_all(const void *bytes, size_t len, size_t limit, size_t chunk)
{
	static char result[8192];
	struct mem_source src = { bytes, len, 0, chunk, false };
	struct stream *s = mem_stream(&src);
	struct record_reader rr;
	struct strbuf data;
	struct err err;
	int type;
	int ret;

	result[0] = 0;
	strbuf_init(&data, limit);
	record_reader_init(&rr, s, "t", 0);
	while ((ret = record_read(&rr, &type, &data, &err)) > 0) {
		char item[64];

		snprintf(item, sizeof(item), "%c:%zu:%lld|", type, data.len,
			 (long long)rr.rec_offset);
		strcat(result, item);
	}
	if (ret < 0) {
		strcat(result, "ERR:");
		strcat(result, err.text);
	} else {
		strcat(result, "EOF");
	}
	strbuf_deinit(&data);
	stream_close(&s);
	return result;
}

static const size_t chunks[] = { 1, 2, 3, 5, 7, 64, 100000 };
#define NCHUNKS (sizeof(chunks) / sizeof(chunks[0]))

/* ------------------------------------------------------------------ */
/* Header sizes and encoding                                           */

static void
test_header_len(void **state)
{
	static const struct {
		size_t len;
		size_t header;
	} cases[] = {
		{ 0, 2 },
		{ 1, 2 },
		{ 127, 2 },
		{ 128, 3 },
		{ 16383, 3 },
		{ 16384, 4 },
		{ 2097151, 4 },
		{ 2097152, 5 },
		{ 268435455, 5 },
		{ 268435456, 6 },
		{ RECORD_LEN_MAX, 6 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t buf[RECORD_HEADER_MAX];
		size_t hlen;
		size_t len;
		int type;

		assert_int_equal(record_header_len(cases[i].len),
				 cases[i].header);
		assert_int_equal(record_size(cases[i].len),
				 cases[i].header + cases[i].len);
		assert_int_equal(record_encode_header(buf, 'R', cases[i].len),
				 cases[i].header);
		assert_int_equal(record_decode_header(buf, cases[i].header,
						      &type, &len, &hlen, NULL),
				 1);
		assert_int_equal(type, 'R');
		assert_int_equal(len, cases[i].len);
		assert_int_equal(hlen, cases[i].header);
		/* Any shorter prefix is incomplete. */
		for (size_t cut = 0; cut < cases[i].header; cut++)
			assert_int_equal(record_decode_header(buf, cut, &type,
							      &len, &hlen,
							      NULL),
					 0);
	}
}

static void
test_encoding_bytes(void **state)
{
	struct strbuf out;

	(void)state;
	strbuf_init(&out, STRBUF_UNLIMITED);
	assert_int_equal(record_put_str(&out, 'S', "a@b"), 0);
	assert_int_equal(record_put(&out, 'M', "", 0), 0);
	assert_int_equal(record_putf(&out, 'T', "%d %d", 12, 34), 0);
	assert_int_equal(out.len, 5 + 2 + 7);
	assert_memory_equal(out.data, "S\003a@bM\000T\00512 34", out.len);

	/* A 200-byte record: length 200 = 0xc8 -> 0xc8 0x01. */
	strbuf_reset(&out);
	{
		char data[200];

		memset(data, 'x', sizeof(data));
		assert_int_equal(record_put(&out, 'N', data, sizeof(data)), 0);
	}
	assert_int_equal(out.len, 203);
	assert_memory_equal(out.data, "N\xc8\x01xx", 5);
	strbuf_deinit(&out);
}

static void
test_decode_header_errors(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		int expect;
	} cases[] = {
		{ "R\x80\x00", 3, -1 },                 /* not shortest */
		{ "R\x81\x80\x00", 4, -1 },             /* not shortest */
		{ "R\xff\xff\xff\xff\x0f", 6, -1 },     /* > INT32_MAX */
		{ "R\x80\x80\x80\x80\x80\x01", 7, -1 }, /* 6 length bytes */
		{ "R\xff\xff\xff\xff\x07", 6, 1 },      /* INT32_MAX */
		{ "R\x80\x01", 3, 1 },                  /* 128 */
		{ "R", 1, 0 },
		{ "R\x80", 2, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct err err;
		size_t len;
		size_t hlen;
		int type;

		assert_int_equal(
			record_decode_header((const uint8_t *)cases[i].bytes,
					     cases[i].len, &type, &len, &hlen,
					     &err),
			cases[i].expect);
		if (cases[i].expect < 0)
			assert_string_equal(err.text,
					    "malformed record length");
	}
}

static void
test_put_limit(void **state)
{
	struct strbuf out;

	(void)state;
	strbuf_init(&out, 10);
	assert_int_equal(record_put_str(&out, 'S', "abc"), 0);
	errno = 0;
	assert_int_equal(record_put_str(&out, 'R', "abcdef"), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(out.len, 5); /* unchanged */
	assert_int_equal(record_putf(&out, 'R', "%s", "toolong"), -1);
	assert_int_equal(out.len, 5);
	assert_int_equal(record_put(&out, 'R', "abc", RECORD_LEN_MAX + 1), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(record_put_str(&out, 'R', "abc"), 0);
	assert_int_equal(out.len, 10);
	strbuf_deinit(&out);
}

/* ------------------------------------------------------------------ */
/* Reading                                                             */

/* Every known type, with data lengths around the varint boundaries. */
static void
test_round_trip_all_types(void **state)
{
	static const int types[] = { 'C', 'T', 'F', 'S', 'A', 'W', 'O',
				     'n', 'o', 'i', '<', 'R', 'D', '/',
				     'M', 'N', 'L', 'X', 'E' };
	static const size_t lens[] = { 0, 1, 127, 128, 300, 16383, 16384 };
	struct strbuf file;
	struct strbuf expect;
	uint8_t *payload = malloc(16384);

	(void)state;
	for (size_t i = 0; i < 16384; i++)
		payload[i] = (uint8_t)(i * 7 + 1); /* includes NUL bytes */
	strbuf_init(&file, STRBUF_UNLIMITED);
	strbuf_init(&expect, STRBUF_UNLIMITED);
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
			strbuf_printf(&expect, "%c:%zu:%zu|", types[t], lens[l],
				      file.len);
			assert_int_equal(
				record_put(&file, types[t], payload, lens[l]),
				0);
		}
	}
	strbuf_append_str(&expect, "EOF");
	for (size_t c = 0; c < NCHUNKS; c++)
		assert_string_equal(
			read_all(file.data, file.len, 16384, chunks[c]),
			expect.data);
	strbuf_deinit(&file);
	strbuf_deinit(&expect);
	free(payload);
}

/* The data read back is exactly the data written, NULs included. */
static void
test_data_exact(void **state)
{
	static const uint8_t bytes[] = "N\x05"
				       "a\0b\0c"
				       "E\x00";
	struct mem_source src = { bytes, sizeof(bytes) - 1, 0, 1, false };
	struct stream *s = mem_stream(&src);
	struct record_reader rr;
	struct strbuf data;
	struct err err;
	int type;

	(void)state;
	strbuf_init(&data, 100);
	record_reader_init(&rr, s, "t", 1000);
	assert_int_equal(record_read(&rr, &type, &data, &err), 1);
	assert_int_equal(type, 'N');
	assert_int_equal(data.len, 5);
	assert_memory_equal(data.data, "a\0b\0c", 6); /* and a NUL after */
	assert_int_equal(rr.rec_offset, 1000);
	assert_int_equal(rr.offset, 1007);
	assert_int_equal(record_read(&rr, &type, &data, &err), 1);
	assert_int_equal(type, 'E');
	assert_int_equal(data.len, 0);
	assert_int_equal(rr.rec_offset, 1007);
	assert_int_equal(record_read(&rr, &type, &data, &err), 0);
	assert_int_equal(rr.offset, 1009);
	strbuf_deinit(&data);
	stream_close(&s);
}

struct bad_case {
	const char *bytes;
	size_t len;
	size_t limit;
	const char *expect;
};

static void
test_corrupt_records(void **state)
{
	static const struct bad_case cases[] = {
		{ "", 0, 100, "EOF" },
		{ "R", 1, 100,
		  "ERR:t: offset 0: unexpected end of file in record header" },
		{ "R\x80", 2, 100,
		  "ERR:t: offset 0: unexpected end of file in record header" },
		{ "S\x01xR\x85", 5, 100,
		  "S:1:0|ERR:t: offset 3: unexpected end of file in record "
		  "header" },
		{ "R\x05"
		  "ab",
		  4, 100,
		  "ERR:t: offset 0: truncated record 'R': 5 data bytes "
		  "expected, 2 present" },
		{ "N\x00"
		  "L\x80\x01"
		  "abc",
		  8, 1000,
		  "N:0:0|ERR:t: offset 2: truncated record 'L': 128 data "
		  "bytes expected, 3 present" },
		{ "Q\x00", 2, 100, "ERR:t: offset 0: unknown record type 'Q'" },
		{ "\x01\x00", 2, 100,
		  "ERR:t: offset 0: unknown record type 0x01" },
		{ "\xff\x00", 2, 100,
		  "ERR:t: offset 0: unknown record type 0xff" },
		{ "'\x00", 2, 100,
		  "ERR:t: offset 0: unknown record type 0x27" },
		{ "E\x00"
		  "\x00\x00",
		  4, 100, "E:0:0|ERR:t: offset 2: unknown record type 0x00" },
		{ "R\x80\x00", 3, 100,
		  "ERR:t: offset 0: malformed record length" },
		{ "R\xff\xff\xff\xff\x0f", 6, 100,
		  "ERR:t: offset 0: malformed record length" },
		{ "R\x80\x80\x80\x80\x80\x01", 7, 100,
		  "ERR:t: offset 0: malformed record length" },
		{ "R\x0b"
		  "0123456789a",
		  13, 10,
		  "ERR:t: offset 0: record 'R' length 11 exceeds the limit of "
		  "10" },
		{ "R\x0a"
		  "0123456789",
		  12, 10, "R:10:0|EOF" },
		{ "R\xff\xff\xff\xff\x07", 6, 4096,
		  "ERR:t: offset 0: record 'R' length 2147483647 exceeds the "
		  "limit of 4096" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t c = 0; c < NCHUNKS; c++)
			assert_string_equal(read_all(cases[i].bytes,
						     cases[i].len,
						     cases[i].limit, chunks[c]),
					    cases[i].expect);
}

static void
test_read_error(void **state)
{
	static const uint8_t bytes[] = "S\x01xR\x05"
				       "ab";
	static const size_t cuts[] = { 3, 4, 5, 7 };
	static const char *const expect[] = {
		"t: offset 3: read error: Input/output error",
		"t: offset 3: read error: Input/output error",
		"t: offset 3: read error: Input/output error",
		"t: offset 3: read error: Input/output error",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		struct mem_source src = { bytes, cuts[i], 0, 2, true };
		struct stream *s = mem_stream(&src);
		struct record_reader rr;
		struct strbuf data;
		struct err err;
		int type;

		strbuf_init(&data, 100);
		record_reader_init(&rr, s, "t", 0);
		assert_int_equal(record_read(&rr, &type, &data, &err), 1);
		assert_int_equal(record_read(&rr, &type, &data, &err), -1);
		assert_string_equal(err.text, expect[i]);
		strbuf_deinit(&data);
		stream_close(&s);
	}
}

/* record_write on a real file, read back with record_read. */
static void
test_write_stream(void **state)
{
	char path[] = "/tmp/test_record.XXXXXX";
	int fd = mkstemp(path);
	struct stream *s;
	struct record_reader rr;
	struct strbuf data;
	struct err err;
	int type;

	(void)state;
	assert_true(fd >= 0);
	s = stream_open(fd, 0);
	assert_int_equal(record_write_str(s, 'S', "sender@example.com"), 0);
	assert_int_equal(record_write(s, 'N', "a\0b", 3), 0);
	assert_int_equal(record_write(s, 'E', NULL, 0), 0);
	errno = 0;
	assert_int_equal(record_write(s, 'N', "x", RECORD_LEN_MAX + 1), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(stream_close(&s), 0);

	fd = open(path, O_RDONLY);
	unlink(path);
	s = stream_open(fd, 0);
	strbuf_init(&data, 100);
	record_reader_init(&rr, s, path, 0);
	assert_int_equal(record_read(&rr, &type, &data, &err), 1);
	assert_int_equal(type, 'S');
	assert_string_equal(data.data, "sender@example.com");
	assert_int_equal(record_read(&rr, &type, &data, &err), 1);
	assert_int_equal(type, 'N');
	assert_memory_equal(data.data, "a\0b", 3);
	assert_int_equal(record_read(&rr, &type, &data, &err), 1);
	assert_int_equal(type, 'E');
	assert_int_equal(record_read(&rr, &type, &data, &err), 0);
	strbuf_deinit(&data);
	stream_close(&s);
}

/* ------------------------------------------------------------------ */
/* Record types                                                        */

static void
test_type_names(void **state)
{
	static const struct {
		int type;
		const char *name;
	} cases[] = {
		{ 'C', "message_size" },
		{ 'T', "message_arrival_time" },
		{ 'F', "sender_fullname" },
		{ 'S', "sender" },
		{ 'A', "named_attribute" },
		{ 'W', "warning_message_time" },
		{ 'O', "original_recipient" },
		{ 'n', "dsn_notify_flags" },
		{ 'o', "dsn_original_recipient" },
		{ 'i', "dsn_envelope_id" },
		{ '<', "dsn_return_flags" },
		{ 'R', "recipient" },
		{ 'D', "done_recipient" },
		{ '/', "canceled_recipient" },
		{ 'M', "message_content" },
		{ 'N', "content_line" },
		{ 'L', "content_piece" },
		{ 'X', "extracted_segment" },
		{ 'E', "message_end" },
		{ 'Q', NULL },
		{ 0, NULL },
		{ 'p', NULL },
		{ 0x80 + 'R', NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *name = rec_type_name(cases[i].type);

		if (cases[i].name == NULL) {
			assert_null(name);
			assert_false(rec_type_is_known(cases[i].type));
			assert_false(rec_type_is_text(cases[i].type));
		} else {
			assert_string_equal(name, cases[i].name);
			assert_true(rec_type_is_known(cases[i].type));
			assert_int_equal(rec_type_is_text(cases[i].type),
					 cases[i].type != 'N' &&
						 cases[i].type != 'L');
		}
	}
}

static void
test_segments(void **state)
{
	static const struct {
		enum rec_segment seg;
		const char *allowed;
	} cases[] = {
		{ REC_SEG_ENVELOPE, "TFSAWOnoi<RD/M" },
		{ REC_SEG_CONTENT, "NLX" },
		{ REC_SEG_EXTRACTED, "AOnoRD/E" },
		{ REC_SEG_END, "" },
	};
	static const char all[] = "CTFSAWOnoi<RD/MNLXEQ";
	char tbuf[8];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (const char *t = all; *t; t++)
			assert_int_equal(rec_type_in_segment(cases[i].seg, *t),
					 strchr(cases[i].allowed, *t) != NULL);
	assert_false(rec_type_in_segment(REC_SEG_ENVELOPE, 0));
	assert_false(rec_type_in_segment(REC_SEG_ENVELOPE, 0x1c1));
	assert_int_equal(rec_type_opens_segment('M'), REC_SEG_CONTENT);
	assert_int_equal(rec_type_opens_segment('X'), REC_SEG_EXTRACTED);
	assert_int_equal(rec_type_opens_segment('E'), REC_SEG_END);
	assert_int_equal(rec_type_opens_segment('R'), -1);
	assert_string_equal(record_type_str('R', tbuf), "'R'");
	assert_string_equal(record_type_str(' ', tbuf), "0x20");
	assert_string_equal(record_type_str(0x7f, tbuf), "0x7f");
	assert_string_equal(record_type_str(0x100 + 'R', tbuf), "0x52");
}

/* sendmail's report request, the one attribute a local user may set. */
static void
test_trace_flags_attr(void **state)
{
	static const struct {
		const char *data;
		int ret;
		int flags;
	} cases[] = {
		{ "trace_flags=512", 1, REC_TRACE_FLAG_VERIFY },
		{ "trace_flags=1024", 1, REC_TRACE_FLAG_RECORD },
		{ "trace_flags=1536", 1, REC_TRACE_FLAG_MASK },
		{ "trace_flags=0", 1, 0 },
		{ "trace_flags=", -1, 0 },
		{ "trace_flags=4096", -1, 0 },
		{ "trace_flags=513", -1, 0 },
		{ "trace_flags=-512", -1, 0 },
		{ "trace_flags=512x", -1, 0 },
		{ "trace_flags=000000512", -1, 0 },
		{ "trace_flags", 0, 0 },
		{ "trace_flagsx=512", 0, 0 },
		{ "content_filter=smtp:x", 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int flags = -7;
		int ret = rec_attr_trace_flags(cases[i].data, &flags);

		if (ret != cases[i].ret)
			fail_msg("%s: %d, not %d", cases[i].data, ret,
				 cases[i].ret);
		if (ret == 1 && flags != cases[i].flags)
			fail_msg("%s: flags %d", cases[i].data, flags);
		if (ret != 1 && flags != -7)
			fail_msg("%s: flags changed", cases[i].data);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_len),
		cmocka_unit_test(test_trace_flags_attr),
		cmocka_unit_test(test_encoding_bytes),
		cmocka_unit_test(test_decode_header_errors),
		cmocka_unit_test(test_put_limit),
		cmocka_unit_test(test_round_trip_all_types),
		cmocka_unit_test(test_data_exact),
		cmocka_unit_test(test_corrupt_records),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_write_stream),
		cmocka_unit_test(test_type_names),
		cmocka_unit_test(test_segments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
