/*
 * addr_map.h - address rewriting with lookup tables, as Postfix's cleanup
 * does it: canonical maps (one address in, one out), virtual aliases (one
 * in, many out), and domain masquerading.
 *
 * Addresses are in internal form (global/mail_addr.h). Lookup order for a
 * fixed-string table, for "user+ext@domain" with recipient_delimiter "+":
 *   "user+ext@domain", "user@domain", then if the domain is local (or
 *   absent) "user+ext", "user", then "@domain".
 * Pattern tables (regexp, pcre) see only the whole address. Keys are in
 * external form (local part quoted where RFC 5322 needs it). A table's
 * result is an address list ("a@x, \"b c\"@y"); an address that starts
 * with '@' keeps the looked-up local part ("@new.example" maps
 * "u@old.example" to "u@new.example"). When a key without the extension
 * matched and want_propagate is set (propagate_unmatched_extensions),
 * the extension is put back into each result ("user+ext@domain" found as
 * "user@domain" -> "other@x" becomes "other+ext@x").
 * With '-' as delimiter, "owner-list" and "list-request" keep the '-'.
 */
#ifndef POSTERN_GLOBAL_ADDR_MAP_H
#define POSTERN_GLOBAL_ADDR_MAP_H

#include <stdbool.h>

#include "global/maps.h"
#include "util/argv.h"
#include "util/err.h"

/* Outcomes of the rewriting functions. */
enum addr_map_status {
	ADDR_MAP_OK = 0,     /* done; the address may or may not have changed */
	ADDR_MAP_ERROR = -1, /* a table (or the local-domain test) failed */
	ADDR_MAP_LIMIT = -2, /* nesting or expansion limit hit */
};

/* What the lookups need to know. */
struct addr_map_ctx {
	const char *recipient_delimiter; /* "" or NULL for none */
	/* 1 if domain (lowercase, no trailing dot) is local, 0 if not, -1
	 * with err if that cannot be told; NULL: no domain is local. */
	int (*is_local_domain)(const char *domain, void *ctx, struct err *err);
	void *ctx;
	/* Non-fatal findings ("multi-valued canonical_maps entry for A"),
	 * appended for the caller to log; may be NULL. */
	struct argv *warnings;
};

/*
 * Look addr up as above. DICT_FOUND: *result_out is a new vector of
 * internal-form addresses (caller destroys; it may be empty when the
 * table's value holds no address). DICT_NOTFOUND, or DICT_ERROR with err
 * (the table's reason).
 */
int addr_map_find(struct maps *maps, const struct addr_map_ctx *ac,
		  const char *addr, bool want_propagate,
		  struct argv **result_out, struct err *err);

/* Canonical mapping repeats until a fixed point, at most this often. */
#define ADDR_MAP_CANONICAL_NESTING 10

/*
 * Canonical mapping: replace *addrp (heap string, replaced in place) by
 * the first address of the result, repeatedly, until the result is the
 * address itself (case-insensitively) or nothing matches. A result of
 * several addresses adds the warning "multi-valued TITLE entry for A".
 * Returns ADDR_MAP_OK, ADDR_MAP_ERROR (err: the table's reason) or
 * ADDR_MAP_LIMIT (err: "unreasonable TITLE map nesting for A").
 */
int addr_map_canonical(struct maps *maps, const struct addr_map_ctx *ac,
		       char **addrp, bool want_propagate, struct err *err);

/*
 * Virtual alias expansion of addr into out (cleared first): each address
 * found is replaced by its result, the first result in place and the
 * others at the end of the list, pass after pass, until nothing changes.
 * An address whose result contains itself (case-insensitively) stays and
 * is not looked up again; duplicates are dropped (first one kept).
 * Returns ADDR_MAP_OK, ADDR_MAP_ERROR (err: the table's reason), or
 * ADDR_MAP_LIMIT when the list grows beyond expansion_limit addresses
 * ("unreasonable TITLE map expansion size for ADDR") or when more than
 * recursion_limit passes change it ("unreasonable TITLE map nesting for
 * ADDR"); out is then left partial.
 */
int addr_map_expand(struct maps *maps, const struct addr_map_ctx *ac,
		    const char *addr, bool want_propagate, long recursion_limit,
		    long expansion_limit, struct argv *out, struct err *err);

/*
 * masquerade_domains: the first item that names the address's domain or
 * one of its parents decides: "example.com" turns "u@host.example.com"
 * into "u@example.com" (and leaves "u@example.com" alone); "!item" keeps
 * the address as it is. Nothing changes when the local part is in
 * exceptions (masquerade_exceptions, compared without case). Returns a
 * new string, or NULL when the address stays.
 */
char *addr_map_masquerade(const char *addr, const struct argv *domains,
			  const struct argv *exceptions);

/*
 * Split an internal-form local part at the first recipient_delimiter
 * character: returns the length of the part before the extension, or
 * local_len when there is none (or the owner-/-request rule applies).
 */
size_t addr_map_ext_offset(const char *local, size_t local_len,
			   const char *delimiters);

/* Parse a table result (an address list) into internal-form addresses. */
void addr_map_parse_result(const char *value, struct argv *out);

#endif
