/*
 * conc_feedback.h - the destination concurrency feedback parameters
 * (default_destination_concurrency_positive_feedback and _negative_, and
 * their per-transport forms): "N", "N/concurrency" or
 * "N/sqrt_concurrency", where N is a non-negative number. qmgr adds the
 * positive amount to a destination's concurrency window after each
 * delivery without a connection or handshake failure, and subtracts the
 * negative amount after each one with such a failure; whole steps change
 * the window, fractions accumulate.
 */
#ifndef POSTERN_GLOBAL_CONC_FEEDBACK_H
#define POSTERN_GLOBAL_CONC_FEEDBACK_H

#include "util/err.h"

enum conc_feedback_scale {
	CONC_FEEDBACK_FIXED, /* N */
	CONC_FEEDBACK_LINEAR, /* N/concurrency */
	CONC_FEEDBACK_SQRT,   /* N/sqrt_concurrency */
};

struct conc_feedback {
	double amount;
	enum conc_feedback_scale scale;
};

/*
 * Parse value of parameter name. -1 with err "NAME: bad value \"V\";
 * expected a number, optionally followed by /concurrency or
 * /sqrt_concurrency".
 */
int conc_feedback_parse(const char *name, const char *value,
			struct conc_feedback *out, struct err *err);

/* The step for a window of this width (at least 1). */
double conc_feedback_step(const struct conc_feedback *fb, int window);

#endif
