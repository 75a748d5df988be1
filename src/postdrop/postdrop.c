/*
 * postdrop.c - put a message from the sendmail command into maildrop/.
 *
 *     postdrop [-rv] [-c config_dir]
 *
 * Reads queue file records on standard input (global/record.h; sendmail
 * writes them) and writes them into a new queue file in maildrop/, as
 * Postfix's postdrop does. The exchange on standard output is two
 * attribute messages (util/attr.h): "queue_id=ID" once the file exists,
 * and "status=N reason=" at the end, N being CLEANUP_STAT_* bits (0: the
 * file is complete, mode 0744, and fsynced). The input must be envelope
 * records (F, S, i, O, n, o, R, with exactly one S and at least one R),
 * M, content (N, L), X and E; the sender's T record is replaced by our
 * own time, A records are ignored with a warning, anything else is fatal
 * ("postdrop: fatal: uid=N: unexpected record type: 67"). Input that ends
 * before E means the submission was cancelled: the file is removed and
 * the exit status is 0. A file growing past message_size_limit is given
 * up after reading on to E ("postdrop: warning: uid=N: File too large").
 * On success it wakes pickup (public/pickup).
 * Before anything else, when it runs set-gid (or set-uid) for a user
 * other than root, it refuses a config directory (-c or MAIL_CONFIG) that
 * the default main.cf does not list in alternate_config_directories or
 * multi_instance_directories, as Postfix's postdrop does; and it refuses
 * any user not in authorized_submit_users (global/submit_acl.h).
 * Privileges: installed set-gid setgid_group, so that any user can write
 * into maildrop/ (mode 0730, owner mail_owner, group setgid_group). It
 * touches nothing else, runs no other program, and removes its file on
 * every error, interrupt and termination signal.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "global/cleanup_clnt.h"
#include "global/mail_conf.h"
#include "global/mail_queue.h"
#include "global/mail_trigger.h"
#include "global/maillog.h"
#include "global/queue_file.h"
#include "global/rec_type.h"
#include "global/record.h"
#include "global/submit_acl.h"
#include "util/attr.h"
#include "util/attr_io.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/stream.h"

#define POSTDROP_USAGE "usage: postdrop [-c config_dir] [-v]"
#define PICKUP_TRIGGER "public/pickup"
#define PICKUP_TRIGGER_TIMEOUT_MS 1000

/*
 * The file being written, for the signal handler and the fatal hook: the
 * only process-wide state, because a handler can reach nothing else.
 */
static volatile sig_atomic_t drop_has_file;
static char drop_path[4096];

static void
drop_remove(void)
{
	if (drop_has_file) {
		drop_has_file = 0;
		(void)unlink(drop_path);
	}
}

static void
drop_signal(int sig)
{
	drop_remove();
	_exit(sig + 128);
}

/* What the input looked like so far. */
struct drop_state {
	long uid;
	struct queue_file *qf;
	enum rec_segment segment;
	int from_count;
	long rcpt_count;
	bool has_rcpt_attrs; /* O, n or o waiting for their R */
	int status;          /* CLEANUP_STAT_* */
	long long size_limit;
};

static void
drop_fatal_input(const struct drop_state *st, const char *reason)
{
	log_fatal("uid=%ld: malformed input%s%s", st->uid, *reason ? ": " : "",
		  reason);
}

/* The envelope types sendmail may send; T and A are handled apart. */
static bool
is_envelope_type(int type)
{
	return strchr("FSiOnoRM", type) != NULL && type != 0;
}

static bool
is_expected(const struct drop_state *st, int type)
{
	switch (st->segment) {
	case REC_SEG_ENVELOPE:
		return is_envelope_type(type) || type == REC_TYPE_TIME ||
		       type == REC_TYPE_ATTR;
	case REC_SEG_CONTENT:
		return type == REC_TYPE_NORM || type == REC_TYPE_CONT ||
		       type == REC_TYPE_XTRA;
	case REC_SEG_EXTRACTED:
		return type == REC_TYPE_END;
	case REC_SEG_END:
		break;
	}
	return false;
}

/* Checks that keep queue_file_put's order rules (a panic) out of reach. */
static void
check_record(struct drop_state *st, int type, const char *data, size_t len)
{
	struct err err;

	if (!is_expected(st, type))
		log_fatal("uid=%ld: unexpected record type: %d", st->uid, type);
	if (queue_file_check_data(type, data, len, &err) < 0)
		drop_fatal_input(st, err.text);
	if (type == REC_TYPE_FROM && st->from_count++ > 0)
		drop_fatal_input(st, "duplicate sender record");
	if (type == REC_TYPE_ORCP || type == REC_TYPE_DSN_NOTIFY ||
	    type == REC_TYPE_DSN_ORCPT)
		st->has_rcpt_attrs = true;
	if (type == REC_TYPE_RCPT) {
		st->has_rcpt_attrs = false;
		st->rcpt_count++;
	}
	if (type == REC_TYPE_MESG && st->has_rcpt_attrs)
		drop_fatal_input(st, "recipient attributes without a recipient");
	if (type == REC_TYPE_MESG && st->from_count == 0)
		drop_fatal_input(st, "no sender record");
	if (rec_type_opens_segment(type) >= 0)
		st->segment = (enum rec_segment)rec_type_opens_segment(type);
}

static void
write_record(struct drop_state *st, int type, const char *data, size_t len)
{
	struct err err;
	int flags;

	if (st->status != 0 || type == REC_TYPE_TIME || type == REC_TYPE_END)
		return;
	/* Only sendmail's report request may come from a local user. */
	if (type == REC_TYPE_ATTR && rec_attr_trace_flags(data, &flags) <= 0) {
		log_warning("uid=%ld: ignoring attribute record: %.200s",
			    st->uid, data);
		return;
	}
	if (type == REC_TYPE_XTRA)
		return; /* queue_file_commit writes it */
	if (queue_file_put(st->qf, type, data, len, &err) < 0) {
		log_warning("uid=%ld: %s", st->uid, err.text);
		st->status = CLEANUP_STAT_WRITE;
	} else if (st->size_limit > 0 &&
		   queue_file_tell(st->qf) > st->size_limit) {
		log_warning("uid=%ld: %s", st->uid, strerror(EFBIG));
		st->status = CLEANUP_STAT_WRITE | CLEANUP_STAT_SIZE;
	}
}

/* Copy records up to E; false if the input ended before it. */
static bool
copy_input(struct drop_state *st, long long line_limit)
{
	struct stream *in = stream_open(STDIN_FILENO, 0);
	struct record_reader rr;
	struct strbuf data;
	struct err err;
	int type = 0;
	int ret = 1;

	record_reader_init(&rr, in, "stdin", 0);
	strbuf_init(&data, (size_t)line_limit);
	while (type != REC_TYPE_END &&
	       (ret = record_read(&rr, &type, &data, &err)) > 0) {
		check_record(st, type, data.data, data.len);
		write_record(st, type, data.data, data.len);
	}
	if (type != REC_TYPE_END && ret < 0)
		drop_fatal_input(st, err.text);
	strbuf_deinit(&data);
	(void)stream_detach(&in);
	return type == REC_TYPE_END;
}

static void
send_attrs(struct stream *out, const char *id, int status)
{
	struct strbuf msg;
	struct err err;

	strbuf_init(&msg, ATTR_IO_MESSAGE_MAX);
	if (id != NULL)
		(void)attr_put_str(&msg, CLEANUP_ATTR_QUEUE_ID, id, NULL);
	else {
		(void)attr_put_int(&msg, CLEANUP_ATTR_STATUS, status, NULL);
		(void)attr_put_str(&msg, CLEANUP_ATTR_REASON, "", NULL);
	}
	(void)attr_put_end(&msg, NULL);
	if (attr_write(out, &msg, &err) < 0)
		log_warning("standard output: %s", err.text);
	strbuf_deinit(&msg);
}

static void
wake_pickup(void)
{
	char req = 'W';
	struct err err;

	if (mail_trigger(PICKUP_TRIGGER, &req, 1, PICKUP_TRIGGER_TIMEOUT_MS,
			 &err) < 0)
		log_warning("%s", err.text);
}

static void
set_signals(void)
{
	static const int sigs[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };

	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], drop_signal);
	log_set_fatal_hook(drop_remove);
}

/* Open /dev/null on any of 0, 1, 2 that is closed. */
static void
check_std_fds(void)
{
	struct stat st;

	for (int fd = 0; fd < 3; fd++)
		if (fstat(fd, &st) < 0 && open("/dev/null", O_RDWR) != fd)
			log_fatal("open /dev/null: %s", strerror(errno));
}

/* -c or MAIL_CONFIG from an ordinary user of a set-gid postdrop. */
static void
check_config_dir(const char *config_dir)
{
	struct err first;
	struct err err;
	int ret;

	if (config_dir == NULL)
		config_dir = getenv("MAIL_CONFIG");
	if (getuid() == 0 || (geteuid() == getuid() && getegid() == getgid()))
		return;
	ret = submit_config_dir_check(config_dir, MAIL_CONF_DEFAULT_DIR, &first,
				      &err);
	if (ret == 0)
		log_error("%s", first.text);
	if (ret <= 0)
		log_fatal("%s", err.text);
}

static struct mail_conf *
load_conf(int argc, char **argv)
{
	const char *config_dir = NULL;
	struct mail_conf *conf;
	struct err err;
	int c;
	int verbose = 0;

	while ((c = getopt(argc, argv, "c:rv")) > 0) {
		switch (c) {
		case 'c':
			config_dir = optarg;
			break;
		case 'r':
			break;
		case 'v':
			if (geteuid() == 0)
				verbose++;
			break;
		default:
			log_fatal("%s", POSTDROP_USAGE);
		}
	}
	check_config_dir(config_dir);
	if ((conf = mail_conf_load(config_dir, &err)) == NULL)
		log_fatal("%s", err.text);
	maillog_setup(conf, "postdrop", true);
	log_set_stderr_tag("postdrop");
	log_set_verbose(verbose);
	if (submit_acl_check(conf, getuid(), &err) <= 0)
		log_fatal("%s", err.text);
	return conf;
}

static struct queue_file *
create_file(struct mail_conf *conf, struct queue_layout **ql_out, long uid)
{
	struct queue_file *qf;
	struct err err;

	*ql_out = queue_layout_create(
		".", mail_conf_str(conf, "hash_queue_names"),
		(int)mail_conf_int(conf, "hash_queue_depth"),
		mail_conf_bool(conf, "enable_long_queue_ids"));
	qf = queue_file_create(*ql_out, MAIL_QUEUE_MAILDROP, 0644, &err);
	if (qf == NULL)
		log_fatal("uid=%ld: %s", uid, err.text);
	snprintf(drop_path, sizeof(drop_path), "%s", queue_file_path(qf));
	drop_has_file = 1;
	return qf;
}

static int
finish_file(struct drop_state *st)
{
	struct err err;

	if (st->status == 0 && (st->from_count == 0 || st->rcpt_count == 0))
		st->status = CLEANUP_STAT_BAD;
	if (st->status != 0) {
		queue_file_abort(&st->qf);
	} else if (queue_file_commit(&st->qf, &err) < 0) {
		log_warning("uid=%ld: %s", st->uid, err.text);
		st->status = CLEANUP_STAT_WRITE;
	}
	drop_has_file = 0; /* committed, or removed by the calls above */
	return st->status;
}

int
main(int argc, char **argv)
{
	struct drop_state st = { .uid = (long)getuid() };
	struct mail_conf *conf;
	struct queue_layout *ql;
	struct stream *out;
	struct timespec now;
	struct err err;

	umask(022);
	check_std_fds();
	maillog_early("postdrop");
	log_set_stderr_tag("postdrop");
	conf = load_conf(argc, argv);
	st.size_limit = mail_conf_size(conf, "message_size_limit");
	if (chdir(mail_conf_str(conf, "queue_directory")) < 0)
		log_fatal("chdir %s: %s", mail_conf_str(conf, "queue_directory"),
			  strerror(errno));
	set_signals();
	clock_gettime(CLOCK_REALTIME, &now);
	st.qf = create_file(conf, &ql, st.uid);
	out = stream_open(STDOUT_FILENO, 0);
	send_attrs(out, queue_file_id(st.qf), 0);
	if (queue_file_putf(st.qf, &err, REC_TYPE_TIME, "%lld %ld",
			    (long long)now.tv_sec, now.tv_nsec / 1000) < 0) {
		log_warning("uid=%ld: %s", st.uid, err.text);
		st.status = CLEANUP_STAT_WRITE;
	}
	if (!copy_input(&st, mail_conf_int(conf, "line_length_limit"))) {
		queue_file_abort(&st.qf); /* cancelled by the sender */
		drop_has_file = 0;
	} else {
		send_attrs(out, NULL, finish_file(&st));
		if (st.status == 0)
			wake_pickup();
	}
	(void)stream_close(&out);
	queue_layout_destroy(&ql);
	mail_conf_destroy(&conf);
	return st.status;
}
