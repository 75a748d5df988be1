/*
 * safe_open.h - opening, creating and replacing files safely.
 *
 * Privileged programs open files in directories that others may write to,
 * so the last path component is never followed when it is a symbolic link,
 * and callers can insist on a plain file with a single hard link (a second
 * link could be an attacker's name for a file they must not touch).
 * Configuration and table files are replaced atomically: the new content
 * goes to a temporary file in the same directory, which is fsynced and
 * renamed over the old name, and then the directory is fsynced, so readers
 * see either the old file or the new one, also after a crash. All fds are
 * close-on-exec. Errors come back as -1 (or NULL) with errno and err
 * "VERB PATH: reason".
 */
#ifndef POSTERN_UTIL_SAFE_OPEN_H
#define POSTERN_UTIL_SAFE_OPEN_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "util/err.h"

/* safe_open checks. */
#define SAFE_OPEN_REGULAR (1 << 0)  /* refuse anything but a regular file */
#define SAFE_OPEN_ONE_LINK (1 << 1) /* refuse a file with several links */

/*
 * Open an existing file with open_flags (O_RDONLY, O_WRONLY | O_APPEND,
 * ...; O_CREAT is not allowed) without following a symbolic link in the
 * last component, applying the checks in safe_flags. A FIFO is refused
 * under SAFE_OPEN_REGULAR without blocking on it. Returns the fd, or -1
 * with err "open PATH: reason": "is a symbolic link", "not a regular
 * file", "has N hard links", or the system's reason.
 */
int safe_open(const char *path, int open_flags, int safe_flags,
              struct err *err);

/*
 * Create a new file at path with mode (as modified by the umask) and
 * open_flags, failing if anything, even a dangling symbolic link, is
 * already there. Returns the fd, or -1 with err "create PATH: reason".
 */
int safe_create(const char *path, int open_flags, mode_t mode, struct err *err);

/*
 * Replace path atomically with len bytes, giving the new file exactly mode
 * (the umask does not apply). Returns 0, or -1 with err naming the step
 * that failed; no temporary file is left, and path is unchanged unless
 * only the final directory fsync failed (see safe_replace_commit).
 */
int safe_replace_file(const char *path, const void *bytes, size_t len,
                      mode_t mode, struct err *err);

struct safe_replace;

/*
 * Start replacing path: creates a temporary file next to it (named
 * "PATH.tmpXXXXXX") with exactly mode. Returns the handle, or NULL with
 * err "create PATH.tmpXXXXXX: reason". path keeps its old content until
 * safe_replace_commit.
 */
struct safe_replace *safe_replace_begin(const char *path, mode_t mode,
                                        struct err *err);

/*
 * Where to write the new content: a stdio stream owned by the handle
 * (never fclose it), and the temporary file's name (for libraries such as
 * LMDB that want a path; do not mix both ways of writing).
 */
FILE *safe_replace_stream(struct safe_replace *sr);
const char *safe_replace_temp_path(const struct safe_replace *sr);

/*
 * Flush and fsync the temporary file, rename it over path and fsync the
 * directory. Frees the handle either way (*srp becomes NULL). Returns 0,
 * or -1 with err "write PATH.tmpXXXXXX: reason" (or the fsync, close or
 * rename step), in which case the temporary file is removed and path is
 * unchanged; only when the final directory fsync fails ("open DIR" or
 * "fsync DIR") is the new content already in place.
 */
int safe_replace_commit(struct safe_replace **srp, struct err *err);

/*
 * Give up: remove the temporary file and free the handle; path keeps its
 * old content. Accepts NULL; *srp becomes NULL.
 */
void safe_replace_abort(struct safe_replace **srp);

/*
 * Flush the directory dir to disk, so that renames and new names in it
 * survive a crash. Returns 0, or -1 with err "open DIR: reason" or
 * "fsync DIR: reason".
 */
int fsync_dir(const char *dir, struct err *err);

/*
 * Open an unnamed file in directory dir (O_TMPFILE) with open_flags
 * (O_RDWR or O_WRONLY) and mode, to be named by link_unnamed once it is
 * ready. The file system allocates its inode without locking dir, which
 * matters where many processes create files in one directory, and a crash
 * before the link leaves nothing behind. Returns the fd, or -1 with errno;
 * EOPNOTSUPP means the kernel, the file system or a missing /proc cannot
 * do this, and the caller creates a named file instead.
 */
int open_unnamed(const char *dir, int open_flags, mode_t mode);

/*
 * Give the unnamed file fd (from open_unnamed) the name path, on the same
 * file system. Never replaces an existing name (EEXIST). 0, or -1 with
 * errno.
 */
int link_unnamed(int fd, const char *path);

/*
 * Create path and any missing parents with mode (as modified by the
 * umask). Existing directories are fine; a non-directory in the way is an
 * error. Returns 0, or -1 with err "mkdir PATH: reason".
 */
int mkdir_p(const char *path, mode_t mode, struct err *err);

#endif
