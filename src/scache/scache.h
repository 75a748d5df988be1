/*
 * scache.h - the connection cache daemon's store: open connections filed
 * under endpoint labels, and destination labels that point to endpoint
 * labels (the model of global/scache_clnt.h).
 *
 * The store owns the descriptors it holds and closes them when they
 * expire, when it is full (the oldest connection goes first), or when it
 * is destroyed. It reads no clock: every call takes "now" in
 * milliseconds, so tests control time. Statistics are counted as Postfix
 * reports them: lookup hits and misses per kind, and the most
 * destinations, endpoints and connections held at once.
 */
#ifndef POSTERN_SCACHE_SCACHE_H
#define POSTERN_SCACHE_SCACHE_H

#include <stddef.h>
#include <stdint.h>

struct scache_stats {
	unsigned long dest_hits, dest_misses;
	unsigned long endp_hits, endp_misses;
	size_t max_dests, max_endps, max_conns;
};

struct scache_store;

/*
 * At most max_conns open connections (>= 1), and at most max_links
 * destination-to-endpoint links (>= 1); past either limit the oldest
 * entry is dropped.
 */
struct scache_store *scache_store_create(size_t max_conns, size_t max_links);

/* Close every descriptor and free; NULL-safe, *stp becomes NULL. */
void scache_store_destroy(struct scache_store **stp);

/* Keep fd (the store owns it now) under label until now + ttl_ms. */
void scache_store_save_endp(struct scache_store *st, int64_t now,
			    int64_t ttl_ms, const char *label, const char *prop,
			    int fd);

/*
 * Take the most recently saved live connection of label: returns its
 * descriptor (now the caller's) with *prop_out (caller frees), or -1
 * when there is none (*prop_out NULL).
 */
int scache_store_find_endp(struct scache_store *st, int64_t now,
			   const char *label, char **prop_out);

/*
 * Link dest_label to endp_label with dest_prop until now + ttl_ms; a link
 * that exists already gets the new property and expiry.
 */
void scache_store_save_dest(struct scache_store *st, int64_t now,
			    int64_t ttl_ms, const char *dest_label,
			    const char *dest_prop, const char *endp_label);

/*
 * Take a live connection of the most recently linked endpoint of
 * dest_label that has one: its descriptor with *dest_prop_out and
 * *endp_prop_out (caller frees both), or -1 (both NULL).
 */
int scache_store_find_dest(struct scache_store *st, int64_t now,
			   const char *dest_label, char **dest_prop_out,
			   char **endp_prop_out);

/*
 * Close the connections and drop the links that expired by now. Returns
 * the time of the next expiry, or -1 when the store is empty.
 */
int64_t scache_store_expire(struct scache_store *st, int64_t now);

/* Counts now, and the statistics since the last reset. */
size_t scache_store_conn_count(const struct scache_store *st);
const struct scache_stats *scache_store_stats(const struct scache_store *st);

/* Start a new interval: counters to zero, maxima to the counts now. */
void scache_store_stats_reset(struct scache_store *st);

#endif
