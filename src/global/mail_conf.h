/*
 * mail_conf.h - main.cf loaded, expanded and read through typed getters.
 *
 * A struct mail_conf holds the raw name = value pairs of one main.cf plus
 * any -o overrides. Values are expanded lazily when read: $name, ${name},
 * $(name), ${name?value}, ${name:value}, ${name?{value}:{value}} and
 * Postfix 3.x's ${{expr} op {expr} ? {a} : {b}} (==, !=, <, <=, >, >=, and
 * the "level" variants that compare compatibility levels). An unset name
 * expands to its default from mail_params. Recursion depth and expanded
 * size are limited, and exceeding them is an error, not a truncation.
 *
 * Daemons read parameters through the fatal getters: a bad value is a
 * configuration error ("main.cf: parameter X: bad value Y"), so log_fatal.
 * Commands such as postconf use the non-fatal forms to report and go on.
 */
#ifndef POSTERN_GLOBAL_MAIL_CONF_H
#define POSTERN_GLOBAL_MAIL_CONF_H

#include <stdbool.h>

#include "util/argv.h"
#include "util/err.h"
#include "util/strbuf.h"

/* Where main.cf lives when neither -c nor MAIL_CONFIG says otherwise. */
#define MAIL_CONF_DEFAULT_DIR "/etc/postfix"

/* Limits against hostile or broken configuration. */
#define MAIL_CONF_MAX_DEPTH 100
#define MAIL_CONF_MAX_VALUE (1024 * 1024)

struct mail_conf;

/*
 * Load config_dir/main.cf. config_dir NULL means $MAIL_CONFIG, else
 * MAIL_CONF_DEFAULT_DIR. A missing main.cf is an error ("open DIR/main.cf:
 * No such file or directory"), as is a malformed line ("DIR/main.cf, line
 * N: reason"). Returns NULL with err set.
 */
struct mail_conf *mail_conf_load(const char *config_dir, struct err *err);

/* An empty configuration (only defaults) for config_dir. */
struct mail_conf *mail_conf_create(const char *config_dir);

void mail_conf_destroy(struct mail_conf **confp);

/* The directory main.cf came from, and the full path of main.cf. */
const char *mail_conf_dir(const struct mail_conf *conf);
const char *mail_conf_path(const struct mail_conf *conf);

/* Set name = value as master.cf's -o or postconf -o would (raw value). */
void mail_conf_set(struct mail_conf *conf, const char *name,
		   const char *value);

/* Raw value given in main.cf or by mail_conf_set, or NULL if not given. */
const char *mail_conf_raw(const struct mail_conf *conf, const char *name);

/* Raw default of a declared parameter (computed ones computed once), or
 * NULL if name is not declared. */
const char *mail_conf_default(struct mail_conf *conf, const char *name);

/*
 * Names given in main.cf, in file order (the caller destroys the argv).
 */
struct argv *mail_conf_names(const struct mail_conf *conf);

/* Expand $name references in text into out. -1 with err on a syntax
 * error, an undefined-in-expression problem, or a limit. */
int mail_conf_expand(struct mail_conf *conf, const char *text,
		     struct strbuf *out, struct err *err);

/*
 * Expanded value of a parameter (declared, or user-defined in main.cf),
 * valid for the life of conf. Non-fatal form returns -1 with err.
 */
int mail_conf_get(struct mail_conf *conf, const char *name,
		  const char **value_out, struct err *err);

/* Fatal getters for daemons; name must be declared with the right type. */
const char *mail_conf_str(struct mail_conf *conf, const char *name);
bool mail_conf_bool(struct mail_conf *conf, const char *name);
long long mail_conf_int(struct mail_conf *conf, const char *name);
long long mail_conf_size(struct mail_conf *conf, const char *name);
long long mail_conf_time(struct mail_conf *conf, const char *name);
struct argv *mail_conf_list(struct mail_conf *conf, const char *name);

/*
 * Warn (log_warning) about every name in main.cf that is neither declared,
 * nor referenced as $name by another value, nor a per-service name derived
 * from master.cf (e.g. relay_destination_concurrency_limit): Postfix 3.7
 * names not implemented yet get "not supported yet", others "unknown
 * parameter" with the closest declared name suggested.
 */
void mail_conf_check_names(struct mail_conf *conf,
			   const struct argv *service_names);

/* Parse a time value with unit ("300s", "5d", bare number in def_unit). */
int mail_conf_parse_time(const char *text, char def_unit, long long *out,
			 struct err *err);
int mail_conf_parse_bool(const char *text, bool *out, struct err *err);

#endif
