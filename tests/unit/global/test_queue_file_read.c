/*
 * test_queue_file_read.c - unit tests for the queue file walker's checks.
 *
 * Damaged files are built record by record from a table (a small valid
 * message, then one rule broken), so each error message is checked at its
 * exact offset.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "global/queue_file.h"
#include "global/rec_type.h"
#include "global/record.h"

struct fixture {
	char dir[64];
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char path[128];

	strcpy(fx->dir, "/tmp/test_queue_file_read.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/active", fx->dir);
	if (mkdir(path, 0700) < 0)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char path[128];

	snprintf(path, sizeof(path), "%s/active", fx->dir);
	rmdir(path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The walker against damaged files                                    */

struct rec {
	int type;
	const char *data;
	size_t len; /* 0: strlen(data) */
};

struct walk_case {
	const char *expect; /* "OK" or the error text */
	struct rec recs[16];
	const char *fix;       /* "FIELD=VALUE" override of the size record */
	const char *size_data; /* replaces the size record's data */
	bool no_size;          /* no size record at all */
	const char *tail;      /* raw bytes after the records */
	size_t cut;            /* bytes cut from the end */
	mode_t mode;           /* 0: 0700 */
	int flags;
};

/* Records of a small valid message: offsets C 0, T 97, S 102, R 107, M 112,
 * N 114, X 118, E 120, end of file 122. */
#define SMALL_ENV                                                              \
	{ 'T', "1 2", 0 }, { 'S', "a@b", 0 },                                  \
	{                                                                      \
		'R', "c@d", 0                                                  \
	}
#define SMALL_REST                                                             \
	{ 'M', "", 0 }, { 'N', "hi", 0 }, { 'X', "", 0 },                      \
	{                                                                      \
		'E', "", 0                                                     \
	}

static void
build_file(const struct walk_case *wc, struct strbuf *out)
{
	long long f[REC_SIZE_FIELDS] = { 0 };
	long long content_offset = 0;
	long long xtra_offset = 0;
	struct strbuf body;
	char size[REC_SIZE_LEN + 1];
	size_t base = record_size(REC_SIZE_LEN);

	strbuf_init(&body, STRBUF_UNLIMITED);
	if (wc->no_size)
		base = 0;
	for (const struct rec *r = wc->recs; r->type != 0; r++) {
		size_t len = r->len ? r->len : strlen(r->data);

		if (r->type == 'R' || r->type == 'D' || r->type == '/')
			f[2]++;
		if (r->type == 'N' || r->type == 'L')
			f[4] += (long long)record_size(len);
		if (r->type == 'X')
			xtra_offset = (long long)(base + body.len);
		record_put(&body, r->type, r->data, len);
		if (r->type == 'M')
			content_offset = (long long)(base + body.len);
	}
	f[0] = xtra_offset > 0 ? xtra_offset - content_offset : 0;
	f[1] = content_offset;
	if (wc->fix != NULL) {
		int field;
		long long value;

		assert_int_equal(sscanf(wc->fix, "%d=%lld", &field, &value), 2);
		f[field] = value;
	}
	snprintf(size, sizeof(size), REC_SIZE_FORMAT, f[0], f[1], f[2], f[3],
		 f[4], f[5]);
	strbuf_init(out, STRBUF_UNLIMITED);
	if (wc->size_data != NULL)
		record_put_str(out, 'C', wc->size_data);
	else if (!wc->no_size)
		record_put(out, 'C', size, REC_SIZE_LEN);
	strbuf_append(out, body.data, body.len);
	if (wc->tail != NULL)
		strbuf_append_str(out, wc->tail);
	strbuf_truncate(out, out->len - wc->cut);
	strbuf_deinit(&body);
}

static char *
run_walk_case(struct fixture *fx, const struct walk_case *wc)
{
	static char result[1024];
	struct strbuf bytes;
	struct err err;
	char path[512];
	int fd;
	int ret;

	build_file(wc, &bytes);
	snprintf(path, sizeof(path), "%s/active/case", fx->dir);
	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes.data, bytes.len), (ssize_t)bytes.len);
	assert_int_equal(fchmod(fd, wc->mode ? wc->mode : 0700), 0);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	ret = queue_file_walk(fd, "f", wc->flags, NULL, NULL, NULL, &err);
	snprintf(result, sizeof(result), "%s", ret == 0 ? "OK" : err.text);
	close(fd);
	unlink(path);
	strbuf_deinit(&bytes);
	return result;
}

static const struct walk_case walk_cases[] = {
	{ .expect = "OK", .recs = { SMALL_ENV, SMALL_REST } },
	{ .expect = "OK",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .mode = 0600,
	  .flags = QUEUE_WALK_ANY_MODE },
	{ .expect = "OK",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .flags = QUEUE_WALK_SKIP_CONTENT },
	{ .expect = "f: queue file is not marked complete (mode 0600)",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .mode = 0600 },
	{ .expect = "f: queue file is not marked complete (mode 0644)",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .mode = 0644 },
	/* Not a queue file at all. */
	{ .expect = "f: offset 0: not a queue file (empty)",
	  .recs = { { 0 } },
	  .no_size = true },
	{ .expect = "f: offset 0: not a queue file (first record 'T' is not a "
		    "size "
		    "record)",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .no_size = true },
	{ .expect = "f: offset 0: not a queue file (unknown record type 'h')",
	  .recs = { { 0 } },
	  .no_size = true,
	  .tail = "hello\n" },
	{ .expect = "f: offset 0: malformed size record",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .size_data = "12" },
	/* Envelope rules. */
	{ .expect = "f: offset 107: missing arrival time record",
	  .recs = { { 'S', "a@b", 0 }, { 'R', "c@d", 0 }, SMALL_REST } },
	{ .expect = "f: offset 107: missing sender record",
	  .recs = { { 'T', "1 2", 0 }, { 'R', "c@d", 0 }, SMALL_REST } },
	{ .expect = "f: offset 102: duplicate message_arrival_time record",
	  .recs = { { 'T', "1 2", 0 }, SMALL_ENV, SMALL_REST } },
	{ .expect = "f: offset 112: duplicate sender record",
	  .recs = { SMALL_ENV, { 'S', "a@b", 0 }, SMALL_REST } },
	{ .expect = "f: offset 107: unexpected content_line record in the "
		    "envelope "
		    "segment",
	  .recs = { { 'T', "1 2", 0 }, { 'S', "a@b", 0 }, { 'N', "hi", 0 } } },
	{ .expect = "f: offset 107: unexpected message_size record in the "
		    "envelope "
		    "segment",
	  .recs = { { 'T', "1 2", 0 }, { 'S', "a@b", 0 }, { 'C', "x", 0 } } },
	{ .expect = "f: offset 107: unexpected extracted_segment record in the "
		    "envelope segment",
	  .recs = { { 'T', "1 2", 0 }, { 'S', "a@b", 0 }, { 'X', "", 0 } } },
	{ .expect = "f: offset 107: unknown record type 'Q'",
	  .recs = { { 'T', "1 2", 0 }, { 'S', "a@b", 0 }, { 'Q', "", 0 } } },
	{ .expect = "f: offset 107: NUL byte in recipient record",
	  .recs = { { 'T', "1 2", 0 },
		    { 'S', "a@b", 0 },
		    { 'R', "c\0d", 3 },
		    SMALL_REST } },
	{ .expect = "f: offset 107: NUL byte in named_attribute record",
	  .recs = { { 'T', "1 2", 0 },
		    { 'S', "a@b", 0 },
		    { 'A', "a=\0", 3 } } },
	{ .expect =
		  "f: offset 107: malformed named attribute: missing '=' after "
		  "attribute name",
	  .recs = { { 'T', "1 2", 0 }, { 'S', "a@b", 0 }, { 'A', "foo", 0 } } },
	{ .expect = "f: offset 107: malformed named attribute: bad attribute "
		    "name",
	  .recs = { { 'T', "1 2", 0 }, { 'S', "a@b", 0 }, { 'A', "=x", 0 } } },
	{ .expect = "f: offset 107: malformed named attribute: bad attribute "
		    "name",
	  .recs = { { 'T', "1 2", 0 },
		    { 'S', "a@b", 0 },
		    { 'A', "a b=c", 0 } } },
	{ .expect = "f: offset 107: malformed named attribute: bad attribute "
		    "name",
	  .recs = { { 'T', "1 2", 0 },
		    { 'S', "a@b", 0 },
		    { 'A',
		      "a1234567890123456789012345678901234567890123456789012345"
		      "67890"
		      "1234=x",
		      0 } } },
	{ .expect = "OK",
	  .recs = { { 'T', "1 2", 0 },
		    { 'S', "a@b", 0 },
		    { 'A',
		      "a1234567890123456789012345678901234567890123456789012345"
		      "67890"
		      "123=x",
		      0 },
		    { 'A', "Log-Ident_2=", 0 },
		    SMALL_REST } },
	{ .expect = "f: offset 97: malformed arrival time record",
	  .recs = { { 'T', "abc", 0 }, { 'S', "a@b", 0 } } },
	{ .expect = "f: offset 97: malformed arrival time record",
	  .recs = { { 'T', "1 1000000", 0 }, { 'S', "a@b", 0 } } },
	{ .expect = "f: offset 97: malformed arrival time record",
	  .recs = { { 'T', "1 ", 0 }, { 'S', "a@b", 0 } } },
	{ .expect = "f: offset 97: malformed arrival time record",
	  .recs = { { 'T', "", 0 }, { 'S', "a@b", 0 } } },
	{ .expect = "f: offset 97: malformed arrival time record",
	  .recs = { { 'T', " 1 2", 0 }, { 'S', "a@b", 0 } } },
	{ .expect = "OK",
	  .recs = { { 'T', "1795368480", 0 }, { 'S', "", 0 }, SMALL_REST } },
	{ .expect = "f: offset 107: malformed warning time record",
	  .recs = { { 'T', "1 2", 0 }, { 'S', "a@b", 0 }, { 'W', "5", 0 } } },
	{ .expect = "f: offset 107: malformed warning time record",
	  .recs = { { 'T', "1 2", 0 },
		    { 'S', "a@b", 0 },
		    { 'W', "             x5", 0 } } },
	{ .expect = "f: offset 107: malformed dsn_notify_flags record",
	  .recs = { { 'T', "1 2", 0 }, { 'S', "a@b", 0 }, { 'n', "x", 0 } } },
	{ .expect = "f: offset 107: malformed dsn_return_flags record",
	  .recs = { { 'T', "1 2", 0 }, { 'S', "a@b", 0 }, { '<', "", 0 } } },
	{ .expect = "f: offset 107: malformed dsn_return_flags record",
	  .recs = { { 'T', "1 2", 0 },
		    { 'S', "a@b", 0 },
		    { '<', "1234567890", 0 } } },
	{ .expect = "f: offset 112: recipient attributes without a recipient",
	  .recs = { { 'T', "1 2", 0 },
		    { 'S', "a@b", 0 },
		    { 'O', "c@d", 0 },
		    SMALL_REST } },
	{ .expect = "f: offset 123: recipient attributes without a recipient",
	  .recs = { SMALL_ENV,
		    { 'M', "", 0 },
		    { 'N', "hi", 0 },
		    { 'X', "", 0 },
		    { 'n', "2", 0 },
		    { 'E', "", 0 } } },
	{ .expect = "OK",
	  .recs = { { 'T', "1 2", 0 },
		    { 'F', "Alice", 0 },
		    { 'S', "a@b", 0 },
		    { 'i', "id", 0 },
		    { '<', "1", 0 },
		    { 'W', "     1795368480", 0 },
		    { 'O', "c@d", 0 },
		    { 'n', "14", 0 },
		    { 'o', "rfc822;c@d", 0 },
		    { 'D', "c@d", 0 },
		    { '/', "e@f", 0 },
		    { 'M', "", 0 },
		    { 'X', "", 0 },
		    { 'O', "g@h", 0 },
		    { 'R', "g@h", 0 },
		    { 'E', "", 0 } } },
	/* Content rules. */
	{ .expect = "f: offset 114: unexpected recipient record in the content "
		    "segment",
	  .recs = { SMALL_ENV, { 'M', "", 0 }, { 'R', "x", 0 } } },
	{ .expect =
		  "f: offset 118: unexpected message_end record in the content "
		  "segment",
	  .recs = { SMALL_ENV,
		    { 'M', "", 0 },
		    { 'N', "hi", 0 },
		    { 'E', "", 0 } } },
	{ .expect = "f: offset 118: content ends inside a continued line",
	  .recs = { SMALL_ENV,
		    { 'M', "", 0 },
		    { 'L', "hi", 0 },
		    { 'X', "", 0 },
		    { 'E', "", 0 } } },
	{ .expect = "OK",
	  .recs = { SMALL_ENV,
		    { 'M', "", 0 },
		    { 'L', "h\0", 2 },
		    { 'N', "\0i", 2 },
		    { 'X', "", 0 },
		    { 'E', "", 0 } } },
	/* Extracted segment and end. */
	{ .expect = "f: offset 120: unexpected message_arrival_time record in "
		    "the "
		    "extracted segment",
	  .recs = { SMALL_ENV,
		    { 'M', "", 0 },
		    { 'N', "hi", 0 },
		    { 'X', "", 0 },
		    { 'T', "1 2", 0 } } },
	{ .expect = "f: offset 120: unexpected end of file in the extracted "
		    "segment (no "
		    "end record)",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .cut = 2 },
	{ .expect = "f: offset 120: unexpected end of file in record header",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .cut = 1 },
	{ .expect = "f: offset 114: truncated record 'N': 2 data bytes "
		    "expected, 1 "
		    "present",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .cut = 5 },
	{ .expect = "f: offset 114: truncated record 'N': 2 data bytes "
		    "expected, 0 "
		    "present",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .cut = 6 },
	{ .expect = "f: offset 114: unexpected end of file in record header",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .cut = 7 },
	{ .expect = "f: offset 112: unexpected end of file in the envelope "
		    "segment (no "
		    "end record)",
	  .recs = { SMALL_ENV } },
	{ .expect = "f: offset 122: data after the end record",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .tail = "x" },
	{ .expect = "f: offset 122: data after the end record",
	  .recs = { SMALL_ENV, SMALL_REST, { 'E', "", 0 } } },
	/* The size record must match the file. */
	{ .expect = "f: offset 0: size record says content starts at offset "
		    "10, but it "
		    "starts at 114",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .fix = "1=10" },
	{ .expect = "f: offset 0: size record says the content is 99 bytes, "
		    "but it is 4",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .fix = "0=99" },
	{ .expect = "f: offset 0: size record says 5 recipients, but the file "
		    "has 1",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .fix = "2=5" },
	{ .expect =
		  "f: offset 0: size record says content length 7, but it is 4",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .fix = "4=7" },
	{ .expect = "OK",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .fix = "4=7",
	  .flags = QUEUE_WALK_SKIP_CONTENT },
	{ .expect = "f: offset 114: no extracted segment marker where the size "
		    "record "
		    "puts it",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .fix = "0=0",
	  .flags = QUEUE_WALK_SKIP_CONTENT },
	{ .expect = "f: offset 116: unknown record type 'h'",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .fix = "0=2",
	  .flags = QUEUE_WALK_SKIP_CONTENT },
	{ .expect = "f: offset 1114: unexpected end of file in the content "
		    "segment (no "
		    "end record)",
	  .recs = { SMALL_ENV, SMALL_REST },
	  .fix = "0=1000",
	  .flags = QUEUE_WALK_SKIP_CONTENT },
};

static void
test_walk_cases(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(walk_cases) / sizeof(walk_cases[0]); i++)
		assert_string_equal(run_walk_case(fx, &walk_cases[i]),
				    walk_cases[i].expect);
}

/* The size record's fixed layout, damaged one byte at a time. */
static void
test_size_record_layout(void **state)
{
	struct fixture *fx = *state;
	static const struct {
		size_t pos;
		char byte;
		const char *expect;
	} cases[] = {
		{ 0, ' ', "OK" }, /* still right-aligned digits */
		{ 14, ' ', "f: offset 0: malformed size record" }, /* empty */
		{ 15, 'x',
		  "f: offset 0: malformed size record" }, /* separator */
		{ 15, '0', "f: offset 0: malformed size record" },
		{ 13, '-', "f: offset 0: malformed size record" },
		{ 94, 'x', "f: offset 0: malformed size record" },
		{ 5, '1', "f: offset 0: malformed size record" }, /* "1   4" */
		{ 13, '0', "OK" }, /* leading zero: "04" */
	};
	char size[REC_SIZE_LEN + 1];
	struct walk_case wc = { .recs = { SMALL_ENV, SMALL_REST } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(size, sizeof(size), REC_SIZE_FORMAT, 4LL, 114LL, 1LL,
			 0LL, 4LL, 0LL);
		size[cases[i].pos] = cases[i].byte;
		wc.size_data = size;
		assert_string_equal(run_walk_case(fx, &wc), cases[i].expect);
	}
	snprintf(size, sizeof(size), REC_SIZE_FORMAT, 4LL, 114LL, 1LL, 0LL, 4LL,
		 0LL);
	size[REC_SIZE_LEN - 1] = 0; /* 94 bytes */
	wc.size_data = size;
	assert_string_equal(run_walk_case(fx, &wc),
			    "f: offset 0: malformed size record");
}

static void
test_parse_time(void **state)
{
	static const struct {
		const char *text;
		int ret;
		long long sec;
		long usec;
	} cases[] = {
		{ "1795368480 627653", 0, 1795368480, 627653 },
		{ "1795368480", 0, 1795368480, 0 },
		{ "0 0", 0, 0, 0 },
		{ "1 999999", 0, 1, 999999 },
		{ "1 1000000", -1, 0, 0 },
		{ "1  2", -1, 0, 0 },
		{ "1 2 3", -1, 0, 0 },
		{ "-1 2", -1, 0, 0 },
		{ "1234567890123456789", -1, 0, 0 },
		{ "123456789012345678 1", 0, 123456789012345678LL, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long sec = -5;
		long usec = -5;

		assert_int_equal(
			queue_file_parse_time(cases[i].text, &sec, &usec),
			cases[i].ret);
		if (cases[i].ret == 0) {
			assert_int_equal(sec, cases[i].sec);
			assert_int_equal(usec, cases[i].usec);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_walk_cases, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_size_record_layout, setup,
						teardown),
		cmocka_unit_test(test_parse_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
