/*
 * dict_rules.h - the ordered rule list behind regexp, pcre and cidr tables.
 *
 * These tables are lists of rules tried in file order, the first that
 * applies giving the result: "pattern result", "!pattern result" (applies
 * when the pattern does not match), and "if pattern" ... "endif" blocks,
 * which may nest and take '!' too. This module reads the rule lines (from a
 * file, or from an inline "{ {rule}, {rule} }" table name), handles the
 * keywords, negation and nesting, and walks the list at lookup time. Each
 * table type parses its own patterns and results and decides what a match
 * is, through struct dict_rules_ops.
 * Security: table files are untrusted input; a rule that does not parse
 * makes the whole open fail ("FILE, line N: reason"), so a typo can never
 * silently drop an access rule.
 */
#ifndef POSTERN_UTIL_DICT_RULES_H
#define POSTERN_UTIL_DICT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

enum dict_rule_kind {
	DICT_RULE_MATCH, /* "pattern result" */
	DICT_RULE_IF,    /* "if pattern", up to its "endif" */
};

/* What a type's match function says about one pattern and one key. */
enum dict_match {
	DICT_MATCH_ERROR = -1, /* err set */
	DICT_MATCH_NO = 0,
	DICT_MATCH_YES = 1,
	DICT_MATCH_NA = 2, /* cannot apply (an IPv4 pattern, an IPv6 key):
			      neither the rule nor its negation applies */
};

struct dict_rule {
	enum dict_rule_kind kind;
	bool is_negated;
	int lineno;
	size_t next_index; /* IF: index of the first rule after its ENDIF */
	void *pattern;     /* the type's parsed pattern */
	char *result;      /* MATCH: the result text as written */
};

struct dict_rules_ops {
	/*
	 * Parse one rule. text is what follows "if" or the '!' signs, with
	 * leading white space skipped (it may be empty); rule->kind and
	 * rule->is_negated are already set, had_bang tells whether text was
	 * preceded by '!'. Set rule->pattern and, for a MATCH rule,
	 * rule->result (allocated; freed by dict_rules_free). Returns 0, or
	 * -1 with err set to the bare reason (the caller adds file and line).
	 */
	int (*parse)(void *ctx, struct dict_rule *rule, char *text,
		     bool had_bang, struct err *err);
	/* Match one rule's pattern against the subject of a lookup. */
	enum dict_match (*match)(void *ctx, const struct dict_rule *rule,
				 const void *subject, struct err *err);
	/* Free a pattern made by parse (NULL-safe). */
	void (*free_pattern)(void *ctx, void *pattern);
};

struct dict_rules {
	const char *type; /* for messages; not owned */
	const char *name; /* for messages; not owned */
	const struct dict_rules_ops *ops;
	void *ctx;
	struct dict_rule *items;
	size_t count;
	size_t cap;
};

/*
 * Read the rules of table name: the file of that name, or, when name starts
 * with '{', the rules written inline as "{ {rule}, {rule}, ... }" (Postfix
 * 3.7), rule N counting as line N. type and name must outlive rules.
 * Returns 0, or -1 with err set ("open NAME: reason", "NAME, line N:
 * reason"); rules is then empty (dict_rules_free is still allowed).
 */
int dict_rules_load(struct dict_rules *rules, const char *type,
		    const char *name, const struct dict_rules_ops *ops,
		    void *ctx, struct err *err);

/*
 * Find the first MATCH rule that applies to subject, honouring negation
 * and if/endif. Returns DICT_FOUND with *rule_out set, DICT_NOTFOUND, or
 * DICT_ERROR with err "TYPE:NAME, line N: reason".
 */
int dict_rules_find(const struct dict_rules *rules, const void *subject,
		    const struct dict_rule **rule_out, struct err *err);

/* Free every rule (NULL-safe on an empty list). */
void dict_rules_free(struct dict_rules *rules);

#endif
