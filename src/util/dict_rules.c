/*
 * dict_rules.c - the ordered rule list behind regexp, pcre and cidr tables.
 *
 * Reading: logical lines come from line_reader (a file) or from the
 * brace-delimited rules of an inline table name; "if" and "endif" are
 * recognised here, everything else is handed to the table type. An IF rule
 * records where its block ends, so a lookup skips a whole block in one step.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/argv.h"
#include "util/dict.h"
#include "util/dict_rules.h"
#include "util/line_reader.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/tokens.h"

/* Where rule lines come from: a file, or the rules of an inline name. */
struct rule_source {
	struct line_reader *lr;
	struct argv *inline_rules;
	size_t next;
	const char *name;
};

/* Split "{ {rule}, {rule} }" into its rules, braces removed. */
static struct argv *
split_inline(const char *type, const char *name, struct err *err)
{
	char *copy = xstrdup(name);
	char *cursor = str_unbrace(copy, err);
	struct argv *rules = argv_create();
	char *token;

	if (cursor == NULL)
		goto fail;
	while ((token = str_token_braced(&cursor, TOKENS_LIST_DELIMS))) {
		char *rule;

		if (*token != '{') {
			err_set(err, "no '{' at start of text in \"%s\"",
				token);
			goto fail;
		}
		if ((rule = str_unbrace(token, err)) == NULL)
			goto fail;
		argv_add(rules, rule);
	}
	free(copy);
	return rules;
fail:
	err_prefix(err, "%s map", type);
	argv_destroy(&rules);
	free(copy);
	return NULL;
}

static int
source_open(struct rule_source *src, const char *type, const char *name,
	    struct err *err)
{
	memset(src, 0, sizeof(*src));
	src->name = name;
	if (name[0] == '{') {
		src->inline_rules = split_inline(type, name, err);
		return src->inline_rules ? 0 : -1;
	}
	src->lr = line_reader_open(name, err);
	return src->lr ? 0 : -1;
}

static void
source_close(struct rule_source *src)
{
	line_reader_close(&src->lr);
	argv_destroy(&src->inline_rules);
}

/* Next rule line, comments and blank lines skipped: 1, 0 at the end, -1. */
static int
source_next(struct rule_source *src, struct strbuf *line, int *lineno_out,
	    struct err *err)
{
	if (src->lr != NULL) {
		int ret = line_reader_next(src->lr, line, err);

		*lineno_out = line_reader_lineno(src->lr);
		return ret;
	}
	while (src->next < src->inline_rules->count) {
		const char *text = src->inline_rules->items[src->next++];

		*lineno_out = (int)src->next;
		if (*text == 0 || *text == '#')
			continue;
		strbuf_reset(line);
		if (strbuf_append_str(line, text) < 0) {
			err_set(err, "%s, line %d: rule longer than %zu bytes",
				src->name, *lineno_out, line->limit);
			return -1;
		}
		return 1;
	}
	return 0;
}

/* "if/a/" and "IF /a/" start with the keyword "if"; "iffy" does not. */
static bool
is_keyword(const char *text, const char *keyword)
{
	size_t len = strlen(keyword);

	return strncasecmp(text, keyword, len) == 0 &&
	       !isalnum((unsigned char)text[len]);
}

static struct dict_rule *
add_rule(struct dict_rules *rules)
{
	struct dict_rule *rule;

	if (rules->count == rules->cap) {
		rules->cap = rules->cap ? 2 * rules->cap : 16;
		rules->items = xreallocarray(rules->items, rules->cap,
					     sizeof(*rules->items));
	}
	rule = &rules->items[rules->count++];
	memset(rule, 0, sizeof(*rule));
	return rule;
}

static void
free_rule(const struct dict_rules *rules, struct dict_rule *rule)
{
	rules->ops->free_pattern(rules->ctx, rule->pattern);
	free(rule->result);
	rule->pattern = NULL;
	rule->result = NULL;
}

/* The if/endif blocks that are still open while reading. */
struct open_ifs {
	size_t index[DICT_MAX_NESTING];
	size_t depth;
};

static int
parse_endif(struct dict_rules *rules, const char *rest, struct open_ifs *ifs,
	    struct err *err)
{
	if (!str_is_blank(rest)) {
		err_set(err, "extra text after ENDIF");
		return -1;
	}
	if (ifs->depth == 0) {
		err_set(err, "ENDIF without matching IF");
		return -1;
	}
	rules->items[ifs->index[--ifs->depth]].next_index = rules->count;
	return 0;
}

/* One rule or IF statement; text has no leading white space. */
static int
parse_rule(struct dict_rules *rules, char *text, int lineno,
	   struct open_ifs *ifs, struct err *err)
{
	enum dict_rule_kind kind = DICT_RULE_MATCH;
	bool is_negated = false;
	bool had_bang = false;
	struct dict_rule *rule;

	if (is_keyword(text, "if")) {
		if (ifs->depth == DICT_MAX_NESTING) {
			err_set(err, "IF statements nested deeper than %d "
				"levels", DICT_MAX_NESTING);
			return -1;
		}
		kind = DICT_RULE_IF;
		text += 2;
	}
	for (;;) {
		while (isspace((unsigned char)*text))
			text++;
		if (*text != '!')
			break;
		is_negated = !is_negated;
		had_bang = true;
		text++;
	}
	rule = add_rule(rules);
	rule->kind = kind;
	rule->is_negated = is_negated;
	rule->lineno = lineno;
	if (rules->ops->parse(rules->ctx, rule, text, had_bang, err) < 0) {
		free_rule(rules, rule);
		rules->count--;
		return -1;
	}
	if (kind == DICT_RULE_IF)
		ifs->index[ifs->depth++] = rules->count - 1;
	return 0;
}

static int
parse_line(struct dict_rules *rules, char *text, int lineno,
	   struct open_ifs *ifs, struct err *err)
{
	if (is_keyword(text, "endif"))
		return parse_endif(rules, text + 5, ifs, err);
	return parse_rule(rules, text, lineno, ifs, err);
}

static int
load_rules(struct dict_rules *rules, struct rule_source *src,
	   struct err *err)
{
	struct open_ifs ifs = { .depth = 0 };
	struct strbuf line;
	int lineno = 0;
	int ret;

	strbuf_init(&line, LINE_READER_MAX_LOGICAL);
	while ((ret = source_next(src, &line, &lineno, err)) > 0) {
		if (parse_line(rules, line.data, lineno, &ifs, err) < 0) {
			err_prefix(err, "%s, line %d", rules->name, lineno);
			ret = -1;
			break;
		}
	}
	strbuf_deinit(&line);
	if (ret == 0 && ifs.depth > 0) {
		err_set(err, "%s, line %d: IF has no matching ENDIF",
			rules->name, rules->items[ifs.index[0]].lineno);
		ret = -1;
	}
	return ret;
}

int
dict_rules_load(struct dict_rules *rules, const char *type, const char *name,
		const struct dict_rules_ops *ops, void *ctx, struct err *err)
{
	struct rule_source src;
	int ret;

	memset(rules, 0, sizeof(*rules));
	rules->type = type;
	rules->name = name;
	rules->ops = ops;
	rules->ctx = ctx;
	if (source_open(&src, type, name, err) < 0)
		return -1;
	ret = load_rules(rules, &src, err);
	source_close(&src);
	if (ret < 0) {
		dict_rules_free(rules);
		return -1;
	}
	return 0;
}

int
dict_rules_find(const struct dict_rules *rules, const void *subject,
		const struct dict_rule **rule_out, struct err *err)
{
	size_t i = 0;

	*rule_out = NULL;
	while (i < rules->count) {
		const struct dict_rule *rule = &rules->items[i];
		enum dict_match match;
		bool applies;

		match = rules->ops->match(rules->ctx, rule, subject, err);
		if (match == DICT_MATCH_ERROR) {
			err_prefix(err, "%s:%s, line %d", rules->type,
				   rules->name, rule->lineno);
			return DICT_ERROR;
		}
		applies = rule->is_negated ? match == DICT_MATCH_NO
					   : match == DICT_MATCH_YES;
		if (rule->kind == DICT_RULE_IF) {
			i = applies ? i + 1 : rule->next_index;
			continue;
		}
		if (applies) {
			*rule_out = rule;
			return DICT_FOUND;
		}
		i++;
	}
	return DICT_NOTFOUND;
}

void
dict_rules_free(struct dict_rules *rules)
{
	for (size_t i = 0; i < rules->count; i++)
		free_rule(rules, &rules->items[i]);
	free(rules->items);
	rules->items = NULL;
	rules->count = rules->cap = 0;
}
