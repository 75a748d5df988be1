/*
 * queue_file_read.c - walking a queue file record by record and checking it.
 *
 * A queue file is untrusted input: a crash can truncate it, a disk can
 * damage it, and a person can edit it. The walker checks every structural
 * rule a consumer relies on before the consumer acts on the file, and
 * says at which offset the file first breaks a rule.
 * Security: reads with bounded records (QUEUE_FILE_RECORD_LIMIT).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/queue_file.h"
#include "global/rec_type.h"
#include "global/record.h"
#include "util/log.h"
#include "util/stream.h"

#define FLAGS_DIGITS_MAX 9

struct walk {
	const char *name;
	int flags;
	struct stream *stream;
	struct record_reader rr;
	struct strbuf data;
	struct queue_file_info info;
	enum rec_segment segment;
	off_t content_start; /* offset just after the M record */
	int pending_rcpt_attrs;
	bool is_skipped; /* the content was skipped; X must come next */
	bool in_line;
	bool has_time;
	bool has_sender;
	long long rcpt_seen;
	long long content_length;
};

static const char *const segment_names[] = {
	[REC_SEG_ENVELOPE] = "envelope",
	[REC_SEG_CONTENT] = "content",
	[REC_SEG_EXTRACTED] = "extracted",
	[REC_SEG_END] = "end",
};

/* "NAME: offset N: reason"; always returns -1. */
static int
walk_fail(const struct walk *w, off_t offset, struct err *err, const char *fmt,
	  ...) __attribute__((format(printf, 4, 5)));

static int
walk_fail(const struct walk *w, off_t offset, struct err *err, const char *fmt,
	  ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(err, fmt, ap);
	va_end(ap);
	err_prefix(err, "%s: offset %lld", w->name, (long long)offset);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Field parsers                                                       */

/*
 * A right-aligned decimal field of exactly width bytes: spaces, then at
 * least one digit to the end. -1 if malformed.
 */
static int
parse_fixed(const char *p, size_t width, long long *out)
{
	size_t i = 0;
	long long value = 0;

	while (i < width && p[i] == ' ')
		i++;
	if (i == width)
		return -1;
	for (; i < width; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		value = value * 10 + (p[i] - '0');
	}
	*out = value;
	return 0;
}

/* Digits only, 1..max_digits of them, up to the end of text. */
static int
parse_digits(const char *text, size_t max_digits, long long *out)
{
	size_t len = strspn(text, "0123456789");
	long long value = 0;

	if (len == 0 || len > max_digits || text[len] != 0)
		return -1;
	for (size_t i = 0; i < len; i++)
		value = value * 10 + (text[i] - '0');
	*out = value;
	return 0;
}

int
queue_file_parse_time(const char *data, long long *sec_out, long *usec_out)
{
	const char *space = strchr(data, ' ');
	long long usec = 0;
	char sec_text[24];
	size_t sec_len = space ? (size_t)(space - data) : strlen(data);

	if (sec_len == 0 || sec_len >= sizeof(sec_text))
		return -1;
	memcpy(sec_text, data, sec_len);
	sec_text[sec_len] = 0;
	if (parse_digits(sec_text, 18, sec_out) < 0)
		return -1;
	if (space != NULL &&
	    (parse_digits(space + 1, 6, &usec) < 0 || usec >= 1000000))
		return -1;
	*usec_out = (long)usec;
	return 0;
}

int
queue_file_parse_warn(const char *data, size_t len, long long *sec_out)
{
	if (len != REC_WARN_LEN)
		return -1;
	return parse_fixed(data, REC_WARN_LEN, sec_out);
}

static int
parse_size_record(const char *data, size_t len, struct queue_file_info *info)
{
	long long *fields[REC_SIZE_FIELDS] = {
		&info->content_size, &info->content_offset, &info->rcpt_count,
		&info->qmgr_opts,    &info->content_length, &info->smtputf8,
	};

	if (len != REC_SIZE_LEN)
		return -1;
	for (int i = 0; i < REC_SIZE_FIELDS; i++) {
		const char *p = data + i * (REC_SIZE_WIDTH + 1);

		if (i > 0 && p[-1] != ' ')
			return -1;
		if (parse_fixed(p, REC_SIZE_WIDTH, fields[i]) < 0)
			return -1;
	}
	return 0;
}

/* "name=value" with a name of letters, digits, '_' and '-'. */
static const char *
check_attr(const char *data, size_t len)
{
	static const char name_chars[] = "abcdefghijklmnopqrstuvwxyz"
					 "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "0123456789_-";
	const char *eq = memchr(data, '=', len);
	size_t name_len;

	if (eq == NULL)
		return "malformed named attribute: missing '=' after "
		       "attribute name";
	name_len = (size_t)(eq - data);
	if (name_len == 0 || name_len > REC_ATTR_NAME_MAX)
		return "malformed named attribute: bad attribute name";
	for (size_t i = 0; i < name_len; i++)
		if (data[i] == 0 || strchr(name_chars, data[i]) == NULL)
			return "malformed named attribute: bad attribute name";
	return NULL;
}

/* Copy short text data into buf as a string; false if it does not fit. */
static bool
copy_short(char *buf, size_t size, const char *data, size_t len)
{
	if (len >= size)
		return false;
	memcpy(buf, data, len);
	buf[len] = 0;
	return true;
}

int
queue_file_check_data(int type, const char *data, size_t len, struct err *err)
{
	const char *why = NULL;
	char text[64];
	long long num;
	long usec;
	bool ok = true;

	if (rec_type_is_text(type) && len > 0 && memchr(data, 0, len)) {
		err_set(err, "NUL byte in %s record", rec_type_name(type));
		return -1;
	}
	switch (type) {
	case REC_TYPE_TIME:
		ok = copy_short(text, sizeof(text), data, len) &&
		     queue_file_parse_time(text, &num, &usec) == 0;
		break;
	case REC_TYPE_WARN:
		ok = queue_file_parse_warn(data, len, &num) == 0;
		break;
	case REC_TYPE_DSN_NOTIFY:
	case REC_TYPE_DSN_RET:
		ok = copy_short(text, sizeof(text), data, len) &&
		     parse_digits(text, FLAGS_DIGITS_MAX, &num) == 0;
		break;
	case REC_TYPE_ATTR:
		if ((why = check_attr(data, len)) != NULL) {
			err_set(err, "%s", why);
			return -1;
		}
		break;
	default:
		break;
	}
	if (!ok) {
		err_set(err, "malformed %s record",
			type == REC_TYPE_TIME   ? "arrival time"
			: type == REC_TYPE_WARN ? "warning time"
						: rec_type_name(type));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Rules per record                                                    */

/* Checks of a record's data, by type. */
static int
check_data(struct walk *w, int type, struct err *err)
{
	if (queue_file_check_data(type, w->data.data, w->data.len, err) < 0) {
		err_prefix(err, "%s: offset %lld", w->name,
			   (long long)w->rr.rec_offset);
		return -1;
	}
	if (type == REC_TYPE_TIME)
		(void)queue_file_parse_time(w->data.data, &w->info.arrival_sec,
					    &w->info.arrival_usec);
	return 0;
}

/* Rules that concern the envelope as a whole, checked at its end. */
static int
check_envelope_end(struct walk *w, int type, struct err *err)
{
	off_t at = w->rr.rec_offset;

	if (w->pending_rcpt_attrs > 0)
		return walk_fail(w, at, err,
				 "recipient attributes without a recipient");
	if (type == REC_TYPE_MESG && !w->has_time)
		return walk_fail(w, at, err, "missing arrival time record");
	if (type == REC_TYPE_MESG && !w->has_sender)
		return walk_fail(w, at, err, "missing sender record");
	if (type == REC_TYPE_XTRA && w->in_line)
		return walk_fail(w, at, err,
				 "content ends inside a continued line");
	return 0;
}

/* Track counts and duplicates; called for every record in order. */
static int
track(struct walk *w, int type, struct err *err)
{
	off_t at = w->rr.rec_offset;

	if ((type == REC_TYPE_TIME && w->has_time) ||
	    (type == REC_TYPE_FROM && w->has_sender))
		return walk_fail(w, at, err, "duplicate %s record",
				 rec_type_name(type));
	w->has_time |= type == REC_TYPE_TIME;
	w->has_sender |= type == REC_TYPE_FROM;
	switch (type) {
	case REC_TYPE_ORCP:
	case REC_TYPE_DSN_NOTIFY:
	case REC_TYPE_DSN_ORCPT:
		w->pending_rcpt_attrs++;
		break;
	case REC_TYPE_RCPT:
	case REC_TYPE_DONE:
	case REC_TYPE_DRCP:
		w->pending_rcpt_attrs = 0;
		w->rcpt_seen++;
		break;
	case REC_TYPE_NORM:
	case REC_TYPE_CONT:
		w->content_length += (long long)record_size(w->data.len);
		w->in_line = type == REC_TYPE_CONT;
		break;
	default:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Segment boundaries                                                  */

/* Jump from the content start to where the size record puts X. */
static int
skip_content(struct walk *w, struct err *err)
{
	off_t target = w->content_start + (off_t)w->info.content_size;
	int fd = stream_detach(&w->stream);

	w->stream = stream_open(fd, 0);
	if (lseek(fd, target, SEEK_SET) < 0)
		return walk_fail(w, w->content_start, err, "seek: %s",
				 strerror(errno));
	record_reader_init(&w->rr, w->stream, w->name, target);
	w->is_skipped = true;
	return 0;
}

static int
open_content(struct walk *w, struct err *err)
{
	w->content_start = w->rr.offset;
	if (w->info.content_offset != (long long)w->content_start)
		return walk_fail(w, 0, err,
				 "size record says content starts at offset "
				 "%lld, but it starts at %lld",
				 w->info.content_offset,
				 (long long)w->content_start);
	return 0;
}

static int
open_extracted(struct walk *w, struct err *err)
{
	long long size = (long long)(w->rr.rec_offset - w->content_start);

	w->info.xtra_offset = w->rr.rec_offset;
	if (w->info.content_size != size)
		return walk_fail(w, 0, err,
				 "size record says the content is %lld bytes, "
				 "but it is %lld",
				 w->info.content_size, size);
	return 0;
}

static int
check_totals(struct walk *w, struct err *err)
{
	w->info.end_offset = w->rr.rec_offset;
	if (w->info.rcpt_count != w->rcpt_seen)
		return walk_fail(w, 0, err,
				 "size record says %lld recipients, but the "
				 "file has %lld",
				 w->info.rcpt_count, w->rcpt_seen);
	if (!(w->flags & QUEUE_WALK_SKIP_CONTENT) &&
	    w->info.content_length != w->content_length)
		return walk_fail(w, 0, err,
				 "size record says content length %lld, but "
				 "it is %lld",
				 w->info.content_length, w->content_length);
	return 0;
}

/* Apply the rules of one record, and cross a segment boundary. */
static int
check_record(struct walk *w, int type, struct err *err)
{
	int next = rec_type_opens_segment(type);

	if (w->is_skipped && type != REC_TYPE_XTRA)
		return walk_fail(w, w->rr.rec_offset, err,
				 "no extracted segment marker where the size "
				 "record puts it");
	w->is_skipped = false;
	if (!rec_type_in_segment(w->segment, type))
		return walk_fail(w, w->rr.rec_offset, err,
				 "unexpected %s record in the %s segment",
				 rec_type_name(type),
				 segment_names[w->segment]);
	if (check_data(w, type, err) < 0 || track(w, type, err) < 0)
		return -1;
	if (next >= 0 && check_envelope_end(w, type, err) < 0)
		return -1;
	if ((type == REC_TYPE_MESG && open_content(w, err) < 0) ||
	    (type == REC_TYPE_XTRA && open_extracted(w, err) < 0) ||
	    (type == REC_TYPE_END && check_totals(w, err) < 0))
		return -1;
	if (next >= 0)
		w->segment = (enum rec_segment)next;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The walk                                                            */

/*
 * A first record that cannot be read means this is no queue file; say so,
 * keeping the record reader's reason ("NAME: offset 0: REASON").
 */
static int
not_a_queue_file(struct walk *w, struct err *err)
{
	char prefix[ERR_TEXT_MAX];
	char reason[ERR_TEXT_MAX];
	size_t len;

	if (err == NULL)
		return -1;
	len = (size_t)snprintf(prefix, sizeof(prefix),
			       "%s: offset 0: ", w->name);
	if (strncmp(err->text, prefix, len) != 0)
		return -1; /* a read error, not the file's content */
	snprintf(reason, sizeof(reason), "%s", err->text + len);
	if (strncmp(reason, "read error: ", 12) == 0)
		return -1;
	return walk_fail(w, 0, err, "not a queue file (%s)", reason);
}

static int
read_size_record(struct walk *w, struct err *err)
{
	int type;
	int ret;

	if ((ret = record_read(&w->rr, &type, &w->data, err)) < 0)
		return not_a_queue_file(w, err);
	if (ret == 0)
		return walk_fail(w, 0, err, "not a queue file (empty)");
	if (type != REC_TYPE_SIZE) {
		char tbuf[8];

		return walk_fail(w, 0, err,
				 "not a queue file (first record %s is not a "
				 "size record)",
				 record_type_str(type, tbuf));
	}
	if (parse_size_record(w->data.data, w->data.len, &w->info) < 0)
		return walk_fail(w, 0, err, "malformed size record");
	return 0;
}

static int
deliver(struct walk *w, int type, queue_walk_fn *fn, void *ctx, struct err *err)
{
	struct queue_record rec = {
		.type = type,
		.offset = w->rr.rec_offset,
		.segment = w->segment,
		.data = w->data.data,
		.len = w->data.len,
	};

	return fn == NULL ? 0 : fn(&rec, ctx, err);
}

static int
check_after_end(struct walk *w, struct err *err)
{
	char byte;
	ssize_t got = stream_read_exact(w->stream, &byte, 1);

	if (got < 0)
		return walk_fail(w, w->rr.offset, err, "read error: %s",
				 strerror(errno));
	if (got > 0)
		return walk_fail(w, w->rr.offset, err,
				 "data after the end record");
	return 0;
}

static int
walk_records(struct walk *w, queue_walk_fn *fn, void *ctx, struct err *err)
{
	if (read_size_record(w, err) < 0 ||
	    deliver(w, REC_TYPE_SIZE, fn, ctx, err) < 0)
		return -1;
	while (w->segment != REC_SEG_END) {
		int type;
		int ret;

		if ((ret = record_read(&w->rr, &type, &w->data, err)) < 0)
			return -1;
		if (ret == 0)
			return walk_fail(w, w->rr.offset, err,
					 "unexpected end of file in the %s "
					 "segment (no end record)",
					 segment_names[w->segment]);
		if (check_record(w, type, err) < 0 ||
		    deliver(w, type, fn, ctx, err) < 0)
			return -1;
		if (type == REC_TYPE_MESG &&
		    (w->flags & QUEUE_WALK_SKIP_CONTENT) &&
		    skip_content(w, err) < 0)
			return -1;
	}
	return check_after_end(w, err);
}

int
queue_file_walk(int fd, const char *name, int flags, queue_walk_fn *fn,
		void *ctx, struct queue_file_info *info_out, struct err *err)
{
	struct walk w = { .name = name, .flags = flags };
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0) {
		err_set(err, "fstat %s: %s", name, strerror(errno));
		return -1;
	}
	w.info.is_marked_complete = queue_file_is_marked(&st);
	if (!(flags & QUEUE_WALK_ANY_MODE) && !w.info.is_marked_complete) {
		err_set(err,
			"%s: queue file is not marked complete (mode %04o)",
			name, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	w.stream = stream_open(fd, 0);
	record_reader_init(&w.rr, w.stream, name, 0);
	strbuf_init(&w.data, QUEUE_FILE_RECORD_LIMIT);
	ret = walk_records(&w, fn, ctx, err);
	(void)stream_detach(&w.stream);
	strbuf_deinit(&w.data);
	if (ret == 0 && info_out != NULL)
		*info_out = w.info;
	return ret;
}
