/*
 * bounce_notice.c - the bounce daemon's reading and sending.
 *
 * Reads what a notice needs from the queue file (sender, arrival time,
 * DSN ENVID and RET, Message-ID, the content up to bounce_size_limit)
 * and from the per-message logs, and submits the report that
 * global/dsn_report.c writes to cleanup as a new message.
 * Security: the queue file and the logs are checked by their readers;
 * the content is copied, never interpreted beyond the Message-ID header.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bounce.h"
#include "global/cleanup_clnt.h"
#include "global/mail_addr.h"
#include "global/rec_type.h"
#include "util/log.h"
#include "util/mymalloc.h"

/* What the queue file walk needs besides the message it fills in. */
struct walk_state {
	struct bounce_message *msg;
	const char *id;
	long long keep_limit; /* body bytes worth keeping */
	long long kept;       /* body bytes kept */
	bool in_body;
	bool is_line_start;
};

static void
line_add(struct bounce_message *msg, const char *data, size_t len,
	 bool is_continued)
{
	struct dsn_line *l;

	if (msg->line_count == msg->line_cap) {
		msg->line_cap = msg->line_cap ? 2 * msg->line_cap : 64;
		msg->lines = xreallocarray(msg->lines, msg->line_cap,
					   sizeof(*msg->lines));
	}
	l = &msg->lines[msg->line_count++];
	l->data = xmemdup(data, len);
	l->len = len;
	l->is_continued = is_continued;
}

/* Take "<id>" from a Message-ID header line, if it looks like one. */
static void
message_id_note(struct walk_state *ws, const char *data, size_t len)
{
	static const char name[] = "message-id:";
	const char *val;
	size_t vlen;

	if (ws->msg->message_id != NULL || len < sizeof(name) - 1 ||
	    strncasecmp(data, name, sizeof(name) - 1) != 0)
		return;
	val = data + sizeof(name) - 1;
	vlen = len - (sizeof(name) - 1);
	while (vlen > 0 && (*val == ' ' || *val == '\t'))
		val++, vlen--;
	while (vlen > 0 && (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
		vlen--;
	if (vlen < 3 || val[0] != '<' || val[vlen - 1] != '>' ||
	    memchr(val, ' ', vlen) != NULL || memchr(val, '\0', vlen) != NULL) {
		log_warning("%s: ignoring malformed Message-ID", ws->id);
		return;
	}
	ws->msg->message_id = xstrndup(val, vlen);
}

static void
content_note(struct walk_state *ws, const struct queue_record *rec)
{
	bool is_continued = rec->type == REC_TYPE_CONT;
	bool is_header = !ws->in_body;

	for (size_t i = 0; i < rec->len && !ws->msg->is_8bit; i++)
		if ((unsigned char)rec->data[i] & 0x80)
			ws->msg->is_8bit = true;
	if (is_header && ws->is_line_start && !is_continued) {
		if (rec->len == 0)
			ws->in_body = true;
		else
			message_id_note(ws, rec->data, rec->len);
	}
	if (is_header || ws->kept <= ws->keep_limit) {
		line_add(ws->msg, rec->data, rec->len, is_continued);
		if (!is_header)
			ws->kept += (long long)rec->len + 1;
	}
	ws->is_line_start = !is_continued;
}

static int
envelope_note(struct walk_state *ws, const struct queue_record *rec,
	      struct err *err)
{
	struct bounce_message *msg = ws->msg;
	long long sec;
	long usec;

	switch (rec->type) {
	case REC_TYPE_FROM:
		free(msg->sender);
		msg->sender = xstrdup(rec->data);
		break;
	case REC_TYPE_DSN_ENVID:
		free(msg->envid);
		msg->envid = xstrdup(rec->data);
		break;
	case REC_TYPE_DSN_RET:
		msg->ret = atoi(rec->data);
		break;
	case REC_TYPE_ATTR:
		if (rec_attr_trace_flags(rec->data, &msg->trace_flags) < 0)
			msg->trace_flags = 0;
		break;
	case REC_TYPE_TIME:
		if (queue_file_parse_time(rec->data, &sec, &usec) < 0) {
			err_set(err, "malformed arrival time record");
			return -1;
		}
		msg->arrival = (time_t)sec;
		break;
	default:
		break;
	}
	return 0;
}

static int
walk_record(const struct queue_record *rec, void *ctx, struct err *err)
{
	struct walk_state *ws = ctx;

	if (rec->segment == REC_SEG_ENVELOPE)
		return envelope_note(ws, rec, err);
	if (rec->segment == REC_SEG_CONTENT &&
	    (rec->type == REC_TYPE_NORM || rec->type == REC_TYPE_CONT))
		content_note(ws, rec);
	return 0;
}

int
bounce_message_read(const struct bounce_params *p, const char *queue_name,
		    const char *id, struct bounce_message *msg, struct err *err)
{
	struct walk_state ws = {
		.msg = msg,
		.id = id,
		.keep_limit = p->bounce_size_limit,
		.is_line_start = true,
	};
	struct queue_file_info info;
	struct strbuf name;
	int fd = queue_file_open(p->ql, queue_name, id, O_RDONLY, err);
	int ret;

	if (fd < 0)
		return -1;
	strbuf_init(&name, STRBUF_UNLIMITED);
	(void)strbuf_printf(&name, "%s/%s", queue_name, id);
	ret = queue_file_walk(fd, name.data, 0, walk_record, &ws, &info, err);
	strbuf_deinit(&name);
	(void)close(fd);
	if (ret < 0)
		return -1;
	if (msg->sender == NULL)
		msg->sender = xstrdup("");
	if (msg->envid == NULL)
		msg->envid = xstrdup("");
	msg->content_length = info.content_length;
	return 0;
}

void
bounce_message_free(struct bounce_message *msg)
{
	for (size_t i = 0; i < msg->line_count; i++)
		free((void *)msg->lines[i].data);
	free(msg->lines);
	free(msg->sender);
	free(msg->envid);
	free(msg->message_id);
	memset(msg, 0, sizeof(*msg));
}

static char *
dup_or_null(const char *text)
{
	return text != NULL && *text ? xstrdup(text) : NULL;
}

void
bounce_entries_add(struct bounce_entries *list,
		   const struct msg_log_entry *entry)
{
	struct msg_log_entry *e;

	if (list->count == list->cap) {
		list->cap = list->cap ? 2 * list->cap : 16;
		list->items = xreallocarray(list->items, list->cap,
					    sizeof(*list->items));
	}
	e = &list->items[list->count++];
	*e = *entry;
	e->recipient = xstrdup(entry->recipient);
	e->orig_rcpt = dup_or_null(entry->orig_rcpt);
	e->dsn_orcpt = dup_or_null(entry->dsn_orcpt);
	e->status = xstrdup(entry->status);
	e->action = xstrdup(entry->action ? entry->action : "");
	e->reason = xstrdup(entry->reason ? entry->reason : "");
	e->relay = dup_or_null(entry->relay);
	e->dsn_mta = dup_or_null(entry->dsn_mta);
	e->diag_text = dup_or_null(entry->diag_text);
}

static int
entry_collect(const struct msg_log_entry *entry, void *ctx, struct err *err)
{
	(void)err;
	bounce_entries_add(ctx, entry);
	return 0;
}

int
bounce_entries_read(const struct bounce_params *p, const char *log,
		    const char *id, struct bounce_entries *list,
		    struct err *err)
{
	return msg_log_read(p->ql, log, id, entry_collect, list, err);
}

void
bounce_entries_free(struct bounce_entries *list)
{
	for (size_t i = 0; i < list->count; i++) {
		struct msg_log_entry *e = &list->items[i];

		free((void *)e->recipient);
		free((void *)e->orig_rcpt);
		free((void *)e->dsn_orcpt);
		free((void *)e->status);
		free((void *)e->action);
		free((void *)e->reason);
		free((void *)e->relay);
		free((void *)e->dsn_mta);
		free((void *)e->diag_text);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}

static int
line_to_cleanup(const struct dsn_line *line, void *ctx, struct err *err)
{
	return cleanup_content_line(ctx, line->data, line->len,
				    line->is_continued, err);
}

/* The envelope of the notice, then its text. */
static int
notice_write(struct cleanup_clnt *cc, const struct dsn_report_info *info,
	     const char *sender, const char *rcpt,
	     const struct bounce_message *msg,
	     const struct bounce_entries *list, const char *force_action,
	     struct err *err)
{
	if (cleanup_sender(cc, sender, err) < 0 ||
	    cleanup_recipient(cc, rcpt, NULL, NULL, 0, err) < 0)
		return -1;
	return dsn_report_build(info, list->items, list->count, force_action,
				msg->lines, msg->line_count, line_to_cleanup,
				cc, err);
}

int
bounce_notice_send(const struct bounce_params *p, struct dsn_report_info *info,
		   const char *id, const struct bounce_message *msg,
		   const char *sender, const char *rcpt,
		   const struct bounce_entries *list, const char *force_action,
		   struct strbuf *new_id, struct err *err)
{
	struct cleanup_result res;
	struct cleanup_clnt *cc;
	char *to = mail_addr_quote(rcpt);
	int ret;

	info->myhostname = p->myhostname;
	info->mail_name = p->mail_name;
	info->queue_id = id;
	info->sender = msg->sender;
	info->to = to;
	info->envid = msg->envid;
	info->message_id = msg->message_id;
	info->ret = msg->ret;
	info->arrival = msg->arrival;
	info->now = time(NULL);
	info->delay_warning_time = p->delay_warning_time;
	info->maximal_queue_lifetime = *msg->sender == 0
					       ? p->bounce_queue_lifetime
					       : p->maximal_queue_lifetime;
	info->retry_until =
		info->kind == DSN_REPORT_DELAY
			? msg->arrival + info->maximal_queue_lifetime
			: 0;
	info->content_length = msg->content_length;
	info->bounce_size_limit = p->bounce_size_limit;
	info->is_8bit = msg->is_8bit;
	cc = cleanup_open(p->cleanup_path, CLEANUP_FLAG_LOCAL, p->timeout_ms,
			  &res, err);
	if (cc == NULL) {
		free(to);
		return -1;
	}
	(void)strbuf_append_str(new_id, cleanup_queue_id(cc));
	if (notice_write(cc, info, sender, rcpt, msg, list, force_action, err) <
	    0) {
		cleanup_abort(&cc);
		ret = -1;
	} else {
		ret = cleanup_finish(&cc, &res, err);
	}
	free(to);
	return ret;
}
