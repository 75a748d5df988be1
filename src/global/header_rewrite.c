/*
 * header_rewrite.c - rewrite the addresses of a sender or recipient header
 * and write it back with its display names, comments and groups.
 *
 * Three passes over one header: tokenize the value (atoms, quoted
 * strings, comments, domain literals, specials); walk the tokens by
 * element (between top-level ',' and ';', a group's "name:" set apart)
 * and collapse each element's address into one token, rewritten through
 * the callback; if any address changed, print the tokens with Postfix's
 * spacing and fold the result after commas. Input is untrusted: every
 * scan is bounded by the header's length and the token count by the
 * caller's limit.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"

#include "global/header_rewrite.h"
#include "global/mail_addr.h"

/* A folded line stays shorter than this (a leading TAB not counted). */
#define FOLD_WIDTH 70

#define NO_INDEX SIZE_MAX

enum tok_type {
	TOK_ATOM,
	TOK_QSTRING,
	TOK_COMMENT,
	TOK_DOMLIT,
	TOK_SPECIAL,
	TOK_GROUP, /* the ':' that opens a group */
	TOK_ADDR,  /* a whole address, as it will be written */
};

struct tok {
	enum tok_type type;
	const char *text; /* into the header (not TOK_ADDR) */
	size_t len;
	char *addr; /* TOK_ADDR: owned */
};

struct toks {
	struct tok *items;
	size_t count;
	size_t size;
};

/* The state of the element walk. */
struct walk {
	const struct tok *in;
	struct toks out;
	header_rewrite_fn *fn;
	void *ctx;
	bool is_changed;
	bool is_failed; /* the callback said no */
};

static const char *const sender_headers[] = {
	"From",
	"Sender",
	"Reply-To",
	"Errors-To",
	"Return-Receipt-To",
	"Disposition-Notification-To",
	"Mail-Followup-To",
	"Resent-From",
	"Resent-Sender",
	NULL,
};

static const char *const recipient_headers[] = {
	"To",        "Cc",        "Bcc",        "Apparently-To",
	"Resent-To", "Resent-Cc", "Resent-Bcc", "Resent-Reply-To",
	NULL,
};

/*
 * The header's name: up to ':' less trailing white space; 0 if none or if
 * it has a byte RFC 5322 does not allow in a name.
 */
static size_t
name_len(const char *text, size_t len)
{
	const char *colon = memchr(text, ':', len);
	size_t n;

	if (colon == NULL)
		return 0;
	n = (size_t)(colon - text);
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < n; i++)
		if (text[i] < 33 || text[i] > 126)
			return 0;
	return n;
}

static bool
name_in(const char *name, size_t len, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strlen(list[i]) == len &&
		    strncasecmp(list[i], name, len) == 0)
			return true;
	return false;
}

enum header_rewrite_class
header_rewrite_class(const char *text, size_t len)
{
	size_t n = name_len(text, len);

	if (n == 0)
		return HEADER_REWRITE_NONE;
	if (name_in(text, n, sender_headers))
		return HEADER_REWRITE_SENDER;
	if (name_in(text, n, recipient_headers))
		return HEADER_REWRITE_RECIPIENT;
	return HEADER_REWRITE_NONE;
}

static void
toks_add(struct toks *t, enum tok_type type, const char *text, size_t len,
	 char *addr)
{
	if (t->count == t->size) {
		t->size = t->size ? 2 * t->size : 16;
		t->items = xreallocarray(t->items, t->size, sizeof(*t->items));
	}
	t->items[t->count++] = (struct tok){
		.type = type, .text = text, .len = len, .addr = addr
	};
}

static void
toks_free(struct toks *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->items[i].addr);
	free(t->items);
	*t = (struct toks){ 0 };
}

/* Past the closing quote or bracket from text[i]; NO_INDEX if none. */
static size_t
scan_delimited(const char *text, size_t len, size_t i, char close)
{
	for (i++; i < len; i++) {
		if (text[i] == '\\')
			i++;
		else if (text[i] == close)
			return i + 1;
	}
	return NO_INDEX;
}

/* Past a (possibly nested) comment from text[i]; NO_INDEX if open. */
static size_t
scan_comment(const char *text, size_t len, size_t i)
{
	size_t depth = 0;

	for (; i < len; i++) {
		if (text[i] == '\\')
			i++;
		else if (text[i] == '(')
			depth++;
		else if (text[i] == ')' && --depth == 0)
			return i + 1;
	}
	return NO_INDEX;
}

static bool
is_atom_char(char ch)
{
	return strchr(" \t\r\n()<>@,;:\".[]", ch) == NULL;
}

/* Past an atom from text[i] ('\\' quotes the next byte). */
static size_t
scan_atom(const char *text, size_t len, size_t i)
{
	while (i < len && (is_atom_char(text[i]) || text[i] == '\\'))
		i += text[i] == '\\' && i + 1 < len ? 2 : 1;
	return i;
}

/* One token from text[i]: its type and end; NO_INDEX if malformed. */
static size_t
scan_token(const char *text, size_t len, size_t i, enum tok_type *type_out)
{
	switch (text[i]) {
	case '"':
		*type_out = TOK_QSTRING;
		return scan_delimited(text, len, i, '"');
	case '[':
		*type_out = TOK_DOMLIT;
		return scan_delimited(text, len, i, ']');
	case '(':
		*type_out = TOK_COMMENT;
		return scan_comment(text, len, i);
	case ')':
	case ']':
	case '\0':
		return NO_INDEX;
	}
	if (!is_atom_char(text[i])) {
		*type_out = TOK_SPECIAL;
		return i + 1;
	}
	*type_out = TOK_ATOM;
	return scan_atom(text, len, i);
}

/* Tokenize a header value; -1 if malformed or too long. */
static int
tokenize(const char *text, size_t len, size_t limit, struct toks *out)
{
	size_t i = 0;
	size_t end;
	enum tok_type type;

	if (memchr(text, '\0', len) != NULL)
		return -1;
	while (i < len) {
		if (strchr(" \t\r\n", text[i]) != NULL) {
			i++;
			continue;
		}
		end = scan_token(text, len, i, &type);
		if (end == NO_INDEX || end > len || out->count >= limit)
			return -1;
		toks_add(out, type, text + i, end - i, NULL);
		i = end;
	}
	return 0;
}

static bool
is_special(const struct tok *t, char ch)
{
	return t->type == TOK_SPECIAL && t->text[0] == ch;
}

/* The address in internal form: quotes and backslashes taken away. */
static void
append_internal(struct strbuf *sb, const struct tok *t)
{
	size_t from = t->type == TOK_QSTRING ? 1 : 0;
	size_t to = t->type == TOK_QSTRING ? t->len - 1 : t->len;

	if (t->type == TOK_DOMLIT) {
		(void)strbuf_append(sb, t->text, t->len);
		return;
	}
	for (size_t i = from; i < to; i++) {
		if (t->text[i] == '\\' && i + 1 < to)
			i++;
		(void)strbuf_append_char(sb, (unsigned char)t->text[i]);
	}
}

/* Collapse the address tokens (not comments) of in[a..z) into one. */
static int
take_addr(struct walk *w, size_t a, size_t z)
{
	struct strbuf internal;
	struct strbuf raw;
	char *addr;
	int ret = 0;

	strbuf_init(&internal, STRBUF_UNLIMITED);
	strbuf_init(&raw, STRBUF_UNLIMITED);
	for (size_t i = a; i < z; i++) {
		if (w->in[i].type == TOK_COMMENT)
			continue;
		append_internal(&internal, &w->in[i]);
		(void)strbuf_append(&raw, w->in[i].text, w->in[i].len);
	}
	addr = xstrdup(strbuf_text(&internal));
	if (w->fn(&addr, w->ctx) < 0) {
		w->is_failed = true;
		ret = -1;
	} else if (strcmp(addr, strbuf_text(&internal)) != 0) {
		toks_add(&w->out, TOK_ADDR, NULL, 0, mail_addr_quote(addr));
		w->is_changed = true;
	} else {
		toks_add(&w->out, TOK_ADDR, NULL, 0,
			 xstrdup(strbuf_text(&raw)));
	}
	free(addr);
	strbuf_deinit(&internal);
	strbuf_deinit(&raw);
	return ret;
}

static void
copy_toks(struct walk *w, size_t a, size_t z, bool is_comments_only)
{
	for (size_t i = a; i < z; i++) {
		const struct tok *t = &w->in[i];

		if (!is_comments_only || t->type == TOK_COMMENT)
			toks_add(&w->out, t->type, t->text, t->len, NULL);
	}
}

/*
 * The address of in[a..z) (no angle brackets) goes where its first token
 * was; comments keep their order around it.
 */
static int
take_bare(struct walk *w, size_t a, size_t z)
{
	size_t first = a;

	while (first < z && w->in[first].type == TOK_COMMENT)
		first++;
	copy_toks(w, a, first, false);
	if (first == z)
		return 0;
	if (take_addr(w, first, z) < 0)
		return -1;
	copy_toks(w, first + 1, z, true);
	return 0;
}

/* One element "phrase <addr> (comment)" or "addr (comment)". */
static int
take_element(struct walk *w, size_t a, size_t z)
{
	size_t lt = NO_INDEX;
	size_t gt = NO_INDEX;
	size_t i;

	for (i = a; i < z; i++) {
		if (is_special(&w->in[i], '<')) {
			if (lt != NO_INDEX)
				return -1;
			lt = i;
		} else if (is_special(&w->in[i], '>')) {
			if (lt == NO_INDEX || gt != NO_INDEX)
				return -1;
			gt = i;
		}
	}
	if (lt == NO_INDEX)
		return take_bare(w, a, z);
	if (gt == NO_INDEX)
		return -1;
	copy_toks(w, a, lt + 1, false);
	for (i = lt + 1; i < gt && w->in[i].type == TOK_COMMENT; i++)
		;
	if (i < gt && take_addr(w, lt + 1, gt) < 0)
		return -1;
	copy_toks(w, lt + 1, gt, true);
	copy_toks(w, gt, z, false);
	return 0;
}

/* Split the tokens into elements and groups; -1: malformed or fn. */
static int
walk_elements(struct walk *w, size_t count)
{
	bool in_angle = false;
	bool in_group = false;
	size_t a = 0;

	for (size_t i = 0; i < count; i++) {
		const struct tok *t = &w->in[i];

		if (t->type != TOK_SPECIAL)
			continue;
		if (t->text[0] == '<' || t->text[0] == '>')
			in_angle = t->text[0] == '<';
		if (in_angle || strchr(",;:", t->text[0]) == NULL ||
		    (t->text[0] == ':' && in_group))
			continue;
		if (t->text[0] == ':') {
			copy_toks(w, a, i, false);
			toks_add(&w->out, TOK_GROUP, t->text, 1, NULL);
			in_group = true;
		} else {
			if (take_element(w, a, i) < 0)
				return -1;
			toks_add(&w->out, TOK_SPECIAL, t->text, 1, NULL);
			in_group = in_group && t->text[0] != ';';
		}
		a = i + 1;
	}
	return take_element(w, a, count);
}

static bool
is_word(const struct tok *t)
{
	return t->type != TOK_SPECIAL && t->type != TOK_GROUP;
}

/*
 * Print the tokens: a newline after each ',' (fold points), a space after
 * a group's ':', before '<', and between two words.
 */
static void
print_toks(const struct toks *t, struct strbuf *sb)
{
	for (size_t i = 0; i < t->count; i++) {
		const struct tok *tok = &t->items[i];
		const struct tok *next = i + 1 < t->count ? tok + 1 : NULL;

		if (tok->type == TOK_ADDR)
			(void)strbuf_append_str(sb, tok->addr);
		else
			(void)strbuf_append(sb, tok->text, tok->len);
		if (is_special(tok, ',')) {
			(void)strbuf_append_char(sb, '\n');
			continue;
		}
		if (next != NULL &&
		    (tok->type == TOK_GROUP || is_special(next, '<') ||
		     (is_word(tok) && is_word(next))))
			(void)strbuf_append_char(sb, ' ');
	}
}

/* "Name: " and the pieces, joined by a space while the line fits. */
static void
fold(const char *name, size_t nlen, const char *body, struct strbuf *out)
{
	size_t line_start = 0;
	const char *piece = body;
	const char *nl;
	size_t plen;

	strbuf_reset(out);
	(void)strbuf_append(out, name, nlen);
	(void)strbuf_append_str(out, ": ");
	for (;;) {
		nl = strchr(piece, '\n');
		plen = nl != NULL ? (size_t)(nl - piece) : strlen(piece);
		if (piece == body) {
			/* the first piece follows the name */
		} else if (strbuf_len(out) - line_start + 1 + plen <
			   FOLD_WIDTH) {
			(void)strbuf_append_char(out, ' ');
		} else {
			(void)strbuf_append_str(out, "\n\t");
			line_start = strbuf_len(out);
		}
		(void)strbuf_append(out, piece, plen);
		if (nl == NULL)
			break;
		piece = nl + 1;
	}
}

int
header_rewrite(const char *text, size_t len, size_t token_limit,
	       header_rewrite_fn *fn, void *ctx, struct strbuf *out)
{
	size_t nlen = name_len(text, len);
	const char *colon = memchr(text, ':', len);
	struct toks in = { 0 };
	struct walk w = { .fn = fn, .ctx = ctx };
	struct strbuf body;
	int ret = 0;

	if (nlen == 0 || colon == NULL)
		return 0;
	if (tokenize(colon + 1, len - (size_t)(colon + 1 - text), token_limit,
		     &in) < 0) {
		toks_free(&in);
		return 0;
	}
	w.in = in.items;
	strbuf_init(&body, STRBUF_UNLIMITED);
	if (walk_elements(&w, in.count) < 0) {
		/* malformed: left alone; or the callback gave up */
		ret = w.is_failed ? -1 : 0;
	} else if (w.is_changed) {
		print_toks(&w.out, &body);
		fold(text, nlen, strbuf_text(&body), out);
		ret = 1;
	}
	strbuf_deinit(&body);
	toks_free(&w.out);
	toks_free(&in);
	return ret;
}
