/*
 * local_alias.c - aliases(5) and :include: files for the local delivery
 * agent.
 *
 * The local part is looked up in each alias_maps table in turn, then,
 * when it has an extension, the bare user. An alias found is expanded
 * with the rights of the table's owner (default_privs when root owns
 * it); "owner-NAME", when it exists too, becomes the sender of what the
 * expansion forwards. An alias that lists itself delivers to the user
 * instead. :include: files are read with the rights of the context that
 * names them; their addresses are always forwarded as a new message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "global/alias_source.h"
#include "global/maps.h"
#include "global/resolve.h"
#include "local.h"
#include "util/dict.h"
#include "util/log.h"
#include "util/mymalloc.h"
#include "util/tokens.h"

/* ------------------------------------------------------------------ */
/* Whose rights an alias table gives.                                   */

/* The file behind "type:name", or NULL for tables without one. */
static char *
table_file(const char *spec)
{
	static const struct {
		const char *type;
		const char *suffix;
	} types[] = {
		{ "hash:", ".db" },  { "btree:", ".db" }, { "lmdb:", ".lmdb" },
		{ "texthash:", "" }, { "regexp:", "" },   { "pcre:", "" },
		{ "cidr:", "" },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (str_has_prefix(spec, types[i].type))
			return xasprintf("%s%s", spec + strlen(types[i].type),
					 types[i].suffix);
	return NULL;
}

/* The table owner's rights, or default_privs for root or no owner. */
static void
alias_owner(struct local_state *st, const char *spec, struct local_user *out)
{
	char *file = table_file(spec);
	struct stat sb;
	struct err err;

	memset(out, 0, sizeof(*out));
	if (file != NULL && stat(file, &sb) == 0 && sb.st_uid != 0 &&
	    local_user_by_uid(sb.st_uid, out, &err) > 0) {
		free(file);
		return;
	}
	free(file);
	local_user_copy(out, &st->ctx->default_privs);
}

/* ------------------------------------------------------------------ */
/* The owner- alias.                                                    */

static char *
owner_sender(struct local_state *st, struct maps *maps, const char *name)
{
	char *owner = xasprintf("owner-%s", name);
	const char *value;
	char *sender = NULL;
	struct err err;

	if (maps_find(maps, owner, true, &value, &err) == DICT_FOUND) {
		const char *use = owner;
		struct argv *addrs = NULL;

		if (st->ctx->p.expand_owner_alias) {
			addrs = alias_value_split(value);
			if (addrs->count > 0)
				use = addrs->items[0];
		}
		sender = resolve_rewrite(st->ctx->resolve, "local", use);
		argv_destroy(&addrs);
	}
	free(owner);
	return sender;
}

/* ------------------------------------------------------------------ */
/* Alias expansion.                                                     */

static void
expand_alias(struct local_state *st, struct local_attr *attr, size_t table,
	     const char *name, const char *value)
{
	struct local_ctx *ctx = st->ctx;
	struct local_attr child = *attr;
	struct local_user owner;
	char *sender = NULL;
	size_t count;

	if (ctx->p.owner_request_special && !str_has_prefix(name, "owner-"))
		sender = owner_sender(st, ctx->alias_maps[table], name);
	if (sender != NULL)
		child.sender = sender;
	child.exp_type = LOCAL_EXP_ALIAS;
	child.exp_from = name;
	alias_owner(st, ctx->alias_specs->items[table], &owner);
	count = local_deliver_value(st, &child, &owner, value);
	if (count == 0) {
		log_warning("no recipient in alias lookup result for %s", name);
		local_outcome(st, attr, DELIVER_RESULT_DEFERRED, "4.3.0",
			      "alias database unavailable");
	}
	local_user_free(&owner);
	free(sender);
}

/* Look name up in every table: 1 done, 0 not found. */
static int
try_alias(struct local_state *st, struct local_attr *attr, const char *name)
{
	struct local_ctx *ctx = st->ctx;
	const char *value;
	struct err err;
	char *copy;
	int ret;

	for (size_t i = 0; i < ctx->alias_specs->count; i++) {
		ret = maps_find(ctx->alias_maps[i], name, true, &value, &err);
		if (ret == DICT_NOTFOUND)
			continue;
		if (ret == DICT_ERROR) {
			log_warning("%s: %s", st->req->queue_id, err.text);
			local_outcome(st, attr, DELIVER_RESULT_DEFERRED,
				      "4.3.0", "alias database unavailable");
			return 1;
		}
		/* The next lookup may reuse the table's buffer. */
		copy = xstrdup(value);
		expand_alias(st, attr, i, name, copy);
		free(copy);
		return 1;
	}
	return 0;
}

bool
local_deliver_alias(struct local_state *st, struct local_attr *attr,
		    const struct local_user *usr)
{
	(void)usr;
	if (attr->exp_type == LOCAL_EXP_ALIAS && attr->exp_from != NULL &&
	    strcmp(attr->exp_from, attr->parts.local) == 0)
		return false;
	if (try_alias(st, attr, attr->parts.local))
		return true;
	if (attr->parts.extension == NULL)
		return false;
	if (attr->exp_type == LOCAL_EXP_ALIAS && attr->exp_from != NULL &&
	    strcmp(attr->exp_from, attr->parts.user) == 0)
		return false;
	return try_alias(st, attr, attr->parts.user) != 0;
}

/* ------------------------------------------------------------------ */
/* :include: files.                                                     */

void
local_read_file(void *ctx, struct local_result *res, struct strbuf *data)
{
	struct local_file_read *fr = ctx;
	struct stat sb;
	char buf[8192];
	ssize_t n;
	int fd;

	res->kind = 0;
	fd = open(fr->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			local_result_set(res, 0, "", "cannot open %s %s: %s",
					 fr->what, fr->path, strerror(errno));
		return;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		local_result_set(res, 0, "", "%s %s is not a regular file",
				 fr->what, fr->path);
	} else if (sb.st_mode & S_IWOTH) {
		local_result_set(res, 0, "", "%s %s is world writable",
				 fr->what, fr->path);
	} else {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			if (strbuf_append(data, buf, (size_t)n) < 0)
				break;
		if (n < 0)
			local_result_set(res, 0, "", "error reading %s %s: %s",
					 fr->what, fr->path, strerror(errno));
		else
			local_result_set(res, DELIVER_RESULT_SENT, "", "%ld",
					 (long)sb.st_uid);
	}
	(void)close(fd);
}

size_t
local_deliver_lines(struct local_state *st, struct local_attr *attr,
		    const struct local_user *usr, char *text)
{
	char *cursor = text;
	char *line;
	size_t count = 0;

	while ((line = strsep(&cursor, "\n")) != NULL) {
		line = str_trim(line);
		if (*line == 0 || *line == '#')
			continue;
		count += local_deliver_value(st, attr, usr, line);
	}
	return count;
}

void
local_deliver_include(struct local_state *st, struct local_attr *attr,
		      const struct local_user *usr, const char *path)
{
	struct local_file_read fr = { .path = path, .what = ":include: file" };
	struct local_attr child = *attr;
	struct local_user owner = { 0 };
	struct local_result res;
	struct strbuf data;
	struct err err;
	uid_t file_uid;

	if (*path != '/') {
		local_outcome(st, attr, DELIVER_RESULT_BOUNCED, "5.3.5",
			      ":include:%s uses a relative path", path);
		return;
	}
	if (local_been_here(st, "include %ld %s", (long)usr->uid, path))
		return;
	strbuf_init(&data, LOCAL_FILE_MAX);
	local_run_as(st->ctx, usr->uid, usr->gid, local_read_file, &fr, &res,
		     &data);
	if (res.kind == 0) {
		if (res.reason[0] == 0)
			snprintf(res.reason, sizeof(res.reason),
				 "cannot open include file %s: %s", path,
				 strerror(ENOENT));
		log_warning("%s: %s", st->req->queue_id, res.reason);
		local_outcome(st, attr, DELIVER_RESULT_BOUNCED, "5.3.5", "%s",
			      res.reason);
		strbuf_deinit(&data);
		return;
	}
	file_uid = (uid_t)strtol(res.reason, NULL, 10);
	/* A non-root owner's file runs with that owner's rights. */
	if (file_uid == 0 || file_uid == usr->uid ||
	    local_user_by_uid(file_uid, &owner, &err) <= 0)
		local_user_copy(&owner, usr);
	child.exp_type = LOCAL_EXP_INCLUDE;
	child.exp_from = path;
	(void)local_deliver_lines(st, &child, &owner, data.data);
	local_user_free(&owner);
	strbuf_deinit(&data);
}
