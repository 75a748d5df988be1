/*
 * dict_texthash.c - texthash: tables, a postmap(1) source file in memory.
 *
 * The whole "key whitespace value" file is read at open time (through
 * table_source, the same reader postmap uses) into a hash table, so no
 * postmap run is needed. Keys are folded at load time when the table folds
 * (DICT_FLAG_FOLD_FIX); the framework folds lookup keys the same way.
 * Malformed lines and duplicate keys draw a warning and are skipped, as in
 * Postfix; a duplicate replaces the first value only with
 * DICT_FLAG_DUP_REPLACE. Read-only: lookup and sequence (sorted by key).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "util/dict_types.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/table_source.h"
#include "util/tokens.h"

struct dict_texthash {
	struct dict dict;
	struct htable *table;
	struct htable_entry **entries; /* sequence snapshot, sorted */
	size_t next_entry;
};

static int
texthash_lookup(struct dict *dict, const char *key, const char **value_out,
                struct err *err)
{
	struct dict_texthash *th = (struct dict_texthash *)dict;

	(void)err;
	*value_out = htable_find(th->table, key);
	return *value_out != NULL ? DICT_FOUND : DICT_NOTFOUND;
}

static int
texthash_sequence(struct dict *dict, enum dict_seq how, const char **key_out,
                  const char **value_out, struct err *err)
{
	struct dict_texthash *th = (struct dict_texthash *)dict;
	struct htable_entry *entry;

	(void)err;
	if (how == DICT_SEQ_FIRST || th->entries == NULL) {
		free(th->entries);
		th->entries = htable_entries(th->table, true);
		th->next_entry = 0;
	}
	entry = th->entries[th->next_entry];
	if (entry == NULL)
		return DICT_NOTFOUND;
	th->next_entry++;
	*key_out = entry->key;
	*value_out = entry->value;
	return DICT_FOUND;
}

static void
texthash_close(struct dict *dict)
{
	struct dict_texthash *th = (struct dict_texthash *)dict;

	htable_destroy(&th->table, free);
	free(th->entries);
	dict_free(dict);
}

/* Add one entry, applying the table's duplicate policy. */
static void
texthash_add(struct dict_texthash *th, const char *source_name, int lineno,
             const char *key, const char *value, struct strbuf *folded)
{
	const char *stored_key = key;

	if (th->dict.flags & DICT_FLAG_FOLD_FIX) {
		strbuf_set(folded, key);
		stored_key = str_lowercase(folded->data);
	}
	if (htable_locate(th->table, stored_key) == NULL) {
		htable_insert(th->table, stored_key, xstrdup(value));
		return;
	}
	if (th->dict.flags & DICT_FLAG_DUP_REPLACE) {
		htable_set(th->table, stored_key, xstrdup(value), free);
		return;
	}
	if (!(th->dict.flags & DICT_FLAG_DUP_IGNORE))
		log_warning("%s, line %d: duplicate entry: \"%s\"", source_name,
		            lineno, key);
}

/*
 * Postfix's texthash says what it does with a bad line; the shared reader's
 * "expected format" reason does not (postmap prints it bare).
 */
static const char *
ignoring_suffix(const char *reason)
{
	static const char suffix[] = " -- ignoring this line";
	size_t len = strlen(reason);

	if (len >= sizeof(suffix) - 1 &&
	    strcmp(reason + len - (sizeof(suffix) - 1), suffix) == 0)
		return "";
	return suffix;
}

/* Read every entry of fp; -1 with err on a read error. */
static int
texthash_load(struct dict_texthash *th, FILE *fp, struct err *err)
{
	struct table_source *ts = table_source_from_stream(fp, th->dict.name);
	struct strbuf folded;
	const char *key;
	const char *value;
	int ret;

	strbuf_init(&folded, STRBUF_UNLIMITED);
	while ((ret = table_source_next(ts, &key, &value, err)) !=
	       TABLE_SOURCE_END) {
		if (ret == TABLE_SOURCE_ERROR)
			break;
		if (ret == TABLE_SOURCE_BAD_LINE) {
			log_warning("%s%s", err->text,
			            ignoring_suffix(err->text));
			continue;
		}
		texthash_add(th, th->dict.name, table_source_lineno(ts), key,
		             value, &folded);
	}
	strbuf_deinit(&folded);
	table_source_close(&ts);
	return ret == TABLE_SOURCE_ERROR ? -1 : 0;
}

struct dict *
dict_texthash_open(const char *name, int open_flags, int dict_flags,
                   struct err *err)
{
	struct dict_texthash *th;
	struct err local_err;
	FILE *fp;
	int ret;

	if ((open_flags & O_ACCMODE) != O_RDONLY) {
		err_set(err, "texthash:%s map requires O_RDONLY access mode",
		        name);
		return NULL;
	}
	if ((fp = fopen(name, "re")) == NULL) {
		err_set(err, "open database %s: %s", name, strerror(errno));
		return NULL;
	}
	th = (struct dict_texthash *)dict_alloc("texthash", name, sizeof(*th),
	                                        open_flags, dict_flags);
	th->dict.flags |= DICT_FLAG_FIXED;
	th->dict.lookup = texthash_lookup;
	th->dict.sequence = texthash_sequence;
	th->dict.close = texthash_close;
	th->table = htable_create(64);
	ret = texthash_load(th, fp, err != NULL ? err : &local_err);
	fclose(fp);
	if (ret < 0) {
		texthash_close(&th->dict);
		return NULL;
	}
	return &th->dict;
}
