/*
 * esmtp_param.c - ESMTP parameters of MAIL FROM and RCPT TO.
 *
 * One table row per keyword says which command takes it and which
 * advertised extension it needs; the row's handler checks the value.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mymalloc.h"
#include "util/utf8.h"

#include "global/esmtp_param.h"
#include "global/xtext.h"

/* Decoded ENVID / ORCPT values are bounded by the command line anyway. */
#define DECODED_MAX 2048

typedef enum esmtp_status param_fn(struct esmtp_params *p, const char *value);

struct param_def {
	const char *name;
	enum esmtp_cmd cmd;
	int need_flag; /* 0 or the ESMTP_FLAG_* that enables it */
	bool takes_value;
	param_fn *fn;
};

static enum esmtp_status
do_size(struct esmtp_params *p, const char *value)
{
	uint64_t size = 0;

	if (*value == 0 || strspn(value, "0123456789") != strlen(value))
		return ESMTP_ERR_SIZE;
	for (; *value; value++) {
		unsigned digit = (unsigned)(*value - '0');

		size = size > (UINT64_MAX - digit) / 10 ? UINT64_MAX
							: size * 10 + digit;
	}
	p->has_size = true;
	p->size = size;
	return ESMTP_OK;
}

static enum esmtp_status
do_body(struct esmtp_params *p, const char *value)
{
	if (strcasecmp(value, "7BIT") == 0)
		p->body = ESMTP_BODY_7BIT;
	else if (strcasecmp(value, "8BITMIME") == 0)
		p->body = ESMTP_BODY_8BITMIME;
	else
		return ESMTP_ERR_UNSUPPORTED;
	return ESMTP_OK;
}

static enum esmtp_status
do_body_binary(struct esmtp_params *p, const char *value)
{
	if (strcasecmp(value, "BINARYMIME") != 0)
		return do_body(p, value);
	p->body = ESMTP_BODY_BINARYMIME;
	return ESMTP_OK;
}

static enum esmtp_status
do_smtputf8(struct esmtp_params *p, const char *value)
{
	(void)value;
	p->smtputf8 = true;
	return ESMTP_OK;
}

static enum esmtp_status
do_ret(struct esmtp_params *p, const char *value)
{
	if (p->ret != ESMTP_RET_NONE)
		return ESMTP_ERR_RET;
	if (strcasecmp(value, "FULL") == 0)
		p->ret = ESMTP_RET_FULL;
	else if (strcasecmp(value, "HDRS") == 0)
		p->ret = ESMTP_RET_HDRS;
	else
		return ESMTP_ERR_RET;
	return ESMTP_OK;
}

static bool
has_ctl(const char *text)
{
	for (; *text; text++)
		if ((unsigned char)*text < 0x20 || *text == 0x7f)
			return true;
	return false;
}

/* Decode xtext into a new string, or NULL if it is not acceptable. */
static char *
decode(const char *value, int flags)
{
	struct strbuf buf;
	char *result = NULL;

	strbuf_init(&buf, DECODED_MAX);
	if (xtext_decode(value, flags, &buf) == 0 && !has_ctl(buf.data) &&
	    utf8_is_valid(buf.data, buf.len))
		result = xstrndup(buf.data, buf.len);
	strbuf_deinit(&buf);
	return result;
}

static enum esmtp_status
do_envid(struct esmtp_params *p, const char *value)
{
	if (p->envid != NULL || *value == 0)
		return ESMTP_ERR_ENVID;
	p->envid = decode(value, 0);
	if (p->envid && utf8_has_8bit(p->envid, strlen(p->envid))) {
		free(p->envid);
		p->envid = NULL;
	}
	return p->envid ? ESMTP_OK : ESMTP_ERR_ENVID;
}

static enum esmtp_status
do_auth(struct esmtp_params *p, const char *value)
{
	free(p->auth);
	p->auth = xstrdup(value);
	return ESMTP_OK;
}

static int
notify_word(const char *word, size_t len)
{
	static const struct {
		const char *name;
		int bit;
	} words[] = {
		{ "NEVER", ESMTP_NOTIFY_NEVER },
		{ "SUCCESS", ESMTP_NOTIFY_SUCCESS },
		{ "DELAY", ESMTP_NOTIFY_DELAY },
		{ "FAILURE", ESMTP_NOTIFY_FAILURE },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i].name) == len &&
		    strncasecmp(word, words[i].name, len) == 0)
			return words[i].bit;
	return 0;
}

/* Comma-separated words; empty items are skipped (as Postfix does). */
static enum esmtp_status
do_notify(struct esmtp_params *p, const char *value)
{
	int mask = 0;

	if (p->notify != 0)
		return ESMTP_ERR_NOTIFY;
	while (*value) {
		size_t len = strcspn(value, ",");

		if (len > 0) {
			int bit = notify_word(value, len);

			if (bit == 0)
				return ESMTP_ERR_NOTIFY;
			mask |= bit;
		}
		value += len + (value[len] == ',');
	}
	if (mask == 0 ||
	    ((mask & ESMTP_NOTIFY_NEVER) && mask != ESMTP_NOTIFY_NEVER))
		return ESMTP_ERR_NOTIFY;
	p->notify = mask;
	return ESMTP_OK;
}

/* "addr-type;xtext": the type is printable ASCII without ';'. */
static enum esmtp_status
do_orcpt(struct esmtp_params *p, const char *value)
{
	const char *semi = strchr(value, ';');

	if (p->orcpt_type != NULL || semi == NULL || semi == value)
		return ESMTP_ERR_ORCPT;
	for (const char *t = value; t < semi; t++)
		if (*t < '!' || *t > '~')
			return ESMTP_ERR_ORCPT;
	p->orcpt_addr = decode(semi + 1, XTEXT_FLAG_UTF8);
	if (p->orcpt_addr == NULL)
		return ESMTP_ERR_ORCPT;
	p->orcpt_type = xstrndup(value, (size_t)(semi - value));
	return ESMTP_OK;
}

static const struct param_def param_defs[] = {
	{ "SIZE", ESMTP_MAIL, 0, true, do_size },
	{ "BODY", ESMTP_MAIL, ESMTP_FLAG_BINARYMIME, true, do_body_binary },
	{ "BODY", ESMTP_MAIL, 0, true, do_body },
	{ "SMTPUTF8", ESMTP_MAIL, ESMTP_FLAG_SMTPUTF8, false, do_smtputf8 },
	{ "RET", ESMTP_MAIL, ESMTP_FLAG_DSN, true, do_ret },
	{ "ENVID", ESMTP_MAIL, ESMTP_FLAG_DSN, true, do_envid },
	{ "AUTH", ESMTP_MAIL, 0, true, do_auth },
	{ "NOTIFY", ESMTP_RCPT, ESMTP_FLAG_DSN, true, do_notify },
	{ "ORCPT", ESMTP_RCPT, ESMTP_FLAG_DSN, true, do_orcpt },
};

static const struct param_def *
find_def(const char *name, size_t len, enum esmtp_cmd cmd, int flags)
{
	for (size_t i = 0; i < sizeof(param_defs) / sizeof(param_defs[0]);
	     i++) {
		const struct param_def *d = &param_defs[i];

		if (d->cmd == cmd && (d->need_flag & ~flags) == 0 &&
		    strlen(d->name) == len &&
		    strncasecmp(name, d->name, len) == 0)
			return d;
	}
	return NULL;
}

/* One "NAME" or "NAME=value" word. */
static enum esmtp_status
parse_one(char *word, enum esmtp_cmd cmd, int flags, struct esmtp_params *p)
{
	char *eq = strchr(word, '=');
	size_t name_len = eq ? (size_t)(eq - word) : strlen(word);
	const struct param_def *d = find_def(word, name_len, cmd, flags);

	if (d == NULL || d->takes_value != (eq != NULL))
		return ESMTP_ERR_UNSUPPORTED;
	return d->fn(p, eq ? eq + 1 : "");
}

static char *
sanitize(const char *word, size_t len)
{
	char *copy = xstrndup(word, len > ESMTP_BAD_MAX ? ESMTP_BAD_MAX : len);

	for (char *c = copy; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	return copy;
}

enum esmtp_status
esmtp_param_parse(const char *text, enum esmtp_cmd cmd, int flags,
		  struct esmtp_params *out)
{
	static const char ws[] = " \t\v\f";

	memset(out, 0, sizeof(*out));
	for (text += strspn(text, ws); *text; text += strspn(text, ws)) {
		size_t len = strcspn(text, ws);
		char *word = xstrndup(text, len);
		enum esmtp_status status = parse_one(word, cmd, flags, out);

		free(word);
		if (status != ESMTP_OK) {
			out->bad = sanitize(text, len);
			return status;
		}
		text += len;
	}
	return ESMTP_OK;
}

void
esmtp_param_free(struct esmtp_params *p)
{
	free(p->envid);
	free(p->orcpt_type);
	free(p->orcpt_addr);
	free(p->auth);
	free(p->bad);
	memset(p, 0, sizeof(*p));
}

void
esmtp_param_reply(struct strbuf *out, enum esmtp_status status,
		  const struct esmtp_params *p)
{
	static const char *const texts[] = {
		[ESMTP_OK] = "250 Ok",
		[ESMTP_ERR_UNSUPPORTED] = "555 5.5.4 Unsupported option: ",
		[ESMTP_ERR_SIZE] = "501 5.5.4 Bad message size syntax",
		[ESMTP_ERR_RET] = "501 5.5.4 Bad RET parameter syntax",
		[ESMTP_ERR_ENVID] = "501 5.5.4 Bad ENVID parameter syntax",
		[ESMTP_ERR_NOTIFY] =
			"501 5.5.4 Error: Bad NOTIFY parameter syntax",
		[ESMTP_ERR_ORCPT] =
			"501 5.5.4 Error: Bad ORCPT parameter syntax",
	};

	strbuf_reset(out);
	strbuf_append_str(out, texts[status]);
	if (status == ESMTP_ERR_UNSUPPORTED && p->bad)
		strbuf_append_str(out, p->bad);
}
