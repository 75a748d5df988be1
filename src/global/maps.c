/*
 * maps.c - a parameter's list of lookup tables, searched in order.
 *
 * Each slot holds an open table, or the reason its table could not be
 * opened (Postfix's "is unavailable" stand-in): a lookup that reaches a
 * broken slot fails, so the caller defers instead of guessing.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "global/maps.h"
#include "util/dict.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

struct maps_slot {
	char *spec;        /* "type:name" */
	struct dict *dict; /* NULL when the open failed */
	char *open_error;  /* why, when dict is NULL */
};

struct maps {
	char *title;
	struct maps_slot *slots;
	size_t count;
	struct argv *errors;
};

static void
slot_open(struct maps *maps, struct maps_slot *slot, const char *spec,
	  int dict_flags)
{
	struct err err;
	struct strbuf msg;

	slot->spec = xstrdup(spec);
	slot->dict = dict_open(spec, O_RDONLY, dict_flags | DICT_FLAG_FOLD_FIX,
			       &err);
	if (slot->dict != NULL)
		return;
	slot->open_error = xstrdup(err.text);
	strbuf_init(&msg, STRBUF_UNLIMITED);
	(void)strbuf_printf(&msg, "%s is unavailable. %s", spec, err.text);
	argv_add(maps->errors, msg.data);
	strbuf_deinit(&msg);
}

struct maps *
maps_create(const char *title, const char *text, int dict_flags)
{
	struct maps *maps = xcalloc(1, sizeof(*maps));
	struct argv *items = argv_split_braced(text, ", \t\r\n");

	maps->title = xstrdup(title);
	maps->errors = argv_create();
	maps->slots = xcalloc(items->count + 1, sizeof(*maps->slots));
	for (size_t i = 0; i < items->count; i++)
		slot_open(maps, &maps->slots[maps->count++], items->items[i],
			  dict_flags);
	argv_destroy(&items);
	return maps;
}

void
maps_destroy(struct maps **mapsp)
{
	struct maps *maps = *mapsp;

	if (maps == NULL)
		return;
	for (size_t i = 0; i < maps->count; i++) {
		dict_close(&maps->slots[i].dict);
		free(maps->slots[i].spec);
		free(maps->slots[i].open_error);
	}
	free(maps->slots);
	argv_destroy(&maps->errors);
	free(maps->title);
	free(maps);
	*mapsp = NULL;
}

const char *
maps_title(const struct maps *maps)
{
	return maps->title;
}

bool
maps_is_empty(const struct maps *maps)
{
	return maps == NULL || maps->count == 0;
}

const struct argv *
maps_open_errors(const struct maps *maps)
{
	return maps->errors;
}

int
maps_find(struct maps *maps, const char *key, bool is_partial_key,
	  const char **value_out, struct err *err)
{
	struct err why;
	int ret;

	for (size_t i = 0; maps != NULL && i < maps->count; i++) {
		struct maps_slot *slot = &maps->slots[i];

		if (slot->dict == NULL) {
			err_set(err, "%s lookup error for \"%s\": %s",
				slot->spec, key, slot->open_error);
			return DICT_ERROR;
		}
		if (is_partial_key && (slot->dict->flags & DICT_FLAG_PATTERN))
			continue;
		ret = dict_lookup(slot->dict, key, value_out, &why);
		if (ret == DICT_NOTFOUND)
			continue;
		if (ret == DICT_ERROR)
			err_set(err, "%s lookup error for \"%s\": %s",
				slot->spec, key, why.text);
		return ret;
	}
	return DICT_NOTFOUND;
}
