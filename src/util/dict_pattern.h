/*
 * dict_pattern.h - what regexp: and pcre: tables share: one syntax, one
 * evaluator, and a small ops struct per regular-expression engine.
 *
 * A rule is "/pattern/flags result" (any delimiter, '\' escapes it inside
 * the pattern; the pattern text goes to the engine as written), negated
 * with '!', or an "if /pattern/flags" ... "endif" block (see dict_rules.h).
 * Flag letters toggle engine options from the type's defaults; tables are
 * case-insensitive by default. In a result, $N, ${N} and $(N) stand for
 * group N of the match (empty if it did not take part) and $$ for a '$'.
 * Unlike Postfix, which warns and skips a bad rule, every bad rule makes
 * the open fail with "FILE, line N: reason".
 */
#ifndef POSTERN_UTIL_DICT_PATTERN_H
#define POSTERN_UTIL_DICT_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "util/dict.h"
#include "util/err.h"

/* Longest pattern between the delimiters. */
#define DICT_PATTERN_MAX_LEN (64 * 1024)

/* Highest $N a result may use (far above any real group count). */
#define DICT_PATTERN_MAX_GROUP 65535

/* A flag letter and the engine option bit it toggles (0: accepted and
 * ignored, for letters that only still exist for compatibility). */
struct dict_pattern_flag {
	char letter;
	unsigned bit;
};

struct dict_pattern_ops {
	const char *type;                      /* "regexp" */
	const struct dict_pattern_flag *flags; /* ends with letter 0 */
	unsigned default_flags;

	/*
	 * Compile pattern with the option bits. want_captures: capture() will
	 * be asked for groups after a match. Returns the engine's object with
	 * *groups_out set to the number of capture groups, or NULL with err
	 * set to the engine's reason.
	 */
	void *(*compile)(const char *pattern, unsigned flags,
			 bool want_captures, size_t *groups_out,
			 struct err *err);

	/* 1 match, 0 no match, -1 engine failure (err set). */
	int (*match)(void *re, const char *key, struct err *err);

	/*
	 * After a match of a pattern compiled with want_captures: where group
	 * index (1..groups) matched, as offsets into the key. false if the
	 * group did not take part in the match.
	 */
	bool (*capture)(const void *re, size_t index, size_t *start_out,
			size_t *end_out);

	void (*free)(void *re);
};

/*
 * Open a regexp-style table of the type described by ops (see dict.h for
 * the contract). Only read-only access is possible. The key is matched as
 * given (these tables never fold it); a result is valid until the next
 * lookup on the table.
 */
struct dict *dict_pattern_open(const struct dict_pattern_ops *ops,
			       const char *name, int open_flags,
			       int dict_flags, struct err *err);

#endif
