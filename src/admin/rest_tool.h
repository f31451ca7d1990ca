/* The broadcast offered to MCP clients as a tool of the gateway's own
 * (docs/rest.md, "The gateway__broadcast tool"): with `broadcast_tool:
 * true`, tools/list at /mcp lists gateway__broadcast, and its tools/call
 * runs the broadcast of POST /mcp/invoke-broadcast as calls of the same
 * caller, answered with those fields as structuredContent. */
#ifndef GW_ADMIN_REST_TOOL_H
#define GW_ADMIN_REST_TOOL_H

#define GW_BROADCAST_TOOL "gateway__broadcast"

struct gw_gateway;

/* Give the pipeline the gateway's own tools (gw->own_tools,
 * gw->own_tool_call); each looks at broadcast_tool in the config in force. */
void gw_rest_tool_init(struct gw_gateway *gw);

#endif
