/*
 * record.h - typed, length-prefixed records: the queue file's encoding.
 *
 * One record is
 *     type    one byte, an enum rec_type letter
 *     length  the data length as an unsigned LEB128 varint: 7 bits per
 *             byte, least significant group first, high bit set on every
 *             byte but the last; 1 to 5 bytes, shortest form only
 *     data    length bytes, binary-safe
 * Readers treat the bytes as untrusted (a queue file can be truncated by a
 * crash or damaged on disk): every length has a limit, unknown types and
 * non-shortest lengths are errors, and each error says where:
 * "NAME: offset N: reason".
 */
#ifndef POSTERN_GLOBAL_RECORD_H
#define POSTERN_GLOBAL_RECORD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"
#include "util/stream.h"
#include "util/strbuf.h"

/* Largest data length the encoding carries, and the longest header. */
#define RECORD_LEN_MAX ((size_t)INT32_MAX)
#define RECORD_HEADER_MAX 6

/* Bytes of the header (type and length) of a record with len data bytes,
 * and of the whole record. */
size_t record_header_len(size_t len);
size_t record_size(size_t len);

/*
 * Encode the header of a record into buf (RECORD_HEADER_MAX bytes);
 * returns its length. len must be at most RECORD_LEN_MAX (else log_panic).
 */
size_t record_encode_header(uint8_t *buf, int type, size_t len);

/*
 * Decode a header from the first avail bytes of buf. Returns 1 with
 * *type_out, *len_out and *header_len_out set; 0 if buf holds only part of
 * a header; -1 with err (no position prefix) for a malformed length. The
 * type is not checked.
 */
int record_decode_header(const uint8_t *buf, size_t avail, int *type_out,
			 size_t *len_out, size_t *header_len_out,
			 struct err *err);

/*
 * Append one record to out. Returns 0, or -1 with errno E2BIG and out
 * unchanged when out's limit (or RECORD_LEN_MAX) would be passed.
 */
int record_put(struct strbuf *out, int type, const void *data, size_t len);
int record_put_str(struct strbuf *out, int type, const char *text);
int record_putf(struct strbuf *out, int type, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Write one record to a stream (buffered; stream_flush sends it). Returns
 * 0, or -1 with errno (E2BIG for len over RECORD_LEN_MAX, or the stream's
 * error).
 */
int record_write(struct stream *s, int type, const void *data, size_t len);
int record_write_str(struct stream *s, int type, const char *text);

/*
 * Sequential reader over a stream, counting file offsets itself (the
 * stream does not). name appears in error messages; the caller owns the
 * stream and name and keeps them alive while the reader is used.
 */
struct record_reader {
	struct stream *stream;
	const char *name;
	off_t offset;     /* file offset of the next record */
	off_t rec_offset; /* file offset of the record last returned */
};

/* Start reading s, whose next byte is at file offset offset. */
void record_reader_init(struct record_reader *rr, struct stream *s,
			const char *name, off_t offset);

/*
 * Read the next record: its type into *type_out and its data into data
 * (emptied first; NUL-terminated, the NUL not counted). data->limit is
 * the length limit. Returns 1 for a record (rr->rec_offset says where it
 * started), 0 at end of file exactly between records, or -1 with err
 * "NAME: offset N: reason", N being where the bad record starts:
 *     "unexpected end of file in record header"
 *     "malformed record length"
 *     "unknown record type 'Q'" (or 0x01 for an unprintable byte)
 *     "record 'N' length 5000 exceeds the limit of 4096"
 *     "truncated record 'N': 100 data bytes expected, 40 present"
 *     "read error: REASON"
 * After an error the reader's position is unspecified.
 */
int record_read(struct record_reader *rr, int *type_out, struct strbuf *data,
		struct err *err);

/* A record type for messages: "'R'" or "0x01"; buf has room for 8. */
const char *record_type_str(int type, char *buf);

#endif
