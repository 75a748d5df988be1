/*
 * postalias.c - Postfix-compatible alias database management.
 *
 *     postalias [-Nfinoprsuvw] [-c config_dir] [-d key] [-q key]
 *               [map_type:]file...
 *
 * Builds alias databases from aliases(5) files (parsed by
 * global/alias_source.c, values stored in Postfix's normal form), or
 * updates them from standard input (-i); queries, lists and deletes like
 * postmap, printing "key:<TAB>value". Like Postfix, every build or update
 * also stores the NIS entries YP_LAST_MODIFIED and YP_MASTER_NAME and the
 * Sendmail "@: @" entry that says the database is complete. newaliases and
 * sendmail -bi run this command on alias_database.
 * Exit status: 0 on success or when a key was found, 1 otherwise.
 * The driver is global/mkmap_cmd.c; what is postalias' own is here.
 */
#include <stdio.h>
#include <time.h>

#include "global/alias_source.h"
#include "global/mkmap_cmd.h"

/*
 * The NIS and Sendmail entries Postfix adds to every alias database,
 * stored as they are (no folding) and replacing older ones quietly.
 */
static void
add_signatures(struct mkmap_build *build, const char *myhostname)
{
	char now[32];
	struct err err;

	snprintf(now, sizeof(now), "%010ld", (long)time(NULL));
	if (mkmap_put_exact(build, "YP_LAST_MODIFIED", now, &err) < 0 ||
	    mkmap_put_exact(build, "YP_MASTER_NAME", myhostname, &err) < 0 ||
	    mkmap_put_exact(build, "@", "@", &err) < 0)
		mkmap_build_fail(&build, &err);
}

static const struct mkmap_cmd postalias_cmd = {
    .name = "postalias",
    .usage = "usage: postalias [-Nfinoprsuvw] [-c config_dir] [-d key] "
             "[-q key] [map_type:]file...",
    .options = "+Nc:d:finopq:rsuvw",
    .want_colon = true,
    .split = alias_source_split,
    .on_finish = add_signatures,
    .finish_param = "myhostname",
};

int
main(int argc, char **argv)
{
	return mkmap_cmd_main(&postalias_cmd, argc, argv);
}
