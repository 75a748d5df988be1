/*
 * conc_feedback.c - parsing and applying the concurrency feedback
 * parameters (conc_feedback.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "global/conc_feedback.h"

int
conc_feedback_parse(const char *name, const char *value,
		    struct conc_feedback *out, struct err *err)
{
	const char *slash = strchr(value, '/');
	char *end;
	double amount;

	errno = 0;
	amount = strtod(value, &end);
	out->scale = CONC_FEEDBACK_FIXED;
	if (end != value && errno == 0 && amount >= 0 && amount <= 1000) {
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end == 0 && slash == NULL) {
			out->amount = amount;
			return 0;
		}
		if (end == slash) {
			const char *unit = slash + 1;

			while (*unit == ' ' || *unit == '\t')
				unit++;
			out->scale = strcmp(unit, "concurrency") == 0 ? CONC_FEEDBACK_LINEAR
				     : strcmp(unit, "sqrt_concurrency") == 0
					     ? CONC_FEEDBACK_SQRT
					     : CONC_FEEDBACK_FIXED;
			if (out->scale != CONC_FEEDBACK_FIXED) {
				out->amount = amount;
				return 0;
			}
		}
	}
	err_set(err,
		"%s: bad value \"%s\"; expected a number, optionally followed "
		"by /concurrency or /sqrt_concurrency",
		name, value);
	return -1;
}

double
conc_feedback_step(const struct conc_feedback *fb, int window)
{
	double width = window < 1 ? 1 : (double)window;

	switch (fb->scale) {
	case CONC_FEEDBACK_LINEAR:
		return fb->amount / width;
	case CONC_FEEDBACK_SQRT:
		return fb->amount / sqrt(width);
	default:
		return fb->amount;
	}
}
