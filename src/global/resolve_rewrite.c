/*
 * resolve_rewrite.c - trivial-rewrite's "rewrite" operation: make an
 * address canonical in context "local" (complete it with @myorigin and
 * .mydomain) or "remote" (with remote_header_rewrite_domain, or not at
 * all when that is empty). Before completing, a source route is dropped,
 * a trailing dot removed, and an address without '@' gets its bang path
 * swapped (swap_bangpath: "site!user" -> "user@site") or its last '%'
 * made an '@' (allow_percent_hack), as Postfix 3.7 does.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"

#include "global/resolve_priv.h"

char *
resolve_dot_domain(const struct resolve *r, char *addr, const char *dot_domain)
{
	char *at = strrchr(addr, '@');
	char *out;

	if (!r->append_dot_mydomain || *dot_domain == 0 || at == NULL ||
	    at[1] == 0 || at[1] == '[' || strchr(at + 1, '.') != NULL)
		return addr;
	out = xasprintf("%s.%s", addr, dot_domain);
	free(addr);
	return out;
}

/* "@a,@b:user@dom" -> "user@dom". */
static char *
strip_source_route(const char *addr)
{
	const char *colon = strchr(addr, ':');

	if (addr[0] == '@' && colon != NULL)
		return xstrdup(colon + 1);
	return xstrdup(addr);
}

/* "user@dom." -> "user@dom"; true if a dot was removed. */
static bool
strip_trailing_dot(char *addr)
{
	char *at = strrchr(addr, '@');
	size_t len = strlen(addr);

	if (at == NULL || len < (size_t)(at - addr) + 3 || addr[len - 1] != '.')
		return false;
	addr[len - 1] = 0;
	return true;
}

/* An address without '@': bang path or percent hack; new string. */
static char *
route_local_part(const struct resolve *r, char *addr)
{
	char *bang = r->swap_bangpath ? strchr(addr, '!') : NULL;
	char *pct = r->allow_percent_hack ? strrchr(addr, '%') : NULL;
	char *out;

	if (bang != NULL && bang > addr && bang[1] != 0) {
		out = xasprintf("%s@%.*s", bang + 1, (int)(bang - addr), addr);
		free(addr);
		return out;
	}
	if (pct != NULL)
		*pct = '@';
	return addr;
}

char *
resolve_rewrite(struct resolve *r, const char *context, const char *addr)
{
	bool is_remote = context != NULL && strcmp(context, "remote") == 0;
	const char *origin = is_remote ? r->remote_domain : r->myorigin;
	const char *dot_domain = is_remote ? r->remote_domain : r->mydomain;
	char *cur;

	if (*addr == 0)
		return xstrdup("");
	cur = strip_source_route(addr);
	/* "user@host." is complete already: no .mydomain for it. */
	if (strip_trailing_dot(cur))
		return cur;
	if (strchr(cur, '@') == NULL)
		cur = route_local_part(r, cur);
	if (strchr(cur, '@') == NULL && r->append_at_myorigin && *origin != 0) {
		char *full = xasprintf("%s@%s", cur, origin);

		free(cur);
		cur = full;
	}
	return resolve_dot_domain(r, cur, dot_domain);
}
