/*
 * fuzz_header_addr.c - libFuzzer target for address lists and "sendmail
 * -t" recipient extraction.
 *
 * Parses the input as one address list, then splits it at newlines into
 * headers for header_rcpt_note. Checks: the count returned matches what
 * was appended, no address is empty, and no address is longer than the
 * input (nothing is invented).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "global/header_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_list(const char *text, size_t len)
{
	struct argv *av = argv_create();
	size_t n = header_addr_parse(text, len, av);

	if (n != av->count)
		abort();
	for (size_t i = 0; i < av->count; i++)
		if (av->items[i][0] == '\0' && len > 0 &&
		    memchr(text, '\0', len) == NULL)
			abort();
		else if (strlen(av->items[i]) > len)
			abort();
	argv_destroy(&av);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct header_rcpt hr;
	size_t start = 0;

	check_list(text, size);
	header_rcpt_init(&hr);
	for (size_t i = 0; i <= size; i++) {
		if (i == size || text[i] == '\n') {
			if (i > start)
				header_rcpt_note(&hr, text + start, i - start);
			start = i + 1;
		}
	}
	(void)header_rcpt_result(&hr);
	header_rcpt_deinit(&hr);
	return 0;
}
