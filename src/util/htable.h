/*
 * htable.h - a hash table from text keys to pointers.
 *
 * Keys are copied; values belong to the caller, who may hand a free function
 * to htable_remove/htable_destroy. The table doubles when it gets full, so
 * lookups stay O(1) whatever the size hint was.
 */
#ifndef POSTERN_UTIL_HTABLE_H
#define POSTERN_UTIL_HTABLE_H

#include <stdbool.h>
#include <stddef.h>

struct htable_entry {
	char *key;
	void *value;
	struct htable_entry *next;
};

typedef void htable_free_fn(void *value);

struct htable *htable_create(size_t size_hint);
void htable_destroy(struct htable **htp, htable_free_fn *free_value);

/* The value stored under key, or NULL; use htable_locate to tell a NULL
 * value from a missing key. */
void *htable_find(const struct htable *ht, const char *key);
struct htable_entry *htable_locate(const struct htable *ht, const char *key);

/* Add key; returns -1 and changes nothing if key is already there. */
int htable_insert(struct htable *ht, const char *key, void *value);

/* Add or replace; the old value, if any, goes to free_value. */
void htable_set(struct htable *ht, const char *key, void *value,
		htable_free_fn *free_value);

/* Remove key; returns -1 if it was not there. */
int htable_remove(struct htable *ht, const char *key,
		  htable_free_fn *free_value);

size_t htable_count(const struct htable *ht);

/*
 * A NULL-terminated array of the entries, sorted by key when want_sorted.
 * The caller frees the array (not the entries). Valid until the next change.
 */
struct htable_entry **htable_entries(const struct htable *ht,
				     bool want_sorted);

#endif
