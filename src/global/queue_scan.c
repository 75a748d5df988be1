/*
 * queue_scan.c - walk a queue directory and its hash subdirectories.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "global/queue_id.h"
#include "global/queue_scan.h"
#include "util/strbuf.h"

/* A hash subdirectory is named by one character of the ID alphabet. */
static bool
is_hash_dir_name(const char *name)
{
	return name[0] != 0 && name[0] != '.' && name[1] == 0;
}

static int
scan_dir(const char *path, int depth, queue_scan_fn *fn, void *ctx,
	 bool is_top, struct err *err)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	int ret = 0;

	if (dir == NULL) {
		if (!is_top) /* vanished, or not a directory */
			return 0;
		err_set(err, "open directory %s: %s", path, strerror(errno));
		return -1;
	}
	while (ret == 0 && (de = readdir(dir)) != NULL) {
		if (depth > 0 && is_hash_dir_name(de->d_name)) {
			char sub[4096];

			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			ret = scan_dir(sub, depth - 1, fn, ctx, false, err);
		} else if (is_valid_queue_id(de->d_name)) {
			ret = fn(de->d_name, ctx);
		}
	}
	(void)closedir(dir);
	return ret;
}

int
queue_scan(const struct queue_layout *ql, const char *queue_name,
	   queue_scan_fn *fn, void *ctx, struct err *err)
{
	char path[4096];
	int depth = queue_layout_is_hashed(ql, queue_name)
			    ? ql->hash_queue_depth
			    : 0;

	snprintf(path, sizeof(path), "%s/%s", ql->queue_directory, queue_name);
	return scan_dir(path, depth, fn, ctx, true, err);
}
