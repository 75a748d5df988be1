/*
 * conf_check.h - Postfix's warnings about main.cf and master.cf together.
 *
 * Postfix's postconf, and so `postfix check`, warn about $names that
 * nothing defines and about parameter settings that nothing reads, in
 * main.cf and in master.cf's -o settings alike. What counts as defined or
 * read depends on both files: a main.cf name that only a master.cf -o
 * value uses is used, and an -o name is read if it is a parameter, or if
 * main.cf or that same service's -o values refer to it.
 */
#ifndef POSTERN_GLOBAL_CONF_CHECK_H
#define POSTERN_GLOBAL_CONF_CHECK_H

#include "util/argv.h"

#include "global/mail_conf.h"
#include "global/master_conf.h"

/* What conf_check_run warns about. */
#define CONF_CHECK_UNDEFINED (1 << 0)    /* $names nothing defines */
#define CONF_CHECK_MAIN_NAMES (1 << 1)   /* main.cf names nothing reads */
#define CONF_CHECK_MASTER_NAMES (1 << 2) /* -o names nothing reads */
#define CONF_CHECK_ALL                                                         \
	(CONF_CHECK_UNDEFINED | CONF_CHECK_MAIN_NAMES | CONF_CHECK_MASTER_NAMES)

/*
 * Record in conf (mail_conf_add_refs) the $names that master's -o values
 * refer to, so that main.cf names used only there count as used.
 */
void conf_check_add_master_refs(struct mail_conf *conf,
				const struct master_conf *master);

/*
 * The parameter names master's services bring (master_conf_derived_params),
 * each once, in file order. The caller destroys the argv.
 */
struct argv *conf_check_derived_names(const struct master_conf *master);

/*
 * Log Postfix's warnings (log_warning) in this order, each file's in file
 * order; master may be NULL when there is no master.cf.
 *
 * CONF_CHECK_UNDEFINED, for every occurrence of a $NAME, in conditional
 * branches too, that has no value:
 *   "DIR/master.cf: undefined parameter: NAME"  (in an -o value)
 *   "DIR/main.cf: undefined parameter: NAME"    (in a main.cf value)
 * A name has a value if mail_conf_is_known, if a service brings it, or if
 * set by an -o of the same service (for -o values) or of any service (for
 * main.cf values, as Postfix has it).
 *
 * CONF_CHECK_MAIN_NAMES: mail_conf_check_names with the derived names.
 *
 * CONF_CHECK_MASTER_NAMES, for each service's -o names (last value wins)
 * that are not declared, not brought by a service, and not referred to by
 * a main.cf value or by another -o value of the same service: the
 * mail_conf_warn_unused warnings with DIR/master.cf for the file, e.g.
 *   "DIR/master.cf: unused parameter: NAME=VALUE"
 *
 * Always calls conf_check_add_master_refs first.
 */
void conf_check_run(struct mail_conf *conf, const struct master_conf *master,
		    int flags);

#endif
