/*
 * postmap.c - Postfix-compatible lookup table management.
 *
 *     postmap [-bfFhimnNoprsuUvw] [-c config_dir] [-d key] [-q key]
 *             [map_type:]file...
 *
 * Builds indexed tables (lmdb:, hash:, btree:, all LMDB files) from
 * "key whitespace value" source files, or updates them from standard input
 * (-i); queries (-q), lists (-s) and deletes from (-d) tables of any type.
 * The default type is default_database_type. A build replaces the old
 * table only once the new one is complete. Run by root on a file owned by
 * someone else, the build runs with that owner's privileges unless -o.
 * Exit status: 0 on success or when a key was found, 1 otherwise.
 * The driver is global/mkmap_cmd.c; what is postmap's own is here.
 */
#include <string.h>

#include "global/mkmap_cmd.h"
#include "util/log.h"
#include "util/table_source.h"

/* Postfix's hint for an aliases(5) file given to postmap. */
static void
warn_alias_format(const struct table_source *ts, const char *key)
{
	if (key[strlen(key) - 1] == ':')
		log_warning("%s, line %d: record is in \"key: value\" "
		            "format; is this an alias file?",
		            table_source_name(ts), table_source_lineno(ts));
}

static const struct mkmap_cmd postmap_cmd = {
    .name = "postmap",
    .usage = "usage: postmap [-bfFhimnNoprsuUvw] [-c config_dir] "
             "[-d key] [-q key] [map_type:]file...",
    .options = "+bc:d:fFhimnNopq:rsuUvw",
    .split = table_source_split,
    .on_entry = warn_alias_format,
};

int
main(int argc, char **argv)
{
	return mkmap_cmd_main(&postmap_cmd, argc, argv);
}
