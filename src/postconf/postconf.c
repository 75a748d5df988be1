/*
 * postconf.c - the postconf command: show and change the configuration.
 *
 * Parses the command line the way Postfix's postconf does, loads main.cf
 * and master.cf, checks them as Postfix does (undefined $names, unused or
 * misspelled parameter names, global/conf_check.c; not under -d, which
 * ignores main.cf's settings) and hands over to postconf_main.c (main.cf
 * parameters), postconf_master.c (-M, -F, -P) or postconf_edit.c (-e, -X,
 * -#). Also holds the output helpers they share (folding for -f). Runs as
 * the invoking user; writes only main.cf, and only under -e, -X or -#.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/dict.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#include "global/conf_check.h"
#include "global/mail_conf.h"
#include "global/mail_params.h"
#include "global/master_conf.h"

#include "postconf/postconf.h"

#define PC_SEPARATORS " \t\r\n"

static const char usage_text[] =
	"usage: postconf [-c config_dir] [-d (parameter defaults)] "
	"[-e (edit configuration)] [-f (fold lines)] [-F (master.cf fields)] "
	"[-h (no names)] [-H (no values)] [-m (map types)] [-M (master.cf)] "
	"[-n (non-default parameters)] [-o name=value (override parameter "
	"value)] [-p (main.cf, default)] [-P (master.cf parameters)] "
	"[-v (verbose)] [-x (expand parameter values)] [-X (exclude)] "
	"[-# (comment-out)] [name...]";

void
pc_print_line(FILE *fp, const char *text, bool want_fold)
{
	size_t line_len = 0;
	const char *cp = text;

	if (!want_fold) {
		fputs(text, fp);
		putc('\n', fp);
		return;
	}
	while (*(cp += strspn(cp, PC_SEPARATORS)) != 0) {
		size_t word_len = strcspn(cp, PC_SEPARATORS);

		if (line_len > 0 && line_len + word_len < PC_LINE_LIMIT) {
			putc(' ', fp);
			line_len++;
		} else if (line_len > 0) {
			fputs("\n" PC_INDENT, fp);
			line_len = strlen(PC_INDENT);
		}
		fwrite(cp, 1, word_len, fp);
		line_len += word_len;
		cp += word_len;
	}
	putc('\n', fp);
}

void
pc_print_param(const struct postconf *pc, const char *name, const char *value)
{
	char *line;

	if (value == NULL)
		value = "";
	if (pc->want_no_values) {
		pc_print_line(stdout, name, false);
		return;
	}
	if (pc->want_no_names) {
		pc_print_line(stdout, value, pc->want_fold);
		return;
	}
	line = xasprintf("%s =%s%s", name, *value ? " " : "", value);
	pc_print_line(stdout, line, pc->want_fold);
	free(line);
}

static void
add_overrides(const struct postconf *pc, struct mail_conf *conf)
{
	/* Postfix shows the directory it was told to use as a setting. */
	if (pc->is_dir_given)
		mail_conf_set(conf, "config_directory", pc->config_dir);
	for (size_t i = 0; i < pc->overrides->count; i++) {
		char *copy = xstrdup(pc->overrides->items[i]);
		char *eq = strchr(copy, '=');

		*eq = 0;
		mail_conf_set(conf, copy, eq + 1);
		free(copy);
	}
}

struct mail_conf *
pc_load_conf(const struct postconf *pc)
{
	struct err err;
	struct mail_conf *conf = mail_conf_load(pc->config_dir, &err);

	if (conf == NULL)
		log_fatal("%s", err.text);
	add_overrides(pc, conf);
	return conf;
}

char *
pc_expand(struct mail_conf *conf, const char *where, const char *name,
	  const char *value)
{
	struct strbuf out;
	struct err err;
	char *result;

	strbuf_init(&out, MAIL_CONF_MAX_VALUE);
	if (mail_conf_expand(conf, value, &out, &err) < 0)
		log_fatal("%s: parameter %s: %s", where, name, err.text);
	result = xstrdup(strbuf_text(&out));
	strbuf_deinit(&out);
	return result;
}

/* master.cf for the main.cf modes: missing is a warning, bad is fatal. */
static void
load_master(struct postconf *pc, bool is_required)
{
	char *path = xasprintf("%s/master.cf", pc->config_dir);
	struct err err;

	pc->master = master_conf_load(path, 0, &err);
	if (pc->master == NULL) {
		if (is_required || access(path, F_OK) == 0)
			log_fatal("%s", err.text);
		log_warning("%s", err.text);
	} else {
		for (size_t i = 0; i < pc->master->warnings->count; i++)
			log_warning("%s", pc->master->warnings->items[i]);
	}
	free(path);
}

/*
 * Warn about undefined $names and about names nothing reads, as Postfix
 * does: main.cf names only when main.cf is what is shown.
 */
static void
check_names(struct postconf *pc)
{
	int flags = CONF_CHECK_UNDEFINED | CONF_CHECK_MASTER_NAMES;

	if (pc->mode == PC_MODE_MAIN)
		flags |= CONF_CHECK_MAIN_NAMES;
	conf_check_run(pc->conf, pc->master, flags);
}

/*
 * Expand every main.cf value once, as Postfix does whatever it was asked:
 * a syntax error is fatal. (Undefined $names are check_names' business:
 * Postfix warns once per reference, not once per expansion.)
 */
static void
check_values(struct postconf *pc)
{
	struct argv *names = mail_conf_names(pc->conf);
	const char *value;
	struct err err;

	for (size_t i = 0; i < names->count; i++)
		if (mail_conf_get(pc->conf, names->items[i], &value, &err) < 0)
			log_fatal("%s: %s", mail_conf_path(pc->conf), err.text);
	argv_destroy(&names);
}

static void
show_maps(void)
{
	for (const char *const *name = dict_type_names(); *name != NULL;
	     name++)
		puts(*name);
}

_Noreturn static void
usage(void)
{
	log_fatal("%s", usage_text);
}

/* Mode flags in the order Postfix names them in "specify one of". */
static const char *const mode_flags[] = {
	[PC_MODE_FIELDS] = "-F",
	[PC_MODE_MAPS] = "-m",
	[PC_MODE_MASTER] = "-M",
	[PC_MODE_PARAMS] = "-P",
};

static int
mode_rank(enum pc_mode mode)
{
	static const int rank[] = {
		[PC_MODE_FIELDS] = 0,
		[PC_MODE_MAPS] = 1,
		[PC_MODE_MASTER] = 2,
		[PC_MODE_PARAMS] = 3,
	};

	return rank[mode];
}

static void
set_mode(struct postconf *pc, enum pc_mode mode)
{
	enum pc_mode first = pc->mode;
	enum pc_mode second = mode;

	if (pc->mode != PC_MODE_MAIN && pc->mode != mode) {
		if (mode_rank(first) > mode_rank(second)) {
			first = mode;
			second = pc->mode;
		}
		log_fatal("specify one of %s %s", mode_flags[first],
			  mode_flags[second]);
	}
	pc->mode = mode;
}

static void
set_edit(struct postconf *pc, enum pc_edit edit)
{
	static const char *const flags[] = {
		[PC_EDIT_SET] = "-e",
		[PC_EDIT_REMOVE] = "-X",
		[PC_EDIT_COMMENT] = "-#",
	};

	/* The enum is in the order Postfix names them. */
	if (pc->edit != PC_EDIT_NONE && pc->edit != edit)
		log_fatal("specify one of %s %s",
			  flags[pc->edit < edit ? pc->edit : edit],
			  flags[pc->edit < edit ? edit : pc->edit]);
	pc->edit = edit;
}

static void
add_override(struct postconf *pc, const char *text)
{
	const char *eq = strchr(text, '=');

	if (eq == NULL || eq == text)
		log_fatal("-o option requires name=value argument");
	argv_add(pc->overrides, text);
}

/* One option letter; returns false for an unknown one. */
static bool
take_option(struct postconf *pc, int ch, const char *arg)
{
	switch (ch) {
	case 'c':
		free(pc->config_dir);
		pc->config_dir = xstrdup(arg);
		pc->is_dir_given = true;
		return true;
	case 'd': pc->want_defaults = true; return true;
	case 'e': set_edit(pc, PC_EDIT_SET); return true;
	case 'f': pc->want_fold = true; return true;
	case 'F': set_mode(pc, PC_MODE_FIELDS); return true;
	case 'h': pc->want_no_names = true; return true;
	case 'H': pc->want_no_values = true; return true;
	case 'm': set_mode(pc, PC_MODE_MAPS); return true;
	case 'M': set_mode(pc, PC_MODE_MASTER); return true;
	case 'n': pc->want_nondefault = true; return true;
	case 'o': add_override(pc, arg); return true;
	case 'p': return true;
	case 'P': set_mode(pc, PC_MODE_PARAMS); return true;
	case 'v': log_set_verbose(log_verbose() + 1); return true;
	case 'x': pc->want_expand = true; return true;
	case 'X': set_edit(pc, PC_EDIT_REMOVE); return true;
	case '#': set_edit(pc, PC_EDIT_COMMENT); return true;
	default: return false;
	}
}

static const char *const unsupported_options = "aAbCltT";

static void
parse_options(struct postconf *pc, int argc, char **argv)
{
	int ch;

	/* getopt's messages start with argv[0]; Postfix's with the name. */
	argv[0] = (char *)"postconf";
	while ((ch = getopt(argc, argv, "aAbc:C:defFhHlmMno:pPtT:vxX#")) !=
	       -1) {
		if (ch != '?' && strchr(unsupported_options, ch) != NULL)
			log_fatal("option -%c is not supported yet", ch);
		if (ch == '?' || !take_option(pc, ch, optarg))
			usage();
	}
}

/* Options that make no sense together, with Postfix's wording. */
static void
check_combinations(const struct postconf *pc)
{
	if (pc->want_defaults && pc->want_nondefault)
		log_fatal("specify one of -d -n");
	if (pc->want_no_names && pc->want_no_values)
		log_fatal("specify one of -h -H");
	if (pc->mode == PC_MODE_MAIN)
		return;
	if (pc->edit != PC_EDIT_NONE)
		log_fatal("editing master.cf is not supported yet");
	if (pc->want_defaults || pc->want_nondefault)
		log_fatal("with option %s, do not specify %s",
			  mode_flags[pc->mode],
			  pc->want_defaults ? "-d" : "-n");
	if (pc->mode == PC_MODE_MASTER &&
	    (pc->want_no_names || pc->want_no_values))
		log_fatal("with option -M, do not specify %s",
			  pc->want_no_names ? "-h" : "-H");
}

/* -c, else $MAIL_CONFIG, else the default directory. */
static void
choose_config_dir(struct postconf *pc)
{
	const char *env;

	if (pc->config_dir != NULL)
		return;
	if ((env = getenv("MAIL_CONFIG")) != NULL && *env != 0) {
		pc->config_dir = xstrdup(env);
		pc->is_dir_given = true;
	} else {
		pc->config_dir = xstrdup(MAIL_CONF_DEFAULT_DIR);
	}
}

/* Postfix 2.8 and later: "postconf name=value ..." means -e. */
static void
imply_edit(struct postconf *pc, char **args)
{
	if (pc->mode == PC_MODE_MAIN && pc->edit == PC_EDIT_NONE &&
	    args[0] != NULL && strchr(args[0], '=') != NULL)
		pc->edit = PC_EDIT_SET;
}

static void
run(struct postconf *pc, char **args)
{
	if (pc->edit != PC_EDIT_NONE) {
		pc_edit_main(pc, args);
		return;
	}
	pc->conf = pc_load_conf(pc);
	if (pc->mode == PC_MODE_MAPS) {
		show_maps();
		return;
	}
	load_master(pc, pc->mode != PC_MODE_MAIN);
	/* Also makes main.cf names that master.cf uses user-defined ones. */
	if (!pc->want_defaults) {
		check_values(pc);
		check_names(pc);
	}
	if (pc->mode == PC_MODE_MAIN)
		pc_show_main(pc, args);
	else
		pc_show_master(pc, args);
}

int
main(int argc, char **argv)
{
	struct postconf pc = {0};
	int status;

	log_init("postconf");
	pc.overrides = argv_create();
	parse_options(&pc, argc, argv);
	check_combinations(&pc);
	choose_config_dir(&pc);
	imply_edit(&pc, argv + optind);
	run(&pc, argv + optind);
	status = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
	if (status != 0)
		log_error("write error on standard output");
	master_conf_destroy(&pc.master);
	mail_conf_destroy(&pc.conf);
	argv_destroy(&pc.overrides);
	free(pc.config_dir);
	return status;
}
