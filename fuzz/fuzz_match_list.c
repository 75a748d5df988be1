/*
 * fuzz_match_list.c - libFuzzer target for pattern lists and their matching.
 *
 * The first byte picks the list kind and the parent-style flag; the text
 * up to the first NUL is the list, the rest the key ("name|addr" for
 * name/address lists). Inputs with a /file item are skipped so the fuzzer
 * does not read the host's files; tables other than inline: and static:
 * name files that do not exist and fail to open, which is also checked.
 * Every result must be one of the three outcomes, with a message on error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"

#include "global/match_list.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True if some item would start with '/' (a file name). */
static int
has_file_item(const char *text)
{
	for (const char *cp = text; *cp; cp++)
		if (*cp == '/' &&
		    (cp == text || strchr(", \t\r\n!{", cp[-1]) != NULL))
			return 1;
	return 0;
}

static void
check(int ret, const struct err *err)
{
	if (ret != MATCH_LIST_MATCH && ret != MATCH_LIST_NO_MATCH &&
	    (ret != MATCH_LIST_ERROR || err->text[0] == 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum match_list_kind kind;
	struct match_list *list;
	struct err err = { { 0 } };
	char *text;
	char *key;
	char *bar;
	size_t len;

	if (size < 1)
		return 0;
	kind = (enum match_list_kind)(data[0] % 3);
	text = xstrndup((const char *)data + 1, size - 1);
	len = strlen(text);
	key = xstrndup((const char *)data + 1 + len,
		       len + 1 < size - 1 ? size - 2 - len : 0);
	if (!has_file_item(text)) {
		list = match_list_create("fuzz_list", kind,
					 data[0] & 4 ? MATCH_FLAG_PARENT : 0,
					 text, &err);
		if (list == NULL && err.text[0] == 0)
			abort();
		if (list != NULL) {
			err.text[0] = 0;
			if (kind == MATCH_LIST_STRING)
				check(match_list_match_string(list, key, &err),
				      &err);
			else if (kind == MATCH_LIST_DOMAIN)
				check(match_list_match_domain(list, key, &err),
				      &err);
			else {
				bar = strchr(key, '|');
				if (bar != NULL)
					*bar++ = 0;
				check(match_list_match_namadr(list, key, bar,
							      &err),
				      &err);
			}
			match_list_destroy(&list);
		}
	}
	free(text);
	free(key);
	return 0;
}
