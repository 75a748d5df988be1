/*
 * dict_fuzz.h - shared driver of the lookup-table fuzz targets.
 *
 * The input is a table: written to a memory file and opened as
 * "TYPE:/proc/self/fd/N", or, when it starts with '{', used as an inline
 * table name ("TYPE:{ {rule}, ... }"). If the table opens, a few keys are
 * looked up: fixed ones and the first lines of the input itself, so rules
 * and keys come from the same bytes and matches actually happen.
 */
#ifndef POSTERN_FUZZ_DICT_FUZZ_H
#define POSTERN_FUZZ_DICT_FUZZ_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/dict.h"
#include "util/mymalloc.h"

#define DICT_FUZZ_MAX_INPUT (256 * 1024)
#define DICT_FUZZ_LINE_KEYS 4

static void
dict_fuzz_lookup(struct dict *dict, const char *key)
{
	struct err err;
	const char *value;
	int ret = dict_lookup(dict, key, &value, &err);

	/* Touch the result so a dangling pointer shows up under ASan. */
	if (ret == DICT_FOUND && strlen(value) > DICT_MAX_VALUE_LEN)
		abort();
	if (ret != DICT_FOUND && ret != DICT_NOTFOUND && ret != DICT_ERROR)
		abort();
}

/* Up to DICT_FUZZ_LINE_KEYS lines of the input as keys. */
static void
dict_fuzz_line_keys(struct dict *dict, const char *text)
{
	for (int i = 0; i < DICT_FUZZ_LINE_KEYS && *text; i++) {
		size_t len = strcspn(text, "\n");
		char *key = xstrndup(text, len);

		dict_fuzz_lookup(dict, key);
		/* Also the part after the first space: a result as key. */
		if (strchr(key, ' '))
			dict_fuzz_lookup(dict, strchr(key, ' ') + 1);
		free(key);
		text += len;
		if (*text == '\n')
			text++;
	}
}

static struct dict *
dict_fuzz_open(const char *type, const char *text, size_t len, int *fd_out)
{
	struct err err;
	char *spec;
	struct dict *dict;

	*fd_out = -1;
	if (text[0] == '{') {
		spec = xasprintf("%s:%s", type, text);
	} else {
		*fd_out = memfd_create("table", MFD_CLOEXEC);
		if (*fd_out < 0 || write(*fd_out, text, len) != (ssize_t)len)
			abort();
		spec = xasprintf("%s:/proc/self/fd/%d", type, *fd_out);
	}
	dict = dict_open(spec, O_RDONLY, DICT_FLAG_FOLD_FIX, &err);
	free(spec);
	return dict;
}

static int
dict_fuzz_run(const char *type, const char *const *fixed_keys,
	      const uint8_t *data, size_t size)
{
	char *text;
	struct dict *dict;
	int fd;

	if (size == 0 || size > DICT_FUZZ_MAX_INPUT)
		return 0;
	text = xstrndup((const char *)data, size);
	dict = dict_fuzz_open(type, text, strlen(text), &fd);
	if (dict != NULL) {
		for (const char *const *key = fixed_keys; *key; key++)
			dict_fuzz_lookup(dict, *key);
		dict_fuzz_line_keys(dict, text);
		dict_close(&dict);
	}
	if (fd >= 0)
		close(fd);
	free(text);
	return 0;
}

#endif
