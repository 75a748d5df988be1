/*
 * conf_expand.h - the $name expansion language of main.cf values.
 *
 * A pure engine: it knows the syntax, and asks its caller for the raw value
 * of each name it meets. mail_conf.c plugs in main.cf and the parameter
 * defaults; tests and the fuzz target plug in plain tables.
 *
 * Syntax (Postfix 3.7's):
 *   $$                       a literal '$'
 *   $name ${name} $(name)    the value of name, itself expanded
 *   ${name?value}            value if name has a non-empty raw value
 *   ${name:value}            value if name is undefined or empty
 *   ${name?{a}:{b}}          a if name is non-empty, else b
 *   ${{x} op {y}}            "true" or "" (op: == != < <= > >=, and the
 *   ${{x} op {y} ? {a} : {b}}  same with "level" appended, which compares
 *                            compatibility levels such as 3.6 and 2)
 * Braced texts keep their white space; an unbraced value runs to the
 * closing bracket. == and the other operators compare numbers when both
 * sides are all digits, text otherwise. Unchosen branches are not
 * expanded. Names: letters, digits and '_'.
 */
#ifndef POSTERN_GLOBAL_CONF_EXPAND_H
#define POSTERN_GLOBAL_CONF_EXPAND_H

#include "util/err.h"
#include "util/strbuf.h"

/*
 * Raw value of name: 1 with *value_out set (owned by the provider, valid
 * until conf_expand returns), 0 if name is undefined, -1 with err set if
 * the provider failed (e.g. a computed default could not be computed).
 */
typedef int conf_lookup_fn(void *ctx, const char *name, const char **value_out,
			   struct err *err);

struct conf_expand_ops {
	conf_lookup_fn *lookup;
	void *ctx;
	int max_depth; /* nesting limit of name references */
};

/*
 * Expand text, appending the result to out (whose limit bounds the
 * result). name, if not NULL, is the parameter whose value text is: it
 * makes "a = $a" a recursion and prefixes errors with "parameter NAME: ".
 * Returns 0, or -1 with err set: a syntax error, a recursion
 * ("parameter a: recursion: a -> b -> a"), nesting deeper than max_depth,
 * a result over out's limit, or a failed lookup. out is then unspecified.
 */
int conf_expand(const struct conf_expand_ops *ops, const char *name,
		const char *text, struct strbuf *out, struct err *err);

/*
 * Call fn for every name that text references as $name, ${name...} or
 * $(name...), including those inside conditional branches and expressions
 * (whether or not they would be chosen). Other syntax errors are ignored,
 * but a "${" or "$(" that is never closed ends the scan: like Postfix,
 * which calls it a truncated reference, nothing from there on counts.
 */
void conf_expand_refs(const char *text,
		      void (*fn)(const char *name, size_t len, void *ctx),
		      void *ctx);

/*
 * Compare two compatibility levels ("2", "3.6", "3.6.1"). Returns 0 with
 * *cmp_out < 0, 0 or > 0, or -1 with err for a malformed level.
 */
int conf_compare_levels(const char *left, const char *right, int *cmp_out,
			struct err *err);

#endif
