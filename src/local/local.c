/*
 * local.c - the local delivery agent: delivers to aliases, .forward
 * destinations, mailboxes, files and commands, as Postfix's local(8).
 *
 * Skeleton: SKEL_SINGLE. master.cf: "local unix - n n - - local" (the
 * unpriv column "n": the agent stays root, because it must act as each
 * recipient). It reads one delivery request per connection
 * (global/deliver_request.h), expands each recipient, and reports every
 * leaf's outcome with deliver_sent/bounced/deferred.
 * Privileges: as root, every access to a user's files and every command
 * runs in a child that became that user (or default_privs, for aliases
 * owned by root) for good; the parent only reads the queue file and talks
 * to qmgr and cleanup. Started by an ordinary user, everything runs as
 * that user.
 * Touches: the queue file (done marks), the per-message logs, mailboxes,
 * files, commands, private/cleanup (forwarding) and other transports'
 * sockets (mailbox_transport, fallback_transport).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "global/mailbox.h"
#include "global/maps.h"
#include "global/queue_file.h"
#include "global/resolve.h"
#include "local.h"
#include "util/dict.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

/* Longest header line looked at for Delivered-To:. */
#define LOCAL_HEADER_MAX 4096

struct local_server {
	struct local_ctx ctx;
	struct queue_layout *ql;
};

/* ------------------------------------------------------------------ */
/* Outcomes.                                                            */

void
local_outcome(struct local_state *st, const struct local_attr *attr, int kind,
	      const char *dsn, const char *fmt, ...)
{
	struct local_outcome *o;
	struct strbuf reason;
	va_list ap;

	if (st->outcome_count == st->outcome_cap) {
		st->outcome_cap = st->outcome_cap ? 2 * st->outcome_cap : 8;
		st->outcomes = xreallocarray(st->outcomes, st->outcome_cap,
					     sizeof(*st->outcomes));
	}
	o = &st->outcomes[st->outcome_count++];
	memset(o, 0, sizeof(*o));
	strbuf_init(&reason, ERR_TEXT_MAX);
	va_start(ap, fmt);
	(void)strbuf_vprintf(&reason, fmt, ap);
	va_end(ap);
	o->index = st->index;
	o->kind = kind;
	o->address = xstrdup(attr->address);
	snprintf(o->dsn, sizeof(o->dsn), "%s", dsn);
	o->reason = xstrdup(strbuf_text(&reason));
	strbuf_deinit(&reason);
}

bool
local_verify_only(struct local_state *st, const struct local_attr *attr,
		  const char *what, const char *detail)
{
	if ((st->req->flags & DELIVER_FLAG_VERIFY) == 0)
		return false;
	local_outcome(st, attr, DELIVER_RESULT_SENT, "2.0.0", "delivers to %s%s%s",
		      what, detail != NULL ? ": " : "",
		      detail != NULL ? detail : "");
	return true;
}

bool
local_been_here(struct local_state *st, const char *fmt, ...)
{
	struct strbuf key;
	va_list ap;
	bool seen;

	strbuf_init(&key, STRBUF_UNLIMITED);
	va_start(ap, fmt);
	(void)strbuf_vprintf(&key, fmt, ap);
	va_end(ap);
	seen = htable_locate(st->dup_filter, strbuf_text(&key)) != NULL;
	if (!seen && (st->ctx->p.duplicate_filter_limit == 0 ||
		      (long long)htable_count(st->dup_filter) <
			      st->ctx->p.duplicate_filter_limit))
		(void)htable_insert(st->dup_filter, strbuf_text(&key), NULL);
	strbuf_deinit(&key);
	return seen;
}

/* Report one outcome with the leaf's address in the log line. */
static void
report_one(struct local_state *st, const struct local_outcome *o, int kind)
{
	struct deliver_rcpt *rcpt = &st->req->rcpts[o->index];
	char *saved = rcpt->address;
	struct deliver_status status = {
		.relay = "local",
		.dsn = o->dsn,
		.reason = o->reason,
	};
	struct err err;

	if (strncmp(o->reason, "forwarded as ", 13) == 0)
		status.action = "relayed";
	rcpt->address = o->address;
	if (kind == DELIVER_RESULT_SENT)
		(void)deliver_sent(st->req, o->index, &status, &err);
	else if (kind == DELIVER_RESULT_BOUNCED)
		(void)deliver_bounced(st->req, o->index, &status, &err);
	else
		(void)deliver_deferred(st->req, o->index, &status, &err);
	rcpt->address = saved;
}

/*
 * A recipient whose every destination was already delivered for another
 * recipient of this request: done, without a log line (as Postfix).
 */
static void
report_duplicate(struct local_state *st, size_t index)
{
	struct err err;

	if (queue_file_mark_done(st->req->queue_fd, st->req->queue_id,
				 st->req->rcpts[index].offset, false,
				 &err) < 0) {
		log_warning("%s: %s", st->req->queue_id, err.text);
		return;
	}
	st->req->results[index] = DELIVER_RESULT_SENT;
}

/*
 * The outcomes of one queue recipient. A deferred leaf keeps the whole
 * recipient in the queue (all of it is tried again later, as in Postfix),
 * so then only the deferrals are reported: reporting a success would mark
 * the recipient done. Otherwise bounces go first, so that their bounce
 * log entries are on disk before the recipient is marked done.
 */
static void
report_recipient(struct local_state *st, size_t index)
{
	bool has_defer = false;
	bool has_any = false;
	static const int order[] = { DELIVER_RESULT_BOUNCED,
				     DELIVER_RESULT_SENT };
	int passed = 0;

	for (size_t i = 0; i < st->outcome_count; i++) {
		if (st->outcomes[i].index != index)
			continue;
		if (st->outcomes[i].kind == 'P') {
			passed = st->outcomes[i].reason[0];
			has_defer |= passed == DELIVER_RESULT_DEFERRED;
			continue;
		}
		has_any = true;
		if (st->outcomes[i].kind == DELIVER_RESULT_DEFERRED)
			has_defer = true;
	}
	/* Another transport already logged and updated the queue file. */
	if (passed != 0 &&
	    (st->req->results[index] == 0 || passed == DELIVER_RESULT_DEFERRED))
		st->req->results[index] = (char)passed;
	if (!has_any) {
		if (passed == 0)
			report_duplicate(st, index);
		return;
	}
	if (has_defer) {
		for (size_t i = 0; i < st->outcome_count; i++)
			if (st->outcomes[i].index == index &&
			    st->outcomes[i].kind == DELIVER_RESULT_DEFERRED)
				report_one(st, &st->outcomes[i],
					   DELIVER_RESULT_DEFERRED);
		return;
	}
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < st->outcome_count; i++)
			if (st->outcomes[i].index == index &&
			    st->outcomes[i].kind == order[k])
				report_one(st, &st->outcomes[i], order[k]);
}

/* ------------------------------------------------------------------ */
/* The message's Delivered-To: headers.                                 */

struct header_scan {
	struct strbuf line;
	struct strbuf value;
	struct htable *found;
	bool is_done;
};

static void
header_scan_line(struct header_scan *hs)
{
	if (local_delivered_header(strbuf_text(&hs->line),
				   strbuf_len(&hs->line), &hs->value))
		(void)htable_insert(hs->found, strbuf_text(&hs->value), NULL);
}

static int
header_scan_piece(const char *data, size_t len, bool is_line_end, void *ctx,
		  struct err *err)
{
	struct header_scan *hs = ctx;

	if (hs->is_done)
		return 0;
	(void)strbuf_append(&hs->line, data,
			    len > LOCAL_HEADER_MAX - hs->line.len
				    ? LOCAL_HEADER_MAX - hs->line.len
				    : len);
	if (!is_line_end)
		return 0;
	if (hs->line.len == 0) {
		hs->is_done = true; /* end of the primary headers */
		err_set(err, "done");
		return -1;
	}
	header_scan_line(hs);
	strbuf_reset(&hs->line);
	return 0;
}

/* The message's Delivered-To: values; NULL with err on a read error. */
static struct htable *
delivered_scan(struct deliver_request *req, struct err *err)
{
	struct header_scan hs = { .found = htable_create(8) };
	int ret;

	strbuf_init(&hs.line, LOCAL_HEADER_MAX);
	strbuf_init(&hs.value, LOCAL_HEADER_MAX);
	ret = deliver_content(req, header_scan_piece, &hs, err);
	strbuf_deinit(&hs.line);
	strbuf_deinit(&hs.value);
	if (ret < 0 && !hs.is_done) {
		htable_destroy(&hs.found, NULL);
		return NULL;
	}
	return hs.found;
}

/* ------------------------------------------------------------------ */
/* The request.                                                         */

static void
deliver_one(struct local_state *st, size_t index)
{
	const struct deliver_rcpt *rcpt = &st->req->rcpts[index];
	struct local_attr attr = {
		.level = 0,
		.address = rcpt->address,
		.orig_rcpt = rcpt->orig_rcpt,
		.sender = st->req->sender,
		.delivered = rcpt->address,
		.exp_type = LOCAL_EXP_NONE,
	};
	struct local_user nobody = { 0 };

	st->index = index;
	local_deliver_recipient(st, &attr, &nobody);
}

static void
state_free(struct local_state *st)
{
	for (size_t i = 0; i < st->outcome_count; i++) {
		free(st->outcomes[i].address);
		free(st->outcomes[i].reason);
	}
	free(st->outcomes);
	for (size_t i = 0; i < st->fwd_count; i++) {
		free(st->fwds[i].sender);
		free(st->fwds[i].delivered);
		for (size_t j = 0; j < st->fwds[i].count; j++)
			free(st->fwds[i].rcpts[j].address);
		free(st->fwds[i].rcpts);
	}
	free(st->fwds);
	htable_destroy(&st->dup_filter, NULL);
	htable_destroy(&st->delivered, NULL);
}

static void
local_serve(struct server *server, struct stream *client)
{
	struct local_server *ls = server->ctx;
	struct local_state st = { .ctx = &ls->ctx };
	struct err err;

	st.req = deliver_request_read(client, ls->ql, &err);
	if (st.req == NULL) {
		log_warning("%s", err.text);
		return;
	}
	st.delivered = delivered_scan(st.req, &err);
	if (st.delivered == NULL) {
		struct deliver_status status = {
			.relay = "local",
			.dsn = "4.3.0",
			.reason = "error reading message file",
		};

		log_warning("%s", err.text);
		deliver_all(st.req, DELIVER_RESULT_DEFERRED, &status);
	} else {
		st.dup_filter = htable_create(64);
		for (size_t i = 0; i < st.req->rcpt_count; i++)
			if (st.req->results[i] == 0)
				deliver_one(&st, i);
		local_forward_finish(&st);
		for (size_t i = 0; i < st.req->rcpt_count; i++)
			if (st.req->results[i] == 0)
				report_recipient(&st, i);
	}
	if (deliver_request_reply(client, st.req, DELIVER_STAT_OK, NULL, NULL,
				  &err) < 0)
		log_warning("%s: %s", st.req->queue_id, err.text);
	deliver_request_free(&st.req);
	state_free(&st);
}

/* ------------------------------------------------------------------ */
/* Start-up.                                                            */

static int
class_param(struct mail_conf *conf, const char *name,
	    const struct local_class_name *names)
{
	struct err err;
	int mask;

	if (local_class_parse(name, mail_conf_str(conf, name), names, &mask,
			      &err) < 0)
		log_fatal("%s", err.text);
	return mask;
}

/*
 * Parameters that local(8) expands itself ($user, $home, ...) or not at
 * all (mailbox_command): main.cf's raw text, or the default.
 */
static const char *
raw_param(struct mail_conf *conf, const char *name)
{
	const char *value = mail_conf_raw(conf, name);

	return value != NULL ? value : mail_conf_default(conf, name);
}

/* Postfix refuses a mailbox that cannot hold the largest message. */
static void
check_limits(struct mail_conf *conf, long long mailbox_size_limit)
{
	long long message_size_limit =
		mail_conf_size(conf, "message_size_limit");

	if (mailbox_size_limit == 0)
		return;
	if (message_size_limit == 0)
		log_fatal("configuration error: mailbox_size_limit is limited "
			  "but message_size_limit is unlimited");
	if (mailbox_size_limit < message_size_limit)
		log_fatal("configuration error: mailbox_size_limit is smaller "
			  "than message_size_limit");
}

static void
read_params(struct mail_conf *conf, struct local_params *p)
{
	struct err err;

	p->myhostname = mail_conf_str(conf, "myhostname");
	p->mail_name = mail_conf_str(conf, "mail_name");
	p->myorigin = mail_conf_str(conf, "myorigin");
	p->recipient_delimiter = mail_conf_str(conf, "recipient_delimiter");
	p->owner_request_special =
		mail_conf_bool(conf, "owner_request_special");
	p->expand_owner_alias = mail_conf_bool(conf, "expand_owner_alias");
	p->allow_mail_to_commands =
		class_param(conf, "allow_mail_to_commands", local_allow_names);
	p->allow_mail_to_files =
		class_param(conf, "allow_mail_to_files", local_allow_names);
	p->prepend_delivered_header = class_param(
		conf, "prepend_delivered_header", local_delivered_names);
	p->frozen_delivered_to = mail_conf_bool(conf, "frozen_delivered_to");
	p->enable_original_recipient =
		mail_conf_bool(conf, "enable_original_recipient");
	p->forward_path = argv_split_braced(raw_param(conf, "forward_path"),
					    TOKENS_LIST_DELIMS);
	p->home_mailbox = mail_conf_str(conf, "home_mailbox");
	p->mail_spool_directory = mail_conf_str(conf, "mail_spool_directory");
	p->mailbox_command = raw_param(conf, "mailbox_command");
	p->mailbox_transport = mail_conf_str(conf, "mailbox_transport");
	p->fallback_transport = mail_conf_str(conf, "fallback_transport");
	p->luser_relay = raw_param(conf, "luser_relay");
	p->command_execution_directory =
		raw_param(conf, "command_execution_directory");
	p->local_command_shell = mail_conf_str(conf, "local_command_shell");
	p->command_expansion_filter =
		mail_conf_str(conf, "command_expansion_filter");
	p->forward_expansion_filter =
		mail_conf_str(conf, "forward_expansion_filter");
	p->execution_directory_expansion_filter =
		mail_conf_str(conf, "execution_directory_expansion_filter");
	p->command_time_limit = mail_conf_time(conf, "command_time_limit");
	p->mailbox_size_limit = mail_conf_size(conf, "mailbox_size_limit");
	check_limits(conf, p->mailbox_size_limit);
	p->duplicate_filter_limit =
		mail_conf_int(conf, "duplicate_filter_limit");
	p->ipc_timeout = mail_conf_time(conf, "ipc_timeout");
	if (mailbox_lock_parse("mailbox_delivery_lock",
			       mail_conf_str(conf, "mailbox_delivery_lock"),
			       &p->mailbox_locks, &err) < 0)
		log_fatal("%s", err.text);
	p->strict_mailbox_ownership =
		mail_conf_bool(conf, "strict_mailbox_ownership");
	p->require_home_directory =
		mail_conf_bool(conf, "require_home_directory");
	p->export_environment = mail_conf_list(conf, "export_environment");
	p->default_privs = mail_conf_str(conf, "default_privs");
}

/* One maps per alias table; "proxy:" is ignored, as Postfix does. */
static void
open_alias_maps(struct local_ctx *ctx, struct mail_conf *conf)
{
	struct argv *specs = mail_conf_list(conf, "alias_maps");

	ctx->alias_specs = argv_create();
	ctx->alias_maps = xcalloc(specs->count + 1, sizeof(*ctx->alias_maps));
	for (size_t i = 0; i < specs->count; i++) {
		const char *spec = specs->items[i];

		if (str_has_prefix(spec, "proxy:"))
			spec += 6;
		argv_add(ctx->alias_specs, spec);
		ctx->alias_maps[i] =
			maps_create("alias_maps", spec, DICT_FLAG_NO_REGSUB);
	}
	argv_destroy(&specs);
}

static void
set_default_privs(struct local_ctx *ctx, struct mail_conf *conf)
{
	struct err err;
	int found;

	if (!ctx->is_root) {
		ctx->default_privs.uid = geteuid();
		ctx->default_privs.gid = getegid();
		return;
	}
	found = local_user_lookup(ctx->p.default_privs, &ctx->default_privs,
				  &err);
	if (found < 0)
		log_fatal("default_privs %s: %s", ctx->p.default_privs,
			  err.text);
	if (found == 0)
		log_fatal("file %s: parameter default_privs: unknown user "
			  "name value: %s",
			  mail_conf_path(conf), ctx->p.default_privs);
	if (ctx->default_privs.uid == 0)
		log_fatal("parameter default_privs: privileged default user "
			  "id");
}

static void
local_pre_init(struct server *server)
{
	struct local_server *ls = xcalloc(1, sizeof(*ls));
	struct mail_conf *conf = server->conf;

	ls->ctx.is_root = geteuid() == 0;
	read_params(conf, &ls->ctx.p);
	open_alias_maps(&ls->ctx, conf);
	ls->ctx.mailbox_command_maps =
		maps_create("mailbox_command_maps",
			    mail_conf_str(conf, "mailbox_command_maps"), 0);
	ls->ctx.mailbox_transport_maps =
		maps_create("mailbox_transport_maps",
			    mail_conf_str(conf, "mailbox_transport_maps"), 0);
	ls->ctx.fallback_transport_maps =
		maps_create("fallback_transport_maps",
			    mail_conf_str(conf, "fallback_transport_maps"), 0);
	server->ctx = ls;
}

static void
local_init(struct server *server)
{
	struct local_server *ls = server->ctx;
	struct err err;

	ls->ql = queue_layout_for_daemon(server->conf, &err);
	if (ls->ql == NULL)
		log_fatal("%s", err.text);
	ls->ctx.resolve = resolve_create(server->conf);
	ls->ctx.service_name = server->service_name;
	set_default_privs(&ls->ctx, server->conf);
}

static void
local_deinit(struct server *server)
{
	struct local_server *ls = server->ctx;

	if (ls == NULL)
		return;
	for (size_t i = 0;
	     ls->ctx.alias_specs != NULL && i < ls->ctx.alias_specs->count; i++)
		maps_destroy(&ls->ctx.alias_maps[i]);
	free(ls->ctx.alias_maps);
	argv_destroy(&ls->ctx.alias_specs);
	maps_destroy(&ls->ctx.mailbox_command_maps);
	maps_destroy(&ls->ctx.mailbox_transport_maps);
	maps_destroy(&ls->ctx.fallback_transport_maps);
	argv_destroy(&ls->ctx.p.forward_path);
	argv_destroy(&ls->ctx.p.export_environment);
	resolve_destroy(&ls->ctx.resolve);
	local_user_free(&ls->ctx.default_privs);
	queue_layout_destroy(&ls->ql);
	free(ls);
	server->ctx = NULL;
}

static const struct service_def local_service = {
	.name = "local",
	.kind = SKEL_SINGLE,
	.pre_init = local_pre_init,
	.post_init = local_init,
	.on_client = local_serve,
	.on_exit = local_deinit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &local_service);
}
