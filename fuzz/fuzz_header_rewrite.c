/*
 * fuzz_header_rewrite.c - libFuzzer target for rewriting the addresses of
 * one header (global/header_rewrite.h).
 *
 * The input is one logical header. The callback appends "@x.example" to
 * addresses without '@' and fails on the address "fail". Checks: a
 * rewritten header keeps its name and ": ", every line after the first
 * starts with a TAB, and a second rewrite of the result changes nothing
 * (completed addresses stay complete).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "global/header_rewrite.h"
#include "util/mymalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
complete(char **addrp, void *ctx)
{
	char *out;

	(void)ctx;
	if (strcmp(*addrp, "fail") == 0)
		return -1;
	if (**addrp == 0 || strchr(*addrp, '@') != NULL)
		return 0;
	out = xasprintf("%s@x.example", *addrp);
	free(*addrp);
	*addrp = out;
	return 0;
}

static void
check_shape(const char *text, size_t len, const struct strbuf *out)
{
	const char *colon = memchr(text, ':', len);
	size_t nlen = (size_t)(colon - text);
	const char *p = strbuf_text(out);

	while (nlen > 0 && (text[nlen - 1] == ' ' || text[nlen - 1] == '\t'))
		nlen--;
	if (strncmp(p, text, nlen) != 0 || strncmp(p + nlen, ": ", 2) != 0)
		abort();
	for (p = strchr(p, '\n'); p != NULL; p = strchr(p + 1, '\n'))
		if (p[1] != '\t')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct strbuf out;
	struct strbuf again;

	strbuf_init(&out, STRBUF_UNLIMITED);
	strbuf_init(&again, STRBUF_UNLIMITED);
	if (header_rewrite(text, size, 1000, complete, NULL, &out) == 1) {
		check_shape(text, size, &out);
		if (header_rewrite(strbuf_text(&out), strbuf_len(&out), 100000,
				   complete, NULL, &again) != 0)
			abort();
	}
	strbuf_deinit(&again);
	strbuf_deinit(&out);
	return 0;
}
