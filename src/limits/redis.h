/* Token buckets in Redis, shared by every gateway instance on it: one
 * connection through hiredis' async API on the gateway's libevent loop,
 * one Lua script (loaded with SCRIPT LOAD, run with EVALSHA; EVAL when
 * Redis answers NOSCRIPT) that checks and charges all the buckets of a
 * request atomically (docs/internals/ratelimit.md).
 *
 * The connection is made at start and again, with backoff, whenever it
 * fails or is dropped; while it is not ready, gw_redis_rl_eval() refuses
 * and the limiter decides with its local buckets. */
#ifndef GW_LIMITS_REDIS_H
#define GW_LIMITS_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include "limits/ratelimit-t.h"

struct event_base;
struct gw_redis_rl;
struct gw_redis_req;

/* The answer to one gw_redis_rl_eval(): ok false when Redis did not give
 * one (connection lost, error reply); v is then unset. */
typedef void (*gw_redis_rl_cb)(void *arg, bool ok, const struct gw_limit_verdict *v);

/* Parse url (redis://[[user]:password@]host[:port][/db]) and start
 * connecting on base; keys start with prefix. host is an IP address or a
 * name resolved once, here (at start, before the loop serves anyone).
 * NULL with the reason in err for a bad URL or a name that does not
 * resolve; a Redis that does not answer is not an error. */
struct gw_redis_rl *gw_redis_rl_new(struct event_base *base, const char *url, const char *prefix,
				    char *err, size_t errlen);
/* Close the connection (pending answers fail) and free. NULL: no-op. */
void gw_redis_rl_free(struct gw_redis_rl *r);
/* Connected, authenticated and the script loaded? */
bool gw_redis_rl_is_ready(const struct gw_redis_rl *r);
/* Send the check of ask; cb is called once, later, with the answer, unless
 * the request is detached first. NULL (and cb never called) when not ready
 * or the command cannot be queued. */
struct gw_redis_req *gw_redis_rl_eval(struct gw_redis_rl *r, const struct gw_limit_ask *ask,
				      gw_redis_rl_cb cb, void *arg);
/* Read whatever answers have arrived (their callbacks run now): before
 * declaring Redis late, in case the loop, not Redis, was slow. */
void gw_redis_rl_poll(struct gw_redis_rl *r);
/* The caller no longer wants q's answer (cb will not be called). */
void gw_redis_req_detach(struct gw_redis_req *q);
/* Redis is too slow: drop the connection (every pending answer fails) and
 * reconnect with backoff. why is logged (once per outage). */
void gw_redis_rl_drop(struct gw_redis_rl *r, const char *why);
/* For /health: "connected", "connecting" or "unavailable"; the address
 * (host:port, no password); the last error ("" if none). */
const char *gw_redis_rl_state(const struct gw_redis_rl *r);
const char *gw_redis_rl_address(const struct gw_redis_rl *r);
const char *gw_redis_rl_last_error(const struct gw_redis_rl *r);

#endif
