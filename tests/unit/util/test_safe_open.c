/*
 * test_safe_open.c - unit tests for safe opening, creation and replacement.
 *
 * Each test works in its own temporary directory and checks that nothing
 * but the expected names is left in it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../remove_tree.h"

#include "util/safe_open.h"

struct fixture {
	char dir[64];
	char path[256]; /* scratch path inside dir */
	mode_t old_umask;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	strcpy(fx->dir, "/tmp/test_safe_open.XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	fx->old_umask = umask(022);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	umask(fx->old_umask);
	remove_tree(fx->dir);
	free(fx);
	return 0;
}

/* fx->path = dir/name */
static const char *
in_dir(struct fixture *fx, const char *name)
{
	snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, name);
	return fx->path;
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "we");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

/* The whole content of path, in a static buffer. */
static const char *
read_file(const char *path)
{
	static char buf[256];
	FILE *fp = fopen(path, "re");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = 0;
	fclose(fp);
	return buf;
}

/* The names in dir, sorted and joined by spaces. */
static const char *
list_dir(const char *path)
{
	static char out[512];
	struct dirent **names;
	int n = scandir(path, &names, NULL, alphasort);

	assert_true(n >= 0);
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			if (out[0])
				strcat(out, " ");
			strcat(out, names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
	return out;
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static void
expect_err(const struct err *err, const char *verb, const char *path,
           const char *reason)
{
	char want[600];

	snprintf(want, sizeof(want), "%s %s: %s", verb, path, reason);
	assert_string_equal(err->text, want);
}

static void
test_open_regular_file(void **state)
{
	struct fixture *fx = *state;
	const char *path = in_dir(fx, "main.cf");
	struct err err;
	char buf[16];
	int fd;

	write_file(path, "data");
	fd = safe_open(path, O_RDONLY, SAFE_OPEN_REGULAR | SAFE_OPEN_ONE_LINK,
	               &err);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 4);
	/* The O_NONBLOCK used against FIFOs is gone again. */
	assert_int_equal(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	fd = safe_open(path, O_RDONLY | O_NONBLOCK, SAFE_OPEN_REGULAR, &err);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	close(fd);
	fd = safe_open(path, O_WRONLY | O_TRUNC, SAFE_OPEN_REGULAR, &err);
	assert_true(fd >= 0);
	close(fd);
	assert_string_equal(read_file(path), "");
}

static void
test_open_refuses_symlink(void **state)
{
	struct fixture *fx = *state;
	char target[256];
	const char *link_path;
	struct err err;

	write_file(in_dir(fx, "target"), "secret");
	strcpy(target, fx->path);
	link_path = in_dir(fx, "link");
	assert_int_equal(symlink(target, link_path), 0);
	errno = 0;
	assert_int_equal(safe_open(link_path, O_RDONLY, 0, &err), -1);
	assert_int_equal(errno, ELOOP);
	expect_err(&err, "open", link_path, "is a symbolic link");
	assert_int_equal(
	    safe_open(link_path, O_WRONLY | O_TRUNC, SAFE_OPEN_REGULAR, &err),
	    -1);
	assert_string_equal(read_file(target), "secret");
}

static void
test_open_refuses_directory_and_fifo(void **state)
{
	struct fixture *fx = *state;
	struct err err;
	const char *path;
	int fd;

	errno = 0;
	assert_int_equal(safe_open(fx->dir, O_RDONLY, SAFE_OPEN_REGULAR, &err),
	                 -1);
	assert_int_equal(errno, EINVAL);
	expect_err(&err, "open", fx->dir, "not a regular file");
	assert_int_equal(safe_open(fx->dir, O_WRONLY, 0, &err), -1);
	assert_int_equal(errno, EISDIR);
	expect_err(&err, "open", fx->dir, "Is a directory");
	/* Without SAFE_OPEN_REGULAR a directory may be opened to read. */
	fd = safe_open(fx->dir, O_RDONLY, 0, &err);
	assert_true(fd >= 0);
	close(fd);

	path = in_dir(fx, "fifo");
	assert_int_equal(mkfifo(path, 0600), 0);
	/* Would block for ever without the O_NONBLOCK guard. */
	assert_int_equal(safe_open(path, O_RDONLY, SAFE_OPEN_REGULAR, &err),
	                 -1);
	expect_err(&err, "open", path, "not a regular file");
	assert_int_equal(safe_open(path, O_WRONLY, SAFE_OPEN_REGULAR, &err),
	                 -1);
	assert_int_equal(errno, ENXIO);
	expect_err(&err, "open", path, "No such device or address");

	path = in_dir(fx, "missing");
	assert_int_equal(safe_open(path, O_RDONLY, 0, &err), -1);
	assert_int_equal(errno, ENOENT);
	expect_err(&err, "open", path, "No such file or directory");
}

static void
test_open_refuses_hard_links(void **state)
{
	struct fixture *fx = *state;
	char first[256];
	const char *second;
	struct err err;
	int fd;

	write_file(in_dir(fx, "first"), "keep");
	strcpy(first, fx->path);
	second = in_dir(fx, "second");
	assert_int_equal(link(first, second), 0);
	errno = 0;
	/* Refused before O_TRUNC could destroy the content. */
	assert_int_equal(
	    safe_open(second, O_WRONLY | O_TRUNC, SAFE_OPEN_ONE_LINK, &err),
	    -1);
	assert_int_equal(errno, EMLINK);
	expect_err(&err, "open", second, "has 2 hard links");
	assert_string_equal(read_file(first), "keep");
	fd = safe_open(second, O_RDONLY, SAFE_OPEN_REGULAR, &err);
	assert_true(fd >= 0);
	close(fd);
}

static void
test_create_exclusive(void **state)
{
	struct fixture *fx = *state;
	char path[256];
	char target[256];
	const char *dangling;
	struct err err;
	int fd;

	strcpy(path, in_dir(fx, "new"));
	fd = safe_create(path, O_WRONLY, 0666, &err);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	assert_int_equal(file_mode(path), 0644);
	errno = 0;
	assert_int_equal(safe_create(path, O_WRONLY, 0600, &err), -1);
	assert_int_equal(errno, EEXIST);
	expect_err(&err, "create", path, "File exists");

	strcpy(target, in_dir(fx, "nowhere"));
	dangling = in_dir(fx, "dangling");
	assert_int_equal(symlink(target, dangling), 0);
	assert_int_equal(safe_create(dangling, O_WRONLY, 0600, &err), -1);
	assert_int_equal(errno, EEXIST);
	expect_err(&err, "create", dangling, "File exists");
	assert_string_equal(list_dir(fx->dir), "dangling new");
}

/* An unnamed file is invisible until linked, and a link never replaces. */
static void
test_unnamed_file(void **state)
{
	struct fixture *fx = *state;
	int fd = open_unnamed(fx->dir, O_RDWR, 0640);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "body", 4), 4);
	assert_string_equal(list_dir(fx->dir), "");
	assert_int_equal(link_unnamed(fd, in_dir(fx, "named")), 0);
	assert_string_equal(read_file(in_dir(fx, "named")), "body");
	/* A second name for the same file is refused when it exists. */
	write_file(in_dir(fx, "taken"), "old");
	assert_int_equal(link_unnamed(fd, in_dir(fx, "taken")), -1);
	assert_int_equal(errno, EEXIST);
	assert_string_equal(read_file(in_dir(fx, "taken")), "old");
	assert_int_equal(close(fd), 0);

	/* Closed before a link: nothing is left behind. */
	fd = open_unnamed(fx->dir, O_WRONLY, 0600);
	assert_true(fd >= 0);
	assert_int_equal(close(fd), 0);
	assert_string_equal(list_dir(fx->dir), "named taken");

	/* No such directory, or not a directory. */
	assert_int_equal(open_unnamed(in_dir(fx, "missing"), O_RDWR, 0600), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(open_unnamed(in_dir(fx, "taken"), O_RDWR, 0600), -1);
	assert_int_equal(errno, ENOTDIR);
}

static void
test_replace_file(void **state)
{
	struct fixture *fx = *state;
	char path[256];
	struct err err;

	strcpy(path, in_dir(fx, "main.cf"));
	umask(077);
	assert_int_equal(safe_replace_file(path, "one\n", 4, 0644, &err), 0);
	assert_string_equal(read_file(path), "one\n");
	assert_int_equal(file_mode(path), 0644);
	assert_int_equal(safe_replace_file(path, "two\n", 4, 0640, &err), 0);
	assert_string_equal(read_file(path), "two\n");
	assert_int_equal(file_mode(path), 0640);
	assert_int_equal(safe_replace_file(path, "", 0, 0600, &err), 0);
	assert_string_equal(read_file(path), "");
	assert_string_equal(list_dir(fx->dir), "main.cf");
}

static void
test_replace_relative_path(void **state)
{
	struct fixture *fx = *state;
	char cwd[512];
	struct err err;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(fx->dir), 0);
	assert_int_equal(safe_replace_file("rel.cf", "x", 1, 0644, &err), 0);
	assert_int_equal(chdir(cwd), 0);
	assert_string_equal(list_dir(fx->dir), "rel.cf");
}

static void
test_replace_keeps_old_until_commit(void **state)
{
	struct fixture *fx = *state;
	struct safe_replace *sr;
	char path[256];
	char temp[300];
	struct err err;

	strcpy(path, in_dir(fx, "main.cf"));
	write_file(path, "old\n");
	sr = safe_replace_begin(path, 0644, &err);
	assert_non_null(sr);
	strcpy(temp, safe_replace_temp_path(sr));
	assert_int_equal(strncmp(temp, path, strlen(path)), 0);
	assert_int_equal(strncmp(temp + strlen(path), ".tmp", 4), 0);
	fprintf(safe_replace_stream(sr), "new %d\n", 1);
	assert_string_equal(read_file(path), "old\n");
	assert_int_equal(access(temp, F_OK), 0);
	assert_int_equal(safe_replace_commit(&sr, &err), 0);
	assert_null(sr);
	assert_string_equal(read_file(path), "new 1\n");
	assert_int_equal(access(temp, F_OK), -1);
	assert_string_equal(list_dir(fx->dir), "main.cf");
}

static void
test_replace_abort_leaves_no_temp(void **state)
{
	struct fixture *fx = *state;
	struct safe_replace *sr;
	char path[256];
	struct err err;

	strcpy(path, in_dir(fx, "main.cf"));
	write_file(path, "old\n");
	sr = safe_replace_begin(path, 0644, &err);
	assert_non_null(sr);
	fputs("never\n", safe_replace_stream(sr));
	assert_int_equal(strncmp(list_dir(fx->dir), "main.cf main.cf.tmp", 19),
	                 0);
	safe_replace_abort(&sr);
	assert_null(sr);
	safe_replace_abort(&sr);
	assert_string_equal(read_file(path), "old\n");
	assert_string_equal(list_dir(fx->dir), "main.cf");
}

/* err->text is "VERB PREFIX.tmpXXXXXX...: REASON" */
static void
expect_temp_err(const struct err *err, const char *verb, const char *prefix,
                const char *reason)
{
	char head[512];
	size_t text_len = strlen(err->text);

	snprintf(head, sizeof(head), "%s %s.tmp", verb, prefix);
	assert_int_equal(strncmp(err->text, head, strlen(head)), 0);
	assert_true(text_len > strlen(reason));
	assert_string_equal(err->text + text_len - strlen(reason), reason);
}

static void
test_replace_errors(void **state)
{
	struct fixture *fx = *state;
	struct safe_replace *sr;
	char path[256];
	struct err err;

	strcpy(path, in_dir(fx, "missing/main.cf"));
	errno = 0;
	assert_null(safe_replace_begin(path, 0644, &err));
	assert_int_equal(errno, ENOENT);
	expect_temp_err(&err, "create", path, ": No such file or directory");
	assert_int_equal(safe_replace_file(path, "x", 1, 0644, &err), -1);
	expect_temp_err(&err, "create", path, ": No such file or directory");

	/* A directory in the way: the rename fails, the temp file goes. */
	strcpy(path, in_dir(fx, "subdir"));
	assert_int_equal(mkdir(path, 0755), 0);
	write_file(in_dir(fx, "subdir/keep"), "k");
	sr = safe_replace_begin(path, 0644, &err);
	assert_non_null(sr);
	fputs("content\n", safe_replace_stream(sr));
	assert_int_equal(safe_replace_commit(&sr, &err), -1);
	assert_null(sr);
	expect_temp_err(&err, "rename", path, ": Is a directory");
	assert_string_equal(list_dir(fx->dir), "subdir");
}

/* Writes past a small RLIMIT_FSIZE fail with EFBIG (SIGXFSZ ignored). */
static void
test_replace_write_errors(void **state)
{
	struct fixture *fx = *state;
	struct sigaction ign = {.sa_handler = SIG_IGN};
	struct sigaction old_sig;
	struct rlimit old_lim;
	struct rlimit small;
	struct safe_replace *sr;
	char path[256];
	char big[20000];
	struct err err;

	strcpy(path, in_dir(fx, "main.cf"));
	write_file(path, "old\n");
	memset(big, 'b', sizeof(big));
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old_lim), 0);
	small = old_lim;
	small.rlim_cur = 10;
	sigaction(SIGXFSZ, &ign, &old_sig);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);

	sr = safe_replace_begin(path, 0644, &err);
	assert_non_null(sr);
	fputs("more than ten bytes\n", safe_replace_stream(sr));
	assert_int_equal(safe_replace_commit(&sr, &err), -1);
	expect_temp_err(&err, "write", path, ": File too large");
	assert_int_equal(safe_replace_file(path, big, sizeof(big), 0644, &err),
	                 -1);
	expect_temp_err(&err, "write", path, ": File too large");

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old_lim), 0);
	sigaction(SIGXFSZ, &old_sig, NULL);
	assert_string_equal(read_file(path), "old\n");
	assert_string_equal(list_dir(fx->dir), "main.cf");
}

static void
test_fsync_dir(void **state)
{
	struct fixture *fx = *state;
	const char *path;
	struct err err;

	assert_int_equal(fsync_dir(fx->dir, &err), 0);
	path = in_dir(fx, "missing");
	assert_int_equal(fsync_dir(path, &err), -1);
	assert_int_equal(errno, ENOENT);
	expect_err(&err, "open", path, "No such file or directory");
	path = in_dir(fx, "file");
	write_file(path, "");
	assert_int_equal(fsync_dir(path, &err), -1);
	assert_int_equal(errno, ENOTDIR);
	expect_err(&err, "open", path, "Not a directory");
}

static void
test_mkdir_p(void **state)
{
	struct fixture *fx = *state;
	char path[256];
	char file[256];
	struct err err;

	umask(0);
	strcpy(path, in_dir(fx, "a/b/c"));
	assert_int_equal(mkdir_p(path, 0750, &err), 0);
	assert_int_equal(file_mode(path), 0750);
	assert_int_equal(file_mode(in_dir(fx, "a")), 0750);
	assert_int_equal(mkdir_p(path, 0750, &err), 0);
	strcpy(path, in_dir(fx, "a//b///d/"));
	assert_int_equal(mkdir_p(path, 0700, &err), 0);
	assert_int_equal(file_mode(in_dir(fx, "a/b/d")), 0700);
	assert_int_equal(mkdir_p("/", 0755, &err), 0);

	strcpy(file, in_dir(fx, "file"));
	write_file(file, "");
	strcpy(path, in_dir(fx, "file/x"));
	errno = 0;
	assert_int_equal(mkdir_p(path, 0755, &err), -1);
	assert_int_equal(errno, ENOTDIR);
	expect_err(&err, "mkdir", file, "exists and is not a directory");
	assert_int_equal(mkdir_p(file, 0755, &err), -1);
	expect_err(&err, "mkdir", file, "exists and is not a directory");
	assert_int_equal(mkdir_p("", 0755, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err.text, "mkdir : No such file or directory");
}

static void
test_mkdir_p_permission_denied(void **state)
{
	struct fixture *fx = *state;
	char path[256];
	char locked[256];
	struct err err;

	if (geteuid() == 0)
		skip(); /* root ignores directory permissions */
	strcpy(locked, in_dir(fx, "locked"));
	assert_int_equal(mkdir(locked, 0500), 0);
	strcpy(path, in_dir(fx, "locked/sub/x"));
	assert_int_equal(mkdir_p(path, 0755, &err), -1);
	assert_int_equal(errno, EACCES);
	expect_err(&err, "mkdir", in_dir(fx, "locked/sub"),
	           "Permission denied");
	chmod(locked, 0700);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_open_regular_file),
	    T(test_open_refuses_symlink),
	    T(test_open_refuses_directory_and_fifo),
	    T(test_open_refuses_hard_links),
	    T(test_unnamed_file),
	    T(test_create_exclusive),
	    T(test_replace_file),
	    T(test_replace_relative_path),
	    T(test_replace_keeps_old_until_commit),
	    T(test_replace_abort_leaves_no_temp),
	    T(test_replace_errors),
	    T(test_replace_write_errors),
	    T(test_fsync_dir),
	    T(test_mkdir_p),
	    T(test_mkdir_p_permission_denied),
	};

	return cmocka_run_group_tests_name("safe_open", tests, NULL, NULL);
}
