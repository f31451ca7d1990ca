/* Seed 001's REST surface (docs/rest.md): GET /tools, POST
 * /tools/{name}/invoke, GET /mcp/list-tools, POST /mcp/invoke, POST
 * /mcp/invoke-broadcast, GET /mcp/servers, GET /mcp/server/{name}/info.
 * The HTTP side only: it reads the request, makes a fan-out of calls of
 * the authenticated caller (admin/rest_fanout.h), and writes what they
 * answered. A client that goes away cancels its calls. */
#ifndef GW_ADMIN_REST_H
#define GW_ADMIN_REST_H

#include <stdbool.h>

struct gw_gateway;

/* Serve the endpoints on gw's listener (after gw_http_start()): 0, or a
 * negative GW_E* code when they cannot be routed. */
int gw_rest_start(struct gw_gateway *gw);

#endif
