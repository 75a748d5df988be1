/*
 * fuzz_alias_source.c - libFuzzer target for aliases(5) parsing.
 *
 * Reads the input as an aliases file and splits every value into its
 * destinations, as the local delivery agent will. Names and values of
 * accepted entries must be non-empty, and re-parsing "name: value" built
 * from a stored value must give the same value back (the normal form is
 * stable), unless the name itself needed quotes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "global/alias_source.h"
#include "util/mymalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_stable(const char *value)
{
	char *line = xasprintf("x: %s", value);
	struct strbuf name;
	struct strbuf again;
	struct err err;

	strbuf_init(&name, STRBUF_UNLIMITED);
	strbuf_init(&again, STRBUF_UNLIMITED);
	if (alias_source_split(line, &name, &again, &err) != 0 ||
	    strcmp(strbuf_text(&again), value) != 0)
		abort();
	strbuf_deinit(&name);
	strbuf_deinit(&again);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *fp = fmemopen((void *)data, size, "r");
	struct table_source *ts;
	const char *name;
	const char *value;
	struct err err;
	int ret;

	if (fp == NULL)
		return 0;
	ts = alias_source_from_stream(fp, "aliases");
	while ((ret = table_source_next(ts, &name, &value, &err)) !=
	       TABLE_SOURCE_END) {
		struct argv *av;

		if (ret == TABLE_SOURCE_ERROR)
			break;
		if (ret == TABLE_SOURCE_BAD_LINE)
			continue;
		if (*value == 0)
			abort();
		check_stable(value);
		av = alias_value_split(value);
		argv_destroy(&av);
	}
	table_source_close(&ts);
	fclose(fp);
	return 0;
}
