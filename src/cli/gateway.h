/* Bringing the gateway up and down: upstreams, listener, signals. */
#ifndef GW_CLI_GATEWAY_H
#define GW_CLI_GATEWAY_H

struct gw_config;

/* Serve cfg (owned) until SIGTERM/SIGINT; returns the exit status. */
int gw_gateway_run(struct gw_config *cfg);

#endif
