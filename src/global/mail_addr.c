/*
 * mail_addr.c - SMTP path parsing and the internal/external address forms.
 *
 * The path text is cut at the first white space outside <>, quotes,
 * comments and [literals]; the rest is the ESMTP parameter text. The path
 * is lexed into RFC 5322 tokens (words, quoted strings, literals,
 * specials; comments and white space dropped), brackets are peeled off,
 * an optional source route removed, and the mailbox checked and joined
 * into the internal form. Quoting, splitting and the routing helpers are
 * in mail_addr_route.c.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/utf8.h"

#include "global/mail_addr.h"

/* A path longer than this cannot give an address within the cap. */
#define PATH_TOKEN_MAX (2 * MAIL_ADDR_MAX_LEN)

enum tok_type {
	TOK_ATOM,    /* atext run, backslash escapes resolved */
	TOK_QSTR,    /* quoted string, quotes and escapes removed */
	TOK_DLIT,    /* [domain literal], brackets kept */
	TOK_SPECIAL, /* one of < > @ , : ; . */
};

struct tok {
	enum tok_type type;
	char ch;      /* TOK_SPECIAL only */
	size_t start; /* text in lex.text */
	size_t len;
};

struct lex {
	struct tok *toks;
	size_t count;
	size_t cap;
	struct strbuf text; /* decoded token text, back to back */
};

static bool
is_ws(int ch)
{
	return ch == ' ' || ch == '\t' || ch == '\v' || ch == '\f';
}

static bool
is_ctl(int ch)
{
	return ch < 0x20 || ch == 0x7f;
}

static bool
is_special(int ch)
{
	return strchr("<>@,:;.", ch) != NULL && ch != 0;
}

/* Where the path token that starts at text ends (index of the first byte
 * after it). Unbalanced groups make the token run to the end. */
static size_t
path_token_end(const char *text)
{
	int angle = 0;
	int paren = 0;
	bool quote = false;
	bool literal = false;
	size_t i;

	for (i = 0; text[i]; i++) {
		int ch = (unsigned char)text[i];

		if (ch == '\\' && (quote || paren || literal) && text[i + 1]) {
			i++;
			continue;
		}
		if (quote) {
			quote = ch != '"';
		} else if (literal) {
			literal = ch != ']';
		} else if (paren) {
			paren += (ch == '(') - (ch == ')');
		} else if (ch == '"') {
			quote = true;
		} else if (ch == '[') {
			literal = true;
		} else if (ch == '(') {
			paren = 1;
		} else if (ch == '<') {
			angle++;
		} else if (ch == '>' && angle > 0) {
			angle--;
		} else if (is_ws(ch) && angle == 0) {
			break;
		}
	}
	return i;
}

static void
lex_push(struct lex *lx, enum tok_type type, char ch, size_t start)
{
	if (lx->count == lx->cap) {
		lx->cap = lx->cap ? 2 * lx->cap : 16;
		lx->toks = xreallocarray(lx->toks, lx->cap, sizeof(*lx->toks));
	}
	lx->toks[lx->count].type = type;
	lx->toks[lx->count].ch = ch;
	lx->toks[lx->count].start = start;
	lx->toks[lx->count].len = lx->text.len - start;
	lx->count++;
}

/* The byte after a backslash: anything printable (UTF-8 included). */
static int
lex_escape(const char *p, size_t i, size_t len, struct err *err)
{
	if (i + 1 >= len || is_ctl((unsigned char)p[i + 1])) {
		err_set(err, "bad backslash escape");
		return -1;
	}
	return 0;
}

static int
lex_quoted(struct lex *lx, const char *p, size_t len, size_t *ip,
	   struct err *err)
{
	size_t start = lx->text.len;
	size_t i = *ip + 1;

	for (; i < len && p[i] != '"'; i++) {
		if (p[i] == '\\') {
			if (lex_escape(p, i, len, err) < 0)
				return -1;
			i++;
		} else if (is_ctl((unsigned char)p[i])) {
			err_set(err, "control character in quoted string");
			return -1;
		}
		strbuf_append_char(&lx->text, p[i]);
	}
	if (i >= len) {
		err_set(err, "unterminated quoted string");
		return -1;
	}
	lex_push(lx, TOK_QSTR, 0, start);
	*ip = i + 1;
	return 0;
}

static int
lex_literal(struct lex *lx, const char *p, size_t len, size_t *ip,
	    struct err *err)
{
	size_t start = lx->text.len;
	size_t i = *ip + 1;

	strbuf_append_char(&lx->text, '[');
	for (; i < len && p[i] != ']'; i++) {
		int ch = (unsigned char)p[i];

		if (is_ctl(ch) || ch == '[' || ch == '\\' || ch >= 0x80) {
			err_set(err, "bad character in address literal");
			return -1;
		}
		strbuf_append_char(&lx->text, ch);
	}
	if (i >= len) {
		err_set(err, "unterminated address literal");
		return -1;
	}
	strbuf_append_char(&lx->text, ']');
	lex_push(lx, TOK_DLIT, 0, start);
	*ip = i + 1;
	return 0;
}

static int
lex_comment(const char *p, size_t len, size_t *ip, bool strict, struct err *err)
{
	int depth = 0;
	size_t i = *ip;

	if (strict) {
		err_set(err, "comment in strict RFC 821 path");
		return -1;
	}
	for (; i < len; i++) {
		if (p[i] == '\\') {
			if (lex_escape(p, i, len, err) < 0)
				return -1;
			i++;
		} else if (is_ctl((unsigned char)p[i])) {
			err_set(err, "control character in comment");
			return -1;
		} else if (p[i] == '(') {
			depth++;
		} else if (p[i] == ')' && --depth == 0) {
			*ip = i + 1;
			return 0;
		}
	}
	err_set(err, "unterminated comment");
	return -1;
}

static bool
is_atom_char(int ch)
{
	return !is_ctl(ch) && !is_ws(ch) && !is_special(ch) &&
	       strchr("\"()[]\\", ch) == NULL;
}

static int
lex_atom(struct lex *lx, const char *p, size_t len, size_t *ip, struct err *err)
{
	size_t start = lx->text.len;
	size_t i = *ip;

	while (i < len) {
		if (p[i] == '\\') {
			if (lex_escape(p, i, len, err) < 0)
				return -1;
			i++;
		} else if (!is_atom_char((unsigned char)p[i])) {
			break;
		}
		strbuf_append_char(&lx->text, p[i]);
		i++;
	}
	lex_push(lx, TOK_ATOM, 0, start);
	*ip = i;
	return 0;
}

/* Split the path token into tokens; -1 with err set on bad syntax. */
static int
lex_path(struct lex *lx, const char *p, size_t len, bool strict,
	 struct err *err)
{
	size_t i = 0;

	while (i < len) {
		int ch = (unsigned char)p[i];
		int rc = 0;

		if (is_ws(ch)) {
			i++;
		} else if (ch == '"') {
			rc = lex_quoted(lx, p, len, &i, err);
		} else if (ch == '[') {
			rc = lex_literal(lx, p, len, &i, err);
		} else if (ch == '(') {
			rc = lex_comment(p, len, &i, strict, err);
		} else if (is_special(ch)) {
			lex_push(lx, TOK_SPECIAL, (char)ch, lx->text.len);
			i++;
		} else if (ch == '\\' || is_atom_char(ch)) {
			rc = lex_atom(lx, p, len, &i, err);
		} else if (is_ctl(ch)) {
			err_set(err, "control character in address");
			return -1;
		} else {
			err_set(err, "unexpected '%c' in address", ch);
			return -1;
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

static bool
tok_is(const struct tok *t, char ch)
{
	return t->type == TOK_SPECIAL && t->ch == ch;
}

static bool
tok_is_word(const struct tok *t)
{
	return t->type == TOK_ATOM || t->type == TOK_QSTR;
}

/* Index of the first '<' in [lo, hi), or hi. */
static size_t
find_open(const struct lex *lx, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++)
		if (tok_is(&lx->toks[i], '<'))
			return i;
	return hi;
}

/* Words and dots only: a display name before "<". */
static bool
is_phrase(const struct lex *lx, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++)
		if (!tok_is_word(&lx->toks[i]) && !tok_is(&lx->toks[i], '.'))
			return false;
	return true;
}

/* Peel "<...>" (and, lenient, "phrase <...>") off [*lo, *hi). */
static int
unwrap_brackets(const struct lex *lx, size_t *lo, size_t *hi, bool strict,
		struct err *err)
{
	bool had_brackets = false;

	for (;;) {
		size_t open = find_open(lx, *lo, *hi);

		if (!strict && open > *lo && open < *hi &&
		    tok_is(&lx->toks[*hi - 1], '>') && is_phrase(lx, *lo, open))
			*lo = open;
		if (*hi - *lo < 2 || !tok_is(&lx->toks[*lo], '<') ||
		    !tok_is(&lx->toks[*hi - 1], '>'))
			break;
		(*lo)++;
		(*hi)--;
		had_brackets = true;
	}
	if (strict && !had_brackets) {
		err_set(err, "path without <> (strict_rfc821_envelopes)");
		return -1;
	}
	for (size_t i = *lo; i < *hi; i++) {
		if (tok_is(&lx->toks[i], '<') || tok_is(&lx->toks[i], '>')) {
			err_set(err, "unbalanced or misplaced <>");
			return -1;
		}
	}
	return 0;
}

static const char *
tok_text(const struct lex *lx, const struct tok *t)
{
	return lx->text.data + t->start;
}

/*
 * Join domain tokens [lo, hi) into out: one literal, or atoms separated
 * by dots. Returns -1 for anything else.
 */
static int
join_domain(const struct lex *lx, size_t lo, size_t hi, struct strbuf *out)
{
	const struct tok *prev = NULL;

	if (lo >= hi)
		return -1;
	if (lx->toks[lo].type == TOK_DLIT)
		return hi - lo == 1
			       ? strbuf_append(out, tok_text(lx, &lx->toks[lo]),
					       lx->toks[lo].len)
			       : -1;
	for (size_t i = lo; i < hi; i++) {
		const struct tok *t = &lx->toks[i];

		if (t->type == TOK_ATOM) {
			if (prev && prev->type == TOK_ATOM)
				return -1;
			if (strbuf_append(out, tok_text(lx, t), t->len) < 0)
				return -1;
		} else if (tok_is(t, '.')) {
			if (strbuf_append_char(out, '.') < 0)
				return -1;
		} else {
			return -1;
		}
		prev = t;
	}
	return 0;
}

/* Skip a source route "@d1,@d2:" at *lo if there is one. */
static int
skip_route(const struct lex *lx, size_t *lo, size_t hi, bool *had_route,
	   struct err *err)
{
	size_t i = *lo;

	while (i < hi && tok_is(&lx->toks[i], '@')) {
		size_t start = ++i;
		struct strbuf dom;
		int rc;

		while (i < hi && (lx->toks[i].type == TOK_ATOM ||
				  lx->toks[i].type == TOK_DLIT ||
				  tok_is(&lx->toks[i], '.')))
			i++;
		if (i >= hi ||
		    !(tok_is(&lx->toks[i], ',') || tok_is(&lx->toks[i], ':')))
			return 0; /* not a route: "@dom" mailbox or junk */
		strbuf_init(&dom, MAIL_ADDR_DOMAIN_MAX + 1);
		rc = join_domain(lx, start, i, &dom);
		if (rc == 0 &&
		    !mail_addr_domain_is_valid(dom.data, dom.len, true))
			rc = -1;
		strbuf_deinit(&dom);
		if (rc < 0) {
			err_set(err, "bad domain in source route");
			return -1;
		}
		if (tok_is(&lx->toks[i++], ':')) {
			if (i >= hi) {
				err_set(err, "source route without mailbox");
				return -1;
			}
			*lo = i;
			*had_route = true;
			return 0;
		}
	}
	if (i > *lo) {
		err_set(err, "bad source route");
		return -1;
	}
	return 0;
}

/* Index of the last '@' in [lo, hi), or hi. */
static size_t
find_last_at(const struct lex *lx, size_t lo, size_t hi)
{
	for (size_t i = hi; i > lo; i--)
		if (tok_is(&lx->toks[i - 1], '@'))
			return i - 1;
	return hi;
}

/* Local part tokens [lo, hi) into out: words, dots and '@', no two
 * words in a row. */
static int
join_local(const struct lex *lx, size_t lo, size_t hi, struct strbuf *out,
	   struct err *err)
{
	const struct tok *prev = NULL;

	for (size_t i = lo; i < hi; i++) {
		const struct tok *t = &lx->toks[i];

		if (tok_is_word(t)) {
			if (prev && tok_is_word(prev)) {
				err_set(err, "words without '.' in local part");
				return -1;
			}
			if (strbuf_append(out, tok_text(lx, t), t->len) < 0)
				goto too_long;
		} else if (tok_is(t, '.') || tok_is(t, '@')) {
			if (strbuf_append_char(out, t->ch) < 0)
				goto too_long;
		} else if (t->type == TOK_DLIT) {
			err_set(err, "address literal in local part");
			return -1;
		} else {
			err_set(err, "unexpected '%c' in local part", t->ch);
			return -1;
		}
		prev = t;
	}
	return 0;
too_long:
	err_set(err, "address longer than %d bytes", MAIL_ADDR_MAX_LEN);
	return -1;
}

/* Build the internal form of the mailbox [lo, hi) into out. */
static int
build_mailbox(const struct lex *lx, size_t lo, size_t hi, int flags,
	      struct strbuf *out, struct err *err)
{
	size_t at = find_last_at(lx, lo, hi);
	struct strbuf dom;
	int rc = -1;

	if (join_local(lx, lo, at, out, err) < 0)
		return -1;
	if (at == hi) {
		/* "a@b" would read back as local part "a", domain "b". */
		if (memchr(out->data, '@', out->len)) {
			err_set(err, "'@' in local part without domain");
			return -1;
		}
		return 0;
	}
	if (out->len == 0 && (flags & MAIL_ADDR_FLAG_STRICT_RFC821)) {
		err_set(err, "empty local part");
		return -1;
	}
	/* One byte over the domain limit is enough to see it is too long. */
	strbuf_init(&dom, MAIL_ADDR_DOMAIN_MAX + 2);
	if (join_domain(lx, at + 1, hi, &dom) < 0 ||
	    !mail_addr_domain_is_valid(dom.data, dom.len, true))
		err_set(err, "bad domain syntax");
	else if (strbuf_append_char(out, '@') < 0 ||
		 strbuf_append(out, dom.data, dom.len) < 0)
		err_set(err, "address longer than %d bytes", MAIL_ADDR_MAX_LEN);
	else
		rc = 0;
	strbuf_deinit(&dom);
	return rc;
}

static void
lex_free(struct lex *lx)
{
	free(lx->toks);
	strbuf_deinit(&lx->text);
}

/* The path token p[0..len) into the internal form in out. */
static enum mail_addr_status
parse_token(const char *p, size_t len, enum mail_addr_role role, int flags,
	    struct strbuf *out, bool *had_route, struct err *err)
{
	bool strict = (flags & MAIL_ADDR_FLAG_STRICT_RFC821) != 0;
	struct lex lx = { 0 };
	size_t lo = 0;
	size_t hi;
	int rc = -1;

	strbuf_init(&lx.text, STRBUF_UNLIMITED);
	if (lex_path(&lx, p, len, strict, err) < 0)
		goto done;
	hi = lx.count;
	if (unwrap_brackets(&lx, &lo, &hi, strict, err) < 0 ||
	    (lo < hi && skip_route(&lx, &lo, hi, had_route, err) < 0) ||
	    build_mailbox(&lx, lo, hi, flags, out, err) < 0)
		goto done;
	if (out->len == 0 && role == MAIL_ADDR_RECIPIENT) {
		err_set(err, "null recipient address");
		goto done;
	}
	rc = 0;
done:
	lex_free(&lx);
	if (rc < 0)
		return MAIL_ADDR_ERR_SYNTAX;
	if (!utf8_is_valid(out->data, out->len)) {
		err_set(err, "malformed UTF-8 in address");
		return MAIL_ADDR_ERR_SYNTAX;
	}
	return MAIL_ADDR_OK;
}

enum mail_addr_status
mail_addr_parse_path(const char *text, enum mail_addr_role role, int flags,
		     struct mail_addr_path *out, struct err *err)
{
	struct strbuf addr;
	enum mail_addr_status status;
	bool had_route = false;
	size_t end;
	const char *rest;
	size_t rest_len;

	memset(out, 0, sizeof(*out));
	while (is_ws((unsigned char)*text))
		text++;
	end = path_token_end(text);
	if (end == 0) {
		err_set(err, "missing address");
		return MAIL_ADDR_ERR_SYNTAX;
	}
	if (end > PATH_TOKEN_MAX) {
		err_set(err, "address longer than %d bytes", MAIL_ADDR_MAX_LEN);
		return MAIL_ADDR_ERR_SYNTAX;
	}
	strbuf_init(&addr, MAIL_ADDR_MAX_LEN);
	status = parse_token(text, end, role, flags, &addr, &had_route, err);
	if (status != MAIL_ADDR_OK) {
		strbuf_deinit(&addr);
		return status;
	}
	for (rest = text + end; is_ws((unsigned char)*rest); rest++)
		;
	for (rest_len = strlen(rest);
	     rest_len > 0 && is_ws((unsigned char)rest[rest_len - 1]);
	     rest_len--)
		;
	out->addr = xstrndup(addr.data, addr.len);
	out->params = xstrndup(rest, rest_len);
	out->had_route = had_route;
	strbuf_deinit(&addr);
	return MAIL_ADDR_OK;
}

void
mail_addr_path_free(struct mail_addr_path *path)
{
	free(path->addr);
	free(path->params);
	memset(path, 0, sizeof(*path));
}

const char *
mail_addr_reply(enum mail_addr_status status, enum mail_addr_role role)
{
	switch (status) {
	case MAIL_ADDR_OK:
		break;
	case MAIL_ADDR_ERR_SYNTAX:
		return role == MAIL_ADDR_SENDER
			       ? "501 5.1.7 Bad sender address syntax"
			       : "501 5.1.3 Bad recipient address syntax";
	case MAIL_ADDR_ERR_NEED_SMTPUTF8:
		return "553 5.6.7 Must declare SMTPUTF8 to send unicode "
		       "address";
	}
	return role == MAIL_ADDR_SENDER ? "250 2.1.0 Ok" : "250 2.1.5 Ok";
}

/* IPv4 dotted quad, 1-3 digits per part (leading zeros allowed). */
static bool
is_ipv4(const char *p, size_t len)
{
	int parts = 0;
	size_t i = 0;

	while (parts < 4) {
		unsigned value = 0;
		size_t digits = 0;

		while (i < len && p[i] >= '0' && p[i] <= '9' && digits < 4) {
			value = value * 10 + (unsigned)(p[i++] - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || value > 255)
			return false;
		if (++parts < 4 && (i >= len || p[i++] != '.'))
			return false;
	}
	return i == len;
}

static bool
is_address_literal(const char *p, size_t len)
{
	if (len < 3 || p[len - 1] != ']')
		return false;
	p++;
	len -= 2;
	if (len > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		char buf[INET6_ADDRSTRLEN + 1];
		struct in6_addr in6;

		if (len - 5 >= sizeof(buf) || memchr(p + 5, '%', len - 5))
			return false;
		memcpy(buf, p + 5, len - 5);
		buf[len - 5] = 0;
		return inet_pton(AF_INET6, buf, &in6) == 1;
	}
	return is_ipv4(p, len);
}

static bool
is_label_char(int ch, bool allow_utf8)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
	       (allow_utf8 && ch >= 0x80);
}

static bool
is_hostname(const char *p, size_t len, bool allow_utf8)
{
	size_t label = 0;
	bool all_numeric = true;

	if (len > 0 && p[len - 1] == '.')
		len--;
	if (len == 0 || len > MAIL_ADDR_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		int ch = i < len ? (unsigned char)p[i] : '.';

		if (ch == '.') {
			if (label == 0 || p[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!is_label_char(ch, allow_utf8) ||
		    (label == 0 && ch == '-') || ++label > MAIL_ADDR_LABEL_MAX)
			return false;
		if (ch < '0' || ch > '9')
			all_numeric = false;
	}
	return !all_numeric && (!allow_utf8 || utf8_is_valid(p, len));
}

enum mail_addr_status
mail_addr_check_8bit(const char *addr, int flags, struct err *err)
{
	struct mail_addr_parts parts;

	if (flags & MAIL_ADDR_FLAG_SMTPUTF8)
		return MAIL_ADDR_OK;
	mail_addr_split(addr, &parts);
	if (parts.domain && utf8_has_8bit(parts.domain, strlen(parts.domain))) {
		err_set(err, "UTF-8 domain without SMTPUTF8");
		return MAIL_ADDR_ERR_SYNTAX;
	}
	if ((flags & MAIL_ADDR_FLAG_STRICT_SMTPUTF8) &&
	    utf8_has_8bit(parts.local, parts.local_len)) {
		err_set(err, "UTF-8 address without SMTPUTF8");
		return MAIL_ADDR_ERR_NEED_SMTPUTF8;
	}
	return MAIL_ADDR_OK;
}

bool
mail_addr_domain_is_valid(const char *domain, size_t len, bool allow_utf8)
{
	if (len > 0 && domain[0] == '[')
		return is_address_literal(domain, len);
	return is_hostname(domain, len, allow_utf8);
}
