/* The other half of the era bridge (docs/internals/eras.md): a 2026-07-28
 * upstream answers a session-era client's call with input_required. Each
 * input request is put to the client as a server-to-client request on the
 * call's stream; when every answer is in, the call is sent to the upstream
 * again with inputResponses and the upstream's requestState. */
#ifndef GW_MCP_BRIDGE_H
#define GW_MCP_BRIDGE_H

#include <jansson.h>
#include <stdbool.h>

struct gw_call;

/* Is msg an input_required result? */
bool gw_bridge_wants(json_t *msg);
/* Ask c's client for what msg (input_required) requests. */
void gw_bridge_ask(struct gw_call *c, json_t *msg);
/* The client answered the input request under key (msg: its response). */
void gw_bridge_collect(struct gw_call *c, const char *key, json_t *msg);

#endif
