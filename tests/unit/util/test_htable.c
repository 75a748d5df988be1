/*
 * test_htable.c - unit tests for the text-keyed hash table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/htable.h"
#include "util/mymalloc.h"

static void
test_insert_find_remove(void **state)
{
	struct htable *ht = htable_create(0);
	int one = 1;
	int two = 2;

	(void)state;
	assert_int_equal(htable_insert(ht, "one", &one), 0);
	assert_int_equal(htable_insert(ht, "one", &two), -1);
	assert_ptr_equal(htable_find(ht, "one"), &one);
	assert_null(htable_find(ht, "two"));
	htable_set(ht, "one", &two, NULL);
	assert_ptr_equal(htable_find(ht, "one"), &two);
	assert_int_equal(htable_count(ht), 1);
	assert_int_equal(htable_remove(ht, "one", NULL), 0);
	assert_int_equal(htable_remove(ht, "one", NULL), -1);
	assert_int_equal(htable_count(ht), 0);
	htable_destroy(&ht, NULL);
	assert_null(ht);
	htable_destroy(&ht, NULL);
}

static void
test_growth_and_sorted_entries(void **state)
{
	struct htable *ht = htable_create(4);
	struct htable_entry **list;
	char key[32];

	(void)state;
	for (int i = 999; i >= 0; i--) {
		snprintf(key, sizeof(key), "key%04d", i);
		assert_int_equal(htable_insert(ht, key, xstrdup(key)), 0);
	}
	assert_int_equal(htable_count(ht), 1000);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "key%04d", i);
		assert_string_equal(htable_find(ht, key), key);
	}
	list = htable_entries(ht, true);
	for (int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "key%04d", i);
		assert_string_equal(list[i]->key, key);
	}
	assert_null(list[1000]);
	free(list);
	htable_destroy(&ht, free);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_find_remove),
		cmocka_unit_test(test_growth_and_sorted_entries),
	};

	return cmocka_run_group_tests_name("htable", tests, NULL, NULL);
}
