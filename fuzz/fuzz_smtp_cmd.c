/*
 * fuzz_smtp_cmd.c - libFuzzer target for SMTP command lines and the DATA
 * state machine.
 *
 * The first byte picks the line limit, the bare-LF mode and the UTF-8
 * flag; the rest is what a client sends. It is cut into lines exactly as
 * stream_read_line would (CRLF, bare LF, pieces at the limit, a last
 * partial line at end of input) and every line goes both to the command
 * parser (and from MAIL/RCPT on to the path and parameter parsers) and to
 * one running DATA state machine, whose decisions are checked against an
 * independent statement of the end-of-data rule.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#include "global/esmtp_param.h"
#include "global/mail_addr.h"
#include "global/smtp_cmd.h"
#include "global/smtp_data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct shadow {
	bool at_start;
	bool prev_crlf;
};

static void
check_command(const char *line, size_t len, enum stream_line_end end,
	      enum smtp_bare_lf mode, int flags)
{
	struct smtp_cmd cmd;
	enum smtp_cmd_status st =
		smtp_cmd_parse(line, len, end, mode, flags, &cmd);
	struct mail_addr_path path;
	struct esmtp_params p;

	(void)smtp_cmd_reply(st, cmd.verb);
	(void)smtp_cmd_must_close(st, cmd.verb);
	if (st == SMTP_CMD_OK) {
		ASSERT(cmd.arg != NULL && cmd.word != NULL);
		ASSERT(strlen(cmd.arg) <= len);
		ASSERT(end == STREAM_END_CRLF || end == STREAM_END_LF);
	}
	if (st == SMTP_CMD_OK &&
	    (cmd.verb == SMTP_VERB_MAIL || cmd.verb == SMTP_VERB_RCPT)) {
		enum mail_addr_role role = cmd.verb == SMTP_VERB_MAIL
						   ? MAIL_ADDR_SENDER
						   : MAIL_ADDR_RECIPIENT;

		if (mail_addr_parse_path(cmd.arg, role, 0, &path, NULL) ==
		    MAIL_ADDR_OK) {
			esmtp_param_parse(
				path.params,
				cmd.verb == SMTP_VERB_MAIL ? ESMTP_MAIL
							   : ESMTP_RCPT,
				ESMTP_FLAG_DSN | ESMTP_FLAG_SMTPUTF8, &p);
			esmtp_param_free(&p);
			mail_addr_path_free(&path);
		}
	}
	smtp_cmd_free(&cmd);
}

static void
check_data(struct smtp_data *d, struct shadow *sh, const char *line, size_t len,
	   enum stream_line_end end)
{
	const char *out;
	size_t out_len;
	bool is_dot = sh->at_start && len == 1 && line[0] == '.' &&
		      end != STREAM_END_CUT && end != STREAM_END_EOF;
	bool want_end = is_dot && (d->mode == SMTP_BARE_LF_NO ||
				   (end == STREAM_END_CRLF && sh->prev_crlf));
	enum smtp_data_action a;

	if (d->is_done)
		return;
	a = smtp_data_feed(d, line, len, end, &out, &out_len);
	ASSERT((a == SMTP_DATA_END) == want_end);
	ASSERT((a == SMTP_DATA_SKIP) == (is_dot && !want_end));
	ASSERT((a == SMTP_DATA_LOST) == (end == STREAM_END_EOF));
	if (a == SMTP_DATA_LINE || a == SMTP_DATA_PARTIAL) {
		ASSERT(out >= line && out + out_len == line + len);
		ASSERT(out_len + 1 >= len);
	}
	if (end != STREAM_END_CUT) {
		sh->at_start = true;
		sh->prev_crlf = end == STREAM_END_CRLF;
	} else {
		sh->at_start = false;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum smtp_bare_lf modes[] = {
		SMTP_BARE_LF_NO,
		SMTP_BARE_LF_NORMALIZE,
		SMTP_BARE_LF_REJECT,
		SMTP_BARE_LF_NORMALIZE,
	};
	struct smtp_data d;
	struct shadow sh = { true, true };
	enum smtp_bare_lf mode;
	size_t limit;
	int flags;
	const char *p;
	size_t left;

	if (size == 0)
		return 0;
	limit = 1 + (data[0] & 31);
	mode = modes[(data[0] >> 5) & 3];
	flags = (data[0] & 0x80) ? SMTP_CMD_FLAG_UTF8 : 0;
	smtp_data_init(&d, mode);
	p = (const char *)data + 1;
	left = size - 1;
	while (left > 0) {
		const char *nl = memchr(p, '\n', left);
		size_t body = nl ? (size_t)(nl - p) : left;
		size_t skip = nl ? 1 : 0;
		enum stream_line_end end = nl ? STREAM_END_LF : STREAM_END_EOF;

		if (nl && body > 0 && p[body - 1] == '\r') {
			end = STREAM_END_CRLF;
			body--;
			skip = 2;
		}
		if (body > limit) {
			body = limit;
			skip = 0;
			end = STREAM_END_CUT;
		}
		check_command(p, body, end, mode, flags);
		check_data(&d, &sh, p, body, end);
		p += body + skip;
		left -= body + skip;
	}
	return 0;
}
