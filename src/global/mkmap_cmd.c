/*
 * mkmap_cmd.c - the command driver of postmap and postalias.
 *
 * Parses the shared options, loads main.cf, and runs the one action asked
 * for over the "[type:]file" arguments with mkmap.c; a build reads the
 * source file with table_source in the command's syntax. Trouble is
 * fatal, in Postfix's words (see mkmap_cmd.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "global/mkmap_cmd.h"
#include "util/log.h"

#define DUP_FLAGS                                                              \
	(DICT_FLAG_DUP_WARN | DICT_FLAG_DUP_IGNORE | DICT_FLAG_DUP_REPLACE)
#define NUL_FLAGS (DICT_FLAG_TRY0NULL | DICT_FLAG_TRY1NULL)

/* The options that only change dict flags: clear some, then set some. */
static const struct flag_option {
	int opt;
	int clear;
	int set;
} flag_options[] = {
    {'f', DICT_FLAG_FOLD_FIX, 0},
    {'N', NUL_FLAGS, DICT_FLAG_TRY1NULL},
    {'n', NUL_FLAGS, DICT_FLAG_TRY0NULL},
    {'r', DUP_FLAGS, DICT_FLAG_DUP_REPLACE},
    {'w', DUP_FLAGS, DICT_FLAG_DUP_IGNORE},
};

struct cmd_opts {
	const char *config_dir;
	const char *query;
	const char *delete_key;
	bool want_sequence;
	bool is_incremental;
	int key_mode; /* MKMAP_KEYS_* for "-q -" (-h/-b) */
	bool want_mime;
	int verbose;
};

/* ---- Options ----------------------------------------------------------- */

static _Noreturn void
usage(const struct mkmap_cmd *cmd)
{
	log_fatal("%s", cmd->usage);
}

/* Postfix refuses a second one of -s, -q and -d, in these words. */
static void
check_one_action(const struct cmd_opts *opts, int opt)
{
	if (opts->query == NULL && opts->delete_key == NULL &&
	    !opts->want_sequence)
		return;
	if (opt == 'd')
		log_fatal("specify only one of -s -q or -d");
	log_fatal("specify only one of -s or -q or -d");
}

static _Noreturn void
bad_option(const struct mkmap_cmd *cmd, int opt)
{
	if (opt == 'c' || opt == 'd' || opt == 'q')
		fprintf(stderr, "%s: option requires an argument -- '%c'\n",
		        cmd->name, opt);
	else
		fprintf(stderr, "%s: invalid option -- '%c'\n", cmd->name, opt);
	usage(cmd);
}

static bool
set_flag_option(struct mkmap_ctx *ctx, int opt)
{
	for (size_t i = 0; i < sizeof(flag_options) / sizeof(flag_options[0]);
	     i++) {
		if (flag_options[i].opt == opt) {
			ctx->dict_flags &= ~flag_options[i].clear;
			ctx->dict_flags |= flag_options[i].set;
			return true;
		}
	}
	return false;
}

/*
 * One option getopt accepted; false for its '?'. Letters a command does
 * not list never get here, so one switch serves both commands.
 */
static bool
set_option(struct cmd_opts *opts, struct mkmap_ctx *ctx, int opt)
{
	switch (opt) {
	case 'b':
		opts->key_mode |= MKMAP_KEYS_BODY;
		break;
	case 'c':
		opts->config_dir = optarg;
		break;
	case 'd':
		check_one_action(opts, opt);
		opts->delete_key = optarg;
		break;
	case 'F':
		ctx->want_base64 = true;
		break;
	case 'h':
		opts->key_mode |= MKMAP_KEYS_HEADERS;
		break;
	case 'i':
		opts->is_incremental = true;
		break;
	case 'm':
		opts->want_mime = true;
		break;
	case 'o':
		ctx->keep_privileges = true;
		break;
	case 'p':
		ctx->keep_default_mode = true;
		break;
	case 'q':
		check_one_action(opts, opt);
		opts->query = optarg;
		break;
	case 's':
		check_one_action(opts, opt);
		opts->want_sequence = true;
		break;
	case 'u':
	case 'U':
		break; /* UTF-8 checks: keys are passed as bytes */
	case 'v':
		opts->verbose++;
		break;
	default:
		return set_flag_option(ctx, opt);
	}
	return true;
}

static void
parse_options(const struct mkmap_cmd *cmd, int argc, char **argv,
              struct cmd_opts *opts, struct mkmap_ctx *ctx)
{
	int opt;

	opterr = 0;
	while ((opt = getopt(argc, argv, cmd->options)) != -1)
		if (!set_option(opts, ctx, opt))
			bad_option(cmd, optopt);
	if ((opts->key_mode != 0 || opts->want_mime) &&
	    (opts->query == NULL || strcmp(opts->query, "-") != 0))
		log_fatal("specify -b -h or -m only with \"-q -\"");
	if (optind >= argc)
		usage(cmd);
}

/* ---- Builds ------------------------------------------------------------ */

/* Store every entry of the source; warn about and skip bad lines. */
static void
add_source(const struct mkmap_cmd *cmd, struct mkmap_build *build,
           struct table_source *ts)
{
	const char *key;
	const char *value;
	struct err err;
	int ret;

	while ((ret = table_source_next(ts, &key, &value, &err)) !=
	       TABLE_SOURCE_END) {
		if (ret == TABLE_SOURCE_BAD_LINE) {
			log_warning("%s", err.text);
			continue;
		}
		if (ret == TABLE_SOURCE_ERROR)
			mkmap_build_fail(&build, &err);
		if (cmd->on_entry != NULL)
			cmd->on_entry(ts, key);
		if (mkmap_put(build, table_source_name(ts),
		              table_source_lineno(ts), key, value, &err) < 0)
			mkmap_build_fail(&build, &err);
	}
}

/* Build one table from its source file, or update it from stdin (-i). */
static void
build_one(const struct mkmap_cmd *cmd, const struct mkmap_ctx *ctx,
          const char *arg, bool incremental, const char *param_value)
{
	struct mkmap_build *build;
	struct table_source *ts;
	struct stat st;
	FILE *fp = stdin;
	char *type;
	char *name;

	mkmap_split(ctx, arg, &type, &name);
	if (!incremental && (fp = fopen(name, "re")) == NULL)
		log_fatal("open %s: %s", name, strerror(errno));
	if (!incremental && fstat(fileno(fp), &st) < 0)
		log_fatal("fstat %s: %s", name, strerror(errno));
	build = mkmap_build_begin(ctx, type, name, incremental ? NULL : &st,
	                          incremental);
	ts = table_source_from_stream(fp, incremental ? "stdin" : name);
	table_source_set_split(ts, cmd->split);
	add_source(cmd, build, ts);
	if (cmd->on_finish != NULL)
		cmd->on_finish(build, param_value);
	mkmap_build_commit(&build);
	table_source_close(&ts);
	if (fp != stdin)
		fclose(fp);
	free(type);
	free(name);
}

static void
build_all(const struct mkmap_cmd *cmd, const struct mkmap_ctx *ctx,
          struct mail_conf *conf, char *const *maps, int count,
          bool incremental)
{
	for (int i = 0; i < count; i++) {
		const char *param_value = NULL;

		if (cmd->finish_param != NULL)
			param_value = mail_conf_str(conf, cmd->finish_param);
		build_one(cmd, ctx, maps[i], incremental, param_value);
	}
}

/* ---- The command ------------------------------------------------------- */

static struct mail_conf *
load_config(const struct cmd_opts *opts, struct mkmap_ctx *ctx)
{
	struct mail_conf *conf;
	struct err err;

	if ((conf = mail_conf_load(opts->config_dir, &err)) == NULL)
		log_fatal("%s", err.text);
	ctx->default_type = mail_conf_str(conf, "default_database_type");
	ctx->map_size = (size_t)mail_conf_size(conf, "lmdb_map_size");
	return conf;
}

static bool
is_stdin(const char *arg)
{
	return arg != NULL && strcmp(arg, "-") == 0;
}

int
mkmap_cmd_main(const struct mkmap_cmd *cmd, int argc, char **argv)
{
	struct cmd_opts opts = {0};
	struct mkmap_ctx ctx = {
	    .dict_flags = DICT_FLAG_DUP_WARN | DICT_FLAG_FOLD_FIX,
	    .want_colon = cmd->want_colon,
	};
	struct mail_conf *conf;
	char *const *maps;
	int count;
	int status = 0;

	log_init(cmd->name);
	parse_options(cmd, argc, argv, &opts, &ctx);
	log_set_verbose(opts.verbose);
	conf = load_config(&opts, &ctx);
	maps = argv + optind;
	count = argc - optind;
	if (is_stdin(opts.query))
		status =
		    mkmap_query_stream(&ctx, stdin, opts.key_mode, maps, count);
	else if (opts.query != NULL)
		status = mkmap_query(&ctx, opts.query, maps, count);
	else if (is_stdin(opts.delete_key))
		status = mkmap_delete_stream(&ctx, stdin, maps, count);
	else if (opts.delete_key != NULL)
		status = mkmap_delete(&ctx, opts.delete_key, maps, count);
	else if (opts.want_sequence)
		status = mkmap_dump(&ctx, maps[0]);
	else
		build_all(cmd, &ctx, conf, maps, count, opts.is_incremental);
	mail_conf_destroy(&conf);
	return status;
}
