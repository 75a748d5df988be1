/*
 * fuzz_msg_log.c - libFuzzer target for the per-message log parser.
 *
 * The input is the text of a bounce/defer/trace log. Every entry the
 * parser hands over must be complete (recipient and status present, no
 * NULL strings, no line ends inside values, numbers in range), and the
 * count returned must be the number of entries seen.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "global/msg_log.h"
#include "util/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_value(const char *value)
{
	ASSERT(value != NULL);
	ASSERT(strchr(value, '\n') == NULL);
	ASSERT(strlen(value) < MSG_LOG_LINE_MAX);
}

static int
check_entry(const struct msg_log_entry *e, void *ctx, struct err *err)
{
	int *count = ctx;

	(void)err;
	check_value(e->recipient);
	check_value(e->orig_rcpt);
	check_value(e->dsn_orcpt);
	check_value(e->status);
	check_value(e->action);
	check_value(e->reason);
	check_value(e->relay);
	check_value(e->dsn_mta);
	check_value(e->diag_text);
	ASSERT(e->offset >= -1);
	ASSERT(e->notify_flags >= 0 && e->notify_flags <= 15);
	ASSERT(e->when >= 0);
	(*count)++;
	/* Exercise the callback's error path now and then. */
	return e->reason[0] == '!' ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err err;
	int count = 0;
	int ret;

	ret = msg_log_parse((const char *)data, size, "fuzz", check_entry,
			    &count, &err);
	ASSERT(ret == -1 || ret == count);
	if (ret < 0)
		ASSERT(err.text[0] != 0);
	return 0;
}
