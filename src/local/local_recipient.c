/*
 * local_recipient.c - one recipient through local(8)'s order of delivery
 * methods: aliases, .forward files, the mailbox (mailbox_transport,
 * mailbox_command, home_mailbox, mail_spool_directory), and for unknown
 * users fallback_transport and luser_relay, else "unknown user".
 *
 * Also the destinations of an expansion ("|command", "/file",
 * ":include:", addresses): an address that resolves to this very
 * transport is delivered here, one level deeper; any other address is
 * forwarded as a new message (local_forward.c). Loops end at the
 * Delivered-To: check, the duplicate filter and LOCAL_MAX_LEVEL.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "global/alias_source.h"
#include "global/maps.h"
#include "global/resolve.h"
#include "local.h"
#include "util/dict.h"
#include "util/htable.h"
#include "util/log.h"
#include "util/mymalloc.h"

/* ------------------------------------------------------------------ */
/* Hand-off to another transport.                                       */

/* What the other agent said; it logged and updated the queue file. */
static void
pass_result(struct local_state *st, const struct local_attr *attr, int result)
{
	local_outcome(st, attr, 'P', "", "%c", result);
}

void
local_deliver_pass(struct local_state *st, struct local_attr *attr,
		   const char *transport)
{
	struct deliver_request req = *st->req;
	struct deliver_rcpt rcpt = st->req->rcpts[st->index];
	struct deliver_reply reply = { 0 };
	char *name = xstrdup(transport);
	char *colon = strchr(name, ':');
	char *path;
	struct err err;

	if (colon != NULL) {
		*colon = 0;
		if (colon[1] != 0)
			req.nexthop = colon + 1;
	}
	rcpt.address = (char *)attr->address;
	req.rcpts = &rcpt;
	req.rcpt_count = 1;
	path = xasprintf("private/%s", name);
	if (deliver_request_send(path, &req, (int)st->ctx->p.ipc_timeout * 1000,
				 &reply, &err) < 0) {
		log_warning("%s: %s", st->req->queue_id, err.text);
		local_outcome(st, attr, DELIVER_RESULT_DEFERRED, "4.3.0",
			      "mail transport unavailable");
	} else {
		pass_result(st, attr,
			    reply.results != NULL && reply.results[0] != 0
				    ? reply.results[0]
				    : DELIVER_RESULT_DEFERRED);
	}
	deliver_reply_free(&reply);
	free(path);
	free(name);
}

/* ------------------------------------------------------------------ */
/* Destinations.                                                        */

static int
exp_class(enum local_exp exp_type)
{
	switch (exp_type) {
	case LOCAL_EXP_ALIAS:
		return LOCAL_CLASS_ALIAS;
	case LOCAL_EXP_FORWARD:
		return LOCAL_CLASS_FORWARD;
	case LOCAL_EXP_INCLUDE:
		return LOCAL_CLASS_INCLUDE;
	default:
		return 0;
	}
}

/* An address destination: deliver here, or forward it. */
static void
deliver_address(struct local_state *st, struct local_attr *attr,
		const struct local_user *usr, const char *address)
{
	struct resolve_reply reply = { 0 };
	char *canon = resolve_rewrite(st->ctx->resolve, "local", address);
	struct local_attr child;

	if (resolve_addr(st->ctx->resolve, canon, &reply) < 0 ||
	    (reply.flags & RESOLVE_FLAG_FAIL)) {
		local_outcome(st, attr, DELIVER_RESULT_DEFERRED, "4.3.0",
			      "address resolver failure");
	} else if (reply.flags & RESOLVE_FLAG_ERROR) {
		local_outcome(st, attr, DELIVER_RESULT_BOUNCED, "5.1.3",
			      "bad recipient address syntax: %s",
			      reply.recipient);
	} else if (attr->exp_type != LOCAL_EXP_INCLUDE &&
		   (reply.flags & RESOLVE_CLASS_LOCAL) &&
		   strcmp(reply.transport, st->ctx->service_name) == 0) {
		child = *attr;
		child.level = attr->level + 1;
		child.address = reply.recipient;
		local_deliver_recipient(st, &child, usr);
	} else {
		local_forward_append(st, attr, reply.recipient);
	}
	resolve_reply_free(&reply);
	free(canon);
}

void
local_deliver_token(struct local_state *st, struct local_attr *attr,
		    const struct local_user *usr, const char *token)
{
	const char *target;

	switch (local_token_classify(token, &target)) {
	case LOCAL_TOKEN_FILE:
		local_deliver_file(st, attr, usr, target);
		break;
	case LOCAL_TOKEN_COMMAND:
		if ((st->ctx->p.allow_mail_to_commands &
		     exp_class(attr->exp_type)) == 0) {
			local_outcome(st, attr, DELIVER_RESULT_BOUNCED, "5.7.1",
				      "mail to command is restricted");
			break;
		}
		local_deliver_command(st, attr, usr, target, false);
		break;
	case LOCAL_TOKEN_INCLUDE:
		local_deliver_include(st, attr, usr, target);
		break;
	case LOCAL_TOKEN_ADDRESS:
		deliver_address(st, attr, usr, target);
		break;
	}
}

size_t
local_deliver_value(struct local_state *st, struct local_attr *attr,
		    const struct local_user *usr, const char *value)
{
	struct argv *tokens = alias_value_split(value);
	size_t count = tokens->count;

	for (size_t i = 0; i < tokens->count; i++)
		local_deliver_token(st, attr, usr, tokens->items[i]);
	argv_destroy(&tokens);
	return count;
}

/* ------------------------------------------------------------------ */
/* Unknown users.                                                       */

const char *
local_transport_find(struct local_state *st, struct local_attr *attr,
		     struct maps *maps, const char *param, bool *is_error)
{
	const char *value;
	struct err err;
	int ret;

	*is_error = false;
	if (maps != NULL && !maps_is_empty(maps)) {
		ret = maps_find(maps, attr->address, false, &value, &err);
		if (ret == DICT_FOUND)
			return value;
		if (ret == DICT_ERROR) {
			log_warning("%s: %s", st->req->queue_id, err.text);
			local_outcome(st, attr, DELIVER_RESULT_DEFERRED,
				      "4.3.0", "table lookup failure");
			*is_error = true;
			return NULL;
		}
	}
	return *param ? param : NULL;
}

static void
deliver_luser_relay(struct local_state *st, struct local_attr *attr)
{
	const struct local_vars vars = {
		.user = attr->parts.user,
		.recipient = attr->address,
		.extension = attr->parts.extension,
		.domain = attr->parts.domain,
		.local = attr->parts.local,
		.recipient_delimiter =
			attr->parts.delim[0] ? attr->parts.delim : NULL,
	};
	struct local_user nobody = { 0 };
	struct strbuf dest;
	struct err err;
	bool is_undef;

	strbuf_init(&dest, STRBUF_UNLIMITED);
	if (local_expand(st->ctx->p.luser_relay, &vars, NULL, &dest, &is_undef,
			 &err) < 0) {
		log_warning("luser_relay: %s", err.text);
		local_outcome(st, attr, DELIVER_RESULT_DEFERRED, "4.3.5",
			      "mail system configuration error");
	} else {
		deliver_address(st, attr, &nobody, strbuf_text(&dest));
	}
	strbuf_deinit(&dest);
}

static void
deliver_unknown(struct local_state *st, struct local_attr *attr)
{
	const char *transport;
	bool is_error;

	transport =
		local_transport_find(st, attr, st->ctx->fallback_transport_maps,
				     st->ctx->p.fallback_transport, &is_error);
	if (is_error)
		return;
	if (transport != NULL) {
		local_deliver_pass(st, attr, transport);
		return;
	}
	if (*st->ctx->p.luser_relay) {
		deliver_luser_relay(st, attr);
		return;
	}
	if (strcasecmp(attr->parts.user, "postmaster") == 0 ||
	    strcasecmp(attr->parts.user, "mailer-daemon") == 0) {
		log_warning("required alias not found: %s", attr->parts.user);
		local_outcome(st, attr, DELIVER_RESULT_SENT, "2.0.0",
			      "discarded");
		return;
	}
	local_outcome(st, attr, DELIVER_RESULT_BOUNCED, "5.1.1",
		      "unknown user: \"%s\"", attr->parts.local);
}

/* ------------------------------------------------------------------ */
/* One recipient.                                                       */

static void
deliver_switch(struct local_state *st, struct local_attr *attr,
	       const struct local_user *usr)
{
	if (*attr->parts.local == 0) {
		local_outcome(st, attr, DELIVER_RESULT_BOUNCED, "5.1.3",
			      "null username in \"%s\"", attr->address);
		return;
	}
	if (local_deliver_alias(st, attr, usr))
		return;
	if (local_deliver_dotforward(st, attr, usr))
		return;
	if (local_deliver_mailbox(st, attr))
		return;
	deliver_unknown(st, attr);
}

void
local_deliver_recipient(struct local_state *st, struct local_attr *attr,
			const struct local_user *usr)
{
	struct strbuf folded;
	bool is_bad_ext;
	bool is_loop;

	strbuf_init(&folded, STRBUF_UNLIMITED);
	strbuf_append_str(&folded, attr->address);
	for (size_t i = 0; i < folded.len; i++)
		if (folded.data[i] >= 'A' && folded.data[i] <= 'Z')
			folded.data[i] = (char)(folded.data[i] - 'A' + 'a');
	is_loop = htable_locate(st->delivered, strbuf_text(&folded)) != NULL;
	strbuf_deinit(&folded);
	if (is_loop) {
		local_outcome(st, attr, DELIVER_RESULT_BOUNCED, "5.4.6",
			      "mail forwarding loop for %s", attr->address);
		return;
	}
	if (local_been_here(st, "recipient %d %s", attr->level, attr->address))
		return;
	local_addr_split(attr->address, st->ctx->p.recipient_delimiter,
			 st->ctx->p.owner_request_special, &attr->parts,
			 &is_bad_ext);
	if (is_bad_ext)
		log_warning("%s: address with illegal extension: %s",
			    st->req->queue_id, attr->parts.local);
	if (attr->parts.domain == NULL)
		log_warning("no @ in recipient address: %s", attr->address);
	if (!st->ctx->p.frozen_delivered_to)
		attr->delivered = attr->address;
	if (attr->level > LOCAL_MAX_LEVEL) {
		log_warning("alias database loop for %s", attr->parts.local);
		local_outcome(st, attr, DELIVER_RESULT_BOUNCED, "5.4.6",
			      "alias database loop for %s", attr->parts.local);
	} else {
		deliver_switch(st, attr, usr);
	}
	local_addr_free(&attr->parts);
}
