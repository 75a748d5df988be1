/*
 * fuzz_conf_check.c - libFuzzer target for the main.cf + master.cf checks.
 *
 * The input is a main.cf, a line "%%", and a master.cf (no "%%": all of it
 * is main.cf, and there is no master.cf). Both are loaded leniently, as
 * postconf loads them, and every check of conf_check_run is run, with
 * logging off. Load errors are fine; crashes, leaks and hangs are not.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

#include "global/conf_check.h"
#include "global/mail_conf.h"
#include "global/master_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Where master.cf starts: after the first "\n%%\n", or size if none. */
static size_t
split_at(const uint8_t *data, size_t size, size_t *master_start)
{
	static const char sep[] = "\n%%\n";

	for (size_t i = 0; i + sizeof(sep) - 1 <= size; i++)
		if (memcmp(data + i, sep, sizeof(sep) - 1) == 0) {
			*master_start = i + sizeof(sep) - 1;
			return i + 1;
		}
	*master_start = size;
	return size;
}

/* A stream over len bytes (fmemopen refuses an empty buffer). */
static FILE *
open_bytes(const uint8_t *data, size_t len)
{
	return fmemopen((void *)data, len > 0 ? len : 1, "r");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t master_start;
	size_t main_len = split_at(data, size, &master_start);
	struct mail_conf *conf = mail_conf_create("/fuzz");
	struct master_conf *master = NULL;
	struct err err;
	FILE *fp;

	log_to_stderr(false);
	if (main_len > 0 && (fp = open_bytes(data, main_len)) != NULL) {
		mail_conf_destroy(&conf);
		conf = mail_conf_load_stream("/fuzz", fp, &err);
		fclose(fp);
	}
	if (conf == NULL)
		return 0;
	if (master_start < size &&
	    (fp = open_bytes(data + master_start, size - master_start)) !=
		    NULL) {
		master = master_conf_read(fp, "/fuzz/master.cf", 0, &err);
		fclose(fp);
	}
	conf_check_run(conf, master, CONF_CHECK_ALL);
	master_conf_destroy(&master);
	mail_conf_destroy(&conf);
	return 0;
}
