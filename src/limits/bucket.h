/* Local token buckets: a fixed-size table made once, so that any number of
 * callers, tools and servers costs bounded memory and a check allocates
 * nothing (docs/internals/ratelimit.md).
 *
 * The table is set-associative: a key's hash picks a set of
 * GW_BUCKET_WAYS slots. A key not in its set takes an empty slot, else the
 * slot of a bucket that has refilled to its burst (forgetting it changes
 * nothing: a new bucket starts full), else the slot closest to full (a
 * "busy" eviction, counted: the table is too small for the traffic). */
#ifndef GW_LIMITS_BUCKET_H
#define GW_LIMITS_BUCKET_H

#include <stddef.h>
#include <stdint.h>

#include "limits/ratelimit-t.h"

#define GW_BUCKET_WAYS 8

struct gw_bucket_table;

struct gw_bucket_stats {
	size_t slots;               /* capacity */
	size_t live;                /* slots in use */
	uint64_t evicted_idle;      /* full buckets forgotten to make room */
	uint64_t evicted_busy;      /* buckets forgotten while not full */
};

/* A table of at least min_slots buckets (rounded up to a power of two of
 * sets; at least one set). NULL when out of memory. */
struct gw_bucket_table *gw_bucket_table_new(size_t min_slots);
void gw_bucket_table_free(struct gw_bucket_table *t);

/* Charge one request to every bucket of ask at now_ms (a monotonic clock in
 * milliseconds): if each bucket holds a token, take one from each and
 * allow; else take none and say which bucket was empty and how long until
 * it has a token (the longest wait, when several are). Items with no quota
 * (per_minute 0) are skipped. Allocates nothing. */
void gw_bucket_take(struct gw_bucket_table *t, const struct gw_limit_ask *ask, uint64_t now_ms,
		    struct gw_limit_verdict *out);

void gw_bucket_stats(const struct gw_bucket_table *t, struct gw_bucket_stats *out);

#endif
