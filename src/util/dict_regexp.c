/*
 * dict_regexp.c - regexp: (POSIX extended regular expressions) and pcre:
 * (PCRE2) lookup tables.
 *
 * Both types share their syntax and evaluator (dict_pattern.c); this file
 * holds only the two engines. Flags, as in Postfix 3.7:
 *     regexp: i (case, default on), x (extended syntax, default on),
 *             m (newline-sensitive ^ and $, default off)
 *     pcre:   i (CASELESS, on), m (MULTILINE), s (DOTALL, on), x (EXTENDED),
 *             A (ANCHORED), E (DOLLAR_ENDONLY), U (UNGREEDY); X is
 *             accepted and ignored, as PCRE2 has no EXTRA option.
 * Keys are matched as bytes, without UTF-8 mode, like Postfix with
 * smtputf8_enable=no.
 * Unlike Postfix, regexp: refuses patterns that would make glibc's engine
 * blow up (huge expanded repetitions, deep nesting, back-references); see
 * posix_check_size. PCRE2 has its own compile and match limits.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "util/dict_pattern.h"
#include "util/dict_types.h"
#include "util/log.h"
#include "util/mymalloc.h"

/* POSIX engine. */

/*
 * glibc's regex engine copies a repeated sub-expression once per
 * repetition, its cost grows with the square of the copies when they can
 * match the empty string ("x?{3000}" takes 70 MB, "()*{3000}" a minute),
 * and it recurses once per nesting level (thirty thousand nested groups
 * overflow the stack). Before calling regcomp, estimate what it will
 * build and refuse a pattern that is too deep or too big. Back-references
 * ("\1") are refused too: glibc matches them by trying every split of the
 * key, which takes minutes on a 200-byte key. Limits:
 *     weight: nodes after expanding repetitions; at most 100 000, far
 *             above a 64 KiB list of alternatives (about 64 000)
 *     optional copies: nodes copied by repeating something that holds a
 *             '*', '?', '+' or a range; at most 1000 ("x{1,3}" or
 *             "([a-z]+\.){1,8}" are far below)
 */
#define POSIX_MAX_WEIGHT 100000
#define POSIX_MAX_OPTIONAL_COPIES 1000
#define POSIX_MAX_DEPTH 250

enum posix_token {
	POSIX_ATOM,
	POSIX_OPEN,
	POSIX_CLOSE,
	POSIX_ALT,
	POSIX_OPTIONAL, /* '*' or '?': wraps, no copy */
	POSIX_REPEAT,   /* '+' or a bound: copies */
	POSIX_BACKREF,  /* "\\1" to "\\9" */
};

struct posix_repeat {
	size_t copies;  /* how many times the operand is built */
	bool is_range;  /* some copies are optional ('+', "{m,n}") */
};

/* Skip a bracket expression starting at '['; returns the text after it. */
static const char *
posix_skip_bracket(const char *cp)
{
	cp++;
	if (*cp == '^')
		cp++;
	if (*cp == ']')
		cp++;
	while (*cp != 0 && *cp != ']') {
		if (cp[0] == '[' && (cp[1] == ':' || cp[1] == '=' ||
				     cp[1] == '.')) {
			const char *end = strchr(cp + 2, cp[1]);

			if (end != NULL && end[1] == ']') {
				cp = end + 2;
				continue;
			}
		}
		cp++;
	}
	return *cp ? cp + 1 : cp;
}

static size_t
posix_number(const char **cursor, bool *has_digits_out)
{
	size_t value = 0;

	*has_digits_out = false;
	for (; **cursor >= '0' && **cursor <= '9'; (*cursor)++) {
		*has_digits_out = true;
		if (value <= POSIX_MAX_WEIGHT)
			value = value * 10 + (size_t)(**cursor - '0');
	}
	return value;
}

/* A bound "{m}", "{m,}", "{m,n}" or "{,n}" after its opening brace (BRE:
 * closed by "\\}"). false if the text is no bound. */
static bool
posix_bound(const char **cursor, bool is_extended, struct posix_repeat *rep)
{
	const char *cp = *cursor;
	bool has_low;
	bool has_high = false;
	size_t low = posix_number(&cp, &has_low);
	size_t high = low;

	rep->is_range = *cp == ',';
	if (rep->is_range) {
		cp++;
		high = posix_number(&cp, &has_high);
		if (!has_high)
			high = low + 1;
	}
	if (!has_low && !has_high)
		return false;
	if (!is_extended && *cp++ != '\\')
		return false;
	if (*cp != '}')
		return false;
	*cursor = cp + 1;
	rep->copies = low > high ? low : high;
	if (rep->copies == 0)
		rep->copies = 1;
	return true;
}

/* Next token of pattern at *cursor (ERE, or BRE with GNU extensions). */
static enum posix_token
posix_next(const char **cursor, bool is_extended, struct posix_repeat *rep)
{
	const char *cp = *cursor;
	char ch = *cp++;
	bool is_escaped = ch == '\\' && *cp != 0;

	if (is_escaped)
		ch = *cp++;
	*cursor = cp;
	if (!is_escaped && ch == '[') {
		*cursor = posix_skip_bracket(cp - 1);
		return POSIX_ATOM;
	}
	if (!is_escaped && ch == '*')
		return POSIX_OPTIONAL;
	if (is_escaped && ch >= '1' && ch <= '9')
		return POSIX_BACKREF;
	if (is_escaped == is_extended)
		return POSIX_ATOM;
	switch (ch) {
	case '(':
		return POSIX_OPEN;
	case ')':
		return POSIX_CLOSE;
	case '|':
		return POSIX_ALT;
	case '?':
		return POSIX_OPTIONAL;
	case '+':
		rep->copies = 2;
		rep->is_range = true;
		return POSIX_REPEAT;
	case '{':
		return posix_bound(cursor, is_extended, rep) ? POSIX_REPEAT
							     : POSIX_ATOM;
	default:
		return POSIX_ATOM;
	}
}

/* a * b, or just past the weight limit when that is bigger. */
static size_t
posix_mul(size_t a, size_t b)
{
	if (a > POSIX_MAX_WEIGHT || b > POSIX_MAX_WEIGHT ||
	    a * b > POSIX_MAX_WEIGHT)
		return POSIX_MAX_WEIGHT + 1;
	return a * b;
}

/* The estimate for one sequence: the current group, or the whole. */
struct posix_seq {
	size_t sum;          /* weight so far */
	size_t last;         /* weight of the last operand */
	bool last_has_star;  /* the last operand holds an optional part */
	bool has_star;       /* the sequence does */
};

struct posix_estimate {
	struct posix_seq stack[POSIX_MAX_DEPTH];
	size_t depth;
	struct posix_seq seq;
	size_t optional_copies;
};

static void
posix_repeat(struct posix_estimate *est, const struct posix_repeat *rep)
{
	struct posix_seq *seq = &est->seq;
	size_t extra = posix_mul(seq->last, rep->copies - 1);

	if (seq->last_has_star)
		est->optional_copies += extra;
	seq->sum += extra;
	seq->last = posix_mul(seq->last, rep->copies);
	if (rep->is_range)
		seq->last_has_star = seq->has_star = true;
}

static int
posix_step(struct posix_estimate *est, enum posix_token token,
	   const struct posix_repeat *rep, struct err *err)
{
	struct posix_seq *seq = &est->seq;
	struct posix_seq group;

	switch (token) {
	case POSIX_OPEN:
		if (est->depth == POSIX_MAX_DEPTH) {
			err_set(err, "regular expression nested deeper than "
				"%d levels", POSIX_MAX_DEPTH);
			return -1;
		}
		est->stack[est->depth++] = *seq;
		memset(seq, 0, sizeof(*seq));
		return 0;
	case POSIX_CLOSE:
		group = *seq;
		if (est->depth > 0)
			*seq = est->stack[--est->depth];
		seq->last = group.sum + 1;
		seq->sum += seq->last;
		seq->last_has_star = group.has_star;
		seq->has_star |= group.has_star;
		return 0;
	case POSIX_ALT:
		seq->last = 0;
		seq->last_has_star = false;
		return 0;
	case POSIX_OPTIONAL:
		seq->sum++;
		seq->last++;
		seq->last_has_star = seq->has_star = true;
		return 0;
	case POSIX_REPEAT:
		posix_repeat(est, rep);
		return 0;
	case POSIX_BACKREF:
		err_set(err, "back-references are not supported in regexp "
			"tables (glibc takes exponential time to match them); "
			"use a pcre table");
		return -1;
	default:
		seq->sum++;
		seq->last = 1;
		seq->last_has_star = false;
		return 0;
	}
}

static int
posix_check_size(const char *pattern, bool is_extended, struct err *err)
{
	struct posix_estimate *est = xmalloc(sizeof(*est));
	struct posix_repeat rep = { 1, false };
	int ret = 0;

	while (*pattern != 0 && ret == 0) {
		enum posix_token token = posix_next(&pattern, is_extended,
						    &rep);

		ret = posix_step(est, token, &rep, err);
		if (ret == 0 && (est->seq.sum > POSIX_MAX_WEIGHT ||
				 est->optional_copies >
					 POSIX_MAX_OPTIONAL_COPIES)) {
			err_set(err, "regular expression too complex after "
				"expanding its repetitions");
			ret = -1;
		}
	}
	free(est);
	return ret;
}

struct posix_re {
	regex_t re;
	regmatch_t *groups; /* groups 0..count-1, or NULL without captures */
	size_t count;
};

static void *
posix_compile(const char *pattern, unsigned flags, bool want_captures,
	      size_t *groups_out, struct err *err)
{
	struct posix_re *pr = xmalloc(sizeof(*pr));
	int cflags = (int)flags | (want_captures ? 0 : REG_NOSUB);
	int code;

	if (posix_check_size(pattern, flags & REG_EXTENDED, err) < 0) {
		free(pr);
		return NULL;
	}
	if ((code = regcomp(&pr->re, pattern, cflags)) != 0) {
		char text[256];

		regerror(code, &pr->re, text, sizeof(text));
		err_set(err, "%s", text);
		free(pr);
		return NULL;
	}
	*groups_out = pr->re.re_nsub;
	if (want_captures) {
		pr->count = pr->re.re_nsub + 1;
		pr->groups = xcalloc(pr->count, sizeof(*pr->groups));
	}
	return pr;
}

static int
posix_match(void *re, const char *key, struct err *err)
{
	struct posix_re *pr = re;
	int code = regexec(&pr->re, key, pr->count, pr->groups, 0);
	char text[256];

	if (code == 0)
		return 1;
	if (code == REG_NOMATCH)
		return 0;
	regerror(code, &pr->re, text, sizeof(text));
	err_set(err, "matching error: %s", text);
	return -1;
}

static bool
posix_capture(const void *re, size_t index, size_t *start_out,
	      size_t *end_out)
{
	const struct posix_re *pr = re;

	if (index >= pr->count || pr->groups[index].rm_so < 0)
		return false;
	*start_out = (size_t)pr->groups[index].rm_so;
	*end_out = (size_t)pr->groups[index].rm_eo;
	return true;
}

static void
posix_free(void *re)
{
	struct posix_re *pr = re;

	regfree(&pr->re);
	free(pr->groups);
	free(pr);
}

static const struct dict_pattern_flag posix_flags[] = {
	{ 'i', REG_ICASE },
	{ 'x', REG_EXTENDED },
	{ 'm', REG_NEWLINE },
	{ 0, 0 },
};

static const struct dict_pattern_ops posix_ops = {
	.type = "regexp",
	.flags = posix_flags,
	.default_flags = REG_EXTENDED | REG_ICASE,
	.compile = posix_compile,
	.match = posix_match,
	.capture = posix_capture,
	.free = posix_free,
};

struct dict *
dict_regexp_open(const char *name, int open_flags, int dict_flags,
		 struct err *err)
{
	return dict_pattern_open(&posix_ops, name, open_flags, dict_flags,
				 err);
}

/* PCRE2 engine. */

struct pcre_re {
	pcre2_code *code;
	pcre2_match_data *data;
	int pairs; /* ovector pairs set by the last match */
};

static void
pcre_error_text(int code, char *text, size_t size)
{
	if (pcre2_get_error_message(code, (PCRE2_UCHAR *)text, size) < 0)
		snprintf(text, size, "error %d", code);
}

static void *
pcre_compile(const char *pattern, unsigned flags, bool want_captures,
	     size_t *groups_out, struct err *err)
{
	struct pcre_re *pr;
	pcre2_code *code;
	PCRE2_SIZE offset;
	uint32_t groups;
	int error;

	(void)want_captures;
	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			     flags, &error, &offset, NULL);
	if (code == NULL) {
		char text[256];

		pcre_error_text(error, text, sizeof(text));
		err_set(err, "error in regex at offset %zu: %s",
			(size_t)offset, text);
		return NULL;
	}
	pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &groups);
	pr = xmalloc(sizeof(*pr));
	pr->code = code;
	pr->data = pcre2_match_data_create_from_pattern(code, NULL);
	if (pr->data == NULL)
		log_fatal("out of memory for PCRE2 match data");
	*groups_out = groups;
	return pr;
}

static int
pcre_match(void *re, const char *key, struct err *err)
{
	struct pcre_re *pr = re;
	char text[256];
	int rc;

	rc = pcre2_match(pr->code, (PCRE2_SPTR)key, strlen(key), 0, 0,
			 pr->data, NULL);
	pr->pairs = rc > 0 ? rc : 0;
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	pcre_error_text(rc, text, sizeof(text));
	err_set(err, "matching error %d: %s", rc, text);
	return -1;
}

static bool
pcre_capture(const void *re, size_t index, size_t *start_out,
	     size_t *end_out)
{
	const struct pcre_re *pr = re;
	const PCRE2_SIZE *ovector = pcre2_get_ovector_pointer(pr->data);

	if (index >= (size_t)pr->pairs || ovector[2 * index] == PCRE2_UNSET)
		return false;
	*start_out = ovector[2 * index];
	*end_out = ovector[2 * index + 1];
	return true;
}

static void
pcre_free(void *re)
{
	struct pcre_re *pr = re;

	pcre2_match_data_free(pr->data);
	pcre2_code_free(pr->code);
	free(pr);
}

static const struct dict_pattern_flag pcre_flags[] = {
	{ 'i', PCRE2_CASELESS },
	{ 'm', PCRE2_MULTILINE },
	{ 's', PCRE2_DOTALL },
	{ 'x', PCRE2_EXTENDED },
	{ 'A', PCRE2_ANCHORED },
	{ 'E', PCRE2_DOLLAR_ENDONLY },
	{ 'U', PCRE2_UNGREEDY },
	{ 'X', 0 },
	{ 0, 0 },
};

static const struct dict_pattern_ops pcre_ops = {
	.type = "pcre",
	.flags = pcre_flags,
	.default_flags = PCRE2_CASELESS | PCRE2_DOTALL,
	.compile = pcre_compile,
	.match = pcre_match,
	.capture = pcre_capture,
	.free = pcre_free,
};

struct dict *
dict_pcre_open(const char *name, int open_flags, int dict_flags,
	       struct err *err)
{
	return dict_pattern_open(&pcre_ops, name, open_flags, dict_flags,
				 err);
}
