/* MCP tasks (2025-11-25) run by the gateway for servers with `tasks:
 * gateway`: a task-augmented tools/call is answered at once with a task; the
 * call runs upstream; tasks/get, tasks/result, tasks/list and tasks/cancel
 * work on it. A task belongs to the session that started it: any other
 * session asking about it is told it does not exist. */
#ifndef GW_MCP_TASKS_H
#define GW_MCP_TASKS_H

#include <jansson.h>
#include <stdbool.h>

struct gw_call;
struct gw_gateway;
struct gw_session;
struct gw_sup;
struct gw_task;

/* c is a tools/call with params.task, routed to sup, whose upstream name is
 * orig: answer c with the new task and run the call. */
void gw_task_start(struct gw_call *c, struct gw_sup *sup, const char *orig);
/* The call run for a task ended with msg (a response), or with code and
 * message when msg is NULL. */
void gw_task_finish(struct gw_task *t, json_t *msg, int code, const char *message);
/* Does this upstream run tasks itself (tasks: auto and it declared them)? */
bool gw_tasks_upstream_runs(const struct gw_sup *sup);
/* c is a task-augmented tools/call to an upstream that runs tasks: send it
 * with orig as the tool's name; the task it creates gets a gateway id. */
void gw_task_relay(struct gw_call *c, struct gw_sup *sup, const char *orig);
/* An answer to a relayed call or a tasks request: upstream task ids in msg
 * become ours (msg is modified). */
void gw_tasks_rewrite_answer(struct gw_call *c, json_t *msg);
/* notifications/tasks/status from an upstream: forwarded with our id. */
void gw_tasks_upstream_status(struct gw_session *s, struct gw_sup *sup, json_t *msg);
/* tasks/get, tasks/result, tasks/list, tasks/cancel; false if c->method is
 * none of them. */
bool gw_tasks_handle(struct gw_call *c);
/* Session s is closing: its tasks fail and stop waiting on its calls. */
void gw_tasks_session_closed(struct gw_session *s);
/* Forget every task (gateway exit). */
void gw_tasks_free_all(struct gw_gateway *gw);

#endif
