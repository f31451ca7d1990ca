/* The resolve and authorize stages of the pipeline
 * (docs/internals/pipeline.md) for the methods that name something
 * upstream (tools/call, prompts/get, resources/read|subscribe|unsubscribe,
 * completion/complete) and for the lists.
 *
 * Resolve: the lists the name could be in are fetched (the call PARKS on
 * them, through a cleanup: a call that ends first just leaves), then the
 * catalog names the owner; nobody: ANSWERED (-32602 unknown tool or prompt,
 * -32002 unknown resource, -32012 when the owner's list failed).
 * Authorize: the policy decides for the caller; a denial is ANSWERED
 * exactly as for a name that does not exist, and recorded as denied at this
 * stage. PASS: the call goes on to the 2026 parameter checks, tasks, admit
 * and send (mcp/dispatch.c). For lists, authorize filters what each caller
 * sees. */
#ifndef GW_MCP_RESOLVE_H
#define GW_MCP_RESOLVE_H

#include "catalog/catalog-t.h"

struct gw_call;

/* tools/list, prompts/list, resources/list, resources/templates/list. */
void gw_resolve_list(struct gw_call *c, enum gw_list_kind kind);
/* The methods routed by name or URI: resolve, authorize, forward. */
void gw_resolve_route(struct gw_call *c);

#endif
