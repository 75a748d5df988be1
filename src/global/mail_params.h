/*
 * mail_params.h - the one table of main.cf parameters Postern implements.
 *
 * Each parameter is declared once in mail_params.c with its main.cf name,
 * type, Postfix 3.7 default (exactly as `postconf -d` prints it), limits and
 * a one-line summary. postconf -d, the main.cf loader and the typed getters
 * in mail_conf.h all read this table. Defaults that Postfix computes at run
 * time (myhostname, mydomain, mynetworks, ...) have a compute function.
 */
#ifndef POSTERN_GLOBAL_MAIL_PARAMS_H
#define POSTERN_GLOBAL_MAIL_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

enum param_type {
	PARAM_STR,  /* text, may contain $name */
	PARAM_BOOL, /* yes/no */
	PARAM_INT,  /* decimal integer */
	PARAM_SIZE, /* byte count, decimal (long) */
	PARAM_TIME, /* number with optional unit s/m/h/d/w */
	PARAM_LIST, /* comma/space separated list, may contain { } groups */
};

struct mail_conf;

struct param_def {
	const char *name;
	enum param_type type;
	/* Default as postconf -d prints it; NULL when compute_default is set. */
	const char *default_value;
	/* Computed default (myhostname...); returns a malloc'ed string. */
	char *(*compute_default)(struct mail_conf *conf);
	long long min; /* numbers: smallest allowed value */
	long long max; /* numbers: largest allowed value, 0 = no limit */
	char time_unit; /* PARAM_TIME: unit of a bare number ('s', 'd', ...) */
	const char *summary;
};

/* The declared parameter called name, or NULL. */
const struct param_def *param_find(const char *name);

/* All declared parameters, sorted by name; *count_out gets the count. */
const struct param_def *param_table(size_t *count_out);

/*
 * True if name is a Postfix 3.7 parameter name (implemented here or not):
 * lets the loader tell "not supported yet" from "unknown, did you mean".
 */
bool param_is_postfix_name(const char *name);

#endif
