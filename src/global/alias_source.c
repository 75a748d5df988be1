/*
 * alias_source.c - aliases(5) files, and the address lists in alias values.
 *
 * A small RFC 822 scanner (atoms, quoted strings, comments, domain
 * literals and one-character operators) feeds two writers: "internal" form
 * (quoted strings unquoted, for alias names and delivery targets) and
 * "external" form (quoted strings re-quoted, for stored values). Both put a
 * space between two adjacent words and before '<', and ", " after a comma,
 * which is the normal form Postfix's postalias stores. An atom that holds a
 * special character once its backslash escapes are undone (a\.b) becomes
 * a quoted string ("a.b"), as in Postfix.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "global/alias_source.h"
#include "util/mymalloc.h"

/* Token types besides the one-character operators. */
#define TOK_ATOM 256
#define TOK_QSTRING 257
#define TOK_COMMENT 258
#define TOK_DOMLIT 259

/* RFC 822 specials, plus the operators Postfix adds for UUCP, %-hack and
 * command addresses. */
static const char specials[] = "()<>@,;:\\\".[]|%!";

struct tok {
	int type;
	size_t off; /* text in tok_list.text */
	size_t len;
};

struct tok_list {
	struct tok *items;
	size_t count;
	size_t cap;
	struct strbuf text;
};

/* ---- Scanning --------------------------------------------------------- */

static void
tok_list_init(struct tok_list *tl)
{
	memset(tl, 0, sizeof(*tl));
	strbuf_init(&tl->text, STRBUF_UNLIMITED);
}

static void
tok_list_deinit(struct tok_list *tl)
{
	free(tl->items);
	strbuf_deinit(&tl->text);
}

static struct tok *
tok_add(struct tok_list *tl, int type)
{
	struct tok *t;

	if (tl->count == tl->cap) {
		tl->cap = tl->cap ? 2 * tl->cap : 16;
		tl->items = xreallocarray(tl->items, tl->cap, sizeof(*t));
	}
	t = &tl->items[tl->count++];
	t->type = type;
	t->off = strbuf_len(&tl->text);
	t->len = 0;
	return t;
}

/* Append one byte to the text of the last token. */
static void
tok_put(struct tok_list *tl, char ch)
{
	strbuf_append_char(&tl->text, ch);
	tl->items[tl->count - 1].len++;
}

static const char *
tok_text(const struct tok_list *tl, const struct tok *t)
{
	return tl->text.data + t->off;
}

static bool
is_special(int ch)
{
	return ch != 0 && strchr(specials, ch) != NULL;
}

/* "(...)", nested, kept as written; an open comment runs to the end. */
static const char *
scan_comment(struct tok_list *tl, const char *cp)
{
	int depth = 0;

	tok_add(tl, TOK_COMMENT);
	for (; *cp != 0; cp++) {
		tok_put(tl, *cp);
		if (*cp == '\\' && cp[1] != 0) {
			tok_put(tl, *++cp);
		} else if (*cp == '(') {
			depth++;
		} else if (*cp == ')' && --depth == 0) {
			return cp + 1;
		}
	}
	return cp;
}

/* Text up to the closing delimiter; backslash escapes are undone unless
 * keep_escapes (domain literals). */
static const char *
scan_quoted(struct tok_list *tl, const char *cp, int type, char close,
            bool keep_escapes)
{
	tok_add(tl, type);
	for (; *cp != 0 && *cp != close; cp++) {
		if (*cp == '\\') {
			if (cp[1] == 0)
				break; /* a lone trailing backslash goes */
			if (keep_escapes)
				tok_put(tl, *cp);
			cp++;
		}
		tok_put(tl, *cp);
	}
	return *cp == close ? cp + 1 : cp;
}

static bool
needs_quotes(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch == ' ' || iscntrl(ch) || is_special(ch))
			return true;
	}
	return false;
}

static const char *
scan_atom(struct tok_list *tl, const char *cp)
{
	struct tok *t = tok_add(tl, TOK_ATOM);

	while (*cp != 0 && !isspace((unsigned char)*cp) &&
	       (*cp == '\\' || !is_special(*cp))) {
		if (*cp == '\\' && *++cp == 0)
			break;
		tok_put(tl, *cp++);
	}
	if (t->len == 0)
		tl->count--; /* a lone trailing backslash */
	else if (needs_quotes(tok_text(tl, t), t->len))
		t->type = TOK_QSTRING;
	return cp;
}

static void
tok_scan(struct tok_list *tl, const char *cp)
{
	while (*cp != 0) {
		if (isspace((unsigned char)*cp)) {
			cp++;
		} else if (*cp == '(') {
			cp = scan_comment(tl, cp);
		} else if (*cp == '"') {
			cp = scan_quoted(tl, cp + 1, TOK_QSTRING, '"', false);
		} else if (*cp == '[') {
			cp = scan_quoted(tl, cp + 1, TOK_DOMLIT, ']', true);
		} else if (*cp != '\\' && is_special(*cp)) {
			tok_add(tl, (unsigned char)*cp++);
		} else {
			cp = scan_atom(tl, cp);
		}
	}
}

/* ---- Writing ---------------------------------------------------------- */

static bool
is_word(const struct tok *t)
{
	return t->type >= TOK_ATOM;
}

/* Write tokens [from, to) in external (want_quotes) or internal form. */
static void
tok_write(const struct tok_list *tl, size_t from, size_t to, bool want_quotes,
          struct strbuf *out)
{
	for (size_t i = from; i < to; i++) {
		const struct tok *t = &tl->items[i];
		const char *text = tok_text(tl, t);

		switch (t->type) {
		case ',':
			strbuf_append_str(out, ", ");
			continue;
		case TOK_ATOM:
		case TOK_COMMENT:
			strbuf_append(out, text, t->len);
			break;
		case TOK_DOMLIT:
			strbuf_append_char(out, '[');
			strbuf_append(out, text, t->len);
			strbuf_append_char(out, ']');
			break;
		case TOK_QSTRING:
			if (!want_quotes) {
				strbuf_append(out, text, t->len);
				break;
			}
			strbuf_append_char(out, '"');
			for (size_t j = 0; j < t->len; j++) {
				if (strchr("\"\\\r\n", text[j]) != NULL)
					strbuf_append_char(out, '\\');
				strbuf_append_char(out, text[j]);
			}
			strbuf_append_char(out, '"');
			break;
		default:
			strbuf_append_char(out, t->type);
			break;
		}
		if (i + 1 < to && (tl->items[i + 1].type == '<' ||
		                   (is_word(t) && is_word(&tl->items[i + 1]))))
			strbuf_append_char(out, ' ');
	}
}

/* ---- Entries ---------------------------------------------------------- */

int
alias_source_split(const char *line, struct strbuf *name, struct strbuf *value,
                   struct err *err)
{
	struct tok_list tl;
	size_t colon;
	int ret = -1;

	tok_list_init(&tl);
	tok_scan(&tl, line);
	for (colon = 0; colon < tl.count; colon++)
		if (tl.items[colon].type == ':')
			break;
	strbuf_reset(name);
	strbuf_reset(value);
	for (size_t i = 0; i < colon && i < tl.count; i++) {
		if (tl.items[i].type == ',')
			colon = tl.count; /* several names: no pair */
	}
	if (colon == 0 || colon + 1 >= tl.count) {
		err_set(err, "need name:value pair");
		goto out;
	}
	for (size_t i = 0; i < colon; i++) {
		if (tl.items[i].type == '@' || tl.items[i].type == '%') {
			err_set(err, "name must be local");
			goto out;
		}
	}
	tok_write(&tl, 0, colon, false, name);
	tok_write(&tl, colon + 1, tl.count, true, value);
	ret = 0;
out:
	tok_list_deinit(&tl);
	return ret;
}

struct table_source *
alias_source_open(const char *path, struct err *err)
{
	struct table_source *ts = table_source_open(path, err);

	if (ts != NULL)
		table_source_set_split(ts, alias_source_split);
	return ts;
}

struct table_source *
alias_source_from_stream(FILE *fp, const char *name)
{
	struct table_source *ts = table_source_from_stream(fp, name);

	table_source_set_split(ts, alias_source_split);
	return ts;
}

/* ---- Values for delivery ---------------------------------------------- */

/* Add the destination in tokens [from, to) to av, if there is one. */
static void
add_destination(const struct tok_list *tl, size_t from, size_t to,
                struct argv *av, struct strbuf *scratch)
{
	struct tok_list words;
	size_t open = to;
	size_t close = to;

	for (size_t i = from; i < to; i++) {
		if (tl->items[i].type == '<' && open == to)
			open = i;
		else if (tl->items[i].type == '>' && open != to)
			close = i;
	}
	if (open != to && close != to) {
		from = open + 1;
		to = close;
	}
	/* Copy without comments, then write in internal form. */
	tok_list_init(&words);
	for (size_t i = from; i < to; i++) {
		const struct tok *t = &tl->items[i];

		if (t->type == TOK_COMMENT)
			continue;
		tok_add(&words, t->type);
		for (size_t j = 0; j < t->len; j++)
			tok_put(&words, tok_text(tl, t)[j]);
	}
	strbuf_reset(scratch);
	tok_write(&words, 0, words.count, false, scratch);
	if (strbuf_len(scratch) > 0)
		argv_add(av, strbuf_text(scratch));
	tok_list_deinit(&words);
}

struct argv *
alias_value_split(const char *value)
{
	struct argv *av = argv_create();
	struct strbuf scratch;
	struct tok_list tl;
	size_t start = 0;

	tok_list_init(&tl);
	strbuf_init(&scratch, STRBUF_UNLIMITED);
	tok_scan(&tl, value);
	for (size_t i = 0; i <= tl.count; i++) {
		if (i == tl.count || tl.items[i].type == ',') {
			add_destination(&tl, start, i, av, &scratch);
			start = i + 1;
		}
	}
	strbuf_deinit(&scratch);
	tok_list_deinit(&tl);
	return av;
}
