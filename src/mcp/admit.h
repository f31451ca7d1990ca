/* The admit stage for calls (docs/internals/pipeline.md, and
 * docs/internals/ratelimit.md): a call going upstream is charged to the
 * bucket of its server and, for tools/call, to the caller's bucket on that
 * tool; on `mcpgw stdio`, where there is no HTTP stage, every request is
 * also charged to the global and caller buckets. Over a quota: the call is
 * answered with -32029 and data.retryAfterSeconds (both protocol eras). */
#ifndef GW_MCP_ADMIT_H
#define GW_MCP_ADMIT_H

#include <jansson.h>
#include <stdbool.h>

struct gw_call;
struct gw_sup;

/* Go on with c (and sup, params) once its buckets allowed it. */
typedef void (*gw_admit_resume)(struct gw_call *c, struct gw_sup *sup, json_t *params);

/* Before c goes to sup's upstream with params (owned). true (PASS): not
 * limited, go on at once. false: c was taken over, and is either answered
 * with -32029, params freed (ANSWERED; a call run as a task fails its
 * task), or waits for Redis (PARKED: resume(c, sup, params) later, or
 * nothing if c ends first; the wait is one of c's cleanups). */
bool gw_admit_call(struct gw_call *c, struct gw_sup *sup, json_t *params, gw_admit_resume resume);
/* The same for the global and caller buckets of a request on `mcpgw
 * stdio` (true at once on HTTP, where the HTTP stage charged them);
 * resume gets sup and params NULL. */
bool gw_admit_message(struct gw_call *c, gw_admit_resume resume);

#endif
