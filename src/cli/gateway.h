/* Bringing the gateway up and down: upstreams, listener, signals. */
#ifndef GW_CLI_GATEWAY_H
#define GW_CLI_GATEWAY_H

#include <stdbool.h>

struct gw_config;

struct gw_run_opts {
	bool stdio;              /* serve MCP on stdin/stdout instead of HTTP */
	const char *server;      /* stdio: one server or virtual server (NULL: all) */
};

/* Serve cfg (owned) until SIGTERM/SIGINT (or stdin EOF in stdio mode);
 * returns the exit status. */
int gw_gateway_run(struct gw_config *cfg, const struct gw_run_opts *opts);

#endif
