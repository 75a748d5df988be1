/*
 * cleanup_checks.c - header_checks, mime_header_checks and body_checks
 * (see cleanup_checks.h).
 *
 * Log lines are Postfix's, logged as info:
 *     QUEUEID: ACTION: header|body TEXT from ORIGIN; from=<S> to=<R>
 *         proto=P helo=<H>[: TEXT]
 * (TEXT cut at 200 bytes, control characters shown as '?' by the log).
 * Queue file: BCC recipients go to the extracted segment as a recipient
 * group with NOTIFY=NEVER (n "1", O, R); FILTER and REDIRECT, which Postfix
 * writes as its own record types there, are named attributes
 * REC_ATTR_CONTENT_FILTER and REC_ATTR_REDIRECT_TO (the last one fired).
 * HOLD moves the committed file to hold/; DISCARD removes it.
 * Security: headers and body lines are untrusted; they are only used as
 * lookup keys (NUL-terminated copies) and in bounded log lines.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup_checks.h"
#include "cleanup_rewrite.h"
#include "global/header_action.h"
#include "global/header_parse.h"
#include "global/mail_queue.h"
#include "global/maps.h"
#include "global/rec_type.h"
#include "util/argv.h"
#include "util/dict.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

/* How much of the input a log line shows, as Postfix. */
#define CHECKS_LOG_TEXT_MAX 200

struct cleanup_checks {
	struct maps *header;      /* header_checks */
	struct maps *mime_header; /* mime_header_checks */
	struct maps *body;        /* body_checks */
	long long body_limit;     /* body_checks_size_limit */
};

/* Per message. */
struct cleanup_check_state {
	char *origin; /* log_message_origin */
	char *proto;  /* log_protocol_name */
	char *helo;   /* log_helo_name */
	char *rcpt;   /* the last envelope recipient */
	bool is_off;  /* PASS, REJECT, DISCARD or a lookup error */
	bool is_hold;
	bool is_discard;
	int reject_code;
	char *reject_reason; /* "D.D.D text" */
	char *filter;
	char *redirect;
	struct argv *bcc;
	long long body_offset;
	bool is_mid_line; /* the last body piece kept was continued */
};

static struct maps *
open_maps(struct mail_conf *conf, const char *name)
{
	struct maps *maps = maps_create(name, mail_conf_str(conf, name), 0);
	const struct argv *errors = maps_open_errors(maps);

	/* As Postfix: the broken table defers each message that reaches it
	 * (451 at once), where a fatal exit would leave SMTP clients waiting
	 * on a throttled service. */
	for (size_t i = 0; i < errors->count; i++)
		log_error("%s: %s", name, errors->items[i]);
	return maps;
}

struct cleanup_checks *
cleanup_checks_create(struct mail_conf *conf)
{
	struct cleanup_checks *checks = xcalloc(1, sizeof(*checks));

	checks->header = open_maps(conf, "header_checks");
	checks->mime_header = open_maps(conf, "mime_header_checks");
	checks->body = open_maps(conf, "body_checks");
	checks->body_limit = mail_conf_int(conf, "body_checks_size_limit");
	return checks;
}

void
cleanup_checks_destroy(struct cleanup_checks **checksp)
{
	struct cleanup_checks *checks = *checksp;

	if (checks == NULL)
		return;
	maps_destroy(&checks->header);
	maps_destroy(&checks->mime_header);
	maps_destroy(&checks->body);
	free(checks);
	*checksp = NULL;
}

static struct cleanup_check_state *
state_of(struct cleanup_state *st)
{
	if (st->checks == NULL)
		st->checks = xcalloc(1, sizeof(*st->checks));
	return st->checks;
}

int
cleanup_checks_smtpd_action(struct cleanup_state *st, const char *action)
{
	struct cleanup_check_state *cs;

	if (strcmp(action, "hold") != 0 && strcmp(action, "discard") != 0)
		return -1;
	cs = state_of(st);
	if (strcmp(action, "hold") == 0)
		cs->is_hold = true;
	else
		cs->is_off = cs->is_discard = true;
	return 0;
}

void
cleanup_checks_clear(struct cleanup_state *st)
{
	struct cleanup_check_state *cs = st->checks;

	if (cs == NULL)
		return;
	free(cs->origin);
	free(cs->proto);
	free(cs->helo);
	free(cs->rcpt);
	free(cs->reject_reason);
	free(cs->filter);
	free(cs->redirect);
	argv_destroy(&cs->bcc);
	free(cs);
	st->checks = NULL;
}

static void
replace_str(char **slot, const char *data, size_t len)
{
	free(*slot);
	*slot = xstrndup(data, len);
}

void
cleanup_checks_note(struct cleanup_state *st, int type, const char *data,
		    size_t len)
{
	static const struct {
		const char *name;
		size_t offset;
	} attrs[] = {
		{ REC_ATTR_LOG_MESSAGE_ORIGIN,
		  offsetof(struct cleanup_check_state, origin) },
		{ REC_ATTR_LOG_PROTOCOL_NAME,
		  offsetof(struct cleanup_check_state, proto) },
		{ REC_ATTR_LOG_HELO_NAME,
		  offsetof(struct cleanup_check_state, helo) },
	};
	struct cleanup_check_state *cs = state_of(st);
	const char *eq;

	if (type == REC_TYPE_RCPT) {
		replace_str(&cs->rcpt, data, len);
		return;
	}
	if (type != REC_TYPE_ATTR || (eq = memchr(data, '=', len)) == NULL)
		return;
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		if (strlen(attrs[i].name) == (size_t)(eq - data) &&
		    memcmp(attrs[i].name, data, (size_t)(eq - data)) == 0)
			replace_str((char **)((char *)cs + attrs[i].offset),
				    eq + 1, len - (size_t)(eq - data) - 1);
	}
}

/* "ID: WORD: CLASS TEXT from ORIGIN; from=<S> to=<R> proto=P helo=<H>". */
static void
log_action(struct cleanup_state *st, const char *word, const char *class,
	   const char *input, const char *text)
{
	struct cleanup_check_state *cs = state_of(st);
	struct strbuf line;

	strbuf_init(&line, STRBUF_UNLIMITED);
	(void)strbuf_printf(&line, "%s: %s: %s %.*s from %s;", st->queue_id,
			    word, class, CHECKS_LOG_TEXT_MAX, input,
			    cs->origin ? cs->origin : "unknown");
	if (st->sender != NULL)
		(void)strbuf_printf(&line, " from=<%s>", st->sender);
	if (cs->rcpt != NULL)
		(void)strbuf_printf(&line, " to=<%s>", cs->rcpt);
	if (cs->proto != NULL)
		(void)strbuf_printf(&line, " proto=%s", cs->proto);
	if (cs->helo != NULL)
		(void)strbuf_printf(&line, " helo=<%s>", cs->helo);
	if (text != NULL)
		(void)strbuf_printf(&line, ": %s", text);
	log_info("%s", line.data);
	strbuf_deinit(&line);
}

/* Actions that change the message as a whole. */
static void
apply_message_action(struct cleanup_state *st, struct header_action *action)
{
	struct cleanup_check_state *cs = state_of(st);

	switch (action->kind) {
	case HEADER_ACTION_REJECT:
		cs->is_off = true;
		cs->reject_code = action->code;
		cs->reject_reason = action->reason;
		action->reason = NULL;
		st->errs |= CLEANUP_STAT_CONT;
		break;
	case HEADER_ACTION_DISCARD:
		cs->is_off = cs->is_discard = true;
		break;
	case HEADER_ACTION_PASS:
		cs->is_off = true;
		break;
	case HEADER_ACTION_HOLD:
		cs->is_hold = true;
		break;
	case HEADER_ACTION_FILTER:
		replace_str(&cs->filter, action->text, strlen(action->text));
		break;
	case HEADER_ACTION_REDIRECT:
		replace_str(&cs->redirect, action->text, strlen(action->text));
		break;
	case HEADER_ACTION_BCC:
		if (cs->bcc == NULL)
			cs->bcc = argv_create();
		argv_add(cs->bcc, action->text);
		break;
	default:
		break;
	}
}

/* Look the line up; DICT_FOUND fills action. A lookup error defers. */
static int
lookup(struct cleanup_state *st, struct maps *maps, const char *key,
       bool is_header, struct header_action *action)
{
	const char *value;
	struct err err;
	int ret = maps_find(maps, key, false, &value, &err);

	if (ret == DICT_ERROR) {
		log_warning("%s", err.text);
		log_warning("%s: %s map lookup problem -- message not "
			    "accepted, try again later",
			    st->queue_id, maps_title(maps));
		st->errs |= CLEANUP_STAT_WRITE;
		state_of(st)->is_off = true;
	} else if (ret == DICT_FOUND) {
		header_action_parse(maps_title(maps), value, is_header, action);
		if (action->warning != NULL)
			log_warning("%s", action->warning);
	}
	return ret;
}

/* Check key in maps and carry out the action; see cleanup_checks.h. */
static enum cleanup_check_fate
check(struct cleanup_state *st, struct maps *maps, const char *key,
      bool is_header, cleanup_write_fn *write_fn, char **replace_out)
{
	struct header_action action = { 0 };
	enum cleanup_check_fate fate = CHECK_KEEP;
	const char *word;

	*replace_out = NULL;
	if (maps == NULL || maps_is_empty(maps) || *key == 0 ||
	    state_of(st)->is_off ||
	    lookup(st, maps, key, is_header, &action) != DICT_FOUND)
		return CHECK_KEEP;
	word = header_action_log_word(action.kind);
	if (word != NULL)
		log_action(st, word, is_header ? "header" : "body", key,
			   action.kind == HEADER_ACTION_REJECT ? action.reason
							       : action.text);
	if (action.kind == HEADER_ACTION_PREPEND)
		write_fn(st, action.text, strlen(action.text));
	if (action.kind == HEADER_ACTION_IGNORE ||
	    action.kind == HEADER_ACTION_STRIP) {
		fate = CHECK_DROP;
	} else if (action.kind == HEADER_ACTION_REPLACE) {
		*replace_out = action.text;
		action.text = NULL;
		fate = CHECK_REPLACE;
	}
	apply_message_action(st, &action);
	header_action_deinit(&action);
	return fate;
}

/* Headers Postfix hands to mime_header_checks. */
static bool
is_mime_header(const char *text, size_t len)
{
	static const char *const names[] = {
		"Content-Description", "Content-Disposition",
		"Content-ID",          "Content-Transfer-Encoding",
		"Content-Type",        "MIME-Version",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (header_is_named(text, len, names[i]))
			return true;
	return false;
}

enum cleanup_check_fate
cleanup_checks_header(struct cleanup_state *st, const char *text, size_t len,
		      cleanup_write_fn *write_fn, char **replace_out)
{
	struct cleanup_checks *checks = st->params->checks;
	char *key = xstrndup(text, len);
	enum cleanup_check_fate fate;

	fate = check(st,
		     checks == NULL              ? NULL
		     : is_mime_header(text, len) ? checks->mime_header
						 : checks->header,
		     key, true, write_fn, replace_out);
	free(key);
	return fate;
}

enum cleanup_check_fate
cleanup_checks_body(struct cleanup_state *st, const char *data, size_t len,
		    bool is_continued, cleanup_write_fn *write_fn,
		    char **replace_out)
{
	struct cleanup_checks *checks = st->params->checks;
	struct cleanup_check_state *cs = state_of(st);
	enum cleanup_check_fate fate = CHECK_KEEP;
	char *key;

	*replace_out = NULL;
	if (checks != NULL && cs->body_offset < checks->body_limit) {
		key = xstrndup(data, len);
		fate = check(st, checks->body, key, false, write_fn,
			     replace_out);
		free(key);
	}
	cs->body_offset += (long long)len + (is_continued ? 0 : 1);
	if (fate == CHECK_DROP && !is_continued && cs->is_mid_line) {
		*replace_out = xstrdup("");
		fate = CHECK_REPLACE;
	}
	if (fate != CHECK_DROP)
		cs->is_mid_line = is_continued;
	return fate;
}

bool
cleanup_checks_is_stopped(const struct cleanup_state *st)
{
	return st->checks != NULL &&
	       (st->checks->is_discard || st->checks->reject_reason != NULL);
}

bool
cleanup_checks_is_discarded(const struct cleanup_state *st)
{
	return st->checks != NULL && st->checks->is_discard;
}

void
cleanup_checks_extracted(struct cleanup_state *st, const char *more)
{
	struct cleanup_check_state *cs = st->checks;
	struct strbuf attr;

	if (cs != NULL && cs->is_discard)
		return;
	if (more == NULL && (cs == NULL || (cs->bcc == NULL &&
					    cs->filter == NULL &&
					    cs->redirect == NULL)))
		return;
	cleanup_out(st, REC_TYPE_XTRA, "", 0);
	if (more != NULL)
		cleanup_out(st, REC_TYPE_ATTR, more, strlen(more));
	if (cs == NULL)
		return;
	for (size_t i = 0; cs->bcc != NULL && i < cs->bcc->count; i++)
		cleanup_rewrite_out(st, cs->bcc->items[i], cs->bcc->items[i],
				    NULL, "1");
	strbuf_init(&attr, STRBUF_UNLIMITED);
	if (cs->filter != NULL) {
		(void)strbuf_printf(&attr, "%s=%s", REC_ATTR_CONTENT_FILTER,
				    cs->filter);
		cleanup_out(st, REC_TYPE_ATTR, attr.data, attr.len);
	}
	if (cs->redirect != NULL) {
		strbuf_reset(&attr);
		(void)strbuf_printf(&attr, "%s=%s", REC_ATTR_REDIRECT_TO,
				    cs->redirect);
		cleanup_out(st, REC_TYPE_ATTR, attr.data, attr.len);
	}
	strbuf_deinit(&attr);
}

void
cleanup_checks_committed(struct cleanup_state *st)
{
	struct err err;
	struct strbuf path;

	if (st->checks == NULL || !st->checks->is_hold || st->errs != 0)
		return;
	if (queue_file_move(st->params->layout, MAIL_QUEUE_INCOMING,
			    MAIL_QUEUE_HOLD, st->queue_id, &err) == 0)
		return;
	/* Never let a message that must be held go out: refuse it. */
	log_warning("%s: %s", st->queue_id, err.text);
	st->errs |= CLEANUP_STAT_WRITE;
	strbuf_init(&path, STRBUF_UNLIMITED);
	if (queue_file_fullpath(st->params->layout, MAIL_QUEUE_INCOMING,
				st->queue_id, &path) == 0 &&
	    unlink(path.data) < 0)
		log_warning("%s: remove %s: %s", st->queue_id, path.data,
			    strerror(errno));
	strbuf_deinit(&path);
}

void
cleanup_checks_reply(const struct cleanup_state *st, struct cleanup_result *res)
{
	const char *reason;
	size_t dsn_len;

	if ((st->errs & ~CLEANUP_STAT_CONT) != 0 || st->checks == NULL ||
	    st->checks->reject_reason == NULL)
		return;
	reason = st->checks->reject_reason;
	dsn_len = strcspn(reason, " ");
	res->code = st->checks->reject_code;
	snprintf(res->dsn, sizeof(res->dsn), "%.*s", (int)dsn_len, reason);
	snprintf(res->reason, sizeof(res->reason), "%s",
		 reason[dsn_len] ? reason + dsn_len + 1 : "");
}
