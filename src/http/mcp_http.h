/* The MCP Streamable HTTP endpoint (2025-03-26 .. 2025-11-25): POST of one
 * JSON-RPC message, GET for the standalone stream or a resumption, DELETE to
 * end a session. */
#ifndef GW_HTTP_MCP_HTTP_H
#define GW_HTTP_MCP_HTTP_H

struct gw_hreq;
struct gw_gateway;
struct gw_principal;
struct gw_scope;

/* Serve req at the endpoint of scope for caller who (NULL: anonymous). */
void gw_mcp_http_handle(struct gw_gateway *gw, struct gw_hreq *req,
			const struct gw_scope *scope, const struct gw_principal *who);

#endif
