/*
 * test_unix_fd.c - unit tests for passing descriptors over UNIX-domain
 * stream sockets: a descriptor arrives as a working copy of the one sent,
 * goes with the first bytes of its message even when the bytes come in
 * pieces, two messages with a descriptor each stay apart, and every
 * failure (extra descriptors, timeouts, a closed peer, nothing to read)
 * gives its errno without leaking a descriptor.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/unix_fd.h"

static int
count_open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int count = 0;

	assert_non_null(dir);
	while (readdir(dir) != NULL)
		count++;
	closedir(dir);
	return count;
}

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

/* A pipe; what is written to the copy of p[1] that travelled shows up
 * on p[0]. */
static void
check_same_pipe(int p[2], int copy_of_write_end)
{
	char buf[8] = { 0 };

	assert_true(copy_of_write_end >= 0);
	assert_int_not_equal(copy_of_write_end, p[1]);
	assert_int_equal(write(copy_of_write_end, "hi", 2), 2);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 2);
	assert_string_equal(buf, "hi");
	assert_true(fcntl(copy_of_write_end, F_GETFD) & FD_CLOEXEC);
}

static void
test_message_with_descriptor(void **state)
{
	int sv[2], p[2], fd;
	char buf[64] = { 0 };

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(unix_fd_send(sv[0], "hello", 5, p[1], 1000), 0);
	assert_int_equal(unix_fd_recv(sv[1], buf, sizeof(buf), &fd), 5);
	assert_memory_equal(buf, "hello", 5);
	check_same_pipe(p, fd);
	close(fd);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

static void
test_message_without_descriptor(void **state)
{
	int sv[2], fd = 99;
	char buf[64];

	(void)state;
	pair(sv);
	assert_int_equal(unix_fd_send(sv[0], "abc", 3, -1, -1), 0);
	assert_int_equal(unix_fd_recv(sv[1], buf, sizeof(buf), &fd), 3);
	assert_int_equal(fd, -1);
	assert_int_equal(unix_fd_send_some(sv[0], "x", 1, -1), 1);
	assert_int_equal(unix_fd_recv_wait(sv[1], buf, sizeof(buf), &fd, 1000),
			 1);
	assert_int_equal(fd, -1);
	close(sv[0]);
	close(sv[1]);
}

/* Read in one-byte pieces: the descriptor comes with the first. */
static void
test_descriptor_with_first_piece(void **state)
{
	int sv[2], p[2], fd;
	char c;

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(unix_fd_send(sv[0], "xyz", 3, p[1], 1000), 0);
	assert_int_equal(unix_fd_recv(sv[1], &c, 1, &fd), 1);
	assert_int_equal(c, 'x');
	check_same_pipe(p, fd);
	close(fd);
	for (const char *want = "yz"; *want; want++) {
		assert_int_equal(unix_fd_recv(sv[1], &c, 1, &fd), 1);
		assert_int_equal(c, *want);
		assert_int_equal(fd, -1);
	}
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

/* Two messages, each with a descriptor: one read never takes both. */
static void
test_two_messages_stay_apart(void **state)
{
	int sv[2], p1[2], p2[2], fd1, fd2;
	char buf[64] = { 0 };

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	assert_int_equal(unix_fd_send(sv[0], "one", 3, p1[1], 1000), 0);
	assert_int_equal(unix_fd_send(sv[0], "two", 3, p2[1], 1000), 0);
	assert_int_equal(unix_fd_recv(sv[1], buf, sizeof(buf), &fd1), 3);
	assert_memory_equal(buf, "one", 3);
	assert_int_equal(unix_fd_recv(sv[1], buf, sizeof(buf), &fd2), 3);
	assert_memory_equal(buf, "two", 3);
	check_same_pipe(p1, fd1);
	check_same_pipe(p2, fd2);
	close(fd1);
	close(fd2);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	close(sv[0]);
	close(sv[1]);
}

/* A peer sends two descriptors at once: both are closed, EBADMSG. */
static void
test_two_descriptors_refused(void **state)
{
	union {
		char space[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = "m", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control.space,
			      .msg_controllen = sizeof(control.space) };
	struct cmsghdr *cmsg;
	int sv[2], p[2], fd = 0, before;
	char buf[8];

	(void)state;
	pair(sv);
	assert_int_equal(pipe(p), 0);
	memset(&control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(2 * sizeof(int));
	memcpy(CMSG_DATA(cmsg), p, 2 * sizeof(int));
	assert_int_equal(sendmsg(sv[0], &msg, 0), 1);
	before = count_open_fds();
	errno = 0;
	assert_int_equal(unix_fd_recv(sv[1], buf, sizeof(buf), &fd), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(fd, -1);
	assert_int_equal(count_open_fds(), before);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

static void
test_receive_timeout_and_eof(void **state)
{
	int sv[2], fd = 0;
	char buf[8];

	(void)state;
	pair(sv);
	errno = 0;
	assert_int_equal(unix_fd_recv_wait(sv[1], buf, sizeof(buf), &fd, 50),
			 -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(fd, -1);
	assert_int_equal(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	errno = 0;
	assert_int_equal(unix_fd_recv(sv[1], buf, sizeof(buf), &fd), -1);
	assert_int_equal(errno, EAGAIN);
	close(sv[0]);
	assert_int_equal(unix_fd_recv_wait(sv[1], buf, sizeof(buf), &fd, 1000),
			 0);
	assert_int_equal(fd, -1);
	close(sv[1]);
}

/* A peer that reads nothing: a big message times out; a closed peer is
 * EPIPE (and no SIGPIPE kills the test). */
static void
test_send_timeout_and_closed_peer(void **state)
{
	static char big[4 * 1024 * 1024];
	int sv[2];

	(void)state;
	pair(sv);
	errno = 0;
	assert_int_equal(unix_fd_send(sv[0], big, sizeof(big), -1, 100), -1);
	assert_int_equal(errno, ETIMEDOUT);
	close(sv[1]);
	errno = 0;
	assert_int_equal(unix_fd_send(sv[0], "x", 1, -1, 100), -1);
	assert_int_equal(errno, EPIPE);
	errno = 0;
	assert_int_equal(unix_fd_send_some(sv[0], "x", 1, -1), -1);
	assert_int_equal(errno, EPIPE);
	close(sv[0]);
}

/* A message bigger than the socket buffer, read while it is sent: the
 * bytes arrive whole and the descriptor once. */
static void
test_big_message_in_pieces(void **state)
{
	static char big[1024 * 1024], got[sizeof(big)];
	int sv[2], p[2], fd = -1, fds = 0, status;
	size_t len = 0;
	pid_t pid;

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	pair(sv);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[1]);
		_exit(unix_fd_send(sv[0], big, sizeof(big), p[1], 10000) == 0
			      ? 0
			      : 1);
	}
	close(sv[0]);
	while (len < sizeof(got)) {
		int one;
		ssize_t n = unix_fd_recv_wait(sv[1], got + len,
					      sizeof(got) - len, &one, 10000);

		assert_true(n > 0);
		if (one >= 0) {
			fds++;
			fd = one;
		}
		len += (size_t)n;
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(fds, 1);
	assert_memory_equal(got, big, sizeof(big));
	check_same_pipe(p, fd);
	close(fd);
	close(p[0]);
	close(p[1]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_message_with_descriptor),
		cmocka_unit_test(test_message_without_descriptor),
		cmocka_unit_test(test_descriptor_with_first_piece),
		cmocka_unit_test(test_two_messages_stay_apart),
		cmocka_unit_test(test_two_descriptors_refused),
		cmocka_unit_test(test_receive_timeout_and_eof),
		cmocka_unit_test(test_send_timeout_and_closed_peer),
		cmocka_unit_test(test_big_message_in_pieces),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
