/*
 * postcat.c - show queue files in human-readable form, as Postfix's does.
 *
 *     postcat [-bdehoqrv] [-c config_dir] [-s offset] [files...]
 *
 * Shows the envelope (-e), the message headers (-h) and body (-b); all
 * three by default, with "*** ... ***" banners between the segments when
 * the envelope is shown. -o prefixes each record with its file offset, -d
 * with its decimal type. -q takes the arguments as queue IDs and looks in
 * maildrop, incoming, active, deferred, hold and saved. -s starts at a
 * file offset without checking the file's structure. -r is accepted for
 * compatibility (there are no pointer records to follow). Without files,
 * reads standard input. A damaged file is shown up to the damage, then
 * "postcat: fatal: FILE: offset N: reason" and exit status 1.
 * Security: reads queue files as untrusted input through the bounded
 * queue file reader; runs with the invoker's privileges.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/queue_file.h"
#include "global/queue_id.h"
#include "global/rec_type.h"
#include "global/record.h"
#include "util/log.h"
#include "util/stream.h"

#define POSTCAT_USAGE                                                          \
	"usage: postcat [-b (body text)] [-c config_dir] [-d (decimal "        \
	"record type)] [-e (envelope records)] [-h (header text)] [-q "        \
	"(access queue)] [-v] [file(s)...]"

struct postcat_opts {
	const char *config_dir;
	bool want_envelope;
	bool want_header;
	bool want_body;
	bool want_offsets;
	bool want_decimal;
	bool is_queue_search;
	long long skip_offset; /* -s, or -1 */
	int verbose;
};

/* Per-file display state. */
struct show {
	const struct postcat_opts *opts;
	const char *name;
	bool in_headers;     /* no body line seen yet */
	bool in_line;        /* inside a line made of pieces */
	bool line_is_header; /* the current line is (part of) a header */
	bool prev_is_header; /* the line before was a header */
};

/* Queues -q searches, in Postfix's order. */
static const char *const postcat_queues[] = {
	MAIL_QUEUE_MAILDROP,
	MAIL_QUEUE_INCOMING,
	MAIL_QUEUE_ACTIVE,
	MAIL_QUEUE_DEFERRED,
	MAIL_QUEUE_HOLD,
	"saved",
	NULL,
};

static _Noreturn void
usage(void)
{
	log_fatal("%s", POSTCAT_USAGE);
}

static long long
parse_offset(const char *text)
{
	char *end;
	long long value;

	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != 0 || value < 0)
		log_fatal("bad offset: %s", text);
	return value;
}

static void
parse_options(int argc, char **argv, struct postcat_opts *opts)
{
	int opt;

	opterr = 0;
	while ((opt = getopt(argc, argv, "+bc:dehoqrs:v")) != -1) {
		switch (opt) {
		case 'b':
			opts->want_body = true;
			break;
		case 'c':
			opts->config_dir = optarg;
			break;
		case 'd':
			opts->want_decimal = true;
			break;
		case 'e':
			opts->want_envelope = true;
			break;
		case 'h':
			opts->want_header = true;
			break;
		case 'o':
			opts->want_offsets = true;
			break;
		case 'q':
			opts->is_queue_search = true;
			break;
		case 'r':
			break; /* no pointer records: file order is the order */
		case 's':
			opts->skip_offset = parse_offset(optarg);
			break;
		case 'v':
			opts->verbose++;
			break;
		default:
			if (optopt == 'c' || optopt == 's')
				fprintf(stderr,
					"postcat: option requires an "
					"argument -- '%c'\n",
					optopt);
			else
				fprintf(stderr,
					"postcat: invalid option -- '%c'\n",
					optopt);
			usage();
		}
	}
	if (!opts->want_envelope && !opts->want_header && !opts->want_body)
		opts->want_envelope = opts->want_header = opts->want_body =
			true;
}

/* ------------------------------------------------------------------ */
/* Output                                                              */

/* Prefix of one record: offset (-o) and decimal type (-d). */
static void
print_prefix(const struct show *sh, int type, off_t offset)
{
	if (sh->opts->want_offsets)
		printf("%9lld ", (long long)offset);
	if (sh->opts->want_decimal)
		printf("%3d ", type);
}

/* ctime(3) without the newline, in local time. */
static void
print_time(const char *label, long long sec)
{
	time_t t = (time_t)sec;
	struct tm tm;
	char text[64];

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(text, sizeof(text), "%a %b %e %H:%M:%S %Y", &tm) == 0)
		snprintf(text, sizeof(text), "%lld", sec);
	printf("%s: %s\n", label, text);
}

static void
print_banner(const struct show *sh, const char *what)
{
	printf("*** %s %s ***\n", what, sh->name);
}

/* A named attribute; create_time is shown as a time, as Postfix does. */
static void
print_attr(const char *data)
{
	const char *value = strchr(data, '=') + 1;
	size_t name_len = (size_t)(value - 1 - data);

	if (name_len == strlen(REC_ATTR_CREATE_TIME) &&
	    strncmp(data, REC_ATTR_CREATE_TIME, name_len) == 0 &&
	    value[0] != 0 && strspn(value, "0123456789") == strlen(value) &&
	    strlen(value) < 19) {
		print_time(REC_ATTR_CREATE_TIME, atoll(value));
		return;
	}
	printf("%s: %s\n", rec_type_name(REC_TYPE_ATTR), data);
}

static void
print_envelope_record(const struct show *sh, const struct queue_record *rec)
{
	long long sec;
	long usec;

	print_prefix(sh, rec->type, rec->offset);
	switch (rec->type) {
	case REC_TYPE_TIME:
		if (queue_file_parse_time(rec->data, &sec, &usec) < 0)
			sec = 0;
		print_time(rec_type_name(rec->type), sec);
		break;
	case REC_TYPE_WARN:
		if (queue_file_parse_warn(rec->data, rec->len, &sec) < 0)
			sec = 0;
		print_time(rec_type_name(rec->type), sec);
		break;
	case REC_TYPE_ATTR:
		if (strchr(rec->data, '=') != NULL)
			print_attr(rec->data);
		else
			printf("%s: %s\n", rec_type_name(rec->type), rec->data);
		break;
	case REC_TYPE_MESG:
		print_banner(sh, "MESSAGE CONTENTS");
		break;
	case REC_TYPE_XTRA:
		print_banner(sh, "HEADER EXTRACTED");
		break;
	case REC_TYPE_END:
		print_banner(sh, "MESSAGE FILE END");
		break;
	default:
		printf("%s: %s\n", rec_type_name(rec->type), rec->data);
		break;
	}
}

/*
 * A header line starts with a field name (printable characters other than
 * ':'), optional blanks, then ':'; a header goes on in lines that start
 * with a blank.
 */
static bool
is_header_line(const char *data, size_t len)
{
	size_t i = 0;

	while (i < len && data[i] > ' ' && data[i] < 0x7f && data[i] != ':')
		i++;
	if (i == 0)
		return false;
	while (i < len && (data[i] == ' ' || data[i] == '\t'))
		i++;
	return i < len && data[i] == ':';
}

/* Decide at the first piece of a line whether it is a header line. */
static void
classify_line(struct show *sh, const struct queue_record *rec)
{
	bool is_header = false;

	if (sh->in_headers) {
		if (rec->len > 0 &&
		    (rec->data[0] == ' ' || rec->data[0] == '\t'))
			is_header = sh->prev_is_header;
		else
			is_header = is_header_line(rec->data, rec->len);
	}
	sh->in_headers = is_header;
	sh->line_is_header = is_header;
	sh->prev_is_header = is_header;
}

static void
print_content_record(struct show *sh, const struct queue_record *rec)
{
	bool ends_line = rec->type == REC_TYPE_NORM || sh->opts->want_offsets;
	bool want;

	if (!sh->in_line)
		classify_line(sh, rec);
	sh->in_line = rec->type == REC_TYPE_CONT;
	want = sh->line_is_header ? sh->opts->want_header : sh->opts->want_body;
	if (!want)
		return;
	print_prefix(sh, rec->type, rec->offset);
	fwrite(rec->data, 1, rec->len, stdout);
	if (ends_line)
		putchar('\n');
}

static void
print_record(struct show *sh, const struct queue_record *rec)
{
	if (rec->type == REC_TYPE_NORM || rec->type == REC_TYPE_CONT)
		print_content_record(sh, rec);
	else if (sh->opts->want_envelope)
		print_envelope_record(sh, rec);
}

static int
show_record(const struct queue_record *rec, void *ctx, struct err *err)
{
	(void)err;
	print_record(ctx, rec);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Files                                                               */

/* -s: records from an offset on, without structure checks. */
static void
show_from_offset(struct show *sh, int fd)
{
	struct record_reader rr;
	struct stream *s;
	struct strbuf data;
	struct err err;
	int type;
	int ret;

	if (lseek(fd, (off_t)sh->opts->skip_offset, SEEK_SET) < 0)
		log_fatal("seek %s: %s", sh->name, strerror(errno));
	s = stream_open(fd, 0);
	record_reader_init(&rr, s, sh->name, (off_t)sh->opts->skip_offset);
	strbuf_init(&data, QUEUE_FILE_RECORD_LIMIT);
	while ((ret = record_read(&rr, &type, &data, &err)) > 0) {
		struct queue_record rec = {
			.type = type,
			.offset = rr.rec_offset,
			.data = data.data,
			.len = data.len,
		};

		print_record(sh, &rec);
		if (type == REC_TYPE_END)
			break;
	}
	if (ret < 0)
		log_fatal("%s", err.text);
	strbuf_deinit(&data);
	(void)stream_detach(&s);
}

static void
show_file(const struct postcat_opts *opts, int fd, const char *name)
{
	struct show sh = { .opts = opts, .name = name, .in_headers = true };
	struct err err;

	if (opts->want_envelope && opts->skip_offset <= 0)
		print_banner(&sh, "ENVELOPE RECORDS");
	if (opts->skip_offset >= 0)
		show_from_offset(&sh, fd);
	else if (queue_file_walk(fd, name, QUEUE_WALK_ANY_MODE, show_record,
				 &sh, NULL, &err) < 0)
		log_fatal("%s", err.text);
	if (fflush(stdout) != 0)
		log_fatal("write standard output: %s", strerror(errno));
}

static void
show_queue_id(const struct postcat_opts *opts, struct mail_conf *conf,
	      const char *id)
{
	struct queue_layout *ql;
	struct strbuf relpath;
	const char *queue;
	struct err err;
	int fd;
	int ret;

	if (!is_valid_queue_id(id))
		log_fatal("bad mail queue ID: %s", id);
	if ((ql = queue_layout_from_conf(conf, &err)) == NULL)
		log_fatal("%s", err.text);
	strbuf_init(&relpath, STRBUF_UNLIMITED);
	ret = queue_file_find(ql, postcat_queues, id, &fd, &queue, &relpath,
			      &err);
	if (ret < 0)
		log_fatal("%s", err.text);
	if (ret == 0)
		log_fatal("open queue file %s: %s", id, strerror(ENOENT));
	show_file(opts, fd, relpath.data);
	(void)close(fd);
	strbuf_deinit(&relpath);
	queue_layout_destroy(&ql);
}

static void
show_path(const struct postcat_opts *opts, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		log_fatal("open %s: %s", path, strerror(errno));
	show_file(opts, fd, path);
	(void)close(fd);
}

int
main(int argc, char **argv)
{
	struct postcat_opts opts = { .skip_offset = -1 };
	struct mail_conf *conf;
	struct err err;

	log_init("postcat");
	parse_options(argc, argv, &opts);
	log_set_verbose(opts.verbose);
	if ((conf = mail_conf_load(opts.config_dir, &err)) == NULL)
		log_fatal("%s", err.text);
	if (optind >= argc)
		show_file(&opts, STDIN_FILENO, "stdin");
	for (int i = optind; i < argc; i++) {
		if (opts.is_queue_search)
			show_queue_id(&opts, conf, argv[i]);
		else
			show_path(&opts, argv[i]);
	}
	mail_conf_destroy(&conf);
	return 0;
}
