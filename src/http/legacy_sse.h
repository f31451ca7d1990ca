/* The 2024-11-05 HTTP+SSE transport, for older clients: GET /sse opens the
 * event stream (its first event names the POST endpoint), POST
 * /messages?sessionId=... carries each client message, and every server
 * message, answers included, comes back as `event: message` on the stream. */
#ifndef GW_HTTP_LEGACY_SSE_H
#define GW_HTTP_LEGACY_SSE_H

struct gw_hreq;
struct gw_gateway;
struct gw_principal;
struct gw_scope;

/* GET /sse for caller who (NULL: anonymous): a new session whose event
 * stream is req; base is the endpoint prefix ("" or "/servers/<name>"). */
void gw_legacy_sse_open(struct gw_gateway *gw, struct gw_hreq *req,
			const struct gw_scope *scope, const struct gw_principal *who,
			const char *base);
/* POST /messages?sessionId= of caller who: the session must be its own. */
void gw_legacy_sse_post(struct gw_gateway *gw, struct gw_hreq *req,
			const struct gw_scope *scope, const struct gw_principal *who);

#endif
