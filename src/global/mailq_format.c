/*
 * mailq_format.c - postqueue -p and -j output.
 *
 * The column widths and texts are Postfix 3.7's, checked against its
 * postqueue; see mailq_format.h for the shape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "global/mailq_format.h"
#include "util/mymalloc.h"

#define MAILQ_NULL_SENDER "MAILER-DAEMON"
#define MAILQ_NO_REASON "reason unavailable"
#define MAILQ_REASON_WIDTH 78

/* Column layout for short and long queue IDs. */
struct mailq_columns {
	const char *header;
	int id_width; /* the ID and its status character */
	int size_width;
	const char *time_gap; /* between the arrival time and the sender */
	int rcpt_indent;
};

static const struct mailq_columns mailq_short = {
	"-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------",
	11,
	7,
	"  ",
	41,
};

static const struct mailq_columns mailq_long = {
	"----Queue ID----- --Size-- ---Arrival Time---- "
	"--Sender/Recipient------",
	17,
	8,
	" ",
	47,
};

struct mailq_format {
	enum mailq_style style;
	const struct mailq_columns *cols;
	long long entries;
	long long total_size;
	size_t rcpts;              /* recipients of the current entry */
	struct strbuf prev_reason; /* -p: reason of the recipient before */
};

struct mailq_format *
mailq_format_create(enum mailq_style style, bool want_long_ids)
{
	struct mailq_format *mf = xcalloc(1, sizeof(*mf));

	mf->style = style;
	mf->cols = want_long_ids ? &mailq_long : &mailq_short;
	strbuf_init(&mf->prev_reason, STRBUF_UNLIMITED);
	return mf;
}

void
mailq_format_destroy(struct mailq_format **mfp)
{
	if (*mfp == NULL)
		return;
	strbuf_deinit(&(*mfp)->prev_reason);
	free(*mfp);
	*mfp = NULL;
}

void
mailq_json_quote(const char *text, struct strbuf *out)
{
	for (const unsigned char *cp = (const unsigned char *)text; *cp; cp++) {
		switch (*cp) {
		case '"':
		case '\\':
			(void)strbuf_append_char(out, '\\');
			(void)strbuf_append_char(out, *cp);
			break;
		case '\b':
			(void)strbuf_append_str(out, "\\b");
			break;
		case '\f':
			(void)strbuf_append_str(out, "\\f");
			break;
		case '\n':
			(void)strbuf_append_str(out, "\\n");
			break;
		case '\r':
			(void)strbuf_append_str(out, "\\r");
			break;
		case '\t':
			(void)strbuf_append_str(out, "\\t");
			break;
		default:
			if (*cp < 0x20 || *cp == 0x7f)
				(void)strbuf_printf(out, "\\u%04X", *cp);
			else
				(void)strbuf_append_char(out, *cp);
		}
	}
}

static void
json_member(struct strbuf *out, const char *name, const char *value)
{
	(void)strbuf_printf(out, "\"%s\": \"", name);
	mailq_json_quote(value, out);
	(void)strbuf_append_str(out, "\", ");
}

static const char *
shown_sender(const char *sender)
{
	return *sender ? sender : MAILQ_NULL_SENDER;
}

static char
status_char(const struct showq_entry *entry)
{
	if (entry->is_forced_expire)
		return '#';
	if (strcmp(entry->queue_name, "active") == 0)
		return '*';
	if (strcmp(entry->queue_name, "hold") == 0)
		return '!';
	return 0;
}

static void
entry_sendmail(struct mailq_format *mf, const struct showq_entry *entry,
	       struct strbuf *out)
{
	char when[64] = "";
	char id[80];
	time_t arrival = (time_t)entry->arrival_time;
	struct tm tm;
	char status = status_char(entry);

	if (mf->entries == 0)
		(void)strbuf_printf(out, "%s\n", mf->cols->header);
	if (localtime_r(&arrival, &tm) != NULL)
		(void)strftime(when, sizeof(when), "%a %b %e %H:%M:%S", &tm);
	snprintf(id, sizeof(id), "%.64s%s", entry->queue_id,
		 (char[]){ status, 0 });
	(void)strbuf_printf(out, "%-*s %*lld %s%s%s\n", mf->cols->id_width, id,
			    mf->cols->size_width, entry->message_size, when,
			    mf->cols->time_gap, shown_sender(entry->sender));
	strbuf_reset(&mf->prev_reason);
}

static void
entry_json(const struct showq_entry *entry, struct strbuf *out)
{
	(void)strbuf_append_char(out, '{');
	json_member(out, "queue_name", entry->queue_name);
	json_member(out, "queue_id", entry->queue_id);
	(void)strbuf_printf(out,
			    "\"arrival_time\": %lld, \"message_size\": %lld, "
			    "\"forced_expire\": %s, ",
			    entry->arrival_time, entry->message_size,
			    entry->is_forced_expire ? "true" : "false");
	json_member(out, "sender", shown_sender(entry->sender));
	(void)strbuf_append_str(out, "\"recipients\": [");
}

void
mailq_format_entry(struct mailq_format *mf, const struct showq_entry *entry,
		   struct strbuf *out)
{
	if (mf->style == MAILQ_STYLE_JSON)
		entry_json(entry, out);
	else
		entry_sendmail(mf, entry, out);
	mf->entries++;
	mf->total_size += entry->message_size;
	mf->rcpts = 0;
}

static void
rcpt_sendmail(struct mailq_format *mf, const struct showq_rcpt *rcpt,
	      struct strbuf *out)
{
	const char *reason = rcpt->delay_reason ? rcpt->delay_reason : "";

	if (strcmp(reason, mf->prev_reason.data) != 0) {
		const char *shown = *reason ? reason : MAILQ_NO_REASON;
		size_t len = strlen(shown) + 2;

		/* Right-aligned in 78 columns; longer ones start at column 0.
		 */
		for (size_t i = len; i < MAILQ_REASON_WIDTH; i++)
			(void)strbuf_append_char(out, ' ');
		(void)strbuf_printf(out, "(%s)\n", shown);
		(void)strbuf_set(&mf->prev_reason, reason);
	}
	(void)strbuf_printf(out, "%*s%s\n", mf->cols->rcpt_indent, "",
			    rcpt->address);
}

static void
rcpt_json(struct mailq_format *mf, const struct showq_rcpt *rcpt,
	  struct strbuf *out)
{
	if (mf->rcpts > 0)
		(void)strbuf_append_str(out, ", ");
	(void)strbuf_append_str(out, "{\"address\": \"");
	mailq_json_quote(rcpt->address, out);
	(void)strbuf_append_char(out, '"');
	if (rcpt->delay_reason != NULL && *rcpt->delay_reason) {
		(void)strbuf_append_str(out, ", \"delay_reason\": \"");
		mailq_json_quote(rcpt->delay_reason, out);
		(void)strbuf_append_char(out, '"');
	}
	(void)strbuf_append_char(out, '}');
}

void
mailq_format_rcpt(struct mailq_format *mf, const struct showq_rcpt *rcpt,
		  struct strbuf *out)
{
	if (mf->style == MAILQ_STYLE_JSON)
		rcpt_json(mf, rcpt, out);
	else
		rcpt_sendmail(mf, rcpt, out);
	mf->rcpts++;
}

void
mailq_format_entry_end(struct mailq_format *mf, struct strbuf *out)
{
	(void)strbuf_append_str(out,
				mf->style == MAILQ_STYLE_JSON ? "]}\n" : "\n");
}

void
mailq_format_finish(struct mailq_format *mf, struct strbuf *out)
{
	if (mf->style == MAILQ_STYLE_JSON)
		return;
	if (mf->entries == 0) {
		(void)strbuf_append_str(out, "Mail queue is empty\n");
		return;
	}
	(void)strbuf_printf(out, "-- %lld Kbytes in %lld Request%s.\n",
			    mf->total_size / 1024, mf->entries,
			    mf->entries == 1 ? "" : "s");
}
