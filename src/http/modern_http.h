/* MCP 2026-07-28 stateless requests on the HTTP endpoints (docs/internals/
 * eras.md): the headers are checked against the body (MCP-Protocol-Version,
 * Mcp-Method, Mcp-Name: 400 with -32020 on a mismatch), server/discover is
 * answered, subscriptions/listen and the served methods get a stream of
 * their own, and mcp/modern.c serves them. */
#ifndef GW_HTTP_MODERN_HTTP_H
#define GW_HTTP_MODERN_HTTP_H

struct gw_hreq;
struct gw_gateway;
struct gw_msg;
struct gw_principal;
struct gw_scope;

/* Serve one POSTed message m that claims the modern era, from caller who
 * (NULL: anonymous) at the endpoint of scope; each request carries its own
 * caller. */
void gw_http_modern(struct gw_gateway *gw, struct gw_hreq *req,
		    const struct gw_scope *scope, const struct gw_principal *who, struct gw_msg *m);

#endif
