/* The admit stage for HTTP requests (docs/internals/pipeline.md): rate
 * limits charged to every POST to an MCP endpoint, once authenticated
 * (docs/internals/ratelimit.md). Over a quota: HTTP 429 with Retry-After
 * and a JSON-RPC error -32029, before anything is parsed. Quotas are read
 * from the policy in force (gw->policy) at each check. */
#ifndef GW_HTTP_ADMIT_H
#define GW_HTTP_ADMIT_H

#include "http/authn_http.h"

struct gw_gateway;
struct gw_hreq;

/* Charge req to its buckets (who NULL: anonymous), then
 * next(gw, req, who, true, arg) now (PASS) or once Redis answered
 * (PARKED). Over a quota (ANSWERED): the 429 is written (after the
 * bucket's wait, at most 1 s) and next(gw, req, NULL, false, arg) is called
 * at once. If the client goes away while Redis is asked:
 * next(gw, NULL, NULL, false, arg). who, as next gets it, is valid for the
 * length of that call only. */
void gw_http_admit(struct gw_gateway *gw, struct gw_hreq *req,
		   const struct gw_principal *who, gw_authn_done next, void *arg);

#endif
