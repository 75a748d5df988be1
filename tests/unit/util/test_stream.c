/*
 * test_stream.c - unit tests for buffered streams with deadlines.
 *
 * Line parsing is checked through a scripted stream_io that hands out the
 * input whole, one byte at a time and in random pieces, so every way a
 * line can be split across reads is covered deterministically. Timeouts,
 * end of file, EPIPE and auto-flush are checked over real pipes and
 * socketpairs.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/events.h"
#include "util/strbuf.h"
#include "util/stream.h"

/* Scripted I/O: reads hand out input in pieces, writes collect output. */
struct script {
	const char *input;
	size_t input_len;
	size_t pos;
	size_t piece;     /* fixed piece size; 0: all at once */
	unsigned seed;    /* non-zero: random pieces of 1..17 bytes */
	int eintr_left;   /* fail this many calls with EINTR first */
	int eagain_left;  /* then this many with EAGAIN */
	size_t write_max; /* largest write accepted; 0: no limit */
	struct strbuf out;
	int read_calls;
};

static int
script_fault(struct script *sc)
{
	if (sc->eintr_left > 0) {
		sc->eintr_left--;
		errno = EINTR;
		return -1;
	}
	if (sc->eagain_left > 0) {
		sc->eagain_left--;
		errno = EAGAIN;
		return -1;
	}
	return 0;
}

static ssize_t
script_read(int fd, void *buf, size_t len, void *ctx)
{
	struct script *sc = ctx;
	size_t n = sc->input_len - sc->pos;
	size_t piece = sc->piece;

	(void)fd;
	sc->read_calls++;
	if (script_fault(sc) < 0)
		return -1;
	if (sc->seed != 0)
		piece = 1 + (size_t)rand_r(&sc->seed) % 17;
	if (piece != 0 && n > piece)
		n = piece;
	if (n > len)
		n = len;
	memcpy(buf, sc->input + sc->pos, n);
	sc->pos += n;
	return (ssize_t)n;
}

static ssize_t
script_write(int fd, const void *buf, size_t len, void *ctx)
{
	struct script *sc = ctx;

	(void)fd;
	if (script_fault(sc) < 0)
		return -1;
	if (sc->write_max != 0 && len > sc->write_max)
		len = sc->write_max;
	strbuf_append(&sc->out, buf, len);
	return (ssize_t)len;
}

static const struct stream_io script_io = {script_read, script_write};

/* A stream over /dev/null (always ready for poll) driven by sc. */
static struct stream *
script_stream(struct script *sc)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	struct stream *s;

	assert_true(fd >= 0);
	s = stream_open(fd, 0);
	strbuf_init(&sc->out, STRBUF_UNLIMITED);
	stream_set_io(s, &script_io, sc);
	return s;
}

static void
script_close(struct stream **sp, struct script *sc)
{
	assert_int_equal(stream_close(sp), 0);
	assert_null(*sp);
	strbuf_deinit(&sc->out);
}

#define TEXT(s) s, sizeof(s) - 1

struct want_line {
	const char *text;
	size_t len;
	enum stream_line_end end;
};

struct line_case {
	const char *name;
	const char *input;
	size_t input_len;
	size_t limit;
	struct want_line lines[6];
};

#define L(s, e)                                                                \
	{                                                                      \
		s, sizeof(s) - 1, STREAM_END_##e                               \
	}

static const struct line_case line_cases[] = {
    {"crlf and lf", TEXT("abc\r\ndef\n"), 100, {L("abc", CRLF), L("def", LF)}},
    {"bare cr is data",
     TEXT("a\rb\r\nc\r\rd\n"),
     100,
     {L("a\rb", CRLF), L("c\r\rd", LF)}},
    {"cr before crlf", TEXT("a\r\r\n"), 100, {L("a\r", CRLF)}},
    {"empty lines",
     TEXT("\r\n\n\r\n"),
     100,
     {L("", CRLF), L("", LF), L("", CRLF)}},
    {"eof mid-line", TEXT("abc\ndef"), 100, {L("abc", LF), L("def", EOF)}},
    {"eof after cr", TEXT("abc\r"), 100, {L("abc\r", EOF)}},
    {"lone cr", TEXT("\r"), 100, {L("\r", EOF)}},
    {"over-long line",
     TEXT("abcdefghij\r\nk\n"),
     4,
     {L("abcd", CUT), L("efgh", CUT), L("ij", CRLF), L("k", LF)}},
    {"exactly the limit",
     TEXT("abcd\r\nefgh\nijkl"),
     4,
     {L("abcd", CRLF), L("efgh", LF), L("ijkl", EOF)}},
    {"cr past the limit", TEXT("abcd\rX\n"), 4, {L("abcd", CUT), L("\rX", LF)}},
    {"cr past the limit at eof",
     TEXT("abcd\r"),
     4,
     {L("abcd", CUT), L("\r", EOF)}},
    {"limit one", TEXT("ab\r\n"), 1, {L("a", CUT), L("b", CRLF)}},
    {"nul bytes are data",
     TEXT("a\0b\r\n\0\n"),
     100,
     {L("a\0b", CRLF), L("\0", LF)}},
    {"nothing at all", TEXT(""), 100, {{NULL, 0, 0}}},
};

/* Read every line of tc with the given splitting; compare. */
static void
run_line_case(const struct line_case *tc, size_t piece, unsigned seed)
{
	struct script sc = {.input = tc->input,
	                    .input_len = tc->input_len,
	                    .piece = piece,
	                    .seed = seed};
	struct stream *s = script_stream(&sc);
	struct strbuf line;
	enum stream_line_end end;
	const struct want_line *want;

	strbuf_init(&line, tc->limit);
	for (want = tc->lines; want->text != NULL; want++) {
		assert_int_equal(stream_read_line(s, &line, &end), 1);
		assert_int_equal(strbuf_len(&line), want->len);
		assert_memory_equal(line.data, want->text, want->len);
		assert_int_equal(end, want->end);
	}
	assert_int_equal(stream_read_line(s, &line, &end), 0);
	assert_true(stream_is_eof(s));
	assert_int_equal(stream_read_line(s, &line, NULL), 0);
	assert_false(stream_is_error(s));
	strbuf_deinit(&line);
	script_close(&s, &sc);
}

static void
test_lines_whole_and_split(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]);
	     i++) {
		print_message("case: %s\n", line_cases[i].name);
		run_line_case(&line_cases[i], 0, 0);
		run_line_case(&line_cases[i], 1, 0);
		run_line_case(&line_cases[i], 2, 0);
		for (unsigned seed = 1; seed <= 20; seed++)
			run_line_case(&line_cases[i], 0, seed);
	}
}

static void
test_long_line_crosses_buffer(void **state)
{
	size_t len = 3 * STREAM_BUF_SIZE + 17;
	char *input = malloc(len + 2);
	struct script sc = {.input = input, .input_len = len + 2};
	struct stream *s;
	struct strbuf line;
	enum stream_line_end end;

	(void)state;
	memset(input, 'x', len);
	memcpy(input + len, "\r\n", 2);
	s = script_stream(&sc);
	strbuf_init(&line, len);
	assert_int_equal(stream_read_line(s, &line, &end), 1);
	assert_int_equal(strbuf_len(&line), len);
	assert_int_equal(end, STREAM_END_CRLF);
	assert_int_equal(stream_read_line(s, &line, &end), 0);
	strbuf_deinit(&line);
	script_close(&s, &sc);
	free(input);
}

static void
test_eintr_and_eagain_are_retried(void **state)
{
	struct script sc = {.input = "hello\n",
	                    .input_len = 6,
	                    .eintr_left = 3,
	                    .eagain_left = 2};
	struct stream *s = script_stream(&sc);
	struct strbuf line;

	(void)state;
	strbuf_init(&line, 100);
	assert_int_equal(stream_read_line(s, &line, NULL), 1);
	assert_string_equal(strbuf_text(&line), "hello");
	sc.eintr_left = 2;
	sc.eagain_left = 2;
	sc.write_max = 3;
	assert_int_equal(stream_printf(s, "%s %d\r\n", "250", 42), 0);
	assert_int_equal(stream_write_pending(s), 8);
	assert_string_equal(strbuf_text(&sc.out), "");
	assert_int_equal(stream_flush(s), 0);
	assert_string_equal(strbuf_text(&sc.out), "250 42\r\n");
	assert_int_equal(stream_write_pending(s), 0);
	strbuf_deinit(&line);
	script_close(&s, &sc);
}

static void
test_large_writes(void **state)
{
	size_t big = 3 * STREAM_BUF_SIZE;
	char *block = malloc(big);
	struct script sc = {.write_max = 1000};
	struct stream *s = script_stream(&sc);
	char *expect = malloc(3 * big);
	size_t len = 0;

	(void)state;
	memset(block, 'b', big);
	assert_int_equal(stream_puts(s, "head "), 0);
	assert_int_equal(stream_write(s, block, big), 0);
	assert_int_equal(stream_printf(s, "%s|%s", "mid", "x"), 0);
	/* Fills the buffer exactly; then a long printf goes around it. */
	assert_int_equal(stream_write(s, block, STREAM_BUF_SIZE - 5), 0);
	assert_int_equal(stream_printf(s, "%.*s", (int)big, block), 0);
	assert_int_equal(stream_write(s, "", 0), 0);
	assert_int_equal(stream_flush(s), 0);
	memcpy(expect + len, "head ", 5);
	len += 5;
	memcpy(expect + len, block, big);
	len += big;
	memcpy(expect + len, "mid|x", 5);
	len += 5;
	memcpy(expect + len, block, STREAM_BUF_SIZE - 5);
	len += STREAM_BUF_SIZE - 5;
	memcpy(expect + len, block, big);
	len += big;
	assert_int_equal(strbuf_len(&sc.out), len);
	assert_memory_equal(sc.out.data, expect, len);
	script_close(&s, &sc);
	free(block);
	free(expect);
}

static void
test_read_exact_and_some(void **state)
{
	struct script sc = {
	    .input = "0123456789abc", .input_len = 13, .piece = 3};
	struct stream *s = script_stream(&sc);
	char buf[32];

	(void)state;
	assert_int_equal(stream_read_exact(s, buf, 5), 5);
	assert_memory_equal(buf, "01234", 5);
	assert_int_equal(stream_read_pending(s), 1);
	assert_int_equal(stream_read_some(s, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], '5');
	assert_int_equal(stream_read_some(s, buf, 2), 2);
	assert_memory_equal(buf, "67", 2);
	assert_int_equal(stream_read_exact(s, buf, 10), 5);
	assert_memory_equal(buf, "89abc", 5);
	assert_true(stream_is_eof(s));
	assert_int_equal(stream_read_some(s, buf, sizeof(buf)), 0);
	assert_int_equal(stream_read_exact(s, buf, 0), 0);
	script_close(&s, &sc);
}

/* A connected socketpair; [0] goes into the stream. */
static void
make_socketpair(int fds[2])
{
	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
}

static void
test_socket_lines_and_eof(void **state)
{
	int fds[2];
	struct stream *s;
	struct strbuf line;
	enum stream_line_end end;
	char buf[8];

	(void)state;
	make_socketpair(fds);
	s = stream_open(fds[0], 0);
	assert_int_equal(stream_fd(s), fds[0]);
	strbuf_init(&line, 512);
	assert_int_equal(write(fds[1], "EHLO x\r\nDATA\nab", 15), 15);
	close(fds[1]);
	assert_int_equal(stream_read_line(s, &line, &end), 1);
	assert_string_equal(strbuf_text(&line), "EHLO x");
	assert_int_equal(end, STREAM_END_CRLF);
	assert_int_equal(stream_read_pending(s), 7);
	assert_int_equal(stream_read_line(s, &line, &end), 1);
	assert_string_equal(strbuf_text(&line), "DATA");
	assert_int_equal(end, STREAM_END_LF);
	assert_int_equal(stream_read_line(s, &line, &end), 1);
	assert_string_equal(strbuf_text(&line), "ab");
	assert_int_equal(end, STREAM_END_EOF);
	assert_int_equal(stream_read_line(s, &line, &end), 0);
	assert_true(stream_is_eof(s));
	assert_int_equal(stream_read_some(s, buf, sizeof(buf)), 0);
	stream_clear_error(s);
	assert_false(stream_is_eof(s));
	assert_int_equal(stream_read_some(s, buf, sizeof(buf)), 0);
	strbuf_deinit(&line);
	assert_int_equal(stream_close(&s), 0);
	assert_int_equal(stream_close(&s), 0);
}

/* Child process writing pieces with pauses, so reads see them apart. */
static pid_t
feed_pieces(int fd, const char *const *pieces)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid > 0)
		return pid;
	for (; *pieces != NULL; pieces++) {
		if (write(fd, *pieces, strlen(*pieces)) < 0)
			_exit(1);
		usleep(3000);
	}
	_exit(0);
}

static void
test_socket_lines_split_across_writes(void **state)
{
	static const char *const pieces[] = {
	    "MAIL FROM:<a@", "b>\r", "\nRCPT TO:<c@d>", "\r", "\n", "QUIT",
	    "\r\n",          NULL};
	static const char *const want[] = {"MAIL FROM:<a@b>", "RCPT TO:<c@d>",
	                                   "QUIT"};
	int fds[2];
	struct stream *s;
	struct strbuf line;
	enum stream_line_end end;
	pid_t pid;
	int status;

	(void)state;
	make_socketpair(fds);
	pid = feed_pieces(fds[1], pieces);
	close(fds[1]);
	s = stream_open(fds[0], 0);
	stream_set_timeout(s, 5000);
	strbuf_init(&line, 512);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(stream_read_line(s, &line, &end), 1);
		assert_string_equal(strbuf_text(&line), want[i]);
		assert_int_equal(end, STREAM_END_CRLF);
	}
	assert_int_equal(stream_read_line(s, &line, &end), 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(status, 0);
	strbuf_deinit(&line);
	assert_int_equal(stream_close(&s), 0);
}

/* Expect a timed-out read of about timeout_ms on s. */
static void
expect_read_timeout(struct stream *s, int timeout_ms)
{
	struct strbuf line;
	int64_t start = event_time_ms();
	int64_t took;

	strbuf_init(&line, 100);
	stream_set_timeout(s, timeout_ms);
	errno = 0;
	assert_int_equal(stream_read_line(s, &line, NULL), -1);
	assert_int_equal(errno, ETIMEDOUT);
	took = event_time_ms() - start;
	assert_true(took >= timeout_ms - 5);
	assert_true(took < timeout_ms + 2000);
	assert_true(stream_is_timeout(s));
	assert_true(stream_is_error(s));
	assert_int_equal(stream_errno(s), ETIMEDOUT);
	strbuf_deinit(&line);
}

static void
test_read_timeout_socket(void **state)
{
	int fds[2];
	struct stream *s;
	struct strbuf line;
	char buf[4];

	(void)state;
	make_socketpair(fds);
	s = stream_open(fds[0], 0);
	assert_int_equal(write(fds[1], "par", 3), 3);
	expect_read_timeout(s, 60);
	/* Sticky: later reads fail at once, with the same errno. */
	errno = 0;
	assert_int_equal(stream_read_some(s, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ETIMEDOUT);
	/* The write direction still works: a "421 timeout" can go out. */
	assert_int_equal(stream_puts(s, "421 timeout\r\n"), 0);
	assert_int_equal(stream_flush(s), 0);
	assert_int_equal(read(fds[1], buf, 4), 4);
	assert_memory_equal(buf, "421 ", 4);
	stream_clear_error(s);
	assert_false(stream_is_error(s));
	assert_int_equal(write(fds[1], "\r\n", 2), 2);
	strbuf_init(&line, 100);
	stream_set_timeout(s, STREAM_NO_TIMEOUT);
	assert_int_equal(stream_read_line(s, &line, NULL), 1);
	assert_string_equal(strbuf_text(&line), "");
	strbuf_deinit(&line);
	close(fds[1]);
	assert_int_equal(stream_close(&s), 0);
}

static void
test_read_timeout_pipe(void **state)
{
	int fds[2];
	struct stream *s;

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	s = stream_open(fds[0], 0);
	expect_read_timeout(s, 40);
	assert_int_equal(stream_close(&s), 0);
	s = stream_open(fds[1], 0);
	assert_int_equal(stream_close(&s), 0);
}

static void
test_zero_timeout_polls_once(void **state)
{
	int fds[2];
	struct stream *s;
	char buf[8];

	(void)state;
	make_socketpair(fds);
	s = stream_open(fds[0], 0);
	stream_set_timeout(s, 0);
	assert_int_equal(stream_read_some(s, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ETIMEDOUT);
	stream_clear_error(s);
	assert_int_equal(write(fds[1], "x", 1), 1);
	assert_int_equal(stream_read_some(s, buf, sizeof(buf)), 1);
	close(fds[1]);
	assert_int_equal(stream_close(&s), 0);
}

static void
test_write_timeout(void **state)
{
	size_t big = 1 << 20;
	char *block = calloc(1, big);
	int fds[2];
	struct stream *s;
	int ret = 0;

	(void)state;
	make_socketpair(fds);
	s = stream_open(fds[0], 0);
	stream_set_timeout(s, 50);
	for (int i = 0; i < 64 && ret == 0; i++)
		ret = stream_write(s, block, big);
	assert_int_equal(ret, -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(stream_is_timeout(s));
	assert_int_equal(stream_errno(s), ETIMEDOUT);
	assert_int_equal(stream_puts(s, "x"), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(stream_printf(s, "%d", 1), -1);
	assert_int_equal(stream_flush(s), -1);
	/* Closing reports the sticky write error but frees all the same. */
	assert_int_equal(stream_close(&s), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_null(s);
	close(fds[1]);
	free(block);
}

static void
test_epipe_socket_without_sigpipe(void **state)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	struct sigaction old;
	int fds[2];
	struct stream *s;

	(void)state;
	/* SIGPIPE would kill the test: MSG_NOSIGNAL must prevent it. */
	sigaction(SIGPIPE, &dfl, &old);
	make_socketpair(fds);
	close(fds[1]);
	s = stream_open(fds[0], 0);
	assert_int_equal(stream_puts(s, "250 ok\r\n"), 0);
	assert_int_equal(stream_flush(s), -1);
	assert_int_equal(errno, EPIPE);
	assert_true(stream_is_error(s));
	assert_false(stream_is_timeout(s));
	assert_int_equal(stream_write_pending(s), 0);
	assert_int_equal(stream_close(&s), -1);
	assert_int_equal(errno, EPIPE);
	sigaction(SIGPIPE, &old, NULL);
}

static void
test_epipe_pipe(void **state)
{
	struct sigaction ign = {.sa_handler = SIG_IGN};
	struct sigaction old;
	int fds[2];
	struct stream *s;

	(void)state;
	sigaction(SIGPIPE, &ign, &old);
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	close(fds[0]);
	s = stream_open(fds[1], 0);
	stream_set_timeout(s, 1000);
	assert_int_equal(stream_puts(s, "data"), 0);
	assert_int_equal(stream_flush(s), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(stream_close(&s), -1);
	sigaction(SIGPIPE, &old, NULL);
}

static void
test_autoflush_before_waiting(void **state)
{
	int fds[2];
	struct stream *s;
	struct strbuf line;
	char buf[64];

	(void)state;
	make_socketpair(fds);
	s = stream_open(fds[0], STREAM_AUTOFLUSH);
	stream_set_timeout(s, 2000);
	strbuf_init(&line, 100);
	assert_int_equal(stream_puts(s, "220 hi\r\n"), 0);
	assert_int_equal(write(fds[1], "A\r\nB\r\n", 6), 6);
	assert_int_equal(stream_read_line(s, &line, NULL), 1);
	assert_string_equal(strbuf_text(&line), "A");
	/* The greeting went out before the stream read. */
	assert_int_equal(read(fds[1], buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "220 hi\r\n", 8);
	/* Pipelined input is waiting: replies stay batched. */
	assert_int_equal(stream_puts(s, "250 A\r\n"), 0);
	assert_int_equal(stream_read_line(s, &line, NULL), 1);
	assert_string_equal(strbuf_text(&line), "B");
	assert_int_equal(stream_write_pending(s), 7);
	assert_int_equal(stream_puts(s, "250 B\r\n"), 0);
	/* Input runs dry: both replies go out before the wait. */
	stream_set_timeout(s, 30);
	assert_int_equal(stream_read_line(s, &line, NULL), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_int_equal(stream_write_pending(s), 0);
	assert_int_equal(read(fds[1], buf, sizeof(buf)), 14);
	assert_memory_equal(buf, "250 A\r\n250 B\r\n", 14);
	strbuf_deinit(&line);
	close(fds[1]);
	assert_int_equal(stream_close(&s), 0);
}

static void
test_no_autoflush_by_default(void **state)
{
	int fds[2];
	struct stream *s;
	char buf[16];

	(void)state;
	make_socketpair(fds);
	s = stream_open(fds[0], 0);
	assert_int_equal(stream_puts(s, "220 hi\r\n"), 0);
	expect_read_timeout(s, 20);
	assert_int_equal(stream_write_pending(s), 8);
	assert_int_equal(stream_close(&s), 0);
	assert_int_equal(read(fds[1], buf, sizeof(buf)), 8);
	close(fds[1]);
}

static void
test_close_flushes_and_detach_keeps_fd(void **state)
{
	int fds[2];
	struct stream *s;
	char buf[16];
	int fd;

	(void)state;
	make_socketpair(fds);
	s = stream_open(fds[0], 0);
	assert_int_equal(stream_printf(s, "%s", "bye"), 0);
	assert_int_equal(stream_close(&s), 0);
	assert_int_equal(read(fds[1], buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "bye", 3);
	/* fds[0] is closed now: the peer sees end of file. */
	assert_int_equal(read(fds[1], buf, sizeof(buf)), 0);
	close(fds[1]);

	make_socketpair(fds);
	s = stream_open(fds[0], 0);
	assert_int_equal(stream_puts(s, "dropped"), 0);
	fd = stream_detach(&s);
	assert_null(s);
	assert_int_equal(fd, fds[0]);
	assert_int_equal(write(fd, "kept", 4), 4);
	assert_int_equal(read(fds[1], buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "kept", 4);
	close(fds[0]);
	close(fds[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines_whole_and_split),
	    cmocka_unit_test(test_long_line_crosses_buffer),
	    cmocka_unit_test(test_eintr_and_eagain_are_retried),
	    cmocka_unit_test(test_large_writes),
	    cmocka_unit_test(test_read_exact_and_some),
	    cmocka_unit_test(test_socket_lines_and_eof),
	    cmocka_unit_test(test_socket_lines_split_across_writes),
	    cmocka_unit_test(test_read_timeout_socket),
	    cmocka_unit_test(test_read_timeout_pipe),
	    cmocka_unit_test(test_zero_timeout_polls_once),
	    cmocka_unit_test(test_write_timeout),
	    cmocka_unit_test(test_epipe_socket_without_sigpipe),
	    cmocka_unit_test(test_epipe_pipe),
	    cmocka_unit_test(test_autoflush_before_waiting),
	    cmocka_unit_test(test_no_autoflush_by_default),
	    cmocka_unit_test(test_close_flushes_and_detach_keeps_fd),
	};

	return cmocka_run_group_tests_name("stream", tests, NULL, NULL);
}
