/* MCP 2026-07-28 downstream (docs/internals/eras.md): stateless requests
 * that carry their own envelope in params._meta, served on the same
 * endpoints as the 2025 era, and bridged to 2025-era upstreams. A request an
 * upstream sends during a call (sampling, elicitation, roots) becomes an
 * input_required result; the client's retry with inputResponses answers the
 * held upstream request and the call goes on. */
#ifndef GW_MCP_MODERN_H
#define GW_MCP_MODERN_H

#include <jansson.h>
#include <stdbool.h>

#define GW_PROTOCOL_MODERN "2026-07-28"

struct gw_call;
struct gw_gateway;
struct gw_msg;
struct gw_scope;
struct gw_principal;
struct gw_session;
struct gw_stream;
struct gw_sup;
struct gw_ureq;

/* Does this message claim the 2026-07-28 era (params._meta protocolVersion)? */
bool gw_modern_claims(const struct gw_msg *m);
/* The envelope's own rungs of the validation ladder, checked on every
 * transport (docs/internals/protocol-2026-07-28.md section 3.6): its keys,
 * and (once HTTP compared its header with it) its version. NULL when m
 * passes; else the error answer (new reference). */
json_t *gw_modern_envelope_error(struct gw_msg *m);
json_t *gw_modern_version_error(struct gw_msg *m);
/* The result of server/discover at the endpoint of scope (new reference). */
json_t *gw_modern_discover_result(struct gw_gateway *gw, const struct gw_scope *scope);
/* Is method one the 2026-07-28 era serves as a call (lists, tools/call,
 * prompts/get, resources/read, completion/complete)? */
bool gw_modern_serves(const char *method);
/* Serve request m of caller who (NULL: anonymous) for such a method on st,
 * its own stream of the modern session st->s: a new call, or the retry of a
 * parked one. param_hdrs: its Mcp-Param-* headers (NULL: a transport
 * without headers). */
void gw_modern_serve_call(struct gw_stream *st, struct gw_msg *m, json_t *param_hdrs,
			  const struct gw_principal *who);
/* The session serving the 2026-07-28 requests of scope (made at first
 * use; not reachable by any session id); NULL at the session limit. */
struct gw_session *gw_modern_session(struct gw_gateway *gw, const struct gw_scope *scope);
/* Is m a request that starts a new call (counted against the in-flight
 * bound)? Not a listen stream, not the retry of a call already counted. */
bool gw_modern_is_new_call(const struct gw_msg *m);
/* Serve one message m that claims the modern era on a transport without
 * HTTP (stdio): no header rungs, no HTTP status. s is gw_modern_session()
 * of the transport's scope. A request is answered on st, a stream of s the
 * transport made for it alone (its final message ends it); for a
 * notification st is NULL, and notifications/cancelled cancels the call or
 * listen stream of s whose id it names, as closing its stream would. who
 * is the caller (NULL: anonymous). */
void gw_modern_serve(struct gw_session *s, struct gw_stream *st, struct gw_msg *m,
		     const struct gw_principal *who);
/* c is being answered with msg (its id already set): fix msg up for the
 * 2026 wire. true when the call is kept (it waits for the client's input). */
bool gw_modern_answer(struct gw_call *c, json_t *msg);
/* Modern call c goes to sup (tool: its upstream tool name for tools/call,
 * else NULL): fit its params for that upstream and check its Mcp-Param-*
 * headers. false when c was answered (400, -32020). */
bool gw_modern_route(struct gw_call *c, struct gw_sup *sup, const char *tool);
/* An upstream asks the client something during modern call c (related
 * request r): true when handled (turned into input_required or refused). */
bool gw_modern_input_request(struct gw_sup *sup, json_t *msg, struct gw_ureq *r);
/* A notification from an upstream for a modern session: delivered only
 * where the 2026 rules allow (progress and opted-in logs on the call's stream). */
void gw_modern_notification(struct gw_session *s, json_t *msg, struct gw_ureq *related);
/* An upstream's list changed (method: its notifications/..._list_changed):
 * tell the listen streams that asked for it. */
void gw_modern_list_changed(struct gw_session *s, const char *method);
/* End every listen stream gracefully (shutdown). */
void gw_modern_end_listeners(struct gw_gateway *gw);
/* The client closed the response stream st of a modern request: cancel. */
void gw_modern_stream_closed(struct gw_stream *st);
void gw_modern_init(struct gw_gateway *gw);
void gw_modern_close_all(struct gw_gateway *gw);

#endif
