/*
 * fuzz_queue_file.c - libFuzzer target for the queue file reader.
 *
 * The input is a queue file. It is walked in full and with the content
 * skipped; both must agree on whether the envelope is sound. Every record
 * the raw reader accepts is encoded again, which must give back exactly
 * the input bytes (lengths have one encoding only).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "global/queue_file.h"
#include "global/record.h"
#include "util/log.h"
#include "util/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
count_record(const struct queue_record *rec, void *ctx, struct err *err)
{
	size_t *count = ctx;

	(void)err;
	ASSERT(rec->len <= QUEUE_FILE_RECORD_LIMIT);
	ASSERT(rec->data[rec->len] == 0);
	(*count)++;
	return 0;
}

/* Re-encode each record read and compare with the input bytes. */
static void
check_round_trip(int fd, const uint8_t *data)
{
	struct stream *s = stream_open(fd, 0);
	struct record_reader rr;
	struct strbuf rec;
	struct strbuf again;
	struct err err;
	int type;

	record_reader_init(&rr, s, "fuzz", 0);
	strbuf_init(&rec, QUEUE_FILE_RECORD_LIMIT);
	strbuf_init(&again, STRBUF_UNLIMITED);
	while (record_read(&rr, &type, &rec, &err) == 1) {
		strbuf_reset(&again);
		ASSERT(record_put(&again, type, rec.data, rec.len) == 0);
		ASSERT((off_t)again.len == rr.offset - rr.rec_offset);
		ASSERT(memcmp(again.data, data + rr.rec_offset, again.len) ==
		       0);
	}
	strbuf_deinit(&rec);
	strbuf_deinit(&again);
	(void)stream_detach(&s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct queue_file_info full;
	struct queue_file_info skip;
	struct err err;
	size_t count = 0;
	int fd = memfd_create("fuzz_queue_file", 0);
	int ret_full;
	int ret_skip;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	lseek(fd, 0, SEEK_SET);
	ret_full = queue_file_walk(fd, "fuzz", QUEUE_WALK_ANY_MODE,
				   count_record, &count, &full, &err);
	lseek(fd, 0, SEEK_SET);
	ret_skip = queue_file_walk(
		fd, "fuzz", QUEUE_WALK_ANY_MODE | QUEUE_WALK_SKIP_CONTENT, NULL,
		NULL, &skip, &err);
	/* Skipping checks less, so a sound file stays sound. */
	if (ret_full == 0) {
		ASSERT(ret_skip == 0);
		ASSERT(full.xtra_offset == skip.xtra_offset);
		ASSERT(full.end_offset == skip.end_offset);
		ASSERT(full.rcpt_count == skip.rcpt_count);
		ASSERT((size_t)full.end_offset + 2 == size);
	}
	lseek(fd, 0, SEEK_SET);
	check_round_trip(fd, data);
	close(fd);
	return 0;
}
