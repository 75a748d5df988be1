/*
 * header_parse.h - split message content into RFC 5322 headers and body.
 *
 * A streaming parser fed with content lines as they arrive, whole or in
 * pieces (a line cut by the sender's line length limit comes as pieces
 * with is_continued set, the last piece without). While in the headers it
 * joins folded lines into one logical header ("Name: value\n\tmore", the
 * lines joined with '\n', no final newline) and hands each complete header
 * to on_header. The headers end at the first empty line, at the first line
 * that is neither a header ("Name:" with Name of printable ASCII other
 * than ':', white space allowed before the colon) nor, after a header, a
 * folded line (starting with space or tab), or at the end of the content;
 * on_done then says whether a separator belongs between headers and body
 * (an empty line was seen, or a body line follows). The empty separator
 * line itself is consumed; every later line or piece goes to on_body
 * unchanged. A header longer than header_size_limit is cut, as Postfix
 * cuts it: a first line keeps its first header_size_limit bytes, and folded
 * lines that no longer fit are dropped with everything after them in that
 * header. Nothing is kept but the current header, so memory stays within
 * two header_size_limit buffers whatever the input.
 * Security: the input is untrusted message content.
 */
#ifndef POSTERN_GLOBAL_HEADER_PARSE_H
#define POSTERN_GLOBAL_HEADER_PARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Callbacks return 0 to go on or -1 to stop (the feed then returns -1). */
typedef int header_parse_header_fn(const char *text, size_t len,
				   bool is_truncated, void *ctx);
typedef int header_parse_done_fn(bool want_separator, void *ctx);
typedef int header_parse_body_fn(const char *data, size_t len,
				 bool is_continued, void *ctx);

struct header_parse_ops {
	header_parse_header_fn *on_header;
	header_parse_done_fn *on_done;
	header_parse_body_fn *on_body;
};

struct header_parser;

/* header_size_limit must be at least 1; ops must outlive the parser. */
struct header_parser *
header_parser_create(size_t header_size_limit,
		     const struct header_parse_ops *ops, void *ctx);
void header_parser_destroy(struct header_parser **hpp);

/*
 * Feed one content line or piece of a line (without its line end).
 * Returns 0, or -1 when a callback returned -1.
 */
int header_parser_feed(struct header_parser *hp, const char *data, size_t len,
		       bool is_continued);

/*
 * End of content: flushes the open header and calls on_done if the headers
 * were still open. A line left unfinished (last piece continued) counts as
 * finished. Returns 0 or -1 as header_parser_feed.
 */
int header_parser_finish(struct header_parser *hp);

/* True while the parser is still reading headers. */
bool header_parser_in_headers(const struct header_parser *hp);

/*
 * Length of the header name at the start of a line ("Subject" in
 * "Subject : x"), or 0 if the line does not start a header.
 */
size_t header_name_len(const char *text, size_t len);

/*
 * True if header text (a logical header) is named name, compared without
 * regard to case.
 */
bool header_is_named(const char *text, size_t len, const char *name);

/*
 * The value of a header: what follows the colon, with leading white space
 * and line folds skipped. Returns a pointer into text and its length in
 * *len_out; text must start a header.
 */
const char *header_value(const char *text, size_t len, size_t *len_out);

#endif
