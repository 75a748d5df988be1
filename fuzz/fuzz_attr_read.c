/*
 * fuzz_attr_read.c - libFuzzer target for reading attribute messages off
 * a stream (attr_read), which takes the stream's buffered bytes a run at a
 * time and must consume exactly one message and no byte more.
 *
 * The first input byte sets how many bytes each read of the underlying
 * "socket" returns (1..256), so messages arrive split at every place. Each
 * message attr_read returns must be the one attr_decode finds at the same
 * offset, with the same length; a read error must leave the rest unread
 * only where attr_decode also fails or needs more.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/attr.h"
#include "util/attr_io.h"
#include "util/log.h"
#include "util/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The "socket": data handed out chunk bytes at a time. */
struct source {
	const uint8_t *data;
	size_t size;
	size_t pos;
	size_t chunk;
};

static ssize_t
source_read(int fd, void *buf, size_t len, void *ctx)
{
	struct source *src = ctx;
	size_t n = src->size - src->pos;

	(void)fd;
	if (n > len)
		n = len;
	if (n > src->chunk)
		n = src->chunk;
	memcpy(buf, src->data + src->pos, n);
	src->pos += n;
	return (ssize_t)n;
}

static ssize_t
source_write(int fd, const void *buf, size_t len, void *ctx)
{
	(void)fd;
	(void)buf;
	(void)ctx;
	return (ssize_t)len;
}

static const struct stream_io source_io = { source_read, source_write };

/* Bytes of the input the stream has consumed so far. */
static size_t
consumed(const struct source *src, const struct stream *s)
{
	return src->pos - stream_read_pending(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct source src;
	struct stream *s;
	int fd;

	if (size < 1)
		return 0;
	src = (struct source){ data + 1, size - 1, 0, (size_t)data[0] + 1 };
	fd = dup(STDIN_FILENO);
	if (fd < 0)
		return 0;
	s = stream_open(fd, 0);
	stream_set_io(s, &source_io, &src);
	for (;;) {
		size_t at = consumed(&src, s);
		struct attr_list *list = NULL, *want = NULL;
		size_t want_len = 0;
		int got = attr_read(s, 65536, &list, NULL);
		int expect = attr_decode(src.data + at, src.size - at,
					 &attr_default_limits, &want, &want_len,
					 NULL);

		if (got == 1) {
			/* The same message, and exactly its bytes. */
			ASSERT(expect == 1);
			ASSERT(consumed(&src, s) - at == want_len);
			ASSERT(list->count == want->count);
		}
		attr_list_destroy(&list);
		attr_list_destroy(&want);
		if (got != 1)
			break;
	}
	stream_close(&s);
	return 0;
}
