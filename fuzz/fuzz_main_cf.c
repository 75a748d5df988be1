/*
 * fuzz_main_cf.c - libFuzzer target for the main.cf loader and expander.
 *
 * Loads the input as a main.cf, expands every name it sets (as text, as a
 * parameter, and through the typed getters of declared parameters), and
 * runs the name checks. Errors are fine; crashes, leaks, hangs and
 * results longer than the buffer limit are not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"

#include "global/mail_conf.h"
#include "global/mail_params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small enough that doubling chains hit the limit quickly. */
#define FUZZ_VALUE_LIMIT (64 * 1024)

static void
read_typed(struct mail_conf *conf, const struct param_def *def)
{
	struct err err;
	long long number;
	bool flag;

	switch (def->type) {
	case PARAM_BOOL:
		(void)mail_conf_get_bool(conf, def->name, &flag, &err);
		break;
	case PARAM_INT:
		(void)mail_conf_get_int(conf, def->name, &number, &err);
		break;
	case PARAM_SIZE:
		(void)mail_conf_get_size(conf, def->name, &number, &err);
		break;
	case PARAM_TIME:
		(void)mail_conf_get_time(conf, def->name, &number, &err);
		break;
	case PARAM_STR:
	case PARAM_LIST:
		break;
	}
}

static void
expand_name(struct mail_conf *conf, const char *name, struct strbuf *out)
{
	const struct param_def *def = param_find(name);
	const char *value;
	struct err err;

	strbuf_reset(out);
	if (mail_conf_expand(conf, mail_conf_raw(conf, name), out, &err) == 0 &&
	    strbuf_len(out) > FUZZ_VALUE_LIMIT)
		abort();
	(void)mail_conf_get(conf, name, &value, &err);
	if (def != NULL)
		read_typed(conf, def);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *fp = fmemopen((void *)data, size, "r");
	struct mail_conf *conf;
	struct argv *names;
	struct strbuf out;
	struct err err;

	if (fp == NULL)
		return 0;
	log_to_stderr(false);
	conf = mail_conf_load_stream("/fuzz", fp, &err);
	fclose(fp);
	if (conf == NULL)
		return 0;
	strbuf_init(&out, FUZZ_VALUE_LIMIT);
	names = mail_conf_names(conf);
	for (size_t i = 0; i < names->count; i++)
		expand_name(conf, names->items[i], &out);
	mail_conf_check_names(conf, NULL);
	(void)mail_conf_default(conf, "mynetworks");
	argv_destroy(&names);
	strbuf_deinit(&out);
	mail_conf_destroy(&conf);
	return 0;
}
