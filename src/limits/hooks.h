/* Where the rate limiter stands in the request path (DESIGN.md: authn ->
 * limits -> JSON-RPC -> authz -> ... -> route -> upstream):
 *
 *   - every POST to an MCP endpoint, once authenticated, is charged to the
 *     global bucket and the caller's own; past either: HTTP 429 with
 *     Retry-After, before anything is parsed or dispatched;
 *   - every call the gateway forwards upstream is charged to the bucket of
 *     its server and, for tools/call, to the caller's bucket on that tool;
 *     past either: a JSON-RPC error GW_RPC_RATE_LIMITED with
 *     data.retryAfterSeconds (both protocol eras);
 *   - on `mcpgw stdio` there is no HTTP: every request is charged to the
 *     global and caller buckets too, and refused the JSON-RPC way.
 *
 * Quotas are read from the policy in force (gw->policy) at each check. */
#ifndef GW_LIMITS_HOOKS_H
#define GW_LIMITS_HOOKS_H

#include <jansson.h>
#include <stdbool.h>

#include "auth/authn.h"

struct gw_gateway;
struct gw_call;
struct gw_sup;
struct gw_limits_hold;

/* Make gw->limits for gw->cfg->limits; stdio: the downstream is `mcpgw
 * stdio`. 0, or GW_EINVAL / GW_ENOMEM with the reason logged. */
int gw_limits_start(struct gw_gateway *gw, bool stdio);
void gw_limits_stop(struct gw_gateway *gw);

/* The HTTP stage, after authentication (who may be NULL: anonymous):
 * charge req, then call next(gw, req, who, true, arg), now or later. Over
 * a quota: answer 429 and call next(gw, req, NULL, false, arg). If the
 * client goes away while Redis is asked: next(gw, NULL, NULL, false, arg).
 * next's who is valid for the length of the call only. */
void gw_limits_admit(struct gw_gateway *gw, struct evhttp_request *req,
		     const struct gw_principal *who, gw_authn_done next, void *arg);

/* Go on with c (and sup, params) once its buckets allowed it. */
typedef void (*gw_limits_resume)(struct gw_call *c, struct gw_sup *sup, json_t *params);

/* The call stage, before c goes to sup's upstream with params (owned):
 * true: not limited, go on at once. false: c was taken over, and is either
 * answered with GW_RPC_RATE_LIMITED (params freed) or waiting for Redis
 * (resume(c, sup, params) later, or nothing if c is freed first). */
bool gw_limits_call_admit(struct gw_call *c, struct gw_sup *sup, json_t *params,
			  gw_limits_resume resume);
/* The same for the global and caller buckets of a request on `mcpgw
 * stdio` (true at once on HTTP, where gw_limits_admit charged them);
 * resume gets sup and params NULL. */
bool gw_limits_message_admit(struct gw_call *c, gw_limits_resume resume);

/* "rate_limits" of /health (new reference). */
json_t *gw_limits_health(const struct gw_gateway *gw);

#endif
