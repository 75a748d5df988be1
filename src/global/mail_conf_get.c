/*
 * mail_conf_get.c - typed reads of main.cf parameters.
 *
 * Each type has a non-fatal getter that returns -1 with Postfix's wording
 * of the problem ("bad numerical configuration: NAME = VALUE", "invalid
 * NAME parameter value 0 < 512", ...), and a fatal getter for daemons that
 * logs that text with log_fatal. Bounds come from the parameter table;
 * names that main.cf defines but the table does not declare are read
 * without bounds. Asking for a declared name as the wrong type is a
 * programming error (log_panic).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "util/tokens.h"

#include "global/mail_conf.h"
#include "global/mail_params.h"

static const char *const type_names[] = {
	[PARAM_STR] = "text",  [PARAM_BOOL] = "boolean", [PARAM_INT] = "integer",
	[PARAM_SIZE] = "size", [PARAM_TIME] = "time",    [PARAM_LIST] = "list",
};

/* The declared definition of name, checked against the wanted type. */
static const struct param_def *
checked_def(const char *name, enum param_type type)
{
	const struct param_def *def = param_find(name);

	if (def != NULL && def->type != type)
		log_panic("parameter %s is a %s, not a %s", name,
			  type_names[def->type], type_names[type]);
	return def;
}

int
mail_conf_parse_bool(const char *text, bool *out, struct err *err)
{
	if (strcasecmp(text, "yes") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(text, "no") == 0) {
		*out = false;
		return 0;
	}
	err_set(err, "bad boolean value: \"%s\"", text);
	return -1;
}

/* A decimal number, optionally signed, within [lo, hi]; -1 otherwise. */
static int
parse_number(const char *text, long long lo, long long hi, long long *out)
{
	char *end;
	long long value;

	if (*text == 0 ||
	    (*text != '-' && *text != '+' && (*text < '0' || *text > '9')))
		return -1;
	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno == ERANGE || *end != 0 || end == text || value < lo ||
	    value > hi)
		return -1;
	*out = value;
	return 0;
}

int
mail_conf_parse_time(const char *text, char def_unit, long long *out,
		     struct err *err)
{
	static const struct {
		char unit;
		long long seconds;
	} units[] = {
		{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800},
	};
	const char *p = text;
	char unit;
	long long value = 0;

	while (*p >= '0' && *p <= '9' && value <= INT_MAX)
		value = value * 10 + (*p++ - '0');
	unit = *p != 0 ? *p : def_unit;
	if (p == text || (*p != 0 && p[1] != 0))
		goto bad;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (units[i].unit != unit)
			continue;
		/* Postfix keeps times in an int; so do we. */
		if (value > INT_MAX / units[i].seconds)
			goto bad;
		*out = value * units[i].seconds;
		return 0;
	}
bad:
	err_set(err, "bad time value or unit: %s", text);
	return -1;
}

/* The expanded value, with errors prefixed by the main.cf path. */
static int
get_text(struct mail_conf *conf, const char *name, const char **value_out,
	 struct err *err)
{
	if (mail_conf_get(conf, name, value_out, err) < 0) {
		err_prefix(err, "%s", mail_conf_path(conf));
		return -1;
	}
	return 0;
}

int
mail_conf_get_bool(struct mail_conf *conf, const char *name, bool *out,
		   struct err *err)
{
	const char *value;

	checked_def(name, PARAM_BOOL);
	if (get_text(conf, name, &value, err) < 0)
		return -1;
	if (mail_conf_parse_bool(value, out, NULL) < 0) {
		err_set(err, "bad boolean configuration: %s = %s", name, value);
		return -1;
	}
	return 0;
}

/* int and size share Postfix's wording, not their ranges. */
static int
get_number(struct mail_conf *conf, const char *name, enum param_type type,
	   long long *out, struct err *err)
{
	const struct param_def *def = checked_def(name, type);
	long long lo = type == PARAM_INT ? INT_MIN : LLONG_MIN;
	long long hi = type == PARAM_INT ? INT_MAX : LLONG_MAX;
	const char *value;

	if (get_text(conf, name, &value, err) < 0)
		return -1;
	if (parse_number(value, lo, hi, out) < 0) {
		err_set(err, "bad numerical configuration: %s = %s", name,
			value);
		return -1;
	}
	if (def != NULL && def->min != PARAM_NO_MIN && *out < def->min) {
		err_set(err, "invalid %s parameter value %lld < %lld", name,
			*out, def->min);
		return -1;
	}
	if (def != NULL && def->max != 0 && *out > def->max) {
		err_set(err, "invalid %s parameter value %lld > %lld", name,
			*out, def->max);
		return -1;
	}
	return 0;
}

int
mail_conf_get_int(struct mail_conf *conf, const char *name, long long *out,
		  struct err *err)
{
	return get_number(conf, name, PARAM_INT, out, err);
}

int
mail_conf_get_size(struct mail_conf *conf, const char *name, long long *out,
		   struct err *err)
{
	return get_number(conf, name, PARAM_SIZE, out, err);
}

int
mail_conf_get_time(struct mail_conf *conf, const char *name, long long *out,
		   struct err *err)
{
	const struct param_def *def = checked_def(name, PARAM_TIME);
	const char *value;

	if (get_text(conf, name, &value, err) < 0)
		return -1;
	if (mail_conf_parse_time(value, def != NULL ? def->time_unit : 's', out,
				 NULL) < 0) {
		err_set(err, "parameter %s: bad time value or unit: %s", name,
			value);
		return -1;
	}
	if (def != NULL && def->min != PARAM_NO_MIN && *out < def->min) {
		err_set(err, "invalid %s: %lld (min %lld)", name, *out,
			def->min);
		return -1;
	}
	if (def != NULL && def->max != 0 && *out > def->max) {
		err_set(err, "invalid %s: %lld (max %lld)", name, *out,
			def->max);
		return -1;
	}
	return 0;
}

const char *
mail_conf_str(struct mail_conf *conf, const char *name)
{
	const char *value;
	struct err err;

	if (get_text(conf, name, &value, &err) < 0)
		log_fatal("%s", err.text);
	return value;
}

bool
mail_conf_bool(struct mail_conf *conf, const char *name)
{
	bool value;
	struct err err;

	if (mail_conf_get_bool(conf, name, &value, &err) < 0)
		log_fatal("%s", err.text);
	return value;
}

long long
mail_conf_int(struct mail_conf *conf, const char *name)
{
	long long value;
	struct err err;

	if (mail_conf_get_int(conf, name, &value, &err) < 0)
		log_fatal("%s", err.text);
	return value;
}

long long
mail_conf_size(struct mail_conf *conf, const char *name)
{
	long long value;
	struct err err;

	if (mail_conf_get_size(conf, name, &value, &err) < 0)
		log_fatal("%s", err.text);
	return value;
}

long long
mail_conf_time(struct mail_conf *conf, const char *name)
{
	long long value;
	struct err err;

	if (mail_conf_get_time(conf, name, &value, &err) < 0)
		log_fatal("%s", err.text);
	return value;
}

struct argv *
mail_conf_list(struct mail_conf *conf, const char *name)
{
	return argv_split_braced(mail_conf_str(conf, name), TOKENS_LIST_DELIMS);
}
