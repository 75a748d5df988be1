/*
 * maps.h - a parameter's list of lookup tables ("canonical_maps =
 * texthash:/a, regexp:/b"), searched in order as Postfix's maps do.
 *
 * A table that cannot be opened does not stop the daemon: like Postfix,
 * the list keeps a stand-in that fails every lookup with the open error,
 * so the mail that needs the table is deferred while other mail flows.
 * Pattern tables (regexp, pcre, cidr, ...) are asked only for whole keys:
 * a caller looking up a partial key ("user", "@domain") says so.
 */
#ifndef POSTERN_GLOBAL_MAPS_H
#define POSTERN_GLOBAL_MAPS_H

#include <stdbool.h>

#include "util/argv.h"
#include "util/err.h"

struct maps;

/*
 * Open each "type:name" of text (items separated by commas or white
 * space) read-only with dict_flags | DICT_FLAG_FOLD_FIX. title is the
 * parameter name ("virtual_alias_maps"). Never fails; open errors are
 * kept (see maps_open_errors) and returned by every lookup that reaches
 * the broken table.
 */
struct maps *maps_create(const char *title, const char *text, int dict_flags);

/* Close the tables; NULL-safe, sets *mapsp to NULL. */
void maps_destroy(struct maps **mapsp);

/* The parameter name given to maps_create. */
const char *maps_title(const struct maps *maps);

/* True if the list has no tables at all. */
bool maps_is_empty(const struct maps *maps);

/* "TYPE:NAME is unavailable. REASON" for each table that failed to open. */
const struct argv *maps_open_errors(const struct maps *maps);

/*
 * Look key up in each table in order (only fixed-string tables when
 * is_partial_key). Returns DICT_FOUND with *value_out valid until the
 * next lookup on the list, DICT_NOTFOUND, or DICT_ERROR with err
 * ("TYPE:NAME lookup error for \"KEY\": REASON").
 */
int maps_find(struct maps *maps, const char *key, bool is_partial_key,
	      const char **value_out, struct err *err);

#endif
