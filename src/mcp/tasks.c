#include "mcp/tasks.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "mcp/dispatch.h"
#include "mcp/jsonrpc.h"
#include "mcp/session.h"
#include "upstream/upstream.h"

#define TASK_DEFAULT_TTL_MS 3600000.0
#define TASK_MAX_TTL_MS 86400000.0
#define TASK_POLL_MS 1000
#define TASKS_MAX_PER_SESSION 256

enum task_status { TASK_WORKING = 0, TASK_COMPLETED, TASK_FAILED, TASK_CANCELLED };
static const char *const status_names[] = { "working", "completed", "failed", "cancelled" };

struct task_waiter {
	struct gw_call *call;         /* a tasks/result waiting for the end */
	struct task_waiter *next;
};

struct gw_task {
	char id[33];
	struct gw_sup *sup;           /* relayed: the owner's upstream that runs it */
	json_t *upstream_id;          /* relayed: the upstream's task id */
	json_t *last;                 /* relayed: the task as last seen */
	char owner[2 * GW_SESSION_ID_BYTES + 1]; /* the session that started it */
	struct gw_gateway *gw;
	enum task_status status;
	char status_message[160];
	json_t *final;                /* the response the call would have had (no id) */
	time_t created, updated;
	double ttl_ms;
	struct gw_call *run;          /* the call running upstream, until it ends */
	struct task_waiter *waiters;
	struct event *expiry;
};

static void iso8601(time_t t, char *out, size_t cap)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *task_json(const struct gw_task *t)
{
	char created[32], updated[32];
	json_t *o;

	iso8601(t->created, created, sizeof(created));
	iso8601(t->updated, updated, sizeof(updated));
	o = json_pack("{s:s,s:s,s:s,s:s,s:f,s:i}", "taskId", t->id, "status", status_names[t->status],
		      "createdAt", created, "lastUpdatedAt", updated, "ttl", t->ttl_ms, "pollInterval",
		      TASK_POLL_MS);
	if (t->status_message[0])
		json_object_set_new(o, "statusMessage", json_string(t->status_message));
	return o;
}

static size_t tasks_of(struct gw_gateway *gw, const char *owner)
{
	size_t pos = 0, n = 0;
	struct gw_task *t;

	while ((t = gw_map_next(&gw->tasks, &pos, NULL)))
		n += strcmp(t->owner, owner) == 0;
	return n;
}

static void task_free(struct gw_task *t)
{
	while (t->waiters) {
		struct task_waiter *w = t->waiters;

		t->waiters = w->next;
		free(w);
	}
	if (t->expiry)
		event_free(t->expiry);
	json_decref(t->final);
	json_decref(t->upstream_id);
	json_decref(t->last);
	free(t);
}

static void on_expiry(evutil_socket_t fd, short what, void *arg)
{
	struct gw_task *t = arg;

	(void)fd;
	(void)what;
	gw_map_del(&t->gw->tasks, t->id, strlen(t->id));
	task_free(t);
}

/* Answer a tasks/result with the task's final response. */
static void answer_result(struct gw_call *c, struct gw_task *t)
{
	json_t *msg = json_deep_copy(t->final), *res = json_object_get(msg, "result");
	json_t *meta;

	json_object_set(msg, "id", c->id);
	if (json_is_object(res)) {
		meta = json_object_get(res, "_meta");
		if (!json_is_object(meta)) {
			meta = json_object();
			json_object_set_new(res, "_meta", meta);
		}
		json_object_set_new(meta, "io.modelcontextprotocol/related-task",
				    json_pack("{s:s}", "taskId", t->id));
	}
	gw_session_send(c->s, c->st, msg, true);
	json_decref(msg);
	gw_call_free(c);
}

void gw_task_finish(struct gw_task *t, json_t *msg, int code, const char *message)
{
	json_t *res = json_object_get(msg, "result");

	t->run = NULL;
	if (t->status == TASK_CANCELLED)
		return;
	if (msg) {
		t->final = json_copy(msg);
		json_object_del(t->final, "id");
		t->status = json_is_object(res) && !json_is_true(json_object_get(res, "isError"))
				    ? TASK_COMPLETED : TASK_FAILED;
	} else {
		t->final = json_pack("{s:s,s:{s:i,s:s}}", "jsonrpc", "2.0", "error", "code", code,
				     "message", message);
		t->status = TASK_FAILED;
		snprintf(t->status_message, sizeof(t->status_message), "%s", message);
	}
	t->updated = time(NULL);
	while (t->waiters) {
		struct task_waiter *w = t->waiters;

		t->waiters = w->next;
		answer_result(w->call, t);
		free(w);
	}
	{
		struct timeval tv = { (time_t)(t->ttl_ms / 1000), 0 };

		evtimer_add(t->expiry, &tv);
	}
}

void gw_task_start(struct gw_call *c, struct gw_sup *sup, const char *orig)
{
	struct gw_gateway *gw = c->s->gw;
	json_t *ttl = json_object_get(json_object_get(c->params, "task"), "ttl");
	struct gw_task *t;
	struct gw_call *run;
	json_t *params;

	if (tasks_of(gw, c->s->id) >= TASKS_MAX_PER_SESSION) {
		gw_call_error(c, GW_RPC_INVALID_REQUEST, "too many tasks in this session", NULL);
		return;
	}
	t = calloc(1, sizeof(*t));
	if (!t || gw_random_hex(t->id, sizeof(t->id), 16)) {
		free(t);
		gw_call_error(c, GW_RPC_INTERNAL_ERROR, "cannot create a task", NULL);
		return;
	}
	t->gw = gw;
	snprintf(t->owner, sizeof(t->owner), "%s", c->s->id);
	t->created = t->updated = time(NULL);
	t->ttl_ms = json_is_number(ttl) ? json_number_value(ttl) : TASK_DEFAULT_TTL_MS;
	if (t->ttl_ms <= 0 || t->ttl_ms > TASK_MAX_TTL_MS)
		t->ttl_ms = TASK_MAX_TTL_MS;
	t->expiry = evtimer_new(gw->base, on_expiry, t);
	gw_map_put(&gw->tasks, t->id, strlen(t->id), t);

	/* The call itself runs as a call of the session with no stream: its
	 * progress goes to the GET stream, its answer to the task. */
	params = json_deep_copy(c->params);
	json_object_del(params, "task");
	json_object_set_new(params, "name", json_string(orig));
	run = gw_call_new(c->s, NULL, c->id, "tools/call", params);
	json_decref(params);
	gw_call_reply(c, json_pack("{s:o}", "task", task_json(t)));
	if (!run) {
		gw_task_finish(t, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	run->task = t;
	t->run = run;
	gw_dispatch_forward(run, sup, json_deep_copy(run->params));
}

/* ---- tasks the upstream runs (relayed) ------------------------------------- */

bool gw_tasks_upstream_runs(const struct gw_sup *sup)
{
	json_t *init = gw_uconn_init_result(sup->uc);
	json_t *tasks = json_object_get(json_object_get(init, "capabilities"), "tasks");

	return sup->up->conf->tasks == GW_TASKS_AUTO &&
	       json_object_get(json_object_get(json_object_get(tasks, "requests"), "tools"), "call");
}

void gw_task_relay(struct gw_call *c, struct gw_sup *sup, const char *orig)
{
	json_t *params = json_deep_copy(c->params);

	json_object_set_new(params, "name", json_string(orig));
	c->task_relay = true;
	gw_dispatch_forward(c, sup, params);
}

static struct gw_task *relay_record(struct gw_call *c, json_t *task)
{
	struct gw_gateway *gw = c->s->gw;
	json_t *ttl = json_object_get(task, "ttl");
	struct gw_task *t = calloc(1, sizeof(*t));
	struct timeval tv;

	if (!t || gw_random_hex(t->id, sizeof(t->id), 16)) {
		free(t);
		return NULL;
	}
	t->gw = gw;
	snprintf(t->owner, sizeof(t->owner), "%s", c->s->id);
	t->sup = c->sup;
	t->upstream_id = json_incref(json_object_get(task, "taskId"));
	t->ttl_ms = json_is_number(ttl) ? json_number_value(ttl) : TASK_DEFAULT_TTL_MS;
	if (t->ttl_ms <= 0 || t->ttl_ms > TASK_MAX_TTL_MS)
		t->ttl_ms = TASK_MAX_TTL_MS;
	t->expiry = evtimer_new(gw->base, on_expiry, t);
	tv.tv_sec = (time_t)(t->ttl_ms / 1000) + 60; /* the upstream forgets it first */
	tv.tv_usec = 0;
	evtimer_add(t->expiry, &tv);
	gw_map_put(&gw->tasks, t->id, strlen(t->id), t);
	return t;
}

static void remember(struct gw_task *t, json_t *task)
{
	json_t *copy = json_deep_copy(task);

	json_object_set_new(copy, "taskId", json_string(t->id));
	json_decref(t->last);
	t->last = copy;
}

void gw_tasks_rewrite_answer(struct gw_call *c, json_t *msg)
{
	json_t *res = json_object_get(msg, "result"), *task, *meta, *rel;
	struct gw_task *t = c->relayed;

	if (!json_is_object(res))
		return;
	if (c->task_relay) {
		task = json_object_get(res, "task");
		if (!json_is_object(task) || !json_object_get(task, "taskId"))
			return;
		t = relay_record(c, task);
		if (!t)
			return;
		json_object_set_new(task, "taskId", json_string(t->id));
		remember(t, task);
		return;
	}
	if (!t)
		return;
	if (json_object_get(res, "taskId")) { /* tasks/get and tasks/cancel: a Task */
		json_object_set_new(res, "taskId", json_string(t->id));
		remember(t, res);
	}
	meta = json_object_get(res, "_meta");
	rel = json_object_get(meta, "io.modelcontextprotocol/related-task");
	if (json_is_object(rel))
		json_object_set_new(rel, "taskId", json_string(t->id));
}

void gw_tasks_upstream_status(struct gw_session *s, struct gw_sup *sup, json_t *msg)
{
	json_t *params = json_object_get(msg, "params");
	json_t *uid = json_object_get(params, "taskId");
	size_t pos = 0;
	struct gw_task *t;

	while ((t = gw_map_next(&s->gw->tasks, &pos, NULL))) {
		json_t *copy;

		if (t->sup != sup || strcmp(t->owner, s->id) != 0 || !json_equal(t->upstream_id, uid))
			continue;
		copy = json_deep_copy(msg);
		json_object_set_new(json_object_get(copy, "params"), "taskId", json_string(t->id));
		remember(t, json_object_get(copy, "params"));
		gw_session_send(s, NULL, copy, false);
		json_decref(copy);
		return;
	}
}

/* tasks/get|result|cancel on a relayed task: ask the upstream, with its id. */
static void relay_op(struct gw_call *c, struct gw_task *t)
{
	json_t *params = json_deep_copy(c->params);

	json_object_set(params, "taskId", t->upstream_id);
	c->relayed = t;
	gw_dispatch_forward(c, t->sup, params);
}

/* The task named by params.taskId, if this session may see it. */
static struct gw_task *find_task(struct gw_call *c)
{
	const char *id = json_string_value(json_object_get(c->params, "taskId"));
	struct gw_task *t = id ? gw_map_get(&c->s->gw->tasks, id, strlen(id)) : NULL;

	if (!t || strcmp(t->owner, c->s->id) != 0) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "Unknown task", NULL);
		return NULL;
	}
	return t;
}

static void tasks_result(struct gw_call *c, struct gw_task *t)
{
	struct task_waiter *w;

	if (t->status != TASK_WORKING) {
		if (t->status == TASK_CANCELLED)
			gw_call_error(c, GW_RPC_INVALID_PARAMS, "Task was cancelled", NULL);
		else
			answer_result(c, t);
		return;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		gw_call_error(c, GW_RPC_INTERNAL_ERROR, "out of memory", NULL);
		return;
	}
	w->call = c; /* no timeout: tasks/result waits for the end */
	w->next = t->waiters;
	t->waiters = w;
}

static void tasks_cancel(struct gw_call *c, struct gw_task *t)
{
	if (t->status != TASK_WORKING) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "Task is already in a terminal state", NULL);
		return;
	}
	t->status = TASK_CANCELLED;
	t->updated = time(NULL);
	if (t->run) {
		struct gw_call *run = t->run;

		t->run = NULL;
		run->task = NULL;
		if (run->ureq)
			gw_ureq_cancel(run->ureq, "task cancelled");
		run->ureq = NULL;
		gw_call_free(run);
	}
	while (t->waiters) {
		struct task_waiter *w = t->waiters;

		t->waiters = w->next;
		gw_call_error(w->call, GW_RPC_INVALID_PARAMS, "Task was cancelled", NULL);
		free(w);
	}
	{
		struct timeval tv = { (time_t)(t->ttl_ms / 1000), 0 };

		evtimer_add(t->expiry, &tv);
	}
	gw_call_reply(c, task_json(t));
}

static void tasks_list(struct gw_call *c)
{
	json_t *list = json_array();
	size_t pos = 0;
	struct gw_task *t;

	while ((t = gw_map_next(&c->s->gw->tasks, &pos, NULL))) {
		if (strcmp(t->owner, c->s->id) != 0)
			continue;
		if (t->sup) /* relayed: as last seen (tasks/get refreshes it) */
			json_array_append(list, t->last);
		else
			json_array_append_new(list, task_json(t));
	}
	gw_call_reply(c, json_pack("{s:o}", "tasks", list));
}

bool gw_tasks_handle(struct gw_call *c)
{
	struct gw_task *t;

	if (strcmp(c->method, "tasks/list") == 0) {
		tasks_list(c);
		return true;
	}
	if (strcmp(c->method, "tasks/get") != 0 && strcmp(c->method, "tasks/result") != 0 &&
	    strcmp(c->method, "tasks/cancel") != 0)
		return false;
	t = find_task(c);
	if (!t)
		return true;
	if (t->sup) {
		relay_op(c, t);
		return true;
	}
	if (strcmp(c->method, "tasks/get") == 0)
		gw_call_reply(c, task_json(t));
	else if (strcmp(c->method, "tasks/result") == 0)
		tasks_result(c, t);
	else
		tasks_cancel(c, t);
	return true;
}

void gw_tasks_session_closed(struct gw_session *s)
{
	size_t pos = 0;
	struct gw_task *t;

	while ((t = gw_map_next(&s->gw->tasks, &pos, NULL))) {
		if (strcmp(t->owner, s->id) != 0)
			continue;
		if (t->upstream_id) {
			/* Relayed: its upstream session ends with this session. */
			t->sup = NULL;
			t->owner[0] = '\0'; /* nobody can ask about it any more */
			continue;
		}
		while (t->waiters) { /* the calls themselves go with the session */
			struct task_waiter *w = t->waiters;

			t->waiters = w->next;
			free(w);
		}
		if (t->run) {
			t->run->task = NULL;
			t->run = NULL;
			gw_task_finish(t, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, "the session that ran the task ended");
		}
	}
}

void gw_tasks_free_all(struct gw_gateway *gw)
{
	size_t pos = 0;
	struct gw_task *t;

	while ((t = gw_map_next(&gw->tasks, &pos, NULL)))
		task_free(t);
	gw_map_free(&gw->tasks);
}
