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
 * configuration error (worded as Postfix words it, e.g. "bad numerical
 * configuration: X = Y"), so log_fatal. Commands such as postconf use the
 * non-fatal forms to report and go on.
 */
#ifndef POSTERN_GLOBAL_MAIL_CONF_H
#define POSTERN_GLOBAL_MAIL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

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
 * Load config_dir/main.cf. config_dir NULL (or "") means $MAIL_CONFIG, else
 * MAIL_CONF_DEFAULT_DIR. A missing main.cf is an error ("open DIR/main.cf:
 * No such file or directory"), as is a malformed line ("DIR/main.cf, line
 * N: missing '=' after attribute name: \"text\"", "... missing attribute
 * name: ..."). Returns NULL with err set. As in Postfix, a first line that
 * starts with white space is skipped with a warning ("DIR/main.cf: logical
 * line must not start with whitespace: \"text\"", see line_reader.h).
 * Names are case-sensitive; the last assignment wins, with a warning as
 * Postfix gives ("DIR/main.cf, line N: overriding earlier entry: name=old
 * value"). A directory other
 * than MAIL_CONF_DEFAULT_DIR is recorded as config_directory = DIR before
 * main.cf is read, as Postfix does (main.cf may still override it).
 */
struct mail_conf *mail_conf_load(const char *config_dir, struct err *err);

/* As mail_conf_load, but main.cf's text comes from fp (not closed). */
struct mail_conf *mail_conf_load_stream(const char *config_dir, FILE *fp,
					struct err *err);

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

/* main.cf line where name was (last) set; 0 if not from main.cf. */
int mail_conf_lineno(const struct mail_conf *conf, const char *name);

/* Raw default of a declared parameter (computed ones computed once), or
 * NULL if name is not declared. A computed default that fails (say, a bad
 * mynetworks_style) is logged as a warning and returned as "". */
const char *mail_conf_default(struct mail_conf *conf, const char *name);

/*
 * Names given in main.cf, in file order (the first time each appears),
 * then those added by mail_conf_set; config_directory comes first when
 * mail_conf_load recorded it. The caller destroys the argv.
 */
struct argv *mail_conf_names(const struct mail_conf *conf);

/*
 * Expand $name references in text into out (see conf_expand.h for the
 * syntax). An undefined name expands to nothing. -1 with err on a syntax
 * error, a recursion, a limit (MAIL_CONF_MAX_DEPTH, out's size limit), a
 * bad number or level in an expression, or a failed computed default;
 * errors inside another parameter's value start "parameter NAME: ".
 */
int mail_conf_expand(struct mail_conf *conf, const char *text,
		     struct strbuf *out, struct err *err);

/* Log "DIR/main.cf: undefined parameter: NAME" for each undefined $NAME
 * met while expanding (off by default). postconf does not use this: it
 * warns once per reference, as Postfix does, through conf_check.h. */
void mail_conf_warn_undefined(struct mail_conf *conf, bool want);

/*
 * True if some value given in main.cf (or by mail_conf_set), some declared
 * default, or some text given to mail_conf_add_refs refers to name as
 * $name, ${name...} or $(name...).
 */
bool mail_conf_is_referenced(struct mail_conf *conf, const char *name);

/*
 * Record the names text refers to as references from outside main.cf (the
 * -o values of master.cf), so that a main.cf name used only there counts
 * as used. The record survives mail_conf_set.
 */
void mail_conf_add_refs(struct mail_conf *conf, const char *text);

/*
 * True if name has a value without master.cf's help: declared, a Postfix
 * parameter name (which Postfix would know), or given in main.cf or by
 * mail_conf_set.
 */
bool mail_conf_is_known(const struct mail_conf *conf, const char *name);

/*
 * True if name is a user-defined parameter in effect: given in main.cf,
 * not declared in mail_params, and referenced (mail_conf_is_referenced).
 */
bool mail_conf_is_user_param(struct mail_conf *conf, const char *name);

/*
 * Expanded value of a parameter (declared, or user-defined in main.cf),
 * valid for the life of conf. Non-fatal form returns -1 with err:
 * "parameter NAME: not defined" or an expansion error as above.
 */
int mail_conf_get(struct mail_conf *conf, const char *name,
		  const char **value_out, struct err *err);

/*
 * Typed non-fatal getters. -1 with err in Postfix's words:
 *   "DIR/main.cf: parameter NAME: ..."           (expansion failed)
 *   "bad boolean configuration: NAME = VALUE"    (not yes/no, any case)
 *   "bad numerical configuration: NAME = VALUE"  (int: C int range;
 *                                                 size: 64-bit range)
 *   "invalid NAME parameter value V < MIN" / "... V > MAX"
 *   "parameter NAME: bad time value or unit: VALUE"
 *   "invalid NAME: V (min MIN)" / "invalid NAME: V (max MAX)"
 * A name main.cf defines but mail_params does not declare is read with no
 * bounds (time unit 's'). A declared name of another type: log_panic.
 */
int mail_conf_get_bool(struct mail_conf *conf, const char *name, bool *out,
		       struct err *err);
int mail_conf_get_int(struct mail_conf *conf, const char *name, long long *out,
		      struct err *err);
int mail_conf_get_size(struct mail_conf *conf, const char *name, long long *out,
		       struct err *err);
int mail_conf_get_time(struct mail_conf *conf, const char *name, long long *out,
		       struct err *err);

/* Fatal getters for daemons: the errors above go to log_fatal. str and
 * list accept any type; list splits on TOKENS_LIST_DELIMS keeping {}
 * groups whole (the caller destroys the argv). */
const char *mail_conf_str(struct mail_conf *conf, const char *name);
bool mail_conf_bool(struct mail_conf *conf, const char *name);
long long mail_conf_int(struct mail_conf *conf, const char *name);
long long mail_conf_size(struct mail_conf *conf, const char *name);
long long mail_conf_time(struct mail_conf *conf, const char *name);
struct argv *mail_conf_list(struct mail_conf *conf, const char *name);

/*
 * Warn (log_warning) about every name in main.cf that is neither declared,
 * nor referenced (mail_conf_is_referenced), nor one of derived_names (may
 * be NULL): the parameters master.cf's services bring, as
 * master_conf_derived_params lists them ("relay_destination_rate_delay"):
 *   "DIR/main.cf: parameter NAME is not supported yet"   (a Postfix name)
 *   "DIR/main.cf: unknown parameter: NAME=VALUE (did you mean KNOWN?)"
 *   "DIR/main.cf: unused parameter: NAME=VALUE"          (no close name)
 * Names set by mail_conf_set rather than main.cf are not checked.
 */
void mail_conf_check_names(struct mail_conf *conf,
			   const struct argv *derived_names);

/*
 * The warning above for a name that nothing reads, for any file (main.cf,
 * or master.cf for an -o name): "FILE: parameter NAME is not supported
 * yet", "FILE: unknown parameter: NAME=VALUE (did you mean KNOWN?)" or
 * "FILE: unused parameter: NAME=VALUE".
 */
void mail_conf_warn_unused(const char *file, const char *name,
			   const char *value);

/*
 * The declared or Postfix name closest to name by edit distance (adjacent
 * swaps count as one edit), if close enough to be a likely misspelling:
 * at most 1 edit for names of 4-5 characters, 2 for longer ones, none for
 * shorter ones. Declared names win ties. NULL if none qualifies.
 */
const char *mail_conf_suggest_name(const char *name);

/* That distance; (size_t)-1 for strings longer than 64 characters. */
size_t mail_conf_edit_distance(const char *a, const char *b);

/*
 * Parse a time value: decimal digits and at most one unit s, m, h, d or w
 * ("300s", "5d"; a bare number is in def_unit), in seconds up to INT_MAX.
 * -1 with err "bad time value or unit: TEXT". Stricter than Postfix 3.7,
 * which ignores whatever follows the unit ("1h30m" is one hour there).
 */
int mail_conf_parse_time(const char *text, char def_unit, long long *out,
			 struct err *err);

/* "yes" or "no" in any case; -1 with err "bad boolean value: \"TEXT\"". */
int mail_conf_parse_bool(const char *text, bool *out, struct err *err);

#endif
