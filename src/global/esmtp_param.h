/*
 * esmtp_param.h - the ESMTP parameters of MAIL FROM and RCPT TO.
 *
 * Parses the text that mail_addr_parse_path leaves after the path
 * ("SIZE=123 BODY=8BITMIME") into typed values, with Postfix 3.7's
 * acceptance rules and reply texts (observed on Debian's 3.7.11):
 *   - keywords and the values of BODY, RET and NOTIFY in any case;
 *   - parameters separated by any white space, processed left to right,
 *     the first bad one decides the reply;
 *   - SIZE, BODY, SMTPUTF8 and AUTH may repeat (the last one counts);
 *     a repeated RET, ENVID, NOTIFY or ORCPT is a syntax error of that
 *     parameter;
 *   - a known keyword with a value it does not take ("SIZE", "BODY=",
 *     "BODY=FOO", "SMTPUTF8=x"), a parameter of the other command, or
 *     any unknown parameter: "555 5.5.4 Unsupported option: <it>".
 * Security: input is untrusted; decoded values are NUL-free, and ENVID
 * and ORCPT are free of control characters (Postfix 3.7 lets "+0A"
 * through in ORCPT; we refuse it so no CR/LF reaches a DSN).
 */
#ifndef POSTERN_GLOBAL_ESMTP_PARAM_H
#define POSTERN_GLOBAL_ESMTP_PARAM_H

#include <stdbool.h>
#include <stdint.h>

#include "util/strbuf.h"

enum esmtp_cmd {
	ESMTP_MAIL, /* SIZE BODY SMTPUTF8 RET ENVID AUTH */
	ESMTP_RCPT, /* NOTIFY ORCPT */
};

/* esmtp_param_parse flags: the extensions this server advertises. */
#define ESMTP_FLAG_SMTPUTF8 (1 << 0)   /* smtputf8_enable: SMTPUTF8 */
#define ESMTP_FLAG_DSN (1 << 1)        /* DSN: RET ENVID NOTIFY ORCPT */
#define ESMTP_FLAG_BINARYMIME (1 << 2) /* BODY=BINARYMIME (not in Postfix) */

enum esmtp_body {
	ESMTP_BODY_NONE,
	ESMTP_BODY_7BIT,
	ESMTP_BODY_8BITMIME,
	ESMTP_BODY_BINARYMIME,
};

enum esmtp_ret {
	ESMTP_RET_NONE,
	ESMTP_RET_FULL,
	ESMTP_RET_HDRS,
};

/* NOTIFY bits; 0 means NOTIFY was not given. */
#define ESMTP_NOTIFY_NEVER (1 << 0)
#define ESMTP_NOTIFY_SUCCESS (1 << 1)
#define ESMTP_NOTIFY_DELAY (1 << 2)
#define ESMTP_NOTIFY_FAILURE (1 << 3)

struct esmtp_params {
	bool has_size;
	uint64_t size; /* digits only; too large saturates at UINT64_MAX */
	enum esmtp_body body;
	bool smtputf8;
	enum esmtp_ret ret;
	char *envid;      /* decoded; NULL if not given */
	int notify;       /* ESMTP_NOTIFY_* bits */
	char *orcpt_type; /* "rfc822", "utf-8", ... as given; NULL if none */
	char *orcpt_addr; /* decoded address ("" allowed) */
	char *auth;       /* AUTH= value as given (xtext or "<>"); NULL */
	char *bad;        /* the refused parameter, printable ASCII only */
};

enum esmtp_status {
	ESMTP_OK = 0,
	ESMTP_ERR_UNSUPPORTED, /* 555 5.5.4 Unsupported option: %s */
	ESMTP_ERR_SIZE,        /* 501 5.5.4 Bad message size syntax */
	ESMTP_ERR_RET,         /* 501 5.5.4 Bad RET parameter syntax */
	ESMTP_ERR_ENVID,       /* 501 5.5.4 Bad ENVID parameter syntax */
	ESMTP_ERR_NOTIFY, /* 501 5.5.4 Error: Bad NOTIFY parameter syntax */
	ESMTP_ERR_ORCPT,  /* 501 5.5.4 Error: Bad ORCPT parameter syntax */
};

/* Longest parameter text echoed in a reply (a reply line is <= 512). */
#define ESMTP_BAD_MAX 400

/*
 * Parse text (NUL-terminated; "" is fine) for cmd. Fills *out, which the
 * caller frees with esmtp_param_free whatever the result; on error
 * out->bad holds the offending parameter (truncated to ESMTP_BAD_MAX,
 * control and 8-bit bytes shown as '?').
 */
enum esmtp_status esmtp_param_parse(const char *text, enum esmtp_cmd cmd,
				    int flags, struct esmtp_params *out);

/* Free the strings of *p and zero it. */
void esmtp_param_free(struct esmtp_params *p);

/* Replace out's contents with the reply for status (no CRLF). */
void esmtp_param_reply(struct strbuf *out, enum esmtp_status status,
		       const struct esmtp_params *p);

#endif
