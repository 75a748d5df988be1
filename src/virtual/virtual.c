/*
 * virtual.c - the virtual delivery agent: delivers to Maildirs and mbox
 * files named by virtual_mailbox_maps, for hosted domains.
 *
 * Skeleton: SKEL_SINGLE; master.cf "virtual unix - n n - - virtual".
 * Privileges: not chrooted and not dropped (unpriv = n), so that each
 * delivery can run with the effective uid/gid of the mailbox owner from
 * virtual_uid_maps / virtual_gid_maps (seteuid, and back to root after).
 * Started by an ordinary user it delivers as that user, after the same
 * uid/gid checks. It touches only the queue file of the request, the
 * per-message logs (through deliver_request.h) and the mailboxes below
 * virtual_mailbox_base. Tables are opened before the first request.
 */
#include <errno.h>
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "global/addr_map.h"
#include "global/deliver_request.h"
#include "global/mail_addr.h"
#include "global/mail_conf.h"
#include "global/mail_server.h"
#include "global/mailbox.h"
#include "global/maps.h"
#include "global/queue_file.h"
#include "util/dict.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"
#include "util/tokens.h"

#define VIRTUAL_RELAY "virtual"
#define CONFIG_ERROR_DSN "4.3.5"
#define CONFIG_ERROR_TEXT "mail system configuration error"

/* Parameters and tables, read once before the first request. */
struct virtual_state {
	struct queue_layout *ql;
	struct maps *mailbox_maps;
	struct maps *uid_maps;
	struct maps *gid_maps;
	const char *mailbox_base;
	const char *recipient_delimiter;
	long long minimum_uid;
	long long mailbox_limit;
	int locks;
	int lock_attempts;
	int lock_delay_ms;
	int stale_lock_time;
	bool enable_original_recipient;
};

/* One recipient on its way to its mailbox. */
struct virtual_rcpt {
	struct deliver_request *req;
	size_t index;
	char *key; /* the address, lowercased: what the tables see */
	char *mailbox;
	uid_t uid;
	gid_t gid;
};

/* ------------------------------------------------------------------ */
/* Set-up                                                               */

static void
virtual_open_maps(struct server *server)
{
	struct virtual_state *st = xmalloc(sizeof(*st));
	struct mail_conf *conf = server->conf;

	/* Tables may be readable by root only: open them while privileged. */
	st->mailbox_maps =
		maps_create("virtual_mailbox_maps",
			    mail_conf_str(conf, "virtual_mailbox_maps"),
			    DICT_FLAG_NO_REGSUB);
	st->uid_maps = maps_create("virtual_uid_maps",
				   mail_conf_str(conf, "virtual_uid_maps"),
				   DICT_FLAG_NO_REGSUB);
	st->gid_maps = maps_create("virtual_gid_maps",
				   mail_conf_str(conf, "virtual_gid_maps"),
				   DICT_FLAG_NO_REGSUB);
	server->ctx = st;
}

static void
warn_open_errors(const struct maps *maps)
{
	const struct argv *errors = maps_open_errors(maps);

	for (size_t i = 0; errors != NULL && i < errors->count; i++)
		log_warning("%s", errors->items[i]);
}

static void
virtual_init(struct server *server)
{
	struct virtual_state *st = server->ctx;
	struct mail_conf *conf = server->conf;
	struct err err;

	if ((st->ql = queue_layout_for_daemon(conf, &err)) == NULL)
		log_fatal("%s", err.text);
	if (mailbox_lock_parse("virtual_mailbox_lock",
			       mail_conf_str(conf, "virtual_mailbox_lock"),
			       &st->locks, &err) < 0)
		log_fatal("%s", err.text);
	st->mailbox_base = mail_conf_str(conf, "virtual_mailbox_base");
	st->recipient_delimiter = mail_conf_str(conf, "recipient_delimiter");
	st->minimum_uid = mail_conf_int(conf, "virtual_minimum_uid");
	st->mailbox_limit = mail_conf_int(conf, "virtual_mailbox_limit");
	st->lock_attempts = (int)mail_conf_int(conf, "deliver_lock_attempts");
	st->lock_delay_ms = (int)(mail_conf_time(conf, "deliver_lock_delay") *
				  1000);
	st->stale_lock_time = (int)mail_conf_time(conf, "stale_lock_time");
	st->enable_original_recipient =
		mail_conf_bool(conf, "enable_original_recipient");
	warn_open_errors(st->mailbox_maps);
	warn_open_errors(st->uid_maps);
	warn_open_errors(st->gid_maps);
}

static void
virtual_exit(struct server *server)
{
	struct virtual_state *st = server->ctx;

	maps_destroy(&st->mailbox_maps);
	maps_destroy(&st->uid_maps);
	maps_destroy(&st->gid_maps);
	queue_layout_destroy(&st->ql);
	free(st);
	server->ctx = NULL;
}

/* ------------------------------------------------------------------ */
/* Lookups                                                              */

/*
 * Postfix's search order: user+ext@domain, user@domain, @domain. Only
 * the whole address goes to pattern tables. The result is copied.
 */
static int
virtual_find(struct maps *maps, const char *key, const char *delimiters,
	     char **value_out, struct err *err)
{
	struct mail_addr_parts parts;
	const char *value;
	char *partial;
	size_t base;
	int ret;

	if ((ret = maps_find(maps, key, false, &value, err)) != DICT_NOTFOUND)
		goto done;
	mail_addr_split(key, &parts);
	if (parts.domain == NULL)
		return DICT_NOTFOUND;
	base = addr_map_ext_offset(parts.local, parts.local_len, delimiters);
	if (base < parts.local_len) {
		partial = xasprintf("%.*s@%s", (int)base, parts.local,
				    parts.domain);
		ret = maps_find(maps, partial, true, &value, err);
		free(partial);
		if (ret != DICT_NOTFOUND)
			goto done;
	}
	partial = xasprintf("@%s", parts.domain);
	ret = maps_find(maps, partial, true, &value, err);
	free(partial);
done:
	if (ret == DICT_FOUND)
		*value_out = xstrdup(value);
	return ret;
}

/* Report one outcome through deliver_request.h. */
static void
report(struct virtual_rcpt *vr, char kind, const char *dsn, const char *reason)
{
	struct deliver_status status = {
		.relay = VIRTUAL_RELAY,
		.dsn = dsn,
		.reason = reason,
	};
	struct err err;
	int ret;

	if (kind == DELIVER_RESULT_SENT)
		ret = deliver_sent(vr->req, vr->index, &status, &err);
	else if (kind == DELIVER_RESULT_BOUNCED)
		ret = deliver_bounced(vr->req, vr->index, &status, &err);
	else
		ret = deliver_deferred(vr->req, vr->index, &status, &err);
	if (ret < 0)
		log_warning("%s: %s", vr->req->queue_id, err.text);
}

/* A table failed: details in the log, a short reason in the report. */
static void
report_table_error(struct virtual_rcpt *vr, const struct maps *maps,
		   const struct err *err)
{
	char reason[200];

	log_warning("%s: %s", vr->req->queue_id, err->text);
	snprintf(reason, sizeof(reason), "%s lookup error", maps_title(maps));
	report(vr, DELIVER_RESULT_DEFERRED, "4.3.0", reason);
}

/* A positive decimal id; -1 if the text is not one. */
static long long
parse_id(const char *text)
{
	char *end;
	long long id;

	errno = 0;
	id = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *str_trim(end) != 0 || id < 0 ||
	    (long long)(uid_t)id != id)
		return -1;
	return id;
}

/*
 * Look up an owner id. 0 with *id_out, or -1 after reporting the
 * recipient deferred (not found, a bad id, or a table error).
 */
static int
find_owner_id(const struct virtual_state *st, struct virtual_rcpt *vr,
	      struct maps *maps, long long min_id, long long *id_out)
{
	struct err err;
	char *value = NULL;
	long long id;
	int ret = virtual_find(maps, vr->key, st->recipient_delimiter, &value,
			       &err);

	if (ret == DICT_ERROR) {
		report_table_error(vr, maps, &err);
		return -1;
	}
	if (ret == DICT_NOTFOUND) {
		log_warning("recipient %s: not found in %s", vr->key,
			    maps_title(maps));
		report(vr, DELIVER_RESULT_DEFERRED, CONFIG_ERROR_DSN,
		       CONFIG_ERROR_TEXT);
		return -1;
	}
	if ((id = parse_id(value)) < min_id) {
		log_warning("recipient %s: bad %s %s in %s", vr->key,
			    maps == st->uid_maps ? "uid" : "gid", value,
			    maps_title(maps));
		report(vr, DELIVER_RESULT_DEFERRED, CONFIG_ERROR_DSN,
		       CONFIG_ERROR_TEXT);
		free(value);
		return -1;
	}
	free(value);
	*id_out = id;
	return 0;
}

/*
 * Find the mailbox and its owner. 0 when vr is ready for delivery; -1
 * when the recipient has been reported (unknown user, table trouble).
 */
static int
virtual_resolve(const struct virtual_state *st, struct virtual_rcpt *vr)
{
	struct err err;
	char *value = NULL;
	char reason[ERR_TEXT_MAX];
	long long uid, gid;
	int ret = virtual_find(st->mailbox_maps, vr->key,
			       st->recipient_delimiter, &value, &err);

	if (ret == DICT_ERROR) {
		report_table_error(vr, st->mailbox_maps, &err);
		return -1;
	}
	if (ret == DICT_NOTFOUND) {
		snprintf(reason, sizeof(reason), "unknown user: \"%s\"",
			 vr->key);
		report(vr, DELIVER_RESULT_BOUNCED, "5.1.1", reason);
		return -1;
	}
	if (find_owner_id(st, vr, st->uid_maps, st->minimum_uid, &uid) < 0 ||
	    find_owner_id(st, vr, st->gid_maps, 1, &gid) < 0) {
		free(value);
		return -1;
	}
	vr->uid = (uid_t)uid;
	vr->gid = (gid_t)gid;
	if (*st->mailbox_base != 0)
		vr->mailbox = xasprintf("%s/%s", st->mailbox_base, value);
	else
		vr->mailbox = xstrdup(value);
	free(value);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Delivery                                                             */

/* As root, take on the owner's ids for the delivery. */
static void
become_owner(const struct virtual_rcpt *vr, bool is_root)
{
	if (!is_root)
		return;
	if (setgroups(1, &vr->gid) < 0 || setegid(vr->gid) < 0 ||
	    seteuid(vr->uid) < 0)
		log_fatal("set effective uid/gid %lu/%lu: %s",
			  (unsigned long)vr->uid, (unsigned long)vr->gid,
			  strerror(errno));
}

static void
become_root(bool is_root)
{
	if (!is_root)
		return;
	if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(0, NULL) < 0)
		log_fatal("restore root privileges: %s", strerror(errno));
}

static void
virtual_deliver_mailbox(const struct virtual_state *st, struct virtual_rcpt *vr)
{
	const struct deliver_rcpt *rcpt = &vr->req->rcpts[vr->index];
	size_t len = strlen(vr->mailbox);
	bool is_maildir = len > 0 && vr->mailbox[len - 1] == '/';
	bool is_root = geteuid() == 0;
	struct mailbox_msg msg = {
		.req = vr->req,
		.sender = vr->req->sender,
		.delivered_to = rcpt->address,
		.size_limit = st->mailbox_limit,
		.lock_attempts = st->lock_attempts,
		.lock_delay_ms = st->lock_delay_ms,
		.stale_lock_time = st->stale_lock_time,
	};
	struct mailbox_result result = { 0 };
	char reason[ERR_TEXT_MAX + 200];
	struct err err;
	int ret;
	int saved;

	if (vr->req->flags & DELIVER_FLAG_VERIFY) {
		report(vr, DELIVER_RESULT_SENT, "2.0.0",
		       is_maildir ? "delivers to maildir"
				  : "delivers to mailbox");
		return;
	}
	if (st->enable_original_recipient)
		msg.original_to =
			*rcpt->orig_rcpt ? rcpt->orig_rcpt : rcpt->address;
	become_owner(vr, is_root);
	if (is_maildir)
		ret = mailbox_maildir_deliver(vr->mailbox, &msg, &result, &err);
	else
		ret = mailbox_mbox_deliver(vr->mailbox, st->locks, &msg,
					   &result, &err);
	saved = errno;
	become_root(is_root);
	if (ret == 0) {
		report(vr, DELIVER_RESULT_SENT, "2.0.0",
		       is_maildir ? "delivered to maildir"
				  : "delivered to mailbox");
		return;
	}
	if (is_maildir && saved == EACCES) {
		log_warning("maildir access problem for UID/GID=%lu/%lu: %s",
			    (unsigned long)vr->uid, (unsigned long)vr->gid,
			    err.text);
		log_warning("perhaps you need to create the maildirs in "
			    "advance");
	}
	if (is_maildir)
		snprintf(reason, sizeof(reason), "maildir delivery failed: %s",
			 err.text);
	else
		snprintf(reason, sizeof(reason),
			 "delivery failed to mailbox %s: %s", vr->mailbox,
			 err.text);
	report(vr,
	       result.is_temporary ? DELIVER_RESULT_DEFERRED
				   : DELIVER_RESULT_BOUNCED,
	       result.dsn, reason);
}

static void
virtual_deliver_one(const struct virtual_state *st,
		    struct deliver_request *req, size_t index)
{
	struct virtual_rcpt vr = { .req = req, .index = index };

	vr.key = str_lowercase(xstrdup(req->rcpts[index].address));
	if (virtual_resolve(st, &vr) == 0)
		virtual_deliver_mailbox(st, &vr);
	free(vr.mailbox);
	free(vr.key);
}

static void
virtual_serve(struct server *server, struct stream *client)
{
	struct virtual_state *st = server->ctx;
	struct deliver_request *req;
	struct err err;

	if ((req = deliver_request_read(client, st->ql, &err)) == NULL) {
		log_warning("%s", err.text);
		return;
	}
	for (size_t i = 0; i < req->rcpt_count; i++)
		if (req->results[i] == 0)
			virtual_deliver_one(st, req, i);
	if (deliver_request_reply(client, req, DELIVER_STAT_OK, NULL, NULL,
				  &err) < 0)
		log_warning("%s: %s", req->queue_id, err.text);
	deliver_request_free(&req);
}

static const struct service_def virtual_service = {
	.name = "virtual",
	.kind = SKEL_SINGLE,
	.pre_init = virtual_open_maps,
	.post_init = virtual_init,
	.on_client = virtual_serve,
	.on_exit = virtual_exit,
};

int
main(int argc, char **argv)
{
	return skel_main(argc, argv, &virtual_service);
}
