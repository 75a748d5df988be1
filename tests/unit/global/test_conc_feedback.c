/*
 * test_conc_feedback.c - unit tests for the concurrency feedback
 * parameters: the accepted forms, every refused one, and the steps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "global/conc_feedback.h"

static void
test_parse(void **state)
{
	static const struct {
		const char *value;
		int ret;
		double amount;
		enum conc_feedback_scale scale;
	} cases[] = {
		{ "1", 0, 1, CONC_FEEDBACK_FIXED },
		{ "0", 0, 0, CONC_FEEDBACK_FIXED },
		{ "0.5", 0, 0.5, CONC_FEEDBACK_FIXED },
		{ "1/concurrency", 0, 1, CONC_FEEDBACK_LINEAR },
		{ "2 / sqrt_concurrency", 0, 2, CONC_FEEDBACK_SQRT },
		{ "", -1, 0, 0 },
		{ "-1", -1, 0, 0 },
		{ "x", -1, 0, 0 },
		{ "1/", -1, 0, 0 },
		{ "1/window", -1, 0, 0 },
		{ "/concurrency", -1, 0, 0 },
		{ "1 2", -1, 0, 0 },
		{ "1e9", -1, 0, 0 },
	};
	struct conc_feedback fb;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = conc_feedback_parse("p", cases[i].value, &fb, &err);

		assert_int_equal(ret, cases[i].ret);
		if (ret == 0) {
			assert_true(fb.amount == cases[i].amount);
			assert_int_equal(fb.scale, cases[i].scale);
		}
	}
	assert_int_equal(conc_feedback_parse("p", "x", &fb, &err), -1);
	assert_string_equal(err.text,
			    "p: bad value \"x\"; expected a number, optionally "
			    "followed by /concurrency or /sqrt_concurrency");
}

static void
test_step(void **state)
{
	struct conc_feedback fixed = { 1, CONC_FEEDBACK_FIXED };
	struct conc_feedback linear = { 1, CONC_FEEDBACK_LINEAR };
	struct conc_feedback sq = { 2, CONC_FEEDBACK_SQRT };

	(void)state;
	assert_true(conc_feedback_step(&fixed, 10) == 1);
	assert_true(conc_feedback_step(&linear, 4) == 0.25);
	assert_true(conc_feedback_step(&linear, 0) == 1);
	assert_true(conc_feedback_step(&sq, 4) == 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_step),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
