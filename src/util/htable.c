/*
 * htable.c - a hash table from text keys to pointers (FNV-1a, chaining).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/htable.h"
#include "util/mymalloc.h"

struct htable {
	struct htable_entry **buckets;
	size_t size; /* number of buckets, a power of two */
	size_t count;
};

static size_t
hash_key(const char *key, size_t size)
{
	uint64_t hash = 14695981039346656037ULL;

	for (const unsigned char *cp = (const unsigned char *)key; *cp; cp++) {
		hash ^= *cp;
		hash *= 1099511628211ULL;
	}
	return (size_t)(hash & (size - 1));
}

struct htable *
htable_create(size_t size_hint)
{
	struct htable *ht = xmalloc(sizeof(*ht));

	ht->size = 16;
	while (ht->size < size_hint && ht->size < ((size_t)1 << 30))
		ht->size *= 2;
	ht->buckets = xcalloc(ht->size, sizeof(*ht->buckets));
	return ht;
}

void
htable_destroy(struct htable **htp, htable_free_fn *free_value)
{
	struct htable *ht = *htp;

	if (ht == NULL)
		return;
	for (size_t i = 0; i < ht->size; i++) {
		struct htable_entry *entry = ht->buckets[i];

		while (entry != NULL) {
			struct htable_entry *next = entry->next;

			if (free_value != NULL)
				free_value(entry->value);
			free(entry->key);
			free(entry);
			entry = next;
		}
	}
	free(ht->buckets);
	free(ht);
	*htp = NULL;
}

struct htable_entry *
htable_locate(const struct htable *ht, const char *key)
{
	struct htable_entry *entry = ht->buckets[hash_key(key, ht->size)];

	while (entry != NULL && strcmp(entry->key, key) != 0)
		entry = entry->next;
	return entry;
}

void *
htable_find(const struct htable *ht, const char *key)
{
	struct htable_entry *entry = htable_locate(ht, key);

	return entry ? entry->value : NULL;
}

static void
grow(struct htable *ht)
{
	size_t new_size = ht->size * 2;
	struct htable_entry **buckets = xcalloc(new_size, sizeof(*buckets));

	for (size_t i = 0; i < ht->size; i++) {
		struct htable_entry *entry = ht->buckets[i];

		while (entry != NULL) {
			struct htable_entry *next = entry->next;
			size_t slot = hash_key(entry->key, new_size);

			entry->next = buckets[slot];
			buckets[slot] = entry;
			entry = next;
		}
	}
	free(ht->buckets);
	ht->buckets = buckets;
	ht->size = new_size;
}

int
htable_insert(struct htable *ht, const char *key, void *value)
{
	struct htable_entry *entry;
	size_t slot;

	if (htable_locate(ht, key) != NULL)
		return -1;
	if (ht->count >= ht->size)
		grow(ht);
	slot = hash_key(key, ht->size);
	entry = xmalloc(sizeof(*entry));
	entry->key = xstrdup(key);
	entry->value = value;
	entry->next = ht->buckets[slot];
	ht->buckets[slot] = entry;
	ht->count++;
	return 0;
}

void
htable_set(struct htable *ht, const char *key, void *value,
	   htable_free_fn *free_value)
{
	struct htable_entry *entry = htable_locate(ht, key);

	if (entry == NULL) {
		htable_insert(ht, key, value);
		return;
	}
	if (free_value != NULL && entry->value != value)
		free_value(entry->value);
	entry->value = value;
}

int
htable_remove(struct htable *ht, const char *key,
	      htable_free_fn *free_value)
{
	struct htable_entry **link = &ht->buckets[hash_key(key, ht->size)];

	for (; *link != NULL; link = &(*link)->next) {
		struct htable_entry *entry = *link;

		if (strcmp(entry->key, key) != 0)
			continue;
		*link = entry->next;
		if (free_value != NULL)
			free_value(entry->value);
		free(entry->key);
		free(entry);
		ht->count--;
		return 0;
	}
	return -1;
}

size_t
htable_count(const struct htable *ht)
{
	return ht->count;
}

static int
compare_entries(const void *a, const void *b)
{
	const struct htable_entry *const *ea = a;
	const struct htable_entry *const *eb = b;

	return strcmp((*ea)->key, (*eb)->key);
}

struct htable_entry **
htable_entries(const struct htable *ht, bool want_sorted)
{
	struct htable_entry **list = xcalloc(ht->count + 1, sizeof(*list));
	size_t n = 0;

	for (size_t i = 0; i < ht->size; i++)
		for (struct htable_entry *e = ht->buckets[i]; e; e = e->next)
			list[n++] = e;
	if (want_sorted)
		qsort(list, n, sizeof(*list), compare_entries);
	return list;
}
