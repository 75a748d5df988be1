/*
 * fuzz_mail_addr.c - libFuzzer target for SMTP path and ESMTP parameter
 * parsing, quoting and local-part routing.
 *
 * The first input byte picks the flags and the role; the rest is the text
 * after "MAIL FROM:" (up to a NUL). A parsed address must be bounded and
 * free of control characters, quoting and unquoting it must give it back,
 * and parsing its quoted form "<...>" must give the same address. The
 * parameter text is parsed for MAIL and RCPT, and the whole input also
 * goes through the xtext decoder and back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

#include "global/esmtp_param.h"
#include "global/mail_addr.h"
#include "global/xtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_local(const char *domain, void *ctx)
{
	(void)ctx;
	return strcmp(domain, "example.org") == 0 || strlen(domain) == 1;
}

static void
check_params(const char *text, int selector)
{
	struct esmtp_params p;
	struct strbuf *reply = strbuf_create(1024);
	int flags = selector & 7;

	for (int cmd = ESMTP_MAIL; cmd <= ESMTP_RCPT; cmd++) {
		enum esmtp_status st = esmtp_param_parse(text, cmd, flags, &p);

		esmtp_param_reply(reply, st, &p);
		ASSERT(strbuf_len(reply) < 512);
		ASSERT((st == ESMTP_OK) == (p.bad == NULL));
		esmtp_param_free(&p);
	}
	strbuf_destroy(&reply);
}

static void
check_address(const char *addr, enum mail_addr_role role, int flags)
{
	struct mail_addr_path again;
	struct mail_addr_route_opts opts = {
		.allow_percent_hack = true,
		.swap_bangpath = true,
		.resolve_dequoted_address = true,
		.is_local_domain = is_local,
	};
	char *quoted = mail_addr_quote(addr);
	char *unquoted = mail_addr_unquote(quoted);
	char *bracketed = xasprintf("<%s>", quoted);
	bool routed;
	char *final;

	ASSERT(strlen(addr) <= MAIL_ADDR_MAX_LEN);
	for (const char *c = addr; *c; c++)
		ASSERT((unsigned char)*c >= 0x20 && *c != 0x7f);
	ASSERT(strcmp(unquoted, addr) == 0);
	(void)mail_addr_check_8bit(addr, flags, NULL);
	ASSERT(mail_addr_parse_path(bracketed, role,
				    flags & ~MAIL_ADDR_FLAG_STRICT_RFC821,
				    &again, NULL) == MAIL_ADDR_OK);
	ASSERT(strcmp(again.addr, addr) == 0);
	mail_addr_path_free(&again);
	final = mail_addr_route_resolve(addr, &opts, &routed);
	ASSERT(strlen(final) <= strlen(addr) + 1);
	free(final);
	free(bracketed);
	free(unquoted);
	free(quoted);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mail_addr_path path;
	struct strbuf *dec;
	struct strbuf *enc;
	enum mail_addr_role role;
	int flags;
	char *text;

	if (size == 0)
		return 0;
	flags = data[0] & 7;
	role = (data[0] & 8) ? MAIL_ADDR_RECIPIENT : MAIL_ADDR_SENDER;
	text = xstrndup((const char *)data + 1, size - 1);
	if (mail_addr_parse_path(text, role, flags, &path, NULL) ==
	    MAIL_ADDR_OK) {
		check_address(path.addr, role, flags);
		check_params(path.params, data[0] >> 4);
		mail_addr_path_free(&path);
	}
	dec = strbuf_create(4096);
	enc = strbuf_create(STRBUF_UNLIMITED);
	if (xtext_decode(text, XTEXT_FLAG_UTF8, dec) == 0) {
		struct strbuf *back = strbuf_create(4096);

		xtext_encode(dec->data, dec->len, enc);
		ASSERT(xtext_decode(enc->data, 0, back) == 0);
		ASSERT(back->len == dec->len &&
		       memcmp(back->data, dec->data, dec->len) == 0);
		strbuf_destroy(&back);
	}
	strbuf_destroy(&enc);
	strbuf_destroy(&dec);
	free(text);
	return 0;
}
