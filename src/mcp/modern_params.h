/* Mcp-Param-{Name} headers downstream (MCP 2026-07-28, SEP-2243; what a
 * declaration is and how a value is written: upstream/params.h): the
 * gateway checks each header a 2026 client sends with a tools/call against
 * the body (400, -32020 on a mismatch). */
#ifndef GW_MCP_MODERN_PARAMS_H
#define GW_MCP_MODERN_PARAMS_H

#include <jansson.h>
#include <stdbool.h>

struct evkeyvalq;
struct gw_call;
struct gw_sup;

/* The Mcp-Param-* headers of a request: a new object, lower-cased name ->
 * raw value (at most GW_PARAM_MAX; later ones are ignored). */
json_t *gw_modern_params_capture(const struct evkeyvalq *headers);
/* A 2026 client's tools/call c is routed to tool (its upstream name) of
 * sup: check the headers it sent (hdrs, from gw_modern_params_capture)
 * against its arguments. On a missing, undecodable or different header the
 * call is answered 400 with -32020 and false is returned. */
bool gw_modern_params_ok(struct gw_call *c, const struct gw_sup *sup, const char *tool,
			 json_t *hdrs);

#endif
