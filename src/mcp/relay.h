/* Relay of what upstreams start (progress, logging, list changes, sampling,
 * elicitation and roots requests) to the downstream session that owns the
 * upstream session, and of the client's answers back (docs/internals/relay.md). */
#ifndef GW_MCP_RELAY_H
#define GW_MCP_RELAY_H

#include <jansson.h>

#include "upstream/upstream.h"

struct gw_session;

/* For a session's own upstream sessions (owner: struct gw_sup). */
extern const struct gw_uconn_owner_ops gw_relay_uconn_ops;
/* For an upstream's shared session (owner: struct gw_gateway). */
extern const struct gw_uconn_owner_ops gw_relay_shared_ops;

/* The client POSTed a response (result or error) to one of our requests:
 * hand it to the upstream that asked. GW_ENOENT if no such request. */
int gw_relay_client_response(struct gw_session *s, json_t *msg);

#endif
