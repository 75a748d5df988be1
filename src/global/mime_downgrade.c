/*
 * mime_downgrade.c - the 8-bit to 7-bit MIME converter of the smtp and
 * lmtp clients (see mime_downgrade.h for what it does and why).
 *
 * One pass, line by line. In a header block each physical line is held
 * whole (at most header_limit bytes) and each logical header until the
 * next line shows it complete; in a body only the first bytes of a line
 * are held, as many as a boundary comparison needs, the rest streams
 * through. Quoted-printable output is built one output line at a time.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/header_parse.h"
#include "global/mime_downgrade.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

/* Postfix breaks a quoted-printable line before a byte once it is this
 * long, so no line passes 76 columns even with "=XX" and a final "=". */
#define QP_BREAK_AT 73

#define CTE_NAME "Content-Transfer-Encoding"
#define MIME_NESTING_TEXT "MIME nesting exceeds safety limit"

/* What the current entity is, for its body and its new encoding header. */
enum ctype {
	CT_LEAF,          /* text, anything unknown, message/global */
	CT_MULTIPART,     /* any multipart type */
	CT_MESSAGE,       /* message/rfc822: a header block follows */
	CT_MESSAGE_OTHER, /* other message types: "7bit", body still encoded */
};

enum state {
	ST_HEADER, /* in a header block */
	ST_BODY,   /* in a body, preamble or epilogue */
};

/* What to do with the rest of the current input line. */
enum line_mode {
	LM_START, /* nothing of the line seen yet */
	LM_HOLD,  /* holding the line (or its first bytes) in md->line */
	LM_BODY,  /* the rest goes to the body output */
	LM_RAW,   /* the rest goes out unchanged */
};

/* One open multipart level. */
struct level {
	char *boundary; /* at most boundary_limit bytes, never empty */
	size_t len;
	bool is_digest; /* multipart/digest: parts default to message/rfc822 */
};

struct mime_downgrade {
	struct mime_downgrade_limits lim;
	mime_downgrade_out_fn *out;
	void *ctx;
	struct err *err; /* the caller's, during one call */
	enum state state;
	enum line_mode mode;
	/* The current entity. */
	enum ctype ctype;
	bool is_digest;   /* its Content-Type is multipart/digest */
	bool is_8bit;     /* its last Content-Transfer-Encoding: 8bit, binary */
	bool is_encoding; /* body: quoted-printable output */
	bool has_hdr;     /* a logical header is held in hdr */
	bool is_hdr_raw; /* an over-long header: its lines go out as they are */
	struct strbuf line; /* the held line */
	struct strbuf hdr;  /* the held header, physical lines joined by '\n' */
	struct strbuf qp;   /* the quoted-printable line being built */
	struct level *levels;
	size_t depth;
	size_t cap;
	size_t max_boundary; /* longest boundary of the open levels */
	/* A failure sticks. */
	bool is_failed;
	bool is_mime_error;
	int fail_ret;
	char *fail_text;
};

void
mime_downgrade_limits_read(struct mail_conf *conf,
			   struct mime_downgrade_limits *out)
{
	out->nesting_limit = (size_t)mail_conf_int(conf, "mime_nesting_limit");
	out->boundary_limit =
		(size_t)mail_conf_int(conf, "mime_boundary_length_limit");
	out->header_limit = (size_t)mail_conf_int(conf, "header_size_limit");
}

/* ------------------------------------------------------------------ */
/* Output.                                                              */

static int
emit(struct mime_downgrade *md, const char *data, size_t len, bool is_end)
{
	if (len == 0 && !is_end)
		return 0;
	return md->out(data, len, is_end, md->ctx, md->err);
}

/* A logical header goes out as its physical lines. */
static int
emit_header(struct mime_downgrade *md, const char *text, size_t len)
{
	const char *nl;
	int ret;

	while ((nl = memchr(text, '\n', len)) != NULL) {
		if ((ret = emit(md, text, (size_t)(nl - text), true)) < 0)
			return ret;
		len -= (size_t)(nl - text) + 1;
		text = nl + 1;
	}
	return emit(md, text, len, true);
}

static bool
qp_is_literal(unsigned char ch)
{
	return ch != '=' && ch <= 126 && (ch >= 32 || ch == '\t');
}

static void
qp_append_hex(struct strbuf *qp, unsigned char ch)
{
	static const char hex[] = "0123456789ABCDEF";
	char enc[3] = { '=', hex[ch >> 4], hex[ch & 15] };

	(void)strbuf_append(qp, enc, sizeof(enc));
}

/* Body bytes: as they are, or quoted-printable when encoding. */
static int
body_put(struct mime_downgrade *md, const char *data, size_t len, bool is_end)
{
	struct strbuf *qp = &md->qp;
	int ret;

	if (!md->is_encoding)
		return emit(md, data, len, is_end);
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (qp->len >= QP_BREAK_AT) {
			(void)strbuf_append_char(qp, '=');
			if ((ret = emit(md, qp->data, qp->len, true)) < 0)
				return ret;
			strbuf_reset(qp);
		}
		if (qp_is_literal(ch))
			(void)strbuf_append_char(qp, ch);
		else
			qp_append_hex(qp, ch);
	}
	if (!is_end)
		return 0;
	if (qp->len > 0 &&
	    (qp->data[qp->len - 1] == ' ' || qp->data[qp->len - 1] == '\t')) {
		unsigned char ch = (unsigned char)qp->data[qp->len - 1];

		strbuf_truncate(qp, qp->len - 1);
		qp_append_hex(qp, ch);
	}
	ret = emit(md, qp->data, qp->len, true);
	strbuf_reset(qp);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Header values: RFC 2045 tokens.                                      */

enum tok_kind { TOK_END, TOK_ATOM, TOK_QUOTED, TOK_SPECIAL };

struct tok {
	enum tok_kind kind;
	const char *text; /* atom, or a quoted string's inside (escapes kept) */
	size_t len;
	char special;
};

struct tokenizer {
	const char *cur;
	const char *end;
};

static bool
is_tspecial(unsigned char ch)
{
	return ch < 32 || ch == 127 || strchr("()<>@,;:\\\"/[]?=", ch) != NULL;
}

static bool
is_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Skip white space and (nested (comments)). */
static void
tok_skip(struct tokenizer *tz)
{
	int depth = 0;

	for (; tz->cur < tz->end; tz->cur++) {
		unsigned char ch = (unsigned char)*tz->cur;

		if (depth > 0 && ch == '\\' && tz->cur + 1 < tz->end)
			tz->cur++;
		else if (ch == '(')
			depth++;
		else if (depth > 0 && ch == ')')
			depth--;
		else if (depth == 0 && !is_space(ch))
			return;
	}
}

static void
tok_next(struct tokenizer *tz, struct tok *t)
{
	const char *start;

	tok_skip(tz);
	if (tz->cur >= tz->end) {
		t->kind = TOK_END;
		return;
	}
	start = tz->cur;
	if (*start == '"') {
		for (tz->cur++; tz->cur < tz->end && *tz->cur != '"'; tz->cur++)
			if (*tz->cur == '\\' && tz->cur + 1 < tz->end)
				tz->cur++;
		t->kind = TOK_QUOTED;
		t->text = start + 1;
		t->len = (size_t)(tz->cur - start - 1);
		if (tz->cur < tz->end)
			tz->cur++; /* the closing quote */
		return;
	}
	if (is_tspecial((unsigned char)*start)) {
		t->kind = TOK_SPECIAL;
		t->special = *start;
		tz->cur++;
		return;
	}
	while (tz->cur < tz->end && !is_space((unsigned char)*tz->cur) &&
	       !is_tspecial((unsigned char)*tz->cur))
		tz->cur++;
	t->kind = TOK_ATOM;
	t->text = start;
	t->len = (size_t)(tz->cur - start);
}

static bool
tok_is(const struct tok *t, const char *word)
{
	return t->kind == TOK_ATOM && t->len == strlen(word) &&
	       strncasecmp(t->text, word, t->len) == 0;
}

static bool
tok_is_special(const struct tok *t, char special)
{
	return t->kind == TOK_SPECIAL && t->special == special;
}

/* ------------------------------------------------------------------ */
/* Multipart levels.                                                    */

static void
levels_recount(struct mime_downgrade *md)
{
	md->max_boundary = 0;
	for (size_t i = 0; i < md->depth; i++)
		if (md->levels[i].len > md->max_boundary)
			md->max_boundary = md->levels[i].len;
}

static int
mime_fail(struct mime_downgrade *md, const char *text)
{
	md->is_mime_error = true;
	err_set(md->err, "%s", text);
	return -1;
}

/* Open a level for boundary (unescaped, non-empty). */
static int
level_push(struct mime_downgrade *md, const char *boundary, size_t len,
	   bool is_digest)
{
	struct level *lv;

	if (md->depth >= md->lim.nesting_limit + 2)
		return mime_fail(md, MIME_NESTING_TEXT);
	if (md->depth == md->cap) {
		md->cap = md->cap ? 2 * md->cap : 4;
		md->levels =
			xreallocarray(md->levels, md->cap, sizeof(*md->levels));
	}
	if (len > md->lim.boundary_limit)
		len = md->lim.boundary_limit;
	lv = &md->levels[md->depth++];
	lv->boundary = xmemdup(boundary, len);
	lv->len = len;
	lv->is_digest = is_digest;
	if (len > md->max_boundary)
		md->max_boundary = len;
	return 0;
}

/* Close the levels from index keep on. */
static void
levels_pop(struct mime_downgrade *md, size_t keep)
{
	while (md->depth > keep)
		free(md->levels[--md->depth].boundary);
	levels_recount(md);
}

/*
 * The open level whose boundary starts the line ("--" BOUNDARY, compared
 * as a prefix, innermost level first), or -1. *is_close_out: "--" follows.
 */
static long
boundary_match(const struct mime_downgrade *md, const char *text, size_t len,
	       bool *is_close_out)
{
	if (len < 2 || text[0] != '-' || text[1] != '-')
		return -1;
	for (size_t i = md->depth; i-- > 0;) {
		const struct level *lv = &md->levels[i];

		if (len < 2 + lv->len ||
		    memcmp(text + 2, lv->boundary, lv->len) != 0)
			continue;
		*is_close_out = len >= 4 + lv->len &&
				text[2 + lv->len] == '-' &&
				text[3 + lv->len] == '-';
		return (long)i;
	}
	return -1;
}

/* ------------------------------------------------------------------ */
/* Entities.                                                            */

/* A new header block; parts of a digest are messages unless they say. */
static void
entity_start(struct mime_downgrade *md, bool is_in_digest)
{
	md->state = ST_HEADER;
	md->ctype = is_in_digest ? CT_MESSAGE : CT_LEAF;
	md->is_digest = false;
	md->is_8bit = false;
	md->is_encoding = false;
	md->has_hdr = false;
	md->is_hdr_raw = false;
}

/* A boundary line (already sent) opens the next part or closes level. */
static void
boundary_take(struct mime_downgrade *md, size_t level, bool is_close)
{
	bool is_digest = md->levels[level].is_digest;

	levels_pop(md, is_close ? level : level + 1);
	if (!is_close) {
		entity_start(md, is_digest);
		return;
	}
	md->state = ST_BODY; /* the epilogue: never encoded */
	md->is_encoding = false;
}

static enum ctype
ctype_of(const struct tok *type, const struct tok *subtype, bool *is_digest_out)
{
	*is_digest_out = false;
	if (tok_is(type, "multipart")) {
		*is_digest_out = tok_is(subtype, "digest");
		return CT_MULTIPART;
	}
	if (!tok_is(type, "message") || tok_is(subtype, "global"))
		return CT_LEAF;
	return tok_is(subtype, "rfc822") ? CT_MESSAGE : CT_MESSAGE_OTHER;
}

/* A boundary parameter's value, unescaped and cut to the limit. */
static int
boundary_param(struct mime_downgrade *md, const struct tok *value)
{
	struct strbuf sb;
	int ret = 0;

	strbuf_init(&sb, md->lim.boundary_limit);
	for (size_t i = 0; i < value->len && sb.len < sb.limit; i++) {
		if (value->kind == TOK_QUOTED && value->text[i] == '\\' &&
		    i + 1 < value->len)
			i++;
		(void)strbuf_append_char(&sb, value->text[i]);
	}
	if (sb.len > 0)
		ret = level_push(md, sb.data, sb.len, md->is_digest);
	strbuf_deinit(&sb);
	return ret;
}

/*
 * "; name = value" at the cursor (the ';' already read). A malformed
 * parameter leaves the cursor at the token that did not fit.
 */
static int
content_param(struct mime_downgrade *md, struct tokenizer *tz)
{
	struct tokenizer at = *tz;
	struct tok name, eq, value;

	tok_next(tz, &name);
	if (name.kind != TOK_ATOM) {
		*tz = at;
		return 0;
	}
	at = *tz;
	tok_next(tz, &eq);
	if (!tok_is_special(&eq, '=')) {
		*tz = at;
		return 0;
	}
	at = *tz;
	tok_next(tz, &value);
	if (value.kind != TOK_ATOM && value.kind != TOK_QUOTED) {
		*tz = at;
		return 0;
	}
	if (md->ctype != CT_MULTIPART || !tok_is(&name, "boundary"))
		return 0;
	return boundary_param(md, &value);
}

/* Content-Type: the entity's type; each boundary parameter of a
 * multipart type opens a level at once (a later Content-Type changes the
 * type, not the levels, as in Postfix). */
static int
content_type(struct mime_downgrade *md, const char *value, size_t len)
{
	struct tokenizer tz = { value, value + len };
	struct tok type, slash, subtype = { .kind = TOK_END }, t;
	struct tokenizer at;
	int ret;

	tok_next(&tz, &type);
	at = tz;
	tok_next(&tz, &slash);
	if (tok_is_special(&slash, '/'))
		tok_next(&tz, &subtype);
	else
		tz = at;
	md->ctype = ctype_of(&type, &subtype, &md->is_digest);
	for (tok_next(&tz, &t); t.kind != TOK_END; tok_next(&tz, &t))
		if (tok_is_special(&t, ';') &&
		    (ret = content_param(md, &tz)) < 0)
			return ret;
	return 0;
}

static bool
cte_is_8bit(const char *value, size_t len)
{
	struct tokenizer tz = { value, value + len };
	struct tok t;

	tok_next(&tz, &t);
	return tok_is(&t, "8bit") || tok_is(&t, "binary");
}

/* The held header is complete: note what it says, send or withhold it. */
static int
header_flush(struct mime_downgrade *md)
{
	const char *text = md->hdr.data, *value;
	size_t len = md->hdr.len, vlen;
	int ret;

	if (!md->has_hdr)
		return 0;
	md->has_hdr = false;
	if (header_is_named(text, len, "Content-Type")) {
		value = header_value(text, len, &vlen);
		if ((ret = content_type(md, value, vlen)) < 0)
			return ret;
	} else if (header_is_named(text, len, CTE_NAME)) {
		value = header_value(text, len, &vlen);
		md->is_8bit = cte_is_8bit(value, vlen);
		if (md->is_8bit)
			return 0; /* replaced at the end of the block */
	}
	return emit_header(md, text, len);
}

/* The header block ends: the new encoding header, then what follows. */
static int
header_end(struct mime_downgrade *md)
{
	/* As Postfix: 7bit for multipart and message types (whose body is
	 * still encoded unless it is multipart or message/rfc822). */
	const char *cte = md->ctype == CT_LEAF ? CTE_NAME ": quoted-printable"
					       : CTE_NAME ": 7bit";
	int ret;

	if (md->is_8bit && (ret = emit_header(md, cte, strlen(cte))) < 0)
		return ret;
	if (md->ctype == CT_MESSAGE) {
		entity_start(md, false);
		return 0;
	}
	md->state = ST_BODY;
	md->is_encoding = md->is_8bit && md->ctype != CT_MULTIPART;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Lines.                                                               */

static int header_line(struct mime_downgrade *md, const char *text, size_t len);

/* A boundary line goes out as it is and moves to the part it opens. */
static int
boundary_line(struct mime_downgrade *md, size_t level, bool is_close,
	      const char *text, size_t len, bool is_end)
{
	int ret = emit(md, text, len, is_end);

	boundary_take(md, level, is_close);
	return ret;
}

/* A whole line in the current state. */
static int
line_dispatch(struct mime_downgrade *md, const char *text, size_t len)
{
	bool is_close;
	long level;

	if (md->state == ST_HEADER)
		return header_line(md, text, len);
	if ((level = boundary_match(md, text, len, &is_close)) >= 0)
		return boundary_line(md, (size_t)level, is_close, text, len,
				     true);
	return body_put(md, text, len, true);
}

/* A folded line of the held header (or of an over-long one). */
static int
header_continue(struct mime_downgrade *md, const char *text, size_t len)
{
	int ret;

	if (md->is_hdr_raw)
		return emit(md, text, len, true);
	if (md->hdr.len + 1 + len <= md->lim.header_limit) {
		(void)strbuf_append_char(&md->hdr, '\n');
		(void)strbuf_append(&md->hdr, text, len);
		return 0;
	}
	/* Too long to interpret: it goes out as it came. */
	md->has_hdr = false;
	md->is_hdr_raw = true;
	if ((ret = emit_header(md, md->hdr.data, md->hdr.len)) < 0)
		return ret;
	return emit(md, text, len, true);
}

static bool
is_folded(const char *text, size_t len)
{
	return len > 0 && (text[0] == ' ' || text[0] == '\t');
}

/* A whole line in a header block. */
static int
header_line(struct mime_downgrade *md, const char *text, size_t len)
{
	bool is_close;
	long level;
	int ret;

	if (is_folded(text, len) && (md->has_hdr || md->is_hdr_raw))
		return header_continue(md, text, len);
	md->is_hdr_raw = false;
	if ((ret = header_flush(md)) < 0)
		return ret;
	if (len == 0) {
		if ((ret = header_end(md)) < 0)
			return ret;
		return emit(md, "", 0, true);
	}
	if ((level = boundary_match(md, text, len, &is_close)) >= 0) {
		if ((ret = header_end(md)) < 0)
			return ret;
		return boundary_line(md, (size_t)level, is_close, text, len,
				     true);
	}
	if (!is_folded(text, len) && header_name_len(text, len) > 0) {
		strbuf_reset(&md->hdr);
		(void)strbuf_append(&md->hdr, text, len);
		md->has_hdr = true;
		return 0;
	}
	/* Not a header: the block ends here, the line belongs to the next. */
	if ((ret = header_end(md)) < 0)
		return ret;
	return line_dispatch(md, text, len);
}

/*
 * A header-block line longer than header_limit: held holds its first
 * header_limit bytes, rest the remainder of this piece. It goes out
 * unchanged; only its start decides what it is.
 */
static int
header_overflow(struct mime_downgrade *md, const char *rest, size_t rest_len,
		bool is_end)
{
	const char *text = md->line.data;
	size_t len = md->line.len;
	bool is_close;
	long level;
	int ret = 0;

	md->mode = is_end ? LM_START : LM_RAW;
	if (is_folded(text, len) && md->has_hdr) {
		md->has_hdr = false;
		ret = emit_header(md, md->hdr.data, md->hdr.len);
	} else if (!is_folded(text, len) || !md->is_hdr_raw) {
		md->is_hdr_raw = false;
		if ((ret = header_flush(md)) < 0)
			return ret;
		if ((level = boundary_match(md, text, len, &is_close)) >= 0) {
			if ((ret = header_end(md)) < 0 ||
			    (ret = boundary_line(md, (size_t)level, is_close,
						 text, len, false)) < 0)
				return ret;
			return emit(md, rest, rest_len, is_end);
		}
		if (is_folded(text, len) || header_name_len(text, len) == 0) {
			/* A body line; a message/rfc822 block ends with it. */
			if ((ret = header_end(md)) < 0 ||
			    (md->state == ST_HEADER &&
			     (ret = header_end(md)) < 0))
				return ret;
			md->mode = is_end ? LM_START : LM_BODY;
			if ((ret = body_put(md, text, len, false)) < 0)
				return ret;
			return body_put(md, rest, rest_len, is_end);
		}
	}
	md->is_hdr_raw = true;
	if (ret < 0 || (ret = emit(md, text, len, false)) < 0)
		return ret;
	return emit(md, rest, rest_len, is_end);
}

/* Hold a header-block line whole, then take it. */
static int
header_hold(struct mime_downgrade *md, const char *data, size_t len,
	    bool is_end)
{
	size_t room = md->lim.header_limit - md->line.len;

	if (len > room) {
		(void)strbuf_append(&md->line, data, room);
		return header_overflow(md, data + room, len - room, is_end);
	}
	(void)strbuf_append(&md->line, data, len);
	if (!is_end)
		return 0;
	md->mode = LM_START;
	return header_line(md, md->line.data, md->line.len);
}

/* Hold the start of a body line until it can be told from a boundary. */
static int
body_hold(struct mime_downgrade *md, const char *data, size_t len, bool is_end)
{
	size_t need = md->depth > 0 ? md->max_boundary + 4 : 0;
	size_t take = need > md->line.len ? need - md->line.len : 0;
	const char *text;
	bool is_close, is_whole;
	long level;
	int ret;

	if (take > len)
		take = len;
	(void)strbuf_append(&md->line, data, take);
	data += take;
	len -= take;
	if (md->line.len < need && !is_end)
		return 0;
	text = md->line.data;
	is_whole = is_end && len == 0;
	md->mode = is_end ? LM_START : LM_RAW;
	if ((level = boundary_match(md, text, md->line.len, &is_close)) >= 0) {
		if ((ret = boundary_line(md, (size_t)level, is_close, text,
					 md->line.len, is_whole)) < 0 ||
		    is_whole)
			return ret;
		return emit(md, data, len, is_end);
	}
	md->mode = is_end ? LM_START : LM_BODY;
	if ((ret = body_put(md, text, md->line.len, is_whole)) < 0 || is_whole)
		return ret;
	return body_put(md, data, len, is_end);
}

static int
feed_piece(struct mime_downgrade *md, const char *data, size_t len, bool is_end)
{
	int ret;

	switch (md->mode) {
	case LM_RAW:
		md->mode = is_end ? LM_START : LM_RAW;
		return emit(md, data, len, is_end);
	case LM_BODY:
		md->mode = is_end ? LM_START : LM_BODY;
		return body_put(md, data, len, is_end);
	case LM_START:
		strbuf_reset(&md->line);
		md->mode = LM_HOLD;
		break;
	case LM_HOLD:
		break;
	}
	if (md->state == ST_HEADER)
		ret = header_hold(md, data, len, is_end);
	else
		ret = body_hold(md, data, len, is_end);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The interface.                                                       */

struct mime_downgrade *
mime_downgrade_create(const struct mime_downgrade_limits *limits,
		      mime_downgrade_out_fn *out, void *ctx)
{
	struct mime_downgrade *md = xmalloc(sizeof(*md));
	size_t hold = limits->boundary_limit + 4;

	ASSERT(limits->nesting_limit > 0 && limits->boundary_limit > 0 &&
	       limits->header_limit > 0);
	md->lim = *limits;
	md->out = out;
	md->ctx = ctx;
	md->mode = LM_START;
	strbuf_init(&md->line,
		    hold > limits->header_limit ? hold : limits->header_limit);
	strbuf_init(&md->hdr, limits->header_limit);
	strbuf_init(&md->qp, 2 * QP_BREAK_AT);
	entity_start(md, false);
	return md;
}

void
mime_downgrade_destroy(struct mime_downgrade **mdp)
{
	struct mime_downgrade *md = *mdp;

	if (md == NULL)
		return;
	*mdp = NULL;
	levels_pop(md, 0);
	free(md->levels);
	strbuf_deinit(&md->line);
	strbuf_deinit(&md->hdr);
	strbuf_deinit(&md->qp);
	free(md->fail_text);
	free(md);
}

/* Run step under the caller's err; a failure is kept for later calls. */
static int
call_begin(struct mime_downgrade *md, struct err *err)
{
	md->err = err;
	if (!md->is_failed)
		return 0;
	err_set(err, "%s", md->fail_text);
	return md->fail_ret;
}

static int
call_end(struct mime_downgrade *md, int ret)
{
	if (ret < 0) {
		md->is_failed = true;
		md->fail_ret = ret;
		md->fail_text = xstrdup(md->err != NULL ? md->err->text
							: "conversion failed");
	}
	md->err = NULL;
	return ret;
}

int
mime_downgrade_feed(struct mime_downgrade *md, const char *data, size_t len,
		    bool is_line_end, struct err *err)
{
	int ret;

	if ((ret = call_begin(md, err)) < 0)
		return ret;
	return call_end(md, feed_piece(md, data, len, is_line_end));
}

int
mime_downgrade_finish(struct mime_downgrade *md, struct err *err)
{
	int ret;

	if ((ret = call_begin(md, err)) < 0)
		return ret;
	if (md->mode != LM_START)
		ret = feed_piece(md, "", 0, true);
	if (ret == 0 && md->state == ST_HEADER && (ret = header_flush(md)) == 0)
		ret = header_end(md);
	return call_end(md, ret);
}

bool
mime_downgrade_is_mime_error(const struct mime_downgrade *md)
{
	return md->is_mime_error;
}
