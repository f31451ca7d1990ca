/* Mcp-Param-{Name} headers (MCP 2026-07-28, SEP-2243, the wire memo
 * docs/internals/protocol-2026-07-28.md section 3.1): a tool whose
 * inputSchema gives an argument "x-mcp-header": "Name" has that argument
 * mirrored in the request header Mcp-Param-Name, so that intermediaries can
 * route on it without reading the body. Downstream the gateway checks each
 * such header against the body (400, -32020 on a mismatch); upstream it
 * sends the headers a 2026 server's tools declare. */
#ifndef GW_MCP_MODERN_PARAMS_H
#define GW_MCP_MODERN_PARAMS_H

#include <jansson.h>
#include <stdbool.h>

#define GW_PARAM_HEADER_PREFIX "Mcp-Param-"
#define GW_PARAM_MAX 32        /* declarations per tool, headers kept per request */
#define GW_PARAM_TOOLS_MAX 4096 /* tools whose declarations one upstream session keeps */

struct evkeyvalq;
struct gw_call;
struct gw_sup;

/* The declarations of one tool's inputSchema: a new array of
 * {"header": Name, "path": [key, ...], "type": t}. Only properties reached
 * through a chain of "properties" keys count, with a token-shaped name and
 * a primitive type; at most GW_PARAM_MAX. Empty when there are none. */
json_t *gw_modern_params_decls(json_t *schema);
/* Note the declarations of every tool of a tools/list page in table
 * (tool name -> declarations; tools without any are not kept). Bounded by
 * GW_PARAM_TOOLS_MAX tools. */
void gw_modern_params_learn(json_t *table, json_t *tools);
/* The header form of a primitive argument (string as is, true/false,
 * numbers in their shortest decimal form): a new string, or NULL when v is
 * none of these (or an integer beyond 2^53, or not finite). */
char *gw_modern_params_text(json_t *v);

/* The declarations of server's tools (the table learn fills), as its
 * tools were last listed by any session: a tool list is the server's. NULL
 * when none are known and create is false. Borrowed; lives until
 * gw_modern_params_forget(). One event loop: no locking. */
json_t *gw_modern_params_of(const char *server, bool create);
/* Drop every table (shutdown). */
void gw_modern_params_forget(void);

/* Called with each header to send: its full name and its plain value. */
typedef int (*gw_param_emit_fn)(void *arg, const char *name, const char *value);
/* For a tools/call request (whole message, borrowed) whose tool table
 * declares headers: emit one per declared argument present in the body.
 * Returns 0 or the first non-zero emit result. */
int gw_modern_params_each(json_t *table, json_t *request, gw_param_emit_fn emit, void *arg);

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
