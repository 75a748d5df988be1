/*
 * header_addr.h - addresses in message headers and on sendmail's command
 * line, and the recipients "sendmail -t" takes from the headers.
 *
 * header_addr_parse reads an RFC 5322 address list ("Joe <joe@x>, y@z
 * (comment), group: a@b, c@d;") and yields each address in internal form:
 * comments, white space, display names and group names dropped, quoted
 * strings unquoted. Like Postfix's tokenizer it never fails: from a
 * malformed list it takes what it can recognise, and an empty one ("<>",
 * "group:;") yields nothing.
 *
 * With -t, the recipients are the addresses of every To:, Cc: and Bcc:
 * header, unless the message has Resent-To:, Resent-Cc: or Resent-Bcc:
 * headers: then only those, as in Postfix.
 */
#ifndef POSTERN_GLOBAL_HEADER_ADDR_H
#define POSTERN_GLOBAL_HEADER_ADDR_H

#include <stdbool.h>
#include <stddef.h>

#include "util/argv.h"

/*
 * Append each address of the list text[0..len) to out; returns how many
 * were appended.
 */
size_t header_addr_parse(const char *text, size_t len, struct argv *out);

/* Recipients collected from headers; zero it, then header_rcpt_init. */
struct header_rcpt {
	struct argv *plain;  /* To, Cc, Bcc */
	struct argv *resent; /* Resent-To, Resent-Cc, Resent-Bcc */
	bool has_resent;
};

void header_rcpt_init(struct header_rcpt *hr);
void header_rcpt_deinit(struct header_rcpt *hr);

/* Note one logical header ("To: a@b,\n c@d"), without its line end. */
void header_rcpt_note(struct header_rcpt *hr, const char *text, size_t len);

/* The recipients to use (owned by hr). */
const struct argv *header_rcpt_result(const struct header_rcpt *hr);

#endif
