/*
 * local_forward.c - .forward files, and forwarding as a new message.
 *
 * .forward: for a user in the passwd file, the first file of
 * forward_path that exists (read with the user's rights, a regular file
 * owned by the user or root and not world writable) lists the user's
 * destinations, one or more per line; a user listed in their own file
 * gets the mailbox, and an empty file means no forwarding.
 * Forwarding: every address that is not delivered here is collected per
 * (sender, Delivered-To) and, at the end of the request, submitted to
 * cleanup as one new message that keeps the original recipient and DSN
 * attributes ("forwarded as ID"), as Postfix does for reliability: each
 * new recipient gets its own queue file record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "global/cleanup_clnt.h"
#include "global/header_fix.h"
#include "global/rec_type.h"
#include "local.h"
#include "util/log.h"
#include "util/mymalloc.h"

/* ------------------------------------------------------------------ */
/* .forward                                                             */

static void
forward_vars(const struct local_attr *attr, const struct local_user *usr,
	     struct local_vars *vars)
{
	memset(vars, 0, sizeof(*vars));
	vars->user = attr->parts.user;
	vars->home = usr->home;
	vars->shell = usr->shell;
	vars->recipient = attr->address;
	vars->extension = attr->parts.extension;
	vars->domain = attr->parts.domain;
	vars->local = attr->parts.local;
	vars->recipient_delimiter =
		attr->parts.delim[0] ? attr->parts.delim : NULL;
}

/* Read one .forward candidate: 1 read (data), 0 try the next. */
static int
read_forward(struct local_state *st, const struct local_user *usr,
	     const char *path, struct strbuf *data)
{
	struct local_file_read fr = { .path = path, .what = "file" };
	struct local_result res;
	long owner;

	local_run_as(st->ctx, usr->uid, usr->gid, local_read_file, &fr, &res,
		     data);
	if (res.kind == 0) {
		if (res.reason[0] != 0)
			log_warning("%s", res.reason);
		return 0;
	}
	owner = strtol(res.reason, NULL, 10);
	if (owner != 0 && owner != (long)usr->uid) {
		log_warning("file %s has bad owner uid %ld", path, owner);
		return 0;
	}
	return 1;
}

/* Deliver what the user's .forward says: 1 done, 0 use the mailbox. */
static int
deliver_forward_file(struct local_state *st, struct local_attr *attr,
		     const struct local_user *usr, const char *path)
{
	struct local_attr child = *attr;
	struct strbuf data;
	size_t count;

	strbuf_init(&data, LOCAL_FILE_MAX);
	if (!read_forward(st, usr, path, &data)) {
		strbuf_deinit(&data);
		return -1;
	}
	child.exp_type = LOCAL_EXP_FORWARD;
	child.exp_from = attr->parts.user;
	count = local_deliver_lines(st, &child, usr, data.data);
	strbuf_deinit(&data);
	return count > 0;
}

bool
local_deliver_dotforward(struct local_state *st, struct local_attr *attr,
			 const struct local_user *unused)
{
	struct local_user usr;
	struct local_vars vars;
	struct strbuf path;
	struct err err;
	bool is_undef;
	int found;
	int ret = -1;

	(void)unused;
	if (attr->exp_type == LOCAL_EXP_FORWARD && attr->exp_from != NULL &&
	    strcmp(attr->exp_from, attr->parts.user) == 0)
		return false;
	found = local_user_lookup(attr->parts.user, &usr, &err);
	if (found < 0) {
		log_warning("%s", err.text);
		local_outcome(st, attr, DELIVER_RESULT_DEFERRED, "4.0.0",
			      "user lookup error");
		return true;
	}
	if (found == 0)
		return false;
	forward_vars(attr, &usr, &vars);
	strbuf_init(&path, STRBUF_UNLIMITED);
	for (size_t i = 0; ret < 0 && i < st->ctx->p.forward_path->count; i++) {
		const char *pattern = st->ctx->p.forward_path->items[i];

		strbuf_reset(&path);
		if (local_expand(pattern, &vars,
				 st->ctx->p.forward_expansion_filter, &path,
				 &is_undef, &err) < 0) {
			log_warning("forward_path: %s", err.text);
			continue;
		}
		if (is_undef || path.len == 0)
			continue;
		if (local_been_here(st, "forward %s", strbuf_text(&path))) {
			ret = 1;
			break;
		}
		ret = deliver_forward_file(st, attr, &usr, strbuf_text(&path));
	}
	strbuf_deinit(&path);
	local_user_free(&usr);
	return ret > 0;
}

/* ------------------------------------------------------------------ */
/* Forwarding.                                                          */

static struct local_fwd *
fwd_batch(struct local_state *st, const char *sender, const char *delivered,
	  size_t *index_out)
{
	struct local_fwd *f;

	for (size_t i = 0; i < st->fwd_count; i++) {
		f = &st->fwds[i];
		if (strcmp(f->sender, sender) == 0 &&
		    ((f->delivered == NULL && delivered == NULL) ||
		     (f->delivered != NULL && delivered != NULL &&
		      strcmp(f->delivered, delivered) == 0))) {
			*index_out = i;
			return f;
		}
	}
	st->fwds =
		xreallocarray(st->fwds, st->fwd_count + 1, sizeof(*st->fwds));
	f = &st->fwds[st->fwd_count];
	memset(f, 0, sizeof(*f));
	f->sender = xstrdup(sender);
	f->delivered = delivered ? xstrdup(delivered) : NULL;
	*index_out = st->fwd_count++;
	return f;
}

void
local_forward_append(struct local_state *st, struct local_attr *attr,
		     const char *address)
{
	const char *delivered =
		(st->ctx->p.prepend_delivered_header & LOCAL_DELIVERED_FORWARD)
			? attr->delivered
			: NULL;
	struct local_fwd *f;
	size_t batch;

	if (local_been_here(st, "indirect %s", address))
		return;
	f = fwd_batch(st, attr->sender, delivered, &batch);
	if (f->count == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 4;
		f->rcpts = xreallocarray(f->rcpts, f->cap, sizeof(*f->rcpts));
	}
	f->rcpts[f->count].address = xstrdup(address);
	f->rcpts[f->count].index = st->index;
	f->count++;
	local_outcome(st, attr, 0, "", "forward");
	st->outcomes[st->outcome_count - 1].fwd = batch;
}

/* Content pieces to cleanup, as they come from the queue file. */
static int
copy_piece(const char *data, size_t len, bool is_line_end, void *ctx,
	   struct err *err)
{
	return cleanup_content_line(ctx, data, len, !is_line_end, err);
}

/* A verify probe stays one when forwarded: its report goes on. */
static int
send_trace_flags(struct cleanup_clnt *cc, const struct deliver_request *req,
		 struct err *err)
{
	char value[16];

	if ((req->flags & DELIVER_FLAG_VERIFY) == 0)
		return 0;
	snprintf(value, sizeof(value), "%d", REC_TRACE_FLAG_VERIFY);
	return cleanup_attr(cc, REC_ATTR_TRACE_FLAGS, value, err);
}

static int
send_envelope(struct cleanup_clnt *cc, struct local_state *st,
	      const struct local_fwd *f, struct err *err)
{
	const struct deliver_request *req = st->req;

	if (cleanup_arrival(cc, &req->arrival, err) < 0 ||
	    cleanup_sender(cc, f->sender, err) < 0 ||
	    send_trace_flags(cc, req, err) < 0 ||
	    (*req->dsn_envid && cleanup_dsn_envid(cc, req->dsn_envid, err) < 0))
		return -1;
	for (size_t i = 0; i < f->count; i++) {
		const struct deliver_rcpt *r = &req->rcpts[f->rcpts[i].index];
		const char *orcpt = *r->orig_rcpt ? r->orig_rcpt : r->address;

		if (cleanup_recipient(
			    cc, f->rcpts[i].address,
			    st->ctx->p.enable_original_recipient ? orcpt : NULL,
			    *r->dsn_orcpt ? r->dsn_orcpt : NULL, r->dsn_notify,
			    err) < 0)
			return -1;
	}
	return 0;
}

static int
send_headers(struct cleanup_clnt *cc, struct local_state *st,
	     const struct local_fwd *f, struct err *err)
{
	struct strbuf line;
	int ret;

	strbuf_init(&line, STRBUF_UNLIMITED);
	strbuf_printf(&line, "Received: by %s (%s)", st->ctx->p.myhostname,
		      st->ctx->p.mail_name);
	ret = cleanup_content_line(cc, line.data, line.len, false, err);
	strbuf_reset(&line);
	strbuf_printf(&line, "\tid %s; ", cleanup_queue_id(cc));
	header_fix_date(time(NULL), &line);
	if (ret == 0)
		ret = cleanup_content_line(cc, line.data, line.len, false, err);
	if (ret == 0 && f->delivered != NULL) {
		strbuf_reset(&line);
		strbuf_printf(&line, "Delivered-To: %s", f->delivered);
		ret = cleanup_content_line(cc, line.data, line.len, false, err);
	}
	strbuf_deinit(&line);
	return ret;
}

/* Submit one batch; 0 with the new queue ID, or -1 with err. */
static int
forward_send(struct local_state *st, const struct local_fwd *f, char *id_out,
	     size_t id_size, struct err *err)
{
	struct cleanup_result result;
	struct cleanup_clnt *cc;

	cc = cleanup_open("public/cleanup", 0,
			  (int)st->ctx->p.ipc_timeout * 1000, NULL, err);
	if (cc == NULL)
		return -1;
	snprintf(id_out, id_size, "%s", cleanup_queue_id(cc));
	if (send_envelope(cc, st, f, err) < 0 ||
	    send_headers(cc, st, f, err) < 0 ||
	    deliver_content(st->req, copy_piece, cc, err) < 0) {
		cleanup_abort(&cc);
		return -1;
	}
	return cleanup_finish(&cc, &result, err);
}

static void
forward_settle(struct local_state *st, size_t batch, int kind, const char *dsn,
	       const char *reason)
{
	for (size_t i = 0; i < st->outcome_count; i++) {
		struct local_outcome *o = &st->outcomes[i];

		if (o->kind != 0 || o->fwd != batch)
			continue;
		o->kind = kind;
		snprintf(o->dsn, sizeof(o->dsn), "%s", dsn);
		free(o->reason);
		o->reason = xstrdup(reason);
	}
}

void
local_forward_finish(struct local_state *st)
{
	char id[64];
	char *reason;
	struct err err;

	for (size_t i = 0; i < st->fwd_count; i++) {
		if (forward_send(st, &st->fwds[i], id, sizeof(id), &err) < 0) {
			log_warning("%s: %s", st->req->queue_id, err.text);
			forward_settle(st, i, DELIVER_RESULT_DEFERRED, "4.3.0",
				       "unable to forward message");
			continue;
		}
		reason = xasprintf("forwarded as %s", id);
		forward_settle(st, i, DELIVER_RESULT_SENT, "2.0.0", reason);
		free(reason);
	}
}
