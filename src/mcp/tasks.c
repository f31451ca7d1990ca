#include "mcp/tasks.h"

#include <event2/event.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "mcp/call.h"
#include "mcp/dispatch.h"
#include "core/jsonrpc.h"
#include "mcp/session.h"
#include "mcp/tasks-impl.h"
#include "upstream/upstream.h"

static const char *const status_names[] = { "working", "completed", "failed", "cancelled" };

void gw_task_iso8601(time_t t, char *out, size_t cap)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The 2025-11-25 Task object. */
static json_t *task_json(const struct gw_task *t)
{
	char created[32], updated[32];
	json_t *o;

	gw_task_iso8601(t->created, created, sizeof(created));
	gw_task_iso8601(t->updated, updated, sizeof(updated));
	o = json_pack("{s:s,s:s,s:s,s:s,s:f,s:i}", "taskId", t->id, "status", status_names[t->status],
		      "createdAt", created, "lastUpdatedAt", updated, "ttl", t->ttl_ms, "pollInterval",
		      GW_TASK_POLL_MS);
	if (t->status_message[0])
		json_object_set_new(o, "statusMessage", json_string(t->status_message));
	return o;
}

/* ---- the store: who owns a task, how many, how long ------------------------ */

bool gw_task_visible(const struct gw_task *t, const struct gw_call *c)
{
	const struct gw_principal *who = c->who;

	if (!t->s || t->s != c->s || t->modern != c->s->modern)
		return false;
	if (t->authed != (who != NULL))
		return false;
	return !who || strcmp(t->subject, who->subject) == 0;
}

/* Tasks count against their principal; without authentication a session
 * (2025) or the scope's anonymous principal (2026) stands in for it. */
static bool same_principal(const struct gw_task *t, const struct gw_call *c)
{
	if (c->who)
		return t->authed && strcmp(t->subject, c->who->subject) == 0;
	return gw_task_visible(t, c);
}

bool gw_task_may_create(struct gw_call *c)
{
	struct gw_gateway *gw = c->s->gw;
	size_t pos = 0, mine = 0;
	struct gw_task *t;
	char msg[160];

	while ((t = gw_map_next(&gw->tasks, &pos, NULL)))
		mine += same_principal(t, c);
	if (mine < GW_TASKS_MAX_PER_PRINCIPAL && gw->tasks.live < GW_TASKS_MAX)
		return true;
	snprintf(msg, sizeof(msg), "too many tasks: at most %d are kept per caller (%d in all); finished ones are dropped when their ttl ends",
		 GW_TASKS_MAX_PER_PRINCIPAL, GW_TASKS_MAX);
	gw_call_error(c, GW_RPC_INVALID_REQUEST, msg, NULL);
	return false;
}

static void on_expiry(evutil_socket_t fd, short what, void *arg);

struct gw_task *gw_task_alloc(struct gw_call *c, double ttl_ms)
{
	struct gw_gateway *gw = c->s->gw;
	struct gw_task *t = calloc(1, sizeof(*t));

	if (!t || gw_random_hex(t->id, sizeof(t->id), 16)) {
		free(t);
		return NULL;
	}
	t->magic = GW_TASK_MAGIC;
	t->gw = gw;
	t->s = c->s;
	t->modern = c->s->modern;
	if (c->who) {
		t->authed = true;
		snprintf(t->subject, sizeof(t->subject), "%s", c->who->subject);
	}
	t->created = t->updated = time(NULL);
	t->ttl_ms = ttl_ms > 0 && ttl_ms <= GW_TASK_MAX_TTL_MS ? ttl_ms : GW_TASK_MAX_TTL_MS;
	t->expiry = evtimer_new(gw->base, on_expiry, t);
	if (!t->expiry || gw_map_put(&gw->tasks, t->id, strlen(t->id), t)) {
		if (t->expiry)
			event_free(t->expiry);
		free(t);
		return NULL;
	}
	return t;
}

struct gw_task *gw_task_lookup(struct gw_call *c)
{
	const char *id = json_string_value(json_object_get(c->params, "taskId"));
	struct gw_task *t = id ? gw_map_get(&c->s->gw->tasks, id, strlen(id)) : NULL;

	/* Another caller's task is answered exactly like an unknown one. */
	if (!t || !gw_task_visible(t, c)) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "Unknown task", NULL);
		return NULL;
	}
	return t;
}

void gw_task_expire_later(struct gw_task *t)
{
	struct timeval tv = { (time_t)(t->ttl_ms / 1000), 0 };

	evtimer_add(t->expiry, &tv);
}

void gw_task_inputs_drop(struct gw_task *t, const char *why)
{
	while (t->inputs) {
		struct gw_task_input *in = t->inputs;

		t->inputs = in->next;
		if (why) {
			json_t *err = gw_jsonrpc_error(in->upstream_id, GW_RPC_INTERNAL_ERROR, why, NULL);

			gw_uconn_respond(in->sup->uc, in->upstream_id, err);
			json_decref(err);
		}
		json_decref(in->upstream_id);
		json_decref(in->request);
		free(in);
	}
	t->n_inputs = 0;
}

static void task_free(struct gw_task *t)
{
	if (t->s) /* a relayed tasks request in flight must not come back to it */
		for (struct gw_call *c = t->s->calls; c; c = c->next)
			if (c->relayed == t)
				c->relayed = NULL;
	while (t->waiters) {
		struct gw_task_waiter *w = t->waiters;

		t->waiters = w->next;
		gw_call_cleanup_drop(&w->cleanup);
		free(w);
	}
	if (t->held)
		gw_ureq_cancel(t->held, "task expired");
	gw_task_inputs_drop(t, NULL);
	if (t->expiry)
		event_free(t->expiry);
	json_decref(t->caps);
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
	if (t->run) { /* still running (relayed ttl): it ends first */
		gw_task_expire_later(t);
		return;
	}
	gw_map_del(&t->gw->tasks, t->id, strlen(t->id));
	task_free(t);
}

/* ---- gateway-run tasks ------------------------------------------------------ */

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
		json_object_set_new(meta, GW_TASK_RELATED, json_pack("{s:s}", "taskId", t->id));
	}
	gw_session_send(c->s, c->st, msg, true);
	json_decref(msg);
	gw_call_free(c);
}

/* t no longer runs as a call (the call ended or is ending). */
static void task_unrun(struct gw_task *t)
{
	if (!t->run)
		return;
	gw_call_cleanup_drop(&t->run_cleanup);
	t->run->task = NULL;
	t->run = NULL;
}

/* The call running t ends. A path that ends it for the task clears
 * c->task and finishes the task itself; any other end fails the task rather
 * than leave it working forever. */
static void run_call_ended(struct gw_call *c, struct gw_call_cleanup *cl)
{
	struct gw_task *t = (struct gw_task *)((char *)cl - offsetof(struct gw_task, run_cleanup));

	t->run = NULL;
	if (!c->task)
		return; /* whoever ended it finishes the task (with the answer) */
	c->task = NULL;
	if (c->answer) { /* answered by a stage (a guard, the limiter) */
		json_t *err = json_object_get(c->answer, "error");

		if (!err)
			gw_task_finish(t, c->answer, 0, NULL);
		else
			gw_task_finish(t, NULL, (int)json_integer_value(json_object_get(err, "code")),
				       json_string_value(json_object_get(err, "message")));
		return;
	}
	gw_task_finish(t, NULL, GW_RPC_INTERNAL_ERROR, "the call running the task ended");
}

void gw_task_finish(struct gw_task *t, json_t *msg, int code, const char *message)
{
	json_t *res = json_object_get(msg, "result");

	task_unrun(t);
	gw_task_inputs_drop(t, NULL); /* the upstream is done asking */
	if (t->status == GW_TASK_CANCELLED)
		return;
	if (msg) {
		t->final = json_copy(msg);
		json_object_del(t->final, "id");
		/* 2025-11-25: a tool error fails the task (the 2026 wire shows it
		 * as completed with isError, see tasks_modern.c). */
		t->status = json_is_object(res) && !json_is_true(json_object_get(res, "isError"))
				    ? GW_TASK_COMPLETED : GW_TASK_FAILED;
	} else {
		t->final = json_pack("{s:s,s:{s:i,s:s}}", "jsonrpc", "2.0", "error", "code", code,
				     "message", message);
		t->status = GW_TASK_FAILED;
		snprintf(t->status_message, sizeof(t->status_message), "%s", message);
	}
	t->updated = time(NULL);
	while (t->waiters) {
		struct gw_task_waiter *w = t->waiters;

		t->waiters = w->next;
		gw_call_cleanup_drop(&w->cleanup);
		answer_result(w->call, t);
		free(w);
	}
	gw_task_expire_later(t);
}

void gw_task_run(struct gw_task *t, struct gw_call *c, struct gw_sup *sup, const char *orig,
		 json_t *result)
{
	json_t *params = json_deep_copy(c->params);
	struct gw_call *run;

	/* The call runs as a call of the session with no stream and no id (a
	 * notifications/cancelled naming the client's id must not reach it):
	 * its progress goes to the GET stream, its answer to the task. */
	json_object_del(params, "task");
	json_object_set_new(params, "name", json_string(orig));
	run = gw_call_new(c->s, NULL, NULL, "tools/call", params);
	json_decref(params);
	gw_call_reply(c, result);
	if (!run) {
		gw_task_finish(t, NULL, GW_RPC_INTERNAL_ERROR, "out of memory");
		return;
	}
	run->task = t;
	t->run = run;
	gw_call_on_end(run, &t->run_cleanup, run_call_ended);
	gw_dispatch_forward(run, sup, json_deep_copy(run->params));
}

void gw_task_stop(struct gw_task *t, const char *why)
{
	t->status = GW_TASK_CANCELLED;
	t->updated = time(NULL);
	gw_task_inputs_drop(t, why);
	if (t->run) {
		struct gw_call *run = t->run;

		task_unrun(t);
		gw_call_cancel(run, why);
	}
	if (t->held) {
		gw_ureq_cancel(t->held, why);
		t->held = NULL;
	}
	while (t->waiters) {
		struct gw_task_waiter *w = t->waiters;

		t->waiters = w->next;
		gw_call_cleanup_drop(&w->cleanup);
		gw_call_error(w->call, GW_RPC_INVALID_PARAMS, "Task was cancelled", NULL);
		free(w);
	}
	gw_task_expire_later(t);
}

static void start_task(struct gw_call *c, struct gw_sup *sup, const char *orig)
{
	json_t *ttl = json_object_get(json_object_get(c->params, "task"), "ttl");
	struct gw_task *t;

	if (!gw_task_may_create(c))
		return;
	t = gw_task_alloc(c, json_is_number(ttl) ? json_number_value(ttl) : GW_TASK_DEFAULT_TTL_MS);
	if (!t) {
		gw_call_error(c, GW_RPC_INTERNAL_ERROR, "cannot create a task", NULL);
		return;
	}
	gw_task_run(t, c, sup, orig, json_pack("{s:o}", "task", task_json(t)));
}

/* ---- tasks the upstream runs (relayed) ------------------------------------- */

bool gw_tasks_upstream_runs(const struct gw_sup *sup)
{
	json_t *init = gw_uconn_init_result(sup->uc);
	json_t *tasks = json_object_get(json_object_get(init, "capabilities"), "tasks");

	return sup->up->conf->tasks == GW_TASKS_AUTO &&
	       json_object_get(json_object_get(json_object_get(tasks, "requests"), "tools"), "call");
}

static void relay_task(struct gw_call *c, struct gw_sup *sup, const char *orig)
{
	json_t *params;

	if (!gw_task_may_create(c))
		return;
	params = json_deep_copy(c->params);
	json_object_set_new(params, "name", json_string(orig));
	c->task_relay = true;
	gw_dispatch_forward(c, sup, params);
}

static struct gw_task *relay_record(struct gw_call *c, json_t *task)
{
	json_t *ttl = json_object_get(task, "ttl");
	struct gw_task *t = gw_task_alloc(c, json_is_number(ttl) ? json_number_value(ttl)
								 : GW_TASK_DEFAULT_TTL_MS);
	struct timeval tv;

	if (!t)
		return NULL;
	t->sup = c->sup;
	t->upstream_id = json_incref(json_object_get(task, "taskId"));
	tv.tv_sec = (time_t)(t->ttl_ms / 1000) + 60; /* the upstream forgets it first */
	tv.tv_usec = 0;
	evtimer_add(t->expiry, &tv);
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
			return; /* the upstream chose to answer at once */
		t = relay_record(c, task);
		if (!t)
			return;
		if (c->s->modern) {
			gw_tasks_modern_created(c, t, msg);
			return;
		}
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
	rel = json_object_get(meta, GW_TASK_RELATED);
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

		if (t->sup != sup || t->s != s || !json_equal(t->upstream_id, uid))
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

/* ---- the 2025-11-25 methods ---------------------------------------------------- */

/* A tasks/result that waited ended first (its client went away). */
static void waiter_call_ended(struct gw_call *c, struct gw_call_cleanup *cl)
{
	struct gw_task_waiter *w = (struct gw_task_waiter *)((char *)cl - offsetof(struct gw_task_waiter, cleanup));
	struct gw_task_waiter **pp = &w->task->waiters;

	(void)c;
	while (*pp && *pp != w)
		pp = &(*pp)->next;
	if (*pp)
		*pp = w->next;
	free(w);
}

static void tasks_result(struct gw_call *c, struct gw_task *t)
{
	struct gw_task_waiter *w;

	if (t->status != GW_TASK_WORKING) {
		if (t->status == GW_TASK_CANCELLED)
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
	w->task = t;
	w->next = t->waiters;
	t->waiters = w;
	gw_call_on_end(c, &w->cleanup, waiter_call_ended);
}

static void tasks_cancel(struct gw_call *c, struct gw_task *t)
{
	if (t->status != GW_TASK_WORKING) {
		gw_call_error(c, GW_RPC_INVALID_PARAMS, "Task is already in a terminal state", NULL);
		return;
	}
	gw_task_stop(t, "task cancelled");
	gw_call_reply(c, task_json(t));
}

static void tasks_list(struct gw_call *c)
{
	json_t *list = json_array();
	size_t pos = 0;
	struct gw_task *t;

	while ((t = gw_map_next(&c->s->gw->tasks, &pos, NULL))) {
		if (!gw_task_visible(t, c))
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

	if (strncmp(c->method, "tasks/", 6) != 0)
		return false;
	if (c->s->modern) {
		gw_tasks_modern_handle(c);
		return true;
	}
	if (strcmp(c->method, "tasks/list") == 0) {
		tasks_list(c);
		return true;
	}
	if (strcmp(c->method, "tasks/get") != 0 && strcmp(c->method, "tasks/result") != 0 &&
	    strcmp(c->method, "tasks/cancel") != 0)
		return false;
	t = gw_task_lookup(c);
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

bool gw_tasks_route(struct gw_call *c, struct gw_sup *sup, const char *orig)
{
	if (c->s->modern)
		return gw_tasks_modern_route(c, sup, orig);
	if (!json_object_get(c->params, "task"))
		return false;
	if (sup->up->conf->tasks == GW_TASKS_GATEWAY)
		start_task(c, sup, orig);
	else if (gw_tasks_upstream_runs(sup))
		relay_task(c, sup, orig);
	else
		gw_call_error(c, GW_RPC_METHOD_NOT_FOUND, "this tool does not support task-augmented calls",
			      NULL);
	return true;
}

/* Forget the questions sup asked through t (its upstream session is gone). */
static void inputs_of_sup_drop(struct gw_task *t, const struct gw_sup *sup)
{
	struct gw_task_input **pp = &t->inputs;

	while (*pp) {
		struct gw_task_input *in = *pp;

		if (in->sup != sup) {
			pp = &in->next;
			continue;
		}
		*pp = in->next;
		json_decref(in->upstream_id);
		json_decref(in->request);
		free(in);
		t->n_inputs--;
	}
}

void gw_tasks_sup_gone(struct gw_session *s, struct gw_sup *sup)
{
	size_t pos = 0;
	struct gw_task *t;

	while ((t = gw_map_next(&s->gw->tasks, &pos, NULL))) {
		if (t->s != s)
			continue;
		inputs_of_sup_drop(t, sup);
		if (t->sup != sup)
			continue;
		t->sup = NULL;
		if (t->held) {
			gw_ureq_cancel(t->held, "server removed");
			t->held = NULL;
		}
		if (t->status == GW_TASK_WORKING && !t->final) {
			t->final = json_pack("{s:s,s:{s:i,s:s}}", "jsonrpc", "2.0", "error", "code",
					     GW_RPC_UPSTREAM_UNAVAILABLE, "message",
					     "the server that ran the task was removed");
			t->status = GW_TASK_FAILED;
			t->updated = time(NULL);
			gw_task_expire_later(t);
		}
	}
}

void gw_tasks_session_closed(struct gw_session *s)
{
	size_t pos = 0;
	struct gw_task *t;

	while ((t = gw_map_next(&s->gw->tasks, &pos, NULL))) {
		if (t->s != s)
			continue;
		t->s = NULL; /* nobody can ask about it any more */
		if (t->held) {
			gw_ureq_cancel(t->held, "session ended");
			t->held = NULL;
		}
		gw_task_inputs_drop(t, NULL);
		if (t->upstream_id) {
			t->sup = NULL; /* its upstream session ends with this session */
			continue;
		}
		while (t->waiters) { /* the calls themselves go with the session */
			struct gw_task_waiter *w = t->waiters;

			t->waiters = w->next;
			gw_call_cleanup_drop(&w->cleanup);
			free(w);
		}
		if (t->run) {
			task_unrun(t);
			gw_task_finish(t, NULL, GW_RPC_UPSTREAM_UNAVAILABLE, "the session that ran the task ended");
		}
	}
}

void gw_tasks_free_all(struct gw_gateway *gw)
{
	size_t pos = 0;
	struct gw_task *t;

	while ((t = gw_map_next(&gw->tasks, &pos, NULL))) {
		t->s = NULL; /* sessions are gone */
		task_free(t);
	}
	gw_map_free(&gw->tasks);
}
