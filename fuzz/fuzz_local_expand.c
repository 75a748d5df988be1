/*
 * fuzz_local_expand.c - libFuzzer target for the local delivery agent's
 * pure parsers: $name expansion (forward_path, luser_relay), recipient
 * splitting, and Delivered-To: header reading.
 *
 * The input is cut at the first NUL: the part before is a pattern, the
 * part after an address (also read as a header line). Checked: expansion
 * either fails with a reason or stays within its buffer's limit, the
 * address parts are consistent (user is a prefix of the local part, the
 * extension follows the delimiter), and a header value is lower case.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "local/local_expand.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_split(const char *address)
{
	struct local_addr a;
	bool is_bad;

	local_addr_split(address, "+-", true, &a, &is_bad);
	if (strncmp(a.local, a.user, strlen(a.user)) != 0)
		abort();
	if (a.extension != NULL &&
	    (strlen(a.user) + 1 + strlen(a.extension) != strlen(a.local) ||
	     a.local[strlen(a.user)] != a.delim[0]))
		abort();
	local_addr_free(&a);
}

static void
check_expand(const char *pattern, const char *address)
{
	const struct local_vars vars = {
		.user = address,
		.home = "/home/u",
		.recipient = address,
		.extension = *address ? address + 1 : NULL,
		.local = "u",
	};
	struct strbuf out;
	struct err err;
	bool is_undef;

	strbuf_init(&out, 4096);
	if (local_expand(pattern, &vars, "abc/", &out, &is_undef, &err) < 0 &&
	    err.text[0] == 0)
		abort();
	if (out.len > 4096)
		abort();
	strbuf_deinit(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 2);
	const char *address;
	struct strbuf value;

	memcpy(text, data, size);
	text[size] = 0;
	text[size + 1] = 0;
	address = text + strlen(text) + (strlen(text) < size ? 1 : 0);
	check_split(address);
	check_expand(text, address);
	strbuf_init(&value, 1024);
	if (local_delivered_header(address, strlen(address), &value))
		for (size_t i = 0; i < value.len; i++)
			if (isupper((unsigned char)value.data[i]))
				abort();
	strbuf_deinit(&value);
	free(text);
	return 0;
}
