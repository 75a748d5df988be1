/*
 * fuzz_master_conf.c - libFuzzer target for the master.cf reader.
 *
 * Reads the input as a master.cf in both lenient and strict mode. Strict
 * mode must never accept what lenient mode warned about, and every entry
 * accepted must have a command and consistent -o settings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#include "global/master_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct master_conf *
read_input(const uint8_t *data, size_t size, int flags)
{
	FILE *fp = fmemopen((void *)data, size, "r");
	struct master_conf *conf;
	struct err err;

	if (fp == NULL)
		return NULL;
	conf = master_conf_read(fp, "master.cf", flags, &err);
	fclose(fp);
	return conf;
}

static void
check_entries(const struct master_conf *conf)
{
	for (size_t i = 0; i < conf->count; i++) {
		const struct master_service *svc = &conf->services[i];

		if (svc->command == NULL || svc->args->count == 0 ||
		    svc->opt_count > svc->args->count)
			abort();
		for (size_t j = 0; j < svc->opt_count; j++)
			if (svc->opts[j].name[0] == 0)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct master_conf *lenient;
	struct master_conf *strict;
	struct argv *names;

	if (size == 0)
		return 0;
	lenient = read_input(data, size, 0);
	strict = read_input(data, size, MASTER_CONF_STRICT);
	if (strict != NULL && lenient == NULL)
		abort();
	if (lenient != NULL) {
		check_entries(lenient);
		names = master_conf_service_names(lenient);
		argv_destroy(&names);
	}
	master_conf_destroy(&lenient);
	master_conf_destroy(&strict);
	return 0;
}
