/*
 * conf_expand.c - the $name expansion language of main.cf values.
 *
 * A recursive-descent expander over slices of the raw text (nothing is
 * copied until it is output). Each name is expanded at most once per call
 * (a memo), which keeps "a = $b$b, b = $c$c, ..." linear instead of
 * exponential; the names being expanded form a stack, so "a = $b, b = $a"
 * is reported as a recursion instead of running into the depth limit.
 * Every error names the innermost parameter whose value was being read.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/htable.h"
#include "util/mymalloc.h"

#include "global/conf_expand.h"

/* How much of the offending text an error message shows. */
#define CONTEXT_MAX 60

struct slice {
	const char *ptr;
	const char *end;
};

struct expander {
	const struct conf_expand_ops *ops;
	struct err *err;
	char **stack;        /* names being expanded; stack[0] may be NULL */
	int depth;           /* index of the innermost name in stack */
	int level;           /* nesting of names, branches and operands */
	struct slice text;   /* the value of the innermost name */
	struct htable *memo; /* name -> its fully expanded value */
	size_t limit;        /* size limit of every intermediate result */
};

enum cmp_op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };

static int expand_slice(struct expander *ex, struct slice text,
			struct strbuf *out);

static bool
is_name_char(int ch)
{
	return isalnum((unsigned char)ch) || ch == '_';
}

static const char *
skip_space(const char *p, const char *end)
{
	while (p < end && isspace((unsigned char)*p))
		p++;
	return p;
}

static int
context_len(const char *p, const char *end)
{
	return end - p > CONTEXT_MAX ? CONTEXT_MAX : (int)(end - p);
}

/* Set the error, naming the innermost parameter; always returns -1. */
__attribute__((format(printf, 2, 3))) static int
fail(struct expander *ex, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(ex->err, fmt, ap);
	va_end(ap);
	if (ex->stack[ex->depth] != NULL)
		err_prefix(ex->err, "parameter %s", ex->stack[ex->depth]);
	return -1;
}

/* "what at "rest"", or "what at end of "value"" when nothing is left. */
static int
fail_at(struct expander *ex, const char *what, const char *p, const char *end)
{
	if (p == end)
		return fail(ex, "%s at end of \"%.*s\"", what,
			    context_len(ex->text.ptr, ex->text.end),
			    ex->text.ptr);
	return fail(ex, "%s at \"%.*s\"", what, context_len(p, end), p);
}

/* "what in "value"". */
static int
fail_in(struct expander *ex, const char *what)
{
	return fail(ex, "%s in \"%.*s\"", what,
		    context_len(ex->text.ptr, ex->text.end), ex->text.ptr);
}

static int
append(struct expander *ex, struct strbuf *out, const char *p, size_t len)
{
	if (strbuf_append(out, p, len) < 0)
		return fail(ex, "expanded value longer than %zu bytes",
			    out->limit);
	return 0;
}

/* The bracket that closes the one at open, nesting counted; or NULL. */
static const char *
find_close(const char *open, const char *end)
{
	char open_ch = *open;
	char close_ch = open_ch == '{' ? '}' : ')';
	int depth = 0;

	for (const char *p = open; p < end; p++) {
		if (*p == open_ch)
			depth++;
		else if (*p == close_ch && --depth == 0)
			return p;
	}
	return NULL;
}

static int
fail_recursion(struct expander *ex, const char *name, int from)
{
	struct strbuf chain;
	int ret;

	/* The chain is cut at 512 bytes; err truncates the rest anyway. */
	strbuf_init(&chain, 512);
	for (int i = from; i <= ex->depth; i++)
		(void)strbuf_printf(&chain, "%s -> ", ex->stack[i]);
	ret = fail(ex, "recursion: %s%s", strbuf_text(&chain), name);
	strbuf_deinit(&chain);
	return ret;
}

/*
 * Expand a branch or operand one level down. Like Postfix, nested
 * conditionals count towards the same limit as nested $name references;
 * it also bounds the C stack.
 */
static int
expand_nested(struct expander *ex, struct slice text, struct strbuf *out)
{
	int ret;

	if (ex->level >= ex->ops->max_depth)
		return fail(ex,
			    "expansion nested deeper than %d levels at "
			    "\"%.*s\"",
			    ex->ops->max_depth, context_len(text.ptr, text.end),
			    text.ptr);
	ex->level++;
	ret = expand_slice(ex, text, out);
	ex->level--;
	return ret;
}

/* Output the expanded value of name (nothing if it is undefined). */
static int
expand_name(struct expander *ex, const char *name_ptr, size_t name_len,
	    struct strbuf *out)
{
	char *name = xstrndup(name_ptr, name_len);
	const char *memo = htable_find(ex->memo, name);
	const char *raw;
	struct strbuf value;
	struct slice saved;
	int ret;

	if (memo != NULL) {
		ret = append(ex, out, memo, strlen(memo));
		free(name);
		return ret;
	}
	for (int i = 0; i <= ex->depth; i++) {
		if (ex->stack[i] != NULL && strcmp(ex->stack[i], name) == 0) {
			ret = fail_recursion(ex, name, i);
			free(name);
			return ret;
		}
	}
	if (ex->level >= ex->ops->max_depth) {
		ret = fail(ex, "expansion nested deeper than %d levels at $%s",
			   ex->ops->max_depth, name);
		free(name);
		return ret;
	}
	if ((ret = ex->ops->lookup(ex->ops->ctx, name, &raw, ex->err)) <= 0) {
		free(name);
		return ret;
	}
	strbuf_init(&value, ex->limit);
	ex->stack[++ex->depth] = name;
	ex->level++;
	saved = ex->text;
	ex->text = (struct slice){raw, raw + strlen(raw)};
	ret = expand_slice(ex, ex->text, &value);
	ex->text = saved;
	ex->level--;
	ex->depth--;
	if (ret == 0 && (ret = append(ex, out, value.data, value.len)) == 0)
		htable_set(ex->memo, name, xstrdup(strbuf_text(&value)), free);
	strbuf_deinit(&value);
	free(name);
	return ret;
}

/*
 * Parse "{a}", "{a} : {b}", "{a} : text" or "text" after '?' (or after
 * ':' when has_else_out is NULL, which allows no second branch).
 */
static int
parse_branches(struct expander *ex, const char *p, const char *end,
	       struct slice *then_out, struct slice *else_out,
	       bool *has_else_out)
{
	const char *t = skip_space(p, end);
	const char *close;

	*then_out = (struct slice){p, end};
	if (t == end || *t != '{')
		return 0;
	if ((close = find_close(t, end)) == NULL)
		return fail_at(ex, "missing '}'", t, end);
	*then_out = (struct slice){t + 1, close};
	t = skip_space(close + 1, end);
	if (t == end)
		return 0;
	if (has_else_out == NULL)
		return fail_at(ex, "unexpected text", t, end);
	if (*t != ':')
		return fail_at(ex, "':' expected", t, end);
	*has_else_out = true;
	p = t + 1;
	t = skip_space(p, end);
	*else_out = (struct slice){p, end};
	if (t == end || *t != '{')
		return 0;
	if ((close = find_close(t, end)) == NULL)
		return fail_at(ex, "missing '}'", t, end);
	*else_out = (struct slice){t + 1, close};
	t = skip_space(close + 1, end);
	if (t != end)
		return fail_at(ex, "unexpected text", t, end);
	return 0;
}

/* Output then or else (if any), as is_true chooses. */
static int
expand_choice(struct expander *ex, bool is_true, struct slice then_part,
	      struct slice else_part, bool has_else, struct strbuf *out)
{
	if (is_true)
		return expand_nested(ex, then_part, out);
	if (has_else)
		return expand_nested(ex, else_part, out);
	return 0;
}

/* ${name?...} and ${name:...}: test the raw value, do not expand it. */
static int
expand_conditional(struct expander *ex, const char *name_ptr, size_t name_len,
		   char op, const char *p, const char *end, struct strbuf *out)
{
	char *name = xstrndup(name_ptr, name_len);
	const char *raw = NULL;
	struct slice then_part, else_part = {NULL, NULL};
	bool has_else = false;
	int found = ex->ops->lookup(ex->ops->ctx, name, &raw, ex->err);
	bool is_set = found > 0 && *raw != 0;

	free(name);
	if (found < 0)
		return -1;
	if (parse_branches(ex, p, end, &then_part, &else_part,
			   op == '?' ? &has_else : NULL) < 0)
		return -1;
	return expand_choice(ex, op == '?' ? is_set : !is_set, then_part,
			     else_part, has_else, out);
}

static bool
is_all_digits(const char *text)
{
	if (*text == 0)
		return false;
	for (; *text; text++)
		if (!isdigit((unsigned char)*text))
			return false;
	return true;
}

static int
parse_number(struct expander *ex, const char *text, unsigned long long *out)
{
	errno = 0;
	*out = strtoull(text, NULL, 10);
	if (errno == ERANGE)
		return fail(ex, "number out of range: \"%s\"", text);
	return 0;
}

/* Compare the expanded operands: levels, numbers, or text. */
static int
compare_operands(struct expander *ex, const char *left, const char *right,
		 bool is_level, int *cmp_out)
{
	unsigned long long lnum, rnum;
	struct err level_err;

	if (is_level) {
		if (conf_compare_levels(left, right, cmp_out, &level_err) < 0)
			return fail(ex, "%s", level_err.text);
		return 0;
	}
	if (is_all_digits(left) && is_all_digits(right)) {
		if (parse_number(ex, left, &lnum) < 0 ||
		    parse_number(ex, right, &rnum) < 0)
			return -1;
		*cmp_out = lnum < rnum ? -1 : lnum > rnum;
		return 0;
	}
	*cmp_out = strcmp(left, right);
	return 0;
}

static bool
apply_op(enum cmp_op op, int cmp)
{
	switch (op) {
	case OP_EQ:
		return cmp == 0;
	case OP_NE:
		return cmp != 0;
	case OP_LT:
		return cmp < 0;
	case OP_LE:
		return cmp <= 0;
	case OP_GT:
		return cmp > 0;
	case OP_GE:
		return cmp >= 0;
	}
	return false;
}

/* Parse "op" or "oplevel" at *pp; advances *pp. */
static int
parse_operator(struct expander *ex, const char **pp, const char *end,
	       enum cmp_op *op_out, bool *is_level_out)
{
	static const struct {
		const char *text;
		enum cmp_op op;
	} ops[] = {
		{"==", OP_EQ}, {"!=", OP_NE}, {"<=", OP_LE},
		{">=", OP_GE}, {"<", OP_LT},  {">", OP_GT},
	};
	const char *p = *pp;
	const char *word;
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t len = strlen(ops[i].text);

		if ((size_t)(end - p) >= len &&
		    strncmp(p, ops[i].text, len) == 0)
			break;
	}
	if (i == sizeof(ops) / sizeof(ops[0]))
		return fail_at(ex,
			       "\"==\", \"!=\", \"<\", \"<=\", \">\" or "
			       "\">=\" expected",
			       p, end);
	*op_out = ops[i].op;
	p += strlen(ops[i].text);
	for (word = p; p < end && isalnum((unsigned char)*p); p++)
		;
	*is_level_out = p > word;
	if (p > word && (p - word != 5 || strncmp(word, "level", 5) != 0))
		return fail_at(ex, "bad operator suffix", word, end);
	*pp = p;
	return 0;
}

/* Expand a braced operand into a fresh buffer. */
static int
expand_operand(struct expander *ex, struct slice text, struct strbuf *out)
{
	strbuf_init(out, ex->limit);
	return expand_nested(ex, text, out);
}

/* Parse "{left} op {right}" at p; *rest_out gets what follows. */
static int
parse_comparison(struct expander *ex, const char *p, const char *end,
		 struct slice *left_out, struct slice *right_out,
		 enum cmp_op *op_out, bool *is_level_out, const char **rest_out)
{
	const char *close = find_close(p, end);

	if (close == NULL)
		return fail_at(ex, "missing '}'", p, end);
	*left_out = (struct slice){p + 1, close};
	p = skip_space(close + 1, end);
	if (parse_operator(ex, &p, end, op_out, is_level_out) < 0)
		return -1;
	p = skip_space(p, end);
	if (p == end || *p != '{')
		return fail_at(ex, "\"{text}\" expected", p, end);
	if ((close = find_close(p, end)) == NULL)
		return fail_at(ex, "missing '}'", p, end);
	*right_out = (struct slice){p + 1, close};
	*rest_out = skip_space(close + 1, end);
	return 0;
}

/* Evaluate "{left} op {right}" at p to a truth value. */
static int
evaluate_comparison(struct expander *ex, const char *p, const char *end,
		    bool *is_true_out, const char **rest_out)
{
	struct slice left, right;
	struct strbuf lbuf, rbuf;
	enum cmp_op op = OP_EQ;
	bool is_level = false;
	int cmp = 0;
	int ret;

	if (parse_comparison(ex, p, end, &left, &right, &op, &is_level,
			     rest_out) < 0)
		return -1;
	ret = expand_operand(ex, left, &lbuf);
	if (ret == 0)
		ret = expand_operand(ex, right, &rbuf);
	else
		strbuf_init(&rbuf, 0);
	if (ret == 0)
		ret = compare_operands(ex, strbuf_text(&lbuf),
				       strbuf_text(&rbuf), is_level, &cmp);
	strbuf_deinit(&lbuf);
	strbuf_deinit(&rbuf);
	*is_true_out = apply_op(op, cmp);
	return ret;
}

/* ${{left} op {right}}, optionally followed by "? ..." or ": ...". */
static int
expand_expression(struct expander *ex, const char *p, const char *end,
		  struct strbuf *out)
{
	struct slice then_part, else_part = {NULL, NULL};
	bool is_true, has_else = false;

	if (evaluate_comparison(ex, p, end, &is_true, &p) < 0)
		return -1;
	if (p == end)
		return is_true ? append(ex, out, "true", 4) : 0;
	if (*p == '?') {
		if (parse_branches(ex, p + 1, end, &then_part, &else_part,
				   &has_else) < 0)
			return -1;
		return expand_choice(ex, is_true, then_part, else_part,
				     has_else, out);
	}
	if (*p == ':') {
		if (parse_branches(ex, p + 1, end, &else_part, &then_part,
				   NULL) < 0)
			return -1;
		return is_true ? 0 : expand_nested(ex, else_part, out);
	}
	return fail_at(ex, "'?' or ':' expected", p, end);
}

/* The inside of ${...} or $(...). */
static int
expand_bracketed(struct expander *ex, const char *p, const char *end,
		 struct strbuf *out)
{
	const char *name, *name_end;

	p = skip_space(p, end);
	if (p < end && *p == '{')
		return expand_expression(ex, p, end, out);
	for (name = p; p < end && is_name_char(*p); p++)
		;
	name_end = p;
	p = skip_space(p, end);
	if (name_end == name)
		return fail_in(ex, "missing parameter name");
	if (p == end)
		return expand_name(ex, name, (size_t)(name_end - name), out);
	if (*p != '?' && *p != ':')
		return fail_at(ex, "bad parameter name syntax", name_end, end);
	return expand_conditional(ex, name, (size_t)(name_end - name), *p,
				  p + 1, end, out);
}

/* One '$' reference at p (just after the '$'); *next_out gets the rest. */
static int
expand_reference(struct expander *ex, const char *p, struct slice text,
		 struct strbuf *out, const char **next_out)
{
	const char *close;
	const char *name = p;

	if (p < text.end && *p == '$') {
		*next_out = p + 1;
		return append(ex, out, "$", 1);
	}
	if (p < text.end && (*p == '{' || *p == '(')) {
		if ((close = find_close(p, text.end)) == NULL)
			return fail_in(ex, *p == '{' ? "missing '}'"
						     : "missing ')'");
		*next_out = close + 1;
		return expand_bracketed(ex, p + 1, close, out);
	}
	while (p < text.end && is_name_char(*p))
		p++;
	if (p == name)
		return fail_in(ex, "missing parameter name after '$'");
	*next_out = p;
	return expand_name(ex, name, (size_t)(p - name), out);
}

static int
expand_slice(struct expander *ex, struct slice text, struct strbuf *out)
{
	const char *p = text.ptr;

	while (p < text.end) {
		const char *dollar = memchr(p, '$', (size_t)(text.end - p));

		if (dollar == NULL)
			return append(ex, out, p, (size_t)(text.end - p));
		if (append(ex, out, p, (size_t)(dollar - p)) < 0 ||
		    expand_reference(ex, dollar + 1, text, out, &p) < 0)
			return -1;
	}
	return 0;
}

int
conf_expand(const struct conf_expand_ops *ops, const char *name,
	    const char *text, struct strbuf *out, struct err *err)
{
	struct err local_err = {{0}};
	struct expander ex = {
	    .ops = ops,
	    .err = err != NULL ? err : &local_err,
	    .stack = xcalloc((size_t)ops->max_depth + 2, sizeof(char *)),
	    .memo = htable_create(16),
	    .limit = out->limit,
	};
	int ret;

	ex.stack[0] = name != NULL ? xstrdup(name) : NULL;
	ex.text = (struct slice){text, text + strlen(text)};
	ret = expand_slice(&ex, ex.text, out);
	free(ex.stack[0]);
	free(ex.stack);
	htable_destroy(&ex.memo, free);
	return ret;
}

/*
 * Mark in marks (one flag per byte of text; allocated at the first mark if
 * NULL) the open_ch brackets that no close_ch closes, as find_close would
 * find, in one pass from the right. Returns marks: still NULL if it was
 * and all are closed. The caller frees it.
 */
static bool *
mark_unclosed(const char *text, size_t len, char open_ch, char close_ch,
	      bool *marks)
{
	size_t closers = 0;

	for (size_t i = len; i-- > 0;) {
		if (text[i] == close_ch) {
			closers++;
		} else if (text[i] == open_ch && closers > 0) {
			closers--;
		} else if (text[i] == open_ch) {
			if (marks == NULL)
				marks = xcalloc(len, sizeof(bool));
			marks[i] = true;
		}
	}
	return marks;
}

void
conf_expand_refs(const char *text,
		 void (*fn)(const char *name, size_t len, void *ctx), void *ctx)
{
	size_t len = strlen(text);
	bool *unclosed = mark_unclosed(text, len, '{', '}', NULL);
	const char *p = text;
	const char *name;

	unclosed = mark_unclosed(text, len, '(', ')', unclosed);
	while ((p = strchr(p, '$')) != NULL) {
		p++;
		if (*p == '$') {
			p++;
			continue;
		}
		if (*p == '{' || *p == '(') {
			/* Unclosed: what follows has no structure to scan. */
			if (unclosed != NULL && unclosed[p - text])
				break;
			p++;
			while (isspace((unsigned char)*p))
				p++;
		}
		for (name = p; is_name_char(*p); p++)
			;
		if (p > name)
			fn(name, (size_t)(p - name), ctx);
	}
	free(unclosed);
}

/* Parse "N[.N[.N]]" into three numbers; -1 if malformed. */
static int
parse_level(const char *text, unsigned long parts[3])
{
	const char *p = text;
	char *end;

	parts[0] = parts[1] = parts[2] = 0;
	for (int i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		parts[i] = strtoul(p, &end, 10);
		if (errno == ERANGE)
			return -1;
		p = end;
		if (*p == 0)
			return 0;
		if (*p != '.' || i == 2)
			return -1;
		p++;
	}
	return -1;
}

int
conf_compare_levels(const char *left, const char *right, int *cmp_out,
		    struct err *err)
{
	unsigned long lparts[3], rparts[3];

	if (parse_level(left, lparts) < 0) {
		err_set(err, "malformed compatibility level: \"%s\"", left);
		return -1;
	}
	if (parse_level(right, rparts) < 0) {
		err_set(err, "malformed compatibility level: \"%s\"", right);
		return -1;
	}
	*cmp_out = 0;
	for (int i = 0; i < 3 && *cmp_out == 0; i++)
		*cmp_out = lparts[i] < rparts[i] ? -1 : lparts[i] > rparts[i];
	return 0;
}
