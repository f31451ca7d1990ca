/* The rate limiter: token buckets per principal, principal x tool, server
 * and gateway, kept in this process or in Redis (limits.backend), with the
 * local buckets standing in whenever Redis cannot answer in time
 * (docs/internals/ratelimit.md). Knows nothing of HTTP or MCP: the admit
 * stages (http/admit.c, mcp/admit.c) put it in the request path. */
#ifndef GW_LIMITS_LIMITER_H
#define GW_LIMITS_LIMITER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/config-t.h"
#include "limits/ratelimit-t.h"

/* The JSON-RPC error of a call refused by a quota (an implementation-
 * defined server error, docs/policy.md), with data.retryAfterSeconds. */
#define GW_RPC_RATE_LIMITED -32029
/* Longest a check waits for Redis before deciding locally. */
#define GW_LIMITS_REDIS_WAIT_MS 250
/* Buckets kept locally (about 40 bytes each). */
#define GW_LIMITS_LOCAL_SLOTS 65536

struct event_base;
struct gw_limiter;
struct gw_limit_wait;

/* The verdict of a check that had to wait (borrowed for the call). */
typedef void (*gw_limiter_done)(void *arg, const struct gw_limit_verdict *v);

/* A limiter for conf (limits:), on base. With backend redis it starts
 * connecting at once. NULL with the reason in err (bad redis_url, out of
 * memory). */
struct gw_limiter *gw_limiter_new(struct event_base *base, const struct gw_limits_conf *conf,
				  char *err, size_t errlen);
/* Free; checks still waiting are dropped without their done being called
 * (their owners are gone by then). NULL: no-op. */
void gw_limiter_free(struct gw_limiter *l);

/* Charge one request to the buckets of ask. Decided at once (the local
 * backend, Redis not ready, nothing to charge): returns NULL with the
 * verdict in *now. Else returns a wait and calls done(arg, verdict) later,
 * from the loop, within GW_LIMITS_REDIS_WAIT_MS (past it, the local
 * buckets decide and the Redis connection is dropped and made again).
 * The strings of ask are copied when needed. Never blocks. */
struct gw_limit_wait *gw_limiter_check(struct gw_limiter *l, const struct gw_limit_ask *ask,
				       struct gw_limit_verdict *now, gw_limiter_done done,
				       void *arg);
/* Could a check wait (Redis is the backend and ready)? When not,
 * gw_limiter_check() decides at once and done may be NULL: callers use this
 * to allocate nothing for a local check. */
bool gw_limiter_may_wait(const struct gw_limiter *l);
/* Stop waiting: done will not be called. */
void gw_limiter_cancel(struct gw_limit_wait *w);

/* {"backend": "local"|"redis", "enforcing": "local"|"redis", "redis": state,
 *  "redis_address", "redis_error", "local_fallbacks", "local_buckets", ...}
 * for /health (new reference). */
json_t *gw_limiter_health(const struct gw_limiter *l);

/* "global", "principal", "tool", "server". */
const char *gw_limit_kind_name(enum gw_limit_kind k);

#endif
