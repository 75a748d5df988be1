/*
 * stderr_capture.h - unit-test helper: collect what code writes to stderr.
 *
 * Header-only (each test binary links one object): capture_start redirects
 * stderr to a temporary file, capture_end restores it and returns the text
 * written in between (the caller frees it). Include after cmocka.h.
 */
#ifndef POSTERN_TESTS_STDERR_CAPTURE_H
#define POSTERN_TESTS_STDERR_CAPTURE_H

#include <stdio.h>
#include <unistd.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"

struct capture {
	FILE *fp;
	int saved_fd;
};

static void
capture_start(struct capture *cap)
{
	fflush(stderr);
	cap->fp = tmpfile();
	assert_non_null(cap->fp);
	cap->saved_fd = dup(STDERR_FILENO);
	assert_true(dup2(fileno(cap->fp), STDERR_FILENO) >= 0);
}

static char *
capture_end(struct capture *cap)
{
	struct strbuf sb;
	char buf[512];
	size_t n;
	char *text;

	fflush(stderr);
	dup2(cap->saved_fd, STDERR_FILENO);
	close(cap->saved_fd);
	rewind(cap->fp);
	strbuf_init(&sb, STRBUF_UNLIMITED);
	while ((n = fread(buf, 1, sizeof(buf), cap->fp)) > 0)
		strbuf_append(&sb, buf, n);
	fclose(cap->fp);
	text = xstrdup(strbuf_text(&sb));
	strbuf_deinit(&sb);
	return text;
}

#endif
