/*
 * queue_scan.h - listing the files of one queue, through its hash
 * subdirectories (queue_file.h describes the layout).
 *
 * The scan visits every entry whose name is a valid queue ID; temporary
 * names, dot files and anything deeper than hash_queue_depth are skipped.
 * Files may come and go while the scan runs: a vanished subdirectory is
 * not an error.
 */
#ifndef POSTERN_GLOBAL_QUEUE_SCAN_H
#define POSTERN_GLOBAL_QUEUE_SCAN_H

#include "global/queue_file.h"
#include "util/err.h"

/*
 * Called with each queue ID found; return 0 to go on, 1 to stop the scan
 * early (queue_scan then returns 1), -1 to fail it.
 */
typedef int queue_scan_fn(const char *id, void *ctx);

/*
 * Scan queue_name. Returns 0 after a full scan, 1 when fn stopped it,
 * -1 with err ("open directory PATH: reason") when the queue's top
 * directory cannot be read, or fn's -1.
 */
int queue_scan(const struct queue_layout *ql, const char *queue_name,
	       queue_scan_fn *fn, void *ctx, struct err *err);

#endif
