/*
 * dict_pattern.c - what regexp: and pcre: tables share: rule syntax, result
 * templates with $N substitution, and lookups.
 *
 * A result template is checked once at open time (syntax, negation, group
 * numbers against the compiled pattern); at lookup time it is expanded with
 * the same scanner, into a buffer owned by the table.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/dict_pattern.h"
#include "util/dict_rules.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

struct dict_pattern {
	struct dict dict; /* must be first */
	const struct dict_pattern_ops *ops;
	struct dict_rules rules;
	struct strbuf result; /* the last expanded result */
};

/* One piece of a result template: literal text or a group reference. */
struct subst_piece {
	const char *text; /* literal text, or the reference's name */
	size_t len;
	bool is_ref;
	size_t index; /* reference: the group number */
};

/* The name of a reference after '$': "{...}", "(...)" or a word. */
static int
subst_ref_name(const char **cursor, const char *whole,
	       struct subst_piece *piece, struct err *err)
{
	const char *cp = *cursor;
	const char *end;

	if (*cp == '{' || *cp == '(') {
		end = strchr(cp + 1, *cp == '{' ? '}' : ')');
		if (end == NULL) {
			err_set(err, "truncated replacement reference in "
				"\"%s\"", whole);
			return -1;
		}
		piece->text = cp + 1;
		piece->len = (size_t)(end - cp - 1);
		*cursor = end + 1;
	} else {
		for (end = cp; isalnum((unsigned char)*end) || *end == '_';)
			end++;
		piece->text = cp;
		piece->len = (size_t)(end - cp);
		*cursor = end;
	}
	if (piece->len == 0) {
		err_set(err, "empty replacement reference in \"%s\"", whole);
		return -1;
	}
	return 0;
}

/* The group number of a reference name; only decimal digits qualify. */
static int
subst_ref_index(struct subst_piece *piece, struct err *err)
{
	size_t value = 0;

	for (size_t i = 0; i < piece->len; i++) {
		if (!isdigit((unsigned char)piece->text[i])) {
			err_set(err, "non-numeric replacement index \"%.*s\"",
				(int)piece->len, piece->text);
			return -1;
		}
		if (value <= DICT_PATTERN_MAX_GROUP)
			value = value * 10 + (size_t)(piece->text[i] - '0');
	}
	if (value == 0 || value > DICT_PATTERN_MAX_GROUP) {
		err_set(err, "out of range replacement index \"%.*s\"",
			(int)piece->len, piece->text);
		return -1;
	}
	piece->index = value;
	return 0;
}

/* Next piece of the template at *cursor: 1, 0 at the end, -1 bad syntax. */
static int
subst_next(const char **cursor, const char *whole, struct subst_piece *piece,
	   struct err *err)
{
	const char *cp = *cursor;

	memset(piece, 0, sizeof(*piece));
	if (*cp == 0)
		return 0;
	if (*cp != '$') {
		piece->text = cp;
		piece->len = strcspn(cp, "$");
		*cursor = cp + piece->len;
		return 1;
	}
	if (cp[1] == '$') {
		piece->text = cp + 1;
		piece->len = 1;
		*cursor = cp + 2;
		return 1;
	}
	*cursor = cp + 1;
	piece->is_ref = true;
	if (subst_ref_name(cursor, whole, piece, err) < 0 ||
	    subst_ref_index(piece, err) < 0)
		return -1;
	return 1;
}

/*
 * Check a result template; *max_index_out is its highest group number (0
 * if it uses none). References are refused in a negated rule's result
 * (nothing matched) and when the table was opened without substitution.
 */
static int
check_result(const char *result, bool is_negated, bool allow_subst,
	     size_t *max_index_out, struct err *err)
{
	struct subst_piece piece;
	const char *cursor = result;
	int ret;

	*max_index_out = 0;
	while ((ret = subst_next(&cursor, result, &piece, err)) > 0) {
		if (!piece.is_ref)
			continue;
		if (is_negated) {
			err_set(err, "$number found in negative match "
				"replacement text");
			return -1;
		}
		if (!allow_subst) {
			err_set(err, "regular expression substitution is not "
				"allowed");
			return -1;
		}
		if (piece.index > *max_index_out)
			*max_index_out = piece.index;
	}
	return ret;
}

/* Expand a checked template after its rule matched key. */
static int
expand_result(struct dict_pattern *dp, const struct dict_rule *rule,
	      const char *key, struct err *err)
{
	struct subst_piece piece;
	const char *cursor = rule->result;
	size_t start;
	size_t end;
	int ret = 0;

	strbuf_reset(&dp->result);
	while (ret == 0 &&
	       subst_next(&cursor, rule->result, &piece, NULL) > 0) {
		if (!piece.is_ref)
			ret = strbuf_append(&dp->result, piece.text, piece.len);
		else if (dp->ops->capture(rule->pattern, piece.index, &start,
					  &end) && end > start)
			ret = strbuf_append(&dp->result, key + start,
					    end - start);
	}
	if (ret < 0) {
		err_set(err, "%s:%s, line %d: result longer than %zu bytes",
			dp->dict.type, dp->dict.name, rule->lineno,
			dp->result.limit);
		return -1;
	}
	return 0;
}

/* Option bits from the flag letters after the closing delimiter. */
static int
parse_flags(const struct dict_pattern_ops *ops, const char *letters,
	    unsigned *flags_out, struct err *err)
{
	unsigned flags = ops->default_flags;

	for (const char *cp = letters; *cp; cp++) {
		const struct dict_pattern_flag *flag = ops->flags;

		while (flag->letter != 0 && flag->letter != *cp)
			flag++;
		if (flag->letter == 0) {
			err_set(err, "unknown regexp option \"%c\"", *cp);
			return -1;
		}
		flags ^= flag->bit;
	}
	*flags_out = flags;
	return 0;
}

/* The parts of "/pattern/flags rest", cut in place. */
struct rule_text {
	char *pattern;
	char *flags;
	char *rest; /* after the flags, white space skipped */
};

static int
split_rule(char *text, struct rule_text *out, struct err *err)
{
	char delim = *text++;
	char *cp = text;

	while (*cp != 0 && *cp != delim) {
		if (*cp == '\\' && cp[1] != 0)
			cp++;
		cp++;
	}
	if (*cp == 0) {
		err_set(err, "no closing regexp delimiter \"%c\"", delim);
		return -1;
	}
	*cp++ = 0;
	if (cp - text - 1 > DICT_PATTERN_MAX_LEN) {
		err_set(err, "regexp longer than %d bytes",
			DICT_PATTERN_MAX_LEN);
		return -1;
	}
	out->pattern = text;
	out->flags = cp;
	while (*cp != 0 && !isspace((unsigned char)*cp))
		cp++;
	if (*cp != 0)
		*cp++ = 0;
	while (isspace((unsigned char)*cp))
		cp++;
	out->rest = cp;
	return 0;
}

/* The text after the pattern: a result, or nothing after an IF. */
static int
check_rest(const struct dict_rule *rule, const char *rest, struct err *err)
{
	if (rule->kind == DICT_RULE_IF) {
		if (*rest != 0) {
			err_set(err, "extra text after IF statement: \"%s\"",
				rest);
			return -1;
		}
		return 0;
	}
	if (*rest == 0) {
		err_set(err, "no replacement text after the pattern");
		return -1;
	}
	return 0;
}

static int
pattern_parse(void *ctx, struct dict_rule *rule, char *text, bool had_bang,
	      struct err *err)
{
	struct dict_pattern *dp = ctx;
	struct rule_text parts;
	size_t max_index = 0;
	size_t groups = 0;
	unsigned flags;
	void *re;

	if (*text == 0) {
		err_set(err, "no regexp");
		return -1;
	}
	if (rule->kind == DICT_RULE_MATCH && !had_bang &&
	    isalnum((unsigned char)*text)) {
		err_set(err, "unrecognized request: expected \"/pattern/ "
			"result\", \"if /pattern/\" or \"endif\"");
		return -1;
	}
	if (split_rule(text, &parts, err) < 0 ||
	    parse_flags(dp->ops, parts.flags, &flags, err) < 0 ||
	    check_rest(rule, parts.rest, err) < 0)
		return -1;
	if (rule->kind == DICT_RULE_MATCH &&
	    check_result(parts.rest, rule->is_negated,
			 !(dp->dict.flags & DICT_FLAG_NO_REGSUB), &max_index,
			 err) < 0)
		return -1;
	re = dp->ops->compile(parts.pattern, flags, max_index > 0, &groups,
			      err);
	if (re == NULL)
		return -1;
	if (max_index > groups) {
		dp->ops->free(re);
		err_set(err, "out of range replacement index \"%zu\"",
			max_index);
		return -1;
	}
	rule->pattern = re;
	if (rule->kind == DICT_RULE_MATCH)
		rule->result = xstrdup(parts.rest);
	return 0;
}

static enum dict_match
pattern_match(void *ctx, const struct dict_rule *rule, const void *subject,
	      struct err *err)
{
	struct dict_pattern *dp = ctx;

	switch (dp->ops->match(rule->pattern, subject, err)) {
	case 1:
		return DICT_MATCH_YES;
	case 0:
		return DICT_MATCH_NO;
	default:
		return DICT_MATCH_ERROR;
	}
}

static void
pattern_free(void *ctx, void *re)
{
	struct dict_pattern *dp = ctx;

	if (re != NULL)
		dp->ops->free(re);
}

static const struct dict_rules_ops pattern_rules_ops = {
	.parse = pattern_parse,
	.match = pattern_match,
	.free_pattern = pattern_free,
};

static int
pattern_lookup(struct dict *dict, const char *key, const char **value_out,
	       struct err *err)
{
	struct dict_pattern *dp = (struct dict_pattern *)dict;
	const struct dict_rule *rule;
	int ret;

	ret = dict_rules_find(&dp->rules, key, &rule, err);
	if (ret != DICT_FOUND)
		return ret;
	if (strchr(rule->result, '$') == NULL) {
		*value_out = rule->result;
		return DICT_FOUND;
	}
	if (expand_result(dp, rule, key, err) < 0)
		return DICT_ERROR;
	*value_out = strbuf_text(&dp->result);
	return DICT_FOUND;
}

static void
pattern_close(struct dict *dict)
{
	struct dict_pattern *dp = (struct dict_pattern *)dict;

	dict_rules_free(&dp->rules);
	strbuf_deinit(&dp->result);
	dict_free(dict);
}

struct dict *
dict_pattern_open(const struct dict_pattern_ops *ops, const char *name,
		  int open_flags, int dict_flags, struct err *err)
{
	struct dict_pattern *dp;

	if ((open_flags & O_ACCMODE) != O_RDONLY) {
		err_set(err, "%s:%s map requires O_RDONLY access mode",
			ops->type, name);
		return NULL;
	}
	dict_flags = (dict_flags & ~DICT_FLAG_FOLD_FIX) | DICT_FLAG_PATTERN;
	dp = (struct dict_pattern *)dict_alloc(ops->type, name, sizeof(*dp),
					       open_flags, dict_flags);
	dp->ops = ops;
	strbuf_init(&dp->result, DICT_MAX_VALUE_LEN);
	dp->dict.close = pattern_close;
	if (dict_rules_load(&dp->rules, dp->dict.type, dp->dict.name,
			    &pattern_rules_ops, dp, err) < 0) {
		pattern_close(&dp->dict);
		return NULL;
	}
	dp->dict.lookup = pattern_lookup;
	return &dp->dict;
}
