/* Internals shared by the task modules: mcp/tasks.c (the task store, who may
 * see a task, and the 2025-11-25 wire) and mcp/tasks_modern.c (the
 * io.modelcontextprotocol/tasks extension of 2026-07-28). Other modules use
 * mcp/tasks.h only. See docs/internals/tasks.md. */
#ifndef GW_MCP_TASKS_IMPL_H
#define GW_MCP_TASKS_IMPL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "auth/principal-t.h"
#include "mcp/session.h"

#define GW_TASK_MAGIC 0x7461736bu          /* ureq args are told apart by their first word */
#define GW_TASK_POLL_MS 1000
#define GW_TASK_DEFAULT_TTL_MS 3600000.0    /* kept this long after it ends */
#define GW_TASK_MAX_TTL_MS 86400000.0
#define GW_TASKS_MAX_PER_PRINCIPAL 256      /* kept tasks (working or not) per caller */
#define GW_TASKS_MAX 8192                   /* kept tasks in all */
#define GW_TASK_MAX_INPUTS 16               /* outstanding input requests of one task */
#define GW_TASK_EXT "io.modelcontextprotocol/tasks"
#define GW_TASK_RELATED "io.modelcontextprotocol/related-task"

enum gw_task_status { GW_TASK_WORKING = 0, GW_TASK_COMPLETED, GW_TASK_FAILED, GW_TASK_CANCELLED };

/* A request the upstream put to the client while the task runs (2026 wire:
 * shown in tasks/get as inputRequests[key], answered by tasks/update). */
struct gw_task_input {
	char key[16];
	struct gw_sup *sup;
	json_t *upstream_id;
	json_t *request;              /* {method, params} as the client sees it */
	struct gw_task_input *next;
};

struct gw_task_waiter {
	struct gw_call *call;         /* a tasks/result waiting for the end (2025 wire) */
	struct gw_task_waiter *next;
	struct gw_task *task;
	struct gw_call_cleanup cleanup; /* the call ended first: unlink and free */
};

struct gw_task {
	uint32_t magic;               /* GW_TASK_MAGIC, first */
	char id[33];
	struct gw_gateway *gw;
	/* Who may see it: the principal that started it, through the session it
	 * was started in (the scope's modern session for 2026 requests). */
	struct gw_session *s;         /* NULL once that session ended: nobody */
	bool authed;                  /* started by an authenticated caller */
	char subject[GW_PRINCIPAL_MAX_SUBJECT + 1];
	bool modern;                  /* started by a 2026-07-28 request: v2 wire */
	json_t *caps;                 /* modern: that request's clientCapabilities */
	/* Relayed: the upstream runs it under its own id. */
	struct gw_sup *sup;
	json_t *upstream_id;
	json_t *last;                 /* 2025 wire: the task as last seen */
	struct gw_ureq *held;         /* 2026 wire: tasks/result held upstream */
	enum gw_task_status status;
	char status_message[160];
	json_t *final;                /* the response the call would have had (no id) */
	time_t created, updated;
	double ttl_ms;
	struct gw_call *run;          /* gateway-run: the call upstream, until it ends */
	struct gw_call_cleanup run_cleanup; /* registered with run */
	struct gw_task_waiter *waiters;
	struct gw_task_input *inputs;
	unsigned n_inputs, next_key;
	struct event *expiry;
};

/* May the caller of c see t? (Same principal; same session, or for 2026
 * requests the same endpoint scope.) */
bool gw_task_visible(const struct gw_task *t, const struct gw_call *c);
/* Is there room for one more task of c's caller? If not, c is answered
 * with an error and false returned. */
bool gw_task_may_create(struct gw_call *c);
/* A new task owned by c's caller, in the task map; NULL when out of memory. */
struct gw_task *gw_task_alloc(struct gw_call *c, double ttl_ms);
/* The task params.taskId of c names, if c's caller may see it; otherwise c
 * is answered exactly as for an unknown id and NULL returned. */
struct gw_task *gw_task_lookup(struct gw_call *c);
/* Answer c with result (stolen) and run c's tools/call upstream (as the
 * upstream's tool orig) for t. */
void gw_task_run(struct gw_task *t, struct gw_call *c, struct gw_sup *sup, const char *orig,
		 json_t *result);
/* Stop whatever still runs for t (the call, the held tasks/result, the
 * upstream requests waiting for input) and mark it cancelled. */
void gw_task_stop(struct gw_task *t, const char *why);
/* t ended: it is forgotten ttl_ms from now. */
void gw_task_expire_later(struct gw_task *t);
/* Forget the outstanding input requests; when why is set, each is answered
 * upstream with an error saying so. */
void gw_task_inputs_drop(struct gw_task *t, const char *why);
void gw_task_iso8601(time_t t, char *out, size_t cap);

/* 2026-07-28 wire (mcp/tasks_modern.c). */
bool gw_tasks_modern_route(struct gw_call *c, struct gw_sup *sup, const char *orig);
void gw_tasks_modern_handle(struct gw_call *c);
/* The upstream created t (relayed) for modern call c; msg is its answer,
 * rewritten into a CreateTaskResult. */
void gw_tasks_modern_created(struct gw_call *c, struct gw_task *t, json_t *msg);

#endif
