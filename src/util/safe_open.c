/*
 * safe_open.c - opening, creating and replacing files safely.
 *
 * safe_open opens with O_NOFOLLOW and then checks what it got with fstat,
 * so there is no window between check and use. O_TRUNC is applied only
 * after the checks pass, and O_NONBLOCK guards against a FIFO planted
 * where a regular file should be.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/mymalloc.h"
#include "util/safe_open.h"

struct safe_replace {
	char *path;
	char *temp_path;
	FILE *fp;
};

/* Close fd keeping errno, for error paths. */
static void
close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

/* Report a failed open(2) of path, telling a symbolic link apart. */
static void
open_failed(const char *path, struct err *err)
{
	int saved = errno;
	struct stat st;

	if (saved == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		err_set(err, "open %s: is a symbolic link", path);
	else
		err_set(err, "open %s: %s", path, strerror(saved));
	errno = saved;
}

/* Apply the safe_flags checks to an open fd; -1 with err and errno. */
static int
check_opened(int fd, const char *path, int safe_flags, struct err *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		err_set(err, "fstat %s: %s", path, strerror(errno));
		return -1;
	}
	if ((safe_flags & SAFE_OPEN_REGULAR) && !S_ISREG(st.st_mode)) {
		err_set(err, "open %s: not a regular file", path);
		errno = EINVAL;
		return -1;
	}
	if ((safe_flags & SAFE_OPEN_ONE_LINK) && st.st_nlink != 1) {
		err_set(err, "open %s: has %lu hard links", path,
		        (unsigned long)st.st_nlink);
		errno = EMLINK;
		return -1;
	}
	return 0;
}

static int
clear_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0)
		return -1;
	return fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
}

int
safe_open(const char *path, int open_flags, int safe_flags, struct err *err)
{
	bool want_trunc = (open_flags & O_TRUNC) != 0;
	bool want_nonblock = (open_flags & O_NONBLOCK) != 0;
	int flags = (open_flags & ~O_TRUNC) | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	int fd;

	ASSERT((open_flags & O_CREAT) == 0);
	if (safe_flags & SAFE_OPEN_REGULAR)
		flags |= O_NONBLOCK;
	fd = open(path, flags);
	if (fd < 0) {
		open_failed(path, err);
		return -1;
	}
	if (check_opened(fd, path, safe_flags, err) < 0) {
		close_keep_errno(fd);
		return -1;
	}
	if ((flags & O_NONBLOCK) && !want_nonblock && clear_nonblock(fd) < 0) {
		err_set(err, "fcntl %s: %s", path, strerror(errno));
		close_keep_errno(fd);
		return -1;
	}
	if (want_trunc && ftruncate(fd, 0) < 0) {
		err_set(err, "truncate %s: %s", path, strerror(errno));
		close_keep_errno(fd);
		return -1;
	}
	return fd;
}

int
safe_create(const char *path, int open_flags, mode_t mode, struct err *err)
{
	int flags =
	    open_flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	int fd = open(path, flags, mode);

	if (fd < 0)
		err_set(err, "create %s: %s", path, strerror(errno));
	return fd;
}

/* The directory part of path: "." for a bare name, "/" for "/name". */
static char *
parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	while (slash > path && slash[-1] == '/')
		slash--;
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
open_unnamed(const char *dir, int open_flags, mode_t mode)
{
	int fd;

	/* link_unnamed names the file through /proc/self/fd (linkat with
	 * AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH), which a process
	 * that switched its effective uid may not be allowed to search. */
	if (faccessat(AT_FDCWD, "/proc/self/fd", X_OK, AT_EACCESS) < 0) {
		errno = EOPNOTSUPP;
		return -1;
	}
	fd = open(dir, open_flags | O_TMPFILE | O_CLOEXEC, mode);
	/* EISDIR: a kernel without O_TMPFILE took it for O_DIRECTORY. */
	if (fd < 0 && (errno == EISDIR || errno == EINVAL))
		errno = EOPNOTSUPP;
	return fd;
}

int
link_unnamed(int fd, const char *path)
{
	char proc_path[64];

	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", fd);
	return linkat(AT_FDCWD, proc_path, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
}

int
fsync_dir(const char *dir, struct err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		err_set(err, "open %s: %s", dir, strerror(errno));
		return -1;
	}
	if (fsync(fd) < 0) {
		err_set(err, "fsync %s: %s", dir, strerror(errno));
		close_keep_errno(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void
replace_free(struct safe_replace *sr)
{
	free(sr->path);
	free(sr->temp_path);
	free(sr);
}

struct safe_replace *
safe_replace_begin(const char *path, mode_t mode, struct err *err)
{
	struct safe_replace *sr = xmalloc(sizeof(*sr));
	int fd;

	sr->path = xstrdup(path);
	sr->temp_path = xasprintf("%s.tmpXXXXXX", path);
	fd = mkostemp(sr->temp_path, O_CLOEXEC);
	if (fd < 0) {
		err_set(err, "create %s: %s", sr->temp_path, strerror(errno));
		replace_free(sr);
		return NULL;
	}
	if (fchmod(fd, mode) < 0 || (sr->fp = fdopen(fd, "w")) == NULL) {
		err_set(err, "create %s: %s", sr->temp_path, strerror(errno));
		close_keep_errno(fd);
		(void)unlink(sr->temp_path);
		replace_free(sr);
		return NULL;
	}
	return sr;
}

FILE *
safe_replace_stream(struct safe_replace *sr)
{
	return sr->fp;
}

const char *
safe_replace_temp_path(const struct safe_replace *sr)
{
	return sr->temp_path;
}

/* Write out and close the temporary file; -1 with err. */
static int
finish_temp(struct safe_replace *sr, struct err *err)
{
	FILE *fp = sr->fp;
	const char *step = NULL;

	sr->fp = NULL;
	errno = EIO; /* ferror without a more precise errno */
	if (fflush(fp) != 0 || ferror(fp))
		step = "write";
	else if (fsync(fileno(fp)) < 0)
		step = "fsync";
	if (step != NULL) {
		err_set(err, "%s %s: %s", step, sr->temp_path, strerror(errno));
		fclose(fp);
		return -1;
	}
	if (fclose(fp) != 0) {
		err_set(err, "close %s: %s", sr->temp_path, strerror(errno));
		return -1;
	}
	return 0;
}

int
safe_replace_commit(struct safe_replace **srp, struct err *err)
{
	struct safe_replace *sr = *srp;
	char *dir;
	int ret;

	*srp = NULL;
	if (finish_temp(sr, err) < 0) {
		(void)unlink(sr->temp_path);
		replace_free(sr);
		return -1;
	}
	if (rename(sr->temp_path, sr->path) < 0) {
		err_set(err, "rename %s to %s: %s", sr->temp_path, sr->path,
		        strerror(errno));
		(void)unlink(sr->temp_path);
		replace_free(sr);
		return -1;
	}
	dir = parent_dir(sr->path);
	ret = fsync_dir(dir, err);
	free(dir);
	replace_free(sr);
	return ret;
}

void
safe_replace_abort(struct safe_replace **srp)
{
	struct safe_replace *sr = *srp;

	if (sr == NULL)
		return;
	if (sr->fp != NULL)
		fclose(sr->fp);
	(void)unlink(sr->temp_path);
	replace_free(sr);
	*srp = NULL;
}

int
safe_replace_file(const char *path, const void *bytes, size_t len, mode_t mode,
                  struct err *err)
{
	struct safe_replace *sr = safe_replace_begin(path, mode, err);

	if (sr == NULL)
		return -1;
	if (len > 0 && fwrite(bytes, 1, len, sr->fp) != len) {
		err_set(err, "write %s: %s", sr->temp_path, strerror(errno));
		safe_replace_abort(&sr);
		return -1;
	}
	return safe_replace_commit(&sr, err);
}

/* mkdir one level; an existing directory is fine. */
static int
mkdir_one(const char *path, mode_t mode, struct err *err)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST) {
		err_set(err, "mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err_set(err, "mkdir %s: exists and is not a directory", path);
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int
mkdir_p(const char *path, mode_t mode, struct err *err)
{
	char *copy = xstrdup(path);
	char *cp = copy;
	int ret = 0;

	if (*path == 0) {
		free(copy);
		err_set(err, "mkdir %s: %s", path, strerror(ENOENT));
		errno = ENOENT;
		return -1;
	}
	for (;;) {
		while (*cp == '/')
			cp++;
		cp += strcspn(cp, "/");
		if (*cp == 0) {
			if (cp > copy && cp[-1] != '/')
				ret = mkdir_one(copy, mode, err);
			break;
		}
		*cp = 0;
		ret = mkdir_one(copy, mode, err);
		*cp = '/';
		if (ret < 0)
			break;
	}
	free(copy);
	return ret;
}
