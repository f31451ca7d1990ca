/* Mcp-Param-{Name} headers (MCP 2026-07-28, SEP-2243, the wire memo
 * docs/internals/protocol-2026-07-28.md section 3.1): a tool whose
 * inputSchema gives an argument "x-mcp-header": "Name" has that argument
 * mirrored in the request header Mcp-Param-Name, so that intermediaries can
 * route on it without reading the body. This is what both directions share:
 * reading the declarations, the header form of a value, and the table of a
 * server's tools that its HTTP link sends the headers from. Checking a
 * client's headers is the downstream's (mcp/modern_params.h).
 *
 * A table is one server's: tool name -> declarations, held by its struct
 * gw_upstream (created with it, so a reload that replaces the server starts
 * with an empty one), filled from its tools/list pages as any session last
 * listed them (a tool list is the server's). One event loop: no locking. */
#ifndef GW_UPSTREAM_PARAMS_H
#define GW_UPSTREAM_PARAMS_H

#include <jansson.h>

#define GW_PARAM_HEADER_PREFIX "Mcp-Param-"
#define GW_PARAM_MAX 32        /* declarations per tool, headers kept per request */
#define GW_PARAM_TOOLS_MAX 4096 /* tools whose declarations one table keeps */

/* The declarations of one tool's inputSchema: a new array of
 * {"header": Name, "path": [key, ...], "type": t}. Only properties reached
 * through a chain of "properties" keys count, with a token-shaped name and
 * a primitive type; at most GW_PARAM_MAX. Empty when there are none. */
json_t *gw_params_decls(json_t *schema);
/* Note the declarations of every tool of a tools/list page in table
 * (tool name -> declarations; tools without any are not kept, and drop out
 * when they no longer declare any). Bounded by GW_PARAM_TOOLS_MAX tools. A
 * NULL table keeps nothing. */
void gw_params_learn(json_t *table, json_t *tools);
/* The header form of a primitive argument (string as is, true/false,
 * numbers in their shortest decimal form): a new string, or NULL when v is
 * none of these (or an integer beyond 2^53, or not finite). */
char *gw_params_text(json_t *v);
/* The value at path (an array of keys) under root, or NULL: borrowed. */
json_t *gw_params_value_at(json_t *root, json_t *path);

/* Called with each header to send: its full name and its plain value. */
typedef int (*gw_param_emit_fn)(void *arg, const char *name, const char *value);
/* For a tools/call request (whole message, borrowed) whose tool table
 * (NULL: none) declares headers: emit one per declared argument present in
 * the body. Returns 0 or the first non-zero emit result. */
int gw_params_each(json_t *table, json_t *request, gw_param_emit_fn emit, void *arg);

#endif
