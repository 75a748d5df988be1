/*
 * cleanup_rewrite.c - canonical maps, masquerading, virtual aliases and
 * automatic BCC recipients for the envelope, in Postfix's order:
 *   sender:    sender_canonical_maps, canonical_maps, masquerade_domains,
 *              then sender_bcc_maps adds a recipient;
 *   recipient: recipient_canonical_maps, canonical_maps, masquerading,
 *              virtual_alias_maps expands it, then recipient_bcc_maps
 *              (asked with the unexpanded address) adds a recipient,
 *              which is expanded too;
 *   always_bcc at the end of the envelope.
 * Each step obeys its *_classes parameter. The lookup rules live in
 * global/addr_map.c.
 * Headers (global/header_rewrite.h): each address of a sender header
 * (From, Sender, Reply-To, ...) or recipient header (To, Cc, ...) is
 * completed as trivial-rewrite does (resolve_rewrite: @$myorigin and
 * .$mydomain in context "local"), then goes through the same canonical
 * steps and masquerading, for the header_sender / header_recipient
 * classes. Mail from a remote client (rewrite_context=remote) gets no
 * header rewriting at all unless remote_header_rewrite_domain is set; then
 * bare addresses get that domain instead, as in Postfix.
 * Log lines are Postfix's, e.g.
 *   warning: QUEUEID: virtual_alias_maps map lookup problem for ADDR --
 *   message not accepted, try again later
 * Security: addresses and headers are untrusted; tables are the
 * administrator's.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "cleanup_rewrite.h"
#include "global/addr_map.h"
#include "global/cleanup_clnt.h"
#include "global/header_rewrite.h"
#include "global/mail_addr.h"
#include "global/maps.h"
#include "global/match_list.h"
#include "global/resolve.h"
#include "util/argv.h"
#include "util/dict.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/strbuf.h"

/* Address classes of the *_classes parameters. */
#define CLASS_ENV_FROM (1 << 0)
#define CLASS_ENV_RCPT (1 << 1)
#define CLASS_HDR_FROM (1 << 2)
#define CLASS_HDR_RCPT (1 << 3)

struct cleanup_rewrite {
	struct maps *canonical;
	struct maps *send_canon;
	struct maps *rcpt_canon;
	struct maps *virtual;
	struct maps *send_bcc;
	struct maps *rcpt_bcc;
	int canon_classes;
	int send_canon_classes;
	int rcpt_canon_classes;
	int masq_classes;
	struct argv *masq_domains;
	struct argv *masq_exceptions;
	bool want_canon_ext;   /* propagate_unmatched_extensions */
	bool want_virtual_ext; /* has canonical / virtual */
	char *always_bcc;
	char *myorigin;
	char *recipient_delimiter;
	struct match_list *mydestination;
	long recursion_limit;
	long expansion_limit;
	struct resolve *resolve; /* address completion for headers */
	bool has_remote_domain;  /* remote_header_rewrite_domain is set */
	size_t token_limit;      /* header_address_token_limit */
};

static int
parse_classes(struct mail_conf *conf, const char *pname)
{
	static const struct {
		const char *name;
		int bit;
	} names[] = {
		{ "envelope_sender", CLASS_ENV_FROM },
		{ "envelope_recipient", CLASS_ENV_RCPT },
		{ "header_sender", CLASS_HDR_FROM },
		{ "header_recipient", CLASS_HDR_RCPT },
	};
	struct argv *items = mail_conf_list(conf, pname);
	int classes = 0;
	size_t n;

	for (size_t i = 0; i < items->count; i++) {
		for (n = 0; n < sizeof(names) / sizeof(names[0]); n++)
			if (strcasecmp(items->items[i], names[n].name) == 0)
				break;
		if (n < sizeof(names) / sizeof(names[0]))
			classes |= names[n].bit;
		else
			log_warning("unknown %s value \"%s\" ignored", pname,
				    items->items[i]);
	}
	argv_destroy(&items);
	return classes;
}

static struct maps *
open_maps(struct mail_conf *conf, const char *pname)
{
	struct maps *maps = maps_create(pname, mail_conf_str(conf, pname), 0);
	const struct argv *errors = maps_open_errors(maps);

	for (size_t i = 0; i < errors->count; i++)
		log_warning("%s", errors->items[i]);
	return maps;
}

static bool
list_has(struct mail_conf *conf, const char *pname, const char *word)
{
	struct argv *items = mail_conf_list(conf, pname);
	bool found = false;

	for (size_t i = 0; i < items->count; i++)
		found |= strcasecmp(items->items[i], word) == 0;
	argv_destroy(&items);
	return found;
}

struct cleanup_rewrite *
cleanup_rewrite_create(struct mail_conf *conf)
{
	struct cleanup_rewrite *rw = xcalloc(1, sizeof(*rw));
	struct err err;

	rw->canonical = open_maps(conf, "canonical_maps");
	rw->send_canon = open_maps(conf, "sender_canonical_maps");
	rw->rcpt_canon = open_maps(conf, "recipient_canonical_maps");
	rw->virtual = open_maps(conf, "virtual_alias_maps");
	rw->send_bcc = open_maps(conf, "sender_bcc_maps");
	rw->rcpt_bcc = open_maps(conf, "recipient_bcc_maps");
	rw->canon_classes = parse_classes(conf, "canonical_classes");
	rw->send_canon_classes =
		parse_classes(conf, "sender_canonical_classes");
	rw->rcpt_canon_classes =
		parse_classes(conf, "recipient_canonical_classes");
	rw->masq_classes = parse_classes(conf, "masquerade_classes");
	rw->masq_domains = mail_conf_list(conf, "masquerade_domains");
	rw->masq_exceptions = mail_conf_list(conf, "masquerade_exceptions");
	rw->want_canon_ext =
		list_has(conf, "propagate_unmatched_extensions", "canonical");
	rw->want_virtual_ext =
		list_has(conf, "propagate_unmatched_extensions", "virtual");
	rw->always_bcc = xstrdup(mail_conf_str(conf, "always_bcc"));
	rw->myorigin = xstrdup(mail_conf_str(conf, "myorigin"));
	rw->recipient_delimiter =
		xstrdup(mail_conf_str(conf, "recipient_delimiter"));
	rw->mydestination =
		match_list_create("mydestination", MATCH_LIST_DOMAIN, 0,
				  mail_conf_str(conf, "mydestination"), &err);
	if (rw->mydestination == NULL)
		log_fatal("%s", err.text);
	rw->recursion_limit =
		(long)mail_conf_int(conf, "virtual_alias_recursion_limit");
	rw->expansion_limit =
		(long)mail_conf_int(conf, "virtual_alias_expansion_limit");
	rw->resolve = resolve_create(conf);
	rw->has_remote_domain =
		*mail_conf_str(conf, "remote_header_rewrite_domain") != 0;
	rw->token_limit =
		(size_t)mail_conf_int(conf, "header_address_token_limit");
	return rw;
}

void
cleanup_rewrite_destroy(struct cleanup_rewrite **rwp)
{
	struct cleanup_rewrite *rw = *rwp;

	if (rw == NULL)
		return;
	maps_destroy(&rw->canonical);
	maps_destroy(&rw->send_canon);
	maps_destroy(&rw->rcpt_canon);
	maps_destroy(&rw->virtual);
	maps_destroy(&rw->send_bcc);
	maps_destroy(&rw->rcpt_bcc);
	argv_destroy(&rw->masq_domains);
	argv_destroy(&rw->masq_exceptions);
	match_list_destroy(&rw->mydestination);
	resolve_destroy(&rw->resolve);
	free(rw->always_bcc);
	free(rw->myorigin);
	free(rw->recipient_delimiter);
	free(rw);
	*rwp = NULL;
}

/* The user-part lookups apply to $myorigin and $mydestination. */
static int
is_local_domain(const char *domain, void *ctx, struct err *err)
{
	struct cleanup_rewrite *rw = ctx;

	if (strcasecmp(domain, rw->myorigin) == 0)
		return 1;
	switch (match_list_match_domain(rw->mydestination, domain, err)) {
	case MATCH_LIST_MATCH:
		return 1;
	case MATCH_LIST_NO_MATCH:
		return 0;
	}
	return -1;
}

static void
ctx_init(struct cleanup_rewrite *rw, struct addr_map_ctx *ac)
{
	*ac = (struct addr_map_ctx){
		.recipient_delimiter = rw->recipient_delimiter,
		.is_local_domain = is_local_domain,
		.ctx = rw,
		.warnings = argv_create(),
	};
}

/* Log what the lookups found odd, then forget it. */
static void
ctx_deinit(struct cleanup_state *st, struct addr_map_ctx *ac)
{
	for (size_t i = 0; i < ac->warnings->count; i++)
		log_warning("%s: %s", st->queue_id, ac->warnings->items[i]);
	argv_destroy(&ac->warnings);
}

/* A failed step defers the message, as Postfix does. */
static void
defer(struct cleanup_state *st, int status, struct maps *maps, const char *addr,
      const struct err *err)
{
	if (status == ADDR_MAP_ERROR) {
		log_warning("%s", err->text);
		log_warning("%s: %s map lookup problem for %s -- message not "
			    "accepted, try again later",
			    st->queue_id, maps_title(maps), addr);
	} else {
		log_warning("%s: %s -- message not accepted, try again later",
			    st->queue_id, err->text);
	}
	st->errs |= CLEANUP_STAT_WRITE;
}

/* One canonical table list, if the class says so; 0 or -1 (deferred). */
static int
canon_step(struct cleanup_state *st, struct maps *maps, int classes, int class,
	   char **addrp)
{
	struct cleanup_rewrite *rw = st->params->rewrite;
	struct addr_map_ctx ac;
	struct err err;
	int ret;

	if ((classes & class) == 0 || maps_is_empty(maps))
		return 0;
	ctx_init(rw, &ac);
	ret = addr_map_canonical(maps, &ac, addrp, rw->want_canon_ext, &err);
	ctx_deinit(st, &ac);
	if (ret != ADDR_MAP_OK)
		defer(st, ret, maps, *addrp, &err);
	return ret == ADDR_MAP_OK ? 0 : -1;
}

static void
masq_step(struct cleanup_state *st, int class, char **addrp)
{
	struct cleanup_rewrite *rw = st->params->rewrite;
	char *masq;

	if ((rw->masq_classes & class) == 0)
		return;
	masq = addr_map_masquerade(*addrp, rw->masq_domains,
				   rw->masq_exceptions);
	if (masq != NULL) {
		free(*addrp);
		*addrp = masq;
	}
}

/* The canonical steps and masquerading for one address of a class. */
static int
canonicalize(struct cleanup_state *st, struct maps *own, int own_classes,
	     int class, char **addrp)
{
	struct cleanup_rewrite *rw = st->params->rewrite;

	if (**addrp == 0 || st->errs != 0)
		return 0;
	if (canon_step(st, own, own_classes, class, addrp) < 0 ||
	    canon_step(st, rw->canonical, rw->canon_classes, class, addrp) < 0)
		return -1;
	masq_step(st, class, addrp);
	return 0;
}

char *
cleanup_rewrite_sender(struct cleanup_state *st, const char *sender)
{
	struct cleanup_rewrite *rw = st->params->rewrite;
	char *addr = xstrdup(sender);

	(void)canonicalize(st, rw->send_canon, rw->send_canon_classes,
			   CLASS_ENV_FROM, &addr);
	return addr;
}

/* Virtual alias expansion, then out with the recipient's attributes. */
static void
expand_out(struct cleanup_state *st, const char *rcpt, const char *orcpt,
	   bool is_orcpt_given, const char *dsn_orcpt, const char *notify)
{
	struct cleanup_rewrite *rw = st->params->rewrite;
	struct addr_map_ctx ac;
	struct argv *list = argv_create();
	struct err err;
	int ret = ADDR_MAP_OK;

	if (st->errs != 0) {
		argv_destroy(&list);
		return;
	}
	if (maps_is_empty(rw->virtual)) {
		argv_add(list, rcpt);
	} else {
		ctx_init(rw, &ac);
		ret = addr_map_expand(rw->virtual, &ac, rcpt,
				      rw->want_virtual_ext, rw->recursion_limit,
				      rw->expansion_limit, list, &err);
		ctx_deinit(st, &ac);
	}
	if (ret != ADDR_MAP_OK)
		defer(st, ret, rw->virtual, rcpt, &err);
	/* The original recipient goes with every address it became. */
	for (size_t i = 0; ret == ADDR_MAP_OK && i < list->count; i++) {
		const char *item = list->items[i];
		bool want_orcpt = is_orcpt_given || strcmp(item, orcpt) != 0;

		cleanup_rewrite_out(st, item, want_orcpt ? orcpt : NULL,
				    dsn_orcpt, notify);
	}
	argv_destroy(&list);
}

/* Look addr up in a BCC table and add what it names. */
static void
bcc_lookup(struct cleanup_state *st, struct maps *maps, const char *addr)
{
	struct cleanup_rewrite *rw = st->params->rewrite;
	struct addr_map_ctx ac;
	struct argv *res = NULL;
	struct err err;
	int ret;

	if (maps_is_empty(maps) || *addr == 0 || st->errs != 0)
		return;
	ctx_init(rw, &ac);
	ret = addr_map_find(maps, &ac, addr, false, &res, &err);
	ctx_deinit(st, &ac);
	if (ret == DICT_ERROR)
		defer(st, ADDR_MAP_ERROR, maps, addr, &err);
	if (ret == DICT_FOUND && res->count > 0)
		expand_out(st, res->items[0], res->items[0], true, NULL, NULL);
	argv_destroy(&res);
}

void
cleanup_rewrite_sender_bcc(struct cleanup_state *st)
{
	if (st->errs == 0 && st->sender != NULL)
		bcc_lookup(st, st->params->rewrite->send_bcc, st->sender);
}

void
cleanup_rewrite_recipient(struct cleanup_state *st, const char *rcpt)
{
	struct cleanup_rewrite *rw = st->params->rewrite;
	char *addr = xstrdup(rcpt);

	if (canonicalize(st, rw->rcpt_canon, rw->rcpt_canon_classes,
			 CLASS_ENV_RCPT, &addr) == 0) {
		expand_out(st, addr, st->orcpt ? st->orcpt : rcpt,
			   st->orcpt != NULL, st->dsn_orcpt, st->notify);
		bcc_lookup(st, rw->rcpt_bcc, addr);
	}
	free(addr);
}

void
cleanup_rewrite_always_bcc(struct cleanup_state *st)
{
	const char *bcc = st->params->rewrite->always_bcc;
	char *addr;

	if (*bcc == 0 || st->rcpt_count == 0 || st->errs != 0)
		return;
	addr = mail_addr_unquote(bcc);
	expand_out(st, addr, addr, true, NULL, NULL);
	free(addr);
}

/* What the per-address callback of a header needs. */
struct header_ctx {
	struct cleanup_state *st;
	const char *context; /* "local" or "remote" */
	struct maps *own;    /* sender_ or recipient_canonical_maps */
	int own_classes;
	int class; /* CLASS_HDR_FROM or CLASS_HDR_RCPT */
};

static int
rewrite_header_addr(char **addrp, void *ctx)
{
	struct header_ctx *hc = ctx;
	struct cleanup_rewrite *rw = hc->st->params->rewrite;
	char *done;

	if (**addrp == 0)
		return 0;
	done = resolve_rewrite(rw->resolve, hc->context, *addrp);
	free(*addrp);
	*addrp = done;
	return canonicalize(hc->st, hc->own, hc->own_classes, hc->class, addrp);
}

bool
cleanup_rewrite_has_header_context(const struct cleanup_state *st)
{
	return (st->flags & CLEANUP_FLAG_LOCAL) != 0 ||
	       st->params->rewrite->has_remote_domain;
}

char *
cleanup_rewrite_header(struct cleanup_state *st, const char *text, size_t len)
{
	struct cleanup_rewrite *rw = st->params->rewrite;
	enum header_rewrite_class hclass = header_rewrite_class(text, len);
	bool is_local = (st->flags & CLEANUP_FLAG_LOCAL) != 0;
	struct header_ctx hc = {
		.st = st,
		.context = is_local ? "local" : "remote",
	};
	struct strbuf out;
	char *result = NULL;

	if (hclass == HEADER_REWRITE_NONE || st->errs != 0 ||
	    !cleanup_rewrite_has_header_context(st))
		return NULL;
	if (hclass == HEADER_REWRITE_SENDER) {
		hc.own = rw->send_canon;
		hc.own_classes = rw->send_canon_classes;
		hc.class = CLASS_HDR_FROM;
	} else {
		hc.own = rw->rcpt_canon;
		hc.own_classes = rw->rcpt_canon_classes;
		hc.class = CLASS_HDR_RCPT;
	}
	strbuf_init(&out, STRBUF_UNLIMITED);
	if (header_rewrite(text, len, rw->token_limit, rewrite_header_addr, &hc,
			   &out) > 0)
		result = xstrdup(strbuf_text(&out));
	strbuf_deinit(&out);
	return result;
}
