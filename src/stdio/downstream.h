/* stdio downstream: mcpgw itself launched by a desktop client as a local MCP
 * server. One session; newline-delimited JSON-RPC on stdin/stdout; logs on
 * stderr only. stdin EOF stops the gateway like SIGTERM. */
#ifndef GW_STDIO_DOWNSTREAM_H
#define GW_STDIO_DOWNSTREAM_H

#include <stdbool.h>

struct gw_gateway;

/* Serve on fds 0/1 the scope of server (a server or virtual server name),
 * or every server when NULL. on_eof is called once when stdin ends. */
int gw_stdio_downstream_start(struct gw_gateway *gw, const char *server,
			      void (*on_eof)(struct gw_gateway *gw));
/* Is output still waiting to be written to stdout? */
bool gw_stdio_downstream_busy(const struct gw_gateway *gw);
void gw_stdio_downstream_stop(struct gw_gateway *gw);

#endif
