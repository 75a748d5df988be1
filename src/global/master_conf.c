/*
 * master_conf.c - master.cf read into an array of service entries.
 *
 * The file is read with util/line_reader (comments, continuations, line
 * limits); each logical line is split on white space with "{ ... }" groups
 * kept whole, checked column by column, and its command arguments are
 * scanned like getopt would: -o settings are recognised only in the option
 * words that follow the command, up to the first non-option word or "--".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/htable.h"
#include "util/line_reader.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/tokens.h"

#include "global/master_conf.h"

#define BLANKS " \t"

/* How much of a bad value a message quotes. */
#define QUOTE_MAX 100

/* Where one logical line is being parsed, for messages. */
struct parse_ctx {
	const char *name;
	int lineno;
	int flags;
	struct argv *warnings;
	struct err *err;
};

static const char *const field_names[MASTER_FIELD_COUNT] = {
	"service", "type",   "private",       "unprivileged",
	"chroot",  "wakeup", "process_limit", "command",
};

static const char *const type_names[] = {
	[MASTER_TYPE_INET] = "inet",
	[MASTER_TYPE_UNIX] = "unix",
	[MASTER_TYPE_UNIX_DGRAM] = "unix-dgram",
	[MASTER_TYPE_FIFO] = "fifo",
	[MASTER_TYPE_PASS] = "pass",
};

#define TYPE_COUNT (sizeof(type_names) / sizeof(type_names[0]))

const char *
master_type_name(enum master_type type)
{
	if ((size_t)type >= TYPE_COUNT)
		return NULL;
	return type_names[type];
}

enum master_type
master_type_parse(const char *text)
{
	for (size_t i = 0; i < TYPE_COUNT; i++)
		if (type_names[i] != NULL && strcmp(type_names[i], text) == 0)
			return (enum master_type)i;
	return MASTER_TYPE_UNKNOWN;
}

const char *
master_field_name(enum master_field field)
{
	if ((unsigned)field >= MASTER_FIELD_COUNT)
		return NULL;
	return field_names[field];
}

int
master_field_parse(const char *text)
{
	for (int i = 0; i < MASTER_FIELD_COUNT; i++)
		if (strcmp(field_names[i], text) == 0)
			return i;
	return -1;
}

/* "NAME, line N: reason" into err; always -1. */
__attribute__((format(printf, 2, 3))) static int
fail(const struct parse_ctx *pc, const char *fmt, ...)
{
	struct strbuf text;
	va_list ap;

	strbuf_init(&text, STRBUF_UNLIMITED);
	va_start(ap, fmt);
	strbuf_vprintf(&text, fmt, ap);
	va_end(ap);
	err_set(pc->err, "%s, line %d: %s", pc->name, pc->lineno,
		strbuf_text(&text));
	strbuf_deinit(&text);
	return -1;
}

/*
 * Something master must refuse but postconf must show: an error in strict
 * mode (-1), else a warning (0).
 */
__attribute__((format(printf, 2, 3))) static int
problem(const struct parse_ctx *pc, const char *fmt, ...)
{
	struct strbuf text;
	va_list ap;
	int ret = 0;

	strbuf_init(&text, STRBUF_UNLIMITED);
	va_start(ap, fmt);
	strbuf_vprintf(&text, fmt, ap);
	va_end(ap);
	if (pc->flags & MASTER_CONF_STRICT) {
		err_set(pc->err, "%s, line %d: %s", pc->name, pc->lineno,
			strbuf_text(&text));
		ret = -1;
	} else if (pc->warnings != NULL) {
		char *line = xasprintf("%s, line %d: %s", pc->name,
				       pc->lineno, strbuf_text(&text));

		argv_add(pc->warnings, line);
		free(line);
	}
	strbuf_deinit(&text);
	return ret;
}

/* Decimal 0..max without sign; *end_out gets the first byte after it. */
static int
parse_number(const char *text, long max, int *out, const char **end_out)
{
	long value = 0;
	const char *cp;

	for (cp = text; *cp >= '0' && *cp <= '9'; cp++) {
		value = value * 10 + (*cp - '0');
		if (value > max)
			return -1;
	}
	if (cp == text)
		return -1;
	*out = (int)value;
	*end_out = cp;
	return 0;
}

static int
bad_value(const struct parse_ctx *pc, enum master_field field,
	  const char *value)
{
	return fail(pc, "field \"%s\": bad value: \"%.*s\"",
		    field_names[field], QUOTE_MAX, value);
}

/* A y/n/- column; "-" gives def. */
static int
parse_flag(const struct parse_ctx *pc, enum master_field field,
	   const char *value, bool def, bool *out)
{
	if (strcmp(value, "-") == 0)
		*out = def;
	else if (strcmp(value, "y") == 0)
		*out = true;
	else if (strcmp(value, "n") == 0)
		*out = false;
	else
		return bad_value(pc, field, value);
	return 0;
}

/* Wakeup: "-" (never), or seconds with an optional trailing '?'. */
static int
parse_wakeup(const struct parse_ctx *pc, struct master_service *svc)
{
	const char *value = svc->fields[MASTER_FIELD_WAKEUP];
	const char *end;

	svc->wakeup = 0;
	svc->wakeup_if_used = false;
	if (strcmp(value, "-") == 0)
		return 0;
	if (parse_number(value, MASTER_CONF_MAX_WAKEUP, &svc->wakeup, &end) <
	    0)
		return bad_value(pc, MASTER_FIELD_WAKEUP, value);
	if (*end == '?') {
		svc->wakeup_if_used = true;
		end++;
	}
	if (*end != 0)
		return bad_value(pc, MASTER_FIELD_WAKEUP, value);
	return 0;
}

/* Process limit: "-" (default_process_limit) or a count, 0 = no limit. */
static int
parse_maxproc(const struct parse_ctx *pc, struct master_service *svc)
{
	const char *value = svc->fields[MASTER_FIELD_MAXPROC];
	const char *end;

	if (strcmp(value, "-") == 0) {
		svc->maxproc = MASTER_MAXPROC_DEFAULT;
		return 0;
	}
	if (parse_number(value, MASTER_CONF_MAX_PROC, &svc->maxproc, &end) <
		    0 ||
	    *end != 0)
		return bad_value(pc, MASTER_FIELD_MAXPROC, value);
	return 0;
}

static int
check_name(const struct parse_ctx *pc, const struct master_service *svc)
{
	if (strlen(svc->name) > MASTER_CONF_MAX_NAME)
		return fail(pc, "service name longer than %d bytes",
			    MASTER_CONF_MAX_NAME);
	/* Socket and fifo names live in private/ or public/. */
	if (svc->type_code != MASTER_TYPE_INET &&
	    strchr(svc->name, '/') != NULL)
		return problem(pc, "service name must not contain '/': %.*s",
			       QUOTE_MAX, svc->name);
	return 0;
}

static int
check_columns(const struct parse_ctx *pc, struct master_service *svc)
{
	char **fields = svc->fields;

	svc->name = fields[MASTER_FIELD_SERVICE];
	svc->type = fields[MASTER_FIELD_TYPE];
	svc->type_code = master_type_parse(svc->type);
	if (svc->type_code == MASTER_TYPE_UNKNOWN &&
	    problem(pc, "unexpected service type: %.*s", QUOTE_MAX,
		    svc->type) < 0)
		return -1;
	if (check_name(pc, svc) < 0 ||
	    parse_flag(pc, MASTER_FIELD_PRIVATE, fields[MASTER_FIELD_PRIVATE],
		       true, &svc->is_private) < 0 ||
	    parse_flag(pc, MASTER_FIELD_UNPRIV, fields[MASTER_FIELD_UNPRIV],
		       true, &svc->is_unpriv) < 0 ||
	    parse_flag(pc, MASTER_FIELD_CHROOT, fields[MASTER_FIELD_CHROOT],
		       false, &svc->is_chroot) < 0 ||
	    parse_wakeup(pc, svc) < 0 || parse_maxproc(pc, svc) < 0)
		return -1;
	/* "-" means private, which an inet service cannot be: treat as n. */
	if (svc->type_code == MASTER_TYPE_INET &&
	    strcmp(fields[MASTER_FIELD_PRIVATE], "y") == 0 &&
	    problem(pc, "inet service cannot be private") < 0)
		return -1;
	if (svc->type_code == MASTER_TYPE_INET)
		svc->is_private = false;
	return 0;
}

static void
add_opt(struct master_service *svc, const char *name, const char *value)
{
	svc->opts = xreallocarray(svc->opts, svc->opt_count + 1,
				  sizeof(*svc->opts));
	svc->opts[svc->opt_count].name = xstrdup(name);
	svc->opts[svc->opt_count].value = xstrdup(value);
	svc->opts[svc->opt_count].arg_index = svc->args->count;
	svc->opt_count++;
}

/*
 * The text of one command word: "{ a b }" becomes "a b". An unbalanced
 * group is kept as written (a warning, or an error in strict mode).
 * Returns a fresh copy, or NULL on a strict-mode error.
 */
static char *
unbrace_word(const struct parse_ctx *pc, const char *word)
{
	char *copy = xstrdup(word);
	struct err why;
	char *inner;

	if (*copy != '{')
		return copy;
	if ((inner = str_unbrace(copy, &why)) == NULL) {
		free(copy);
		if (problem(pc, "%s", why.text) < 0)
			return NULL;
		return xstrdup(word);
	}
	memmove(copy, inner, strlen(inner) + 1);
	return copy;
}

/* The word after "-o": a name=value setting. */
static int
add_setting(const struct parse_ctx *pc, struct master_service *svc,
	    const char *text)
{
	char *copy = xstrdup(text);
	char *name;
	char *value;
	struct err why;
	char *joined;

	if (str_split_nameval(copy, &name, &value, &why) < 0) {
		free(copy);
		if (problem(pc, "-o %.*s: %s", QUOTE_MAX, text, why.text) < 0)
			return -1;
		argv_add(svc->args, text);
		return 0;
	}
	add_opt(svc, name, value);
	joined = xasprintf("%s=%s", name, value);
	argv_add(svc->args, joined);
	free(joined);
	free(copy);
	return 0;
}

/*
 * Command words: options are the words after the command that start with
 * '-', up to "--" or the first other word; "-o" takes the next word.
 */
static int
parse_command(const struct parse_ctx *pc, struct master_service *svc,
	      const struct argv *words)
{
	bool in_options = true;
	bool want_setting = false;

	svc->args = argv_create();
	for (size_t i = 0; i < words->count; i++) {
		const char *word = words->items[i];
		char *text;
		int ret = 0;

		if ((text = unbrace_word(pc, word)) == NULL)
			return -1;
		if (want_setting) {
			ret = add_setting(pc, svc, text);
			want_setting = false;
		} else {
			argv_add(svc->args, text);
			if (i > 0 && in_options)
				in_options = word[0] == '-' &&
					     strcmp(word, "--") != 0;
			want_setting = i > 0 && in_options &&
				       strcmp(word, "-o") == 0;
		}
		free(text);
		if (ret < 0)
			return -1;
	}
	svc->command = svc->args->items[0];
	if (want_setting)
		return problem(pc, "missing name=value after -o");
	return 0;
}

/* Split the line: seven columns, then the command words. */
static int
split_line(const struct parse_ctx *pc, char *copy, struct master_service *svc,
	   struct argv *words)
{
	char *cursor = copy;
	char *word;
	int field;

	for (field = 0; field < MASTER_FIELD_COMMAND; field++) {
		if ((word = str_token_braced(&cursor, BLANKS)) == NULL)
			return fail(pc, "too few fields");
		svc->fields[field] = xstrdup(word);
	}
	while ((word = str_token_braced(&cursor, BLANKS)) != NULL) {
		if (words->count >= MASTER_CONF_MAX_ARGS)
			return fail(pc, "more than %d command words",
				    MASTER_CONF_MAX_ARGS);
		argv_add(words, word);
	}
	if (words->count == 0)
		return fail(pc, "too few fields");
	return 0;
}

int
master_service_parse(const char *line, const char *name, int lineno,
		     int flags, struct master_service *svc,
		     struct argv *warnings, struct err *err)
{
	struct parse_ctx pc = {name, lineno, flags, warnings, err};
	char *copy = xstrdup(line);
	struct argv *words = argv_create();
	int ret;

	memset(svc, 0, sizeof(*svc));
	svc->lineno = lineno;
	svc->raw = xstrdup(line);
	ret = split_line(&pc, copy, svc, words);
	if (ret == 0)
		ret = check_columns(&pc, svc);
	if (ret == 0)
		ret = parse_command(&pc, svc, words);
	argv_destroy(&words);
	free(copy);
	if (ret < 0)
		master_service_free(svc);
	return ret;
}

void
master_service_free(struct master_service *svc)
{
	for (int i = 0; i < MASTER_FIELD_COMMAND; i++)
		free(svc->fields[i]);
	for (size_t i = 0; i < svc->opt_count; i++) {
		free(svc->opts[i].name);
		free(svc->opts[i].value);
	}
	free(svc->opts);
	argv_destroy(&svc->args);
	free(svc->raw);
	memset(svc, 0, sizeof(*svc));
}

/* Mark an earlier entry with the same name/type as superseded. */
static void
note_duplicate(struct master_conf *conf, struct htable *seen)
{
	struct master_service *svc = &conf->services[conf->count - 1];
	char *key = xasprintf("%s/%s", svc->name, svc->type);
	struct htable_entry *entry = htable_locate(seen, key);

	if (entry != NULL) {
		size_t earlier = (size_t)(uintptr_t)entry->value - 1;
		char *text = xasprintf("%s, line %d: duplicate entry for "
				       "service %.*s (also on line %d) -- "
				       "using the last entry",
				       conf->path, svc->lineno,
				       QUOTE_MAX, key,
				       conf->services[earlier].lineno);

		conf->services[earlier].is_superseded = true;
		argv_add(conf->warnings, text);
		free(text);
		entry->value = (void *)(uintptr_t)conf->count;
	} else {
		htable_insert(seen, key, (void *)(uintptr_t)conf->count);
	}
	free(key);
}

static int
add_line(struct master_conf *conf, const char *line, int lineno, int flags,
	 struct err *err)
{
	struct master_service svc;

	if (conf->count >= MASTER_CONF_MAX_SERVICES) {
		err_set(err, "%s, line %d: more than %d services", conf->path,
			lineno, MASTER_CONF_MAX_SERVICES);
		return -1;
	}
	if (master_service_parse(line, conf->path, lineno, flags, &svc,
				 conf->warnings, err) < 0)
		return -1;
	conf->services = xreallocarray(conf->services, conf->count + 1,
				       sizeof(*conf->services));
	conf->services[conf->count++] = svc;
	return 0;
}

/* As Postfix does, an indented first line is skipped with a warning. */
static void
note_skipped(void *ctx, const char *warning)
{
	argv_add(ctx, warning);
}

struct master_conf *
master_conf_read(FILE *fp, const char *name, int flags, struct err *err)
{
	struct master_conf *conf = xmalloc(sizeof(*conf));
	struct line_reader *lr = line_reader_from_stream(fp, name);
	struct htable *seen = htable_create(64);
	struct strbuf line;
	int ret;

	conf->path = xstrdup(name);
	conf->warnings = argv_create();
	line_reader_skip_leading_space(lr, note_skipped, conf->warnings);
	strbuf_init(&line, LINE_READER_MAX_LOGICAL);
	while ((ret = line_reader_next(lr, &line, err)) > 0) {
		int lineno = line_reader_lineno(lr);

		if (lineno > MASTER_CONF_MAX_LINES) {
			err_set(err, "%s, line %d: more than %d lines", name,
				lineno, MASTER_CONF_MAX_LINES);
			ret = -1;
			break;
		}
		if ((ret = add_line(conf, strbuf_text(&line), lineno, flags,
				    err)) < 0)
			break;
		note_duplicate(conf, seen);
	}
	strbuf_deinit(&line);
	htable_destroy(&seen, NULL);
	line_reader_close(&lr);
	if (ret < 0)
		master_conf_destroy(&conf);
	return conf;
}

struct master_conf *
master_conf_load(const char *path, int flags, struct err *err)
{
	FILE *fp = fopen(path, "re");
	struct master_conf *conf;

	if (fp == NULL) {
		err_set(err, "open %s: %s", path, strerror(errno));
		return NULL;
	}
	conf = master_conf_read(fp, path, flags, err);
	fclose(fp);
	return conf;
}

void
master_conf_destroy(struct master_conf **confp)
{
	struct master_conf *conf = *confp;

	if (conf == NULL)
		return;
	for (size_t i = 0; i < conf->count; i++)
		master_service_free(&conf->services[i]);
	free(conf->services);
	argv_destroy(&conf->warnings);
	free(conf->path);
	free(conf);
	*confp = NULL;
}

const struct master_service *
master_conf_find(const struct master_conf *conf, const char *name,
		 const char *type)
{
	for (size_t i = conf->count; i-- > 0;) {
		const struct master_service *svc = &conf->services[i];

		if (strcmp(svc->name, name) == 0 &&
		    (type == NULL || strcmp(svc->type, type) == 0))
			return svc;
	}
	return NULL;
}

struct argv *
master_conf_service_names(const struct master_conf *conf)
{
	struct argv *names = argv_create();
	struct htable *seen = htable_create(64);

	for (size_t i = 0; i < conf->count; i++) {
		const char *name = conf->services[i].name;

		if (htable_insert(seen, name, NULL) == 0)
			argv_add(names, name);
	}
	htable_destroy(&seen, NULL);
	return names;
}

/* Per-transport parameters of the queue manager, with their defaults. */
static const char *const agent_params[][2] = {
	{"delivery_slot_cost", "$default_delivery_slot_cost"},
	{"delivery_slot_discount", "$default_delivery_slot_discount"},
	{"delivery_slot_loan", "$default_delivery_slot_loan"},
	{"destination_concurrency_failed_cohort_limit",
	 "$default_destination_concurrency_failed_cohort_limit"},
	{"destination_concurrency_limit",
	 "$default_destination_concurrency_limit"},
	{"destination_concurrency_negative_feedback",
	 "$default_destination_concurrency_negative_feedback"},
	{"destination_concurrency_positive_feedback",
	 "$default_destination_concurrency_positive_feedback"},
	{"destination_rate_delay", "$default_destination_rate_delay"},
	{"destination_recipient_limit",
	 "$default_destination_recipient_limit"},
	{"extra_recipient_limit", "$default_extra_recipient_limit"},
	{"initial_destination_concurrency",
	 "$initial_destination_concurrency"},
	{"minimum_delivery_slots", "$default_minimum_delivery_slots"},
	{"recipient_limit", "$default_recipient_limit"},
	{"recipient_refill_delay", "$default_recipient_refill_delay"},
	{"recipient_refill_limit", "$default_recipient_refill_limit"},
	{"transport_rate_delay", "$default_transport_rate_delay"},
};

#define AGENT_PARAM_COUNT (sizeof(agent_params) / sizeof(agent_params[0]))

static bool
is_word_in(const char *word, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(word, *list) == 0)
			return true;
	return false;
}

static void
derive_one(const char *service, const char *suffix, const char *def,
	   master_param_fn *fn, void *ctx)
{
	char *name = xasprintf("%s_%s", service, suffix);

	fn(name, def, ctx);
	free(name);
}

void
master_conf_derived_params(const struct master_conf *conf,
			   master_param_fn *fn, void *ctx)
{
	static const char *const agents[] = {
		"smtp", "lmtp", "local", "virtual", "error", "pipe", NULL,
	};
	static const char *const timed[] = {"pipe", "spawn", NULL};

	for (size_t i = 0; i < conf->count; i++) {
		const struct master_service *svc = &conf->services[i];

		if (is_word_in(svc->command, agents))
			for (size_t j = 0; j < AGENT_PARAM_COUNT; j++)
				derive_one(svc->name, agent_params[j][0],
					   agent_params[j][1], fn, ctx);
		if (is_word_in(svc->command, timed))
			derive_one(svc->name, "time_limit",
				   "$command_time_limit", fn, ctx);
	}
}
