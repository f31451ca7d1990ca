/* What GET /health and GET /ready say about an upstream server
 * (docs/internals/upstream-resilience.md, "State"). */
#ifndef GW_UPSTREAM_STATUS_H
#define GW_UPSTREAM_STATUS_H

#include <jansson.h>
#include <stdbool.h>

struct gw_upstream;

/* "ready", "connecting", "failing" or "breaker_open": its shared session's
 * state, its last health check and its breaker, in that order of weight
 * (an open breaker wins). */
const char *gw_upstream_state_name(const struct gw_upstream *up);
/* Is it "ready"? */
bool gw_upstream_is_ready(const struct gw_upstream *up);
/* The object GET /health lists for it (new reference; names no secret). */
json_t *gw_upstream_status_json(const struct gw_upstream *up);

#endif
