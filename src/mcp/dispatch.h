/* What the gateway does with each downstream message once a transport has
 * framed it and found its session: answer it here (initialize, ping,
 * logging/setLevel), resolve and route it (mcp/resolve.h), or relay it.
 *
 * Of the pipeline's walk (docs/internals/pipeline.md) this is where a call
 * starts (gw_dispatch_call), and the send stage: gw_dispatch_forward()
 * admits the call at its upstream's buckets (mcp/admit.h: PASS, ANSWERED
 * or PARKED on Redis), runs the guard-in stages (mcp/pipeline.h), and
 * sends it: the call PARKS on its upstream request until the answer, which
 * walks guard out and record before it is written. */
#ifndef GW_MCP_DISPATCH_H
#define GW_MCP_DISPATCH_H

#include <jansson.h>

#include "core/jsonrpc.h"
#include "mcp/session.h"

#define GW_VERSION "0.1.0"

/* The InitializeResult for a new session of this scope (new reference). */
json_t *gw_dispatch_initialize_result(struct gw_gateway *gw, const struct gw_scope *scope,
				      const char *proto);
/* Pick the version to answer initialize with: the client's if we speak it,
 * else our latest. */
const char *gw_dispatch_pick_version(const char *requested);
/* A request on stream st (the answer goes there). */
void gw_dispatch_request(struct gw_session *s, struct gw_stream *st, struct gw_msg *m);
/* A message for a session with one stream for everything (legacy HTTP+SSE,
 * stdio): initialize starts the session; answers go to its sink. */
void gw_dispatch_message(struct gw_session *s, struct gw_msg *m);
/* Serve a call made by gw_call_new() (the answer completes it). */
void gw_dispatch_call(struct gw_call *c);
/* A notification from the client. */
void gw_dispatch_notification(struct gw_session *s, struct gw_msg *m);
/* Send c upstream through sup with params (stolen); the answer completes c. */
void gw_dispatch_forward(struct gw_call *c, struct gw_sup *sup, json_t *params);
/* Send c again to its upstream with params (stolen): an input_required retry. */
void gw_dispatch_reforward(struct gw_call *c, json_t *params);
/* Send a request upstream whose answer nobody waits for (params stolen). */
void gw_dispatch_forward_quiet(struct gw_sup *sup, const char *method, json_t *params);

#endif
