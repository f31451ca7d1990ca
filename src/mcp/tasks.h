/* MCP tasks (docs/internals/tasks.md): long-running tools/call answered at
 * once with a task that the client polls.
 *
 * Two wires: 2025-11-25 (`tasks/get|result|list|cancel`, the client asks
 * with params.task) for session clients, and the 2026-07-28 extension
 * io.modelcontextprotocol/tasks (`tasks/get|update|cancel`, the server
 * decides, input requests surface in tasks/get) for stateless clients.
 * A task is run by the gateway (`tasks: gateway`) or relayed to an upstream
 * that runs 2025-11-25 tasks itself (`tasks: auto`).
 *
 * A task belongs to the principal that started it, through the session it
 * was started in (for 2026 requests: the endpoint scope): any other caller
 * asking about it is told it does not exist. */
#ifndef GW_MCP_TASKS_H
#define GW_MCP_TASKS_H

#include <jansson.h>
#include <stdbool.h>

struct gw_call;
struct gw_gateway;
struct gw_scope;
struct gw_session;
struct gw_sup;
struct gw_task;
struct gw_ureq;

/* c is a tools/call routed to sup, whose upstream name is orig: true when
 * it was taken as a task (answered, or failed) here; false when it is an
 * ordinary call to forward. */
bool gw_tasks_route(struct gw_call *c, struct gw_sup *sup, const char *orig);
/* The call run for a task ended with msg (a response), or with code and
 * message when msg is NULL. */
void gw_task_finish(struct gw_task *t, json_t *msg, int code, const char *message);
/* Does this upstream run tasks itself (tasks: auto and it declared them)? */
bool gw_tasks_upstream_runs(const struct gw_sup *sup);
/* An answer to a relayed call or a tasks request: upstream task ids in msg
 * become ours (msg is modified). */
void gw_tasks_rewrite_answer(struct gw_call *c, json_t *msg);
/* notifications/tasks/status from an upstream: forwarded with our id. */
void gw_tasks_upstream_status(struct gw_session *s, struct gw_sup *sup, json_t *msg);
/* Requests for tasks (tasks/get and the rest); false if c->method is none. */
bool gw_tasks_handle(struct gw_call *c);
/* An upstream request (elicitation, sampling, roots) from sup for a modern
 * session, related to in-flight request related (may be NULL): true when it
 * belongs to a 2026 task, which then shows it in tasks/get (or it was
 * refused upstream because the client cannot answer it). */
bool gw_tasks_input_request(struct gw_sup *sup, json_t *msg, struct gw_ureq *related);
/* Is method one of tasks/get, tasks/update, tasks/cancel (the 2026 methods
 * whose Mcp-Name is params.taskId)? */
bool gw_tasks_named_by_id(const char *method);
/* server/discover: add the tasks extension to caps when a server in scope
 * runs tasks (the gateway for it, or relayed). */
void gw_tasks_discover_caps(struct gw_gateway *gw, const struct gw_scope *scope, json_t *caps);
/* sup (a view of s) is about to be freed (a reload removed its server):
 * relayed tasks on it fail, and its questions in tasks are forgotten. */
void gw_tasks_sup_gone(struct gw_session *s, struct gw_sup *sup);
/* Session s is closing: its tasks fail and stop waiting on its calls. */
void gw_tasks_session_closed(struct gw_session *s);
/* Forget every task (gateway exit). */
void gw_tasks_free_all(struct gw_gateway *gw);

#endif
