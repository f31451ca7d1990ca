/* The broadcast of seed 001 (POST /mcp/invoke-broadcast, POST
 * /tools/{name}/invoke, the gateway__broadcast tool): which servers a
 * request selects, and the answer's fields (docs/rest.md). The calls
 * themselves run on admin/rest_fanout.h. */
#ifndef GW_ADMIN_REST_BROADCAST_H
#define GW_ADMIN_REST_BROADCAST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "admin/rest_fanout.h"

struct gw_gateway;

/* A broadcast as asked (every json_t borrowed from the body it came in). */
struct gw_broadcast_req {
	const char *tool;             /* tool_name */
	json_t *params;               /* parameters (an object), or NULL: {} */
	json_t *tags;                 /* array of strings, or NULL: any */
	json_t *servers;              /* array of server names, or NULL: every server */
	double timeout_s;             /* each server's own deadline; 0: its configured timeout */
	bool implicit;                /* neither tags nor servers: only those that offer the tool count */
};

/* Read a broadcast from body (an object) whose keys are tool_key,
 * params_key, "tags", servers_key and "timeout". 0, or GW_EINVAL with
 * the reason (naming the field) in err. */
int gw_broadcast_parse(json_t *body, const char *tool_key, const char *params_key,
		       const char *servers_key, struct gw_broadcast_req *out, char *err, size_t cap);
/* The fan-out of rq for caller who (NULL: anonymous): every running
 * server named (all when none are) that carries one of the tags (any
 * when none are given). NULL with *status and err: 404 for a server name
 * that is not running, 500 when out of memory. */
struct gw_fanout *gw_broadcast_plan(struct gw_gateway *gw, const struct gw_broadcast_req *rq,
				    const struct gw_principal *who, const char *endpoint,
				    const char *client_addr, int *status, char *err, size_t cap);
/* After gw_fanout_screen() of a planned f: GW_ENOENT with *status 404 and
 * err worded as for a server that is not running when rq names a server
 * the caller may not see (HIDDEN), else 0. */
int gw_broadcast_screened(struct gw_fanout *f, const struct gw_broadcast_req *rq, int *status,
			  char *err, size_t cap);
/* The answer of a finished broadcast: tool_name, total_servers,
 * successful, failed, execution_time_ms, results and errors by server,
 * skipped (denied by the policy: not called; a HIDDEN one is left out). A server that has no such
 * tool is left out when implicit, else an error. New reference. */
json_t *gw_broadcast_answer(struct gw_fanout *f, const char *tool, bool implicit);
/* How many targets the policy let through and that offer the tool (the
 * ones the answer counts). */
size_t gw_broadcast_called(struct gw_fanout *f, bool implicit);

#endif
