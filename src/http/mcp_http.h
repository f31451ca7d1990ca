/* The MCP Streamable HTTP endpoint (2025-03-26 .. 2025-11-25): POST of one
 * JSON-RPC message, GET for the standalone stream or a resumption, DELETE to
 * end a session. */
#ifndef GW_HTTP_MCP_HTTP_H
#define GW_HTTP_MCP_HTTP_H

struct evhttp_request;
struct gw_gateway;
struct gw_scope;

void gw_mcp_http_handle(struct gw_gateway *gw, struct evhttp_request *req,
			const struct gw_scope *scope);

#endif
