/*
 * postconf.h - what the parts of the postconf command share.
 *
 * postconf.c parses the command line and loads main.cf and master.cf;
 * postconf_main.c prints main.cf parameters; postconf_edit.c changes main.cf
 * (-e, -X, -#); postconf_master.c prints master.cf (-M, -F, -P).
 */
#ifndef POSTERN_POSTCONF_POSTCONF_H
#define POSTERN_POSTCONF_POSTCONF_H

#include <stdbool.h>
#include <stdio.h>

#include "util/argv.h"

#include "global/mail_conf.h"
#include "global/master_conf.h"

/* What postconf was asked to show. */
enum pc_mode {
	PC_MODE_MAIN,   /* main.cf parameters (the default, -p) */
	PC_MODE_MASTER, /* -M: master.cf entries */
	PC_MODE_FIELDS, /* -F: master.cf entry fields */
	PC_MODE_PARAMS, /* -P: master.cf -o settings */
	PC_MODE_MAPS,   /* -m: lookup table types */
};

/* How main.cf is to be changed, if at all. */
enum pc_edit {
	PC_EDIT_NONE,
	PC_EDIT_SET,     /* -e, or name=value arguments */
	PC_EDIT_REMOVE,  /* -X */
	PC_EDIT_COMMENT, /* -# */
};

struct postconf {
	enum pc_mode mode;
	enum pc_edit edit;
	bool want_defaults;   /* -d */
	bool want_nondefault; /* -n */
	bool want_fold;       /* -f */
	bool want_no_names;   /* -h */
	bool want_no_values;  /* -H */
	bool want_expand;     /* -x */
	char *config_dir;     /* -c, $MAIL_CONFIG or the default */
	bool is_dir_given;    /* by -c or $MAIL_CONFIG */
	struct argv *overrides; /* -o name=value, in order */
	struct mail_conf *conf;     /* main.cf with the overrides */
	struct master_conf *master; /* NULL if master.cf could not be read */
};

/* Lines longer than this are folded under -f, continuing after INDENT. */
#define PC_LINE_LIMIT 80
#define PC_INDENT "    "

/*
 * Print text and a newline to fp. Under want_fold, words (separated by
 * white space) are joined by single spaces and the line is broken before a
 * word that would reach PC_LINE_LIMIT columns.
 */
void pc_print_line(FILE *fp, const char *text, bool want_fold);

/*
 * Print "name = value" (value NULL or empty: "name ="), or only the name
 * or value under -H or -h, folded under -f.
 */
void pc_print_param(const struct postconf *pc, const char *name,
		    const char *value);

/*
 * A main.cf configuration for expanding values: main.cf and the -o
 * overrides, freshly loaded (so values can be added without disturbing
 * pc->conf). Fatal if main.cf cannot be read.
 */
struct mail_conf *pc_load_conf(const struct postconf *pc);

/*
 * $name expansion of the value of name in conf; fatal on a syntax error
 * ("WHERE: parameter NAME: reason"). The caller frees the result.
 */
char *pc_expand(struct mail_conf *conf, const char *where, const char *name,
		const char *value);

/* postconf_main.c: main.cf parameters, all or the named ones. */
void pc_show_main(struct postconf *pc, char **args);

/* postconf_edit.c: apply -e/-X/-# with the given arguments to main.cf. */
void pc_edit_main(const struct postconf *pc, char **args);

/* postconf_master.c: -M, -F or -P output for the given selectors. */
void pc_show_master(const struct postconf *pc, char **args);

#endif
