/* subscriptions/listen for 2026-07-28 clients (docs/internals/eras.md): a
 * held SSE stream that is acknowledged first, then carries the list changes
 * and resource updates the client asked for, each tagged with the listen
 * request's id. For modern.c only; the hooks other modules call are in
 * modern.h. */
#ifndef GW_MCP_MODERN_LISTEN_H
#define GW_MCP_MODERN_LISTEN_H

#include <jansson.h>
#include <stdbool.h>

#define GW_LISTEN_MAX_URIS 64      /* resourceSubscriptions honoured per stream */
#define GW_LISTEN_MAX_URI_LEN 2048

struct gw_gateway;
struct gw_scope;
struct gw_msg;
struct gw_principal;
struct gw_session;
struct gw_stream;

#define GW_LISTEN_BAD_PARAMS "params.notifications must be an object"

/* Start a listen stream for request m of caller who on st, a stream of a
 * modern session the transport made for m alone: st carries the
 * acknowledgement and what follows, or the error that ends it. Resource
 * subscriptions are made, for the URIs the caller may read, at the
 * in-scope 2025 upstreams that offer them, once per URI and session. */
void gw_modern_listen_on(struct gw_stream *st, struct gw_msg *m, const struct gw_principal *who);
/* The stream of the listen request of s whose id is id, or NULL. */
struct gw_stream *gw_modern_listen_stream(struct gw_session *s, json_t *id);
/* Does an upstream in scope sc offer resource subscriptions we can relay? */
bool gw_modern_listen_can_subscribe(struct gw_gateway *gw, const struct gw_scope *sc);
/* notifications/resources/updated (msg, borrowed) from an upstream of s:
 * to each listener that subscribed to its URI. */
void gw_modern_listen_updated(struct gw_session *s, json_t *msg);
/* Stream st of s was closed by the client: if it was a listen stream, end
 * that subscription (its last listener gone, a URI is unsubscribed
 * upstream) and return true. The stream itself stays the caller's. */
bool gw_modern_listen_closed(struct gw_session *s, struct gw_stream *st);

#endif
