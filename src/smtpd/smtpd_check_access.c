/*
 * smtpd_check_access.c - check_client_access, check_helo_access,
 * check_sender_access and check_recipient_access.
 *
 * The lookup and the decoding of the answer are global/access_map's; here
 * each action becomes a verdict: OK permits, REJECT/DEFER/NNN refuse,
 * DUNNO goes on, DEFER_IF_REJECT/DEFER_IF_PERMIT arm the run's flags,
 * WARN/INFO become log events, and an answer that is a restriction list
 * runs in place (no lookup tables inside, as Postfix insists). HOLD,
 * DISCARD, FILTER, REDIRECT, BCC and PREPEND apply to the whole message:
 * each is logged as Postfix logs it and handed to the session as an
 * action event ("=hold", "=filter" ARG, ...), which smtpd carries out at
 * DATA; DISCARD also permits, the others go on (DUNNO).
 * Security: table contents are trusted configuration; keys are untrusted.
 */
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"

#include "smtpd/smtpd_check_impl.h"

/* Nested restriction lists from access tables: a sanity bound. */
#define CHECK_MAX_DEPTH 100

/* An access table's answer that is itself a restriction list. */
static enum verdict
access_nested(struct check_run *run, enum list_id id, const char *table,
	      const char *text)
{
	struct argv *words = argv_split(text, " \t\r\n,");
	struct rlist list = { .pname = table, .id = id };
	enum verdict verdict = VERDICT_DUNNO;
	struct err err;

	for (size_t i = 0; i < words->count && verdict == VERDICT_DUNNO; i++)
		if (check_is_table_step(check_step_kind(words->items[i]))) {
			log_warning("access table %s entry \"%s\" has a lookup "
				    "table; define a restriction class and "
				    "specify its name instead",
				    table, text);
			verdict = check_config_error(run);
		}
	if (verdict != VERDICT_DUNNO) {
		/* refused above */
	} else if (run->depth >= CHECK_MAX_DEPTH) {
		log_warning("%s: restriction list nested too deeply", table);
		verdict = check_config_error(run);
	} else if (check_rlist_parse(&list, words, &err) < 0) {
		log_warning("%s: %s", table, err.text);
		verdict = check_config_error(run);
	}
	if (verdict == VERDICT_DUNNO) {
		run->depth++;
		verdict = check_rlist_run(run, &list);
		run->depth--;
	}
	check_rlist_free(&list);
	argv_destroy(&words);
	return verdict;
}

static enum verdict
access_message_action(struct check_run *run,
		      const struct access_result *result)
{
	switch (result->action) {
	case ACCESS_HOLD:
		check_event(run, "hold", result->text);
		check_event(run, "=hold", "");
		return VERDICT_DUNNO;
	case ACCESS_DISCARD:
		check_event(run, "discard", result->text);
		check_event(run, "=discard", "");
		return VERDICT_PERMIT;
	case ACCESS_FILTER:
		check_event(run, "filter", result->text);
		check_event(run, "=filter", result->arg);
		return VERDICT_DUNNO;
	case ACCESS_REDIRECT:
		check_event(run, "redirect", result->text);
		check_event(run, "=redirect", result->arg);
		return VERDICT_DUNNO;
	case ACCESS_BCC:
		check_event(run, "=bcc", result->arg);
		return VERDICT_DUNNO;
	default:
		check_event(run, "=prepend", result->arg);
		return VERDICT_DUNNO;
	}
}

static enum verdict
access_verdict(struct check_run *run, enum list_id id, const struct step *step,
	       struct access_result *result)
{
	char spec[512];

	snprintf(spec, sizeof(spec), "%s:%s", step->table->type,
		 step->table->name);
	switch (result->action) {
	case ACCESS_OK:
		return VERDICT_PERMIT;
	case ACCESS_DUNNO:
		return VERDICT_DUNNO;
	case ACCESS_REJECT:
		return check_refuse(run, result->code, result->dsn, "%s",
				    result->text);
	case ACCESS_DEFER_IF_REJECT:
		run->defer_if_reject = true;
		return VERDICT_DUNNO;
	case ACCESS_DEFER_IF_PERMIT:
		strbuf_reset(&run->deferred);
		(void)strbuf_printf(&run->deferred, "%d %s %s", result->code,
				    result->dsn, result->text);
		return VERDICT_DUNNO;
	case ACCESS_WARN:
	case ACCESS_INFO:
		check_event(run, result->action == ACCESS_WARN ? "warn" : "info",
			  result->arg ? result->arg : "");
		return VERDICT_DUNNO;
	case ACCESS_RESTRICTIONS:
		return access_nested(run, id, spec, result->arg);
	case ACCESS_HOLD:
	case ACCESS_DISCARD:
	case ACCESS_FILTER:
	case ACCESS_REDIRECT:
	case ACCESS_BCC:
	case ACCESS_PREPEND:
		return access_message_action(run, result);
	default:
		break;
	}
	log_warning("%s: action of key %s is not supported yet; deferring",
		    spec, result->key ? result->key : "?");
	return check_config_error(run);
}

static int
access_lookup(struct check_run *run, const struct step *step,
	      struct access_result *result, struct err *err)
{
	const struct smtpd_request *req = run->req;
	const struct access_settings *set = &run->check->access;

	switch (step->kind) {
	case STEP_CHECK_CLIENT_ACCESS:
		return access_map_check_client(step->table, set, req->name,
					       req->addr, result, err);
	case STEP_CHECK_HELO_ACCESS:
		if (req->helo == NULL)
			return DICT_NOTFOUND;
		return access_map_check_helo(step->table, set, req->helo,
					     result, err);
	case STEP_CHECK_SENDER_ACCESS:
		if (req->sender == NULL)
			return DICT_NOTFOUND;
		return access_map_check_address(step->table, set,
						ACCESS_SENDER, req->sender,
						result, err);
	default:
		if (req->rcpt == NULL)
			return DICT_NOTFOUND;
		return access_map_check_address(step->table, set,
						ACCESS_RECIPIENT, req->rcpt,
						result, err);
	}
}

enum verdict
check_access(struct check_run *run, enum list_id id, const struct step *step)
{
	struct access_result result = { 0 };
	enum verdict verdict = VERDICT_DUNNO;
	struct err err;
	int ret = access_lookup(run, step, &result, &err);

	if (ret == DICT_ERROR) {
		log_warning("%s: %s", step->name, err.text);
		strbuf_printf(run->reply, "%d %s %s", result.code, result.dsn,
			      result.text);
		verdict = VERDICT_REFUSE;
	} else if (ret == DICT_FOUND) {
		if (result.warning != NULL)
			log_warning("%s", result.warning);
		verdict = access_verdict(run, id, step, &result);
	}
	access_result_deinit(&result);
	return verdict;
}

