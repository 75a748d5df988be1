/*
 * header_fix.c - which headers a message has, and the ones cleanup adds.
 *
 * The formats are Postfix 3.7's, checked against its cleanup: see
 * header_fix.h and the golden values in tests/unit/global/test_header_fix.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "global/header_fix.h"
#include "global/header_parse.h"
#include "global/mail_addr.h"
#include "global/queue_id.h"

static const struct {
	const char *name;
	enum header_kind kind;
} header_kinds[] = {
	{ "From", HDR_FROM },
	{ "To", HDR_TO },
	{ "Cc", HDR_CC },
	{ "Bcc", HDR_BCC },
	{ "Date", HDR_DATE },
	{ "Message-Id", HDR_MESSAGE_ID },
	{ "Resent-From", HDR_RESENT_FROM },
	{ "Resent-To", HDR_RESENT_TO },
	{ "Resent-Cc", HDR_RESENT_CC },
	{ "Resent-Bcc", HDR_RESENT_BCC },
	{ "Resent-Date", HDR_RESENT_DATE },
	{ "Resent-Message-Id", HDR_RESENT_MESSAGE_ID },
	{ "Resent-Reply-To", HDR_RESENT_OTHER },
	{ "Resent-Sender", HDR_RESENT_OTHER },
	{ "Received", HDR_RECEIVED },
	{ "Return-Path", HDR_RETURN_PATH },
	{ "Content-Length", HDR_CONTENT_LENGTH },
};

#define BIT(kind) (1u << (kind))

enum header_kind
header_fix_kind(const char *text, size_t len)
{
	for (size_t i = 0; i < sizeof(header_kinds) / sizeof(header_kinds[0]);
	     i++)
		if (header_is_named(text, len, header_kinds[i].name))
			return header_kinds[i].kind;
	return HDR_OTHER;
}

bool
header_fix_is_dropped(enum header_kind kind)
{
	return kind == HDR_BCC || kind == HDR_RESENT_BCC ||
	       kind == HDR_RETURN_PATH || kind == HDR_CONTENT_LENGTH;
}

void
header_fix_note(struct header_seen *seen, enum header_kind kind)
{
	seen->mask |= BIT(kind);
	if (kind >= HDR_RESENT_FROM && kind <= HDR_RESENT_OTHER)
		seen->has_resent = true;
	if (kind == HDR_RECEIVED)
		seen->hop_count++;
}

void
header_fix_date(time_t when, struct strbuf *out)
{
	struct tm tm;
	char buf[128];

	localtime_r(&when, &tm);
	if (strftime(buf, sizeof(buf), "%a, %e %b %Y %H:%M:%S %z (%Z)", &tm) ==
	    0)
		buf[0] = 0;
	(void)strbuf_append_str(out, buf);
}

static bool
is_phrase_special(unsigned char ch)
{
	return ch < 32 || ch == 127 || strchr("()<>@,;:\\\".[]", ch) != NULL;
}

void
header_fix_phrase(const char *name, struct strbuf *out)
{
	bool want_quotes = false;

	for (const char *cp = name; *cp; cp++)
		if (is_phrase_special((unsigned char)*cp))
			want_quotes = true;
	if (!want_quotes) {
		(void)strbuf_append_str(out, name);
		return;
	}
	(void)strbuf_append_char(out, '"');
	for (const char *cp = name; *cp; cp++) {
		if (*cp == '"' || *cp == '\\')
			(void)strbuf_append_char(out, '\\');
		(void)strbuf_append_char(out, *cp);
	}
	(void)strbuf_append_char(out, '"');
}

/* A comment for header_from_format = obsolete: parentheses escaped. */
static void
append_comment(const char *name, struct strbuf *out)
{
	(void)strbuf_append_char(out, '(');
	for (const char *cp = name; *cp; cp++) {
		if (*cp == '(' || *cp == ')' || *cp == '\\')
			(void)strbuf_append_char(out, '\\');
		(void)strbuf_append_char(out, *cp);
	}
	(void)strbuf_append_char(out, ')');
}

static void
add_message_id(const struct header_fix_input *in, const char *resent,
	       struct argv *out, struct strbuf *message_id_out)
{
	struct strbuf id;
	struct strbuf line;
	char stamp[32];
	struct tm tm;

	strbuf_init(&id, STRBUF_UNLIMITED);
	strbuf_init(&line, STRBUF_UNLIMITED);
	if (queue_id_is_long(in->queue_id)) {
		(void)strbuf_printf(&id, "%s@%s", in->queue_id, in->myhostname);
	} else {
		gmtime_r(&in->create_time, &tm);
		if (strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm) == 0)
			stamp[0] = 0;
		(void)strbuf_printf(&id, "%s.%s@%s", stamp, in->queue_id,
				    in->myhostname);
	}
	(void)strbuf_printf(&line, "%sMessage-Id: <%s>", resent, id.data);
	argv_add(out, line.data);
	if (message_id_out != NULL)
		(void)strbuf_append(message_id_out, id.data, id.len);
	strbuf_deinit(&id);
	strbuf_deinit(&line);
}

static void
add_from(const struct header_fix_input *in, const char *resent,
	 struct argv *out)
{
	struct strbuf line;
	char *addr;
	bool has_name =
		*in->sender && in->fullname != NULL && *in->fullname != 0;
	bool is_obsolete = in->header_from_format != NULL &&
			   strcmp(in->header_from_format, "obsolete") == 0;

	strbuf_init(&line, STRBUF_UNLIMITED);
	(void)strbuf_printf(&line, "%sFrom: ", resent);
	if (*in->sender == 0) {
		(void)strbuf_append_str(&line, "MAILER-DAEMON");
	} else {
		addr = mail_addr_quote(in->sender);
		if (has_name && !is_obsolete) {
			header_fix_phrase(in->fullname, &line);
			(void)strbuf_printf(&line, " <%s>", addr);
		} else {
			(void)strbuf_append_str(&line, addr);
			if (has_name) {
				(void)strbuf_append_char(&line, ' ');
				append_comment(in->fullname, &line);
			}
		}
		free(addr);
	}
	argv_add(out, line.data);
	strbuf_deinit(&line);
}

void
header_fix_missing(const struct header_seen *seen,
		   const struct header_fix_input *in, struct argv *out,
		   struct strbuf *message_id_out)
{
	bool rs = seen->has_resent;
	const char *resent = rs ? "Resent-" : "";
	unsigned rcpt_mask = rs ? BIT(HDR_RESENT_TO) | BIT(HDR_RESENT_CC) |
					     BIT(HDR_RESENT_BCC)
				: BIT(HDR_TO) | BIT(HDR_CC) | BIT(HDR_BCC);
	struct strbuf date;

	if ((seen->mask & BIT(rs ? HDR_RESENT_MESSAGE_ID : HDR_MESSAGE_ID)) ==
	    0)
		add_message_id(in, resent, out, message_id_out);
	if ((seen->mask & BIT(rs ? HDR_RESENT_DATE : HDR_DATE)) == 0) {
		strbuf_init(&date, STRBUF_UNLIMITED);
		(void)strbuf_printf(&date, "%sDate: ", resent);
		header_fix_date(in->arrival_time, &date);
		argv_add(out, date.data);
		strbuf_deinit(&date);
	}
	if ((seen->mask & BIT(rs ? HDR_RESENT_FROM : HDR_FROM)) == 0)
		add_from(in, resent, out);
	if ((seen->mask & rcpt_mask) == 0 &&
	    in->undisclosed_recipients_header != NULL &&
	    *in->undisclosed_recipients_header != 0)
		argv_add(out, in->undisclosed_recipients_header);
}
