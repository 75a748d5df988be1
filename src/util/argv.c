/*
 * argv.c - growable NULL-terminated vectors of strings.
 */
#include <stdlib.h>
#include <string.h>

#include "util/argv.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

struct argv *
argv_create(void)
{
	struct argv *av = xmalloc(sizeof(*av));

	av->cap = 8;
	av->items = xcalloc(av->cap, sizeof(char *));
	return av;
}

void
argv_clear(struct argv *av)
{
	for (size_t i = 0; i < av->count; i++)
		free(av->items[i]);
	av->count = 0;
	av->items[0] = NULL;
}

void
argv_destroy(struct argv **avp)
{
	if (*avp == NULL)
		return;
	argv_clear(*avp);
	free((*avp)->items);
	free(*avp);
	*avp = NULL;
}

void
argv_addn(struct argv *av, const char *text, size_t len)
{
	if (av->count + 1 >= av->cap) {
		av->items = xreallocarray(av->items, av->cap * 2, sizeof(char *));
		av->cap *= 2;
	}
	av->items[av->count++] = xmemdup(text, len);
	av->items[av->count] = NULL;
}

void
argv_add(struct argv *av, const char *text)
{
	argv_addn(av, text, strlen(text));
}

static struct argv *
split(const char *text, const char *delims, char *(*next)(char **,
							  const char *))
{
	struct argv *av = argv_create();
	char *copy = xstrdup(text);
	char *cursor = copy;
	char *token;

	while ((token = next(&cursor, delims)) != NULL)
		argv_add(av, token);
	free(copy);
	return av;
}

struct argv *
argv_split(const char *text, const char *delims)
{
	return split(text, delims, str_token);
}

struct argv *
argv_split_braced(const char *text, const char *delims)
{
	return split(text, delims, str_token_braced);
}
