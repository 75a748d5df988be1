/*
 * record.c - typed, length-prefixed records: encoding and bounded reading.
 *
 * The reader pulls the header a byte at a time from the stream's buffer
 * and the data in chunks, so a record is never larger in memory than the
 * caller's limit allows, however large a corrupt length claims to be.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "global/rec_type.h"
#include "global/record.h"
#include "util/log.h"

#define READ_CHUNK 4096

size_t
record_header_len(size_t len)
{
	size_t n = 2;

	while (len >= 0x80) {
		len >>= 7;
		n++;
	}
	return n;
}

size_t
record_size(size_t len)
{
	return record_header_len(len) + len;
}

size_t
record_encode_header(uint8_t *buf, int type, size_t len)
{
	size_t n = 0;

	ASSERT(len <= RECORD_LEN_MAX);
	buf[n++] = (uint8_t)type;
	while (len >= 0x80) {
		buf[n++] = (uint8_t)(0x80 | (len & 0x7f));
		len >>= 7;
	}
	buf[n++] = (uint8_t)len;
	return n;
}

/*
 * Add one length byte to a varint being decoded. Returns 1 when the length
 * is complete, 0 when more bytes follow, -1 when it is malformed: longer
 * than 5 bytes, over RECORD_LEN_MAX, or not in its shortest form (a last
 * byte of zero after the first).
 */
static int
varint_step(uint8_t byte, size_t index, size_t *len)
{
	if (index >= RECORD_HEADER_MAX - 1)
		return -1;
	*len |= (size_t)(byte & 0x7f) << (7 * index);
	if (byte & 0x80)
		/* The last byte a length may have must end it. */
		return index == RECORD_HEADER_MAX - 2 ? -1 : 0;
	if (index > 0 && byte == 0)
		return -1;
	return *len <= RECORD_LEN_MAX ? 1 : -1;
}

int
record_decode_header(const uint8_t *buf, size_t avail, int *type_out,
		     size_t *len_out, size_t *header_len_out, struct err *err)
{
	size_t len = 0;

	if (avail < 2)
		return 0;
	for (size_t i = 1; i < avail; i++) {
		int st = varint_step(buf[i], i - 1, &len);

		if (st < 0) {
			err_set(err, "malformed record length");
			return -1;
		}
		if (st > 0) {
			*type_out = buf[0];
			*len_out = len;
			*header_len_out = i + 1;
			return 1;
		}
	}
	return 0;
}

int
record_put(struct strbuf *out, int type, const void *data, size_t len)
{
	uint8_t header[RECORD_HEADER_MAX];
	size_t old_len = out->len;
	size_t header_len;

	if (len > RECORD_LEN_MAX) {
		errno = E2BIG;
		return -1;
	}
	header_len = record_encode_header(header, type, len);
	if (strbuf_append(out, header, header_len) < 0 ||
	    strbuf_append(out, data, len) < 0) {
		strbuf_truncate(out, old_len);
		errno = E2BIG;
		return -1;
	}
	return 0;
}

int
record_put_str(struct strbuf *out, int type, const char *text)
{
	return record_put(out, type, text, strlen(text));
}

int
record_putf(struct strbuf *out, int type, const char *fmt, ...)
{
	struct strbuf text;
	va_list ap;
	int ret;

	strbuf_init(&text, RECORD_LEN_MAX);
	va_start(ap, fmt);
	ret = strbuf_vprintf(&text, fmt, ap);
	va_end(ap);
	if (ret == 0)
		ret = record_put(out, type, text.data, text.len);
	strbuf_deinit(&text);
	return ret;
}

int
record_write(struct stream *s, int type, const void *data, size_t len)
{
	uint8_t header[RECORD_HEADER_MAX];
	size_t header_len;

	if (len > RECORD_LEN_MAX) {
		errno = E2BIG;
		return -1;
	}
	header_len = record_encode_header(header, type, len);
	if (stream_write(s, header, header_len) < 0)
		return -1;
	return len > 0 ? stream_write(s, data, len) : 0;
}

int
record_write_str(struct stream *s, int type, const char *text)
{
	return record_write(s, type, text, strlen(text));
}

const char *
record_type_str(int type, char *buf)
{
	if (type > 0x20 && type < 0x7f && type != '\'')
		snprintf(buf, 8, "'%c'", type);
	else
		snprintf(buf, 8, "0x%02x", (unsigned)type & 0xff);
	return buf;
}

void
record_reader_init(struct record_reader *rr, struct stream *s, const char *name,
		   off_t offset)
{
	rr->stream = s;
	rr->name = name;
	rr->offset = offset;
	rr->rec_offset = offset;
}

/* "NAME: offset N: reason" for the record starting at rr->rec_offset. */
static int read_fail(struct record_reader *rr, struct err *err, const char *fmt,
		     ...) __attribute__((format(printf, 3, 4)));

static int
read_fail(struct record_reader *rr, struct err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, fmt, ap);
	va_end(ap);
	err_prefix(err, "%s: offset %lld", rr->name, (long long)rr->rec_offset);
	return -1;
}

static int
read_error(struct record_reader *rr, struct err *err)
{
	if (stream_is_error(rr->stream))
		return read_fail(rr, err, "read error: %s",
				 strerror(stream_errno(rr->stream)));
	return read_fail(rr, err, "unexpected end of file in record header");
}

/* Read the type and length. 1, 0 (clean end of file) or -1. */
static int
read_header(struct record_reader *rr, int *type_out, size_t *len_out,
	    struct err *err)
{
	uint8_t byte;
	ssize_t got;
	size_t len = 0;
	int st = 0;

	if ((got = stream_read_exact(rr->stream, &byte, 1)) < 0)
		return read_error(rr, err);
	if (got == 0)
		return 0;
	*type_out = byte;
	for (size_t i = 0; st == 0; i++) {
		if (stream_read_exact(rr->stream, &byte, 1) != 1)
			return read_error(rr, err);
		if ((st = varint_step(byte, i, &len)) < 0)
			return read_fail(rr, err, "malformed record length");
		rr->offset++;
	}
	rr->offset++; /* the type byte */
	*len_out = len;
	return 1;
}

/* Read len data bytes into data, chunk by chunk. */
static int
read_data(struct record_reader *rr, int type, size_t len, struct strbuf *data,
	  struct err *err)
{
	char chunk[READ_CHUNK];
	char tbuf[8];

	while (data->len < len) {
		size_t want = len - data->len;
		ssize_t got;

		if (want > sizeof(chunk))
			want = sizeof(chunk);
		got = stream_read_exact(rr->stream, chunk, want);
		if (got < 0 ||
		    (got < (ssize_t)want && stream_is_error(rr->stream)))
			return read_fail(rr, err, "read error: %s",
					 strerror(stream_errno(rr->stream)));
		if (strbuf_append(data, chunk, (size_t)got) < 0)
			log_panic("record_read: buffer limit below record "
				  "length");
		rr->offset += got;
		if ((size_t)got < want)
			return read_fail(rr, err,
					 "truncated record %s: %zu data bytes "
					 "expected, %zu present",
					 record_type_str(type, tbuf), len,
					 data->len);
	}
	return 0;
}

int
record_read(struct record_reader *rr, int *type_out, struct strbuf *data,
	    struct err *err)
{
	char tbuf[8];
	size_t len = 0;
	int type = 0;
	int ret;

	strbuf_reset(data);
	rr->rec_offset = rr->offset;
	if ((ret = read_header(rr, &type, &len, err)) <= 0)
		return ret;
	if (!rec_type_is_known(type))
		return read_fail(rr, err, "unknown record type %s",
				 record_type_str(type, tbuf));
	if (len > data->limit)
		return read_fail(
			rr, err,
			"record %s length %zu exceeds the limit of %zu",
			record_type_str(type, tbuf), len, data->limit);
	if (read_data(rr, type, len, data, err) < 0)
		return -1;
	*type_out = type;
	return 1;
}
