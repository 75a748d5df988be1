/*
 * sendmail_enqueue.c - post one message through postdrop.
 *
 * Runs command_directory/postdrop, reads the queue ID it announces, sends
 * the envelope (full name, sender, DSN envelope ID, recipients), the
 * message as N and L records, then X and E, and waits for postdrop's
 * verdict. As in Postfix: the first "From " lines are dropped, trailing
 * carriage returns are stripped, a lone "." ends the input unless -i, and
 * a line longer than the record piece is sent as L pieces. With -t the
 * header block is held (each header bounded by header_size_limit, the
 * block by message_size_limit) until its recipients are known, because
 * they go into the envelope, which comes before the content.
 * Exit status: 0 once postdrop has the message on disk; otherwise a
 * sysexits.h code with "sendmail: fatal: SENDER(UID): reason".
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "global/cleanup_clnt.h"
#include "global/header_addr.h"
#include "global/header_parse.h"
#include "global/queue_file.h"
#include "global/rec_type.h"
#include "global/record.h"
#include "sendmail.h"
#include "util/attr.h"
#include "util/attr_io.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/stream.h"
#include "util/strbuf.h"

/* Longest -V value Postfix accepts. */
#define ENVID_MAX 100

struct enqueue {
	struct mail_conf *conf;
	const struct sendmail_opts *opts;
	char *sender;
	long uid;
	pid_t pid;
	struct stream *to_postdrop;
	struct stream *from_postdrop;
	long rcpt_count;
	long long header_size_limit;
	long long message_size_limit;
	/* -t: the held header block, and the header being collected. */
	struct strbuf held;
	struct strbuf header;
	struct header_rcpt hr;
	bool in_headers;
};

#define FAIL(eq, status, fmt, ...)                                             \
	sendmail_fatal(status, "%s(%ld): " fmt, (eq)->sender, (eq)->uid,       \
		       ##__VA_ARGS__)

static char *
login_name(long uid)
{
	struct passwd *pw = getpwuid((uid_t)uid);

	if (pw == NULL)
		sendmail_fatal(EX_OSERR, "no login name found for user ID %lu",
			       (unsigned long)uid);
	return xstrdup(pw->pw_name);
}

/* The sender: -f's first address ("" for none), or the login name. */
static char *
pick_sender(const struct sendmail_opts *opts, long uid)
{
	struct argv *addrs;
	char *sender;

	if (opts->sender == NULL)
		return login_name(uid);
	addrs = argv_create();
	if (header_addr_parse(opts->sender, strlen(opts->sender), addrs) > 1)
		log_warning("-f option specified malformed sender: %s",
			    opts->sender);
	sender = xstrdup(addrs->count > 0 ? addrs->items[0] : "");
	argv_destroy(&addrs);
	return sender;
}

/* $NAME, else the password file's GECOS name ('&' is the login name). */
static void
default_full_name(long uid, struct strbuf *out)
{
	const char *name = getenv("NAME");
	struct passwd *pw;

	if (name != NULL) {
		(void)strbuf_set(out, name);
		return;
	}
	if ((pw = getpwuid((uid_t)uid)) == NULL || pw->pw_gecos == NULL)
		return;
	for (const char *cp = pw->pw_gecos; *cp && *cp != ','; cp++) {
		if (*cp != '&') {
			(void)strbuf_append_char(out, (unsigned char)*cp);
			continue;
		}
		for (const char *lp = pw->pw_name; *lp; lp++)
			(void)strbuf_append_char(
				out, lp == pw->pw_name && *lp >= 'a' &&
						     *lp <= 'z'
					     ? *lp - 'a' + 'A'
					     : *lp);
	}
}

static void
run_postdrop(struct enqueue *eq, const char *path)
{
	int in[2], out[2];
	char *args[8];
	int n = 0;

	args[n++] = "postdrop";
	args[n++] = "-r";
	for (int i = 0; i < eq->opts->verbose && n < 7; i++)
		args[n++] = "-v";
	args[n] = NULL;
	if (access(path, X_OK) < 0)
		FAIL(eq, EX_UNAVAILABLE, "unable to execute %s: %s", path,
		     strerror(errno));
	if (pipe(in) < 0 || pipe(out) < 0)
		FAIL(eq, EX_OSERR, "pipe: %s", strerror(errno));
	if ((eq->pid = fork()) < 0)
		FAIL(eq, EX_OSERR, "fork: %s", strerror(errno));
	if (eq->pid == 0) {
		if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0)
			_exit(EX_OSERR);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execv(path, args);
		log_error("execv %s: %s", path, strerror(errno));
		_exit(EX_UNAVAILABLE);
	}
	close(in[0]);
	close(out[1]);
	eq->to_postdrop = stream_open(in[1], 0);
	eq->from_postdrop = stream_open(out[0], 0);
}

/* postdrop announces the queue ID first; nothing else means it failed. */
static void
read_queue_id(struct enqueue *eq, const char *path)
{
	struct attr_list *list = NULL;
	const char *id;
	struct err err;

	if (attr_read(eq->from_postdrop, ATTR_IO_MESSAGE_MAX, &list, &err) <=
		    0 ||
	    attr_get_str(list, CLEANUP_ATTR_QUEUE_ID, &id, &err) < 0) {
		attr_list_destroy(&list);
		FAIL(eq, EX_UNAVAILABLE, "unable to execute %s -r", path);
	}
	log_debug("queue file %s", id);
	attr_list_destroy(&list);
}

static void
put(struct enqueue *eq, int type, const void *data, size_t len)
{
	if (record_write(eq->to_postdrop, type, data, len) < 0)
		FAIL(eq, EX_TEMPFAIL, "error writing queue file: %s",
		     strerror(errno));
}

static void
put_recipient(struct enqueue *eq, const char *rcpt)
{
	char buf[16];

	if (eq->opts->dsn_notify != 0) {
		snprintf(buf, sizeof(buf), "%d", eq->opts->dsn_notify);
		put(eq, REC_TYPE_DSN_NOTIFY, buf, strlen(buf));
	}
	put(eq, REC_TYPE_RCPT, rcpt, strlen(rcpt));
	eq->rcpt_count++;
}

static void
put_envelope_start(struct enqueue *eq)
{
	const struct sendmail_opts *opts = eq->opts;
	struct strbuf name;

	strbuf_init(&name, STRBUF_UNLIMITED);
	if (opts->full_name != NULL)
		(void)strbuf_set(&name, opts->full_name);
	else
		default_full_name(eq->uid, &name);
	if (name.len > 0)
		put(eq, REC_TYPE_FULL, name.data, name.len);
	strbuf_deinit(&name);
	put(eq, REC_TYPE_FROM, eq->sender, strlen(eq->sender));
	if (opts->trace_flags != 0) {
		char attr[64];

		snprintf(attr, sizeof(attr), "%s=%d", REC_ATTR_TRACE_FLAGS,
			 opts->trace_flags);
		put(eq, REC_TYPE_ATTR, attr, strlen(attr));
	}
	if (opts->dsn_envid != NULL)
		put(eq, REC_TYPE_DSN_ENVID, opts->dsn_envid,
		    strlen(opts->dsn_envid));
	for (char **rp = opts->recipients; *rp != NULL; rp++) {
		struct argv *addrs = argv_create();

		(void)header_addr_parse(*rp, strlen(*rp), addrs);
		for (size_t i = 0; i < addrs->count; i++)
			put_recipient(eq, addrs->items[i]);
		argv_destroy(&addrs);
	}
}

static void
no_recipients(struct enqueue *eq)
{
	if (eq->opts->want_extract)
		FAIL(eq, EX_USAGE,
		     "No recipient addresses found in message header");
	FAIL(eq, EX_USAGE,
	     "Recipient addresses must be specified on the command line or "
	     "via the -t option");
}

/* -t: the headers are over; write the envelope's end and what was held. */
static void
release_headers(struct enqueue *eq)
{
	const struct argv *rcpts;

	if (eq->header.len > 0)
		header_rcpt_note(&eq->hr, eq->header.data, eq->header.len);
	rcpts = header_rcpt_result(&eq->hr);
	for (size_t i = 0; i < rcpts->count; i++)
		put_recipient(eq, rcpts->items[i]);
	if (eq->rcpt_count == 0)
		no_recipients(eq);
	put(eq, REC_TYPE_MESG, "", 0);
	if (stream_write(eq->to_postdrop, eq->held.data, eq->held.len) < 0)
		FAIL(eq, EX_TEMPFAIL, "error writing queue file: %s",
		     strerror(errno));
	strbuf_reset(&eq->held);
	eq->in_headers = false;
}

/* -t: a whole line or first piece decides whether the headers go on. */
static bool
continues_headers(const struct enqueue *eq, const char *data, size_t len)
{
	if (header_name_len(data, len) > 0)
		return true;
	return eq->header.len > 0 && len > 0 &&
	       (data[0] == ' ' || data[0] == '\t');
}

static void
hold_line(struct enqueue *eq, int type, const char *data, size_t len,
	  bool is_line_start)
{
	if (is_line_start && header_name_len(data, len) > 0 &&
	    eq->header.len > 0) {
		header_rcpt_note(&eq->hr, eq->header.data, eq->header.len);
		strbuf_reset(&eq->header);
	} else if (is_line_start && eq->header.len > 0) {
		(void)strbuf_append_char(&eq->header, '\n');
	}
	if (strbuf_append(&eq->header, data, len) < 0)
		FAIL(eq, EX_DATAERR,
		     "unable to extract recipients: message header length "
		     "exceeds safety limit");
	if (record_put(&eq->held, type, data, len) < 0)
		FAIL(eq, EX_TEMPFAIL, "message file too big");
}

static void
take_line(struct enqueue *eq, int type, const char *data, size_t len,
	  bool is_line_start)
{
	if (eq->in_headers &&
	    (!is_line_start || continues_headers(eq, data, len))) {
		hold_line(eq, type, data, len, is_line_start);
		return;
	}
	if (eq->in_headers)
		release_headers(eq);
	put(eq, type, data, len);
}

/* True for a first line Postfix drops: "From ", ">From ", ">>From "... */
static bool
is_from_line(const char *data, size_t len)
{
	size_t skip = 0;

	while (skip < len && data[skip] == '>')
		skip++;
	return len - skip >= 5 && memcmp(data + skip, "From ", 5) == 0;
}

static void
copy_content(struct enqueue *eq)
{
	struct stream *in = stream_open(STDIN_FILENO, 0);
	long long limit = mail_conf_int(eq->conf, "line_length_limit");
	struct strbuf line;
	enum stream_line_end end;
	bool is_line_start = true;
	bool want_from_skip = true;
	int ret;

	if (limit > QUEUE_FILE_LINE_PIECE)
		limit = QUEUE_FILE_LINE_PIECE;
	strbuf_init(&line, (size_t)limit);
	while ((ret = stream_read_line(in, &line, &end)) > 0) {
		bool is_cut = end == STREAM_END_CUT;

		if (!is_cut)
			while (line.len > 0 && line.data[line.len - 1] == '\r')
				strbuf_truncate(&line, line.len - 1);
		if (want_from_skip && is_line_start && !is_cut &&
		    is_from_line(line.data, line.len))
			continue;
		want_from_skip = false;
		if (eq->opts->want_dot_end && is_line_start && !is_cut &&
		    line.len == 1 && line.data[0] == '.')
			break;
		take_line(eq, is_cut ? REC_TYPE_CONT : REC_TYPE_NORM,
			  line.data, line.len, is_line_start);
		is_line_start = !is_cut;
	}
	if (ret < 0)
		FAIL(eq, EX_DATAERR, "error reading input: %s",
		     strerror(errno));
	if (eq->in_headers)
		release_headers(eq);
	strbuf_deinit(&line);
	(void)stream_detach(&in);
}

/*
 * -bv: the probe's content is a header block naming the sender and the
 * recipients, "To:" folded one recipient per line.
 */
static void
put_probe(struct enqueue *eq)
{
	char **rp = eq->opts->recipients;
	struct strbuf line;

	strbuf_init(&line, STRBUF_UNLIMITED);
	(void)strbuf_printf(&line, "From: %s", eq->sender);
	put(eq, REC_TYPE_NORM, line.data, line.len);
	put(eq, REC_TYPE_NORM, "Subject: probe", 14);
	for (const char *prefix = "To: "; *rp != NULL; rp++, prefix = "\t") {
		strbuf_reset(&line);
		(void)strbuf_printf(&line, "%s%s%s", prefix, *rp,
				    rp[1] != NULL ? "," : "");
		put(eq, REC_TYPE_NORM, line.data, line.len);
	}
	strbuf_deinit(&line);
}

/* Send the end, then wait for postdrop's status and its exit. */
static void
finish(struct enqueue *eq)
{
	struct attr_list *list = NULL;
	struct cleanup_result res;
	long long status = CLEANUP_STAT_WRITE;
	struct err err;
	int wstatus;

	put(eq, REC_TYPE_XTRA, "", 0);
	put(eq, REC_TYPE_END, "", 0);
	if (stream_close(&eq->to_postdrop) < 0)
		log_warning("close error: %s", strerror(errno));
	if (attr_read(eq->from_postdrop, ATTR_IO_MESSAGE_MAX, &list, &err) >
		    0 &&
	    attr_get_int(list, CLEANUP_ATTR_STATUS, &status, &err) < 0)
		status = CLEANUP_STAT_WRITE;
	attr_list_destroy(&list);
	(void)stream_close(&eq->from_postdrop);
	while (waitpid(eq->pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (status == 0)
		return;
	cleanup_result_set(&res, (int)status, 0);
	FAIL(eq,
	     (status & CLEANUP_STAT_BAD)     ? EX_SOFTWARE
	     : (status & CLEANUP_STAT_WRITE) ? EX_TEMPFAIL
					     : EX_UNAVAILABLE,
	     "%s", res.reason);
}

static void
check_envid(struct sendmail_opts *opts)
{
	const char *id = opts->dsn_envid;

	if (id == NULL)
		return;
	if (strlen(id) > ENVID_MAX) {
		log_warning("too long -V option value -- ignored");
		opts->dsn_envid = NULL;
		return;
	}
	for (const char *cp = id; *cp; cp++) {
		if (*cp < 0x21 || *cp > 0x7e) {
			log_warning("bad syntax in -V option value -- ignored");
			opts->dsn_envid = NULL;
			return;
		}
	}
}

void
sendmail_enqueue(struct mail_conf *conf, const struct sendmail_opts *in_opts)
{
	struct sendmail_opts opts = *in_opts;
	struct enqueue eq = { .conf = conf, .opts = &opts };
	struct strbuf path;
	long long size_limit = mail_conf_size(conf, "message_size_limit");

	check_envid(&opts);
	eq.uid = (long)getuid();
	eq.sender = pick_sender(&opts, eq.uid);
	eq.header_size_limit = mail_conf_int(conf, "header_size_limit");
	strbuf_init(&eq.held, size_limit > 0 ? (size_t)size_limit
					     : STRBUF_UNLIMITED);
	strbuf_init(&eq.header, (size_t)eq.header_size_limit);
	header_rcpt_init(&eq.hr);
	eq.in_headers = opts.want_extract;
	strbuf_init(&path, STRBUF_UNLIMITED);
	(void)strbuf_printf(&path, "%s/postdrop",
			    mail_conf_str(conf, "command_directory"));
	signal(SIGPIPE, SIG_IGN);
	run_postdrop(&eq, path.data);
	read_queue_id(&eq, path.data);
	put_envelope_start(&eq);
	if (!opts.want_extract) {
		if (eq.rcpt_count == 0)
			no_recipients(&eq);
		put(&eq, REC_TYPE_MESG, "", 0);
	}
	if (opts.trace_flags & REC_TRACE_FLAG_VERIFY)
		put_probe(&eq);
	else
		copy_content(&eq);
	finish(&eq);
	if (opts.trace_flags != 0)
		printf("Mail Delivery Status Report will be mailed to <%s>.\n",
		       eq.sender);
	strbuf_deinit(&path);
	strbuf_deinit(&eq.held);
	strbuf_deinit(&eq.header);
	header_rcpt_deinit(&eq.hr);
	free(eq.sender);
}
