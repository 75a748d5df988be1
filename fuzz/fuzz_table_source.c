/*
 * fuzz_table_source.c - libFuzzer target for postmap's source reader.
 *
 * Reads the input as a "key whitespace value" file. Every entry must have
 * a non-empty key without unquoted white space and a non-empty value that
 * does not start with white space; every bad line must carry its line.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/table_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *fp = fmemopen((void *)data, size, "r");
	struct table_source *ts;
	const char *key;
	const char *value;
	struct err err;
	int ret;

	if (fp == NULL)
		return 0;
	ts = table_source_from_stream(fp, "src");
	while ((ret = table_source_next(ts, &key, &value, &err)) !=
	       TABLE_SOURCE_END) {
		if (ret == TABLE_SOURCE_ERROR)
			break;
		if (ret == TABLE_SOURCE_BAD_LINE) {
			if (strncmp(err.text, "src, line ", 10) != 0)
				abort();
			continue;
		}
		if (*key == 0 || *value == 0 ||
		    isspace((unsigned char)*value) ||
		    table_source_lineno(ts) < 1)
			abort();
	}
	table_source_close(&ts);
	fclose(fp);
	return 0;
}
