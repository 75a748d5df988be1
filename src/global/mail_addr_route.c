/*
 * mail_addr_route.c - internal/external address forms and local-part
 * routing (percent hack, bang paths, '@' in the local part).
 *
 * Everything here works on addresses that were already parsed (internal
 * form) or on our own output, so there are no syntax errors to report:
 * quoting and unquoting always succeed.
 */
#include <stdlib.h>
#include <string.h>

#include "util/mymalloc.h"
#include "util/strbuf.h"

#include "global/mail_addr.h"

void
mail_addr_split(const char *addr, struct mail_addr_parts *out)
{
	const char *at = strrchr(addr, '@');

	out->local = addr;
	out->local_len = at ? (size_t)(at - addr) : strlen(addr);
	out->domain = at ? at + 1 : NULL;
}

/* RFC 5322 atext, with RFC 6532's UTF-8 bytes. */
static bool
is_atext(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch >= 0x80 ||
	       (ch != 0 && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL);
}

bool
mail_addr_local_needs_quoting(const char *local, size_t len)
{
	if (len == 0 || local[0] == '.' || local[len - 1] == '.')
		return true;
	for (size_t i = 0; i < len; i++) {
		int ch = (unsigned char)local[i];

		if (ch == '.' ? local[i + 1] == '.' : !is_atext(ch))
			return true;
	}
	return false;
}

char *
mail_addr_quote(const char *addr)
{
	struct mail_addr_parts parts;
	struct strbuf out;
	char *result;

	mail_addr_split(addr, &parts);
	if (*addr == 0 ||
	    !mail_addr_local_needs_quoting(parts.local, parts.local_len))
		return xstrdup(addr);
	strbuf_init(&out, STRBUF_UNLIMITED);
	strbuf_append_char(&out, '"');
	for (size_t i = 0; i < parts.local_len; i++) {
		if (parts.local[i] == '"' || parts.local[i] == '\\')
			strbuf_append_char(&out, '\\');
		strbuf_append_char(&out, parts.local[i]);
	}
	strbuf_append_char(&out, '"');
	if (parts.domain) {
		strbuf_append_char(&out, '@');
		strbuf_append_str(&out, parts.domain);
	}
	result = xstrndup(out.data, out.len);
	strbuf_deinit(&out);
	return result;
}

/* Index of the last '@' outside quotes, or -1. */
static long
last_unquoted_at(const char *addr)
{
	bool quote = false;
	long at = -1;

	for (long i = 0; addr[i]; i++) {
		if (addr[i] == '\\' && addr[i + 1]) {
			i++;
		} else if (addr[i] == '"') {
			quote = !quote;
		} else if (addr[i] == '@' && !quote) {
			at = i;
		}
	}
	return at;
}

char *
mail_addr_unquote(const char *addr)
{
	long at = last_unquoted_at(addr);
	size_t local_len = at < 0 ? strlen(addr) : (size_t)at;
	char *out = xmalloc(strlen(addr) + 1);
	size_t n = 0;

	for (size_t i = 0; i < local_len; i++) {
		if (addr[i] == '\\' && i + 1 < local_len)
			i++;
		else if (addr[i] == '"')
			continue;
		out[n++] = addr[i];
	}
	if (at >= 0)
		strcpy(out + n, addr + at); /* UNSAFE: out has strlen(addr)+1 */
	return out;
}

static void
lowercase_ascii(char *p)
{
	for (; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
}

char *
mail_addr_lowercase_domain(char *addr)
{
	char *at = strrchr(addr, '@');

	if (at)
		lowercase_ascii(at + 1);
	return addr;
}

int
mail_addr_routing(const char *addr)
{
	struct mail_addr_parts parts;
	int ops = 0;

	mail_addr_split(addr, &parts);
	for (size_t i = 0; i < parts.local_len; i++) {
		if (parts.local[i] == '%')
			ops |= MAIL_ADDR_ROUTE_PERCENT;
		else if (parts.local[i] == '!')
			ops |= MAIL_ADDR_ROUTE_BANG;
		else if (parts.local[i] == '@')
			ops |= MAIL_ADDR_ROUTE_AT;
	}
	return ops;
}

bool
mail_addr_has_routing(const char *addr)
{
	return mail_addr_routing(addr) != 0;
}

/* Is the domain of parts local? Lowercased, one trailing dot removed. */
static bool
domain_is_local(const struct mail_addr_parts *parts,
		const struct mail_addr_route_opts *opts)
{
	char *dom = xstrdup(parts->domain);
	size_t len = strlen(dom);
	bool is_local;

	if (len > 0 && dom[len - 1] == '.')
		dom[len - 1] = 0;
	lowercase_ascii(dom);
	is_local = opts->is_local_domain(dom, opts->ctx);
	free(dom);
	return is_local;
}

/* The routing operators that the options make the resolver act on. */
static int
active_ops(const struct mail_addr_route_opts *opts)
{
	return (opts->allow_percent_hack ? MAIL_ADDR_ROUTE_PERCENT : 0) |
	       (opts->swap_bangpath ? MAIL_ADDR_ROUTE_BANG : 0) |
	       (opts->resolve_dequoted_address ? MAIL_ADDR_ROUTE_AT : 0);
}

/* One rewriting step on an address without '@'; false if none applies. */
static bool
rewrite_local(char **cur, const struct mail_addr_route_opts *opts)
{
	char *bang = opts->swap_bangpath ? strchr(*cur, '!') : NULL;
	char *pct = opts->allow_percent_hack ? strrchr(*cur, '%') : NULL;

	if (bang && bang > *cur && bang[1]) {
		char *swapped = xasprintf("%s@%.*s", bang + 1,
					  (int)(bang - *cur), *cur);

		free(*cur);
		*cur = swapped;
		return true;
	}
	if (pct) {
		*pct = '@';
		return true;
	}
	return false;
}

char *
mail_addr_route_resolve(const char *addr,
			const struct mail_addr_route_opts *opts,
			bool *is_routed_out)
{
	char *cur = xstrdup(addr);
	size_t guard = 2 * strlen(addr) + 2;

	while (guard-- > 0) {
		struct mail_addr_parts parts;

		mail_addr_split(cur, &parts);
		if (parts.domain) {
			if (!domain_is_local(&parts, opts) ||
			    !(mail_addr_routing(cur) & active_ops(opts)))
				break;
			cur[parts.local_len] = 0; /* drop "@ourdomain" */
			continue;
		}
		if (!rewrite_local(&cur, opts))
			break;
	}
	*is_routed_out = mail_addr_has_routing(cur);
	return cur;
}
