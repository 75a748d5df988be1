/*
 * test_smtp_data.c - unit tests for the DATA-phase state machine.
 *
 * The smuggling table feeds raw client bytes through a real util stream
 * (socketpair), whole and with every small line limit, and checks what
 * would be queued and what the server would read as the next command.
 * Expected results for NORMALIZE and REJECT follow Debian's Postfix
 * 3.7.11 with smtpd_forbid_bare_newline = normalize / reject; NO follows
 * Postfix 3.7 with "no" except where smtp_data.h says otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/stream.h"
#include "util/strbuf.h"

#include "global/smtp_data.h"

#define CRLF STREAM_END_CRLF
#define LF STREAM_END_LF
#define CUT STREAM_END_CUT
#define EOF_ STREAM_END_EOF

struct feed_case {
	const char *line;
	enum stream_line_end end;
	enum smtp_data_action action;
	const char *data; /* for LINE / PARTIAL */
};

/* One (line, ending) pair at a time, NORMALIZE mode. */
static const struct feed_case normalize_steps[] = {
	{ "Subject: x", CRLF, SMTP_DATA_LINE, "Subject: x" },
	{ "", CRLF, SMTP_DATA_LINE, "" },
	{ "..", CRLF, SMTP_DATA_LINE, "." },
	{ ".x", LF, SMTP_DATA_LINE, "x" },
	{ ".", CRLF, SMTP_DATA_SKIP, NULL }, /* previous line ended in LF */
	{ ".", LF, SMTP_DATA_SKIP, NULL },
	{ ".", CRLF, SMTP_DATA_SKIP, NULL }, /* still after a bare LF */
	{ "abc.", CRLF, SMTP_DATA_LINE, "abc." },
	{ ".lo", CUT, SMTP_DATA_PARTIAL, "lo" },
	{ ".ng", CUT, SMTP_DATA_PARTIAL, ".ng" },
	{ ".", CRLF, SMTP_DATA_LINE, "." }, /* not at the start of a line */
	{ ".\r", CRLF, SMTP_DATA_LINE, "\r" },
	{ " .", CRLF, SMTP_DATA_LINE, " ." },
	{ ".", CRLF, SMTP_DATA_END, NULL },
};

static void
test_feed_steps(void **state)
{
	struct smtp_data d;

	(void)state;
	smtp_data_init(&d, SMTP_BARE_LF_NORMALIZE);
	for (size_t i = 0;
	     i < sizeof(normalize_steps) / sizeof(normalize_steps[0]); i++) {
		const struct feed_case *c = &normalize_steps[i];
		const char *data = NULL;
		size_t len = 99;
		enum smtp_data_action a = smtp_data_feed(
			&d, c->line, strlen(c->line), c->end, &data, &len);

		if (a != c->action)
			fail_msg("step %zu '%s': action %d, want %d", i,
				 c->line, a, c->action);
		assert_non_null(data);
		if (c->data) {
			assert_int_equal(len, strlen(c->data));
			assert_memory_equal(data, c->data, len);
		}
	}
	assert_true(d.is_done);
	assert_true(d.saw_bare_lf);
	assert_true(d.saw_bare_cr);
	assert_false(smtp_data_must_reject(&d));
}

static void
test_first_line_and_eof(void **state)
{
	struct smtp_data d;
	const char *data;
	size_t len;

	(void)state;
	/* "DATA" then "." at once: an empty message (every mode). */
	smtp_data_init(&d, SMTP_BARE_LF_REJECT);
	assert_int_equal(smtp_data_feed(&d, ".", 1, CRLF, &data, &len),
			 SMTP_DATA_END);
	assert_false(smtp_data_must_reject(&d));
	/* A bare LF "." first is dropped in REJECT, and the message refused. */
	smtp_data_init(&d, SMTP_BARE_LF_REJECT);
	assert_int_equal(smtp_data_feed(&d, ".", 1, LF, &data, &len),
			 SMTP_DATA_SKIP);
	assert_int_equal(smtp_data_feed(&d, ".", 1, CRLF, &data, &len),
			 SMTP_DATA_SKIP);
	assert_int_equal(smtp_data_feed(&d, "", 0, CRLF, &data, &len),
			 SMTP_DATA_LINE);
	assert_int_equal(smtp_data_feed(&d, ".", 1, CRLF, &data, &len),
			 SMTP_DATA_END);
	assert_true(smtp_data_must_reject(&d));
	/* NO: "." with a bare LF ends the message. */
	smtp_data_init(&d, SMTP_BARE_LF_NO);
	assert_int_equal(smtp_data_feed(&d, "x", 1, LF, &data, &len),
			 SMTP_DATA_LINE);
	assert_int_equal(smtp_data_feed(&d, ".", 1, LF, &data, &len),
			 SMTP_DATA_END);
	assert_false(smtp_data_must_reject(&d));
	/* End of file inside the message, also in a partial line. */
	smtp_data_init(&d, SMTP_BARE_LF_NORMALIZE);
	assert_int_equal(smtp_data_feed(&d, "abc", 3, EOF_, &data, &len),
			 SMTP_DATA_LOST);
	assert_true(d.is_done);
	smtp_data_init(&d, SMTP_BARE_LF_NORMALIZE);
	assert_int_equal(smtp_data_feed(&d, "ab", 2, CUT, &data, &len),
			 SMTP_DATA_PARTIAL);
	assert_int_equal(smtp_data_feed(&d, "", 0, EOF_, &data, &len),
			 SMTP_DATA_LOST);
	/* Empty pieces. */
	smtp_data_init(&d, SMTP_BARE_LF_NORMALIZE);
	assert_int_equal(smtp_data_feed(&d, "", 0, CRLF, &data, &len),
			 SMTP_DATA_LINE);
	assert_int_equal(len, 0);
}

/* What a receiver built on the state machine makes of raw bytes. */
struct outcome {
	struct strbuf *content; /* lines joined with "\n" */
	enum smtp_data_action last;
	bool must_reject;
	struct strbuf *after; /* bytes left for the command reader */
};

static void
run_data(const char *input, size_t input_len, enum smtp_bare_lf mode,
	 size_t limit, struct outcome *out)
{
	int fds[2];
	struct stream *s;
	struct strbuf *line = strbuf_create(limit);
	struct smtp_data d;
	char buf[512];
	ssize_t n;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	assert_int_equal(write(fds[0], input, input_len), (ssize_t)input_len);
	close(fds[0]);
	s = stream_open(fds[1], 0);
	smtp_data_init(&d, mode);
	out->content = strbuf_create(STRBUF_UNLIMITED);
	out->after = strbuf_create(STRBUF_UNLIMITED);
	for (;;) {
		enum stream_line_end end;
		const char *data;
		size_t len;
		int rc = stream_read_line(s, line, &end);

		if (rc == 0) {
			out->last = SMTP_DATA_LOST;
			break;
		}
		assert_int_equal(rc, 1);
		out->last = smtp_data_feed(&d, line->data, line->len, end,
					   &data, &len);
		if (out->last == SMTP_DATA_LINE ||
		    out->last == SMTP_DATA_PARTIAL)
			strbuf_append(out->content, data, len);
		if (out->last == SMTP_DATA_LINE)
			strbuf_append_char(out->content, '\n');
		if (out->last == SMTP_DATA_END || out->last == SMTP_DATA_LOST)
			break;
	}
	out->must_reject =
		out->last == SMTP_DATA_END && smtp_data_must_reject(&d);
	while ((n = stream_read_some(s, buf, sizeof(buf))) > 0)
		strbuf_append(out->after, buf, (size_t)n);
	strbuf_destroy(&line);
	assert_int_equal(stream_close(&s), 0);
}

static void
outcome_free(struct outcome *out)
{
	strbuf_destroy(&out->content);
	strbuf_destroy(&out->after);
}

struct smuggle_case {
	const char *input;
	enum smtp_bare_lf mode;
	enum smtp_data_action last;
	const char *content; /* what would be queued, lines end in "\n" */
	const char *after;   /* what the command reader sees next */
	bool must_reject;
};

#define N SMTP_BARE_LF_NORMALIZE
#define R SMTP_BARE_LF_REJECT
#define O SMTP_BARE_LF_NO
#define END SMTP_DATA_END
#define LOST SMTP_DATA_LOST

/* The smuggled message: a second transaction hidden after a fake end. */
#define SMUGGLE "MAIL FROM:<x@y>\r\nRCPT TO:<v@z>\r\nDATA\r\nevil\r\n"
#define REAL_END ".\r\nQUIT\r\n"

static const struct smuggle_case smuggle_cases[] = {
	/* The standard ending, and dot-stuffing. */
	{ "A\r\n.\r\nQUIT\r\n", N, END, "A\n", "QUIT\r\n", false },
	{ "A\r\n.\r\nQUIT\r\n", R, END, "A\n", "QUIT\r\n", false },
	{ "A\r\n.\r\nQUIT\r\n", O, END, "A\n", "QUIT\r\n", false },
	{ ".\r\n", N, END, "", "", false },
	{ "A\r\n..\r\nB\r\n.\r\n", N, END, "A\n.\nB\n", "", false },
	{ "...\r\n.x\r\n. \r\n.\r\n", N, END, "..\nx\n \n", "", false },
	/* <LF>.<LF> (Postfix: Debian 3.7.11 normalize drops the dot line). */
	{ "A\n.\n" SMUGGLE REAL_END, N, END,
	  "A\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	{ "A\n.\n" SMUGGLE REAL_END, R, END,
	  "A\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n", true },
	{ "A\n.\n" SMUGGLE REAL_END, O, END, "A\n", SMUGGLE REAL_END, false },
	/* <CR><LF>.<LF> */
	{ "A\r\n.\n" SMUGGLE REAL_END, N, END,
	  "A\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	{ "A\r\n.\n" SMUGGLE REAL_END, R, END,
	  "A\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n", true },
	{ "A\r\n.\n" SMUGGLE REAL_END, O, END, "A\n", SMUGGLE REAL_END, false },
	/* <LF>.<CR><LF> */
	{ "A\n.\r\n" SMUGGLE REAL_END, N, END,
	  "A\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	{ "A\n.\r\n" SMUGGLE REAL_END, R, END,
	  "A\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n", true },
	{ "A\n.\r\n" SMUGGLE REAL_END, O, END, "A\n", SMUGGLE REAL_END, false },
	/* <CR>.<CR>: no line end at all; bare CRs are data in every mode. */
	{ "A\r.\r" SMUGGLE REAL_END, N, END,
	  "A\r.\rMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	{ "A\r.\r" SMUGGLE REAL_END, R, END,
	  "A\r.\rMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	{ "A\r.\r" SMUGGLE REAL_END, O, END,
	  "A\r.\rMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	/* <CR>.<CR><LF> */
	{ "A\r.\r\n" SMUGGLE REAL_END, N, END,
	  "A\r.\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	{ "A\r.\r\n" SMUGGLE REAL_END, O, END,
	  "A\r.\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	/* <CR><LF>.<CR>: a line ".\r..." - unstuffed data. */
	{ "A\r\n.\r" SMUGGLE REAL_END, N, END,
	  "A\n\rMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	{ "A\r\n.\r" SMUGGLE REAL_END, O, END,
	  "A\n\rMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	/* <CR><LF>.<CR><CR><LF>: line ".\r" (Postfix 3.7 "no" ends here). */
	{ "A\r\n.\r\r\n" SMUGGLE REAL_END, N, END,
	  "A\n\r\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	{ "A\r\n.\r\r\n" SMUGGLE REAL_END, O, END,
	  "A\n\r\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	/* <CR>.<LF>: line "A\r." ends in a bare LF; no dot line. */
	{ "A\r.\n" SMUGGLE REAL_END, N, END,
	  "A\r.\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	{ "A\r.\n" SMUGGLE REAL_END, R, END,
	  "A\r.\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  true },
	{ "A\r.\n" SMUGGLE REAL_END, O, END,
	  "A\r.\nMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	/* <LF>.<CR>: the dot starts a line that goes on: unstuffed. */
	{ "A\n.\r" SMUGGLE REAL_END, N, END,
	  "A\n\rMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	{ "A\n.\r" SMUGGLE REAL_END, O, END,
	  "A\n\rMAIL FROM:<x@y>\nRCPT TO:<v@z>\nDATA\nevil\n", "QUIT\r\n",
	  false },
	/* Bare LF elsewhere: normalized, or refused at the end. */
	{ "A\nB\r\n.\r\n", N, END, "A\nB\n", "", false },
	{ "A\nB\r\n.\r\n", R, END, "A\nB\n", "", true },
	{ "A\n\r\n.\r\n", N, END, "A\n\n", "", false },
	{ "A\n..\nB\r\n.\r\n", N, END, "A\n.\nB\n", "", false },
	{ "A\n.x\nB\r\n.\r\n", N, END, "A\nx\nB\n", "", false },
	{ "A\r\n.\n.\r\n.\r\n", N, END, "A\n", "", false },
	/* The peer goes away. */
	{ "A\r\n", N, LOST, "A\n", "", false },
	{ "A\r\n.", N, LOST, "A\n", "", false },
	{ "A\n.\n", N, LOST, "A\n", "", false },
	{ "A\n.\n", O, END, "A\n", "", false },
	{ "", N, LOST, "", "", false },
};

static void
check_smuggle(size_t i, const struct smuggle_case *c, size_t limit)
{
	size_t want_len = strlen(c->content);
	struct outcome out;

	run_data(c->input, strlen(c->input), c->mode, limit, &out);
	if (out.last != c->last || out.must_reject != c->must_reject ||
	    strbuf_len(out.content) != want_len ||
	    memcmp(strbuf_text(out.content), c->content, want_len) != 0 ||
	    strcmp(strbuf_text(out.after), c->after) != 0)
		fail_msg("case %zu mode %d limit %zu: last %d reject %d "
			 "content '%s' after '%s'",
			 i, c->mode, limit, out.last, out.must_reject,
			 strbuf_text(out.content), strbuf_text(out.after));
	outcome_free(&out);
}

static void
test_smuggling(void **state)
{
	/* 2 is the smallest limit at which "." and ".." lines can be seen
	 * whole; 1 is covered by test_tiny_limit. */
	static const size_t limits[] = { 2, 3, 4, 5, 7, 11, 1000 };

	(void)state;
	for (size_t i = 0; i < sizeof(smuggle_cases) / sizeof(smuggle_cases[0]);
	     i++)
		for (size_t k = 0; k < sizeof(limits) / sizeof(limits[0]); k++)
			check_smuggle(i, &smuggle_cases[i], limits[k]);
}

/* With a one-byte limit "." still ends the message: the stream returns
 * a line exactly as long as the limit with its real ending. */
static void
test_tiny_limit(void **state)
{
	struct outcome out;
	const char input[] = "ab\r\n.\r\nQUIT\r\n";

	(void)state;
	run_data(input, strlen(input), SMTP_BARE_LF_NORMALIZE, 1, &out);
	assert_int_equal(out.last, SMTP_DATA_END);
	assert_string_equal(strbuf_text(out.content), "ab\n");
	assert_string_equal(strbuf_text(out.after), "QUIT\r\n");
	outcome_free(&out);
}

/* NUL bytes are data like any other. */
static void
test_nul_is_data(void **state)
{
	static const char input[] = "A\0B\r\n.\r\n";
	struct outcome out;

	(void)state;
	run_data(input, sizeof(input) - 1, SMTP_BARE_LF_NORMALIZE, 100, &out);
	assert_int_equal(out.last, SMTP_DATA_END);
	assert_int_equal(strbuf_len(out.content), 4);
	assert_memory_equal(strbuf_text(out.content), "A\0B\n", 4);
	outcome_free(&out);
}

/* A long line cut into pieces: a dot after the cut is never stuffing
 * and never an end. */
static void
test_cut_lines(void **state)
{
	struct outcome out;
	const char input[] = ".abcdef.\r\n.\r\n";
	const char dotline[] = "xxxx.\r\n.\r\n";

	(void)state;
	run_data(input, strlen(input), SMTP_BARE_LF_NORMALIZE, 4, &out);
	assert_int_equal(out.last, SMTP_DATA_END);
	assert_string_equal(strbuf_text(out.content), "abcdef.\n");
	outcome_free(&out);
	/* "xxxx" fills the limit; the "." piece that follows is the rest of
	 * that line, content, not the end. */
	run_data(dotline, strlen(dotline), SMTP_BARE_LF_NORMALIZE, 4, &out);
	assert_int_equal(out.last, SMTP_DATA_END);
	assert_string_equal(strbuf_text(out.content), "xxxx.\n");
	outcome_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feed_steps),
		cmocka_unit_test(test_first_line_and_eof),
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_tiny_limit),
		cmocka_unit_test(test_nul_is_data),
		cmocka_unit_test(test_cut_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
