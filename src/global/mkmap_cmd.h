/*
 * mkmap_cmd.h - the command driver of postmap and postalias.
 *
 * The two commands are one program with a few different details: the same
 * options (-c -d -f -i -N -n -o -p -q -r -s -v -w, and postmap's -b -F -h
 * -m -U), one action per run (query, delete, list, or build each
 * "[type:]file" argument from its source file), and the same messages in
 * Postfix's words. A struct mkmap_cmd says what differs, and the command's
 * main() hands it to mkmap_cmd_main.
 */
#ifndef POSTERN_GLOBAL_MKMAP_CMD_H
#define POSTERN_GLOBAL_MKMAP_CMD_H

#include <stdbool.h>

#include "global/mkmap.h"
#include "util/table_source.h"

struct mkmap_cmd {
	const char *name;  /* program name, for log_init and messages */
	const char *usage; /* the whole "usage: ..." text */
	/* getopt letters ("+..."): a subset of the options above. */
	const char *options;
	bool want_colon;              /* print "key:<TAB>value" */
	table_source_split_fn *split; /* the source file's line syntax */
	/* Look at each source entry before it is stored; NULL for none. */
	void (*on_entry)(const struct table_source *ts, const char *key);
	/*
	 * Add entries after the source file's, before the commit; NULL for
	 * none. It gets the value of the main.cf parameter finish_param,
	 * read before each build touches anything, so that a bad value is
	 * fatal before any table changes.
	 */
	void (*on_finish)(struct mkmap_build *build, const char *param_value);
	const char *finish_param;
};

/* Run the command; returns its exit status. Trouble is fatal. */
int mkmap_cmd_main(const struct mkmap_cmd *cmd, int argc, char **argv);

#endif
